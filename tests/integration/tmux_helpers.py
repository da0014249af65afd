"""A private tmux server (its own socket, so nothing else's sessions are
touched) in which the tests run interactive mail clients (mutt, neomutt)
and read their screens."""

import subprocess

from conftest import wait_for


class Tmux:
    def __init__(self, sock):
        self.sock = str(sock)

    def run(self, *args, check=True):
        r = subprocess.run(["tmux", "-S", self.sock] + list(args),
                           capture_output=True, text=True, timeout=30)
        if check:
            assert r.returncode == 0, r.stderr
        return r

    def screen(self):
        return self.run("capture-pane", "-p", "-t", "mutt").stdout

    def wait_screen(self, text, timeout=60):
        return wait_for(lambda: text in self.screen(), timeout, 0.1,
                        "%r on the screen; it shows:\n%s" % (
                            text, self.screen()))

    def keys(self, *k):
        self.run("send-keys", "-t", "mutt", *k)

    def kill(self):
        self.run("kill-server", check=False)
