"""neomutt reads and moves mail over IMAP (imap://), driven in a private
tmux server: the index lists the messages, the pager shows the body, a
message saved to another folder leaves INBOX for it (MOVE, or COPY and
expunge), and a deletion reaches the Maildir once neomutt has synced."""

import os
import shutil
import subprocess
import time

import pytest

from conftest import wait_for
from imap_helpers import (PASSWORD2, USER2, clear_maildir, connect, iinst,
                          message, ok, put_message, token)  # noqa: F401
from tmux_helpers import Tmux

HOST = "127.0.0.1"


@pytest.fixture
def neomutt(iinst, tmp_path):
    if shutil.which("neomutt") is None or shutil.which("tmux") is None:
        pytest.skip("neomutt and tmux are needed (make deps)")
    rc = tmp_path / "neomuttrc"
    url = "imap://%s@%s:%d/" % (USER2.replace("@", "%40"), HOST,
                                iinst.imap_port)
    rc.write_text(
        'set imap_user="%s"\nset imap_pass="%s"\n'
        "set ssl_starttls=no\nset ssl_force_tls=no\n"
        "set mail_check=1\nset timeout=1\nset imap_keepalive=60\n"
        "set delete=yes\nset confirmappend=no\nset move=no\n"
        "set header_cache=''\nset message_cachedir=''\n"
        'set folder="%s"\nset spoolfile="+INBOX"\nset record=""\n'
        "set imap_check_subscribed=no\nset imap_idle=no\n"
        % (USER2, PASSWORD2, url))
    tm = Tmux(tmp_path / "tmux.sock")
    env = dict(os.environ, HOME=str(tmp_path), TERM="xterm")

    def start():
        r = subprocess.run(
            ["tmux", "-S", tm.sock, "new-session", "-d", "-s", "mutt",
             "-x", "160", "-y", "40",
             "neomutt -n -F %s -f '%sINBOX'" % (rc, url)],
            env=env, capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
    tm.start = start
    yield tm
    tm.kill()


def folder_subjects(inst, folder):
    m = connect(inst, USER2, PASSWORD2)
    try:
        n = int(ok(m.select(folder))[0])
        if n == 0:
            return []
        data = ok(m.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])"))
        return [d[1].decode().split(":", 1)[1].strip()
                for d in data if isinstance(d, tuple)]
    finally:
        m.logout()


def test_neomutt_reads_moves_and_deletes_over_imap(iinst, neomutt):
    clear_maildir(iinst, USER2)
    toks = [token() for _ in range(3)]
    for t in toks:
        put_message(iinst, USER2, message(t))
    neomutt.start()
    for t in toks:
        neomutt.wait_screen(t)  # the index lists every subject
    neomutt.keys("Enter")  # the first message in the pager
    neomutt.wait_screen("line 2 of %s" % toks[0])
    neomutt.keys("q")
    neomutt.wait_screen(toks[1])
    # save (move) the first message to Archive
    neomutt.keys("s")
    time.sleep(0.5)
    neomutt.keys("C-u", "=Archive", "Enter")
    wait_for(lambda: toks[0] in folder_subjects(iinst, "Archive"), 60, 0.3,
             "the saved message in Archive")
    # saving moved the cursor on ($resolve): delete the second one, then
    # sync ($) and quit
    neomutt.keys("d")
    time.sleep(0.3)
    neomutt.keys("$")
    time.sleep(1.0)
    neomutt.keys("q")
    time.sleep(0.5)
    # neomutt may ask before it expunges, or have quit already
    r = neomutt.run("capture-pane", "-p", "-t", "mutt", check=False)
    if r.returncode == 0 and ("Purge" in r.stdout or "xpunge" in r.stdout):
        neomutt.keys("y")
    got = wait_for(lambda: (lambda s: s if len(s) == 1 else None)(
        folder_subjects(iinst, "INBOX")), 60, 0.3,
        "INBOX down to one message")
    assert got == [toks[2]], got
    assert folder_subjects(iinst, "Archive") == [toks[0]]
