"""Outbound delivery between two mailwright servers found through DNS
(outbound_net.py): the tutorials' lisi@sina.test -> wangwu@sohu.test flow
over STARTTLS, MX preference and fallback, A fallback without MX, null MX
(RFC 7505), mail loops (RFC 5321 5.1), a destination that is down and
comes back (deferred, then delivered after `queue flush`), permanent
refusals returned to the sender as DSNs (RFC 3464), relay_domains and
transport_maps."""

import email
import re
import time

import pytest

from conftest import maildir_messages, wait_for
from smtp_helpers import queue_dir
from fake_mx import FakeMx
from outbound_net import DEAD_IP, SOHU_IP, OutboundNet

FAKE_IP = "127.0.0.5"

LISI = "lisi@sina.test"
WANGWU = "wangwu@sohu.test"

ZONE = {
    # no MX: the A record is the mail host (RFC 5321 5.1)
    "amx.test": {"A": [SOHU_IP]},
    # the best MX is down, the second one works
    "backup.test": {"MX": [(10, "mx1.backup.test"), (20, "mx.sohu.test")]},
    "mx1.backup.test": {"A": [DEAD_IP]},
    # an MX host that does not resolve is skipped
    "skip.test": {"MX": [(5, "nothing.skip.test"), (10, "mx.sohu.test")]},
    "nullmx.test": {"MX": [(0, ".")]},
    # mail for it comes back to sina itself
    "loop.test": {"MX": [(10, "mx.sina.test")]},
    "down.test": {"MX": [(10, "mx.down.test")]},
    "mx.down.test": {"A": [DEAD_IP]},
    # a scripted server (fake_mx.py) plays old and limited MTAs
    "old.test": {"MX": [(10, "mx.old.test")]},
    "mx.old.test": {"A": [FAKE_IP]},
}


def message(subject, frm=LISI, to=WANGWU, body="Hello from sina.\n"):
    return ("From: %s\r\nTo: %s\r\nSubject: %s\r\n"
            "Message-ID: <%s@sina.test>\r\n\r\n%s" % (
                frm, to, subject, subject.replace(" ", "."),
                body.replace("\n", "\r\n")))


def find_in(inst, addr, needle, timeout=60):
    """Waits for a message containing needle in addr's Maildir."""
    def found():
        for m in maildir_messages(inst.maildir(addr)):
            if needle.encode() in m:
                return m
        return None
    return wait_for(found, timeout, interval=0.1,
                    what="%r in %s's Maildir" % (needle, addr))


@pytest.fixture(scope="module")
def net(mw_bin):
    with OutboundNet(mw_bin, ZONE) as n:
        for d in ("amx.test", "backup.test", "skip.test"):
            n.sohu.cli("domain", "add", d, check=True)
            n.sohu.cli("user", "add", "u@" + d, input="pw\n", check=True)
        yield n


def test_lisi_to_wangwu_over_starttls(net):
    net.sina.submit(LISI, [WANGWU], message("flow one"))
    m = find_in(net.sohu, WANGWU, "flow one")
    assert b"Hello from sina." in m
    # the sending side logs the TLS outcome and the delivery, Postfix-like
    wait_for(lambda: net.sina.log_lines(
        "TLS connection established to mx.sohu.test[127.0.0.3]:%d"
        % net.mx_port), 10, what="the TLS line")
    sent = wait_for(lambda: [l for l in net.sina.log_lines(
        "to=<%s>" % WANGWU) if "status=sent" in l], 10)
    assert re.search(r"relay=mx\.sohu\.test\[127\.0\.0\.3\]:%d, "
                     r"delay=[0-9.]+, delays=[0-9.]+/[0-9.]+/[0-9.]+/"
                     r"[0-9.]+, dsn=2\.0\.0, status=sent \(250 "
                     % net.mx_port, sent[0]), sent[0]
    # and the receiving side saw a TLS session from sina
    assert b"ESMTPS" in m or b"TLS" in m, m[:600]
    assert net.sohu.log_lines("from mx.sina.test") or \
        net.sohu.log_lines("127.0.0.2")


def test_no_mx_falls_back_to_the_address(net):
    net.sina.submit(LISI, ["u@amx.test"], message("a fallback"))
    find_in(net.sohu, "u@amx.test", "a fallback")


def test_second_mx_when_the_first_is_down(net):
    net.sina.submit(LISI, ["u@backup.test"], message("backup mx"))
    find_in(net.sohu, "u@backup.test", "backup mx")


def test_mx_host_without_address_is_skipped(net):
    net.sina.submit(LISI, ["u@skip.test"], message("skip host"))
    find_in(net.sohu, "u@skip.test", "skip host")


def bounce_for(net, needle):
    """The DSN in lisi's Maildir that mentions needle."""
    m = find_in(net.sina, LISI, needle)
    msg = email.message_from_bytes(m)
    assert msg.get_content_type() == "multipart/report"
    assert msg.get_param("report-type") == "delivery-status"
    assert msg["From"].startswith("MAILER-DAEMON@")
    return msg


def test_null_mx_bounces_at_once_with_5_1_10(net):
    net.sina.submit(LISI, ["x@nullmx.test"], message("to null mx"))
    msg = bounce_for(net, "x@nullmx.test")
    text = msg.as_string()
    assert "5.1.10" in text
    assert "Action: failed" in text
    assert "to null mx" in text  # the original headers are attached


def test_loop_is_detected_and_bounced(net):
    net.sina.submit(LISI, ["x@loop.test"], message("loop mail"))
    msg = bounce_for(net, "x@loop.test")
    assert "loops back to myself" in msg.as_string()


def test_unknown_remote_user_bounces_with_the_remote_reply(net):
    net.sina.submit(LISI, ["nobody@sohu.test"], message("to nobody"))
    text = bounce_for(net, "nobody@sohu.test").as_string()
    assert "5.1.1" in text
    assert "Diagnostic-Code: smtp; 550 5.1.1" in text
    assert "Remote-MTA: dns; mx.sohu.test" in text


def test_one_message_three_destinations_each_on_its_own(net):
    # one defers (down.test), two are delivered; the delivered ones are
    # not sent again when the deferred one is retried
    net.sina.submit(LISI, [WANGWU, "u@amx.test", "x@down.test"],
                    message("three ways"))
    find_in(net.sohu, WANGWU, "three ways")
    find_in(net.sohu, "u@amx.test", "three ways")
    wait_for(lambda: [l for l in net.sina.log_lines("to=<x@down.test>")
                      if "status=deferred" in l], 30)
    r = net.sina.queue("flush")
    assert r.returncode == 0, r.stderr
    wait_for(lambda: len([l for l in net.sina.log_lines("to=<x@down.test>")
                          if "status=deferred" in l]) >= 2, 30)
    count = sum(1 for m in maildir_messages(net.sohu.maildir(WANGWU))
                if b"three ways" in m)
    assert count == 1


def test_down_destination_defers_then_delivers_after_flush(net):
    net.sohu.stop()
    try:
        net.sina.submit(LISI, [WANGWU], message("while down"))
        line = wait_for(lambda: [l for l in net.sina.log_lines(
            "to=<%s>" % WANGWU) if "status=deferred" in l], 30,
            what="a deferral")[0]
        assert "connect to mx.sohu.test[127.0.0.3]:%d: Connection refused" \
            % net.mx_port in line, line
        assert "dsn=4.4.1" in line
    finally:
        net.sohu.start()
    assert not any(b"while down" in m for m in
                   maildir_messages(net.sohu.maildir(WANGWU)))
    r = net.sina.queue("flush")
    assert r.returncode == 0, r.stderr
    find_in(net.sohu, WANGWU, "while down")


def test_relay_domain_through_transport_maps(mw_bin):
    """sina relays relayed.test for anyone (relay_domains) to a nexthop
    named in transport_maps; error: bounces; other domains stay denied."""
    import smtplib
    with OutboundNet(mw_bin, ZONE) as n:
        tm = n.sina.dir / "transport"
        tm.write_text("relayed.test smtp:[%s]:%d\n"
                      "refused.test error:this domain takes no mail\n"
                      % (SOHU_IP, n.mx_port))
        n.sina.stop()
        n.sina.set_params({"relay_domains": "relayed.test, refused.test",
                           "transport_maps": "texthash:%s" % tm})
        n.sina.start()
        n.sohu.cli("domain", "add", "relayed.test", check=True)
        n.sohu.cli("user", "add", "r@relayed.test", input="pw\n",
                   check=True)
        with smtplib.SMTP(n.sina.ip, n.sina.smtp_port, timeout=30) as c:
            c.ehlo("outside.example")
            assert c.mail("someone@outside.example")[0] == 250
            assert c.rcpt("r@relayed.test")[0] == 250
            assert c.rcpt("x@refused.test")[0] == 250
            code, _ = c.rcpt("x@elsewhere.example")
            assert code == 554
            assert c.data(message("relayed", frm="someone@outside.example",
                                  to="r@relayed.test"))[0] == 250
        find_in(n.sohu, "r@relayed.test", "relayed")
        line = wait_for(lambda: [l for l in n.sina.log_lines(
            "to=<x@refused.test>") if "status=bounced" in l], 30)[0]
        assert "this domain takes no mail" in line


def test_transport_local_delivers_the_local_part_here(mw_bin):
    """transport local: for a domain that is not local delivers the local
    part as local@$myorigin (Postfix's local(8) ignores the domain);
    an unknown local part bounces with 5.1.1."""
    import smtplib
    with OutboundNet(mw_bin, ZONE) as n:
        tm = n.sina.dir / "transport"
        tm.write_text("inhouse.test local:\n")
        n.sina.stop()
        n.sina.set_params({"relay_domains": "inhouse.test",
                           "myorigin": "sina.test",
                           "transport_maps": "texthash:%s" % tm})
        n.sina.start()
        with smtplib.SMTP(n.sina.ip, n.sina.smtp_port, timeout=30) as c:
            c.ehlo("outside.example")
            assert c.mail("someone@outside.example")[0] == 250
            assert c.rcpt("lisi@inhouse.test")[0] == 250
            assert c.rcpt("ghost@inhouse.test")[0] == 250
            assert c.data(message("inhouse", frm="someone@outside.example",
                                  to="lisi@inhouse.test"))[0] == 250
        got = find_in(n.sina, LISI, "inhouse")
        assert b"Delivered-To: lisi@sina.test" in got
        line = wait_for(lambda: [l for l in n.sina.log_lines(
            "to=<ghost@sina.test>") if "status=bounced" in l], 30)[0]
        assert "dsn=5.1.1" in line
        sent = wait_for(lambda: [l for l in n.sina.log_lines(
            "to=<lisi@sina.test>") if "status=sent" in l], 30)[0]
        assert "orig_to=<lisi@inhouse.test>" in sent


class Blackhole:
    """Accepts TCP connections on (ip, port) and never greets: the first
    connection is held open, later ones are closed at once."""

    def __init__(self, ip, port):
        import socket
        import threading
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((ip, port))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.conns = []
        self.count = 0
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        import socket
        while not self.stop.is_set():
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            self.count += 1
            if self.count == 1:
                self.conns.append(c)
            else:
                c.close()

    def close(self):
        self.stop.set()
        self.t.join()
        for c in self.conns:
            c.close()
        self.sock.close()


def queue_pid(inst):
    lines = [l for l in inst.log_text().splitlines()
             if "mailwright/queue[" in l and "started:" in l]
    return int(lines[-1].split("mailwright/queue[")[1].split("]")[0])


def test_kill_9_of_the_queue_sends_nothing_twice(net):
    import os
    import signal
    hole = Blackhole(DEAD_IP, net.mx_port)
    try:
        net.sina.submit(LISI, [WANGWU, "u@amx.test", "x@down.test"],
                        message("kill nine"))
        find_in(net.sohu, WANGWU, "kill nine")
        find_in(net.sohu, "u@amx.test", "kill nine")
        wait_for(lambda: hole.count >= 1, 30, what="the held connection")
        # the two deliveries are on record (docs/queue.md: only a crash
        # before that record may repeat a delivery)
        wait_for(lambda: any(
            "sent 0 wangwu" in f.read_text() and "sent 1 u" in f.read_text()
            for f in (queue_dir(net.sina) / "defer").iterdir()), 30,
            what="the state file with both deliveries")
        old = queue_pid(net.sina)
        os.kill(old, signal.SIGKILL)
        wait_for(lambda: queue_pid(net.sina) != old, 60,
                 what="the queue restarted")
        # the restarted queue retries the message: only down.test again
        wait_for(lambda: hole.count >= 2, 60, what="the retry")
        wait_for(lambda: [l for l in net.sina.log_lines("to=<x@down.test>")
                          if "status=deferred" in l and "lost connection"
                          in l], 60, what="the retry's deferral")
    finally:
        hole.close()
    for addr in (WANGWU, "u@amx.test"):
        copies = [m for m in maildir_messages(net.sohu.maildir(addr))
                  if b"kill nine" in m]
        assert len(copies) == 1, addr


# --- DSN (RFC 3461) ------------------------------------------------------

def test_dsn_is_offered(net):
    import smtplib
    with smtplib.SMTP(net.sohu.ip, net.sohu.smtp_port, timeout=30) as c:
        c.ehlo("x.example")
        assert c.has_extn("dsn")


def test_notify_success_is_reported_by_the_final_server(net):
    # sohu offers DSN, so sina passes NOTIFY on and sohu reports delivery
    net.sina.submit(LISI, [WANGWU], message("notify success"),
                    mail_options=["ENVID=QQ314159"],
                    rcpt_options=["NOTIFY=SUCCESS,FAILURE",
                                  "ORCPT=rfc822;" + WANGWU])
    find_in(net.sohu, WANGWU, "notify success")
    m = find_in(net.sina, LISI, "Action: delivered")
    msg = email.message_from_bytes(m)
    assert msg["Subject"] == "Successful Mail Delivery Report"
    text = msg.as_string()
    assert "Original-Envelope-Id: QQ314159" in text
    assert "Reporting-MTA: dns; mx.sohu.test" in text
    assert "Original-Recipient: rfc822; " + WANGWU in text


def test_notify_never_sends_no_bounce(net):
    net.sina.submit(LISI, ["ghost1@sohu.test"], message("never tell"),
                    rcpt_options=["NOTIFY=NEVER"])
    wait_for(lambda: [l for l in net.sina.log_lines("to=<ghost1@sohu.test>")
                      if "status=bounced" in l], 30)
    # the bounce of a later failure arrives, this one never does
    net.sina.submit(LISI, ["ghost2@sohu.test"], message("do tell"))
    find_in(net.sina, LISI, "ghost2@sohu.test")
    assert not any(b"ghost1@sohu.test" in m for m in
                   maildir_messages(net.sina.maildir(LISI)))


def test_ret_full_returns_the_whole_message(net):
    net.sina.submit(LISI, ["ghost3@sohu.test"],
                    message("full return", body="the secret body line\n"),
                    mail_options=["RET=FULL"])
    m = find_in(net.sina, LISI, "ghost3@sohu.test")
    msg = email.message_from_bytes(m)
    parts = [p.get_content_type() for p in msg.walk()]
    assert "message/rfc822" in parts, parts
    assert b"the secret body line" in m


def test_bad_dsn_parameters_get_501(net):
    import smtplib
    with smtplib.SMTP(net.sohu.ip, net.sohu.smtp_port, timeout=30) as c:
        c.ehlo("x.example")
        code, msg = c.mail("a@b.example", ["RET=MAYBE"])
        assert code == 501, (code, msg)
        assert c.noop()[0] == 250
        assert c.mail("a@b.example", ["RET=HDRS", "ENVID=x+41"])[0] == 250
        code, _ = c.rcpt(WANGWU, ["NOTIFY=NEVER,SUCCESS"])
        assert code == 501
        assert c.rcpt(WANGWU, ["NOTIFY=DELAY"])[0] == 250


def test_relayhost_with_auth(mw_bin):
    """sina sends everything through sohu's submission port (relayhost
    [host]:port, no MX lookup), over STARTTLS with AUTH PLAIN from
    smtp_sasl_password_maps; a wrong password defers the mail."""
    with OutboundNet(mw_bin, ZONE) as n:
        n.sohu.cli("user", "add", "relay@sohu.test", input="relay-pw\n",
                   check=True)
        pw = n.sina.dir / "sasl_passwd"
        key = "[%s]:%d" % (SOHU_IP, n.sohu.submission_port)
        pw.write_text("%s relay@sohu.test:relay-pw\n" % key)
        n.sina.stop()
        n.sina.set_params({"relayhost": key,
                           "smtp_sasl_auth_enable": "yes",
                           "smtp_sasl_password_maps": "texthash:%s" % pw})
        n.sina.start()
        n.sina.submit(LISI, [WANGWU], message("via relayhost"))
        find_in(n.sohu, WANGWU, "via relayhost")
        assert n.sohu.log_lines("sasl_username=relay@sohu.test")
        sent = [l for l in n.sina.log_lines("to=<%s>" % WANGWU)
                if "status=sent" in l]
        assert "relay=%s[%s]:%d" % (SOHU_IP, SOHU_IP,
                                    n.sohu.submission_port) in sent[0]
        # a wrong password: deferred, and said why
        pw.write_text("%s relay@sohu.test:wrong\n" % key)
        n.sina.stop()
        n.sina.start()
        n.sina.submit(LISI, [WANGWU], message("bad password"))
        line = wait_for(lambda: [l for l in n.sina.log_lines(
            "to=<%s>" % WANGWU) if "status=deferred" in l], 60)[0]
        assert "SASL authentication failed" in line, line


def test_delay_warning_after_delay_warning_time(mw_bin):
    with OutboundNet(mw_bin, ZONE,
                     sina_params={"delay_warning_time": "1s"}) as n:
        n.sina.submit(LISI, ["late@down.test"], message("slow mail"))
        wait_for(lambda: n.sina.log_lines("to=<late@down.test>"), 30)

        def warned():
            n.sina.queue("flush")
            for m in maildir_messages(n.sina.maildir(LISI)):
                if b"Delayed Mail" in m:
                    return m
            return None
        m = wait_for(warned, 60, interval=0.5, what="the delay warning")
        msg = email.message_from_bytes(m)
        text = msg.as_string()
        assert "Action: delayed" in text
        assert "Will-Retry-Until:" in text
        assert "late@down.test" in text
        # once only, and the message is still queued
        for _ in range(3):
            n.sina.queue("flush")
        wait_for(lambda: len([l for l in n.sina.log_lines(
            "to=<late@down.test>") if "status=deferred" in l]) >= 4, 30)
        assert sum(1 for m in maildir_messages(n.sina.maildir(LISI))
                   if b"Delayed Mail" in m) == 1


def big_body():
    lines = []
    for i in range(40000):
        # dots at line starts must survive dot-stuffing (DATA) and pass
        # untouched through BDAT
        lines.append((".%d line of a big message" % i) if i % 7 == 0
                     else ("line %d " % i) + "x" * 60)
    return "\n".join(lines) + "\n"


def check_big(n, chunking):
    body = big_body()
    tag = "big %s" % chunking
    n.sina.submit(LISI, [WANGWU], message(tag, body=body))
    m = find_in(n.sohu, WANGWU, tag)
    got = m.split(b"\n\n", 1)[1] if b"\n\n" in m else b""
    assert got == body.encode(), "content differs"
    disc = wait_for(lambda: [l for l in n.sohu.log_lines("disconnect from")
                             if "[127.0.0.2]" in l], 30)
    assert ("bdat=" in disc[-1]) == (chunking == "yes"), disc[-1]


def test_big_message_over_bdat_byte_exact(net):
    check_big(net, "yes")


def test_big_message_over_data_byte_exact(mw_bin):
    with OutboundNet(mw_bin, ZONE,
                     sina_params={"smtp_use_chunking": "no"}) as n:
        check_big(n, "no")


def test_pflogsumm_counts_the_log(mw_bin):
    """pflogsumm (Debian's) reads the log as it reads Postfix's."""
    import subprocess
    with OutboundNet(mw_bin, ZONE) as n:
        for i in range(3):
            n.sina.submit(LISI, [WANGWU], message("summed %d" % i))
        n.sina.submit(LISI, ["nobody@sohu.test"], message("summed bounce"))
        n.sina.submit(LISI, ["x@down.test"], message("summed defer"))
        for i in range(3):
            find_in(n.sohu, WANGWU, "summed %d" % i)
        find_in(n.sina, LISI, "nobody@sohu.test")  # the bounce arrived
        wait_for(lambda: [l for l in n.sina.log_lines("to=<x@down.test>")
                          if "status=deferred" in l], 30)
        r = subprocess.run(["pflogsumm", "--syslog-name=mailwright",
                            "--smtpd-stats", str(n.sina.log_path)],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        counts = {}
        for line in r.stdout.splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0].isdigit():
                counts.setdefault(parts[1], int(parts[0]))
        assert counts.get("received") == 5, r.stdout[:2000]
        # three to sohu, and the bounce into lisi's own mailbox
        assert counts.get("delivered") == 4, r.stdout[:2000]
        assert counts.get("deferred") == 1, r.stdout[:2000]
        assert counts.get("bounced") == 1, r.stdout[:2000]


# --- TLS levels (smtp_tls_security_level, smtp_tls_policy_maps) -----------

def test_tls_verify_with_the_peer_certificate_as_ca(mw_bin):
    """verify: sohu's self-signed certificate as sina's trust anchor: the
    chain and the name mx.sohu.test check out ("Verified")."""
    with OutboundNet(mw_bin, ZONE) as n:
        n.sina.stop()
        n.sina.set_params({
            "smtp_tls_security_level": "verify",
            "smtp_tls_CAfile": str(n.sohu.dir / "tls" / "cert.pem")})
        n.sina.start()
        n.sina.submit(LISI, [WANGWU], message("verified mail"))
        find_in(n.sohu, WANGWU, "verified mail")
        assert n.sina.log_lines("Verified TLS connection established to "
                                "mx.sohu.test[127.0.0.3]")


def test_tls_verify_failure_defers_and_sends_nothing_in_clear(mw_bin):
    """verify with the system CA store: the self-signed peer does not
    verify; the mail is deferred, never sent without TLS."""
    with OutboundNet(mw_bin, ZONE) as n:
        pol = n.sina.dir / "tls_policy"
        pol.write_text("sohu.test verify\n")
        n.sina.stop()
        n.sina.set_params({"smtp_tls_policy_maps": "texthash:%s" % pol})
        n.sina.start()
        n.sina.submit(LISI, [WANGWU], message("unverified mail"))
        line = wait_for(lambda: [l for l in n.sina.log_lines(
            "to=<%s>" % WANGWU) if "status=deferred" in l], 30)[0]
        assert "Server certificate not verified" in line, line
        assert "dsn=4.7.5" in line
        assert not any(b"unverified mail" in m for m in
                       maildir_messages(n.sohu.maildir(WANGWU)))


def test_tls_encrypt_with_a_peer_without_starttls_defers(mw_bin):
    with OutboundNet(mw_bin, ZONE, sohu_params={
            "smtpd_tls_security_level": "none"}) as n:
        n.sina.stop()
        n.sina.set_params({"smtp_tls_security_level": "encrypt"})
        n.sina.start()
        n.sina.submit(LISI, [WANGWU], message("must encrypt"))
        line = wait_for(lambda: [l for l in n.sina.log_lines(
            "to=<%s>" % WANGWU) if "status=deferred" in l], 30)[0]
        assert "TLS is required, but was not offered" in line, line
        assert not any(b"must encrypt" in m for m in
                       maildir_messages(n.sohu.maildir(WANGWU)))


def test_active_limit_lets_every_message_through_in_turn(mw_bin):
    with OutboundNet(mw_bin, ZONE,
                     sina_params={"qmgr_message_active_limit": "2"}) as n:
        for i in range(12):
            n.sina.submit(LISI, [WANGWU, "x@down.test"],
                          message("turn %d" % i))
        for i in range(12):
            find_in(n.sohu, WANGWU, "turn %d" % i)


# --- old and limited servers (fake_mx.py) ---------------------------------

def test_helo_fallback_and_no_pipelining(net):
    with FakeMx(FAKE_IP, net.mx_port, ehlo=False) as mx:
        net.sina.submit(LISI, ["a@old.test", "b@old.test"],
                        message("to an old server"))
        wait_for(lambda: mx.messages, 30, what="the message at the fake")
        cmds = mx.commands
        assert any(c.startswith("EHLO ") for c in cmds)
        assert "HELO mx.sina.test" in cmds
        mail, rcpts, data = mx.messages[0]
        assert mail == "MAIL FROM:<%s>" % LISI  # no SIZE= without EHLO
        assert len(rcpts) == 2
        assert b"to an old server" in data


def test_size_limit_of_the_server_bounces_without_sending(net):
    with FakeMx(FAKE_IP, net.mx_port, size=1000) as mx:
        net.sina.submit(LISI, ["big@old.test"],
                        message("too big for it", body="y" * 5000 + "\n"))
        text = bounce_for(net, "big@old.test").as_string()
        assert "5.3.4" in text
        assert "exceeds size limit 1000" in text
        assert not any(c.startswith("MAIL") for c in mx.commands)


def test_smtputf8_message_to_a_server_without_it_bounces(net):
    with FakeMx(FAKE_IP, net.mx_port):
        rcpt = "\u7528\u6237@old.test"
        net.sina.submit(LISI, [rcpt], message("utf8 mail"),
                        mail_options=["SMTPUTF8"])
        m = find_in(net.sina, LISI, "SMTPUTF8 is required")
        assert b"5.6.7" in m


def test_each_recipient_gets_its_own_reply(net):
    replies = {"later@old.test": "450 4.2.0 try later",
               "gone@old.test": "550 5.1.1 no such user"}
    with FakeMx(FAKE_IP, net.mx_port, extensions=(),
                rcpt_reply=lambda a: replies.get(a, "250 2.1.5 Ok")) as mx:
        net.sina.submit(LISI, ["ok@old.test", "later@old.test",
                               "gone@old.test"], message("three replies"))
        wait_for(lambda: mx.messages, 30)
        assert [r for r in mx.messages[0][1]] == ["RCPT TO:<ok@old.test>"]
        text = bounce_for(net, "gone@old.test").as_string()
        assert "550 5.1.1 no such user" in text
        assert "Final-Recipient: rfc822; gone@old.test" in text
        assert "Final-Recipient: rfc822; later@old.test" not in text
        line = wait_for(lambda: [l for l in net.sina.log_lines(
            "to=<later@old.test>") if "status=deferred" in l], 30)[0]
        assert "450 4.2.0 try later (in reply to RCPT TO command)" in line


def test_alias_to_an_outside_address_is_forwarded(net):
    # sohu forwards fwd@sohu.test to lisi@sina.test and keeps a copy for
    # wangwu: one recipient, a local and a remote destination
    net.sohu.cli("alias", "add", "fwd@sohu.test", LISI, check=True)
    net.sohu.cli("alias", "add", "fwd@sohu.test", WANGWU, check=True)
    net.sina.submit(LISI, ["fwd@sohu.test"], message("forward me"))
    find_in(net.sohu, WANGWU, "forward me")
    m = find_in(net.sina, LISI, "forward me")
    assert b"Delivered-To: lisi@sina.test" in m
    line = wait_for(lambda: [l for l in net.sohu.log_lines(
        "to=<%s>, orig_to=<fwd@sohu.test>" % LISI)], 30)[0]
    assert "status=sent" in line, line


def test_8bit_to_a_server_without_8bitmime_goes_as_quoted_printable(net):
    import quopri
    body = "Gr\u00fc\u00dfe aus Peking, \u4f60\u597d!\n= and trailing  \n"
    raw = ("From: %s\r\nTo: x@old.test\r\nSubject: eight bits\r\n"
           "MIME-Version: 1.0\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n"
           "Content-Transfer-Encoding: 8bit\r\n\r\n%s" % (
               LISI, body.replace("\n", "\r\n"))).encode()
    with FakeMx(FAKE_IP, net.mx_port) as mx:  # PIPELINING only
        net.sina.submit(LISI, ["x@old.test"], raw,
                        mail_options=["BODY=8BITMIME"])
        wait_for(lambda: mx.messages, 30)
        mail, _, data = mx.messages[0]
        assert "BODY=8BITMIME" not in mail
        assert max(data) < 0x80, "8-bit bytes went to a 7-bit server"
        head, _, qp = data.partition(b"\r\n\r\n")
        assert b"Content-Transfer-Encoding: quoted-printable" in head
        assert quopri.decodestring(qp).decode() == body.replace("\n", "\r\n")


def test_idle_connections_are_reused(mw_bin):
    """smtp_connection_cache_time_limit: messages that follow each other
    to one destination share a connection (RSET between)."""
    with OutboundNet(mw_bin, ZONE, sina_params={
            "smtp_connection_cache_time_limit": "30s"}) as n:
        def conns():
            return [l for l in n.sohu.log_lines("connect from")
                    if "[127.0.0.2]" in l and "disconnect" not in l]
        for i in range(3):
            n.sina.submit(LISI, [WANGWU], message("cached %d" % i))
            find_in(n.sohu, WANGWU, "cached %d" % i)
        assert len(conns()) == 1, conns()


def test_a_cached_connection_quits_when_its_time_is_over(mw_bin):
    """With one connection allowed, the cached one must end cleanly (QUIT
    read to the 221) after the cache time, or the next message would wait
    for ever."""
    with OutboundNet(mw_bin, ZONE, sina_params={
            "smtp_connection_cache_time_limit": "1s",
            "smtp_destination_concurrency_limit": "1",
            "smtp_initial_destination_concurrency": "1"}) as n:
        n.sina.submit(LISI, [WANGWU], message("before the quit"))
        find_in(n.sohu, WANGWU, "before the quit")
        wait_for(lambda: [l for l in n.sohu.log_lines("disconnect from")
                          if "[127.0.0.2]" in l and "quit=1" in l], 30,
                 what="sina's QUIT after the cache time")
        n.sina.submit(LISI, [WANGWU], message("after the quit"))
        find_in(n.sohu, WANGWU, "after the quit", timeout=30)
