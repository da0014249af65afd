"""IDLE (RFC 2177, RFC 9051 6.3.13): "+ idling", then changes made by
others reach the idling client without it asking: a delivery (SMTP or a
file put into new/) as EXISTS, a flag change by another session as FETCH
FLAGS, an expunge as EXPUNGE; DONE ends it with the IDLE's tag, another
line with BAD; in the authenticated state IDLE just waits for DONE."""

import smtplib
import socket

import pytest

from imap_helpers import (PASSWORD, TRUSTED, USER, RawIMAP, message,
                          put_message, token)
from smtp_helpers import running_instance

# changes must show within a second; allow a loaded CI machine more
PUSH_TIMEOUT = 10


@pytest.fixture(scope="module")
def iinst(mw_bin):
    with running_instance(mw_bin, TRUSTED) as inst:
        yield inst


def raw(inst):
    c = RawIMAP(inst.imap_port, timeout=30)
    c.greeting()
    c.login(USER, PASSWORD)
    return c


def exists(untagged):
    return int([u for u in untagged if u.endswith(b" EXISTS")][-1].split()[1])


def start_idle(c, tag="idle1"):
    c.send("%s IDLE\r\n" % tag)
    lines = []
    while True:
        line = c.readline()
        if line.startswith(b"+"):
            return lines
        lines.append(line)


def wait_line(c, pred, timeout=PUSH_TIMEOUT):
    """Reads lines until pred(line); fails after timeout seconds."""
    c.sock.settimeout(timeout)
    seen = []
    try:
        while True:
            line = c.readline()
            seen.append(line)
            if pred(line):
                return line
    except socket.timeout:
        raise AssertionError("no matching line in %d s; got %r"
                             % (timeout, seen))
    finally:
        c.sock.settimeout(30)


def done(c, tag="idle1"):
    c.send(b"DONE\r\n")
    untagged, t = c.until(tag)
    assert t == tag.encode() + b" OK Idle completed.", t
    return untagged


def test_idle_put_message_gives_exists(iinst):
    with raw(iinst) as c:
        n = exists(c.cmd("SELECT INBOX")[0])
        start_idle(c)
        put_message(iinst, USER, message(token()))
        wait_line(c, lambda l: l == b"* %d EXISTS" % (n + 1))
        done(c)
        assert b"NOOP completed" in c.cmd("NOOP")[1]


def test_idle_smtp_delivery_gives_exists(iinst):
    with raw(iinst) as c:
        n = exists(c.cmd("SELECT INBOX")[0])
        start_idle(c)
        with smtplib.SMTP("127.0.0.1", iinst.smtp_port, timeout=30) as s:
            s.sendmail("a@example.org", [USER], message(token()))
        wait_line(c, lambda l: l == b"* %d EXISTS" % (n + 1), timeout=30)
        done(c)


def test_idle_flags_and_expunge_by_another_session(iinst):
    put_message(iinst, USER, message(token()))
    with raw(iinst) as c, raw(iinst) as other:
        n = exists(c.cmd("SELECT INBOX")[0])
        assert exists(other.cmd("SELECT INBOX")[0]) == n
        start_idle(c)
        _, t = other.cmd("STORE %d +FLAGS (\\Flagged)" % n)
        assert b" OK " in t, t
        line = wait_line(c, lambda l: l.startswith(b"* %d FETCH" % n))
        assert b"\\Flagged" in line, line
        _, t = other.cmd("STORE %d +FLAGS.SILENT (\\Deleted)" % n)
        assert b" OK " in t, t
        _, t = other.cmd("EXPUNGE")
        assert b" OK " in t, t
        wait_line(c, lambda l: l == b"* %d EXPUNGE" % n)
        done(c)
        assert exists(c.cmd("SELECT INBOX")[0]) == n - 1


def test_idle_burst_of_deliveries(iinst):
    with raw(iinst) as c:
        n = exists(c.cmd("SELECT INBOX")[0])
        start_idle(c)
        for _ in range(20):
            put_message(iinst, USER, message(token()))
        # coalesced or not, the last count arrives
        wait_line(c, lambda l: l == b"* %d EXISTS" % (n + 20))
        done(c)


def test_idle_bad_line(iinst):
    with raw(iinst) as c:
        c.cmd("SELECT INBOX")
        start_idle(c, "id7")
        c.send(b"NOT DONE\r\n")
        _, t = c.until("id7")
        assert t == b"id7 BAD Expected DONE.", t
        # IDLE is over: commands work again
        assert b"NOOP completed" in c.cmd("NOOP")[1]


def test_idle_authenticated_state(iinst):
    with raw(iinst) as c:
        untagged = start_idle(c, "a9")
        assert untagged == []
        c.send(b"done\r\n")  # RFC 2177: DONE in any case
        _, t = c.until("a9")
        assert t == b"a9 OK Idle completed.", t
        assert b" OK " in c.cmd("CAPABILITY")[1]


def test_idle_drop_then_new_session(iinst):
    c = raw(iinst)
    c.cmd("SELECT INBOX")
    start_idle(c)
    c.close()
    put_message(iinst, USER, message(token()))
    with raw(iinst) as c2:
        n = exists(c2.cmd("SELECT INBOX")[0])
        start_idle(c2, "z")
        put_message(iinst, USER, message(token()))
        wait_line(c2, lambda l: l == b"* %d EXISTS" % (n + 1))
        done(c2, "z")


@pytest.fixture(scope="module")
def many_inst(mw_bin):
    params = dict(TRUSTED, imap_client_connection_count_limit="0",
                  imap_max_userip_connections="0")
    with running_instance(mw_bin, params) as inst:
        yield inst


def test_idle_many_sessions_all_notified(many_inst):
    # more idlers than fs.inotify.max_user_instances (often 128): they
    # share the process's one inotify descriptor
    clients = []
    try:
        for i in range(200):
            c = raw(many_inst)
            c.cmd("SELECT INBOX")
            start_idle(c, "m%d" % i)
            clients.append(c)
        put_message(many_inst, USER, message(token()))
        for c in clients:
            wait_line(c, lambda l: l == b"* 1 EXISTS")
        for i, c in enumerate(clients):
            done(c, "m%d" % i)
    finally:
        for c in clients:
            c.close()
