"""Fixtures shared by every integration test: the mailwright binary
(mw_bin), a running instance in a temporary directory on free loopback
ports (instance, make_instance), and small helpers (free_port, wait_for,
maildir_messages).

An instance is made the way a user makes one: `mailwright init DIR`, the
listener ports rewritten to free ones, users user1..3@example.test with
passwords secret-1..3 added with `mailwright user add`, then
`mailwright -c DIR/mailwright.cf serve` as a subprocess whose stderr (the
log, since maillog_file is empty) goes to DIR/../serve.log. It is ready
when its SMTP port sends a 220 greeting.

Instances live in short /tmp/mw-XXXXXXXX directories, not in tmp_path: the
queue's UNIX socket path must stay under 108 bytes, and when the tests
run as root the services run as mail_owner ("nobody"), who must be able
to reach the instance directory.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOMAIN = "example.test"
USERS = {
    "user1@example.test": "secret-1",
    "user2@example.test": "secret-2",
    "user3@example.test": "secret-3",
}
# The listener parameters init writes, and the attribute naming each port.
LISTENERS = {
    "smtpd_listen": "smtp_port",
    "submission_listen": "submission_port",
    "smtps_listen": "smtps_port",
    "imap_listen": "imap_port",
    "imaps_listen": "imaps_port",
    "pop3_listen": "pop3_port",
    "pop3s_listen": "pop3s_port",
}
# Under ASan a cold start takes a while; these are deadlines, not waits.
START_TIMEOUT = 60
STOP_TIMEOUT = 30
CLI_TIMEOUT = 120


_GIVEN_PORTS = set()


def free_port():
    """A TCP port on 127.0.0.1 that nobody uses right now, below the
    kernel's ephemeral range: a port the kernel hands out for bind(0) is
    also what it gives outgoing connections (the tests' own clients), and
    one of those may take it before the server binds it."""
    import random
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    for _ in range(200):
        port = random.randint(10000, max(10001, low - 1))
        if port in _GIVEN_PORTS:
            continue  # handed out already: its server may not be up yet
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            _GIVEN_PORTS.add(port)
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout=10.0, interval=0.02, what=None):
    """Polls predicate until it returns something true, and returns that.
    Fails the test when timeout seconds pass first."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1f s waiting for %s"
                                 % (timeout, what or getattr(
                                     predicate, "__name__", "a condition")))
        time.sleep(interval)


def maildir_messages(path):
    """The contents (bytes) of every message in the Maildir at path, new/
    then cur/, each sorted by file name."""
    out = []
    for sub in ("new", "cur"):
        d = Path(path) / sub
        if not d.is_dir():
            continue
        for f in sorted(d.iterdir()):
            if f.is_file():
                out.append(f.read_bytes())
    return out


def read_banner(port, timeout=5.0):
    """Connects to port and returns the first reply line (str), or None if
    nothing listens or no full line comes."""
    try:
        with socket.create_connection(("127.0.0.1", port),
                                      timeout=timeout) as s:
            data = b""
            while b"\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    return None
                data += chunk
            try:
                s.sendall(b"QUIT\r\n")
            except OSError:
                pass
            return data.split(b"\r\n", 1)[0].decode("utf-8", "replace")
    except OSError:
        return None


def children_of(pid):
    """The pids whose parent is pid (from /proc), sorted."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parens.
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append(int(d))
    return sorted(out)


def pid_alive(pid):
    """True when pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2:].split()[0] != "Z"


class Instance:
    """A mailwright instance in dir: made by init(), configured with
    set_params(), run by start() and stop()."""

    def __init__(self, mw_bin, dir):
        self.bin = str(mw_bin)
        self.dir = Path(dir)
        self.conf = self.dir / "mailwright.cf"
        self.log_path = self.dir.parent / "serve.log"
        self.proc = None
        self.ports = {}
        self.users = dict(USERS)

    # --- making it -----------------------------------------------------

    def init(self, domain=DOMAIN, hostname=None):
        args = ["init", str(self.dir), "--domain", domain]
        if hostname is not None:
            args += ["--hostname", hostname]
        r = subprocess.run([self.bin] + args, capture_output=True,
                           text=True, timeout=CLI_TIMEOUT)
        assert r.returncode == 0, "init failed: %s" % r.stderr
        return r

    def use_free_ports(self):
        """Points every listener at a free 127.0.0.1 port."""
        for param, attr in LISTENERS.items():
            self.ports[attr] = free_port()
            self.set_param(param, "127.0.0.1:%d" % self.ports[attr])

    def set_param(self, name, value):
        """Sets name = value in the file, replacing an earlier setting
        (with its continuation lines) or appending one."""
        lines = self.conf.read_text().splitlines()
        out, i, done = [], 0, False
        while i < len(lines):
            line = lines[i]
            key = line.split("=", 1)[0].strip()
            if (not line[:1].isspace() and "=" in line and key == name
                    and not line.startswith("#")):
                i += 1
                while i < len(lines) and lines[i][:1].isspace() \
                        and lines[i].strip():
                    i += 1
                if not done:
                    out.append("%s = %s" % (name, value))
                    done = True
                continue
            out.append(line)
            i += 1
        if not done:
            out.append("%s = %s" % (name, value))
        self.conf.write_text("\n".join(out) + "\n")

    def set_params(self, params):
        for name, value in params.items():
            self.set_param(name, value)

    def get_param(self, name):
        """The value the file sets for name (None when unset)."""
        value = None
        for line in self.conf.read_text().splitlines():
            if line.startswith("#") or "=" not in line:
                continue
            k, v = line.split("=", 1)
            if k.strip() == name and not line[:1].isspace():
                value = v.strip()
        return value

    def add_users(self):
        for addr, password in self.users.items():
            r = self.cli("user", "add", addr, input=password + "\n")
            assert r.returncode == 0, \
                "user add %s failed: %s" % (addr, r.stderr)

    # --- running it ----------------------------------------------------

    def start(self, wait=True):
        """Starts serve; with wait, returns once SMTP greets."""
        assert self.proc is None, "already started"
        log = open(self.log_path, "ab")
        try:
            # Its own session: a ^C to pytest is not a signal to serve.
            self.proc = subprocess.Popen(
                [self.bin, "-c", str(self.conf), "serve"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True)
        finally:
            log.close()
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=START_TIMEOUT):
        def greeted():
            if self.proc.poll() is not None:
                raise AssertionError(
                    "serve exited with %s before answering; log:\n%s"
                    % (self.proc.returncode, self.log_text()))
            b = read_banner(self.smtp_port)
            return b is not None and b.startswith("220")
        wait_for(greeted, timeout, interval=0.05,
                 what="the SMTP greeting on port %d" % self.smtp_port)

    @property
    def pid(self):
        return self.proc.pid if self.proc is not None else None

    def children(self):
        """The pids of the running services."""
        return children_of(self.pid)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def reload(self):
        """SIGHUP; the caller polls for the effect."""
        self.signal(signal.SIGHUP)

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM, then waits; SIGKILL if it does not stop in time.
        Returns the exit status (None if it was not running)."""
        if self.proc is None:
            return None
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            try:
                proc.send_signal(signal.SIGTERM)
                return proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
                raise AssertionError("serve did not stop within %d s "
                                     "of SIGTERM" % timeout)
        return proc.returncode

    def wait_exit(self, timeout=STOP_TIMEOUT):
        """Waits for serve to exit by itself (after a test killed or
        stopped it) and returns its status; teardown then leaves it be."""
        proc, self.proc = self.proc, None
        return proc.wait(timeout)

    # --- looking at it -------------------------------------------------

    def __getattr__(self, attr):
        # smtp_port, submission_port, ... from self.ports
        ports = self.__dict__.get("ports", {})
        if attr in ports:
            return ports[attr]
        raise AttributeError(attr)

    def maildir(self, addr):
        """The Maildir/ of addr: DIR/mail/<domain>/<local>/Maildir."""
        local, domain = addr.rsplit("@", 1)
        return self.dir / "mail" / domain.lower() / local / "Maildir"

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def cli(self, *args, input=None, check=False, timeout=CLI_TIMEOUT):
        """Runs `mailwright -c CONF ARGS...`; returns the CompletedProcess
        (text). check: fail the test on a non-zero exit."""
        r = subprocess.run([self.bin, "-c", str(self.conf)] + list(args),
                           input=input, capture_output=True, text=True,
                           timeout=timeout)
        if check:
            assert r.returncode == 0, "mailwright %s: exit %d: %s" % (
                " ".join(args), r.returncode, r.stderr)
        return r


def _new_base():
    base = tempfile.mkdtemp(prefix="mw-", dir="/tmp")
    # mail_owner reaches DIR through here when root starts serve.
    os.chmod(base, 0o755)
    return base


@pytest.fixture(scope="session")
def mw_bin():
    """The mailwright binary: $MAILWRIGHT_BIN, or build-asan/mailwright."""
    path = Path(os.environ.get("MAILWRIGHT_BIN")
                or REPO / "build-asan" / "mailwright")
    if not path.is_file() or not os.access(path, os.X_OK):
        pytest.fail("no mailwright binary at %s: run `make build-asan` or "
                    "set MAILWRIGHT_BIN" % path)
    return path


@pytest.fixture
def make_instance(mw_bin):
    """A factory: make_instance(params={...}, users=True, start=True,
    domain=..., hostname=...) makes an instance (init, free ports, params,
    users) and starts it unless start=False. Every instance is stopped and
    removed at teardown."""
    made = []

    def make(params=None, users=True, start=True, domain=DOMAIN,
             hostname=None):
        inst = Instance(mw_bin, Path(_new_base()) / "inst")
        made.append(inst)
        inst.init(domain=domain, hostname=hostname)
        inst.use_free_ports()
        if params:
            inst.set_params(params)
        if users:
            inst.add_users()
        if start:
            inst.start()
        return inst

    yield make
    errors = []
    for inst in made:
        try:
            status = inst.stop()
            if status not in (None, 0):
                errors.append("serve exited with %s; log:\n%s"
                              % (status, inst.log_text()[-4000:]))
        finally:
            if not os.environ.get("MW_KEEP_INSTANCES"):
                shutil.rmtree(inst.dir.parent, ignore_errors=True)
    assert not errors, "\n".join(errors)


@pytest.fixture
def instance(make_instance):
    """A running instance with the default configuration and the users
    user1..3@example.test (passwords secret-1..3)."""
    return make_instance()
