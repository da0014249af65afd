"""POP3 cases of `make bench` (issue #9), driven from cases.py:

  pop10k   log in and RETR every message of a 10,000-message mailbox, one
           command at a time and pipelined (RFC 2449), wall time and
           server CPU of the median of 3 sessions each;
  plogin   logins per second (USER/PASS, STAT, QUIT) from 10 parallel
           clients, server CPU per login;
  pidle    PSS per idle logged-in POP3 connection (1,000 open);
  pidles   the same over POP3S (implicit TLS);
  pstat    STAT on a 100,000-message mailbox: the first login after the
           messages were placed (cold: the server builds its index) and the
           next ones (warm).

The mailbox is filled by writing Maildir files straight into new/ (the same
bytes for both servers, named as a delivery agent names them), owned like the
Maildir the server created for an SMTP delivery, so the server sees a
mailbox of N messages that arrived while nobody was looking."""

import os
import socket
import ssl
import subprocess
import threading
import time

import proctree
from mail_client import MailClient

POP_ECHO = os.environ.get(
    "BENCH_POP_ECHO",
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build",
                 "bench", "pop-echo"))

MSG_SIZE = 2048


def log(msg):
    import sys
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def pop3_ports():
    return (int(os.environ.get("MT_POP3_PORT") or 0),
            int(os.environ.get("MT_POP3S_PORT") or 0))


class Pop3:
    """A minimal blocking POP3 client that reads replies itself (poplib
    reads line by line, which would measure poplib). Received bytes are
    scanned in place (an offset into the buffer, compacted now and then),
    so that a pipelined download costs the client little and the figure
    is the server's."""

    def __init__(self, host, port, tls=False, timeout=120):
        s = socket.create_connection((host, port), timeout=timeout)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            s = ctx.wrap_socket(s)
        self.s = s
        self.buf = bytearray()
        self.pos = 0
        self.line()  # greeting

    def _fill(self):
        d = self.s.recv(1 << 20)
        if not d:
            raise RuntimeError("connection closed by the server")
        self.buf += d

    def line(self):
        if self.pos > 1 << 20:  # between responses: compact
            del self.buf[:self.pos]
            self.pos = 0
        while True:
            i = self.buf.find(b"\r\n", self.pos)
            if i != -1:
                break
            self._fill()
        ln = bytes(self.buf[self.pos:i])
        self.pos = i + 2
        if not ln.startswith(b"+OK") and not ln.startswith(b"+ "):
            raise RuntimeError(f"POP3 error: {ln[:200]!r}")
        return ln

    def multi(self):
        """A +OK line, then the data up to CRLF.CRLF; returns its size."""
        self.line()
        start = self.pos
        while True:
            if self.buf.startswith(b".\r\n", self.pos):
                self.pos += 3
                return 0
            i = self.buf.find(b"\r\n.\r\n", max(start, self.pos - 4))
            if i != -1:
                self.pos = i + 5
                return i + 2 - start
            self._fill()

    def cmd(self, c):
        self.s.sendall(c.encode() + b"\r\n")
        return self.line()

    def login(self, user, pw):
        self.cmd(f"USER {user}")
        self.cmd(f"PASS {pw}")

    def stat(self):
        n, size = self.cmd("STAT").split()[1:3]
        return int(n), int(size)

    def close(self):
        try:
            self.s.sendall(b"QUIT\r\n")
            self.line()
        except (OSError, RuntimeError):
            pass
        self.s.close()


def fill_maildir(newdir, count, size, tag):
    """Writes count messages of about size bytes into newdir, owned as
    newdir is; names as a delivery agent makes them (time.M<usec>P<pid>
    .host,S=<size>,W=<vsize>)."""
    st = os.stat(newdir)
    tmpdir = os.path.join(os.path.dirname(newdir), "tmp")
    now = int(time.time()) - count  # older than any real delivery
    pad = ("x" * 70 + "\n") * (size // 71)
    for i in range(count):
        body = (f"Return-Path: <bench@example.org>\n"
                f"From: bench@example.org\nTo: user1@example.test\n"
                f"Subject: {tag} {i}\nMessage-ID: <{tag}.{i}@bench>\n\n"
                f"{pad}").encode()
        vsize = len(body) + body.count(b"\n")
        name = f"{now + i}.M{i % 1000000}P{os.getpid()}.bench," \
               f"S={len(body)},W={vsize}"
        tp = os.path.join(tmpdir, name)
        with open(tp, "wb") as f:
            f.write(body)
        os.chown(tp, st.st_uid, st.st_gid)
        os.rename(tp, os.path.join(newdir, name))


def prepare_mailbox(t, count, send_local, tag):
    """user1's Maildir holding count messages (plus the one SMTP
    delivery that made the server create it). Returns its new/ path."""
    user = t.rcpts[0]
    newdir = t.newdirs()[0]
    send_local(t, user)
    deadline = time.monotonic() + 120
    while not (os.path.isdir(newdir) and os.listdir(newdir)):
        if time.monotonic() > deadline:
            raise RuntimeError(f"no delivery to {newdir}")
        time.sleep(0.05)
    fill_maildir(newdir, count, MSG_SIZE, tag)
    return newdir


def user_pw(t):
    u, pw = t.login[0]
    return u, pw


def retr_all(t, port, pipelined, window=64, mc=None):
    """One session over mail-bench-client (mail_client.py; mc: one
    started beforehand, or None for a new one): login, STAT, RETR 1..n
    (one at a time, or window commands in flight), QUIT. Returns (n,
    bytes)."""
    u, pw = user_pw(t)
    own = mc is None
    if own:
        mc = MailClient()
    try:
        g = mc.req("connect", t.host, port)["greeting"]
        if not g.startswith("+OK"):
            raise RuntimeError(f"POP3 greeting: {g[:200]!r}")
        mc.req("pop", "cmd", f"USER {u}")
        mc.req("pop", "cmd", f"PASS {pw}")
        n = int(mc.req("pop", "cmd", "STAT")["line"].split()[1])
        r = mc.req("pop", "retr", n, window if pipelined else 1)
        mc.req("pop", "cmd", "QUIT")
        mc.req("close")
        return r["n"], r["bytes"]
    finally:
        if own:
            mc.close()


def download(t, port, mode):
    """One timed download session (mode "serial" or "pipelined")."""
    mc = MailClient()
    try:
        cpu0 = proctree.tree_cpu_seconds(t.pids)
        t0 = time.monotonic()
        n, nbytes = retr_all(t, port, mode == "pipelined", mc=mc)
        dt = time.monotonic() - t0
    finally:
        mc.close()
    cpu = proctree.tree_cpu_seconds(t.pids) - cpu0
    return {"seconds": dt, "bytes": nbytes, "cpu_seconds": cpu,
            "msgs_per_s": n / dt if dt > 0 else None}


def echo_floor(t, n, size):
    """The same downloads (median of 3) from pop-echo, a server that only
    answers from memory: the machine's floor, what the client and the
    loopback round trips cost before any server does any work."""
    p = subprocess.Popen([POP_ECHO, "0", str(n), str(size)],
                         stdout=subprocess.PIPE)
    try:
        port = int(p.stdout.readline())
        out = {}
        for mode in ("serial", "pipelined"):
            runs = sorted((download(t, port, mode) for _ in range(3)),
                          key=lambda r: r["seconds"])
            out[mode] = runs[1]["seconds"]
        log(f"pop10k floor (pop-echo, {size}-byte messages): serial "
            f"{out['serial']:.3f} s, pipelined {out['pipelined']:.3f} s")
        return out
    finally:
        p.kill()
        p.wait()


def run_pop10k(t, count, send_local, wait_quiet):
    port, _ = pop3_ports()
    res = {"id": "pop10k", "messages": count, "error": None}
    try:
        if not port:
            raise RuntimeError("no POP3 port (MT_POP3_PORT)")
        prepare_mailbox(t, count, send_local, "pop10k")
        # the first session lets the server index the new mail; not timed
        n, nbytes = retr_all(t, port, True)
        res["messages"] = n
        for mode in ("serial", "pipelined"):
            wait_quiet(t, f"pop10k {mode}")
            runs = sorted((download(t, port, mode) for _ in range(3)),
                          key=lambda r: r["seconds"])
            res[mode] = dict(runs[1], runs_s=[r["seconds"] for r in runs])
            log(f"pop10k {mode} (median of 3): {res[mode]['bytes']} bytes "
                f"in {res[mode]['seconds']:.3f} s, server CPU "
                f"{res[mode]['cpu_seconds']:.3f} s")
        res["seconds"] = res["serial"]["seconds"]
        res["floor"] = echo_floor(t, n, nbytes // max(n, 1))
    except (RuntimeError, OSError) as e:
        res["error"] = str(e)
        log(f"pop10k: {e}")
    return res


def run_plogin(t, count, clients, send_local, wait_quiet):
    port, _ = pop3_ports()
    res = {"id": "plogin", "logins": count, "clients": clients,
           "error": None}
    try:
        if not port:
            raise RuntimeError("no POP3 port (MT_POP3_PORT)")
        prepare_mailbox(t, 10, send_local, "plogin")
        u, pw = user_pw(t)

        def one():
            c = Pop3(t.host, port)
            c.login(u, pw)
            c.stat()
            c.close()

        for _ in range(20):
            one()  # warm-up
        wait_quiet(t, "plogin")
        errors = []
        left = [count]
        lock = threading.Lock()

        def worker():
            while True:
                with lock:
                    if left[0] == 0 or errors:
                        return
                    left[0] -= 1
                try:
                    one()
                except (RuntimeError, OSError) as e:
                    errors.append(str(e))
                    return

        cpu0 = proctree.tree_cpu_seconds(t.pids)
        t0 = time.monotonic()
        th = [threading.Thread(target=worker) for _ in range(clients)]
        for x in th:
            x.start()
        for x in th:
            x.join()
        dt = time.monotonic() - t0
        time.sleep(0.5)  # logouts finishing
        cpu = proctree.tree_cpu_seconds(t.pids) - cpu0
        if errors:
            raise RuntimeError(errors[0])
        res.update({"seconds": dt, "logins_per_s": count / dt,
                    "cpu_ms_per_login": cpu * 1000 / count})
        log(f"plogin: {count} logins by {clients} clients in {dt:.2f} s "
            f"({count / dt:.1f}/s), server CPU {cpu * 1000 / count:.2f} "
            f"ms per login")
    except (RuntimeError, OSError) as e:
        res["error"] = str(e)
        log(f"plogin: {e}")
    return res


def open_pop3_sessions(t, n, tls):
    """n logged-in sessions (USER/PASS, STAT), opened 50 at a time."""
    _, sport = pop3_ports()
    port = sport if tls else pop3_ports()[0]
    if not port:
        raise RuntimeError("no POP3%s port" % ("S" if tls else ""))
    u, pw = user_pw(t)
    out = []
    lock = threading.Lock()
    errors = []

    def worker(k):
        for _ in range(k):
            try:
                c = Pop3(t.host, port, tls=tls)
                c.login(u, pw)
                c.stat()
            except (RuntimeError, OSError) as e:
                errors.append(str(e))
                return
            with lock:
                out.append(c)

    per = [n // 50 + (1 if i < n % 50 else 0) for i in range(50)]
    th = [threading.Thread(target=worker, args=(k,)) for k in per if k]
    for x in th:
        x.start()
    for x in th:
        x.join()
    if errors:
        for c in out:
            c.s.close()
        raise RuntimeError(errors[0])
    return out


def run_pidle(t, cid, n, tls, send_local):
    res = {"id": cid, "sessions": n, "error": None}
    sessions = []
    try:
        prepare_mailbox(t, 10, send_local, cid)
        before, procs0 = proctree.tree_pss_kib(t.pids)
        sessions = open_pop3_sessions(t, n, tls)
        time.sleep(2.0)
        after, procs1 = proctree.tree_pss_kib(t.pids)
        res.update({"pss_before_kib": before, "pss_after_kib": after,
                    "procs_before": procs0, "procs_after": procs1,
                    "kib_per_session": (after - before) / n})
        log(f"{cid}: {n} sessions: PSS {before} -> {after} KiB "
            f"({res['kib_per_session']:.1f} KiB/session), processes "
            f"{procs0} -> {procs1}")
    except (RuntimeError, OSError) as e:
        res["error"] = str(e)
        log(f"{cid}: {e}")
    finally:
        for c in sessions:
            c.s.close()
    return res


def stat_once(t, port):
    u, pw = user_pw(t)
    t0 = time.monotonic()
    c = Pop3(t.host, port)
    c.login(u, pw)
    n, _ = c.stat()
    dt = time.monotonic() - t0
    c.close()
    return n, dt


def run_pstat(t, count, send_local):
    port, _ = pop3_ports()
    res = {"id": "pstat", "messages": count, "error": None}
    try:
        if not port:
            raise RuntimeError("no POP3 port (MT_POP3_PORT)")
        # a login with the empty mailbox first: the server's per-user
        # setup is not what is measured
        prepare_mailbox(t, 0, send_local, "pstat")
        stat_once(t, port)
        fill_maildir(t.newdirs()[0], count, 512, "pstat")
        n, cold = stat_once(t, port)
        # warm: the mailbox unchanged since (a directory changed in the
        # last 2 s is rescanned by mailwright, as by Dovecot), caches hot
        time.sleep(3)
        warm = sorted(stat_once(t, port)[1] for _ in range(5))[2]
        res.update({"messages": n, "cold_s": cold, "warm_s": warm})
        log(f"pstat: {n} messages: login+STAT cold {cold * 1000:.1f} ms, "
            f"warm {warm * 1000:.1f} ms")
    except (RuntimeError, OSError) as e:
        res["error"] = str(e)
        log(f"pstat: {e}")
    return res
