"""Helpers shared by the IMAP integration tests (test_imap_*.py): module
instances (plaintext logins allowed from loopback, or the defaults that
refuse them before TLS), imaplib connections, putting messages into a
Maildir the way a delivery agent does, and a raw-socket IMAP client for
what imaplib cannot do (literals by hand, pipelining, IDLE, bad input)."""

import imaplib
import re
import socket
import ssl

import pytest

from conftest import USERS
from pop3_helpers import (client_ctx, clear_maildir, crlf,  # noqa: F401
                          maildir_files, message, put_message, token,
                          wait_log)
from smtp_helpers import running_instance

HOST = "127.0.0.1"
USER, PASSWORD = "user1@example.test", USERS["user1@example.test"]
USER2, PASSWORD2 = "user2@example.test", USERS["user2@example.test"]
USER3, PASSWORD3 = "user3@example.test", USERS["user3@example.test"]
BIG_LIMIT = 40 * 1024 * 1024

TRUSTED = {
    "imap_plaintext_auth_networks": "127.0.0.0/8",
    "pop3_plaintext_auth_networks": "127.0.0.0/8",
    "message_size_limit": str(BIG_LIMIT),
    "smtpd_auth_failure_delay": "0",
}


@pytest.fixture(scope="module")
def iinst(mw_bin):
    """An instance that allows plaintext IMAP logins from loopback."""
    with running_instance(mw_bin, TRUSTED) as inst:
        yield inst


@pytest.fixture(scope="module")
def default_inst(mw_bin):
    """An instance with IMAP's defaults: no plaintext login before TLS."""
    with running_instance(mw_bin, {"smtpd_auth_failure_delay": "0"}) as inst:
        yield inst


def connect(inst, user=USER, password=PASSWORD, tls=False):
    """A logged-in imaplib connection (imaps when tls)."""
    if tls:
        m = imaplib.IMAP4_SSL(HOST, inst.ports["imaps_port"],
                              ssl_context=client_ctx())
    else:
        m = imaplib.IMAP4(HOST, inst.ports["imap_port"])
    if user is not None:
        typ, _ = m.login(user, password)
        assert typ == "OK"
    return m


def ok(r):
    """Asserts an imaplib (typ, data) result is OK; returns data."""
    typ, data = r
    assert typ == "OK", (typ, data)
    return data


class RawIMAP:
    """A line-level IMAP client over a plain or TLS socket: send() what
    you like, read lines, and cmd() a tagged command up to its tagged
    reply (literals in responses are kept inline)."""

    def __init__(self, port, tls=False, timeout=60):
        self.sock = socket.create_connection((HOST, port), timeout=timeout)
        if tls:
            self.sock = client_ctx().wrap_socket(self.sock)
        self.buf = b""
        self.n = 0

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def starttls(self):
        self.sock = client_ctx().wrap_socket(self.sock)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def _fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise EOFError("connection closed; have %r" % self.buf[-300:])
        self.buf += chunk

    def read_bytes(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def readline(self):
        """One response line as bytes without CRLF; a literal's octets
        ({n} at the end of a line) are read and kept inline."""
        out = b""
        while True:
            while b"\r\n" not in self.buf:
                self._fill()
            line, self.buf = self.buf.split(b"\r\n", 1)
            out += line
            m = re.search(rb"~?\{(\d+)\}$", line)
            if not m:
                return out
            out += b"\r\n" + self.read_bytes(int(m.group(1)))

    def greeting(self):
        g = self.readline()
        assert g.startswith(b"* OK"), g
        return g

    def tag(self):
        self.n += 1
        return "t%d" % self.n

    def cmd(self, line, tag=None):
        """Sends "tag line" and reads up to the tagged reply: returns
        (untagged lines, tagged line), both bytes."""
        tag = tag or self.tag()
        self.send("%s %s\r\n" % (tag, line) if isinstance(line, str)
                  else tag.encode() + b" " + line + b"\r\n")
        return self.until(tag)

    def until(self, tag):
        tag = tag.encode() if isinstance(tag, str) else tag
        lines = []
        while True:
            line = self.readline()
            if line.startswith(tag + b" "):
                return lines, line
            lines.append(line)

    def at_eof(self):
        try:
            return self.sock.recv(1) == b""
        except (ConnectionResetError, ssl.SSLError):
            return True

    def login(self, user=USER, password=PASSWORD):
        _, t = self.cmd('LOGIN "%s" "%s"' % (user, password))
        assert b" OK " in t, t
        return t
