"""SMTP smuggling (CVE-2023-51766 and its kin, RFC 5321 4.1.1.4): only
<CRLF>.<CRLF> ends DATA. For each end-of-data look-alike, a message
that hides a second transaction behind it must be stored as ONE message
that holds the hidden text, and the hidden transaction must never run.
With smtpd_reject_bare_newline = yes, a body with a bare LF is refused."""

import pytest

from smtp_helpers import (SENDER, check, maildir, queued_id, session,
                          split_stored, strict_instance, token,  # noqa: F401
                          wait_one, wait_queue_drained, with_token)
# One instance shared by this module's tests (smtp_helpers).
from smtp_helpers import module_instance  # noqa: F401

VICTIM = "user1@example.test"
TARGET = "user2@example.test"

# Sequences a lax server takes for the end of the data.
VECTORS = {
    "lf-dot-lf": b"\n.\n",
    "lf-dot-crlf": b"\n.\r\n",
    "crlf-dot-lf": b"\r\n.\n",
    "cr-dot-crlf": b"\r.\r\n",
    "crlf-dot-cr": b"\r\n.\r",
    "cr-dot-cr": b"\r.\r",
    "lf-dot-cr": b"\n.\r",
    "cr-lf-dot-lf": b"\r\r\n.\n",
    "crlf-dot-space-crlf": b"\r\n. \r\n",
}


def smuggling_body(outer, hidden, vector):
    """A message, then vector, then a whole second transaction, then the
    real end of the data."""
    return (b"From: <" + SENDER.encode() + b">\r\nSubject: outer " + outer +
            b"\r\n\r\nouter text" + vector +
            b"MAIL FROM:<evil@example.test>\r\n"
            b"RCPT TO:<" + TARGET.encode() + b">\r\n"
            b"DATA\r\n"
            b"From: <evil@example.test>\r\nSubject: hidden " + hidden +
            b"\r\n\r\nhidden text\r\n"
            b".\r\n")


@pytest.mark.parametrize("vector", list(VECTORS.values()),
                         ids=list(VECTORS.keys()))
def test_smuggled_transaction_stays_inside_one_message(instance, vector):
    outer, hidden = token().encode(), token().encode()
    with session(instance) as c:
        c.expect("MAIL FROM:<%s>" % SENDER, 250, "2.1.0")
        c.expect("RCPT TO:<%s>" % VICTIM, 250, "2.1.5")
        c.expect("DATA", 354)
        c.send(smuggling_body(outer, hidden, vector) + b"NOOP\r\nQUIT\r\n")
        replies = c.read_until_eof()
    # Exactly one message queued: its 250, then NOOP's, then QUIT's.
    assert [(r.code, r.enh) for r in replies] == \
        [(250, "2.0.0"), (250, "2.0.0"), (221, "2.0.0")], replies
    queued_id(replies[0])
    msg = wait_one(instance, VICTIM, outer)
    body = split_stored(msg)[1]
    # The hidden transaction is message text.
    assert hidden in body
    assert b"RCPT TO:<" + TARGET.encode() + b">" in body
    wait_queue_drained(instance)
    assert with_token(maildir(instance, TARGET), hidden) == []
    assert len(with_token(maildir(instance, VICTIM), hidden)) == 1


@pytest.mark.parametrize("vector", list(VECTORS.values()),
                         ids=list(VECTORS.keys()))
def test_smuggling_vector_split_across_writes(instance, vector):
    outer, hidden = token().encode(), token().encode()
    body = smuggling_body(outer, hidden, vector)
    cut = body.index(vector)
    with session(instance) as c:
        c.expect("MAIL FROM:<%s>" % SENDER, 250, "2.1.0")
        c.expect("RCPT TO:<%s>" % VICTIM, 250, "2.1.5")
        c.expect("DATA", 354)
        # Each byte of the look-alike in its own write.
        c.send(body[:cut])
        for b in vector:
            c.send(bytes([b]))
        c.send(body[cut + len(vector):])
        queued_id(c.reply())
        c.noop_ok()
    msg = wait_one(instance, VICTIM, outer)
    assert hidden in split_stored(msg)[1]
    wait_queue_drained(instance)
    assert with_token(maildir(instance, TARGET), hidden) == []


def test_dot_line_with_crlf_still_ends_data(instance):
    # The control case: the real end marker right after a bare LF line.
    tok = token().encode()
    with session(instance) as c:
        c.expect("MAIL FROM:<%s>" % SENDER, 250, "2.1.0")
        c.expect("RCPT TO:<%s>" % VICTIM, 250, "2.1.5")
        c.expect("DATA", 354)
        c.send(b"Subject: " + tok + b"\r\n\r\nbare\nlf\r\n.\r\nNOOP\r\n")
        queued_id(c.reply())
        check(c.reply(), 250, "2.0.0")
    body = split_stored(wait_one(instance, VICTIM, tok))[1]
    assert body == b"Subject: " + tok + b"\n\nbare\nlf\n"


@pytest.mark.parametrize("vector", [v for v in VECTORS.values() if b"\n" in
                                    v.replace(b"\r\n", b"")],
                         ids=[k for k, v in VECTORS.items() if b"\n" in
                              v.replace(b"\r\n", b"")])
def test_bare_lf_refused_when_strict(strict_instance, vector):
    # smtpd_reject_bare_newline = yes: 550 5.5.2 at the end of the data,
    # nothing queued, the session goes on.
    outer, hidden = token().encode(), token().encode()
    with session(strict_instance) as c:
        c.expect("MAIL FROM:<%s>" % SENDER, 250, "2.1.0")
        c.expect("RCPT TO:<%s>" % VICTIM, 250, "2.1.5")
        c.expect("DATA", 354)
        c.send(smuggling_body(outer, hidden, vector))
        check(c.reply(), 550, "5.5.2")
        c.noop_ok()
        # A clean message still goes through, and it is the only one.
        ok = token().encode()
        c.expect("MAIL FROM:<%s>" % SENDER, 250, "2.1.0")
        c.expect("RCPT TO:<%s>" % VICTIM, 250, "2.1.5")
        c.expect("DATA", 354)
        c.send(b"Subject: " + ok + b"\r\n\r\nclean\r\n.\r\n")
        queued_id(c.reply())
    wait_one(strict_instance, VICTIM, ok)
    wait_queue_drained(strict_instance)
    assert with_token(maildir(strict_instance, VICTIM), outer) == []
    assert with_token(maildir(strict_instance, TARGET), hidden) == []
