"""Renders the benchmark results (JSON from cases.py) as Markdown.

With one result file it prints that target's table; with two (mailwright
first, the reference second) it prints them side by side, with the ratio
mailwright / reference and the targets of issue #3: at least 3x the
reference's throughput at 10 and 50 sessions, never slower at 1 session,
at most 1/10 of its memory per idle SMTP session; and of issue #4: at least
3x its submission throughput with TLS + AUTH, at most 1/10 of its memory per
idle TLS session after AUTH.
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
}
# minimum throughput ratio mailwright / reference, per case
THROUGHPUT_TARGET = {"s1": 1.0, "s10": 3.0, "s50": 3.0,
                     "sub10": 3.0, "sub50": 3.0, "smtps10": 3.0}
MEMORY_TARGET = 0.1  # maximum ratio per idle session


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
    for c in sorted(res["cases"], key=lambda c: list(TITLES).index(c["id"])):
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
    for key, what in (("idle", "SMTP sessions"),
                      ("idletls", "TLS sessions after AUTH")):
        lines += idle_table(res.get(key), what)
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
    lines = [
        f"| case | {mw['label']} msgs/s | {ref['label']} msgs/s | ratio "
        f"| target | {mw['label']} CPU ms/msg | {ref['label']} CPU ms/msg "
        "| ratio |",
        "|---|--:|--:|--:|---|--:|--:|--:|",
    ]
    for cid in TITLES:
        if cid not in m and cid not in r:
            continue
        a, b = val(m.get(cid), "msgs_per_s"), val(r.get(cid), "msgs_per_s")
        ca = val(m.get(cid), "cpu_ms_per_msg")
        cb = val(r.get(cid), "cpu_ms_per_msg")
        tp = ratio(a, b)
        lines.append(
            f"| {TITLES[cid]} | {fmt(a)} | {fmt(b)} | {fmt(tp, 2)}× "
            f"| {verdict(tp, THROUGHPUT_TARGET.get(cid), True)} "
            f"| {fmt(ca, 2)} | {fmt(cb, 2)} | {fmt(ratio(ca, cb), 2)}× |")
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
                 "message is a file in new/")
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
