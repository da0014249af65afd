"""SMTP limits, each at max-1, max and max+1 where it has an edge:
message_size_limit (SIZE, DATA and BDAT bodies: 552 5.3.4), the command
line length (500 5.5.2), smtpd_timeout (421 4.4.2) and
smtpd_client_connection_count_limit (421 4.7.0). Each limit runs on an
instance started with a small value (smtp_helpers)."""

import socket

import pytest

from conftest import wait_for
from smtp_helpers import (LIMITED_LINE_MAX, LIMITED_SIZE_MAX, CONN_MAX,
                          SENDER, RawSMTP, check, conn_instance,  # noqa: F401
                          limited_instance, maildir, queued_id,  # noqa: F401
                          session, split_stored, timeout_instance,  # noqa: F401
                          token, wait_one, wait_queue_drained, with_token)

RCPT = "user1@example.test"


def body_of_size(n, tok):
    """A body whose stored form (LF line ends) is exactly n bytes: returns
    (what to send, CRLF and dot-stuffed, without the end marker, and what
    is stored). Lines of at most 999 octets; the token comes first."""
    head = b"Subject: " + tok + b"\n\n"
    assert n >= len(head) + 2
    lines = [head]
    left = n - len(head)
    while left > 0:
        size = min(999, left)
        lines.append(b"y" * (size - 1) + b"\n")
        left -= size
    stored = b"".join(lines)
    assert len(stored) == n
    return stored.replace(b"\n", b"\r\n"), stored


def received_size(inst, c):
    """The bytes the server puts before the message in its queue file
    (the Received: header): measured on a probe message, since the limit
    counts them too (as Postfix does)."""
    tok = token().encode()
    sent, stored = body_of_size(100, tok)
    c.expect("MAIL FROM:<%s>" % SENDER, 250, "2.1.0")
    c.expect("RCPT TO:<%s>" % RCPT, 250, "2.1.5")
    c.expect("DATA", 354)
    c.send(sent + b".\r\n")
    queued_id(c.reply())
    msg = wait_one(inst, RCPT, tok)
    _, rest = split_stored(msg)
    assert rest == stored
    return len(msg) - msg.index(b"Received: ") - len(rest)


# --- message_size_limit ----------------------------------------------------

def test_ehlo_announces_the_configured_size(limited_instance):
    with RawSMTP(limited_instance.smtp_port) as c:
        c.greeting()
        r = c.ehlo()
        assert "SIZE %d" % LIMITED_SIZE_MAX in r.lines, r


@pytest.mark.parametrize("delta,code", [(-1, 250), (0, 250), (1, 552)])
def test_mail_size_at_limit(limited_instance, delta, code):
    with session(limited_instance) as c:
        r = c.expect("MAIL FROM:<%s> SIZE=%d" % (SENDER,
                                                  LIMITED_SIZE_MAX + delta),
                     code)
        if code == 552:
            assert r.enh == "5.3.4", r
            c.noop_ok()
            c.expect("RCPT TO:<%s>" % RCPT, 503, "5.5.1")


@pytest.mark.parametrize("delta,code", [(-1, 250), (0, 250), (1, 552)])
def test_data_body_at_size_limit(limited_instance, delta, code):
    with session(limited_instance) as c:
        overhead = received_size(limited_instance, c)
        tok = token().encode()
        sent, stored = body_of_size(LIMITED_SIZE_MAX - overhead + delta, tok)
        c.expect("MAIL FROM:<%s>" % SENDER, 250, "2.1.0")
        c.expect("RCPT TO:<%s>" % RCPT, 250, "2.1.5")
        c.expect("DATA", 354)
        c.send(sent + b".\r\n")
        r = c.reply()
        check(r, code, "2.0.0" if code == 250 else "5.3.4")
        c.noop_ok()
        if code == 250:
            assert split_stored(wait_one(limited_instance, RCPT, tok))[1] \
                == stored
            return
        # Refused: nothing stored, and the next message goes through.
        ok = token().encode()
        c.expect("MAIL FROM:<%s>" % SENDER, 250, "2.1.0")
        c.expect("RCPT TO:<%s>" % RCPT, 250, "2.1.5")
        c.expect("DATA", 354)
        c.send(b"Subject: " + ok + b"\r\n\r\nok\r\n.\r\n")
        queued_id(c.reply())
    wait_one(limited_instance, RCPT, ok)
    wait_queue_drained(limited_instance)
    assert with_token(maildir(limited_instance, RCPT), tok) == []


def test_data_far_over_size_limit_reads_to_the_end(limited_instance):
    # The server must keep reading (and dropping) until <CRLF>.<CRLF>.
    tok = token().encode()
    sent, _ = body_of_size(LIMITED_SIZE_MAX * 8, tok)
    with session(limited_instance) as c:
        c.expect("MAIL FROM:<%s>" % SENDER, 250, "2.1.0")
        c.expect("RCPT TO:<%s>" % RCPT, 250, "2.1.5")
        c.expect("DATA", 354)
        c.send(sent + b".\r\nNOOP\r\n")
        check(c.reply(), 552, "5.3.4")
        check(c.reply(), 250, "2.0.0")


def test_bdat_chunk_over_size_limit_gets_552_5_3_4(limited_instance):
    tok = token().encode()
    chunk = b"Subject: " + tok + b"\r\n\r\n" + b"z" * LIMITED_SIZE_MAX
    with session(limited_instance) as c:
        c.expect("MAIL FROM:<%s>" % SENDER, 250, "2.1.0")
        c.expect("RCPT TO:<%s>" % RCPT, 250, "2.1.5")
        # The chunk is read and dropped, so the next command is found.
        c.send(b"BDAT %d\r\n" % len(chunk) + chunk + b"NOOP\r\n")
        check(c.reply(), 552, "5.3.4")
        check(c.reply(), 250, "2.0.0")
        # RFC 3030 2: the failed chunk ended the transaction.
        c.send(b"BDAT 3 LAST\r\nx\r\n")
        check(c.reply(), 503, "5.5.1")
        c.noop_ok()


def test_bdat_chunks_crossing_size_limit_get_552_5_3_4(limited_instance):
    tok = token().encode()
    half = b"Subject: " + tok + b"\r\n\r\n" + b"h" * (LIMITED_SIZE_MAX // 2)
    with session(limited_instance) as c:
        c.expect("MAIL FROM:<%s>" % SENDER, 250, "2.1.0")
        c.expect("RCPT TO:<%s>" % RCPT, 250, "2.1.5")
        c.send(b"BDAT %d\r\n" % len(half) + half)
        check(c.reply(), 250, "2.0.0")
        c.send(b"BDAT %d LAST\r\n" % len(half) + half)
        check(c.reply(), 552, "5.3.4")
        c.noop_ok()
    wait_queue_drained(limited_instance)
    assert with_token(maildir(limited_instance, RCPT), tok) == []


# --- command line length ---------------------------------------------------

@pytest.mark.parametrize("delta,code", [(-1, 250), (0, 250), (1, 500)])
def test_command_line_at_length_limit(limited_instance, delta, code):
    # RFC 5321 4.5.3.1.4: at least 512 octets; the CRLF is not counted.
    line = "NOOP " + "n" * (LIMITED_LINE_MAX + delta - 5)
    assert len(line) == LIMITED_LINE_MAX + delta
    with session(limited_instance) as c:
        r = c.expect(line, code)
        if code == 500:
            assert r.enh == "5.5.2", r
        c.noop_ok()


def test_huge_command_line_gets_one_500_5_5_2(limited_instance):
    with session(limited_instance) as c:
        c.send("NOOP " + "h" * 300000)
        c.send("\r\nNOOP\r\n")
        check(c.reply(), 500, "5.5.2")
        check(c.reply(), 250, "2.0.0")
        c.noop_ok()


def test_long_line_in_pipelined_group_gets_500_in_order(limited_instance):
    with session(limited_instance) as c:
        c.send("NOOP\r\nMAIL FROM:<%s%s>\r\nRCPT TO:<%s>\r\nNOOP\r\n"
               % ("l" * LIMITED_LINE_MAX, SENDER, RCPT))
        check(c.reply(), 250, "2.0.0")
        check(c.reply(), 500, "5.5.2")
        # The refused MAIL started no transaction.
        check(c.reply(), 503, "5.5.1")
        check(c.reply(), 250, "2.0.0")


# --- smtpd_timeout ---------------------------------------------------------

def test_idle_session_gets_421_4_4_2_and_close(timeout_instance):
    with RawSMTP(timeout_instance.smtp_port) as c:
        c.greeting()
        c.ehlo()
        replies = c.read_until_eof()
        assert len(replies) == 1, replies
        check(replies[0], 421, "4.4.2")


def test_idle_in_data_gets_421_4_4_2_and_nothing_is_queued(timeout_instance):
    tok = token().encode()
    with session(timeout_instance) as c:
        c.expect("MAIL FROM:<%s>" % SENDER, 250, "2.1.0")
        c.expect("RCPT TO:<%s>" % RCPT, 250, "2.1.5")
        c.expect("DATA", 354)
        c.send(b"Subject: " + tok + b"\r\n\r\nhalf a message\r\n")
        replies = c.read_until_eof()
        assert len(replies) == 1, replies
        check(replies[0], 421, "4.4.2")
    ok = token().encode()
    with session(timeout_instance) as c:
        c.expect("MAIL FROM:<%s>" % SENDER, 250, "2.1.0")
        c.expect("RCPT TO:<%s>" % RCPT, 250, "2.1.5")
        c.expect("DATA", 354)
        c.send(b"Subject: " + ok + b"\r\n\r\nok\r\n.\r\n")
        queued_id(c.reply())
    wait_one(timeout_instance, RCPT, ok)
    wait_queue_drained(timeout_instance)
    assert with_token(maildir(timeout_instance, RCPT), tok) == []


# --- smtpd_client_connection_count_limit ----------------------------------

def connect(inst):
    """A connection and its first reply (220, or a 421 refusal)."""
    c = RawSMTP(inst.smtp_port)
    return c, c.reply()


def test_connections_up_to_limit_get_220(conn_instance):
    held = []
    try:
        for _ in range(CONN_MAX):
            c, r = connect(conn_instance)
            held.append(c)
            check(r, 220)
        for c in held:
            c.noop_ok()
    finally:
        for c in held:
            c.close()


def test_connection_over_limit_gets_421_4_7_0(conn_instance):
    held = []
    try:
        for _ in range(CONN_MAX):
            c, r = connect(conn_instance)
            held.append(c)
            check(r, 220)
        extra = RawSMTP(conn_instance.smtp_port)
        held.append(extra)
        replies = extra.read_until_eof()
        assert len(replies) == 1, replies
        check(replies[0], 421, "4.7.0")
        # The sessions within the limit are untouched.
        for c in held[:-1]:
            c.noop_ok()
        # Once one closes, a new connection is welcome again (the server
        # sees the close asynchronously: poll).
        held[0].expect("QUIT", 221, "2.0.0")

        def welcomed():
            c, r = connect(conn_instance)
            if r.code == 220:
                held.append(c)
                return True
            c.close()
            return False
        wait_for(welcomed, 10)
        held[-1].noop_ok()
    finally:
        for c in held:
            c.close()


def test_connection_limit_frees_slots_of_dropped_clients(conn_instance):
    # Clients that vanish without QUIT give their slots back.
    for _ in range(3 * CONN_MAX):
        def welcomed():
            c, r = connect(conn_instance)
            c.sock.shutdown(socket.SHUT_RDWR)
            c.close()
            return r.code == 220
        wait_for(welcomed, 10)
