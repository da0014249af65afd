"""POP3 logins: plaintext refused before TLS (Dovecot's
disable_plaintext_auth), STLS (RFC 2595) and POP3S (RFC 8314), AUTH (RFC
5034) with PLAIN, LOGIN and SCRAM-SHA-256 written by hand, the mechanism
list, cancelling, wrong credentials with [AUTH] (RFC 3206), sessions per
user and address ([IN-USE]), and the log lines in Dovecot's shape that
fail2ban's dovecot filter reads."""

import base64
import hashlib
import hmac
import os
import poplib
import shutil
import subprocess

import pytest

from conftest import wait_for
from pop3_helpers import (PASSWORD, PASSWORD3, USER, USER3, RawPOP3, b64,
                          client_ctx, default_inst, message, pinst,
                          put_message, token, wait_log)
from smtp_helpers import running_instance

HOST = "127.0.0.1"
REFUSED = ("-ERR [AUTH] Plaintext authentication disallowed on non-secure "
           "(SSL/TLS) connections.")


# --- the defaults: no plaintext before TLS --------------------------------

def test_plaintext_refused_before_tls(default_inst):
    with RawPOP3(default_inst.pop3_port) as c:
        c.greeting()
        assert c.cmd("CAPA").startswith("+OK")
        caps = c.multiline()
        assert "USER" not in caps
        assert "SASL SCRAM-SHA-256" in caps  # no plaintext mechanisms
        assert "STLS" in caps
        assert c.cmd("USER " + USER) == REFUSED
        assert c.cmd("PASS " + PASSWORD) == REFUSED
        assert c.cmd("AUTH PLAIN " + b64("\0%s\0%s" % (USER, PASSWORD))) \
            == REFUSED
        assert c.cmd("AUTH LOGIN") == REFUSED
        assert c.cmd("AUTH").startswith("+OK")
        assert c.multiline() == ["SCRAM-SHA-256"]
        assert c.cmd("QUIT").startswith("+OK")
    log = wait_log(default_inst, "tried to use disallowed plaintext auth")
    assert "pop3-login: Aborted login (tried to use disallowed plaintext " \
        "auth): user=<>, rip=127.0.0.1, lip=127.0.0.1, session=<" in log


def test_stls_then_user_pass(default_inst):
    p = poplib.POP3(HOST, default_inst.pop3_port, timeout=60)
    assert "STLS" in p.capa()
    p.stls(context=client_ctx())
    caps = p.capa()
    assert "STLS" not in caps and "USER" in caps
    assert set(caps["SASL"]) == {"PLAIN", "LOGIN", "SCRAM-SHA-256"}
    p.user(USER)
    assert p.pass_(PASSWORD).startswith(b"+OK")
    assert "USER" not in p.capa()  # TRANSACTION: no login capabilities
    p.quit()
    log = wait_log(default_inst, "Login: user=<%s>, method=PLAIN" % USER)
    line = [l for l in log.splitlines()
            if "pop3-login: Login: user=<%s>" % USER in l][-1]
    assert "mailwright/pop3d[" in line and ": pop3-login: Login: " in line
    assert ", TLS, session=<" in line and "mpid=" in line


def test_stls_twice_and_after_stls_input_is_dropped(default_inst):
    with RawPOP3(default_inst.pop3_port) as c:
        c.greeting()
        # pipelined behind STLS: must not be read as plaintext commands
        c.send("STLS\r\nUSER injected\r\n")
        assert c.readline().startswith("+OK")
        c.sock = client_ctx().wrap_socket(c.sock)
        assert c.cmd("PASS x").startswith("-ERR No username")
        assert c.cmd("STLS").startswith("-ERR")
        assert c.cmd("QUIT").startswith("+OK")


def test_pop3s(default_inst):
    p = poplib.POP3_SSL(HOST, default_inst.pop3s_port, timeout=60,
                        context=client_ctx())
    assert p.getwelcome().startswith(b"+OK")
    caps = p.capa()
    assert "STLS" not in caps and "USER" in caps
    p.user(USER)
    p.pass_(PASSWORD)
    assert p.stat()[0] >= 0
    p.quit()


def test_wrong_password_is_auth_error_and_logged(default_inst):
    p = poplib.POP3_SSL(HOST, default_inst.pop3s_port, timeout=60,
                        context=client_ctx())
    p.user("nobody@example.test")
    with pytest.raises(poplib.error_proto, match=r"\[AUTH\]"):
        p.pass_("Bad-Pw-7781")
    p.user(USER)
    with pytest.raises(poplib.error_proto, match=r"\[AUTH\]"):
        p.pass_("Bad-Pw-7781")
    assert p.capa()
    p.quit()
    log = wait_log(default_inst, "Aborted login (auth failed, 2 attempts")
    line = [l for l in log.splitlines() if "(auth failed, 2" in l][-1]
    assert ("user=<%s>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, TLS, "
            "session=<" % USER) in line
    assert "Bad-Pw-7781" not in log


def test_fail2ban_dovecot_filter_matches(default_inst, tmp_path):
    if shutil.which("fail2ban-regex") is None:
        pytest.skip("fail2ban is not installed")
    with RawPOP3(default_inst.pop3s_port, tls=True) as c:
        c.greeting()
        c.cmd("USER f2b@example.test")
        assert c.cmd("PASS nope").startswith("-ERR [AUTH]")
    # the connection drops without QUIT: "Disconnected (auth failed, ..."
    wait_log(default_inst, "Disconnected (auth failed, 1 attempts")
    lines = [l for l in default_inst.log_text().splitlines()
             if "pop3-login:" in l]
    log = tmp_path / "mail.log"
    log.write_text("\n".join(lines) + "\n")
    # the daemon tag is ours, not "dovecot": the jail says so
    r = subprocess.run(["fail2ban-regex", str(log),
                        'dovecot[_daemon="mailwright/pop3d"]'],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    fails = [l for l in lines if "auth failed" in l or "disallowed" in l]
    assert fails
    assert "Failregex: %d total" % len(fails) in r.stdout, r.stdout


# --- AUTH (RFC 5034), plaintext allowed from loopback ----------------------

def test_auth_lists_mechanisms(pinst):
    with RawPOP3(pinst.pop3_port) as c:
        c.greeting()
        assert c.cmd("AUTH").startswith("+OK")
        assert c.multiline() == ["PLAIN", "LOGIN", "SCRAM-SHA-256"]
        assert c.cmd("AUTH CRAM-MD5").startswith("-ERR")
        assert c.cmd("CAPA").startswith("+OK")
        c.multiline()


def test_auth_plain_initial_response(pinst):
    with RawPOP3(pinst.pop3_port) as c:
        c.greeting()
        r = c.cmd("AUTH PLAIN " + b64("\0%s\0%s" % (USER3, PASSWORD3)))
        assert r.startswith("+OK"), r
        assert c.cmd("STAT").startswith("+OK")
        assert c.cmd("QUIT").startswith("+OK")


def test_auth_plain_without_initial_response(pinst):
    with RawPOP3(pinst.pop3_port) as c:
        c.greeting()
        assert c.cmd("AUTH PLAIN") == "+ "
        r = c.cmd(b64("\0%s\0%s" % (USER3, PASSWORD3)))
        assert r.startswith("+OK"), r
        assert c.cmd("QUIT").startswith("+OK")


def test_auth_login(pinst):
    with RawPOP3(pinst.pop3_port) as c:
        c.greeting()
        r = c.cmd("AUTH LOGIN")
        assert base64.b64decode(r[2:]).lower().startswith(b"user")
        r = c.cmd(b64(USER3))
        assert base64.b64decode(r[2:]).lower().startswith(b"pass")
        assert c.cmd(b64(PASSWORD3)).startswith("+OK")
        assert c.cmd("NOOP").startswith("+OK")
    log = wait_log(pinst, "method=LOGIN")
    assert "Login: user=<%s>, method=LOGIN, rip=127.0.0.1" % USER3 in log


def test_auth_cancel_and_bad_response(pinst):
    with RawPOP3(pinst.pop3_port) as c:
        c.greeting()
        assert c.cmd("AUTH LOGIN").startswith("+ ")
        assert c.cmd("*").startswith("-ERR")
        assert c.cmd("AUTH PLAIN") == "+ "
        assert c.cmd("!!!notbase64").startswith("-ERR")
        r = c.cmd("AUTH PLAIN " + b64("\0%s\0wrong" % USER3))
        assert r.startswith("-ERR [AUTH]"), r
        assert c.cmd("CAPA").startswith("+OK")
        c.multiline()
        assert c.login(USER3, PASSWORD3).startswith("+OK")


def scram(c, user, password, proof_ok=True):
    """RFC 5802 over POP3 AUTH (RFC 5034): returns the final reply."""
    cnonce = b64(os.urandom(18))
    bare = "n=%s,r=%s" % (user, cnonce)
    r = c.cmd("AUTH SCRAM-SHA-256 " + b64("n,," + bare))
    assert r.startswith("+ "), r
    server_first = base64.b64decode(r[2:]).decode()
    attrs = dict(a.split("=", 1) for a in server_first.split(","))
    salt = base64.b64decode(attrs["s"])
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt,
                                 int(attrs["i"]))
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    stored_key = hashlib.sha256(client_key).digest()
    final_bare = "c=biws,r=" + attrs["r"]
    auth_msg = ",".join([bare, server_first, final_bare]).encode()
    sig = hmac.new(stored_key, auth_msg, "sha256").digest()
    proof = bytes(a ^ b for a, b in zip(client_key, sig))
    if not proof_ok:
        proof = bytes(b ^ 1 for b in proof)
    r = c.cmd(b64(final_bare + ",p=" + b64(proof)))
    if not r.startswith("+ "):
        return r
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()
    want = b64(hmac.new(server_key, auth_msg, "sha256").digest())
    assert base64.b64decode(r[2:]).decode() == "v=" + want
    return c.cmd("")


def test_auth_scram_sha_256(pinst):
    r = pinst.cli("user", "add", "--scheme", "SCRAM-SHA-256",
                  "scram@example.test", input="pw-scram\n")
    assert r.returncode == 0, r.stderr
    with RawPOP3(pinst.pop3_port) as c:
        c.greeting()
        assert scram(c, "scram@example.test", "pw-scram",
                     proof_ok=False).startswith("-ERR [AUTH]")
        assert scram(c, "scram@example.test", "pw-scram").startswith("+OK")
        assert c.cmd("STAT").startswith("+OK 0 0")


def test_utf8_in_authorization(pinst):
    with RawPOP3(pinst.pop3_port) as c:
        c.greeting()
        assert c.cmd("UTF8").startswith("+OK")
        c.login(USER3, PASSWORD3)
        assert c.cmd("UTF8").startswith("-ERR")


def test_userip_connection_limit(mw_bin):
    params = {"pop3_plaintext_auth_networks": "127.0.0.0/8",
              "pop3_max_userip_connections": "2"}
    with running_instance(mw_bin, params) as inst:
        a = RawPOP3(inst.pop3_port)
        b = RawPOP3(inst.pop3_port)
        c = RawPOP3(inst.pop3_port)
        try:
            for x in (a, b, c):
                x.greeting()
            a.login()
            b.login()
            c.cmd("USER " + USER)
            r = c.cmd("PASS " + PASSWORD)
            assert r.startswith("-ERR [IN-USE]"), r
            assert a.cmd("QUIT").startswith("+OK")
            assert a.at_eof()
            # a's session is gone: c may log in now
            wait_for(lambda: "Logged out" in inst.log_text(), 30)
            assert c.login().startswith("+OK")
        finally:
            for x in (a, b, c):
                x.close()


def test_banned_client_gets_login_delay(mw_bin):
    params = {"pop3_plaintext_auth_networks": "127.0.0.0/8",
              "smtpd_auth_failure_limit": "2",
              "smtpd_auth_failure_delay": "0"}
    with running_instance(mw_bin, params) as inst:
        with RawPOP3(inst.pop3_port) as c:
            c.greeting()
            for _ in range(2):
                c.cmd("USER " + USER)
                assert c.cmd("PASS bad").startswith("-ERR [AUTH]")
            r = c.cmd("USER " + USER)
            assert r.startswith("-ERR [LOGIN-DELAY]"), r
            assert c.at_eof()
