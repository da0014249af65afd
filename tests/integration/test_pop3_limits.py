"""POP3 limits: the login timeout and the idle timeout after login (RFC
1939 3; short values here, polled for, never timed), connections per
client address, and the logout line of a timed-out session."""

import pytest

from conftest import wait_for
from pop3_helpers import PASSWORD3, USER3, RawPOP3, wait_log
from smtp_helpers import running_instance


@pytest.fixture(scope="module")
def linst(mw_bin):
    params = {"pop3_plaintext_auth_networks": "127.0.0.0/8",
              "pop3_login_timeout": "1s", "pop3_idle_timeout": "2s"}
    with running_instance(mw_bin, params) as inst:
        yield inst


@pytest.fixture(scope="module")
def cinst(mw_bin):
    params = {"pop3_client_connection_count_limit": "3"}
    with running_instance(mw_bin, params) as inst:
        yield inst


def wait_closed(c):
    """Reads until the server closes; returns the lines it sent."""
    lines = []
    while True:
        try:
            lines.append(c.readline())
        except (EOFError, ConnectionResetError):
            return lines


def test_login_timeout(linst):
    with RawPOP3(linst.pop3_port) as c:
        c.greeting()
        assert wait_closed(c) == ["-ERR Disconnected for inactivity."]
    wait_log(linst, "pop3-login: Disconnected: Inactivity (no auth "
                    "attempts in ")


def test_idle_timeout_after_login(linst):
    with RawPOP3(linst.pop3_port) as c:
        c.greeting()
        c.login(USER3, PASSWORD3)
        assert wait_closed(c) == ["-ERR Disconnected for inactivity."]
    wait_log(linst, "pop3(%s)<" % USER3)
    log = wait_log(linst, "Disconnected for inactivity top=0/0")
    assert "pop3(%s)<" % USER3 in log


def test_connections_per_client_address(cinst):
    linst = cinst
    conns = [RawPOP3(linst.pop3_port) for _ in range(3)]
    try:
        for c in conns:
            c.greeting()
        with RawPOP3(linst.pop3_port) as extra:
            r = extra.readline()
            assert r.startswith("-ERR [SYS/TEMP] Too many connections"), r
            assert extra.at_eof()
    finally:
        for c in conns:
            c.close()
    # the count drops as they close: a new one is welcome again
    def greeted():
        with RawPOP3(linst.pop3_port) as c:
            return c.readline().startswith("+OK")
    wait_for(greeted, 30)


def test_lock_session_gives_the_second_in_use(mw_bin):
    params = {"pop3_plaintext_auth_networks": "127.0.0.0/8",
              "pop3_lock_session": "yes"}
    with running_instance(mw_bin, params) as inst:
        with RawPOP3(inst.pop3_port) as a, RawPOP3(inst.pop3_port) as b:
            a.greeting()
            b.greeting()
            a.login(USER3, PASSWORD3)
            b.cmd("USER " + USER3)
            r = b.cmd("PASS " + PASSWORD3)
            assert r.startswith("-ERR [IN-USE]"), r
            assert b.at_eof()
            assert a.cmd("STAT").startswith("+OK")
            assert a.cmd("QUIT").startswith("+OK")

        # once a has gone (its lock is released after its store closes),
        # a new session gets in
        def logs_in():
            with RawPOP3(inst.pop3_port) as c:
                c.greeting()
                c.cmd("USER " + USER3)
                return c.cmd("PASS " + PASSWORD3).startswith("+OK")
        wait_for(logs_in, 30, what="a login after the lock is gone")
