"""BDAT (RFC 3030 CHUNKING): chunks of exact sizes, no dot handling,
CRLF split across chunks, chunks split across writes, pipelining, BDAT
out of sequence (its chunk must be skipped, never run as commands),
DATA after BDAT, RSET in the middle, and bad BDAT syntax."""

import os

import pytest

from smtp_helpers import (SENDER, RawSMTP, check, maildir, queued_id, session,
                          split_stored, token, wait_one, wait_queue_drained,
                          with_token)
# One instance shared by this module's tests (smtp_helpers).
from smtp_helpers import module_instance  # noqa: F401

RCPT = "user1@example.test"


def start(c, rcpts=(RCPT,)):
    c.expect("MAIL FROM:<%s>" % SENDER, 250, "2.1.0")
    for a in rcpts:
        c.expect("RCPT TO:<%s>" % a, 250, "2.1.5")


def bdat(c, chunk, last=False):
    """Sends one BDAT command with its chunk in one write; its reply."""
    c.send(b"BDAT %d%s\r\n" % (len(chunk), b" LAST" if last else b"") + chunk)
    return c.reply()


def body_of(msg):
    return split_stored(msg)[1]


def test_bdat_last_single_chunk_is_queued_and_stored_as_sent(instance):
    tok = token().encode()
    # No dot-stuffing in BDAT: "." lines and "<CRLF>.<CRLF>" are content.
    chunk = (b"Subject: " + tok + b"\r\n\r\n..two dots\r\n.\r\n"
             b"after the dot line\r\n")
    with session(instance) as c:
        start(c)
        queued_id(bdat(c, chunk, last=True))
        c.noop_ok()
    assert body_of(wait_one(instance, RCPT, tok)) == \
        chunk.replace(b"\r\n", b"\n")


def test_bdat_several_chunks_each_get_250_2_0_0(instance):
    tok = token().encode()
    chunks = [b"Subject: " + tok + b"\r\n", b"\r\n", b"first line\r\n",
              b"second ", b"line\r\n"]
    with session(instance) as c:
        start(c)
        for ch in chunks[:-1]:
            r = bdat(c, ch)
            check(r, 250, "2.0.0")
            assert "octets" in r.text, r
        queued_id(bdat(c, chunks[-1], last=True))
    assert body_of(wait_one(instance, RCPT, tok)) == \
        b"".join(chunks).replace(b"\r\n", b"\n")


def test_bdat_zero_length_last_chunk_ends_the_message(instance):
    tok = token().encode()
    chunk = b"Subject: " + tok + b"\r\n\r\nbody\r\n"
    with session(instance) as c:
        start(c)
        check(bdat(c, chunk), 250, "2.0.0")
        queued_id(bdat(c, b"", last=True))
        c.noop_ok()
    assert body_of(wait_one(instance, RCPT, tok)) == \
        chunk.replace(b"\r\n", b"\n")


def test_bdat_crlf_split_between_chunks_is_one_line_end(instance):
    tok = token().encode()
    with session(instance) as c:
        start(c)
        check(bdat(c, b"Subject: " + tok + b"\r\n\r\nline one\r"), 250,
              "2.0.0")
        queued_id(bdat(c, b"\nline two\r\n", last=True))
    assert body_of(wait_one(instance, RCPT, tok)) == \
        b"Subject: " + tok + b"\n\nline one\nline two\n"


def test_bdat_bare_cr_and_lf_are_content(instance):
    tok = token().encode()
    chunk = b"Subject: " + tok + b"\r\n\r\na\rb\nc\r\nend\r"
    with session(instance) as c:
        start(c)
        queued_id(bdat(c, chunk, last=True))
    # CRLF becomes LF; a lone CR at the very end is kept.
    assert body_of(wait_one(instance, RCPT, tok)) == \
        b"Subject: " + tok + b"\n\na\rb\nc\nend\r"


def test_bdat_command_and_chunk_split_across_writes(instance):
    tok = token().encode()
    chunk = b"Subject: " + tok + b"\r\n\r\nsplit across writes\r\n"
    with session(instance) as c:
        start(c)
        cmd = b"BDAT %d LAST\r\n" % len(chunk)
        c.send(cmd[:3])
        c.send(cmd[3:9])
        c.send(cmd[9:])
        for i in range(0, len(chunk), 7):
            c.send(chunk[i:i + 7])
        queued_id(c.reply())
        c.noop_ok()
    assert body_of(wait_one(instance, RCPT, tok)) == \
        chunk.replace(b"\r\n", b"\n")


def test_bdat_large_chunk_in_many_writes_is_byte_exact(instance):
    tok = token().encode()
    payload = os.urandom(1024 * 1024)
    chunk = b"Subject: " + tok + b"\r\n\r\n" + payload
    with session(instance) as c:
        start(c)
        c.send(b"BDAT %d LAST\r\n" % len(chunk))
        for i in range(0, len(chunk), 65000):
            c.send(chunk[i:i + 65000])
        queued_id(c.reply())
    assert body_of(wait_one(instance, RCPT, tok)) == \
        chunk.replace(b"\r\n", b"\n")


def test_bdat_pipelined_with_mail_and_rcpt(instance):
    tok = token().encode()
    c1 = b"Subject: " + tok + b"\r\n\r\n"
    c2 = b"pipelined\r\n"
    with session(instance) as c:
        c.send(b"MAIL FROM:<" + SENDER.encode() + b">\r\n"
               b"RCPT TO:<user1@example.test>\r\n"
               b"RCPT TO:<user2@example.test>\r\n" +
               b"BDAT %d\r\n" % len(c1) + c1 +
               b"BDAT %d LAST\r\n" % len(c2) + c2 + b"NOOP\r\n")
        check(c.reply(), 250, "2.1.0")
        check(c.reply(), 250, "2.1.5")
        check(c.reply(), 250, "2.1.5")
        check(c.reply(), 250, "2.0.0")
        queued_id(c.reply())
        check(c.reply(), 250, "2.0.0")
    for a in ("user1@example.test", "user2@example.test"):
        assert body_of(wait_one(instance, a, tok)) == \
            (c1 + c2).replace(b"\r\n", b"\n")


@pytest.mark.parametrize("state", ["ready", "mail"])
def test_bdat_out_of_sequence_is_refused_and_its_chunk_skipped(instance,
                                                                state):
    with session(instance) as c:
        if state == "mail":
            c.expect("MAIL FROM:<%s>" % SENDER, 250, "2.1.0")
        # The chunk looks like commands; they must not run.
        chunk = b"RSET\r\nQUIT\r\n"
        r = bdat(c, chunk)
        if state == "mail":
            check(r, 554, "5.5.1")
        else:
            check(r, 503, "5.5.1")
        c.noop_ok()
        if state == "mail":
            # The transaction survives the refused chunk.
            c.expect("RCPT TO:<%s>" % RCPT, 250, "2.1.5")


def test_bdat_before_ehlo_is_refused_and_its_chunk_skipped(instance):
    with RawSMTP(instance.smtp_port) as c:
        c.greeting()
        check(bdat(c, b"QUIT\r\n"), 503, "5.5.1")
        c.noop_ok()
        c.ehlo()
        c.noop_ok()


@pytest.mark.parametrize("arg", ["", "x", "-1", "10 LASTX", "10 FIRST",
                                 "10x", "99999999999999999999999"])
def test_bdat_bad_syntax_gets_501_5_5_4_and_closes(instance, arg):
    # The chunk's length is unknown, so the session cannot go on.
    with session(instance) as c:
        start(c)
        c.send("BDAT %s\r\n" % arg)
        replies = c.read_until_eof()
        assert len(replies) == 1, replies
        check(replies[0], 501, "5.5.4")


def test_data_after_bdat_gets_503_5_5_1(instance):
    tok = token().encode()
    with session(instance) as c:
        start(c)
        check(bdat(c, b"Subject: " + tok + b"\r\n\r\n"), 250, "2.0.0")
        c.expect("DATA", 503, "5.5.1")
        c.noop_ok()
        # The transaction goes on with BDAT.
        queued_id(bdat(c, b"still here\r\n", last=True))
    assert body_of(wait_one(instance, RCPT, tok)).endswith(b"\nstill here\n")


@pytest.mark.parametrize("line", ["MAIL FROM:<%s>" % SENDER,
                                  "RCPT TO:<user2@example.test>"])
def test_mail_and_rcpt_between_chunks_get_503_5_5_1(instance, line):
    with session(instance) as c:
        start(c)
        check(bdat(c, b"Subject: x\r\n\r\n"), 250, "2.0.0")
        c.expect(line, 503, "5.5.1")
        c.noop_ok()
        queued_id(bdat(c, b"x\r\n", last=True))


def test_rset_between_chunks_discards_the_message(instance):
    lost, kept = token().encode(), token().encode()
    with session(instance) as c:
        start(c)
        check(bdat(c, b"Subject: " + lost + b"\r\n\r\n"), 250, "2.0.0")
        c.expect("RSET", 250, "2.0.0")
        # The transaction is gone: a chunk now is out of sequence.
        check(bdat(c, b"x\r\n", last=True), 503, "5.5.1")
        start(c)
        queued_id(bdat(c, b"Subject: " + kept + b"\r\n\r\nkept\r\n",
                       last=True))
    wait_one(instance, RCPT, kept)
    wait_queue_drained(instance)
    assert with_token(maildir(instance, RCPT), lost) == []


def test_bdat_then_data_transactions_in_one_session(instance):
    t1, t2 = token().encode(), token().encode()
    with session(instance) as c:
        start(c)
        queued_id(bdat(c, b"Subject: " + t1 + b"\r\n\r\nbdat\r\n", last=True))
        start(c)
        c.expect("DATA", 354)
        c.send(b"Subject: " + t2 + b"\r\n\r\ndata\r\n.\r\n")
        queued_id(c.reply())
    wait_one(instance, RCPT, t1)
    wait_one(instance, RCPT, t2)


def test_bdat_lowercase_last_is_accepted(instance):
    tok = token().encode()
    chunk = b"Subject: " + tok + b"\r\n\r\nx\r\n"
    with session(instance) as c:
        start(c)
        c.send(b"bdat %d last\r\n" % len(chunk) + chunk)
        queued_id(c.reply())
    wait_one(instance, RCPT, tok)
