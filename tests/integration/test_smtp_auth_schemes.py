"""SMTP AUTH against every stored password form: hashes imported from
Dovecot or /etc/shadow ({SHA512-CRYPT}, {BLF-CRYPT}) with
`user add --hashed`, and SCRAM-SHA-256 (RFC 5802, RFC 7677) credentials
made with `user add --scheme SCRAM-SHA-256`, driven by a SCRAM client
written here from the RFC."""

import base64
import hashlib
import hmac
import os
import smtplib
import ssl
import subprocess
import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt


def client_ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


@pytest.fixture(scope="module")
def inst(mw_bin):
    from smtp_helpers import running_instance
    with running_instance(mw_bin, {
            "smtpd_sasl_mechanisms": "PLAIN, LOGIN, SCRAM-SHA-256",
            "smtpd_auth_failure_delay": "0"}) as i:
        yield i


def login_plain(inst, user, password):
    with smtplib.SMTP_SSL("127.0.0.1", inst.smtps_port, timeout=30,
                          context=client_ctx()) as c:
        c.ehlo("client.test")
        code, _ = c.docmd("AUTH", "PLAIN " + base64.b64encode(
            ("\0%s\0%s" % (user, password)).encode()).decode())
        return code


def add_hashed(inst, user, stored):
    out = inst.cli("user", "add", "--hashed", user, input=stored + "\n")
    assert out.returncode == 0, out


def test_imported_sha512_crypt_hash_logs_in(inst):
    h = subprocess.run(["openssl", "passwd", "-6", "-salt", "saltsalt",
                        "pw-sha512"], capture_output=True, check=True,
                       text=True).stdout.strip()
    add_hashed(inst, "sha512@example.test", "{SHA512-CRYPT}" + h)
    assert login_plain(inst, "sha512@example.test", "pw-sha512") == 235
    assert login_plain(inst, "sha512@example.test", "wrong") == 535


def test_imported_blf_crypt_hash_logs_in(inst):
    h = crypt.crypt("pw-blf", crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16))
    if not h or not h.startswith("$2"):
        pytest.skip("this libcrypt cannot make bcrypt hashes")
    add_hashed(inst, "blf@example.test", "{BLF-CRYPT}" + h)
    assert login_plain(inst, "blf@example.test", "pw-blf") == 235
    assert login_plain(inst, "blf@example.test", "wrong") == 535


def test_garbage_hash_is_refused_by_the_cli(inst):
    out = inst.cli("user", "add", "--hashed", "bad@example.test",
                   input="{SHA512-CRYPT}not-a-hash\n")
    assert out.returncode == 1
    assert len(out.stderr.strip().splitlines()) == 1


def scram_login(inst, user, password, proof_ok=True):
    """RFC 5802 5: client-first, server-first, client-final, server-final."""
    b64 = lambda b: base64.b64encode(b).decode()
    with smtplib.SMTP_SSL("127.0.0.1", inst.smtps_port, timeout=30,
                          context=client_ctx()) as c:
        c.ehlo("client.test")
        assert "SCRAM-SHA-256" in c.esmtp_features["auth"].upper()
        cnonce = b64(os.urandom(18))
        bare = "n=%s,r=%s" % (user, cnonce)
        code, msg = c.docmd("AUTH", "SCRAM-SHA-256 " +
                            b64(("n,," + bare).encode()))
        assert code == 334, (code, msg)
        server_first = base64.b64decode(msg).decode()
        attrs = dict(a.split("=", 1) for a in server_first.split(","))
        assert attrs["r"].startswith(cnonce)
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
        code, msg = c.docmd(b64((final_bare + ",p=" + b64(proof)).encode()))
        if code != 334:
            return code, None
        server_key = hmac.new(salted, b"Server Key", "sha256").digest()
        want = b64(hmac.new(server_key, auth_msg, "sha256").digest())
        server_final = base64.b64decode(msg).decode()
        code, _ = c.docmd("")
        return code, server_final == "v=" + want


def test_scram_sha_256_logs_in_and_proves_the_server(inst):
    out = inst.cli("user", "add", "--scheme", "SCRAM-SHA-256",
                   "scram@example.test", input="pw-scram\n")
    assert out.returncode == 0, out
    code, server_ok = scram_login(inst, "scram@example.test", "pw-scram")
    assert code == 235 and server_ok
    # PLAIN works against SCRAM credentials too
    assert login_plain(inst, "scram@example.test", "pw-scram") == 235


def test_scram_wrong_proof_gets_535(inst):
    inst.cli("user", "add", "--scheme", "SCRAM-SHA-256",
             "scram2@example.test", input="pw-scram2\n")
    code, _ = scram_login(inst, "scram2@example.test", "pw-scram2",
                          proof_ok=False)
    assert code == 535


def test_scram_unknown_user_gets_535(inst):
    code, _ = scram_login(inst, "nobody@example.test", "x")
    assert code == 535
