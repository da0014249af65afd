"""Helpers shared by the POP3 integration tests (test_pop3_*.py): module
instances (plaintext logins allowed from loopback, or the default that
refuses them before TLS), putting messages into a Maildir the way a
delivery agent does (tmp/, then rename into new/) or delivering them by
SMTP, and a raw-socket POP3 client for what poplib cannot do (SASL,
pipelining, overlong lines)."""

import base64
import os
import socket
import ssl
import time
import uuid
from pathlib import Path

import pytest

from conftest import USERS, wait_for
from smtp_helpers import running_instance

HOST = "127.0.0.1"
USER, PASSWORD = "user1@example.test", USERS["user1@example.test"]
USER2, PASSWORD2 = "user2@example.test", USERS["user2@example.test"]
USER3, PASSWORD3 = "user3@example.test", USERS["user3@example.test"]
# message_size_limit of the POP3 instances: room for the 20 MB test.
BIG_LIMIT = 40 * 1024 * 1024

TRUSTED = {
    "pop3_plaintext_auth_networks": "127.0.0.0/8",
    "message_size_limit": str(BIG_LIMIT),
    "smtpd_auth_failure_delay": "0",
    "pop3_sasl_mechanisms": "PLAIN, LOGIN, SCRAM-SHA-256",
}


def client_ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


def token():
    return "tok-" + uuid.uuid4().hex[:12]


@pytest.fixture(scope="module")
def pinst(mw_bin):
    """An instance that allows plaintext POP3 logins from loopback."""
    with running_instance(mw_bin, TRUSTED) as inst:
        yield inst


@pytest.fixture(scope="module")
def default_inst(mw_bin):
    """An instance with POP3's defaults: no plaintext login before TLS."""
    with running_instance(mw_bin, {"smtpd_auth_failure_delay": "0"}) as inst:
        yield inst


def _chown_like(path, ref):
    st = os.stat(ref)
    if os.geteuid() == 0:
        os.chown(path, st.st_uid, st.st_gid)


_seq = 0


def put_message(inst, addr, data):
    """Writes data (bytes, LF line ends as a delivery agent stores them)
    into addr's Maildir new/ (tmp/ first, then rename), owned by the
    mail_owner. Returns the file name."""
    md = Path(inst.maildir(addr))
    ref = inst.dir / "mail"
    for d in (md.parent.parent, md.parent, md, md / "tmp", md / "new",
              md / "cur"):
        if not d.is_dir():
            d.mkdir(mode=0o700)
            _chown_like(d, ref)
    global _seq
    _seq += 1
    # Maildir names sort in delivery order: time, then a sequence
    name = "%d.M%06dP%d.pop3test" % (time.time(), _seq, os.getpid())
    tmp = md / "tmp" / name
    tmp.write_bytes(data)
    _chown_like(tmp, ref)
    os.rename(tmp, md / "new" / name)
    return name


def message(tok, body_lines=3, extra=b""):
    """A small message holding tok: headers, a blank line, body lines."""
    head = ("From: a@example.test\nTo: %s\nSubject: %s\n\n" % (USER, tok))
    body = "".join("line %d of %s\n" % (i, tok) for i in range(body_lines))
    return head.encode() + body.encode() + extra


def crlf(data):
    """The CRLF form POP3 sends (and counts) of a stored LF message."""
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def maildir_files(inst, addr):
    md = Path(inst.maildir(addr))
    out = []
    for sub in ("new", "cur"):
        d = md / sub
        if d.is_dir():
            out.extend(sorted(f.name for f in d.iterdir()))
    return out


def clear_maildir(inst, addr):
    md = Path(inst.maildir(addr))
    for sub in ("new", "cur"):
        d = md / sub
        if d.is_dir():
            for f in d.iterdir():
                f.unlink()


class RawPOP3:
    """A line-level POP3 client over a plain or TLS socket."""

    def __init__(self, port, tls=False, timeout=60):
        self.sock = socket.create_connection((HOST, port), timeout=timeout)
        if tls:
            self.sock = client_ctx().wrap_socket(self.sock)
        self.buf = b""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def readline(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed; have %r" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def multiline(self):
        """The lines of a multi-line body up to ".", dot-unstuffed."""
        out = []
        while True:
            line = self.readline()
            if line == ".":
                return out
            out.append(line[1:] if line.startswith(".") else line)

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.readline()

    def greeting(self):
        g = self.readline()
        assert g.startswith("+OK"), g
        return g

    def at_eof(self):
        """True when the server has closed (nothing more comes)."""
        try:
            return self.sock.recv(1) == b""
        except (ConnectionResetError, ssl.SSLError):
            return True

    def login(self, user=USER, password=PASSWORD):
        assert self.cmd("USER " + user).startswith("+OK")
        r = self.cmd("PASS " + password)
        assert r.startswith("+OK"), r
        return r


def wait_log(inst, text, timeout=30):
    """Polls the instance log until it holds text; returns the log."""
    return wait_for(lambda: inst.log_text() if text in inst.log_text()
                    else None, timeout, what="%r in the log" % text)
