#!/usr/bin/python3
"""mailq on a big queue (issue #8): fills the queue of a fresh instance
with N committed messages (default 100,000; one in ten deferred, with a
state file holding a reason per recipient), then times `mailq` and
`mailq --json` with the given binary (default build/mailwright, the
optimised build). Run by hand; never a timed test.

    bench/queue_list.py [N] [BINARY]

The files are written in the queue file format of docs/queue.md directly
(no fsync), which is what makes filling 100,000 of them quick.
"""

import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DIGITS = ("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def b62(v, width):
    out = ""
    for _ in range(width):
        out = DIGITS[v % 62] + out
        v //= 62
    return out


def fnv(*parts):
    h = 0xcbf29ce484222325
    for p in parts:
        for c in p:
            h ^= c
            h = (h * 0x100000001b3) & 0xffffffffffffffff
    return h


def queue_file(qid, arrival, body, rcpts):
    env = ("id %s\narrival %d 0\nsize %d\nsender bench@example.org\n"
           "client_name localhost\nclient_addr 127.0.0.1\nhelo \n"
           "proto ESMTP\nsmtputf8 0\nbody_8bit 0\nnrcpt %d\n%send\n" % (
               qid, arrival, len(body), len(rcpts),
               "".join("rcpt %s\n" % r for r in rcpts))).encode()
    nonce = os.urandom(8)
    head = b"MWQF" + struct.pack(">I", 1) + nonce
    tail = b"MWQT" + struct.pack(">I", 1) + nonce + \
        struct.pack(">QQ", len(body), len(env))
    # FNV over header, envelope and trailer[0..32): only the envelope
    # changes from file to file, so hash the constant parts once
    tail += struct.pack(">Q", fnv(head, env, tail))
    return head + body + env + tail


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    here = Path(__file__).resolve().parent
    mw = sys.argv[2] if len(sys.argv) > 2 else str(here.parent / "build" /
                                                     "mailwright")
    base = Path(tempfile.mkdtemp(prefix="mw-bench-"))
    os.chmod(base, 0o755)
    try:
        inst = base / "inst"
        subprocess.run([mw, "init", str(inst)], check=True,
                       stdout=subprocess.DEVNULL)
        q = inst / "queue"
        for d in ("active", "defer", "hold", "incoming", "corrupt"):
            (q / d).mkdir(exist_ok=True)
        body = b"Received: by bench\nSubject: bench\n\n" + b"x" * 2000 + b"\n"
        t0 = time.time()
        start = int(t0) - n
        for i in range(n):
            qid = b62(start + i, 6) + b62(i % 1000000, 4) + b62(1, 4) + \
                b62(i % 238328, 3)
            rcpts = ["r%d@example.net" % k for k in range(1 + i % 3)]
            (q / "active" / qid).write_bytes(
                queue_file(qid, start + i, body, rcpts))
            if i % 10 == 0:
                why = "".join("why %d connect to mx.example.net[192.0.2.1]:25:"
                              "%%20Connection%%20refused\n" % k
                              for k in range(len(rcpts)))
                (q / "defer" / qid).write_text(
                    "version 2\nattempts 3\nnext_retry %d\nnrcpt %d\ndone\n"
                    "%sreason connect to mx.example.net[192.0.2.1]:25: "
                    "Connection refused\n" % (int(t0) + 3600, len(rcpts), why))
        if os.geteuid() == 0:
            subprocess.run(["chown", "-R", "nobody:nogroup", str(q)],
                           check=True)
        print("filled %d messages in %.1f s" % (n, time.time() - t0))
        conf = str(inst / "mailwright.cf")
        for args in (["mailq"], ["mailq", "--json"]):
            best = None
            for _ in range(3):
                t = time.time()
                r = subprocess.run([mw, "-c", conf] + args,
                                   stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE)
                dt = time.time() - t
                assert r.returncode == 0, r.stderr
                best = dt if best is None else min(best, dt)
            print("%-16s %d messages: %.2f s (best of 3), %d bytes out" % (
                " ".join(args), n, best, len(r.stdout)))
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
