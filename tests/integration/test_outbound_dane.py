"""DANE for SMTP (RFC 7672) at smtp_tls_security_level = dane, against
DNSSEC-signed zones served by nsd (dnssec_server.py) and validated by
sina's libunbound from a test trust anchor (dns_trust_anchor_file):

- sohu.test is signed and publishes "3 1 1" (DANE-EE, SPKI, SHA2-256) of
  the key that `mailwright init` made for sohu: "Verified", delivered;
- netease.test is signed, its MX is sohu's server, its TLSA record does
  not match: deferred with 4.7.5, nothing sent, not even in the clear;
- plain.test is not signed: no TLSA lookup, opportunistic TLS, delivered;
- notlsa.test is signed without TLSA records (a secure denial): may;
- unusable.test is signed with only a PKIX-EE(1) record, unusable for
  SMTP (RFC 7672 3.1.3): mandatory TLS without authentication;
- qq.test is signed with a key the trust anchor does not name: its
  answers are bogus, the mail is deferred;
- dane-only (smtp_tls_policy_maps) for plain.test: deferred.
"""

import hashlib
import subprocess

import pytest

from conftest import maildir_messages, wait_for
from dnssec_server import SignedDns, Zone
from outbound_net import SINA_IP, SOHU_IP, OutboundNet
from test_outbound import find_in, message

LISI = "lisi@sina.test"
WANGWU = "wangwu@sohu.test"
DOMAINS = ("plain.test", "notlsa.test", "unusable.test", "netease.test",
           "only.test")


def spki_sha256(cert):
    """SHA2-256 of the certificate's SubjectPublicKeyInfo (selector 1,
    matching type 1), as `openssl x509 -pubkey | openssl pkey -pubin
    -outform DER | sha256sum` prints it."""
    pub = subprocess.run(["openssl", "x509", "-in", str(cert), "-pubkey",
                          "-noout"], capture_output=True, check=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"],
                         input=pub, capture_output=True, check=True).stdout
    return hashlib.sha256(der).hexdigest()


def zones(net):
    """The zones; called once sohu's certificate exists (SignedDns is
    entered after the instances are set up)."""
    h = spki_sha256(net.sohu.dir / "tls" / "cert.pem")
    wrong = hashlib.sha256(b"not sohu's key").hexdigest()
    tlsa = "_%d._tcp.mx TLSA" % net.mx_port

    def mx_zone(*records, **kw):
        return Zone(["@ MX 10 mx", "mx A %s" % SOHU_IP] + list(records),
                    **kw)
    return {
        "sina.test": Zone(["@ MX 10 mx", "mx A %s" % SINA_IP],
                          signed=False),
        "sohu.test": mx_zone("%s 3 1 1 %s" % (tlsa, h)),
        "netease.test": mx_zone("%s 3 1 1 %s" % (tlsa, wrong)),
        "plain.test": mx_zone("%s 3 1 1 %s" % (tlsa, wrong), signed=False),
        "only.test": mx_zone(signed=False),
        "notlsa.test": mx_zone(),
        "unusable.test": mx_zone("%s 1 1 1 %s" % (tlsa, h)),
        "qq.test": mx_zone("%s 3 1 1 %s" % (tlsa, h), bogus=True),
    }


@pytest.fixture(scope="module")
def net(mw_bin):
    with OutboundNet(mw_bin, dns=lambda n: SignedDns(lambda: zones(n)),
                     sina_params={"smtp_tls_security_level": "dane"}) as n:
        for d in DOMAINS:
            n.sohu.cli("domain", "add", d, check=True)
            n.sohu.cli("user", "add", "u@" + d, input="pw\n", check=True)
        pol = n.sina.dir / "tls_policy"
        pol.write_text("only.test dane-only\n")
        n.sina.stop()
        n.sina.set_params({"smtp_tls_policy_maps": "texthash:%s" % pol})
        n.sina.start()
        yield n


def log_for(net, rcpt, status, timeout=60):
    return wait_for(lambda: [l for l in net.sina.log_lines(
        "to=<%s>" % rcpt) if "status=%s" % status in l], timeout,
        what="status=%s for %s" % (status, rcpt))[0]


def never_delivered(net, rcpt, needle):
    return not any(needle.encode() in m for m in
                   maildir_messages(net.sohu.maildir(rcpt)))


def test_dane_ee_match_is_verified_and_delivered(net):
    net.sina.submit(LISI, [WANGWU], message("dane match"))
    find_in(net.sohu, WANGWU, "dane match")
    assert net.sina.log_lines(
        "Verified TLS connection established to mx.sohu.test[127.0.0.3]:%d"
        % net.mx_port)
    assert "dsn=2.0.0" in log_for(net, WANGWU, "sent")


def test_dane_mismatch_defers_and_sends_nothing(net):
    rcpt = "u@netease.test"
    net.sina.submit(LISI, [rcpt], message("dane mismatch"))
    line = log_for(net, rcpt, "deferred")
    assert "dsn=4.7.5" in line, line
    assert "Server certificate not verified" in line, line
    assert "TLSA" in line, line
    assert never_delivered(net, rcpt, "dane mismatch")
    # no retry in the clear, nor with TLS unchecked: one session, which
    # ended after the handshake
    peer = "mx.netease.test[127.0.0.3]"
    assert net.sina.log_lines("Untrusted TLS connection established to "
                              + peer)
    assert not net.sina.log_lines("Verified TLS connection established "
                                  "to " + peer)


def test_unsigned_domain_is_opportunistic(net):
    """plain.test's TLSA record does not match, but the zone is not
    signed: it is never used (RFC 7672 2.2), the mail goes out with
    opportunistic TLS."""
    rcpt = "u@plain.test"
    net.sina.submit(LISI, [rcpt], message("unsigned dane"))
    find_in(net.sohu, rcpt, "unsigned dane")
    assert log_for(net, rcpt, "sent")


def test_secure_denial_of_tlsa_is_opportunistic(net):
    rcpt = "u@notlsa.test"
    net.sina.submit(LISI, [rcpt], message("no tlsa"))
    find_in(net.sohu, rcpt, "no tlsa")


def test_only_unusable_tlsa_records_mean_tls_without_checks(net):
    rcpt = "u@unusable.test"
    net.sina.submit(LISI, [rcpt], message("pkix-ee only"))
    find_in(net.sohu, rcpt, "pkix-ee only")
    assert net.sina.log_lines("Untrusted TLS connection established to "
                              "mx.unusable.test[127.0.0.3]")


def test_bogus_signatures_defer(net):
    rcpt = "u@qq.test"
    net.sina.submit(LISI, [rcpt], message("bogus zone"))
    line = log_for(net, rcpt, "deferred")
    assert "dsn=4.4.3" in line, line
    assert net.sina.log_lines("DNSSEC validation failed")
    assert not net.sina.log_lines("to mx.qq.test[")


def test_dane_only_without_tlsa_defers(net):
    rcpt = "u@only.test"
    net.sina.submit(LISI, [rcpt], message("dane only"))
    line = log_for(net, rcpt, "deferred")
    assert "dsn=4.7.5" in line, line
    assert "no usable TLSA records" in line, line
    assert never_delivered(net, rcpt, "dane only")
