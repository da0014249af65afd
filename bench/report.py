"""Renders the benchmark results (JSON from cases.py) as Markdown.

With one result file it prints that target's table; with two (mailwright
first, the reference second) it prints them side by side, with the ratio
mailwright / reference and the targets of issue #3: at least 3x the
reference's throughput at 10 and 50 sessions, never slower at 1 session,
at most 1/10 of its memory per idle SMTP session; and of issue #4: at least
3x its submission throughput with TLS + AUTH, at most 1/10 of its memory per
idle TLS session after AUTH; and of issue #8: relayed through a sink, at
least 2.5x its throughput at 10 and 50 sessions and over 50 domains at most
0.4x its CPU per message; with 100,000 deferred messages, mailq in under 2 s
and at most 1 KiB of queue-manager memory per queued message. The POP3
(issue #9) and IMAP (issue #10) cases get tables of their own, with the
advantage of mailwright (the reference's time / mailwright's, or the
inverse for rates).
"""
import argparse
import json
import os
import platform
import subprocess
import time

TITLES = {
    "s1": "2 KiB, 1 session",
    "s10": "2 KiB, 10 sessions",
    "s50": "2 KiB, 50 sessions",
    "big": "100 KiB, 10 sessions",
    "sub10": "submission STARTTLS + AUTH, 10 sessions",
    "sub50": "submission STARTTLS + AUTH, 50 sessions",
    "smtps10": "smtps implicit TLS + AUTH, 10 sessions",
    "r10": "relay 2 KiB, 10 sessions",
    "r50": "relay 2 KiB, 50 sessions",
    "r50d": "relay 2 KiB, 50 sessions, 50 domains",
    "rbig": "relay 100 KiB, 10 sessions",
}
RELAY = ("r10", "r50", "r50d", "rbig")  # counted at the sink (issue #8)
# minimum throughput ratio mailwright / reference, per case
THROUGHPUT_TARGET = {"s1": 1.0, "s10": 3.0, "s50": 3.0,
                     "sub10": 3.0, "sub50": 3.0, "smtps10": 3.0,
                     "r10": 2.5, "r50": 2.5, "r50d": 2.5}
# maximum ratio of server CPU per message mailwright / reference
CPU_TARGET = {"r10": 0.4, "r50": 0.4, "r50d": 0.4}
MEMORY_TARGET = 0.1  # maximum ratio per idle session
MAILQ_TARGET_S = 2.0  # mailq on the deep queue, mailwright (issue #8)
QMGR_TARGET_BYTES = 1024  # queue-manager PSS per queued message (issue #8)


def filesystem(path):
    fs, best = "?", ""
    real = os.path.realpath(path)
    with open("/proc/mounts") as f:
        for line in f:
            dev, mnt, typ = line.split()[:3]
            if (real == mnt or real.startswith(mnt.rstrip("/") + "/")) and \
                    len(mnt) >= len(best):
                best, fs = mnt, f"{typ} ({dev} on {mnt})"
    return fs


def machine(results):
    """One line per fact about the machine the figures come from."""
    model, cpus = "?", os.cpu_count()
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    out = [
        f"CPU: {model}, {cpus} logical CPUs (client and server share them)",
        f"RAM: {mem_kib / 1048576:.1f} GiB; kernel {platform.release()}",
    ]
    for r in results:
        out.append(f"{r['label']} Maildirs: {r['maildir_root']} on "
                   f"{filesystem(r['maildir_root'])}")
    return out


def build_type(builddir):
    """The Meson buildtype and sanitizers of the build directory."""
    try:
        with open(os.path.join(builddir, "meson-info",
                               "intro-buildoptions.json")) as f:
            opts = {o["name"]: o["value"] for o in json.load(f)}
    except (OSError, ValueError, KeyError):
        return "build type unknown"
    s = f"buildtype={opts.get('buildtype')}"
    if opts.get("b_sanitize", "none") != "none":
        s += f", b_sanitize={opts['b_sanitize']} (NOT a fair build to time)"
    return s


def versions(results):
    out = []
    labels = [r["label"] for r in results]
    if "mailwright" in labels:
        rev = "?"
        try:
            rev = subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                text=True, check=True,
                cwd=os.path.dirname(os.path.abspath(__file__))).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            pass
        binary = os.environ.get("BENCH_MW_BIN", "")
        built = "?"
        try:
            built = time.strftime("%Y-%m-%d %H:%M",
                                  time.localtime(os.stat(binary).st_mtime))
        except OSError:
            pass
        out.append(f"mailwright: {binary} built {built} from the working "
                   f"tree on commit {rev}, "
                   f"{build_type(os.path.dirname(binary))}")
    if any(lb != "mailwright" for lb in labels):
        for argv, name in ((["postconf", "-dh", "mail_version"], "Postfix"),
                           (["dovecot", "--version"], "Dovecot")):
            try:
                r = subprocess.run(argv, capture_output=True, text=True)
                if r.returncode == 0:
                    out.append(f"{name}: {r.stdout.strip()} (Debian package)")
            except OSError:
                pass
    return out


def spread(c, key, digits=1):
    """Returns " (min–max, n runs)" for a case run more than once."""
    vals = [r[key] for r in c.get("runs", []) if r.get("error") is None]
    if len(vals) < 2:
        return ""
    return (f" ({min(vals):,.{digits}f}–{max(vals):,.{digits}f}, "
            f"{len(vals)} runs)")


def fmt(v, digits=1):
    return "—" if v is None else f"{v:,.{digits}f}"


def fmt_ratio(v, digits=2):
    return "—" if v is None else f"{v:,.{digits}f}×"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def case_map(res):
    return {c["id"]: c for c in res["cases"]}


def val(c, key):
    if c is None or c.get("error"):
        return None
    return c.get(key)


def count_of(*results):
    for r in results:
        for c in r["cases"]:
            yield c["id"], c["count"]


def one_table(res):
    lines = [
        f"### {res['label']}",
        "",
        "| case | messages | msgs/s | server CPU ms/msg | accepted after s "
        "| in Maildirs after s | client CPU ms/msg | other load, CPUs |",
        "|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    if res.get("note"):
        lines[1:1] = ["", res["note"]]
    for c in sorted((c for c in res["cases"] if c["id"] not in RELAY),
                    key=lambda c: list(TITLES).index(c["id"])):
        if c.get("error"):
            lines.append(f"| {TITLES[c['id']]} | {c['count']:,} | failed: "
                         f"{c['error'][:80]} | | | | | |")
            continue
        lines.append(
            f"| {TITLES[c['id']]} | {c['count']:,} | {fmt(c['msgs_per_s'])}"
            f"{spread(c, 'msgs_per_s')} "
            f"| {fmt(c['cpu_ms_per_msg'], 2)} | {fmt(c['accept_s'], 2)} "
            f"| {fmt(c['deliver_s'], 2)} "
            f"| {fmt(c['client_cpu_ms_per_msg'], 2)} "
            f"| {fmt(c.get('other_cpus'), 2)} |")
    if len(lines) == (6 if res.get("note") else 4):
        del lines[-2:]  # no inbound case: no empty table
    lines += relay_table([c for c in res["cases"] if c["id"] in RELAY])
    for key, what in (("idle", "SMTP sessions"),
                      ("idletls", "TLS sessions after AUTH")):
        lines += idle_table(res.get(key), what)
    lines += qbig_table(res.get("qbig"))
    lines += pop3_table(res.get("pop3") or {})
    lines += imap_table(res.get("imap") or {})
    return lines


# (label, case, key, digits, higher is better) of the POP3 cases (issue #9)
POP3_ROWS = [
    ("download 10,000 messages, one RETR at a time (median of 3), s", "pop10k",
     ("serial", "seconds"), 3, False),
    ("  the same, server CPU s", "pop10k", ("serial", "cpu_seconds"), 3,
     False),
    ("download 10,000 messages, pipelined (median of 3), s", "pop10k",
     ("pipelined", "seconds"), 3, False),
    ("  the same, server CPU s", "pop10k", ("pipelined", "cpu_seconds"), 3,
     False),
    ("the floor: the same from pop-echo (answers only), one at a time, s",
     "pop10k", ("floor", "serial"), 3, False),
    ("the floor: the same from pop-echo, pipelined, s", "pop10k",
     ("floor", "pipelined"), 3, False),
    ("logins/s, 10 clients", "plogin", ("logins_per_s",), 1, True),
    ("  server CPU ms per login", "plogin", ("cpu_ms_per_login",), 2, False),
    ("PSS per idle POP3 session, KiB", "pidle", ("kib_per_session",), 1,
     False),
    ("PSS per idle POP3S session, KiB", "pidles", ("kib_per_session",), 1,
     False),
    ("login + STAT, 100,000 messages, cold, ms", "pstat", ("cold_s",), 1,
     False),
    ("login + STAT, 100,000 messages, warm, ms", "pstat", ("warm_s",), 1,
     False),
]


def pop3_value(p, case, keys):
    v = p.get(case)
    if not v or v.get("error"):
        return None
    for k in keys:
        v = v.get(k) if isinstance(v, dict) else None
        if v is None:
            return None
    if keys[-1] in ("cold_s", "warm_s"):
        v *= 1000
    return v


def pop3_table(p):
    if not p:
        return []
    lines = ["", "| POP3 | value |", "|---|--:|"]
    for what, case, keys, digits, _ in POP3_ROWS:
        if case in p:
            lines.append(f"| {what} | {fmt(pop3_value(p, case, keys), digits)}"
                         " |")
    for case, v in sorted(p.items()):
        if v.get("error"):
            lines.append(f"| {case} failed | {v['error'][:120]} |")
    return lines


def pop3_side_by_side(mw, ref):
    a, b = mw.get("pop3") or {}, ref.get("pop3") or {}
    if not a and not b:
        return []
    lines = ["", f"| POP3 | {mw['label']} | {ref['label']} "
             "| advantage |", "|---|--:|--:|--:|"]
    for what, case, keys, digits, higher in POP3_ROWS:
        if case not in a and case not in b:
            continue
        x, y = pop3_value(a, case, keys), pop3_value(b, case, keys)
        adv = ratio(x, y) if higher else ratio(y, x)
        lines.append(f"| {what} | {fmt(x, digits)} | {fmt(y, digits)} "
                     f"| {fmt_ratio(adv)} |")
    return lines


# (label, case, keys, factor, digits, higher is better) of the IMAP cases
# (issue #10); times in ms
IMAP_STEPS = [
    ("login_select", "connect + LOGIN + SELECT"),
    ("envelope", "UID FETCH 1:* (FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)"),
    ("bodystructure", "the same + BODYSTRUCTURE"),
    ("body", "FETCH 1:* BODY.PEEK[]"),
    ("search_mid", "UID SEARCH HEADER Message-ID"),
    ("search_from", "UID SEARCH FROM"),
    ("search_text", "UID SEARCH TEXT"),
]
IMAP_ROWS = [
    (f"10k, {label}: {what}, ms", "imap10k", (when, step, "seconds"), 1000,
     1, False)
    for when, label in (("cold", "cold"), ("warm", "warm (median of 5)"))
    for step, what in IMAP_STEPS
] + [
    ("10k, cold: BODY.PEEK[], MB/s", "imap10k", ("cold", "body", "mb_per_s"),
     1, 1, True),
    ("10k, warm: BODY.PEEK[], MB/s", "imap10k", ("warm", "body", "mb_per_s"),
     1, 1, True),
    ("10k, cold session: server CPU, ms", "imap10k",
     ("cold", "cpu_seconds"), 1000, 0, False),
    ("10k, warm session: server CPU, ms", "imap10k",
     ("warm", "cpu_seconds"), 1000, 0, False),
    ("100k, cold: connect + LOGIN + SELECT, ms", "imap100k",
     ("cold", "login_select", "seconds"), 1000, 1, False),
    ("100k, cold: UID FETCH 1:* (FLAGS), ms", "imap100k",
     ("cold", "flags", "seconds"), 1000, 1, False),
    ("100k, warm (median of 5): connect + LOGIN + SELECT, ms", "imap100k",
     ("warm", "login_select", "seconds"), 1000, 1, False),
    ("100k, warm: UID FETCH 1:* (FLAGS), ms", "imap100k",
     ("warm", "flags", "seconds"), 1000, 1, False),
    ("100k, warm: the two together, ms", "imap100k", ("warm_s",), 1000, 1,
     False),
    ("logins/s, 10 clients (LOGIN, SELECT, LOGOUT)", "ilogin",
     ("logins_per_s",), 1, 1, True),
    ("  server CPU ms per login", "ilogin", ("cpu_ms_per_login",), 1, 2,
     False),
    ("PSS per idle IMAP session after SELECT, KiB", "iidle",
     ("kib_per_session",), 1, 1, False),
    ("PSS per idle IMAPS session after SELECT, KiB", "iidles",
     ("kib_per_session",), 1, 1, False),
    ("PSS per IMAP session in IDLE, KiB", "iidlew", ("kib_per_session",), 1,
     1, False),
]


def imap_value(p, case, keys, factor):
    """A figure of a case; of a failed case too, if it has it (imap10k
    records the steps that worked)."""
    v = p.get(case)
    if not v:
        return None
    for k in keys:
        v = v.get(k) if isinstance(v, dict) else None
        if v is None:
            return None
    return v * factor


def imap_table(p):
    if not p:
        return []
    lines = ["", "| IMAP | value |", "|---|--:|"]
    for what, case, keys, factor, digits, _ in IMAP_ROWS:
        if case in p:
            lines.append(f"| {what} | "
                         f"{fmt(imap_value(p, case, keys, factor), digits)} |")
    for case, v in sorted(p.items()):
        if v.get("error"):
            lines.append(f"| {case} failed | {v['error'][:120]} |")
    return lines


def imap_side_by_side(mw, ref):
    a, b = mw.get("imap") or {}, ref.get("imap") or {}
    if not a and not b:
        return []
    lines = ["", f"| IMAP | {mw['label']} | {ref['label']} "
             "| advantage |", "|---|--:|--:|--:|"]
    for what, case, keys, factor, digits, higher in IMAP_ROWS:
        if case not in a and case not in b:
            continue
        x = imap_value(a, case, keys, factor)
        y = imap_value(b, case, keys, factor)
        adv = ratio(x, y) if higher else ratio(y, x)
        lines.append(f"| {what} | {fmt(x, digits)} | {fmt(y, digits)} "
                     f"| {fmt_ratio(adv)} |")
    for p, label in ((a, mw["label"]), (b, ref["label"])):
        for case, v in sorted(p.items()):
            if v.get("error"):
                lines.append(f"\n{label}'s {case} failed: "
                             f"{v['error'][:200]}")
    return lines


def relay_table(cases):
    if not cases:
        return []
    lines = ["", "| outbound case | messages | msgs/s | server CPU ms/msg "
             "| accepted after s | at the sink after s | messages per "
             "connection | sink CPU ms/msg | client CPU ms/msg "
             "| other load, CPUs |",
             "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for c in sorted(cases, key=lambda c: RELAY.index(c["id"])):
        if c.get("error"):
            lines.append(f"| {TITLES[c['id']]} | {c['count']:,} | failed: "
                         f"{c['error'][:80]} | | | | | | | |")
            continue
        extra = c.get("extra_at_sink") or 0
        lines.append(
            f"| {TITLES[c['id']]} | {c['count']:,} | {fmt(c['msgs_per_s'])}"
            f"{spread(c, 'msgs_per_s')} "
            f"| {fmt(c['cpu_ms_per_msg'], 2)} | {fmt(c['accept_s'], 2)} "
            f"| {fmt(c['deliver_s'], 2)}"
            f"{f' ({extra:+,} at the sink)' if extra else ''} "
            f"| {fmt(c.get('msgs_per_connection'))} "
            f"| {fmt(c.get('sink_cpu_ms_per_msg'), 2)} "
            f"| {fmt(c['client_cpu_ms_per_msg'], 2)} "
            f"| {fmt(c.get('other_cpus'), 2)} |")
    return lines


# (key, what, digits) of the qbig details, in order
QBIG_ROWS = [
    ("accept_msgs_per_s", "accepted with the sink down, msgs/s", 1),
    ("inject_cpu_ms_per_msg", "server CPU to accept and defer, ms/msg", 2),
    ("deferred_after_s", "all deferred after, s", 1),
    ("disk_bytes_per_msg", "queue on disk, bytes per message", 0),
    ("mailq_s", "mailq, s (median of 3)", 2),
    ("qmgr_fd_limit", "queue manager's open-file limit (soft)", 0),
    ("qmgr_pss_idle_kib", "queue manager PSS, empty queue, KiB", 0),
    ("qmgr_pss_kib", "queue manager PSS, all queued, KiB", 0),
    ("qmgr_bytes_per_msg", "queue manager PSS per queued message, bytes", 0),
    ("qmgr_delta_bytes_per_msg",
     "queue manager PSS growth per queued message, bytes", 0),
    ("stop_s", "restart: stopped after, s", 2),
    ("listen_s", "restart: SMTP port answers after, s", 2),
    ("restart_s", "restart: a new local message delivered after, s", 2),
    ("drain_count", "drain: messages at the sink", 0),
    ("drain_s", "drain: the last of them after, s", 1),
    ("drain_msgs_per_s", "drain after flush, msgs/s", 1),
    ("drain_cpu_ms_per_msg", "drain, server CPU ms/msg", 2),
    ("drain_sink_cpu_ms_per_msg", "drain, sink CPU ms/msg", 2),
    ("left_in_queue", "left in the queue after the drain", 0),
    ("extra_at_sink", "received at the sink more than queued", 0),
    ("other_cpus", "other load during the drain, CPUs", 2),
]


def qbig_table(q):
    if not q:
        return []
    lines = ["", f"| deferred queue, {q['count']:,} x 2 KiB | value |",
             "|---|--:|"]
    if q.get("error"):
        lines.append(f"| failed | {q['error'][:120]} |")
    for key, what, digits in QBIG_ROWS:
        if key in q:
            lines.append(f"| {what} | {fmt(q[key], digits)} |")
    if q.get("mailq_note"):
        lines.append(f"| mailq note | {q['mailq_note'][:160]} |")
    return lines


def idle_table(i, what):
    lines = []
    if i:
        lines += ["", f"| idle {what} | PSS before KiB | PSS after KiB "
                  "| processes before → after | KiB per session |",
                  "|--:|--:|--:|--:|--:|"]
        if i.get("error"):
            lines.append(f"| {i['sessions']:,} | failed: {i['error'][:80]} "
                         f"| | | |")
        else:
            lines.append(
                f"| {i['sessions']:,} | {i['pss_before_kib']:,} "
                f"| {i['pss_after_kib']:,} "
                f"| {i['procs_before']} → {i['procs_after']} "
                f"| {fmt(i['kib_per_session'])}"
                f"{spread(i, 'kib_per_session')} |")
    return lines


def verdict(r, limit, at_least):
    if r is None or limit is None:
        return "—"
    ok = r >= limit if at_least else r <= limit
    sign = "≥" if at_least else "≤"
    return f"{sign} {limit:g}× {'met' if ok else 'MISSED'}"


def side_by_side(mw, ref):
    m, r = case_map(mw), case_map(ref)
    lines = inbound_side_by_side(mw, ref, m, r)
    lines += relay_side_by_side(mw, ref, m, r)
    lines += qbig_side_by_side(mw, ref)
    lines += pop3_side_by_side(mw, ref)
    lines += imap_side_by_side(mw, ref)
    return lines


def relay_side_by_side(mw, ref, m, r):
    ids = [c for c in RELAY if c in m or c in r]
    if not ids:
        return []
    lines = [
        "",
        f"| outbound, counted at the sink | {mw['label']} msgs/s "
        f"| {ref['label']} msgs/s | ratio | target "
        f"| {mw['label']} CPU ms/msg | {ref['label']} CPU ms/msg | ratio "
        "| target |",
        "|---|--:|--:|--:|---|--:|--:|--:|---|",
    ]
    for cid in ids:
        a, b = val(m.get(cid), "msgs_per_s"), val(r.get(cid), "msgs_per_s")
        ca = val(m.get(cid), "cpu_ms_per_msg")
        cb = val(r.get(cid), "cpu_ms_per_msg")
        tp, cp = ratio(a, b), ratio(ca, cb)
        lines.append(
            f"| {TITLES[cid]} | {fmt(a)} | {fmt(b)} | {fmt_ratio(tp)} "
            f"| {verdict(tp, THROUGHPUT_TARGET.get(cid), True)} "
            f"| {fmt(ca, 2)} | {fmt(cb, 2)} | {fmt_ratio(cp)} "
            f"| {verdict(cp, CPU_TARGET.get(cid), False)} |")
    return lines


def absolute(v, limit, unit, below=True):
    if v is None:
        return "not measured"
    ok = v < limit if below else v <= limit
    sign = "<" if below else "≤"
    return f"{sign} {limit:g} {unit} {'met' if ok else 'MISSED'}"


def qbig_side_by_side(mw, ref):
    a, b = mw.get("qbig"), ref.get("qbig")
    if not a and not b:
        return []
    n = (a or b)["count"]

    def v(q, key):  # a failed run may still have its first figures
        return q.get(key) if q else None
    rows = [
        ("accepted with the sink down, msgs/s", "accept_msgs_per_s", 1,
         "—"),
        ("mailq, s", "mailq_s", 2,
         absolute(v(a, "mailq_s"), MAILQ_TARGET_S, "s")),
        ("queue manager PSS per queued message, bytes",
         "qmgr_bytes_per_msg", 0,
         absolute(v(a, "qmgr_bytes_per_msg"), QMGR_TARGET_BYTES, "bytes",
                  False)),
        ("queue manager PSS growth per queued message, bytes",
         "qmgr_delta_bytes_per_msg", 0, "—"),
        ("restart until a new local message is delivered, s", "restart_s",
         2, "—"),
        ("drain: messages at the sink", "drain_count", 0, "—"),
        ("drain after flush, msgs/s", "drain_msgs_per_s", 1, "—"),
        ("drain, server CPU ms/msg", "drain_cpu_ms_per_msg", 2, "—"),
    ]
    lines = [
        "",
        f"| {n:,} deferred messages | {mw['label']} | {ref['label']} "
        "| ratio | target |",
        "|---|--:|--:|--:|---|",
    ]
    for what, key, digits, target in rows:
        x, y = v(a, key), v(b, key)
        lines.append(f"| {what} | {fmt(x, digits)} | {fmt(y, digits)} "
                     f"| {fmt_ratio(ratio(x, y))} | {target} |")
    if n != 100000:
        lines.append(f"\nThe targets of issue #8 are for 100,000 messages; "
                     f"these figures are for {n:,} (BENCH_SCALE).")
    for q, label in ((a, mw["label"]), (b, ref["label"])):
        if q and q.get("error"):
            lines.append(f"\n{label}'s qbig failed: {q['error'][:200]}")
        if q and q.get("mailq_note"):
            lines.append(f"\n{label}: {q['mailq_note'][:200]}")
    return lines


def inbound_side_by_side(mw, ref, m, r):
    lines = [
        f"| case | {mw['label']} msgs/s | {ref['label']} msgs/s | ratio "
        f"| target | {mw['label']} CPU ms/msg | {ref['label']} CPU ms/msg "
        "| ratio |",
        "|---|--:|--:|--:|---|--:|--:|--:|",
    ]
    rows = 0
    for cid in TITLES:
        if cid in RELAY or (cid not in m and cid not in r):
            continue
        a, b = val(m.get(cid), "msgs_per_s"), val(r.get(cid), "msgs_per_s")
        ca = val(m.get(cid), "cpu_ms_per_msg")
        cb = val(r.get(cid), "cpu_ms_per_msg")
        tp = ratio(a, b)
        rows += 1
        lines.append(
            f"| {TITLES[cid]} | {fmt(a)} | {fmt(b)} | {fmt(tp, 2)}× "
            f"| {verdict(tp, THROUGHPUT_TARGET.get(cid), True)} "
            f"| {fmt(ca, 2)} | {fmt(cb, 2)} | {fmt(ratio(ca, cb), 2)}× |")
    if not rows:
        lines = []
    for key, what, after in (
            ("idle", "SMTP", "banner + EHLO"),
            ("idletls", "TLS",
             "banner, EHLO, STARTTLS, EHLO, AUTH PLAIN (submission)")):
        mi, ri = mw.get(key), ref.get(key)
        if not mi and not ri:
            continue
        a = None if not mi or mi.get("error") else mi["kib_per_session"]
        b = None if not ri or ri.get("error") else ri["kib_per_session"]
        n = (mi or ri)["sessions"]
        mr = ratio(a, b)
        lines += [
            "",
            f"| PSS per idle {what} session ({n:,} open) | {mw['label']} KiB "
            f"| {ref['label']} KiB | ratio | target |",
            "|---|--:|--:|--:|---|",
            f"| after {after} | {fmt(a)} | {fmt(b)} | {fmt(mr, 3)}× "
            f"| {verdict(mr, MEMORY_TARGET, False)} |",
        ]
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", nargs="+", help="1 or 2 JSON files")
    a = ap.parse_args()
    res = []
    for p in a.results:
        with open(p) as f:
            res.append(json.load(f))
    counts = dict(count_of(*res))
    lines = [f"# mailwright benchmark, {time.strftime('%Y-%m-%d %H:%M %Z')}",
             ""]
    lines += [f"- {x}" for x in machine(res) + versions(res)]
    lines.append(f"- BENCH_SCALE={res[0]['scale']:g}; messages per case: "
                 + ", ".join(f"{v:,} ({TITLES[k]})"
                             for k, v in counts.items()))
    lines.append("- smtp-source (TLS cases: smtp-tls-source), a new "
                 "connection per message; throughput counts until the last "
                 "message is a file in new/ (outbound: until smtp-sink has "
                 "counted it)")
    q = [r["qbig"] for r in res if r.get("qbig")]
    if q:
        lines.append(f"- deferred queue: {q[0]['count']:,} x 2 KiB")
    n = max([len(c.get("runs", [])) for r in res for c in r["cases"] +
             [r[k] for k in ("idle", "idletls") if r.get(k)]] or [1])
    if n > 1:
        lines.append(f"- each figure is the run with the median msgs/s (or "
                     f"KiB) of up to {n} runs; the range is in the details")
    lines.append("")
    if len(res) == 2:
        lines += ["## Side by side", ""] + side_by_side(res[0], res[1])
        lines.append("")
    lines.append("## Details")
    for r in res:
        lines += [""] + one_table(r)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
