"""`mailwright serve`, the master process: binding the listeners, start-up
errors, the services it forks, restarting one that dies, reload on SIGHUP
(good and bad configurations, changed listeners), and stopping on SIGTERM
and SIGINT with no process left behind."""

import os
import pwd
import re
import signal
import socket
import ssl
import subprocess
import uuid

import pytest

from conftest import free_port, pid_alive, read_banner, wait_for

VERSION = "0.1.0"


@pytest.fixture
def served(make_instance):
    """A running instance; the master's tests need no users."""
    return make_instance(users=False)


def log_lines(inst, pattern):
    return re.findall(pattern, inst.log_text(), re.M)


def master_tag(inst):
    """The log tag of inst's master, as its first line gives it (also
    after it has exited)."""
    m = re.search(r"mailwright/master\[(\d+)\]: daemon started",
                  inst.log_text())
    assert m, inst.log_text()
    return r"mailwright/master\[%s\]: " % m.group(1)


def expected_children(inst):
    # smtpd x smtpd_processes (default 1), pop3d x pop3_processes and
    # imapd x imap_processes (default 1; init sets their listeners) and
    # one queue process.
    n = inst.get_param("smtpd_processes")
    p = inst.get_param("pop3_processes")
    i = inst.get_param("imap_processes")
    return (int(n) if n else 1) + (int(p) if p else 1) + \
        (int(i) if i else 1) + 1


def refused(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


def test_serve_logs_start_and_answers_on_every_smtp_listener(served):
    assert re.search(master_tag(served) +
                     r"daemon started -- version %s, configuration %s$"
                     % (re.escape(VERSION), re.escape(str(served.conf))),
                     served.log_text(), re.M), served.log_text()
    assert read_banner(served.smtp_port).startswith("220 ")
    assert read_banner(served.submission_port).startswith("220 ")
    # smtps is implicit TLS (RFC 8314): the greeting comes after the
    # handshake (tests/integration/test_smtp_tls.py).
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", served.smtps_port),
                                  timeout=30) as raw:
        with ctx.wrap_socket(raw) as tls:
            assert tls.recv(100).startswith(b"220 ")


def test_serve_forks_smtpd_processes_and_one_queue(make_instance):
    inst = make_instance(users=False, params={"smtpd_processes": "3"})
    wait_for(lambda: len(inst.children()) == 6, 30,
             what="3 smtpd, 1 pop3d, 1 imapd and 1 queue process")


def test_serve_forks_pop3d_only_with_pop3_listeners(make_instance):
    inst = make_instance(users=False, params={"pop3_processes": "2"})
    wait_for(lambda: len(inst.children()) == 5, 30,
             what="1 smtpd, 2 pop3d, 1 imapd and 1 queue process")
    assert read_banner(inst.pop3_port).startswith("+OK")
    inst.stop()
    inst.set_params({"pop3_listen": "", "pop3s_listen": ""})
    inst.start()
    wait_for(lambda: len(inst.children()) == 3, 30,
             what="1 smtpd, 1 imapd and 1 queue process")
    assert refused(inst.pop3_port)


def test_serve_forks_imapd_only_with_imap_listeners(make_instance):
    inst = make_instance(users=False, params={"imap_processes": "2"})
    wait_for(lambda: len(inst.children()) == 5, 30,
             what="1 smtpd, 1 pop3d, 2 imapd and 1 queue process")
    assert read_banner(inst.imap_port).startswith("* OK")
    inst.stop()
    inst.set_params({"imap_listen": "", "imaps_listen": ""})
    inst.start()
    wait_for(lambda: len(inst.children()) == 3, 30,
             what="1 smtpd, 1 pop3d and 1 queue process")
    assert refused(inst.imap_port)


def test_serve_as_root_drops_to_mail_owner(served):
    if os.geteuid() != 0:
        pytest.skip("only root changes user")
    owner = pwd.getpwnam(served.get_param("mail_owner"))
    for pid in [served.pid] + served.children():
        with open("/proc/%d/status" % pid) as f:
            status = f.read()
        uids = re.search(r"^Uid:\s+(.*)$", status, re.M).group(1).split()
        gids = re.search(r"^Gid:\s+(.*)$", status, re.M).group(1).split()
        groups = re.search(r"^Groups:\s*(.*)$", status, re.M).group(1)
        assert uids == [str(owner.pw_uid)] * 4, (pid, uids)
        assert gids == [str(owner.pw_gid)] * 4, (pid, gids)
        assert groups.split() in ([], [str(owner.pw_gid)]), groups
        assert re.search(r"^NoNewPrivs:\s+1$", status, re.M)
    for sub in ("queue", "mail"):
        assert os.stat(served.dir / sub).st_uid == owner.pw_uid


def test_bind_failure_is_one_line_and_exit_1(make_instance):
    inst = make_instance(users=False, start=False)
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        busy.bind(("127.0.0.1", inst.smtp_port))
        busy.listen(1)
        r = subprocess.run([inst.bin, "-c", str(inst.conf), "serve"],
                           capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert r.stdout == ""
    assert r.stderr == ("mailwright: cannot bind 127.0.0.1:%d: Address "
                        "already in use\n" % inst.smtp_port)


def test_bad_listener_spec_is_one_line_and_exit_1(make_instance):
    inst = make_instance(users=False, start=False)
    inst.set_param("submission_listen", "127.0.0.1:99999")
    r = subprocess.run([inst.bin, "-c", str(inst.conf), "serve"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    # conf_load() or the master, whichever sees it first, names it.
    assert "submission_listen" in lines[0] and "99999" in lines[0], lines


def test_bad_config_at_start_is_one_line_and_exit_1(make_instance):
    inst = make_instance(users=False, start=False)
    inst.set_param("smtpd_processes", "lots")
    r = subprocess.run([inst.bin, "-c", str(inst.conf), "serve"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert "mailwright.cf:" in lines[0] and "smtpd_processes" in lines[0]


def test_serve_takes_no_arguments(make_instance):
    inst = make_instance(users=False, start=False)
    r = subprocess.run([inst.bin, "-c", str(inst.conf), "serve", "now"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert len(r.stderr.splitlines()) == 1


def test_killed_services_are_logged_and_restarted_at_once(served):
    n = expected_children(served)
    before = wait_for(lambda: (lambda c: c if len(c) == n else None)(
        served.children()), 30, what="%d services" % n)
    # Kill every service, smtpd, pop3d, imapd and queue alike, one after the other.
    for pid in before:
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: log_lines(
            served, master_tag(served)
            + r"warning: process (smtpd|pop3d|imapd|queue) "
            r"pid %d killed by signal 9$" % pid), 30,
            what="the master's line about pid %d" % pid)
        wait_for(lambda: len(served.children()) == n
                 and pid not in served.children(), 30,
                 what="a replacement for pid %d" % pid)
    after = served.children()
    assert not set(after) & set(before)
    names = set(log_lines(served, r"warning: process (smtpd|pop3d|imapd|queue) "
                                  r"pid \d+ killed by signal 9$"))
    assert names == {"smtpd", "pop3d", "imapd", "queue"}
    # Each had been up long enough: restarted at once, not throttled.
    assert not log_lines(served, r"throttling")
    # New connections are served by the new smtpd processes.
    wait_for(lambda: (read_banner(served.smtp_port) or "").startswith("220"),
             30, what="a greeting after the restart")


def test_service_dying_young_is_throttled(served):
    n = expected_children(served)
    wait_for(lambda: len(served.children()) == n, 30)

    known = set(served.children())
    os.kill(min(known), signal.SIGKILL)

    def kill_replacements():
        # Every new process is killed as soon as it shows up, until the
        # master notices that its slot keeps dying young.
        if log_lines(served, r"warning: process (smtpd|queue) keeps dying "
                             r"within 1000 ms of its start -- throttling "
                             r"for \d+ ms$"):
            return True
        kids = set(served.children())
        for pid in kids - known:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        known.update(kids)
        return False
    wait_for(kill_replacements, 60, interval=0.005,
             what="a throttling warning")
    # It comes back after the delay.
    wait_for(lambda: len(served.children()) == n, 30,
             what="the services back after throttling")


def test_sighup_reload_picks_up_a_new_banner(served):
    n = expected_children(served)
    before = wait_for(lambda: (lambda c: c if len(c) == n else None)(
        served.children()), 30)
    tok = "reloaded-" + uuid.uuid4().hex[:12]
    served.set_param("smtpd_banner", "$myhostname ESMTP " + tok)
    served.reload()
    wait_for(lambda: log_lines(served, master_tag(served) +
                               r"reload -- version %s, configuration %s$"
                               % (re.escape(VERSION),
                                  re.escape(str(served.conf)))), 30,
             what="the reload line")
    wait_for(lambda: tok in (read_banner(served.smtp_port) or ""), 30,
             what="the new banner")
    # The old processes are replaced, not added to.
    wait_for(lambda: not set(served.children()) & set(before)
             and len(served.children()) == n, 30,
             what="the old services gone")
    assert not log_lines(served, r"warning: process .* killed by signal")


def test_sighup_with_bad_config_keeps_the_old_one(served):
    n = expected_children(served)
    before = wait_for(lambda: (lambda c: c if len(c) == n else None)(
        served.children()), 30)
    banner = read_banner(served.smtp_port)
    with open(served.conf, "a") as f:
        f.write("smtpd_processes = lots\n")
    served.reload()
    wait_for(lambda: log_lines(served, master_tag(served) +
                               r"error: .*mailwright\.cf:\d+: "
                               r"smtpd_processes: .* -- keeping the running "
                               r"configuration$"), 30,
             what="the reload error")
    assert served.children() == before
    assert read_banner(served.smtp_port) == banner
    assert not log_lines(served, r"reload -- version")


def test_sighup_rebinds_a_changed_listener(served):
    old_port = served.smtp_port
    new_port = free_port()
    served.set_param("smtpd_listen", "127.0.0.1:%d" % new_port)
    served.ports["smtp_port"] = new_port
    served.reload()
    wait_for(lambda: (read_banner(new_port) or "").startswith("220"), 30,
             what="a greeting on the new port")
    # The old address is let go once the old services are gone; the
    # unchanged ones never stopped answering.
    wait_for(lambda: refused(old_port), 30, what="the old port closed")
    assert read_banner(served.submission_port).startswith("220")


def test_sighup_with_unbindable_listener_keeps_the_old_one(served):
    n = expected_children(served)
    before = wait_for(lambda: (lambda c: c if len(c) == n else None)(
        served.children()), 30)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        served.set_param("smtpd_listen", "127.0.0.1:%d" % port)
        served.reload()
        wait_for(lambda: log_lines(
            served, master_tag(served) + r"error: reload: cannot bind "
            r"127\.0\.0\.1:%d: Address already in use -- keeping the running "
            r"configuration$" % port), 30, what="the reload error")
    assert served.children() == before
    assert read_banner(served.smtp_port).startswith("220")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stop_signal_stops_everything(served, sig):
    n = expected_children(served)
    kids = wait_for(lambda: (lambda c: c if len(c) == n else None)(
        served.children()), 30)
    port = served.smtp_port
    served.signal(sig)
    assert served.wait_exit(30) == 0, served.log_text()
    assert re.search(master_tag(served) + r"terminating on signal %d$"
                     % sig, served.log_text(), re.M)
    for pid in kids:
        assert not pid_alive(pid), "service %d outlived the master" % pid
    assert refused(port)


def test_services_die_with_the_master(served):
    n = expected_children(served)
    kids = wait_for(lambda: (lambda c: c if len(c) == n else None)(
        served.children()), 30)
    served.signal(signal.SIGKILL)
    assert served.wait_exit(30) == -signal.SIGKILL
    # PR_SET_PDEATHSIG: each service gets SIGTERM when the master dies.
    wait_for(lambda: not any(pid_alive(p) for p in kids), 30,
             what="the services to exit")
