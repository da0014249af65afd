"""IMAP logins (RFC 9051 6.2): LOGIN with quoted strings and literals,
AUTHENTICATE (RFC 9051 6.2.2) PLAIN with and without SASL-IR (RFC 4959),
LOGIN and SCRAM-SHA-256, "*" to cancel, wrong credentials (NO
[AUTHENTICATIONFAILED], RFC 5530, after a delay), plaintext refused before
TLS ([PRIVACYREQUIRED], LOGINDISABLED), STARTTLS (and what was pipelined
behind it dropped: CVE-2011-0411), imaps, sessions per user and address
(NO [LIMIT]), the failure ban, and the log lines in Dovecot's shape that
fail2ban's dovecot filter reads."""

import re
import shutil
import subprocess
import time

import pytest

from imap_helpers import (PASSWORD, PASSWORD3, TRUSTED, USER, USER3,  # noqa
                          RawIMAP, default_inst, iinst, wait_log)
from pop3_helpers import b64
from smtp_helpers import running_instance
from test_pop3_auth import scram

REFUSED = (b"NO [PRIVACYREQUIRED] Plaintext authentication disallowed on "
           b"non-secure (SSL/TLS) connections.")
FAILED = b"NO [AUTHENTICATIONFAILED] Authentication failed."


def plain(user, password):
    return b64("\0%s\0%s" % (user, password))


class SaslOverImap:
    """What test_pop3_auth.scram() drives (cmd("AUTH MECH ir") and then
    one line per step, returning the reply as str) over IMAP: the first
    line becomes "tag AUTHENTICATE", a "+ " continuation is returned as
    it is, the tagged reply as "OK ..."/"NO ..."."""

    def __init__(self, c):
        self.c = c
        self.tag = None

    def cmd(self, line):
        if self.tag is None:
            assert line.startswith("AUTH ")
            self.tag = self.c.tag()
            self.c.send("%s AUTHENTICATE %s\r\n" % (self.tag, line[5:]))
        else:
            self.c.send(line + "\r\n")
        r = self.c.readline().decode()
        if r.startswith("+ "):
            return r
        assert r.startswith(self.tag + " "), r
        self.tag = None
        return r.split(" ", 1)[1]


def logged_in(c):
    """Whether the session is in the authenticated state."""
    return c.cmd("NAMESPACE")[1].endswith(b" OK Namespace completed.")


# --- LOGIN -------------------------------------------------------------------

def test_login_quoted(iinst):
    with RawIMAP(iinst.ports["imap_port"]) as c:
        c.greeting()
        _, t = c.cmd('LOGIN "%s" "%s"' % (USER, PASSWORD))
        assert t.startswith(b"t1 OK [CAPABILITY IMAP4rev1 ")
        assert t.endswith(b"] Logged in")
        assert logged_in(c)


def test_login_atoms_and_literals(iinst):
    with RawIMAP(iinst.ports["imap_port"]) as c:
        c.greeting()
        c.send("a1 LOGIN {%d}\r\n" % len(USER3))
        assert c.readline().startswith(b"+ ")
        c.send("%s {%d}\r\n" % (USER3, len(PASSWORD3)))
        assert c.readline().startswith(b"+ ")
        c.send(PASSWORD3 + "\r\n")
        assert c.until("a1")[1].startswith(b"a1 OK ")
        assert logged_in(c)
    with RawIMAP(iinst.ports["imap_port"]) as c:
        c.greeting()
        assert c.cmd("LOGIN %s %s" % (USER3, PASSWORD3))[1].startswith(
            b"t1 OK ")


def test_login_wrong_password(iinst):
    with RawIMAP(iinst.ports["imap_port"]) as c:
        c.greeting()
        assert c.cmd('LOGIN "%s" "Bad-Pw-4411"' % USER)[1] == b"t1 " + FAILED
        assert c.cmd('LOGIN "nosuch@example.test" "x"')[1] == b"t2 " + FAILED
        assert c.cmd('LOGIN "" "x"')[1] == b"t3 " + FAILED
        assert not logged_in(c)
        c.login()
    assert "Bad-Pw-4411" not in iinst.log_text()


# --- AUTHENTICATE -------------------------------------------------------------

def test_authenticate_plain_initial_response(iinst):
    with RawIMAP(iinst.ports["imap_port"]) as c:
        c.greeting()
        _, t = c.cmd("AUTHENTICATE PLAIN " + plain(USER3, PASSWORD3))
        assert t.startswith(b"t1 OK [CAPABILITY ") and t.endswith(b"Logged in")
        assert logged_in(c)


def test_authenticate_plain_continuation(iinst):
    with RawIMAP(iinst.ports["imap_port"]) as c:
        c.greeting()
        c.send("a1 AUTHENTICATE PLAIN\r\n")
        assert c.readline() == b"+ "
        c.send(plain(USER3, PASSWORD3) + "\r\n")
        assert c.until("a1")[1].startswith(b"a1 OK ")
        assert logged_in(c)


def test_authenticate_plain_wrong_password(iinst):
    with RawIMAP(iinst.ports["imap_port"]) as c:
        c.greeting()
        _, t = c.cmd("AUTHENTICATE PLAIN " + plain(USER3, "nope"))
        assert t == b"t1 " + FAILED
        assert not logged_in(c)


def test_authenticate_login(iinst):
    with RawIMAP(iinst.ports["imap_port"]) as c:
        c.greeting()
        c.send("a1 AUTHENTICATE LOGIN\r\n")
        assert c.readline() == b"+ " + b64("Username:").encode()
        c.send(b64(USER3) + "\r\n")
        assert c.readline() == b"+ " + b64("Password:").encode()
        c.send(b64(PASSWORD3) + "\r\n")
        assert c.until("a1")[1].startswith(b"a1 OK ")
    log = wait_log(iinst, "method=LOGIN")
    assert "imap-login: Login: user=<%s>, method=LOGIN, rip=127.0.0.1" \
        % USER3 in log


def test_authenticate_scram_sha_256(iinst):
    r = iinst.cli("user", "add", "--scheme", "SCRAM-SHA-256",
                  "iscram@example.test", input="pw-iscram\n")
    assert r.returncode == 0, r.stderr
    with RawIMAP(iinst.ports["imap_port"]) as c:
        c.greeting()
        s = SaslOverImap(c)
        assert scram(s, "iscram@example.test", "pw-iscram",
                     proof_ok=False) == FAILED.decode()
        assert not logged_in(c)
        r = scram(s, "iscram@example.test", "pw-iscram")
        assert r.startswith("OK [CAPABILITY "), r
        assert logged_in(c)
    wait_log(iinst, "Login: user=<iscram@example.test>, "
             "method=SCRAM-SHA-256")


def test_authenticate_cancel_and_bad_input(iinst):
    with RawIMAP(iinst.ports["imap_port"]) as c:
        c.greeting()
        c.send("a1 AUTHENTICATE PLAIN\r\n")
        assert c.readline() == b"+ "
        c.send("*\r\n")
        # RFC 9051 6.2.2: a cancelled exchange is BAD
        assert c.until("a1")[1] == b"a1 BAD Authentication aborted by client."
        c.send("a2 AUTHENTICATE LOGIN\r\n")
        assert c.readline().startswith(b"+ ")
        c.send("*\r\n")
        assert c.until("a2")[1].startswith(b"a2 BAD ")
        c.send("a3 AUTHENTICATE PLAIN\r\n")
        assert c.readline() == b"+ "
        c.send("!!!not-base64\r\n")
        assert c.until("a3")[1].startswith(b"a3 BAD ")
        assert c.cmd("AUTHENTICATE CRAM-MD5")[1] == \
            b"t1 NO Unsupported authentication mechanism."
        assert c.cmd("AUTHENTICATE PLAIN =")[1].startswith(b"t2 BAD ")
        assert not logged_in(c)
        _, t = c.cmd("AUTHENTICATE PLAIN " + plain(USER3, PASSWORD3))
        assert t.startswith(b"t4 OK ")


def test_failure_is_delayed(mw_bin):
    params = dict(TRUSTED, smtpd_auth_failure_delay="1s")
    with running_instance(mw_bin, params) as inst:
        with RawIMAP(inst.ports["imap_port"]) as c:
            c.greeting()
            t0 = time.monotonic()
            assert c.cmd("LOGIN %s wrong" % USER)[1] == b"t1 " + FAILED
            assert time.monotonic() - t0 >= 0.9
            t0 = time.monotonic()
            _, t = c.cmd("AUTHENTICATE PLAIN " + plain(USER, "wrong"))
            assert t == b"t2 " + FAILED
            assert time.monotonic() - t0 >= 1.8  # it grows
            # a pipelined command waits for the delayed answer
            c.send("t3 LOGIN %s wrong\r\nt4 NOOP\r\n" % USER)
            assert c.readline() == b"t3 " + FAILED
            assert c.readline() == b"t4 OK NOOP completed."


# --- plaintext before TLS, STARTTLS, imaps ------------------------------------

def test_plaintext_refused_before_tls(default_inst):
    with RawIMAP(default_inst.ports["imap_port"]) as c:
        g = c.greeting()
        caps = g[g.index(b"[CAPABILITY ") + 12:g.index(b"]")].split()
        assert b"LOGINDISABLED" in caps and b"STARTTLS" in caps
        assert b"AUTH=PLAIN" not in caps and b"AUTH=LOGIN" not in caps
        assert b"AUTH=SCRAM-SHA-256" in caps
        assert c.cmd("LOGIN %s %s" % (USER, PASSWORD))[1] == b"t1 " + REFUSED
        _, t = c.cmd("AUTHENTICATE PLAIN " + plain(USER, PASSWORD))
        assert t == b"t2 " + REFUSED
        assert c.cmd("AUTHENTICATE LOGIN")[1] == b"t3 " + REFUSED
        u, _ = c.cmd("CAPABILITY")
        assert b"LOGINDISABLED" in u[0].split()
        assert not logged_in(c)
        c.cmd("LOGOUT")
    log = wait_log(default_inst, "tried to use disallowed plaintext auth")
    assert "imap-login: Disconnected (tried to use disallowed plaintext " \
        "auth): user=<>, rip=127.0.0.1, lip=127.0.0.1, session=<" in log


def test_starttls_then_login(default_inst):
    with RawIMAP(default_inst.ports["imap_port"]) as c:
        c.greeting()
        # CVE-2011-0411: what follows STARTTLS in the same packet is
        # plaintext the attacker injected; it must not be answered
        c.send("s1 STARTTLS\r\ns2 NOOP\r\n")
        assert c.readline() == b"s1 OK Begin TLS negotiation now."
        c.starttls()
        u, t = c.cmd("CAPABILITY")
        assert t.startswith(b"t1 OK"), (u, t)  # not s2's answer
        caps = set(u[0].split()[2:])
        assert b"STARTTLS" not in caps and b"LOGINDISABLED" not in caps
        assert {b"AUTH=PLAIN", b"AUTH=LOGIN", b"AUTH=SCRAM-SHA-256"} <= caps
        assert c.cmd("STARTTLS")[1].startswith(b"t2 BAD")
        c.login()
        c.cmd("LOGOUT")
    log = wait_log(default_inst, "Disconnected: Logged out")
    line = [l for l in log.splitlines()
            if "imap-login: Login: user=<%s>" % USER in l][-1]
    assert re.search(
        r"mailwright/imapd\[(\d+)\]: imap-login: Login: user=<%s>, "
        r"method=PLAIN, rip=127\.0\.0\.1, lip=127\.0\.0\.1, mpid=\1, TLS, "
        r"session=<([A-Za-z0-9+/]{12})>$" % re.escape(USER), line), line
    sid = re.search(r"session=<([^>]+)>", line).group(1)
    assert re.search(
        r"imap\(%s\)<\d+><%s>: Disconnected: Logged out in=\d+ out=\d+$"
        % (re.escape(USER), re.escape(sid)), log, re.M), log[-2000:]


def test_imaps_login(default_inst):
    with RawIMAP(default_inst.ports["imaps_port"], tls=True) as c:
        g = c.greeting()
        assert b"STARTTLS" not in g and b"LOGINDISABLED" not in g
        assert b"AUTH=PLAIN" in g
        _, t = c.cmd("AUTHENTICATE PLAIN " + plain(USER3, PASSWORD3))
        assert t.startswith(b"t1 OK ")
        assert logged_in(c)
    wait_log(default_inst, "Login: user=<%s>, method=PLAIN" % USER3)


# --- limits, the ban -----------------------------------------------------------

def test_max_userip_connections(mw_bin):
    params = dict(TRUSTED, imap_max_userip_connections="2")
    with running_instance(mw_bin, params) as inst:
        port = inst.ports["imap_port"]
        a, b, c = RawIMAP(port), RawIMAP(port), RawIMAP(port)
        try:
            for x in (a, b, c):
                x.greeting()
            a.login()
            b.login()
            _, t = c.cmd("LOGIN %s %s" % (USER, PASSWORD))
            assert t == (b"t1 NO [LIMIT] Maximum number of connections "
                         b"from user+IP exceeded "
                         b"(imap_max_userip_connections=2)")
            # another user is not counted with this one
            assert c.cmd("LOGIN %s %s" % (USER3, PASSWORD3))[1].startswith(
                b"t2 OK")
            a.cmd("LOGOUT")
            assert a.at_eof()
            wait_log(inst, "Disconnected: Logged out")
            with RawIMAP(port) as d:
                d.greeting()
                d.login()
        finally:
            for x in (a, b, c):
                x.close()
        assert "Maximum number of connections from user+IP exceeded " \
            "(imap_max_userip_connections=2): user=<%s>" % USER \
            in inst.log_text()


def test_failure_limit_bans_the_client(mw_bin):
    params = dict(TRUSTED, smtpd_auth_failure_limit="2")
    with running_instance(mw_bin, params) as inst:
        with RawIMAP(inst.ports["imap_port"]) as c:
            c.greeting()
            for i in (1, 2):
                assert c.cmd("LOGIN %s bad" % USER)[1] == b"t%d " % i + FAILED
            _, t = c.cmd("LOGIN %s %s" % (USER, PASSWORD))
            assert t == (b"t3 NO [UNAVAILABLE] Too many failed logins; try "
                         b"again later.")
            assert c.at_eof()
        with RawIMAP(inst.ports["imap_port"]) as c:
            c.greeting()
            _, t = c.cmd("AUTHENTICATE PLAIN " + plain(USER, PASSWORD))
            assert t.startswith(b"t1 NO [UNAVAILABLE]")
            assert c.at_eof()


# --- the log lines, fail2ban ----------------------------------------------------

def test_failure_log_lines(default_inst):
    with RawIMAP(default_inst.ports["imaps_port"], tls=True) as c:
        c.greeting()
        c.cmd("LOGIN nobody@example.test Bad-Pw-9")
        c.cmd("LOGIN %s Bad-Pw-9" % USER)
        c.cmd("LOGOUT")
    log = wait_log(default_inst, "(auth failed, 2 attempts")
    line = [l for l in log.splitlines() if "(auth failed, 2 att" in l][-1]
    assert re.search(
        r"imap-login: Disconnected \(auth failed, 2 attempts in \d+ secs\): "
        r"user=<%s>, method=PLAIN, rip=127\.0\.0\.1, lip=127\.0\.0\.1, TLS, "
        r"session=<[^>]+>$" % re.escape(USER), line), line
    assert "Bad-Pw-9" not in log


def test_fail2ban_dovecot_filter_matches(default_inst, tmp_path):
    if shutil.which("fail2ban-regex") is None:
        pytest.skip("fail2ban is not installed")
    with RawIMAP(default_inst.ports["imaps_port"], tls=True) as c:
        c.greeting()
        assert c.cmd("LOGIN f2b@example.test nope")[1] == b"t1 " + FAILED
    # dropped without LOGOUT
    wait_log(default_inst, "Disconnected (auth failed, 1 attempts")
    with RawIMAP(default_inst.ports["imap_port"]) as c:
        c.greeting()
        c.cmd("LOGIN f2b@example.test nope")
    wait_log(default_inst, "Disconnected (tried to use disallowed")
    lines = [l for l in default_inst.log_text().splitlines()
             if "imap-login:" in l]
    log = tmp_path / "mail.log"
    log.write_text("\n".join(lines) + "\n")
    r = subprocess.run(["fail2ban-regex", str(log),
                        'dovecot[_daemon="mailwright/imapd"]'],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    fails = [l for l in lines if "auth failed" in l or "disallowed" in l]
    assert fails
    assert "Failregex: %d total" % len(fails) in r.stdout, r.stdout
