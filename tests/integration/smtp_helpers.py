"""Helpers shared by the SMTP integration tests (test_smtp_*.py and
test_crash.py): instances shared by the tests of a module (plain and with
small limits), a raw-socket SMTP client for protocol edge cases, readers
for the Maildirs and the queue an instance writes, and the split of a
stored message into the headers the server added and the message as sent.
The common fixtures and the Instance class live in conftest.py."""

import os
import re
import shutil
import socket
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

import conftest
from conftest import Instance, maildir_messages, wait_for

HOST = "127.0.0.1"
HELO = "client.test"
SENDER = "sender@example.test"
USERS = sorted(conftest.USERS)  # user1..3@example.test

# How long a message may take from "250 queued" to its Maildir.
DELIVERY_TIMEOUT = 30

_ENH = re.compile(r"^([245])\.\d{1,3}\.\d{1,3}$")


# --- Instances -------------------------------------------------------------
#
# Starting an instance takes a while under ASan (init, three users, serve),
# so the SMTP tests share one per module: each test uses fresh tokens and
# its own sessions, so they do not see each other. A test module opts in by
# importing the fixture (which then overrides conftest's per-test
# "instance"); instances with changed parameters are separate fixtures.

# smtpd_recipient_limit, message_size_limit and smtpd_line_limit of
# limited_instance (the line limit is the smallest allowed: RFC 5321
# 4.5.3.1.4 asks for 512).
LIMITED_RCPT_MAX = 3
LIMITED_SIZE_MAX = 64 * 1024
LIMITED_LINE_MAX = 512
# smtpd_client_connection_count_limit of conn_instance.
CONN_MAX = 2


@contextmanager
def running_instance(mw_bin, params=None):
    """An instance made as conftest's make_instance makes one (init, free
    ports, params, users, serve); stopped and removed on exit, where a
    non-zero exit status of serve fails the test."""
    base = tempfile.mkdtemp(prefix="mw-", dir="/tmp")
    os.chmod(base, 0o755)  # mail_owner reaches the instance through here
    inst = Instance(mw_bin, Path(base) / "inst")
    try:
        inst.init()
        inst.use_free_ports()
        if params:
            inst.set_params(params)
        inst.add_users()
        inst.start()
        yield inst
        status = inst.stop()
        assert status in (None, 0), "serve exited with %s; log:\n%s" % (
            status, inst.log_text()[-4000:])
    finally:
        inst.stop()
        if not os.environ.get("MW_KEEP_INSTANCES"):
            shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module", name="instance")
def module_instance(mw_bin):
    """The default instance, shared by the tests of one module."""
    with running_instance(mw_bin) as inst:
        yield inst


@pytest.fixture(scope="module")
def limited_instance(mw_bin):
    with running_instance(mw_bin, {
            "smtpd_recipient_limit": str(LIMITED_RCPT_MAX),
            "message_size_limit": str(LIMITED_SIZE_MAX),
            "smtpd_line_limit": str(LIMITED_LINE_MAX)}) as inst:
        yield inst


@pytest.fixture(scope="module")
def timeout_instance(mw_bin):
    with running_instance(mw_bin, {"smtpd_timeout": "2s"}) as inst:
        yield inst


@pytest.fixture
def conn_instance(mw_bin):
    """Per test: connections closed by one test must not count in the
    next. One smtpd process, since each smtpd keeps its own count
    (smtp_clients.h)."""
    with running_instance(mw_bin, {
            "smtpd_client_connection_count_limit": str(CONN_MAX),
            "smtpd_processes": "1"}) as inst:
        yield inst


@pytest.fixture(scope="module")
def big_instance(mw_bin):
    """Room for the 20 MB message (the default limit is about 10 MB)."""
    with running_instance(mw_bin, {
            "message_size_limit": str(64 * 1024 * 1024)}) as inst:
        yield inst


@pytest.fixture(scope="module")
def strict_instance(mw_bin):
    with running_instance(mw_bin,
                          {"smtpd_reject_bare_newline": "yes"}) as inst:
        yield inst


# --- Messages and replies --------------------------------------------------

def token():
    """A unique marker to find one message among all stored ones."""
    return "tok-" + uuid.uuid4().hex


class Reply:
    """One SMTP reply: its code and its text lines (without "250-")."""

    def __init__(self, code, lines):
        self.code = code
        self.lines = lines

    @property
    def enh(self):
        """The enhanced status code of the last line (RFC 2034), or None."""
        first = self.lines[-1].split(" ", 1)[0]
        return first if _ENH.match(first) else None

    @property
    def text(self):
        """The last line without its enhanced status code."""
        last = self.lines[-1]
        if self.enh is not None:
            return last.split(" ", 1)[1] if " " in last else ""
        return last

    def __repr__(self):
        return "Reply(%d, %r)" % (self.code, self.lines)


class RawSMTP:
    """An SMTP client on a plain socket: sends exactly the bytes given and
    reads replies one at a time, for pipelining, smuggling and other cases
    smtplib would smooth over."""

    def __init__(self, port, timeout=30):
        self.sock = socket.create_connection((HOST, port), timeout=timeout)
        self.rbuf = b""

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
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("server closed the connection; unread: %r"
                           % self.rbuf)
        self.rbuf += chunk

    def readline(self):
        while b"\r\n" not in self.rbuf:
            self._fill()
        line, self.rbuf = self.rbuf.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def reply(self):
        """Reads one (possibly multi-line) reply."""
        lines, code = [], None
        while True:
            line = self.readline()
            assert len(line) >= 3 and line[:3].isdigit(), \
                "not a reply line: %r" % line
            assert line[3:4] in ("-", " ", ""), "bad reply line: %r" % line
            # RFC 5321 4.2.1: every line of a reply has the same code.
            assert code in (None, int(line[:3])), "code changed: %r" % line
            code = int(line[:3])
            lines.append(line[4:])
            if line[3:4] != "-":
                return Reply(code, lines)

    def cmd(self, line):
        """Sends one command line (CRLF added) and reads its reply."""
        self.send(line + "\r\n")
        return self.reply()

    def expect(self, line, code, enh=None):
        """Sends a command and checks the reply's code and enhanced code."""
        r = self.cmd(line)
        check(r, code, enh, line)
        return r

    def greeting(self):
        r = self.reply()
        check(r, 220, None, "greeting")
        return r

    def ehlo(self, name=HELO):
        return self.expect("EHLO " + name, 250)

    def noop_ok(self):
        """After an error: the session must still work."""
        self.expect("NOOP", 250, "2.0.0")

    def at_eof(self):
        """True when the server closed the connection (nothing unread)."""
        try:
            self._fill()
        except EOFError:
            return True
        except ConnectionResetError:
            return True
        return False

    def read_until_eof(self):
        """All replies the server sends until it closes the connection."""
        replies = []
        while True:
            try:
                replies.append(self.reply())
            except (EOFError, ConnectionResetError):
                assert self.rbuf == b"", "partial reply %r" % self.rbuf
                return replies


def check(r, code, enh=None, what=""):
    assert r.code == code, "%s: expected %d, got %r" % (what, code, r)
    if enh is not None:
        assert r.enh == enh, "%s: expected %s, got %r" % (what, enh, r)


def session(inst, helo=HELO):
    """A RawSMTP greeted and past EHLO."""
    c = RawSMTP(inst.smtp_port)
    c.greeting()
    c.ehlo(helo)
    return c


def queued_id(r):
    """The queue ID in "250 2.0.0 Ok: queued as ID"."""
    check(r, 250, "2.0.0", "end of data")
    m = re.search(r"queued as (\S+)", r.text)
    assert m, "no queue ID in %r" % r
    return m.group(1)


def send_raw_message(c, rcpts, body, sender=SENDER):
    """MAIL, RCPT..., DATA over c; body is already dot-stuffed and ends
    in CRLF. Returns the queue ID."""
    c.expect("MAIL FROM:<%s>" % sender, 250, "2.1.0")
    for a in rcpts:
        c.expect("RCPT TO:<%s>" % a, 250, "2.1.5")
    c.expect("DATA", 354)
    c.send(body if isinstance(body, bytes) else body.encode())
    c.send(b".\r\n")
    return queued_id(c.reply())


# --- Stored messages -------------------------------------------------------

def maildir(inst, addr):
    """The Maildir/ directory of addr in inst."""
    return Path(inst.maildir(addr))


def stored(path):
    """The contents of every message in the Maildir at path (new and cur)."""
    return maildir_messages(path)


def stored_files(path):
    """The file paths of every message in the Maildir at path."""
    out = []
    for sub in ("new", "cur"):
        d = Path(path) / sub
        if d.is_dir():
            out.extend(f for f in sorted(d.iterdir()) if f.is_file())
    return out


def with_token(path, tok):
    """The stored messages at Maildir path that contain tok."""
    t = tok.encode() if isinstance(tok, str) else tok
    return [m for m in stored(path) if t in m]


def wait_stored(inst, addr, tok, timeout=DELIVERY_TIMEOUT):
    """Polls until a message holding tok is in addr's Maildir; returns
    the list of such messages (the caller checks how many)."""
    path = maildir(inst, addr)
    wait_for(lambda: with_token(path, tok), timeout)
    return with_token(path, tok)


def wait_one(inst, addr, tok, timeout=DELIVERY_TIMEOUT):
    """As wait_stored, and checks the message was stored exactly once."""
    msgs = wait_stored(inst, addr, tok, timeout)
    assert len(msgs) == 1, "%d copies of %s for %s" % (len(msgs), tok, addr)
    return msgs[0]


def split_stored(msg):
    """Splits a stored message into (added, rest): added maps the headers
    the server puts in front (Return-Path, Delivered-To, Received) to their
    values, continuation lines joined with "\\n"; rest is the message as
    the client sent it (LF line ends, dot-unstuffed)."""
    added = {}
    pos = 0
    for name in (b"Return-Path", b"Delivered-To", b"Received"):
        prefix = name + b": "
        assert msg.startswith(prefix, pos), \
            "expected %s at offset %d: %r" % (name, pos, msg[pos:pos + 200])
        end = msg.index(b"\n", pos)
        # RFC 5322 2.2.3: a folded header continues on lines starting
        # with white space.
        while msg[end + 1:end + 2] in (b" ", b"\t"):
            end = msg.index(b"\n", end + 1)
        added[name.decode()] = msg[pos + len(prefix):end].decode(
            "utf-8", "replace")
        pos = end + 1
    return added, msg[pos:]


# --- The queue -------------------------------------------------------------

def queue_dir(inst):
    return Path(inst.dir) / "queue"


def queue_pending(inst):
    """Committed messages not yet delivered (docs/queue.md): the files in
    active/ and defer/."""
    out = []
    for sub in ("active", "defer"):
        d = queue_dir(inst) / sub
        if d.is_dir():
            out.extend(p for p in d.iterdir() if p.is_file())
    return out


def wait_queue_drained(inst, timeout=DELIVERY_TIMEOUT):
    wait_for(lambda: not queue_pending(inst), timeout)


def crlf(text):
    """text with LF line ends turned into CRLF, as bytes."""
    if isinstance(text, str):
        text = text.encode("utf-8")
    return text.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def message(tok, subject="test", extra=b""):
    """A small RFC 5322 message holding tok, CRLF line ends."""
    return crlf(("From: <%s>\nTo: <user1@example.test>\nSubject: %s %s\n"
                 "Message-ID: <%s@client.test>\n\nbody %s\n"
                 % (SENDER, subject, tok, tok, tok)).encode() + extra)
