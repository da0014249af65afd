"""The IMAP session outside the mailbox (RFC 9051 / RFC 3501): the
greeting with its capabilities, CAPABILITY in each state, NOOP, LOGOUT,
ID (RFC 2971), ENABLE (RFC 5161), commands in the wrong state and unknown
ones, the line and literal limits (LITERAL+, RFC 7888), the hard error
limit, the login timeout, the connection limits, pipelining and a client
that closes its sending side. Response texts follow Dovecot 2.3."""

import os
import re
import socket
import time

import pytest

from conftest import wait_for
from imap_helpers import (PASSWORD, TRUSTED, USER, RawIMAP, iinst,  # noqa: F401
                          put_message, wait_log)
from smtp_helpers import running_instance

PRE_CAPS = {"IMAP4rev1", "IMAP4rev2", "SASL-IR", "LITERAL+", "ID",
            "ENABLE", "IDLE"}
POST_CAPS = PRE_CAPS | {
    "NAMESPACE", "UNSELECT", "CHILDREN", "SPECIAL-USE", "LIST-EXTENDED",
    "LIST-STATUS", "UIDPLUS", "MOVE", "STATUS=SIZE", "BINARY",
    "MULTIAPPEND", "ESEARCH", "SEARCHRES", "UTF8=ACCEPT"}
AUTH_CAPS = {"AUTH=PLAIN", "AUTH=LOGIN", "AUTH=SCRAM-SHA-256"}


def caps_of(line, prefix=b"* CAPABILITY "):
    assert line.startswith(prefix), line
    return set(line[len(prefix):].decode().split())


def bracket_caps(line):
    """The capabilities inside "[CAPABILITY ...]" of a greeting or OK."""
    start = line.index(b"[CAPABILITY ") + len(b"[CAPABILITY ")
    return set(line[start:line.index(b"]", start)].decode().split())


# --- greeting, CAPABILITY, NOOP, LOGOUT ----------------------------------

def test_greeting_carries_capabilities(iinst):
    with RawIMAP(iinst.ports["imap_port"]) as c:
        g = c.greeting()
        assert g.startswith(b"* OK [CAPABILITY IMAP4rev1 ")
        assert g.endswith(b"] mailwright ready.")
        caps = bracket_caps(g)
        # plaintext allowed from loopback: no LOGINDISABLED
        assert caps == PRE_CAPS | AUTH_CAPS | {"STARTTLS"}
        u, t = c.cmd("CAPABILITY")
        assert len(u) == 1 and caps_of(u[0]) == caps
        assert t == b"t1 OK Pre-login capabilities listed, post-login " \
            b"capabilities have more."


def test_capability_after_login(iinst):
    with RawIMAP(iinst.ports["imap_port"]) as c:
        c.greeting()
        t = c.login()
        assert t.endswith(b"] Logged in")
        after = bracket_caps(t)
        assert POST_CAPS <= after
        assert "STARTTLS" not in after and "LOGINDISABLED" not in after
        assert not any(x.startswith("AUTH=") for x in after)
        assert any(x.startswith("APPENDLIMIT=") for x in after)
        u, t = c.cmd("CAPABILITY")
        assert caps_of(u[0]) == after
        assert t.startswith(b"t2 OK ")


def test_noop_and_logout(iinst):
    with RawIMAP(iinst.ports["imap_port"]) as c:
        c.greeting()
        assert c.cmd("NOOP") == ([], b"t1 OK NOOP completed.")
        c.login()
        assert c.cmd("NOOP") == ([], b"t3 OK NOOP completed.")
        u, t = c.cmd("LOGOUT")
        # RFC 9051 6.1.3: BYE first, then the tagged OK, then the close
        assert u == [b"* BYE Logging out"]
        assert t == b"t4 OK Logout completed."
        assert c.at_eof()
    log = wait_log(iinst, "Disconnected: Logged out")
    assert "imap(%s)<" % USER in log


def test_logout_before_login(iinst):
    with RawIMAP(iinst.ports["imap_port"]) as c:
        c.greeting()
        u, t = c.cmd("LOGOUT")
        assert u == [b"* BYE Logging out"] and t.startswith(b"t1 OK")
        assert c.at_eof()


# --- ID (RFC 2971) ---------------------------------------------------------

def test_id_nil_and_fields(iinst):
    with RawIMAP(iinst.ports["imap_port"]) as c:
        c.greeting()
        u, t = c.cmd("ID NIL")
        assert u == [b'* ID ("name" "mailwright")']
        assert t == b"t1 OK ID completed."
        u, t = c.cmd('ID ("name" "probe-client" "version" NIL)')
        assert u == [b'* ID ("name" "mailwright")']
        assert t == b"t2 OK ID completed."
        # after login too (any state)
        c.login()
        u, t = c.cmd("ID NIL")
        assert u == [b'* ID ("name" "mailwright")'] and b" OK " in t
        assert c.cmd("ID")[1].startswith(b"t5 BAD")
    log = wait_log(iinst, "name=probe-client")
    assert "imap-login: ID sent: name=probe-client, version=NIL, " \
        "rip=127.0.0.1" in log


# --- ENABLE (RFC 5161, RFC 9051 6.3.1) --------------------------------------

def test_enable(iinst):
    with RawIMAP(iinst.ports["imap_port"]) as c:
        c.greeting()
        # not in the not-authenticated state
        assert c.cmd("ENABLE IMAP4rev2")[1] == b"t1 BAD Not logged in."
        c.login()
        u, t = c.cmd("ENABLE X-UNKNOWN IMAP4rev2 UTF8=ACCEPT")
        assert u == [b"* ENABLED IMAP4rev2 UTF8=ACCEPT"]
        assert t == b"t3 OK Enabled."
        # what is enabled already is not named again
        u, t = c.cmd("ENABLE IMAP4rev2 FOO")
        assert u == [b"* ENABLED"] and t == b"t4 OK Enabled."
        assert c.cmd("ENABLE")[1].startswith(b"t5 BAD")


def test_enable_utf8_accept_alone(iinst):
    with RawIMAP(iinst.ports["imap_port"]) as c:
        c.greeting()
        c.login()
        u, _ = c.cmd("ENABLE utf8=accept")
        assert u == [b"* ENABLED UTF8=ACCEPT"]
        u, _ = c.cmd("SELECT INBOX")
        # UTF8=ACCEPT is not IMAP4rev2: RECENT stays
        assert any(l.endswith(b" RECENT") for l in u), u


# --- wrong state, unknown commands -----------------------------------------

def test_commands_in_the_wrong_state_are_bad(iinst):
    with RawIMAP(iinst.ports["imap_port"]) as c:
        c.greeting()
        for cmd in ("SELECT INBOX", "STATUS INBOX (MESSAGES)",
                    "CREATE x", "NAMESPACE", "FETCH 1 FLAGS", "CLOSE"):
            _, t = c.cmd(cmd)
            assert t.endswith(b" BAD Not logged in."), (cmd, t)
        c.login()
        for cmd in ("FETCH 1 FLAGS", "STORE 1 +FLAGS (\\Seen)", "CLOSE",
                    "UNSELECT", "EXPUNGE", "CHECK", "COPY 1 x"):
            _, t = c.cmd(cmd)
            assert t.endswith(b" BAD No mailbox selected."), (cmd, t)
        for cmd in ("LOGIN a b", "AUTHENTICATE PLAIN", "STARTTLS"):
            _, t = c.cmd(cmd)
            assert t.endswith(b" BAD Already logged in."), (cmd, t)
        c.cmd("SELECT INBOX")
        for cmd in ("LOGIN a b", "STARTTLS"):
            _, t = c.cmd(cmd)
            assert t.endswith(b" BAD Already logged in."), (cmd, t)
        assert c.cmd("NOOP")[1].endswith(b" OK NOOP completed.")


def test_unknown_command_is_bad(iinst):
    with RawIMAP(iinst.ports["imap_port"]) as c:
        c.greeting()
        assert c.cmd("XYZZY foo")[1].startswith(b"t1 BAD ")
        c.send("\r\n")  # an empty line: untagged BAD
        assert c.readline().startswith(b"* BAD ")
        assert c.cmd("NOOP")[1] == b"t2 OK NOOP completed."


# --- limits ------------------------------------------------------------------

LINE_LIMIT = 2048
LITERAL_LIMIT = 1024
ERROR_LIMIT = 4


@pytest.fixture(scope="module")
def limits(mw_bin):
    params = dict(TRUSTED, imap_line_limit=str(LINE_LIMIT),
                  imap_literal_limit=str(LITERAL_LIMIT),
                  imap_hard_error_limit=str(ERROR_LIMIT),
                  imap_login_timeout="2s")
    with running_instance(mw_bin, params) as inst:
        yield inst


def test_line_over_the_limit(limits):
    with RawIMAP(limits.ports["imap_port"]) as c:
        c.greeting()
        _, t = c.cmd("NOOP " + "x" * (LINE_LIMIT + 10))
        assert t == b"t1 BAD [TOOBIG] Line too long"
        # the session goes on
        assert c.cmd("NOOP")[1] == b"t2 OK NOOP completed."
        # just within the limit (CRLF included) is a command
        line = 't3 LOGIN a ""\r\n'
        _, t = c.cmd('LOGIN a "%s"' % ("v" * (LINE_LIMIT - len(line))))
        assert t == b"t3 NO [AUTHENTICATIONFAILED] Authentication failed."
        _, t = c.cmd('LOGIN a "%s"' % ("v" * (LINE_LIMIT - len(line) + 1)))
        assert t == b"t4 BAD [TOOBIG] Line too long"


def test_synchronizing_literal_over_the_limit(limits):
    with RawIMAP(limits.ports["imap_port"]) as c:
        c.greeting()
        c.send("a1 LOGIN {%d}\r\n" % (LITERAL_LIMIT + 1))
        # refused before a byte of it was sent (no "+" continuation)
        assert c.readline() == b"a1 NO [TOOBIG] Literal too big"
        assert c.cmd("NOOP")[1] == b"t1 OK NOOP completed."


def test_literal_plus_within_and_over_the_limit(limits):
    with RawIMAP(limits.ports["imap_port"]) as c:
        c.greeting()
        # LITERAL+ (not LITERAL-): no 4096 ceiling of its own
        c.send("a1 LOGIN {%d+}\r\n%s {%d+}\r\n%s\r\n" % (
            len(USER), USER, len(PASSWORD), PASSWORD))
        assert c.until("a1")[1].startswith(b"a1 OK ")
    with RawIMAP(limits.ports["imap_port"]) as c:
        c.greeting()
        c.send("a2 LOGIN {%d+}\r\n%s y\r\n" % (
            LITERAL_LIMIT + 100, "x" * (LITERAL_LIMIT + 100)))
        assert c.readline() == b"a2 NO [TOOBIG] Literal too big"
        # its octets were skipped, not read as commands
        assert c.cmd("NOOP")[1] == b"t1 OK NOOP completed."


def test_literal_plus_over_4096(iinst):
    with RawIMAP(iinst.ports["imap_port"]) as c:
        c.greeting()
        c.send('a1 LOGIN {5000+}\r\n%s "x"\r\n' % ("u" * 5000))
        _, t = c.until("a1")
        assert t == b"a1 NO [AUTHENTICATIONFAILED] Authentication failed."


def test_hard_error_limit(limits):
    with RawIMAP(limits.ports["imap_port"]) as c:
        c.greeting()
        for i in range(1, ERROR_LIMIT):
            assert c.cmd("BOGUS")[1].startswith(b"t%d BAD" % i)
        c.send("t9 BOGUS\r\n")
        assert c.readline().startswith(b"t9 BAD")
        assert c.readline() == b"* BYE Too many invalid IMAP commands."
        assert c.at_eof()
    log = wait_log(limits, "Disconnected: Too many invalid commands")
    assert "imap-login: Disconnected: Too many invalid commands (no auth " \
        "attempts in " in log


def test_login_timeout(limits):
    with RawIMAP(limits.ports["imap_port"]) as c:
        c.greeting()
        t0 = time.monotonic()
        assert c.readline() == b"* BYE Disconnected for inactivity."
        assert 1.5 < time.monotonic() - t0 < 10
        assert c.at_eof()
    wait_log(limits, "imap-login: Disconnected: Inactivity (no auth "
             "attempts in ")


def test_no_login_timeout_after_login(limits):
    with RawIMAP(limits.ports["imap_port"]) as c:
        c.greeting()
        c.login()
        time.sleep(3)
        assert c.cmd("NOOP")[1] == b"t2 OK NOOP completed."


def test_client_connection_count_limit(mw_bin):
    params = dict(TRUSTED, imap_client_connection_count_limit="2")
    with running_instance(mw_bin, params) as inst:
        port = inst.ports["imap_port"]
        a, b = RawIMAP(port), RawIMAP(port)
        try:
            a.greeting()
            b.greeting()
            with RawIMAP(port) as c:
                assert c.readline() == \
                    b"* BYE [UNAVAILABLE] Too many connections from " \
                    b"127.0.0.1."
                assert c.at_eof()
            a.cmd("LOGOUT")
            assert a.at_eof()

            def greeted():
                with RawIMAP(port) as d:
                    return d.readline().startswith(b"* OK")
            wait_for(greeted, 30)
        finally:
            a.close()
            b.close()
        wait_log(inst, "Connection concurrency limit exceeded: 3 from "
                 "127.0.0.1 for service imapd")


def test_connection_limit(mw_bin):
    params = dict(TRUSTED, imap_connection_limit="2")
    with running_instance(mw_bin, params) as inst:
        port = inst.ports["imap_port"]
        a, b = RawIMAP(port), RawIMAP(port)
        try:
            a.greeting()
            b.greeting()
            with RawIMAP(port) as c:
                assert c.readline() == \
                    b"* BYE [UNAVAILABLE] Too many connections."
                assert c.at_eof()
        finally:
            a.close()
            b.close()


# --- pipelining --------------------------------------------------------------

def test_pipelined_commands_answered_in_order(iinst):
    with RawIMAP(iinst.ports["imap_port"]) as c:
        c.greeting()
        c.send("p1 NOOP\r\np2 CAPABILITY\r\np3 LOGIN %s %s\r\n"
               "p4 SELECT INBOX\r\np5 STATUS INBOX (MESSAGES)\r\n"
               "p6 NOOP\r\n" % (USER, PASSWORD))
        tags = []
        while len(tags) < 6:
            line = c.readline()
            if not line.startswith(b"*"):
                tags.append(line.split()[0])
        assert tags == [b"p%d" % i for i in range(1, 7)]


def test_half_closed_client_gets_its_answers(iinst):
    with RawIMAP(iinst.ports["imap_port"]) as c:
        c.greeting()
        c.send("p1 NOOP\r\np2 LOGIN %s %s\r\np3 SELECT INBOX\r\n"
               "p4 STATUS INBOX (UIDNEXT)\r\np5 LOGOUT\r\n"
               % (USER, PASSWORD))
        c.sock.shutdown(socket.SHUT_WR)
        lines = []
        with pytest.raises(EOFError):
            while True:
                lines.append(c.readline())
        tagged = [l.split()[0] for l in lines if not l.startswith(b"*")]
        assert tagged == [b"p1", b"p2", b"p3", b"p4", b"p5"]
        assert b"* BYE Logging out" in lines
        assert all(b" OK " in l for l in lines if not l.startswith(b"*"))


def test_half_closed_without_logout(iinst):
    with RawIMAP(iinst.ports["imap_port"]) as c:
        c.greeting()
        c.send("p1 LOGIN %s %s\r\np2 NOOP\r\n" % (USER, PASSWORD))
        c.sock.shutdown(socket.SHUT_WR)
        assert c.until("p1")[1].startswith(b"p1 OK")
        assert c.until("p2")[1] == b"p2 OK NOOP completed."
        assert c.at_eof()


def index_fds(pid):
    """How many descriptors process pid holds on a mailwright index."""
    n = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            if "mailwright-index.db" in os.readlink(
                    "/proc/%d/fd/%s" % (pid, fd)):
                n += 1
        except OSError:
            pass
    return n


def test_a_quiet_session_gives_its_index_back(iinst):
    """A selected session quiet for a second closes its SQLite connection
    (store_sleep), and its next commands open it again by themselves and
    see what happened meanwhile."""
    with RawIMAP(iinst.imap_port) as c:
        c.greeting()
        c.login()
        _, t = c.cmd("SELECT INBOX")
        assert b" OK " in t
        pid = int(re.findall(rb"mpid=(\d+)", iinst.log_text().encode())[-1])
        wait_for(lambda: index_fds(pid) == 0, 20, 0.1,
                 "imapd to close the index of the quiet session")
        put_message(iinst, USER, b"Subject: after the sleep\n\nbody\n")
        lines, t = c.cmd("NOOP")
        assert b" OK " in t and any(ln.endswith(b" EXISTS") for ln in lines)
        lines, t = c.cmd("FETCH * (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        assert b" OK " in t and b"after the sleep" in b"".join(lines)
