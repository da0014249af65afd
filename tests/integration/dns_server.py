"""A small authoritative DNS server on a loopback UDP port, for tests that
point mailwright's dns_servers at it (RFC 1035 4.1 message format).

    with DnsServer({"mx.test": {"MX": [(10, "mail.mx.test")]},
                    "mail.mx.test": {"A": ["192.0.2.1"]}}) as dns:
        inst.set_param("dns_servers", dns.spec)

Names not in the zone answer NXDOMAIN; a name without records of the
asked type answers NODATA (NOERROR, no answer, an SOA in the authority
section, as negative answers carry: RFC 2308 2). Behaviours by name:
{"SERVFAIL": True} answers SERVFAIL, {"DROP": True} never answers,
{"DELAY": (lo, hi), ...} answers after a random lo..hi seconds.
Every question is recorded in .queries as (name, type name)."""

import ipaddress
import random
import socket
import struct
import threading

TYPES = {"A": 1, "NS": 2, "SOA": 6, "MX": 15, "TXT": 16, "AAAA": 28}
TYPE_NAMES = {v: k for k, v in TYPES.items()}


def _name(name):
    """A domain name in wire form, uncompressed; "" or "." is the root."""
    out = b""
    for label in name.strip(".").split("."):
        if label:
            raw = label.encode()
            out += bytes([len(raw)]) + raw
    return out + b"\0"


def _rdata(rtype, value):
    if rtype == "A":
        return ipaddress.IPv4Address(value).packed
    if rtype == "AAAA":
        return ipaddress.IPv6Address(value).packed
    if rtype == "MX":
        pref, host = value
        return struct.pack("!H", pref) + _name(host)
    if rtype == "TXT":
        raw = value.encode()
        return bytes([len(raw)]) + raw
    if rtype == "RAW":  # (type number, bytes): anything, even malformed
        return value[1]
    raise ValueError(rtype)


def _rr(owner_ptr, rtype_num, rdata, ttl=60):
    return owner_ptr + struct.pack("!HHIH", rtype_num, 1, ttl,
                                   len(rdata)) + rdata


def _soa():
    rdata = (_name("ns.test") + _name("hostmaster.test") +
             struct.pack("!IIIII", 1, 3600, 600, 86400, 5))
    return _rr(_name("test"), TYPES["SOA"], rdata)


class DnsServer:
    def __init__(self, zone, host="127.0.0.1"):
        self.zone = {k.lower().rstrip("."): v for k, v in zone.items()}
        self.queries = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.spec = "%s:%d" % (host, self.port)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.sock.close()

    def asked(self, name, rtype=None):
        name = name.lower().rstrip(".")
        return [q for q in self.queries
                if q[0] == name and (rtype is None or q[1] == rtype)]

    def _serve(self):
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            reply, delay = self._answer(data)
            if reply is None:
                continue
            if delay:
                threading.Timer(delay, self._send_late,
                                (reply, peer)).start()
            else:
                self.sock.sendto(reply, peer)

    def _send_late(self, reply, peer):
        try:
            self.sock.sendto(reply, peer)
        except OSError:
            pass  # stopped meanwhile

    def _answer(self, q):
        """(the reply or None, seconds to wait before sending it)"""
        if len(q) < 12:
            return None, 0
        qid, flags, qdcount = struct.unpack("!HHH", q[:6])
        if flags & 0x8000 or qdcount != 1:
            return None, 0
        pos, labels = 12, []
        while pos < len(q) and q[pos] != 0:
            n = q[pos]
            labels.append(q[pos + 1:pos + 1 + n].decode("ascii", "replace"))
            pos += 1 + n
        pos += 1
        if pos + 4 > len(q):
            return None, 0
        qtype, _qclass = struct.unpack("!HH", q[pos:pos + 4])
        question = q[12:pos + 4]
        name = ".".join(labels).lower()
        self.queries.append((name, TYPE_NAMES.get(qtype, str(qtype))))
        node = self.zone.get(name)
        rcode, answers, authority = 0, [], []
        if node is None:
            rcode, authority = 3, [_soa()]
        elif node.get("DROP"):
            return None, 0
        elif node.get("SERVFAIL"):
            rcode = 2
        else:
            for rtype, values in node.items():
                if rtype == "DELAY":
                    continue
                for v in values:
                    if rtype == "RAW" and v[0] == qtype:
                        answers.append(_rr(b"\xc0\x0c", qtype, v[1]))
                    elif TYPES.get(rtype) == qtype:
                        answers.append(_rr(b"\xc0\x0c", qtype,
                                           _rdata(rtype, v)))
            if not answers:
                authority = [_soa()]
        # QR, opcode 0, AA, RD as asked, RA
        rflags = 0x8000 | 0x0400 | (flags & 0x0100) | 0x0080 | rcode
        head = struct.pack("!HHHHHH", qid, rflags, 1, len(answers),
                           len(authority), 0)
        delay = random.uniform(*node["DELAY"]) if node and "DELAY" in node \
            else 0
        return (head + question + b"".join(answers) + b"".join(authority),
                delay)
