"""The outbound cases' tools (issue #8): the sink every relayed message
goes to, and handles on a server's queue for qbig (count what is queued and
deferred, find the queue manager, run mailq and flush, restart).

cases.py drives them; nothing here times anything.
"""
import os
import re
import signal
import socket
import subprocess
import tempfile
import time

import proctree

SMTP_SINK = os.environ.get("BENCH_SMTP_SINK", "/usr/sbin/smtp-sink")


def port_open(host, port):
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


class Sink:
    """Postfix's smtp-sink on 127.0.0.1:port, started by the bench, as the
    MX that every relayed message goes to. It answers like one (220, EHLO
    with PIPELINING, 250 to MAIL, RCPT and the end of data); with -c it
    writes its counters "sess=N quit=N mesg=N" followed by a CR to stdout
    (a file here) after every session, QUIT and end of data, so the last
    record in the file is the number of messages it has received. It runs
    as a child of this script, outside the server's trees: its CPU is not
    the server's (it is reported apart)."""

    def __init__(self, port):
        self.port, self.proc, self.out = port, None, None

    def start(self):
        if port_open("127.0.0.1", self.port):
            raise RuntimeError(f"something else already listens on "
                               f"127.0.0.1:{self.port}, where the sink goes")
        self.out = tempfile.TemporaryFile()
        # As root it must be told whom to run as. -m: more connections at
        # once than any server here opens (the default is 256).
        argv = [SMTP_SINK] + (["-u", "nobody"] if os.geteuid() == 0 else []) \
            + ["-m", "1000", "-c", f"127.0.0.1:{self.port}", "1000"]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=self.out, stderr=self.out)
        deadline = time.monotonic() + 10
        while not port_open("127.0.0.1", self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"smtp-sink did not start on port "
                                   f"{self.port}")
            time.sleep(0.02)

    def counters(self):
        """(sessions, messages) the sink has counted so far."""
        fd = self.out.fileno()
        size = os.fstat(fd).st_size
        tail = os.pread(fd, 512, max(0, size - 512))
        m = re.findall(rb"sess=(\d+) quit=\d+ mesg=(\d+)\r", tail)
        return (int(m[-1][0]), int(m[-1][1])) if m else (0, 0)

    def count(self):
        return self.counters()[1]

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def cpu_seconds(self):
        if not self.alive():
            return 0.0
        return proctree.pid_cpu_seconds(self.proc.pid)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


def count_files(top):
    """Regular files under top, recursively (0 if top is missing)."""
    n = 0
    try:
        with os.scandir(top) as it:
            for e in it:
                if e.is_dir(follow_symlinks=False):
                    n += count_files(e.path)
                elif e.is_file(follow_symlinks=False):
                    n += 1
    except FileNotFoundError:
        pass
    return n


def disk_bytes(top):
    """Bytes of disk (st_blocks) taken by the files under top."""
    n = 0
    try:
        with os.scandir(top) as it:
            for e in it:
                if e.is_dir(follow_symlinks=False):
                    n += disk_bytes(e.path)
                elif e.is_file(follow_symlinks=False):
                    try:
                        n += e.stat(follow_symlinks=False).st_blocks * 512
                    except FileNotFoundError:
                        pass
    except FileNotFoundError:
        pass
    return n


def wait_gone(pids, what, deadline_s=60.0):
    """Until none of pids runs (zombies count as gone)."""
    deadline = time.monotonic() + deadline_s
    while any(proctree.pid_alive(p) for p in pids):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} still running after {deadline_s:g} s")
        time.sleep(0.02)


class MailwrightQueue:
    """qbig's handle on a mailwright instance that run.sh started:
    BENCH_MW_BIN, BENCH_MW_CONF (its mailwright.cf), BENCH_QUEUE_DIR (its
    queue_directory), BENCH_MW_LOG (where serve's stderr goes; the restart
    appends to it) and BENCH_MW_PIDFILE (where the restarted master's pid
    is written, for run.sh to stop it)."""

    kind = "mailwright"

    def __init__(self):
        env = os.environ
        self.bin, self.conf = env["BENCH_MW_BIN"], env["BENCH_MW_CONF"]
        self.qdir, self.logpath = env["BENCH_QUEUE_DIR"], env["BENCH_MW_LOG"]
        self.pidfile = env["BENCH_MW_PIDFILE"]
        self.proc = None

    def _entries(self, sub, skip_tmp=False):
        try:
            names = os.listdir(os.path.join(self.qdir, sub))
        except FileNotFoundError:
            return 0
        return sum(1 for n in names if not n.startswith(".") and
                   not (skip_tmp and ".tmp." in n))

    def queued(self):
        return sum(self._entries(d) for d in ("incoming", "active", "hold"))

    def deferred(self):
        """Messages with a delivery state (defer/<ID>) in active/."""
        return min(self._entries("defer", skip_tmp=True),
                   self._entries("active"))

    def disk_bytes(self):
        return disk_bytes(self.qdir)

    def qmgr_pid(self, t):
        """The queue process: the last "mailwright/queue[PID]: started" in
        the log that is alive in the tree; else the holder of qmgr.lock."""
        tree = set(proctree.tree_pids(t.pids))
        try:
            with open(self.logpath, "rb") as f:
                pids = re.findall(rb"mailwright/queue\[(\d+)\]: started",
                                  f.read())
        except OSError:
            pids = []
        for p in reversed(pids):
            if int(p) in tree and proctree.pid_alive(int(p)):
                return int(p)
        try:
            ino = os.stat(os.path.join(self.qdir, "qmgr.lock")).st_ino
            with open("/proc/locks") as f:
                for line in f:
                    w = line.split()
                    if len(w) > 5 and w[1] == "FLOCK" and \
                            w[5].rsplit(":", 1)[-1] == str(ino) and \
                            int(w[4]) in tree:
                        return int(w[4])
        except (OSError, ValueError):
            pass
        return None

    def mailq_argv(self):
        return [self.bin, "-c", self.conf, "queue", "list"]

    def mailq_count(self, out):
        return None  # its output format is not settled yet

    def flush_argv(self):
        return [self.bin, "-c", self.conf, "queue", "flush"]

    def stop(self, t):
        pids = proctree.tree_pids(t.pids)
        for p in t.pids:
            os.kill(p, signal.SIGTERM)
        wait_gone(pids, "mailwright")

    def start(self, t):
        with open(self.logpath, "ab") as logf:
            self.proc = subprocess.Popen(
                [self.bin, "-c", self.conf, "serve"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=logf)
        with open(self.pidfile, "w") as f:
            f.write(f"{self.proc.pid}\n")
        return [self.proc.pid]


class PostfixQueue:
    """qbig's handle on a Postfix instance (the refstack's) that run.sh
    started: BENCH_POSTFIX_CONF is its config directory. A restart updates
    $REFSTACK_DIR/pids, where refstack/stop.sh finds its master."""

    kind = "postfix"
    QUEUES = ("maildrop", "incoming", "active", "deferred", "hold")

    def __init__(self):
        self.conf = os.environ["BENCH_POSTFIX_CONF"]
        r = subprocess.run(["postconf", "-c", self.conf, "-h",
                            "queue_directory"], capture_output=True,
                           text=True, check=True)
        self.qdir = r.stdout.strip()

    def queued(self):
        return sum(count_files(os.path.join(self.qdir, q))
                   for q in self.QUEUES)

    def deferred(self):
        return count_files(os.path.join(self.qdir, "deferred"))

    def disk_bytes(self):
        return sum(disk_bytes(os.path.join(self.qdir, q))
                   for q in self.QUEUES + ("defer", "bounce", "trace"))

    def _master(self, t):
        for p in t.pids:
            try:
                if os.readlink(f"/proc/{p}/exe") == \
                        "/usr/lib/postfix/sbin/master":
                    return p
            except OSError:
                pass
        raise RuntimeError(f"no Postfix master among {t.pids}")

    def qmgr_pid(self, t):
        for p in proctree.tree_pids([self._master(t)]):
            if proctree.pid_comm(p) == "qmgr":
                return p
        return None

    def mailq_argv(self):
        return ["postqueue", "-c", self.conf, "-p"]

    def mailq_count(self, out):
        if b"Mail queue is empty" in out:
            return 0
        m = re.search(rb"in (\d+) Requests?\.", out)
        return int(m.group(1)) if m else None

    def flush_argv(self):
        return ["postqueue", "-c", self.conf, "-f"]

    def stop(self, t):
        master = self._master(t)
        pids = proctree.tree_pids([master])
        os.kill(master, signal.SIGTERM)
        wait_gone(pids, "Postfix")
        self.old_master = master

    def start(self, t):
        # The master detaches and keeps its stdio: a file, not a pipe.
        with tempfile.TemporaryFile() as out:
            r = subprocess.run(["postfix", "-c", self.conf, "start"],
                               stdin=subprocess.DEVNULL, stdout=out,
                               stderr=out)
            if r.returncode != 0:
                out.seek(0)
                raise RuntimeError(f"postfix start: exit {r.returncode}: "
                                   f"{out.read()[-300:]!r}")
        pidf = os.path.join(self.qdir, "pid", "master.pid")
        deadline = time.monotonic() + 30
        while True:
            try:
                with open(pidf) as f:
                    master = int(f.read().strip())
                if master != self.old_master and proctree.pid_alive(master):
                    break
            except (OSError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("Postfix wrote no new master.pid")
            time.sleep(0.02)
        pids = [master if p == self.old_master else p for p in t.pids]
        rs = os.environ.get("REFSTACK_DIR")
        if rs and os.path.exists(os.path.join(rs, "pids")):
            with open(os.path.join(rs, "pids"), "w") as f:
                f.write(" ".join(map(str, pids)) + "\n")
        return pids


def queue_ctl():
    kind = os.environ.get("BENCH_QUEUE_KIND", "")
    if kind == "mailwright":
        return MailwrightQueue()
    if kind == "postfix":
        return PostfixQueue()
    return None
