"""Runs the benchmark cases (issue #3) against one running SMTP server.

The target comes from the environment, so the same command measures
mailwright and the reference Postfix + Dovecot stack:

  MT_HOST, MT_SMTP_PORT, MT_DOMAIN, MT_USERS   as in refstack/env.sh
  MT_SUBMISSION_PORT, MT_SMTPS_PORT   for the TLS + AUTH cases (issue #4)
  BENCH_MAILDIR_ROOT   Maildirs are <root>/<domain>/<local>/Maildir/new
  BENCH_PIDS           root pids of the server's process trees
  BENCH_SCALE          multiplies message and session counts (default 1)
  BENCH_QUIET_WAIT     seconds to wait for other load to go (default 300)

Cases (--cases, in the order given): "idle" (PSS per idle SMTP session);
"s1", "s10", "s50" (2 KiB messages at 1, 10 and 50 sessions) and "big"
(100 KiB messages at 10 sessions), each after a short untimed warm-up.
Submission (issue #4): "sub10", "sub50" (STARTTLS on the submission port)
and "smtps10" (implicit TLS), 2 KiB messages sent by smtp-tls-source, a new
connection, TLS handshake and AUTH PLAIN per message, the first user of
MT_USERS authenticating and the others receiving; "idletls" (PSS per idle
submission session after STARTTLS and AUTH).
Outbound (issue #8): "r10", "r50" (2 KiB messages at 10 and 50 sessions for
a recipient in BENCH_RELAY_DOMAIN, default sink.test), "r50d" (the same at
50 sessions, the recipients spread over the 50 domains d1..d50 of it) and
"rbig" (100 KiB at 10 sessions), relayed by the server to Postfix's
smtp-sink on 127.0.0.1:BENCH_SINK_PORT (default 3526), which this script
starts for each case and which counts them; "qbig": 100,000 x 2 KiB queued
and deferred with the sink down, then mailq, the queue manager's memory, a
restart and the drain through the sink (see run_qbig; it needs
BENCH_QUEUE_KIND and the variables of MailwrightQueue or PostfixQueue).
POP3 (issue #9, pop3.py: "pop10k", "plogin", "pidle", "pidles", "pstat")
and IMAP (issue #10, imap.py: "imap10k", "imap100k", "ilogin", "iidle",
"iidles", "iidlew") log in as the first user of MT_USERS on MT_POP3_PORT,
MT_POP3S_PORT, MT_IMAP_PORT and MT_IMAPS_PORT.
Throughput is end to end: from the start of smtp-source until the last
message is a file in a new/ directory (outbound: until the sink has counted
it). Results are merged into the JSON document --out (see report.py), so
that run.sh can restart the server between cases.
"""
import argparse
import base64
import concurrent.futures
import json
import os
import resource
import selectors
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proctree  # noqa: E402
from outbound import Sink, port_open, queue_ctl  # noqa: E402
import pop3  # noqa: E402
import imap  # noqa: E402

SMTP_SOURCE = os.environ.get("BENCH_SMTP_SOURCE", "/usr/sbin/smtp-source")
SMTP_TLS_SOURCE = os.environ.get(
    "BENCH_SMTP_TLS_SOURCE",
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build",
                 "bench", "smtp-tls-source"))
SINK_PORT = int(os.environ.get("BENCH_SINK_PORT", "3526"))
RELAY_DOMAIN = os.environ.get("BENCH_RELAY_DOMAIN", "sink.test")
FROM = os.environ.get("BENCH_FROM", "bench@example.org")
HELO = "client.example"
POLL = 0.025        # seconds between Maildir counts after the last 250
STALL = 60.0        # no new delivery for this long: the case failed

# id, message size, message count at scale 1, parallel sessions
CASES = [
    ("s1", 2048, 10000, 1),
    ("s10", 2048, 10000, 10),
    ("s50", 2048, 10000, 50),
    ("big", 102400, 1000, 10),
]
IDLE_SESSIONS = 1000
# id, message count at scale 1, parallel sessions, "starttls" or "smtps";
# 2 KiB messages, to the users of MT_USERS but the first (issue #4)
TLS_CASES = [
    ("sub10", 5000, 10, "starttls"),
    ("sub50", 5000, 50, "starttls"),
    ("smtps10", 5000, 10, "smtps"),
]
IDLE_TLS_SESSIONS = 500
# Outbound (issue #8): id, message size, message count at scale 1, parallel
# sessions, recipient domains (1: RELAY_DOMAIN; n: d1..dn.RELAY_DOMAIN)
RELAY_CASES = [
    ("r10", 2048, 10000, 10, 1),
    ("r50", 2048, 10000, 50, 1),
    ("r50d", 2048, 10000, 50, 50),
    ("rbig", 102400, 1000, 10, 1),
]
# POP3 (issue #9): pop10k messages, plogin logins and clients, pidle and
# pidles idle sessions, pstat messages, at scale 1
POP3_CASES = ("pop10k", "plogin", "pidle", "pidles", "pstat")
POP3_MESSAGES = 10000
POP3_LOGINS = 2000
POP3_LOGIN_CLIENTS = 10
POP3_IDLE = 1000
PSTAT_MESSAGES = 100000
# IMAP (issue #10): imap10k and imap100k messages, ilogin logins and
# clients, iidle, iidles and iidlew idle sessions, at scale 1
IMAP_CASES = ("imap10k", "imap100k", "ilogin", "iidle", "iidles", "iidlew")
IMAP_MESSAGES = 10000
IMAP_BIG_MESSAGES = 100000
IMAP_LOGINS = 2000
IMAP_LOGIN_CLIENTS = 10
IMAP_IDLE = 1000
# qbig: messages queued at scale 1, the sessions that inject them
QBIG_COUNT = 100000
QBIG_SESSIONS = 50


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


class Target:
    def __init__(self):
        env = os.environ
        self.host = env.get("MT_HOST", "127.0.0.1")
        self.port = int(env["MT_SMTP_PORT"])
        self.domain = env.get("MT_DOMAIN", "example.test")
        self.rcpts = [u.split(":", 1)[0] for u in
                      env.get("MT_USERS", "").split(",") if u]
        if not self.rcpts:
            raise SystemExit("bench: MT_USERS names no user")
        # Submission: the first user logs in, the others receive.
        self.login = [u.split(":", 1) for u in
                      env.get("MT_USERS", "").split(",") if ":" in u][:1]
        self.sub_rcpts = self.rcpts[1:] or self.rcpts
        self.ports = {"starttls": int(env.get("MT_SUBMISSION_PORT") or 0),
                      "smtps": int(env.get("MT_SMTPS_PORT") or 0)}
        self.root = env["BENCH_MAILDIR_ROOT"]
        self.pids = [int(p) for p in env.get("BENCH_PIDS", "").split()]
        if not self.pids:
            raise SystemExit("bench: BENCH_PIDS names no server pid")

    def newdirs(self):
        out = []
        for r in self.rcpts:
            local, _, dom = r.partition("@")
            out.append(os.path.join(self.root, dom or self.domain, local,
                                    "Maildir", "new"))
        return out

    def delivered(self):
        n = 0
        for d in self.newdirs():
            try:
                n += len(os.listdir(d))
            except FileNotFoundError:
                pass
        return n

    def alive(self):
        return all(os.path.exists(f"/proc/{p}") for p in self.pids)


def split_plan(sessions, count, rcpts):
    """Groups of (recipient, sessions, messages); groups run one after the
    other, the smtp-source runs of a group in parallel. smtp-source sends
    every message of a run to one recipient, so recipients are spread by
    running one smtp-source per recipient; messages follow the sessions so
    that every session has the same amount of work."""
    k = len(rcpts)
    if sessions < k:
        per = [count // k + (1 if i < count % k else 0) for i in range(k)]
        return [[(rcpts[i], sessions, per[i])] for i in range(k)]
    sess = [sessions // k + (1 if i < sessions % k else 0) for i in range(k)]
    msgs = [count * s // sessions for s in sess]
    msgs[0] += count - sum(msgs)
    return [[(rcpts[i], sess[i], msgs[i]) for i in range(k)]]


def smtp_source_argv(t, rcpt, sessions, count, size):
    # Without -d each message gets its own connection, as MX traffic does.
    return [SMTP_SOURCE, "-4", "-s", str(sessions), "-m", str(count),
            "-l", str(size), "-M", HELO, "-f", FROM, "-t", rcpt,
            f"inet:{t.host}:{t.port}"]


def smtp_tls_source_argv(t, rcpt, sessions, count, size, mode):
    if not t.login or not t.ports[mode]:
        raise SystemExit(f"bench: a {mode} case needs a password in MT_USERS "
                         f"and MT_{'SUBMISSION' if mode == 'starttls' else 'SMTPS'}_PORT")
    user, password = t.login[0]
    return [SMTP_TLS_SOURCE] + (["-S"] if mode == "smtps" else []) + [
        "-s", str(sessions), "-m", str(count), "-l", str(size),
        "-u", user, "-p", password, "-f", user, "-t", rcpt,
        f"{t.host}:{t.ports[mode]}"]


def own_cpu_seconds():
    """CPU of this process and its reaped children (smtp-source)."""
    a = resource.getrusage(resource.RUSAGE_SELF)
    b = resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


class LoadMeter:
    """The CPU that neither the server nor the bench (with its sink, if
    any) spent over a period: other programs competing for the machine, in
    CPUs (1.0 = one CPU)."""

    def __init__(self, t, sink=None):
        self.t, self.sink = t, sink
        self.start()

    def _sink_cpu(self):
        return self.sink.cpu_seconds() if self.sink else 0.0

    def start(self):
        self.t0 = time.monotonic()
        self.busy0 = proctree.system_busy_seconds()
        self.srv0 = proctree.tree_cpu_seconds(self.t.pids)
        self.own0 = own_cpu_seconds() + self._sink_cpu()

    def other_cpus(self):
        dt = time.monotonic() - self.t0
        busy = proctree.system_busy_seconds() - self.busy0
        srv = proctree.tree_cpu_seconds(self.t.pids) - self.srv0
        own = own_cpu_seconds() + self._sink_cpu() - self.own0
        return max(0.0, busy - srv - own) / dt if dt > 0 else 0.0


def wait_quiet(t, label):
    """Waits until other programs use less than BENCH_QUIET_CPUS (default
    0.2) CPUs over 2 s, for at most BENCH_QUIET_WAIT seconds (default 300).
    Returns the last reading."""
    limit = float(os.environ.get("BENCH_QUIET_CPUS", "0.2"))
    deadline = time.monotonic() + float(
        os.environ.get("BENCH_QUIET_WAIT", "300"))
    said = False
    while True:
        m = LoadMeter(t)
        time.sleep(2.0)
        other = m.other_cpus()
        if other < limit or time.monotonic() > deadline:
            if other >= limit:
                log(f"{label}: machine still busy ({other:.2f} other CPUs); "
                    f"measuring anyway")
            return other
        if not said:
            log(f"{label}: other programs use {other:.2f} CPUs; waiting "
                f"for a quiet machine")
            said = True


def cpu_settled(t):
    """The tree's CPU once the server has gone quiet after a case (queue
    cleanup, log writes), sampled until two readings 0.3 s apart agree to
    within two ticks, at most 3 s."""
    prev = proctree.tree_cpu_seconds(t.pids)
    for _ in range(10):
        time.sleep(0.3)
        cur = proctree.tree_cpu_seconds(t.pids)
        if cur - prev <= 2.0 / proctree.CLK_TCK:
            return cur
        prev = cur
    return prev


def run_throughput(t, cid, size, count, sessions, mode=None, sink=None,
                   rcpts=None):
    """mode None: smtp-source on the SMTP port; "starttls" or "smtps":
    smtp-tls-source on the submission or smtps port. With a sink, the
    messages go to rcpts (outside addresses the server relays to the sink)
    and count when the sink has received them; else to the users of
    MT_USERS and count when they are files in their Maildirs."""
    res = {"id": cid, "size": size, "count": count, "sessions": sessions,
           "error": None}
    counted = sink.count if sink else t.delivered
    where = "the sink" if sink else "the Maildirs"
    base = counted()
    target = base + count
    if rcpts is None:
        rcpts = t.sub_rcpts if mode else t.rcpts
    plan = split_plan(sessions, count, rcpts)
    errf = tempfile.TemporaryFile()
    if cid != "warm-up":
        res["other_cpus_before"] = wait_quiet(t, cid)
    load = LoadMeter(t, sink)
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu0 = proctree.tree_cpu_seconds(t.pids)
    if sink:
        sink_cpu0, sink_sess0 = sink.cpu_seconds(), sink.counters()[0]
    t0 = time.monotonic()
    for group in plan:
        procs = [subprocess.Popen(
            smtp_tls_source_argv(t, r, s, m, size, mode) if mode else
            smtp_source_argv(t, r, s, m, size),
            stdout=errf if mode else subprocess.DEVNULL, stderr=errf)
            for r, s, m in group]
        rcs = [p.wait() for p in procs]
        if any(rcs):
            errf.seek(0)
            msg = errf.read().decode(errors="replace").strip()
            res["error"] = (f"{'smtp-tls-source' if mode else 'smtp-source'}"
                            f" exit {rcs}: {msg[-300:]}")
            log(f"{cid}: {res['error']}")
            return res
    t_accept = time.monotonic()
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    n, last_n, last_change = counted(), -1, time.monotonic()
    while n < target:
        now = time.monotonic()
        if n != last_n:
            last_n, last_change = n, now
        elif (now - last_change > STALL or not t.alive() or
              (sink and not sink.alive())):
            res["error"] = (f"only {n - base} of {count} messages reached "
                            f"{where}")
            log(f"{cid}: {res['error']}")
            return res
        time.sleep(POLL)
        n = counted()
    t_done = time.monotonic()
    other = load.other_cpus()
    if sink:
        sink_cpu1 = sink.cpu_seconds()
    cpu1 = cpu_settled(t)
    if sink:
        # A message the sink got twice (delivered again after its 250)
        # shows up as more than counted, once the server has gone quiet.
        sess, n = sink.counters()
        res.update({
            "sink_cpu_ms_per_msg": 1000.0 * (sink_cpu1 - sink_cpu0) / count,
            "msgs_per_connection": count / max(1, sess - sink_sess0),
            "extra_at_sink": n - target,
        })
        if n > target:
            log(f"{cid}: the sink received {n - target} messages more than "
                f"were sent")
    res.update({
        "accept_s": t_accept - t0,
        "deliver_s": t_done - t0,
        "msgs_per_s": count / (t_done - t0),
        "cpu_s": cpu1 - cpu0,
        "cpu_ms_per_msg": 1000.0 * (cpu1 - cpu0) / count,
        "client_cpu_ms_per_msg": 1000.0 * (
            (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime))
        / count,
        "other_cpus": other,
    })
    log(f"{cid}: {count} x {size} B, {sessions} sessions: "
        f"{res['msgs_per_s']:.1f} msgs/s, "
        f"{res['cpu_ms_per_msg']:.2f} ms server CPU/msg, "
        f"{other:.2f} CPUs used by other programs")
    return res


def relay_rcpts(domains):
    """The outside recipients of an outbound case: one address in
    RELAY_DOMAIN, or one in each of d1..dN.RELAY_DOMAIN."""
    if domains <= 1:
        return [f"bench@{RELAY_DOMAIN}"]
    return [f"bench@d{i}.{RELAY_DOMAIN}" for i in range(1, domains + 1)]


def run_relay(t, cid, size, count, sessions, domains):
    """An outbound case: a new sink, a warm-up of 60 messages through it,
    then the timed run, counted at the sink."""
    rcpts = relay_rcpts(domains)
    sink = Sink(SINK_PORT)
    try:
        sink.start()
        run_throughput(t, "warm-up", 2048, 60, 10, sink=sink,
                       rcpts=rcpts[:1])
        res = run_throughput(t, cid, size, count, sessions, sink=sink,
                             rcpts=rcpts)
        res["domains"] = domains
    except RuntimeError as e:
        res = {"id": cid, "size": size, "count": count, "sessions": sessions,
               "domains": domains, "error": str(e)}
        log(f"{cid}: {e}")
    finally:
        sink.stop()
    if res["error"] is None:
        log(f"{cid}: sink: {res['msgs_per_connection']:.1f} messages per "
            f"connection, {res['sink_cpu_ms_per_msg']:.2f} ms sink CPU/msg")
    return res


def send_local(t, rcpt, deadline_s=120.0):
    """One small message to rcpt over SMTP, retried until accepted."""
    msg = (f"From: <{FROM}>\r\nTo: <{rcpt}>\r\nSubject: after the restart"
           f"\r\n\r\nIs the queue working?\r\n")
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            with smtplib.SMTP(t.host, t.port, HELO, timeout=60) as s:
                s.sendmail(FROM, [rcpt], msg)
                return
        except (OSError, smtplib.SMTPException) as e:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the message to {rcpt} was not accepted "
                                   f"after the restart: {e}")
            time.sleep(0.05)


def wait_for(what, cond, deadline_s, poll=0.05):
    deadline = time.monotonic() + deadline_s
    while not cond():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not after {deadline_s:g} s")
        time.sleep(poll)


def time_mailq(q, expect):
    """Runs the target's mailq three times; returns (median seconds or
    None, runs, note)."""
    runs, note = [], None
    for _ in range(3):
        with tempfile.TemporaryFile() as out, \
                tempfile.TemporaryFile() as err:
            t0 = time.monotonic()
            r = subprocess.run(q.mailq_argv(), stdin=subprocess.DEVNULL,
                               stdout=out, stderr=err, timeout=600)
            dt = time.monotonic() - t0
            out.seek(0)
            err.seek(0)
            text, etext = out.read(), err.read()
        if r.returncode != 0:
            msg = etext.decode(errors="replace").strip()[:200]
            return None, runs, (f"{' '.join(q.mailq_argv()[-2:])}: exit "
                                f"{r.returncode}: {msg}")
        n = q.mailq_count(text)
        runs.append({"s": dt, "listed": n, "lines": text.count(b"\n"),
                     "bytes": len(text)})
        if n is not None and n != expect:
            note = f"mailq listed {n} messages, {expect} queued"
    return sorted(r["s"] for r in runs)[1], runs, note


def run_qbig(t, count, sessions):
    """A deep deferred queue (issue #8). With nothing listening on the
    sink's port, count x 2 KiB messages for RELAY_DOMAIN are injected with
    smtp-source; once every one is queued and deferred: mailq is timed
    (3 runs, the median), the queue manager's PSS is taken (over the queued
    messages), the server is restarted (from SIGTERM until a new message to
    the first local user is in its Maildir), then the sink is started, the
    queue flushed and the drain timed until the sink has counted all."""
    res = {"id": "qbig", "size": 2048, "count": count, "sessions": sessions,
           "error": None}
    q = queue_ctl()
    sink = Sink(SINK_PORT)
    try:
        if q is None:
            raise RuntimeError("qbig restarts the server: it needs one "
                               "that run.sh started (BENCH_QUEUE_KIND)")
        res["kind"] = q.kind
        if port_open("127.0.0.1", SINK_PORT):
            raise RuntimeError(f"something listens on 127.0.0.1:{SINK_PORT}"
                               f", where the sink must be down")
        if q.queued():
            raise RuntimeError(f"the queue is not empty ({q.queued()})")
        # Does this build have a mailq? Asked of the empty queue.
        r = subprocess.run(q.mailq_argv(), capture_output=True, timeout=60)
        mailq_ok = r.returncode == 0
        if not mailq_ok:
            res["mailq_note"] = (
                f"{' '.join(q.mailq_argv()[-2:])} failed (exit "
                f"{r.returncode}): "
                f"{r.stderr.decode(errors='replace').strip()[:200]}")
            log(f"qbig: {res['mailq_note']}; no mailq figure")
        qmgr = q.qmgr_pid(t)
        res["qmgr_pss_idle_kib"] = proctree.pid_pss_kib(qmgr) if qmgr else None

        # 1. Inject, the sink down.
        res["other_cpus_before"] = wait_quiet(t, "qbig")
        rcpt = relay_rcpts(1)[0]
        cpu0, t0 = proctree.tree_cpu_seconds(t.pids), time.monotonic()
        errf = tempfile.TemporaryFile()
        for group in split_plan(sessions, count, [rcpt]):
            procs = [subprocess.Popen(smtp_source_argv(t, r, s, m, 2048),
                                      stdout=subprocess.DEVNULL, stderr=errf)
                     for r, s, m in group]
            rcs = [p.wait() for p in procs]
            if any(rcs):
                errf.seek(0)
                msg = errf.read().decode(errors="replace")[-300:]
                raise RuntimeError(f"smtp-source exit {rcs}: {msg}")
        t_acc = time.monotonic()
        res["accept_s"] = t_acc - t0
        res["accept_msgs_per_s"] = count / (t_acc - t0)
        log(f"qbig: {count} messages accepted in {res['accept_s']:.1f} s "
            f"({res['accept_msgs_per_s']:.1f} msgs/s)")
        last, last_change = -1, time.monotonic()
        while True:
            d, n = q.deferred(), q.queued()
            if d >= count and n == count:
                break
            if d != last:
                last, last_change = d, time.monotonic()
            elif time.monotonic() - last_change > 120 or not t.alive():
                raise RuntimeError(f"{d} of {count} messages deferred "
                                   f"({n} queued)")
            time.sleep(0.2)
        res["deferred_after_s"] = time.monotonic() - t0
        res["inject_cpu_ms_per_msg"] = 1000.0 * (
            cpu_settled(t) - cpu0) / count
        res["disk_bytes_per_msg"] = q.disk_bytes() / count

        # 2. mailq and the queue manager's memory, on a settled queue.
        res["other_cpus_mailq"] = wait_quiet(t, "qbig mailq")
        qmgr = q.qmgr_pid(t)
        if qmgr is None:
            raise RuntimeError("no queue manager process found")
        res["qmgr_pid"] = qmgr
        res["qmgr_fd_limit"] = proctree.pid_nofile_limit(qmgr)
        res["qmgr_pss_kib"] = proctree.pid_pss_kib(qmgr)
        res["qmgr_bytes_per_msg"] = 1024.0 * res["qmgr_pss_kib"] / count
        if res["qmgr_pss_idle_kib"] is not None:
            res["qmgr_delta_bytes_per_msg"] = 1024.0 * (
                res["qmgr_pss_kib"] - res["qmgr_pss_idle_kib"]) / count
        log(f"qbig: {count} deferred; queue manager PSS "
            f"{res['qmgr_pss_kib']:,} KiB "
            f"({res['qmgr_bytes_per_msg']:.0f} bytes per queued message)")
        res["mailq_s"] = None
        if mailq_ok:
            res["mailq_s"], res["mailq_runs"], note = time_mailq(q, count)
            if note:
                res["mailq_note"] = note
            if res["mailq_s"] is not None:
                log(f"qbig: mailq {res['mailq_s']:.2f} s")
            else:
                log(f"qbig: {note}")

        # 3. Restart: stop, start, until a new local message is delivered.
        res["other_cpus_restart"] = wait_quiet(t, "qbig restart")
        base = t.delivered()
        t0 = time.monotonic()
        q.stop(t)
        t_stopped = time.monotonic()
        t.pids = q.start(t)
        wait_for("SMTP port after the restart",
                 lambda: port_open(t.host, t.port), 120, 0.01)
        t_listen = time.monotonic()
        send_local(t, t.rcpts[0])
        wait_for("local delivery after the restart",
                 lambda: t.delivered() > base, 300, 0.01)
        t_done = time.monotonic()
        res.update({"stop_s": t_stopped - t0, "listen_s": t_listen - t0,
                    "restart_s": t_done - t0})
        log(f"qbig: restart {res['restart_s']:.2f} s (stopped after "
            f"{res['stop_s']:.2f} s, listening after {res['listen_s']:.2f} s)")

        # 4. Drain: the sink up, a flush, until the sink has counted all.
        # Nothing is due before the flush (the first retry is
        # minimal_backoff_time after the deferral, 300 s in both); what
        # the sink receives before it is counted apart.
        res["other_cpus_before_drain"] = wait_quiet(t, "qbig drain")
        sink.start()
        load = LoadMeter(t, sink)
        cpu0, sink_cpu0 = proctree.tree_cpu_seconds(t.pids), sink.cpu_seconds()
        t0 = time.monotonic()
        res["at_sink_before_flush"] = sink.count()
        r = subprocess.run(q.flush_argv(), capture_output=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError(f"flush: exit {r.returncode}: "
                               f"{r.stderr.decode(errors='replace')[:200]}")
        n, last, last_change = sink.count(), -1, time.monotonic()
        stalled = False
        while n < count:
            if n != last:
                last, last_change = n, time.monotonic()
            elif time.monotonic() - last_change > STALL or not t.alive() \
                    or not sink.alive():
                stalled = True
                break
            time.sleep(POLL)
            n = sink.count()
        # Stalled: the figures are those of the messages that arrived, up
        # to the last one, and the case is marked failed.
        t_done = time.monotonic() if not stalled else last_change
        other, sink_cpu1 = load.other_cpus(), sink.cpu_seconds()
        cpu1 = cpu_settled(t)
        if stalled:
            res["error"] = (f"drain: only {n} of {count} messages reached "
                            f"the sink in {t_done - t0:.1f} s, then none for "
                            f"{STALL:g} s ({q.queued()} still queued)")
            log(f"qbig: {res['error']}")
        res.update({
            "drain_count": n,
            "drain_s": t_done - t0,
            "drain_msgs_per_s": n / (t_done - t0),
            "drain_cpu_ms_per_msg": 1000.0 * (cpu1 - cpu0) / max(1, n),
            "drain_sink_cpu_ms_per_msg": 1000.0 * (sink_cpu1 - sink_cpu0)
            / max(1, n),
            "other_cpus": other,
        })
        if not stalled:
            try:
                wait_for("queue empty after the drain",
                         lambda: q.queued() == 0, 30)
            except RuntimeError:
                pass
        res["left_in_queue"] = q.queued()
        res["extra_at_sink"] = max(0, sink.count() - count)
        log(f"qbig: drained {n} of {count} in {res['drain_s']:.1f} s "
            f"({res['drain_msgs_per_s']:.1f} msgs/s, "
            f"{res['drain_cpu_ms_per_msg']:.2f} ms server CPU/msg); "
            f"{res['left_in_queue']} left in the queue, "
            f"{res['extra_at_sink']} extra at the sink")
    except (RuntimeError, OSError, subprocess.SubprocessError) as e:
        res["error"] = str(e)
        log(f"qbig: {e}")
    finally:
        sink.stop()
    return res


class IdleConn:
    def __init__(self, sock):
        self.sock, self.inbuf, self.state = sock, b"", "connect"


def _reply_done(buf):
    """(code, complete) for the reply at the start of buf (RFC 5321 4.2:
    continuation lines are "NNN-", the last one "NNN ")."""
    for line in buf.split(b"\r\n")[:-1]:
        if len(line) >= 4 and line[3:4] == b" ":
            return line[:3], True
    return None, False


def open_idle_sessions(t, n, deadline_s=300.0):
    """Opens n sessions that read the banner, send EHLO, read its reply and
    then idle; at most 100 are in their greeting at a time, so that no
    listen queue overflows. Returns the open sockets."""
    sel = selectors.DefaultSelector()
    ready, busy, started = [], 0, 0
    deadline = time.monotonic() + deadline_s
    while len(ready) < n:
        while busy < 100 and started < n:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.connect_ex((t.host, t.port))
            sel.register(s, selectors.EVENT_READ, IdleConn(s))
            busy, started = busy + 1, started + 1
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {len(ready)} of {n} sessions greeted")
        for key, _ in sel.select(timeout=1.0):
            c = key.data
            try:
                data = c.sock.recv(4096)
            except OSError as e:
                raise RuntimeError(f"session {len(ready)}: {e}")
            if not data:
                raise RuntimeError(f"server closed session {len(ready)} "
                                   f"in state {c.state}: {c.inbuf[-200:]!r}")
            c.inbuf += data
            code, done = _reply_done(c.inbuf)
            if not done:
                continue
            want = b"220" if c.state == "connect" else b"250"
            if code != want:
                raise RuntimeError(f"{c.state}: {c.inbuf[-200:]!r}")
            if c.state == "connect":
                c.state, c.inbuf = "ehlo", b""
                c.sock.sendall(b"EHLO bench.example\r\n")
            else:
                sel.unregister(c.sock)
                ready.append(c.sock)
                busy -= 1
    sel.close()
    return ready


def measure_idle(t, cid, n, open_sessions):
    """PSS of the server's tree before and after open_sessions(t, n) has
    opened n sessions that then idle; the difference per session."""
    res = {"id": cid, "sessions": n, "error": None}
    before, procs0 = proctree.tree_pss_kib(t.pids)
    socks = []
    try:
        socks = open_sessions(t, n)
        time.sleep(2.0)  # let process spawning and allocation finish
        after, procs1 = proctree.tree_pss_kib(t.pids)
        res.update({"pss_before_kib": before, "pss_after_kib": after,
                    "procs_before": procs0, "procs_after": procs1,
                    "kib_per_session": (after - before) / n})
        log(f"{cid}: {n} sessions: PSS {before} -> {after} KiB "
            f"({res['kib_per_session']:.1f} KiB/session), "
            f"processes {procs0} -> {procs1}")
    except (RuntimeError, OSError) as e:
        res["error"] = str(e)
        log(f"{cid}: {e}")
    finally:
        for s in socks:
            s.close()
    return res


def run_idle(t, n):
    return measure_idle(t, "idle", n, open_idle_sessions)


def _tls_reply(sock, want, what):
    """Reads one complete reply from a blocking socket; raises unless its
    code is want."""
    buf = b""
    while True:
        data = sock.recv(4096)
        if not data:
            raise RuntimeError(f"{what}: connection closed: {buf[-200:]!r}")
        buf += data
        code, done = _reply_done(buf)
        if done:
            if code != want:
                raise RuntimeError(f"{what}: {buf[-200:]!r}")
            return


def open_tls_session(t, ctx):
    """One submission session: banner, EHLO, STARTTLS, TLS handshake,
    EHLO, AUTH PLAIN (RFC 3207, RFC 4954), left open and idle."""
    user, password = t.login[0]
    s = socket.create_connection((t.host, t.ports["starttls"]), timeout=120)
    try:
        _tls_reply(s, b"220", "banner")
        s.sendall(b"EHLO bench.example\r\n")
        _tls_reply(s, b"250", "EHLO")
        s.sendall(b"STARTTLS\r\n")
        _tls_reply(s, b"220", "STARTTLS")
        s = ctx.wrap_socket(s)
        s.sendall(b"EHLO bench.example\r\n")
        _tls_reply(s, b"250", "EHLO after STARTTLS")
        plain = base64.b64encode(f"\0{user}\0{password}".encode())
        s.sendall(b"AUTH PLAIN " + plain + b"\r\n")
        _tls_reply(s, b"235", "AUTH PLAIN")
    except BaseException:
        s.close()
        raise
    return s


def open_tls_sessions(t, n):
    """n submission sessions after STARTTLS and AUTH, opened by 50
    threads at a time; all of them or an error."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    socks, error = [], None
    with concurrent.futures.ThreadPoolExecutor(50) as ex:
        futs = [ex.submit(open_tls_session, t, ctx) for _ in range(n)]
        for f in futs:
            try:
                socks.append(f.result())
            except (RuntimeError, OSError) as e:
                error = error or f"session {len(socks)}: {e}"
    if error is not None:
        for s in socks:
            s.close()
        raise RuntimeError(error)
    return socks


def run_idle_tls(t, n):
    """PSS per idle submission session after STARTTLS and AUTH."""
    if not t.login or not t.ports["starttls"]:
        res = {"id": "idletls", "sessions": n, "error":
               "needs MT_SUBMISSION_PORT and a password in MT_USERS"}
        log(f"idletls: {res['error']}")
        return res
    return measure_idle(t, "idletls", n, open_tls_sessions)


def merge_run(prev, res, key):
    """Adds run res to the case prev (None: the first run). A case is the
    run with the median key among its successful runs, with every run
    kept in "runs"; failed runs count only when no run succeeded."""
    runs = (prev["runs"] if prev else []) + [
        {k: v for k, v in res.items() if k != "runs"}]
    ok = sorted((r for r in runs if r["error"] is None), key=lambda r: r[key])
    case = dict(ok[(len(ok) - 1) // 2] if ok else runs[-1])
    case["runs"] = runs
    return case


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True,
                    help="JSON result file, created or merged into")
    ap.add_argument("--label", default="server")
    ap.add_argument("--cases", default="idle,s1,s10,s50,big")
    ap.add_argument("--note", default="",
                    help="how the server was run, for the report")
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    t = Target()
    scale = float(os.environ.get("BENCH_SCALE", "1"))
    try:
        with open(a.out) as f:
            out = json.load(f)
    except FileNotFoundError:
        out = {"label": a.label, "scale": scale, "maildir_root": t.root,
               "note": a.note, "cases": [], "idle": None}
    out.setdefault("idletls", None)
    out.setdefault("qbig", None)
    out.setdefault("pop3", {})
    out.setdefault("imap", {})
    known = {c[0]: c for c in CASES}
    known_tls = {c[0]: c for c in TLS_CASES}
    known_relay = {c[0]: c for c in RELAY_CASES}
    failed = False
    for cid in a.cases.split(","):
        if cid == "qbig":
            res = run_qbig(t, max(100, int(QBIG_COUNT * scale)),
                           QBIG_SESSIONS)
            out["qbig"] = merge_run(out["qbig"], res, "drain_msgs_per_s")
            failed |= res["error"] is not None
            continue
        if cid in POP3_CASES:
            if cid == "pop10k":
                res = pop3.run_pop10k(t, max(100, int(POP3_MESSAGES * scale)),
                                      send_local, wait_quiet)
                key = "seconds"
            elif cid == "plogin":
                res = pop3.run_plogin(t, max(50, int(POP3_LOGINS * scale)),
                                      POP3_LOGIN_CLIENTS, send_local,
                                      wait_quiet)
                key = "logins_per_s"
            elif cid == "pstat":
                res = pop3.run_pstat(t, max(100, int(PSTAT_MESSAGES * scale)),
                                     send_local)
                key = "warm_s"
            else:
                res = pop3.run_pidle(t, cid, max(10, int(POP3_IDLE * scale)),
                                     cid == "pidles", send_local)
                key = "kib_per_session"
            out["pop3"][cid] = merge_run(out["pop3"].get(cid), res, key)
            failed |= res["error"] is not None
            continue
        if cid in IMAP_CASES:
            if cid == "imap10k":
                res = imap.run_imap10k(
                    t, max(100, int(IMAP_MESSAGES * scale)), send_local,
                    wait_quiet)
                key = "seconds"
            elif cid == "imap100k":
                res = imap.run_imap100k(
                    t, max(100, int(IMAP_BIG_MESSAGES * scale)), send_local,
                    wait_quiet)
                key = "warm_s"
            elif cid == "ilogin":
                res = imap.run_ilogin(t, max(50, int(IMAP_LOGINS * scale)),
                                      IMAP_LOGIN_CLIENTS, send_local,
                                      wait_quiet)
                key = "logins_per_s"
            else:
                res = imap.run_iidle(t, cid, max(10, int(IMAP_IDLE * scale)),
                                     send_local)
                key = "kib_per_session"
            out["imap"][cid] = merge_run(out["imap"].get(cid), res, key)
            failed |= res["error"] is not None
            continue
        if cid in known_relay:
            _, size, count, sessions, domains = known_relay[cid]
            res = run_relay(t, cid, size, max(sessions, int(count * scale)),
                            sessions, domains)
            old = [c for c in out["cases"] if c["id"] == cid]
            out["cases"] = [c for c in out["cases"] if c["id"] != cid] + [
                merge_run(old[0] if old else None, res, "msgs_per_s")]
            failed |= res["error"] is not None
            continue
        if cid == "idle":
            res = run_idle(t, max(10, int(IDLE_SESSIONS * scale)))
            out["idle"] = merge_run(out["idle"], res, "kib_per_session")
            failed |= res["error"] is not None
            continue
        if cid == "idletls":
            res = run_idle_tls(t, max(10, int(IDLE_TLS_SESSIONS * scale)))
            out["idletls"] = merge_run(out["idletls"], res,
                                       "kib_per_session")
            failed |= res["error"] is not None
            continue
        if cid in known_tls:
            _, count, sessions, mode = known_tls[cid]
            run_throughput(t, "warm-up", 2048, 60, 10, mode)
            res = run_throughput(t, cid, 2048,
                                 max(sessions, int(count * scale)),
                                 sessions, mode)
            old = [c for c in out["cases"] if c["id"] == cid]
            out["cases"] = [c for c in out["cases"] if c["id"] != cid] + [
                merge_run(old[0] if old else None, res, "msgs_per_s")]
            failed |= res["error"] is not None
            continue
        if cid not in known:
            raise SystemExit(f"bench: unknown case {cid!r}")
        _, size, count, sessions = known[cid]
        # Warm-up, not recorded: lets the server start its helper processes
        # and open its databases before the timed run.
        run_throughput(t, "warm-up", 2048, 60, 10)
        res = run_throughput(t, cid, size, max(sessions, int(count * scale)),
                             sessions)
        old = [c for c in out["cases"] if c["id"] == cid]
        out["cases"] = [c for c in out["cases"] if c["id"] != cid] + [
            merge_run(old[0] if old else None, res, "msgs_per_s")]
        failed |= res["error"] is not None
    with open(a.out, "w") as f:
        json.dump(out, f, indent=1)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
