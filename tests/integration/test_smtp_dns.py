"""The restrictions that ask DNS (reject_unknown_sender_domain,
reject_unknown_recipient_domain, reject_unknown_helo_hostname) and
defer_if_permit, against a running server whose dns_servers is a small
DNS server of the test's own on loopback (dns_server.py): Postfix's
replies for a domain with MX, with only an address, without either, with
a null MX (RFC 7505), and for a name server that fails or stays silent."""

import concurrent.futures
import smtplib
import subprocess

import pytest

from dns_server import DnsServer
from smtp_helpers import running_instance

LOCAL = "user1@example.test"
HELO = "host.dns.test"

ZONE = {
    "mx.dns.test": {"MX": [(10, "mail.dns.test")]},
    "mail.dns.test": {"A": ["192.0.2.25"]},
    "aonly.dns.test": {"A": ["192.0.2.26"]},
    "aaaa.dns.test": {"AAAA": ["2001:db8::26"]},
    "txtonly.dns.test": {"TXT": ["v=spf1 -all"]},
    "nullmx.dns.test": {"MX": [(0, ".")]},
    "servfail.dns.test": {"SERVFAIL": True},
    "slow.dns.test": {"DROP": True},
    "host.dns.test": {"A": ["192.0.2.27"]},
    "xn--bcher-kva.dns.test": {"MX": [(10, "mail.dns.test")]},  # bücher
}
# answers that arrive just before or just after dns_timeout (2 s), one name
# per session so that no answer comes from libunbound's cache
JITTER = 8
ZONE.update({"j%d.dns.test" % i: {"A": ["192.0.2.28"], "DELAY": (1.9, 2.1)}
             for i in range(JITTER)})


@pytest.fixture(scope="module")
def dns():
    with DnsServer(ZONE) as server:
        yield server


@pytest.fixture(scope="module")
def inst(mw_bin, dns):
    params = {
        "dns_servers": dns.spec,
        "dns_timeout": "2s",
        # loopback may relay, so that recipient domains elsewhere are
        # judged by smtpd_recipient_restrictions
        "mynetworks": "127.0.0.0/8",
        "smtpd_helo_restrictions": "reject_unknown_helo_hostname",
        "smtpd_sender_restrictions": "reject_unknown_sender_domain",
        "smtpd_recipient_restrictions":
            "reject_unknown_recipient_domain, reject_unlisted_recipient",
    }
    with running_instance(mw_bin, params) as i:
        yield i


def reply(inst, sender, rcpt=LOCAL, helo=HELO, options=()):
    """The reply to RCPT (smtpd_delay_reject: every list answers there),
    after checking that the session goes on."""
    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=60) as c:
        c.ehlo(helo)
        code, msg = c.mail(sender, list(options))
        assert code == 250, (code, msg)
        code, msg = c.rcpt(rcpt)
        assert c.noop()[0] == 250
        return code, msg.decode()


@pytest.mark.parametrize("domain", ["mx.dns.test", "aonly.dns.test",
                                    "aaaa.dns.test", "MX.DNS.TEST"])
def test_sender_domain_in_dns_is_accepted(inst, dns, domain):
    assert reply(inst, "someone@" + domain) == (250, "2.1.5 Ok")
    assert dns.asked(domain)


@pytest.mark.parametrize("domain", ["nx.dns.test", "txtonly.dns.test"])
def test_sender_domain_not_in_dns_is_deferred(inst, domain):
    code, msg = reply(inst, "someone@" + domain)
    assert (code, msg) == (450, "4.1.8 <someone@%s>: Sender address "
                                "rejected: Domain not found" % domain)


def test_internationalised_sender_domain_is_looked_up_as_a_labels(inst, dns):
    # RFC 6531 SMTPUTF8; the domain goes to DNS in its A-label form
    assert reply(inst, "jemand@b\u00fccher.dns.test",
                 options=["SMTPUTF8"]) == (250, "2.1.5 Ok")
    assert dns.asked("xn--bcher-kva.dns.test", "MX")
    code, msg = reply(inst, "jemand@m\u00fcll.dns.test",
                      options=["SMTPUTF8"])
    assert code == 450 and "Domain not found" in msg, (code, msg)
    assert dns.asked("xn--mll-hoa.dns.test")


def test_sender_domain_with_null_mx_is_rejected(inst):
    code, msg = reply(inst, "someone@nullmx.dns.test")
    assert (code, msg) == (550, "5.7.27 <someone@nullmx.dns.test>: Sender "
                                "address rejected: Domain nullmx.dns.test "
                                "does not accept mail (nullMX)")


def test_dns_failure_defers_only_what_would_be_accepted(inst):
    # SERVFAIL: 450 if nothing else objects (defer_if_permit) ...
    code, msg = reply(inst, "someone@servfail.dns.test")
    assert (code, msg) == (450, "4.1.8 <someone@servfail.dns.test>: Sender "
                                "address rejected: Domain not found")
    # ... but a later rejection stands
    code, msg = reply(inst, "someone@servfail.dns.test",
                      rcpt="nobody@example.test")
    assert code == 550 and msg.startswith("5.1.1 <nobody@example.test>"), \
        (code, msg)


def test_silent_name_server_times_out_into_a_deferral(inst):
    code, msg = reply(inst, "someone@slow.dns.test")
    assert (code, msg) == (450, "4.1.8 <someone@slow.dns.test>: Sender "
                                "address rejected: Domain not found")
    # the server keeps serving, and other lookups still work
    assert reply(inst, "someone@aonly.dns.test")[0] == 250


def test_answers_racing_the_timeout(inst):
    # Many lookups whose answers come around the moment the resolver
    # gives up on them: each session gets 250 or the DNS deferral, and the
    # server (under ASan in make test) neither crashes nor leaks a query.
    def one(i):
        return reply(inst, "s@j%d.dns.test" % i)[0]

    with concurrent.futures.ThreadPoolExecutor(JITTER) as ex:
        codes = list(ex.map(one, range(JITTER)))
    assert set(codes) <= {250, 450}, codes
    assert reply(inst, "someone@aonly.dns.test")[0] == 250


@pytest.mark.parametrize("sender", ["", "user2@example.test",
                                    "someone@[192.0.2.1]"])
def test_no_lookup_for_null_local_or_literal_senders(inst, dns, sender):
    before = len(dns.queries)
    assert reply(inst, sender)[0] == 250
    asked = [q for q in dns.queries[before:] if q[0] != "host.dns.test"]
    assert asked == []


def test_recipient_domains_are_checked_when_relaying(inst, dns):
    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=60) as c:
        c.ehlo(HELO)
        assert c.mail(LOCAL)[0] == 250
        code, msg = c.rcpt("someone@nx.dns.test")
        assert (code, msg.decode()) == (
            450, "4.1.2 <someone@nx.dns.test>: Recipient address rejected: "
                 "Domain not found")
        code, msg = c.rcpt("someone@nullmx.dns.test")
        assert (code, msg.decode()) == (
            556, "5.1.10 <someone@nullmx.dns.test>: Recipient address "
                 "rejected: Domain nullmx.dns.test does not accept mail "
                 "(nullMX)")
        assert c.rcpt("someone@mx.dns.test")[0] == 250
        assert c.rcpt(LOCAL)[0] == 250
        c.rset()


def test_unknown_helo_hostname_is_deferred(inst):
    code, msg = reply(inst, LOCAL, helo="nohost.dns.test")
    assert (code, msg) == (450, "4.7.1 <nohost.dns.test>: Helo command "
                                "rejected: Host not found")
    # an address literal is not looked up
    assert reply(inst, LOCAL, helo="[127.0.0.1]")[0] == 250


@pytest.fixture(scope="module")
def strict(mw_bin, dns):
    params = {
        "dns_servers": dns.spec,
        "dns_timeout": "2s",
        "unknown_address_reject_code": "550",
        "smtpd_sender_restrictions": "reject_unknown_sender_domain",
        "smtpd_recipient_restrictions":
            "defer_if_permit, reject_unlisted_recipient",
    }
    with running_instance(mw_bin, params) as i:
        yield i


def test_unknown_address_reject_code(strict):
    code, msg = reply(strict, "someone@nx.dns.test")
    assert (code, msg) == (550, "5.1.8 <someone@nx.dns.test>: Sender "
                                "address rejected: Domain not found")


def test_defer_if_permit(strict):
    code, msg = reply(strict, "someone@mx.dns.test")
    assert (code, msg) == (450, "4.7.1 <user1@example.test>: Recipient "
                                "address rejected: defer_if_permit "
                                "requested")
    code, msg = reply(strict, "someone@mx.dns.test",
                      rcpt="nobody@example.test")
    assert code == 550 and msg.startswith("5.1.1"), (code, msg)


def test_bad_dns_servers_is_a_one_line_startup_error(make_instance):
    inst = make_instance(users=False, start=False)
    inst.set_params({"dns_servers": "dns.example.net",
                     "smtpd_sender_restrictions":
                         "reject_unknown_sender_domain"})
    out = subprocess.run([inst.bin, "-c", str(inst.conf), "serve"],
                         capture_output=True, timeout=60)
    assert out.returncode != 0
    lines = [l for l in out.stderr.decode().splitlines() if l.strip()]
    assert len(lines) == 1, lines
    assert "dns_servers" in lines[0] and "dns.example.net" in lines[0]
