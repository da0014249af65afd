"""A DNSSEC-signed test DNS: Debian's nsd (authoritative) on a free
loopback port, run in the foreground and stopped by its pid, serving
zones signed with ldns-signzone (ldnsutils) with keys made by ldns-keygen,
and a trust anchor file (the zones' DNSKEY records) for mailwright's
dns_trust_anchor_file. Nothing leaves loopback; everything lives in one
temporary directory.

    zones = {"sohu.test": Zone(["@ MX 10 mx", "mx A 127.0.0.3"]),
             "sina.test": Zone([...], signed=False),
             "qq.test": Zone([...], bogus=True)}
    with SignedDns(zones) as dns:
        inst.set_params({"dns_servers": dns.spec, **dns.params})

zones may also be a function that returns them, called on entering (when
records depend on files made after the server object, as certificates).

A bogus zone is signed with one key while the trust anchor names another,
so that every answer from it fails validation (RFC 4035 5.5).
"""

import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time
from pathlib import Path

NSD = shutil.which("nsd") or "/usr/sbin/nsd"


class Zone:
    def __init__(self, records, signed=True, bogus=False):
        self.records = list(records)
        self.signed = signed or bogus
        self.bogus = bogus


def _free_port(host):
    """A port free for both UDP and TCP on host."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind((host, 0))
            port = u.getsockname()[1]
            with socket.socket() as t:
                try:
                    t.bind((host, port))
                except OSError:
                    continue
            return port
    raise AssertionError("no free port for nsd")


def _run(args, cwd):
    r = subprocess.run(args, cwd=cwd, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, "%s: %s" % (args[0], r.stderr)
    return r.stdout.strip()


def _keygen(zone, cwd):
    """A new ECDSA P-256 (RFC 6605) key-signing key: its file base name."""
    return _run(["ldns-keygen", "-a", "ECDSAP256SHA256", "-k", zone], cwd)


def _soa_query(name):
    q = struct.pack("!HHHHHH", 0x4d57, 0, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\0" + struct.pack("!HH", 6, 1)


class SignedDns:
    def __init__(self, zones, host="127.0.0.1"):
        self.zones = zones
        self.host = host
        self.port = _free_port(host)
        self.spec = "%s:%d" % (host, self.port)
        self.dir = Path(tempfile.mkdtemp(prefix="mw-nsd-", dir="/tmp"))
        os.chmod(self.dir, 0o755)
        self.trust_anchor = self.dir / "trust-anchors.key"
        # what mailwright instances need to validate from these anchors
        self.params = {"dns_trust_anchor_file": str(self.trust_anchor)}
        self.proc = None

    def _write_zones(self):
        if callable(self.zones):
            self.zones = self.zones()
        anchors, conf = [], []
        for name, z in self.zones.items():
            path = self.dir / (name + ".zone")
            lines = ["$ORIGIN %s." % name, "$TTL 60",
                     "@ SOA ns.%s. hostmaster.%s. 1 3600 600 86400 5" %
                     (name, name),
                     "@ NS ns.%s." % name, "ns A %s" % self.host]
            path.write_text("\n".join(lines + z.records) + "\n")
            zonefile = path.name
            if z.signed:
                key = _keygen(name, self.dir)
                _run(["ldns-signzone", "-f", path.name + ".signed",
                      path.name, key], self.dir)
                zonefile = path.name + ".signed"
                if z.bogus:
                    key = _keygen(name, self.dir)  # not the signer
                anchors.append((self.dir / (key + ".key")).read_text())
            conf.append("zone:\n    name: %s\n    zonefile: %s\n" %
                        (name, zonefile))
        self.trust_anchor.write_text("".join(anchors))
        os.chmod(self.trust_anchor, 0o644)
        return conf

    def __enter__(self):
        zones = self._write_zones()
        d = self.dir
        (d / "nsd.conf").write_text(
            "server:\n"
            "    ip-address: %s@%d\n"
            "    port: %d\n"
            "    do-ip6: no\n"
            "    username: \"\"\n"
            "    chroot: \"\"\n"
            "    zonesdir: \"%s\"\n"
            "    database: \"\"\n"
            "    zonelistfile: \"%s/zone.list\"\n"
            "    xfrdfile: \"%s/xfrd.state\"\n"
            "    xfrdir: \"%s\"\n"
            "    pidfile: \"%s/nsd.pid\"\n"
            "    server-count: 1\n"
            "    verbosity: 1\n"
            "remote-control:\n"
            "    control-enable: no\n" % (
                self.host, self.port, self.port, d, d, d, d, d)
            + "".join(zones))
        self.log = open(d / "nsd.log", "wb")
        self.proc = subprocess.Popen(
            [NSD, "-d", "-c", str(d / "nsd.conf")], stdout=self.log,
            stderr=subprocess.STDOUT)
        try:
            self._wait_ready(next(iter(self.zones)))
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _wait_ready(self, zone, timeout=30):
        deadline = time.monotonic() + timeout
        q = _soa_query(zone)
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("nsd exited: %s" % (
                    self.dir / "nsd.log").read_text())
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.settimeout(0.2)
                try:
                    s.sendto(q, (self.host, self.port))
                    if len(s.recv(4096)) >= 12:
                        return
                except OSError:
                    pass
        raise AssertionError("nsd did not answer within %ds" % timeout)

    def __exit__(self, *exc):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self.log.close()
        if not os.environ.get("MW_KEEP_INSTANCES"):
            shutil.rmtree(self.dir, ignore_errors=True)
