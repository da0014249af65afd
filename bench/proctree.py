"""Process-tree accounting for the benchmark: CPU time and PSS of a server.

A server is the set of its root pids (mailwright's master; Postfix's and
Dovecot's masters) and all their live descendants, found by walking the
parent links in /proc/*/stat.

CPU: for each process in the tree, utime + stime (its own threads, live or
exited) + cutime + cstime (its children that have exited and been reaped,
with their own reaped descendants). Every tick of the tree is then counted
exactly once: a live process by itself, an exited one in the cutime of the
parent that reaped it. The difference of two samples is the CPU the server
spent in between, including helpers that were born and died in the
interval (Postfix's smtpd/cleanup/lmtp, Dovecot's lmtp). proc(5).

Memory: the sum of Pss over the tree, from /proc/PID/smaps_rollup, so that
pages shared between the processes of a stack are counted once in total.
"""
import os

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _read_stat(pid):
    """Returns (ppid, utime, stime, cutime, cstime) in ticks, or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    # comm (field 2) may hold spaces and parentheses: split after the last ")"
    rest = data[data.rfind(b")") + 2:].split()
    # rest[0] is field 3 (state); field n is rest[n - 3]
    return (int(rest[1]), int(rest[11]), int(rest[12]), int(rest[13]),
            int(rest[14]))


def tree_pids(roots):
    """The live pids of the trees under roots (roots included)."""
    children = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        st = _read_stat(name)
        if st is not None:
            children.setdefault(st[0], []).append(int(name))
    seen = []
    todo = [r for r in roots if os.path.exists(f"/proc/{r}")]
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.append(pid)
        todo.extend(children.get(pid, []))
    return seen


def tree_cpu_seconds(roots):
    """utime+stime+cutime+cstime summed over the tree, in seconds."""
    ticks = 0
    for pid in tree_pids(roots):
        st = _read_stat(pid)
        if st is not None:
            ticks += st[1] + st[2] + st[3] + st[4]
    return ticks / CLK_TCK


def _pss_kib(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def tree_pss_kib(roots):
    """(total Pss in KiB, number of processes) over the tree."""
    pids = tree_pids(roots)
    return sum(_pss_kib(p) for p in pids), len(pids)


def system_busy_seconds():
    """CPU seconds all CPUs have spent busy since boot (/proc/stat "cpu":
    user, nice, system, irq, softirq, steal; guest time is inside user)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / CLK_TCK


def pid_cpu_seconds(pid):
    """utime+stime of one process (its threads), in seconds; 0 if gone."""
    st = _read_stat(pid)
    return 0.0 if st is None else (st[1] + st[2]) / CLK_TCK


def pid_alive(pid):
    """True while pid runs: not gone, not a zombie waiting to be reaped
    (kill(pid, 0) succeeds on a zombie, and an orphan's zombie may wait a
    while for its new parent)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return False
    return data[data.rfind(b")") + 2:][:1] not in (b"Z", b"X")


def pid_pss_kib(pid):
    """Pss of one process in KiB (0 if gone)."""
    return _pss_kib(pid)


def pid_comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return None


def pid_nofile_limit(pid):
    """The soft RLIMIT_NOFILE of a process (None if unknown)."""
    try:
        with open(f"/proc/{pid}/limits") as f:
            for line in f:
                if line.startswith("Max open files"):
                    return int(line.split()[3])
    except (OSError, ValueError, IndexError):
        pass
    return None
