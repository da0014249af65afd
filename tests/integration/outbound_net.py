"""A test network on loopback for outbound delivery: two (or more)
mailwright instances on their own loopback addresses (sina.test on
127.0.0.2, sohu.test on 127.0.0.3), each with an MX listener on one shared
port (what smtp_tcp_port points the SMTP client at, as port 25 would be)
and a submission listener, and a DNS server of the test's own that serves
their MX and A records (dns_server.py). Nothing leaves loopback: every
instance asks only that DNS server (dns_servers).

    with OutboundNet(mw_bin, zone_extra) as net:
        net.sina.submit("lisi@sina.test", ["wangwu@sohu.test"], msg)

dns= replaces that server: a function of the OutboundNet (before its
instances exist on disk) that returns a context manager with .spec and,
optionally, .params for both instances (dnssec_server.SignedDns: its
trust anchor); it is entered once the instances are set up (their
certificates written), before they start.
"""

import os
import shutil
import smtplib
import socket
import ssl
import tempfile
from pathlib import Path

from conftest import Instance, wait_for
from dns_server import DnsServer

SINA_IP = "127.0.0.2"
SOHU_IP = "127.0.0.3"
DEAD_IP = "127.0.0.4"  # an address where nothing listens


def free_port_on(ips):
    """A TCP port free on every address of ips."""
    for _ in range(100):
        with socket.socket() as s:
            s.bind((ips[0], 0))
            port = s.getsockname()[1]
        ok = True
        for ip in ips[1:]:
            with socket.socket() as t:
                try:
                    t.bind((ip, port))
                except OSError:
                    ok = False
        if ok:
            return port
    raise AssertionError("no common free port")


def read_banner_at(host, port, timeout=5.0):
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            data = b""
            while b"\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    return None
                data += chunk
            s.sendall(b"QUIT\r\n")
            return data.split(b"\r\n", 1)[0].decode()
    except OSError:
        return None


class HostInstance(Instance):
    """An Instance whose listeners are on one loopback address."""

    def __init__(self, mw_bin, dir, ip, domain, hostname):
        super().__init__(mw_bin, dir)
        self.ip = ip
        self.domain = domain
        self.hostname = hostname

    def setup(self, mx_port, dns_spec, users, params=None):
        self.init(domain=self.domain, hostname=self.hostname)
        self.ports["smtp_port"] = mx_port
        self.ports["submission_port"] = free_port_on([self.ip])
        self.set_params({
            "smtpd_listen": "%s:%d" % (self.ip, mx_port),
            "submission_listen": "%s:%d" % (self.ip, self.submission_port),
            "smtps_listen": "", "imap_listen": "", "imaps_listen": "",
            "pop3_listen": "", "pop3s_listen": "",
            "dns_servers": dns_spec,
            "dns_timeout": "3s",
            "smtp_tcp_port": str(mx_port),
            "smtp_bind_address": self.ip,
            # deliveries are retried by the tests (queue flush), and a
            # destination that is down is suspended only briefly
            "minimal_backoff_time": "300s",
            "maximal_backoff_time": "600s",
            "smtp_connect_timeout": "5s",
        })
        if params:
            self.set_params(params)
        self.users = dict(users)
        self.add_users()

    def wait_ready(self, timeout=60):
        def greeted():
            if self.proc.poll() is not None:
                raise AssertionError("serve exited with %s; log:\n%s" % (
                    self.proc.returncode, self.log_text()))
            b = read_banner_at(self.ip, self.smtp_port)
            return b is not None and b.startswith("220")
        wait_for(greeted, timeout, interval=0.05, what="%s greeting" %
                 self.domain)

    def submit(self, user, rcpts, msg, password=None, mail_options=(),
               rcpt_options=()):
        """Sends msg (bytes or str) on the submission port with STARTTLS
        and AUTH PLAIN, as a mail client does."""
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with smtplib.SMTP(self.ip, self.submission_port, timeout=60) as c:
            c.ehlo("client.example")
            c.starttls(context=ctx)
            c.ehlo("client.example")
            c.login(user, password or self.users[user])
            return c.sendmail(user, rcpts, msg, list(mail_options),
                              list(rcpt_options))

    def queue(self, *args):
        return self.cli("queue", *args)

    def log_lines(self, needle):
        return [l for l in self.log_text().splitlines() if needle in l]


class OutboundNet:
    def __init__(self, mw_bin, zone_extra=None, sina_params=None,
                 sohu_params=None, dns=None):
        self.mx_port = free_port_on([SINA_IP, SOHU_IP, DEAD_IP])
        self.base = tempfile.mkdtemp(prefix="mw-", dir="/tmp")
        os.chmod(self.base, 0o755)
        b = Path(self.base)
        (b / "sina").mkdir()
        (b / "sohu").mkdir()
        os.chmod(b / "sina", 0o755)
        os.chmod(b / "sohu", 0o755)
        self.sina = HostInstance(mw_bin, b / "sina" / "inst", SINA_IP,
                                 "sina.test", "mx.sina.test")
        self.sohu = HostInstance(mw_bin, b / "sohu" / "inst", SOHU_IP,
                                 "sohu.test", "mx.sohu.test")
        if dns is None:
            zone = {
                "sina.test": {"MX": [(10, "mx.sina.test")]},
                "mx.sina.test": {"A": [SINA_IP]},
                "sohu.test": {"MX": [(10, "mx.sohu.test")]},
                "mx.sohu.test": {"A": [SOHU_IP]},
            }
            zone.update(zone_extra or {})
            self.dns = DnsServer(zone)
        else:
            self.dns = dns(self)
        extra = dict(getattr(self.dns, "params", {}))
        self.sina_params = dict(extra, **(sina_params or {}))
        self.sohu_params = dict(extra, **(sohu_params or {}))
        self._dns_entered = False

    def __enter__(self):
        try:
            self.sina.setup(self.mx_port, self.dns.spec,
                            {"lisi@sina.test": "pw-lisi"}, self.sina_params)
            self.sohu.setup(self.mx_port, self.dns.spec,
                            {"wangwu@sohu.test": "pw-wangwu"},
                            self.sohu_params)
            self.dns.__enter__()
            self._dns_entered = True
            self.sina.start()
            self.sohu.start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        for inst in (self.sina, self.sohu):
            try:
                inst.stop()
            except AssertionError:
                pass
        if self._dns_entered:
            self.dns.__exit__(*exc)
        # a service that crashed is restarted by the master; the log
        # still tells (and under ASan, why)
        bad = [inst.domain for inst in (self.sina, self.sohu)
               if "ERROR: AddressSanitizer" in inst.log_text() or
               "runtime error:" in inst.log_text()]
        logs = {inst.domain: inst.log_text() for inst in
                (self.sina, self.sohu)}
        if not os.environ.get("MW_KEEP_INSTANCES"):
            shutil.rmtree(self.base, ignore_errors=True)
        if bad and exc[0] is None:
            raise AssertionError("sanitizer report in the log of %s:\n%s"
                                 % (bad, logs[bad[0]][-6000:]))
