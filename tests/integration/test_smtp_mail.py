"""MAIL FROM (RFC 5321 4.1.1.2) and its parameters: SIZE (RFC 1870),
BODY (RFC 6152, RFC 3030), SMTPUTF8 (RFC 6531), the DSN parameters RET
and ENVID (RFC 3461); syntax errors and length limits of the path
(RFC 5321 4.5.3.1)."""

import pytest

from smtp_helpers import SENDER, session
# One instance shared by this module's tests (smtp_helpers).
from smtp_helpers import module_instance  # noqa: F401

# The parser's limits (src/smtp/smtpd.c): path 256 + 64 octets with its
# angle brackets, local part 256 (as Postfix), domain 255.
PATH_MAX = 320
LOCAL_MAX = 256
DOMAIN_MAX = 255


def make_domain(n):
    """A valid domain name of exactly n octets (labels of at most 63)."""
    labels = []
    left = n
    while left > 0:
        size = min(63, left)
        if left - size == 1:
            size -= 1  # never leave a dot with an empty label after it
        labels.append("d" * size)
        left -= size + 1
    d = ".".join(labels)
    assert len(d) == n, (n, len(d))
    return d


def size_limit(c):
    """The SIZE the server announced to EHLO on c."""
    r = c.ehlo()
    for line in r.lines[1:]:
        w = line.split()
        if w[0].upper() == "SIZE":
            return int(w[1])
    raise AssertionError("no SIZE in %r" % r)


@pytest.mark.parametrize("path", [SENDER, "user1@example.test",
                                  "someone@example.org", "a@[127.0.0.1]",
                                  "a@[IPv6:2001:db8::1]",
                                  '"quoted local"@example.org',
                                  "first.last+tag@sub.example.org"])
def test_mail_from_gets_250_2_1_0(instance, path):
    with session(instance) as c:
        c.expect("MAIL FROM:<%s>" % path, 250, "2.1.0")
        c.expect("RCPT TO:<user1@example.test>", 250, "2.1.5")


def test_mail_null_sender_gets_250_2_1_0(instance):
    # RFC 5321 4.5.5: the null reverse-path, for bounces.
    with session(instance) as c:
        c.expect("MAIL FROM:<>", 250, "2.1.0")
        c.expect("RCPT TO:<user1@example.test>", 250, "2.1.5")


def test_mail_with_space_after_colon_is_accepted(instance):
    with session(instance) as c:
        c.expect("MAIL FROM: <%s>" % SENDER, 250, "2.1.0")


def test_mail_source_route_is_accepted_and_ignored(instance):
    # RFC 5321 4.1.2 and C: a source route is accepted and ignored.
    with session(instance) as c:
        c.expect("MAIL FROM:<@relay.example.org,@b.example.org:%s>" % SENDER,
                 250, "2.1.0")


@pytest.mark.parametrize("line", ["MAIL", "MAIL FROM", "MAIL TO:<%s>" % SENDER,
                                  "MAIL FROM:%s" % SENDER,
                                  "MAIL FROM:<%s" % SENDER,
                                  "MAIL FROM:<%s>junk" % SENDER])
def test_mail_syntax_error_gets_501_5_5_4(instance, line):
    with session(instance) as c:
        c.expect(line, 501, "5.5.4")
        c.noop_ok()
        c.expect("MAIL FROM:<%s>" % SENDER, 250, "2.1.0")


@pytest.mark.parametrize("path", ["sender@", "@example.test", "sender",
                                  "a b@example.test", "sender@exa mple.test",
                                  "sender@-example.test",
                                  "sender@example..test", "sender@[999.1.1.1]",
                                  "sender@@example.test"])
def test_mail_bad_address_gets_501_5_1_7(instance, path):
    with session(instance) as c:
        c.expect("MAIL FROM:<%s>" % path, 501, "5.1.7")
        c.noop_ok()
        c.expect("MAIL FROM:<%s>" % SENDER, 250, "2.1.0")


@pytest.mark.parametrize("n,code", [(LOCAL_MAX - 1, 250), (LOCAL_MAX, 250),
                                    (LOCAL_MAX + 1, 501)])
def test_mail_local_part_limit(instance, n, code):
    with session(instance) as c:
        r = c.expect("MAIL FROM:<%s@example.org>" % ("l" * n), code)
        if code == 501:
            assert r.enh == "5.1.7", r
            c.noop_ok()


@pytest.mark.parametrize("n,code", [(DOMAIN_MAX - 1, 250), (DOMAIN_MAX, 250),
                                    (DOMAIN_MAX + 1, 501)])
def test_mail_domain_limit(instance, n, code):
    with session(instance) as c:
        r = c.expect("MAIL FROM:<s@%s>" % make_domain(n), code)
        if code == 501:
            assert r.enh == "5.1.7", r
            c.noop_ok()


@pytest.mark.parametrize("n,code", [(PATH_MAX - 1, 250), (PATH_MAX, 250),
                                    (PATH_MAX + 1, 501)])
def test_mail_path_limit(instance, n, code):
    # RFC 5321 4.5.3.1.3: the path's length counts "<", "@" and ">".
    local = "p" * 80
    path = "<%s@%s>" % (local, make_domain(n - len(local) - 3))
    assert len(path) == n
    with session(instance) as c:
        r = c.expect("MAIL FROM:" + path, code)
        if code == 501:
            assert r.enh == "5.1.7" and "too long" in r.text, r
            c.noop_ok()


def test_mail_size_parameters_at_the_limit(instance):
    # RFC 1870 6: a declared size over the fixed limit is 552 5.3.4.
    with session(instance) as c:
        limit = size_limit(c)
        for size, code in ((limit - 1, 250), (limit, 250), (limit + 1, 552)):
            r = c.expect("MAIL FROM:<%s> SIZE=%d" % (SENDER, size), code)
            if code == 250:
                c.expect("RSET", 250, "2.0.0")
            else:
                assert r.enh == "5.3.4", r
                c.noop_ok()


def test_mail_size_zero_is_accepted(instance):
    with session(instance) as c:
        c.expect("MAIL FROM:<%s> SIZE=0" % SENDER, 250, "2.1.0")


def test_mail_size_past_uint64_gets_552_5_3_4(instance):
    with session(instance) as c:
        c.expect("MAIL FROM:<%s> SIZE=99999999999999999999" % SENDER,
                 552, "5.3.4")
        c.noop_ok()


@pytest.mark.parametrize("param", ["SIZE", "SIZE=", "SIZE=12k", "SIZE=-1",
                                   "SIZE=123456789012345678901",
                                   "SIZE=1 SIZE=2"])
def test_mail_bad_size_gets_501_5_5_4(instance, param):
    with session(instance) as c:
        c.expect("MAIL FROM:<%s> %s" % (SENDER, param), 501, "5.5.4")
        c.noop_ok()


@pytest.mark.parametrize("param", ["BODY=7BIT", "BODY=8BITMIME",
                                   "body=8bitmime", "SMTPUTF8", "RET=HDRS",
                                   "RET=FULL", "ENVID=abc+2Bdef",
                                   "AUTH=<>", "SIZE=100 BODY=8BITMIME SMTPUTF8"])
def test_mail_known_parameter_is_accepted(instance, param):
    with session(instance) as c:
        c.expect("MAIL FROM:<%s> %s" % (SENDER, param), 250, "2.1.0")


@pytest.mark.parametrize("param", ["BODY=9BIT", "BODY", "SMTPUTF8=yes",
                                   "RET=ALL", "ENVID=", "ENVID=a=b",
                                   "BODY=7BIT BODY=7BIT", "=x", "-X=1"])
def test_mail_bad_parameter_value_gets_501_5_5_4(instance, param):
    with session(instance) as c:
        c.expect("MAIL FROM:<%s> %s" % (SENDER, param), 501, "5.5.4")
        c.noop_ok()


@pytest.mark.parametrize("param", ["FOO=BAR", "XYZ", "TRANSID=1"])
def test_mail_unsupported_parameter_gets_555_5_5_4(instance, param):
    # RFC 5321 4.1.1.11: an unrecognised parameter is 555.
    with session(instance) as c:
        r = c.expect("MAIL FROM:<%s> %s" % (SENDER, param), 555, "5.5.4")
        # smtp_parse.h: the reply names the parameter.
        assert param.split("=")[0] in r.text, r
        c.noop_ok()
        c.expect("MAIL FROM:<%s>" % SENDER, 250, "2.1.0")


def test_mail_non_ascii_address_without_smtputf8_gets_553_5_6_7(instance):
    with session(instance) as c:
        c.expect("MAIL FROM:<jos\u00e9@example.org>", 553, "5.6.7")
        c.noop_ok()
        c.expect("MAIL FROM:<%s>" % SENDER, 250, "2.1.0")


@pytest.mark.parametrize("path", ["jos\u00e9@example.org",
                                  "\u7528\u6237@\u4f8b\u5b50.\u6d4b\u8bd5"])
def test_mail_non_ascii_address_with_smtputf8_gets_250(instance, path):
    with session(instance) as c:
        c.expect("MAIL FROM:<%s> SMTPUTF8" % path, 250, "2.1.0")
        c.expect("RCPT TO:<user1@example.test>", 250, "2.1.5")


def test_mail_malformed_utf8_address_gets_501_5_1_7(instance):
    with session(instance) as c:
        c.send(b"MAIL FROM:<jos\xc3@example.org> SMTPUTF8\r\n")
        r = c.reply()
        assert (r.code, r.enh) == (501, "5.1.7"), r
        c.noop_ok()


def test_mail_nested_gets_503_5_5_1_and_keeps_the_first(instance):
    with session(instance) as c:
        c.expect("MAIL FROM:<%s>" % SENDER, 250, "2.1.0")
        c.expect("MAIL FROM:<%s>" % SENDER, 503, "5.5.1")
        c.noop_ok()
        c.expect("RCPT TO:<user1@example.test>", 250, "2.1.5")


def test_mail_after_refused_mail_is_accepted(instance):
    with session(instance) as c:
        c.expect("MAIL FROM:<bad@>", 501, "5.1.7")
        c.expect("MAIL FROM:<%s>" % SENDER, 250, "2.1.0")
