"""mutt reads and deletes mail over POP3 (pop://), driven in a private
tmux server (its own socket, so nothing else's sessions are touched):
the index lists the messages, the pager shows the body, and a deletion
made in mutt is gone from the Maildir once mutt has synced and quit."""

import os
import shutil
import subprocess
import time

import pytest

from conftest import wait_for
from tmux_helpers import Tmux
from pop3_helpers import (PASSWORD2, USER2, clear_maildir, maildir_files,
                          message, pinst, put_message, token)  # noqa: F401

HOST = "127.0.0.1"


@pytest.fixture
def mutt(pinst, tmp_path):
    if shutil.which("mutt") is None or shutil.which("tmux") is None:
        pytest.skip("mutt and tmux are needed (make deps)")
    rc = tmp_path / "muttrc"
    rc.write_text(
        'set pop_user="%s"\nset pop_pass="%s"\n'
        "set ssl_starttls=no\nset ssl_force_tls=no\n"
        "set pop_checkinterval=0\nset mail_check=0\nset timeout=1\n"
        "set delete=yes\nset confirmappend=no\nset move=no\n"
        "set header_cache=''\nset message_cachedir=''\n"
        'set folder="%s"\nset spoolfile=""\n'
        % (USER2, PASSWORD2, tmp_path))
    tm = Tmux(tmp_path / "tmux.sock")
    url = "pop://%s@%s:%d/" % (USER2.replace("@", "%40"), HOST,
                               pinst.pop3_port)
    env = dict(os.environ, HOME=str(tmp_path), TERM="xterm")

    def start():
        r = subprocess.run(
            ["tmux", "-S", tm.sock, "new-session", "-d", "-s", "mutt",
             "-x", "160", "-y", "40",
             "mutt -n -F %s -f '%s'" % (rc, url)],
            env=env, capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
    tm.start = start
    yield tm
    tm.kill()


def test_mutt_reads_and_deletes_over_pop3(pinst, mutt):
    clear_maildir(pinst, USER2)
    toks = [token() for _ in range(2)]
    for t in toks:
        put_message(pinst, USER2, message(t))
    mutt.start()
    for t in toks:
        mutt.wait_screen(t)  # the index lists both subjects
    mutt.keys("Enter")  # the first message in the pager
    mutt.wait_screen("line 2 of %s" % toks[0])
    mutt.keys("q")
    mutt.wait_screen(toks[1])
    mutt.keys("d")  # delete the first message, then quit and purge
    time.sleep(0.3)
    mutt.keys("q")
    # mutt asks to purge unless $delete is set; answer in case it does
    time.sleep(0.5)
    if "Purge" in mutt.screen():
        mutt.keys("y")
    wait_for(lambda: len(maildir_files(pinst, USER2)) == 1, 60, 0.1,
             "mutt's deletion to reach the Maildir")
    left = b"".join(
        (p / n).read_bytes()
        for p in (pinst.maildir(USER2) / "cur", pinst.maildir(USER2) / "new")
        if p.is_dir() for n in os.listdir(p))
    assert toks[1].encode() in left and toks[0].encode() not in left
    clear_maildir(pinst, USER2)
