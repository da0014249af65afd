"""RETR and TOP of large and awkward messages (RFC 1939 7): a 20 MB
message comes out byte-exact (CRLF, dot-stuffing undone by the client),
stored CRLF is not doubled, and a client that stops reading does not make
the server read the whole file into its buffers."""

import re
import socket

from conftest import wait_for
from pop3_helpers import (PASSWORD3, USER3, RawPOP3, clear_maildir, crlf,
                          pinst, put_message, token, wait_log)


def big_message(size):
    """A message of about size bytes: headers, then lines of varied
    length, many starting with '.', one a lone '.'."""
    tok = token()
    out = [b"From: a@example.test\nSubject: big %s\n\n" % tok.encode()]
    n, i = len(out[0]), 0
    while n < size:
        i += 1
        if i % 7 == 0:
            line = b"." + b"x" * (i % 90) + b"\n"
        elif i % 1001 == 0:
            line = b".\n"
        else:
            line = (b"%08d " % i) + bytes(range(33, 33 + i % 90)) + b"\n"
        out.append(line)
        n += len(line)
    return b"".join(out)


def read_multiline(c):
    """The raw bytes of a multi-line response body up to CRLF.CRLF, with
    dot-stuffing undone."""
    buf = c.buf
    while not (buf.endswith(b"\r\n.\r\n") or buf == b".\r\n"):
        chunk = c.sock.recv(1 << 20)
        assert chunk, "connection closed mid-response"
        buf += chunk
    c.buf = b""
    body = buf[:-3]
    if body.startswith(b"."):
        body = body[1:]
    return body.replace(b"\r\n.", b"\r\n")


def test_20mb_message_is_byte_exact(pinst):
    clear_maildir(pinst, USER3)
    data = big_message(20 * 1024 * 1024)
    put_message(pinst, USER3, data)
    with RawPOP3(pinst.pop3_port) as c:
        c.greeting()
        c.login(USER3, PASSWORD3)
        want = crlf(data)
        assert c.cmd("LIST 1") == "+OK 1 %d" % len(want)
        assert c.cmd("RETR 1") == "+OK %d octets" % len(want)
        got = read_multiline(c)
        assert len(got) == len(want)
        assert got == want
        assert c.cmd("TOP 1 3").startswith("+OK")
        top = read_multiline(c)
        head, body = want.split(b"\r\n\r\n", 1)
        assert top == head + b"\r\n\r\n" + \
            b"".join(body.split(b"\r\n", 3)[:3][i] + b"\r\n"
                     for i in range(3))
        assert c.cmd("QUIT").startswith("+OK")
    clear_maildir(pinst, USER3)


def test_stored_crlf_is_not_doubled(pinst):
    clear_maildir(pinst, USER3)
    data = b"Subject: crlf\r\n\r\nline one\r\n.dot\r\nbare lf\nend"
    put_message(pinst, USER3, data)
    with RawPOP3(pinst.pop3_port) as c:
        c.greeting()
        c.login(USER3, PASSWORD3)
        assert c.cmd("RETR 1").startswith("+OK")
        got = read_multiline(c)
        assert got == b"Subject: crlf\r\n\r\nline one\r\n.dot\r\n" \
            b"bare lf\r\nend\r\n"
    clear_maildir(pinst, USER3)


def rchar(pid):
    with open("/proc/%d/io" % pid) as f:
        return int(re.search(r"^rchar: (\d+)$", f.read(), re.M).group(1))


def test_client_that_stops_reading_bounds_the_server(pinst):
    clear_maildir(pinst, USER3)
    data = big_message(24 * 1024 * 1024)
    put_message(pinst, USER3, data)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
    sock.settimeout(60)
    sock.connect(("127.0.0.1", pinst.pop3_port))
    c = RawPOP3.__new__(RawPOP3)
    c.sock, c.buf = sock, b""
    with c:
        c.greeting()
        c.login(USER3, PASSWORD3)
        log = wait_log(pinst, "Login: user=<%s>" % USER3)
        pid = int(re.findall(r"Login: user=<%s>.*mpid=(\d+)" % USER3,
                             log)[-1])
        before = rchar(pid)
        c.send("RETR 1\r\n")
        # the server reads while the socket buffers take it, then waits
        last = [None, 0]

        def settled():
            now = rchar(pid)
            if now == last[0]:
                last[1] += 1
            else:
                last[0], last[1] = now, 0
            return last[1] >= 20
        wait_for(settled, 60, interval=0.05,
                 what="pop3d to stop reading the file")
        read = last[0] - before
        # kernel buffers (a few MB at most) + our bound (256 KiB) + a
        # chunk; never the whole 24 MB
        assert read < 12 * 1024 * 1024, read
        assert c.readline().startswith("+OK")
        got = read_multiline(c)
        assert got == crlf(data)
        assert c.cmd("NOOP").startswith("+OK")
    clear_maildir(pinst, USER3)
