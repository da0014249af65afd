"""DATA (RFC 5321 4.1.1.4): the 354/250 exchange, dot-unstuffing
(RFC 5321 4.5.2), line ends, 8-bit bodies (RFC 6152), pipelining
(RFC 2920), bodies split across writes, an aborted body, and a 20 MB
message that must arrive byte-exact."""

import os
import random
import smtplib
import socket

import pytest

from smtp_helpers import (HELO, SENDER, big_instance, check,  # noqa: F401
                          maildir, message, queued_id, session, split_stored,
                          token, wait_one, wait_queue_drained, with_token)
# One instance shared by this module's tests (smtp_helpers).
from smtp_helpers import module_instance  # noqa: F401

RCPT = "user1@example.test"


def body_of(msg):
    """The message as the client sent it (server's headers removed)."""
    return split_stored(msg)[1]


def data_exchange(c, body, rcpts=(RCPT,), sender=SENDER):
    """MAIL/RCPT/DATA, then body as given (it must carry its own end)."""
    c.expect("MAIL FROM:<%s>" % sender, 250, "2.1.0")
    for a in rcpts:
        c.expect("RCPT TO:<%s>" % a, 250, "2.1.5")
    c.expect("DATA", 354)
    c.send(body)
    return c.reply()


def test_data_gets_354_then_250_2_0_0_queued_as_id(instance):
    tok = token()
    with session(instance) as c:
        c.expect("MAIL FROM:<%s>" % SENDER, 250, "2.1.0")
        c.expect("RCPT TO:<%s>" % RCPT, 250, "2.1.5")
        r = c.expect("DATA", 354)
        assert r.enh is None
        c.send(message(tok) + b".\r\n")
        qid = queued_id(c.reply())
        assert qid.isalnum(), qid
        c.noop_ok()
    msg = wait_one(instance, RCPT, tok)
    assert body_of(msg) == message(tok).replace(b"\r\n", b"\n")


def test_data_queue_ids_are_unique(instance):
    ids = set()
    with session(instance) as c:
        for _ in range(5):
            r = data_exchange(c, message(token()) + b".\r\n")
            ids.add(queued_id(r))
    assert len(ids) == 5


def test_data_sent_with_smtplib_is_delivered(instance):
    tok = token()
    with smtplib.SMTP("127.0.0.1", instance.smtp_port, HELO) as s:
        refused = s.sendmail(SENDER, [RCPT], message(tok))
        assert refused == {}
    wait_one(instance, RCPT, tok)


@pytest.mark.parametrize("sent,kept", [
    (b"..leading dot\r\n", b".leading dot\n"),
    (b"..\r\n", b".\n"),
    (b"...\r\n", b"..\n"),
    (b". \r\n", b" \n"),
    # RFC 5321 4.5.2: a first dot is dropped even if the client forgot
    # to stuff it.
    (b".unstuffed\r\n", b"unstuffed\n"),
    (b"no.dot.first\r\n", b"no.dot.first\n"),
])
def test_data_dot_unstuffing(instance, sent, kept):
    tok = token().encode()
    head = b"Subject: " + tok + b"\r\n\r\n"
    with session(instance) as c:
        check(data_exchange(c, head + sent + b"end\r\n.\r\n"), 250, "2.0.0")
    msg = wait_one(instance, RCPT, tok)
    assert body_of(msg) == b"Subject: " + tok + b"\n\n" + kept + b"end\n"


def test_data_empty_message_is_accepted(instance):
    with session(instance) as c:
        c.expect("MAIL FROM:<empty-%s@example.test>" % token(), 250,
                 "2.1.0")
        c.expect("RCPT TO:<%s>" % RCPT, 250, "2.1.5")
        c.expect("DATA", 354)
        c.send(b".\r\n")
        queued_id(c.reply())
        c.noop_ok()


def test_data_line_ends_are_stored_as_lf(instance):
    tok = token().encode()
    sent = (b"Subject: " + tok + b"\r\n\r\nbare lf\nbare cr\rcrlf\r\n"
            b"cr cr lf\r\r\nlast\r\n.\r\n")
    with session(instance) as c:
        check(data_exchange(c, sent), 250, "2.0.0")
    msg = wait_one(instance, RCPT, tok)
    # A bare LF is a line end (normalised); a bare CR is content.
    assert body_of(msg) == (b"Subject: " + tok + b"\n\nbare lf\nbare cr\r"
                            b"crlf\ncr cr lf\r\nlast\n")


def test_data_8bit_body_is_kept(instance):
    tok = token().encode()
    body = bytes(b for b in range(0x80, 0x100) if b not in (0x0d, 0x0a))
    sent = b"Subject: " + tok + b"\r\n\r\n" + body + b"\r\n\xc3\xa9t\xc3\xa9\r\n"
    with session(instance) as c:
        c.expect("MAIL FROM:<%s> BODY=8BITMIME" % SENDER, 250, "2.1.0")
        c.expect("RCPT TO:<%s>" % RCPT, 250, "2.1.5")
        c.expect("DATA", 354)
        c.send(sent + b".\r\n")
        check(c.reply(), 250, "2.0.0")
    msg = wait_one(instance, RCPT, tok)
    assert body_of(msg) == sent.replace(b"\r\n", b"\n")


def test_data_without_final_newline_in_body(instance):
    # The CRLF before "." belongs to the end marker (RFC 5321 4.1.1.4).
    tok = token().encode()
    with session(instance) as c:
        check(data_exchange(c, b"Subject: " + tok + b"\r\n\r\nx\r\n.\r\n"),
              250, "2.0.0")
    assert body_of(wait_one(instance, RCPT, tok)).endswith(b"\n\nx\n")


def test_data_with_argument_gets_501_5_5_4(instance):
    with session(instance) as c:
        c.expect("MAIL FROM:<%s>" % SENDER, 250, "2.1.0")
        c.expect("RCPT TO:<%s>" % RCPT, 250, "2.1.5")
        c.expect("DATA now", 501, "5.5.4")
        c.noop_ok()
        c.expect("DATA", 354)
        c.send(b"x\r\n.\r\n")
        check(c.reply(), 250, "2.0.0")


def test_data_end_marker_split_across_writes(instance):
    tok = token().encode()
    with session(instance) as c:
        c.expect("MAIL FROM:<%s>" % SENDER, 250, "2.1.0")
        c.expect("RCPT TO:<%s>" % RCPT, 250, "2.1.5")
        c.expect("DATA", 354)
        c.send(b"Subject: " + tok + b"\r\n\r\nline")
        for b in b"\r\n.\r\n":
            c.send(bytes([b]))
        check(c.reply(), 250, "2.0.0")
        c.noop_ok()
    assert body_of(wait_one(instance, RCPT, tok)).endswith(b"\n\nline\n")


def test_data_body_sent_byte_by_byte(instance):
    tok = token().encode()
    sent = b"Subject: " + tok + b"\r\n\r\n..a\r\nb\nc\r\n.\r\n"
    with session(instance) as c:
        c.expect("MAIL FROM:<%s>" % SENDER, 250, "2.1.0")
        c.expect("RCPT TO:<%s>" % RCPT, 250, "2.1.5")
        c.expect("DATA", 354)
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for b in sent:
            c.send(bytes([b]))
        check(c.reply(), 250, "2.0.0")
    assert body_of(wait_one(instance, RCPT, tok)) == \
        b"Subject: " + tok + b"\n\n.a\nb\nc\n"


def test_data_pipelined_with_mail_and_rcpts(instance):
    # RFC 2920 3.1: MAIL, RCPT, RCPT, DATA in one write; replies in order.
    tok = token()
    with session(instance) as c:
        c.send("MAIL FROM:<%s>\r\nRCPT TO:<user1@example.test>\r\n"
               "RCPT TO:<nosuch@example.test>\r\n"
               "RCPT TO:<user2@example.test>\r\nDATA\r\n" % SENDER)
        check(c.reply(), 250, "2.1.0")
        check(c.reply(), 250, "2.1.5")
        check(c.reply(), 550, "5.1.1")
        check(c.reply(), 250, "2.1.5")
        check(c.reply(), 354)
        c.send(message(tok) + b".\r\n")
        queued_id(c.reply())
    wait_one(instance, "user1@example.test", tok)
    wait_one(instance, "user2@example.test", tok)


def test_data_pipelined_without_valid_rcpt_gets_554(instance):
    with session(instance) as c:
        c.send("MAIL FROM:<%s>\r\nRCPT TO:<nosuch@example.test>\r\n"
               "DATA\r\nNOOP\r\n" % SENDER)
        check(c.reply(), 250, "2.1.0")
        check(c.reply(), 550, "5.1.1")
        check(c.reply(), 554, "5.5.1")
        check(c.reply(), 250, "2.0.0")


def test_data_commands_after_end_marker_in_same_write(instance):
    # The bytes after <CRLF>.<CRLF> are the next commands.
    t1, t2 = token(), token()
    with session(instance) as c:
        c.expect("MAIL FROM:<%s>" % SENDER, 250, "2.1.0")
        c.expect("RCPT TO:<%s>" % RCPT, 250, "2.1.5")
        c.expect("DATA", 354)
        c.send(message(t1) + b".\r\nMAIL FROM:<" + SENDER.encode() +
               b">\r\nRCPT TO:<user2@example.test>\r\nDATA\r\n")
        id1 = queued_id(c.reply())
        check(c.reply(), 250, "2.1.0")
        check(c.reply(), 250, "2.1.5")
        check(c.reply(), 354)
        c.send(message(t2) + b".\r\nQUIT\r\n")
        id2 = queued_id(c.reply())
        check(c.reply(), 221, "2.0.0")
        assert id1 != id2
    m1 = wait_one(instance, RCPT, t1)
    m2 = wait_one(instance, "user2@example.test", t2)
    assert t2.encode() not in m1 and t1.encode() not in m2


def test_data_two_messages_in_one_session(instance):
    t1, t2 = token(), token()
    with session(instance) as c:
        queued_id(data_exchange(c, message(t1) + b".\r\n"))
        queued_id(data_exchange(c, message(t2) + b".\r\n"))
        c.noop_ok()
    wait_one(instance, RCPT, t1)
    wait_one(instance, RCPT, t2)


def test_data_aborted_by_disconnect_is_not_delivered(instance):
    lost, kept = token(), token()
    with session(instance) as c:
        c.expect("MAIL FROM:<%s>" % SENDER, 250, "2.1.0")
        c.expect("RCPT TO:<%s>" % RCPT, 250, "2.1.5")
        c.expect("DATA", 354)
        c.send(message(lost))
    # A later message arrives; the torn one never does.
    with session(instance) as c:
        queued_id(data_exchange(c, message(kept) + b".\r\n"))
    wait_one(instance, RCPT, kept)
    wait_queue_drained(instance)
    assert with_token(maildir(instance, RCPT), lost) == []


def test_data_commands_inside_the_body_are_text(instance):
    # In DATA every line is message text: "RSET" does not end it.
    tok = token().encode()
    with session(instance) as c:
        c.expect("MAIL FROM:<%s>" % SENDER, 250, "2.1.0")
        c.expect("RCPT TO:<%s>" % RCPT, 250, "2.1.5")
        c.expect("DATA", 354)
        c.send(b"Subject: " + tok + b"\r\n\r\nRSET\r\nQUIT\r\n.\r\n")
        check(c.reply(), 250, "2.0.0")
        c.noop_ok()
    assert body_of(wait_one(instance, RCPT, tok)).endswith(
        b"\n\nRSET\nQUIT\n")


def twenty_mb_message(tok):
    """About 20 MB of varied lines (dots first, 8-bit, long lines), CRLF."""
    rnd = random.Random(tok)
    lines = [b"From: <%s>" % SENDER.encode(), b"To: <%s>" % RCPT.encode(),
             b"Subject: big " + tok.encode(), b""]
    size = sum(len(l) + 2 for l in lines)
    while size < 20 * 1024 * 1024:
        kind = rnd.randrange(6)
        n = rnd.randrange(0, 990)
        if kind == 0:
            line = b"." + os.urandom(n // 2).hex().encode()[:n]
        elif kind == 1:
            line = bytes(rnd.choice(b"\xc3\xa9\xe2\x82\xac abc") for _ in range(n))
        elif kind == 2:
            line = b""
        elif kind == 3:
            line = b".."
        else:
            line = os.urandom(n).hex().encode()[:n]
        lines.append(line)
        size += len(line) + 2
    lines.append(b"end " + tok.encode())
    return b"\r\n".join(lines) + b"\r\n"


def test_data_20mb_message_arrives_byte_exact(big_instance):
    tok = token()
    msg = twenty_mb_message(tok)
    with smtplib.SMTP("127.0.0.1", big_instance.smtp_port, HELO,
                      timeout=120) as s:
        # smtplib dot-stuffs the lines that start with ".".
        assert s.sendmail(SENDER, [RCPT], msg, mail_options=["BODY=8BITMIME"]) == {}
    got = wait_one(big_instance, RCPT, tok, timeout=120)
    body = body_of(got)
    want = msg.replace(b"\r\n", b"\n")
    assert len(body) == len(want)
    assert body == want
