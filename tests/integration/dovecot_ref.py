"""A private Dovecot (Debian's dovecot-core, -pop3d, -imapd) for drop-in
tests: it serves POP3 and IMAP on free loopback ports over Maildirs at
<root>/<domain>/<local>/Maildir (mailwright's layout), delivers with
dovecot-lda, and keeps its configuration, state, sockets and log under one
temporary directory. It never touches /etc/dovecot. The mail files are
owned by the uid/gid given (the mailwright instance's mail_owner), so the
same Maildir can be opened by mailwright afterwards."""

import os
import signal
import subprocess
import time
from pathlib import Path

from conftest import free_port, wait_for

DOVECOT = "/usr/sbin/dovecot"
LDA = "/usr/lib/dovecot/dovecot-lda"


class DovecotRef:
    def __init__(self, base, mail_root, users, uid, gid):
        self.base = Path(base)
        self.mail_root = Path(mail_root)
        self.users = users  # address -> password
        self.uid, self.gid = uid, gid
        self.pop3_port = free_port()
        self.imap_port = free_port()
        self.proc = None
        self.conf = self.base / "dovecot.conf"

    def write_config(self):
        for d in ("run", "state", "log"):
            (self.base / d).mkdir(parents=True, exist_ok=True)
        os.chmod(self.base, 0o755)
        users = self.base / "users"
        users.write_text("".join(
            "%s:{PLAIN}%s:%d:%d::%s/%s/%s::\n" % (
                a, pw, self.uid, self.gid, self.mail_root,
                a.split("@")[1], a.split("@")[0])
            for a, pw in self.users.items()))
        os.chmod(users, 0o644)
        self.conf.write_text("""\
base_dir = {b}/run
state_dir = {b}/state
log_path = {b}/log/dovecot.log
instance_name = mw-test-{port}
protocols = pop3 imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
first_valid_uid = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {b}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {b}/users
}}
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
""".format(b=self.base, port=self.pop3_port, pop3=self.pop3_port,
           imap=self.imap_port))

    def start(self):
        self.write_config()
        self.proc = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.conf)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

        def up():
            if self.proc.poll() is not None:
                raise AssertionError("dovecot exited: %s\n%s" % (
                    self.proc.stderr.read().decode(errors="replace"),
                    self.log()))
            import socket
            try:
                with socket.create_connection(
                        ("127.0.0.1", self.pop3_port), timeout=1) as s:
                    return s.recv(100).startswith(b"+OK")
            except OSError:
                return False
        wait_for(up, 30, 0.1, "dovecot's POP3 greeting")

    def stop(self):
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
        # its children (auth, pop3, imap) leave when the master does
        time.sleep(0.2)

    def deliver(self, address, message):
        """dovecot-lda: as Postfix's mailbox_command would run it."""
        r = subprocess.run(
            [LDA, "-c", str(self.conf), "-d", address,
             "-f", "sender@example.org"],
            input=message, capture_output=True, timeout=60)
        assert r.returncode == 0, (r.returncode, r.stderr, self.log())

    def log(self):
        try:
            return (self.base / "log" / "dovecot.log").read_text()
        except OSError:
            return ""

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
