"""What SMTP delivers into the Maildirs: the headers the server adds
(Return-Path, Delivered-To, Received: RFC 5321 4.4), LF line ends in new/,
plus-addressing, postmaster (RFC 5321 4.5.1), aliases, several
recipients, and that Python's mailbox module and mutt read the result."""

import email
import email.policy
import mailbox
import os
import pty
import re
import select
import time
from pathlib import Path

import pytest

from conftest import wait_for
from smtp_helpers import (HELO, SENDER, RawSMTP, maildir, message, queued_id,
                          send_raw_message, session, split_stored, stored,
                          stored_files, token, wait_one, wait_queue_drained,
                          wait_stored)
# One instance shared by this module's tests (smtp_helpers).
from smtp_helpers import module_instance  # noqa: F401

RCPT = "user1@example.test"

# RFC 5322 3.3 date-time as the server writes it.
DATE = (r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d "
        r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
        r"\d\d:\d\d:\d\d [+-]\d{4} \(\S+\)")


def greeting_host(inst):
    with RawSMTP(inst.smtp_port) as c:
        return c.greeting().lines[-1].split()[0]


def deliver(inst, rcpts, tok, sender=SENDER, helo=HELO, mail_params=""):
    """One message over a raw session; returns its queue ID."""
    c = RawSMTP(inst.smtp_port)
    with c:
        c.greeting()
        if helo is not None:
            c.ehlo(helo)
        c.expect("MAIL FROM:<%s>%s" % (sender, mail_params), 250, "2.1.0")
        for a in rcpts:
            c.expect("RCPT TO:<%s>" % a, 250, "2.1.5")
        c.expect("DATA", 354)
        c.send(message(tok) + b".\r\n")
        qid = queued_id(c.reply())
        c.expect("QUIT", 221, "2.0.0")
    return qid


def test_stored_message_starts_with_the_added_headers(instance):
    tok = token()
    qid = deliver(instance, [RCPT], tok)
    msg = wait_one(instance, RCPT, tok)
    added, rest = split_stored(msg)
    assert added["Return-Path"] == "<%s>" % SENDER
    assert added["Delivered-To"] == RCPT
    host = greeting_host(instance)
    # RFC 5321 4.4: from (helo, client name and address), by, with, id,
    # for (one recipient only), then the date.
    want = (r"from %s \(localhost \[127\.0\.0\.1\]\)\n\tby %s \(mailwright\) "
            r"with ESMTP id %s\n\tfor <%s>; %s" %
            (re.escape(HELO), re.escape(host), qid, re.escape(RCPT), DATE))
    assert re.fullmatch(want, added["Received"]), added["Received"]
    assert rest == message(tok).replace(b"\r\n", b"\n")


def test_stored_message_is_in_new_with_lf_line_ends(instance):
    tok = token()
    deliver(instance, [RCPT], tok)
    wait_one(instance, RCPT, tok)
    md = maildir(instance, RCPT)
    for sub in ("cur", "new", "tmp"):
        assert (md / sub).is_dir(), sub
    files = [f for f in stored_files(md) if tok.encode() in f.read_bytes()]
    assert len(files) == 1
    f = files[0]
    assert f.parent.name == "new"
    # Maildir: a unique name without the ":2," info part while in new/.
    assert ":" not in f.name and not f.name.startswith(".")
    data = f.read_bytes()
    assert b"\r" not in data
    assert data.endswith(b"\n")
    assert list((md / "tmp").iterdir()) == []


def test_maildir_file_names_are_unique(instance):
    toks = [token() for _ in range(5)]
    with session(instance) as c:
        for t in toks:
            send_raw_message(c, [RCPT], message(t))
    for t in toks:
        wait_one(instance, RCPT, t)
    names = [f.name for f in stored_files(maildir(instance, RCPT))]
    assert len(names) == len(set(names))


def test_null_sender_gets_empty_return_path(instance):
    tok = token()
    deliver(instance, [RCPT], tok, sender="")
    added, _ = split_stored(wait_one(instance, RCPT, tok))
    assert added["Return-Path"] == "<>"


def test_helo_session_is_received_with_smtp(instance):
    tok = token()
    c = RawSMTP(instance.smtp_port)
    with c:
        c.greeting()
        c.expect("HELO old.client.test", 250)
        send_raw_message(c, [RCPT], message(tok))
    added, _ = split_stored(wait_one(instance, RCPT, tok))
    assert re.match(r"from old\.client\.test \(localhost \[127\.0\.0\.1\]\)"
                    r"\n\tby \S+ \(mailwright\) with SMTP id ",
                    added["Received"]), added["Received"]


def test_smtputf8_message_is_received_with_utf8smtp(instance):
    # RFC 6531 3.7.3: the with-protocol is UTF8SMTP.
    tok = token()
    deliver(instance, [RCPT], tok, sender="j\u00f6rg@example.org",
            mail_params=" SMTPUTF8")
    added, _ = split_stored(wait_one(instance, RCPT, tok))
    assert added["Return-Path"] == "<j\u00f6rg@example.org>"
    assert " with UTF8SMTP id " in added["Received"], added["Received"]


@pytest.mark.parametrize("rcpt", ["user1+tag@example.test",
                                  "user1+a.b-c@example.test",
                                  "user1+@example.test", "USER1@EXAMPLE.TEST"])
def test_address_variants_are_delivered_to_user1(instance, rcpt):
    tok = token()
    deliver(instance, [rcpt], tok)
    added, _ = split_stored(wait_one(instance, RCPT, tok))
    assert added["Delivered-To"].lower() in (rcpt.lower(), RCPT)


def test_postmaster_without_account_has_its_own_maildir(instance):
    tok = token()
    deliver(instance, ["postmaster@example.test"], tok)
    md = Path(instance.dir) / "mail" / "example.test" / "postmaster" / \
        "Maildir"
    msgs = wait_stored_in(md, tok)
    assert len(msgs) == 1
    added, _ = split_stored(msgs[0])
    assert added["Delivered-To"] == "postmaster@example.test"


def test_bare_postmaster_is_delivered(instance):
    # RFC 5321 4.5.1: <Postmaster> goes to the postmaster of our domain.
    tok = token()
    deliver(instance, ["Postmaster"], tok)
    base = Path(instance.dir) / "mail"

    def found():
        return [m for md in base.glob("*/postmaster/Maildir")
                for m in stored(md) if tok.encode() in m]
    wait_for(found, 30)
    assert len(found()) == 1


def wait_stored_in(md, tok, timeout=30):
    wait_for(lambda: [m for m in stored(md) if tok.encode() in m], timeout)
    return [m for m in stored(md) if tok.encode() in m]


def test_each_recipient_gets_one_copy(instance):
    tok = token()
    rcpts = ["user1@example.test", "user2@example.test", "user3@example.test"]
    qid = deliver(instance, rcpts, tok)
    for a in rcpts:
        added, rest = split_stored(wait_one(instance, a, tok))
        assert added["Delivered-To"] == a
        assert added["Return-Path"] == "<%s>" % SENDER
        # Several recipients: the Received header names none of them.
        assert "\tfor <" not in added["Received"]
        assert (" id %s;" % qid) in added["Received"]
        assert rest == message(tok).replace(b"\r\n", b"\n")


def test_same_recipient_twice_gets_one_copy(instance):
    tok = token()
    deliver(instance, [RCPT, RCPT], tok)
    wait_one(instance, RCPT, tok)
    wait_queue_drained(instance)
    assert len(wait_stored(instance, RCPT, tok)) == 1


def alias_add(inst, alias, *targets):
    r = inst.cli("alias", "add", alias, *targets)
    assert r.returncode == 0, r


def test_alias_delivers_to_its_target(instance):
    alias_add(instance, "sales@example.test", "user2@example.test")
    tok = token()
    with session(instance) as c:
        c.expect("MAIL FROM:<%s>" % SENDER, 250, "2.1.0")
        c.expect("RCPT TO:<sales@example.test>", 250, "2.1.5")
        c.expect("DATA", 354)
        c.send(message(tok) + b".\r\n")
        queued_id(c.reply())
    added, _ = split_stored(wait_one(instance, "user2@example.test", tok))
    assert added["Return-Path"] == "<%s>" % SENDER


def test_alias_with_several_targets_gives_each_one_copy(instance):
    alias_add(instance, "team@example.test", "user1@example.test",
              "user3@example.test")
    tok = token()
    deliver(instance, ["team@example.test"], tok)
    wait_one(instance, "user1@example.test", tok)
    wait_one(instance, "user3@example.test", tok)
    wait_queue_drained(instance)
    assert stored_with(instance, "user2@example.test", tok) == []


def stored_with(inst, addr, tok):
    return [m for m in stored(maildir(inst, addr)) if tok.encode() in m]


def test_python_mailbox_reads_the_maildir(instance):
    tok = token()
    deliver(instance, [RCPT], tok)
    wait_one(instance, RCPT, tok)
    box = mailbox.Maildir(str(maildir(instance, RCPT)), create=False)
    subjects = [m["Subject"] for m in box]
    assert "test %s" % tok in subjects
    m = [m for m in box if m["Subject"] == "test %s" % tok][0]
    assert m["Return-Path"] == "<%s>" % SENDER
    assert m.get_subdir() == "new"
    parsed = email.message_from_bytes(m.as_bytes(), policy=email.policy.default)
    assert parsed.get_content().strip() == "body %s" % tok


def run_mutt(md, out, home, timeout=20):
    """Runs mutt on a pty (it needs a terminal), read-only on Maildir md:
    pipes the first message into out and quits. Returns the screen bytes."""
    # folder: else mutt first asks whether to create ~/Mail.
    cmd = ["mutt", "-n", "-F", "/dev/null", "-R", "-f", str(md),
           "-e", "set folder=%s" % md.parent, "-e", "set wait_key=no",
           "-e", "push '<pipe-message>cat > %s<enter><exit>'" % out]
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm"
        os.environ["HOME"] = str(home)
        os.execvp(cmd[0], cmd)
    screen = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if not ready:
                continue
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if not data:
                break
            screen += data
    finally:
        os.close(fd)
    status = []

    def reaped():
        wpid, st = os.waitpid(pid, os.WNOHANG)
        if wpid:
            status.append(st)
        return bool(wpid)
    try:
        wait_for(reaped, 10)
    except BaseException:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        raise
    assert os.waitstatus_to_exitcode(status[0]) == 0, screen[-500:]
    return screen


def test_mutt_reads_the_maildir(instance, tmp_path):
    tok = token()
    rcpt = "user3@example.test"
    deliver(instance, [rcpt], tok)
    msg = wait_one(instance, rcpt, tok)
    # Only this message in a copy of the Maildir, so mutt's first one is it.
    md = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (md / sub).mkdir(parents=True)
    src = [f for f in stored_files(maildir(instance, rcpt))
           if tok.encode() in f.read_bytes()][0]
    (md / "new" / src.name).write_bytes(src.read_bytes())
    out = tmp_path / "piped"
    screen = run_mutt(md, out, tmp_path)
    assert b"Msgs:1" in screen, screen[-500:]
    assert out.read_bytes() == msg
