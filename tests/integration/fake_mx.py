"""A scriptable SMTP server on a loopback address for the SMTP client's
tests: it plays the old and limited servers a real client meets (no EHLO,
no PIPELINING, a SIZE limit, no 8BITMIME or SMTPUTF8, replies chosen per
recipient), records every command and message, and answers one command at
a time (it never reads ahead, so a client that pipelines without
PIPELINING still works, as with many real servers).

    with FakeMx("127.0.0.4", port, ehlo=False, size=1000) as mx:
        ...
        mx.messages  # [(mail_from_line, [rcpt lines], data bytes)]
"""

import socket
import threading


class FakeMx:
    def __init__(self, ip, port, ehlo=True, extensions=("PIPELINING",),
                 size=None, rcpt_reply=None, greeting="220 fake.test ESMTP"):
        self.ip, self.port = ip, port
        self.ehlo = ehlo
        self.extensions = list(extensions)
        if size is not None:
            self.extensions.append("SIZE %d" % size)
        self.rcpt_reply = rcpt_reply or (lambda addr: "250 2.1.5 Ok")
        self.greeting = greeting
        self.commands = []
        self.messages = []
        self.conns = []
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((ip, port))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.stop = threading.Event()
        self.t = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self):
        self.t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.t.join()
        self.sock.close()
        # a client's cached connection must not outlive this server
        for c in self.conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _accept(self):
        while not self.stop.is_set():
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            self.conns.append(c)
            threading.Thread(target=self._serve, args=(c,),
                             daemon=True).start()

    def _serve(self, c):
        f = c.makefile("rb")
        out = c.makefile("wb")

        def say(line):
            out.write(line.encode() + b"\r\n")
            out.flush()
        try:
            say(self.greeting)
            mail, rcpts = None, []
            while True:
                line = f.readline(4096)
                if not line:
                    return
                cmd = line.rstrip(b"\r\n").decode("utf-8", "replace")
                self.commands.append(cmd)
                verb = cmd.split(" ", 1)[0].upper()
                if verb == "EHLO":
                    if not self.ehlo:
                        say("500 5.5.1 Command unrecognized")
                        continue
                    lines = ["fake.test"] + self.extensions
                    for i, l in enumerate(lines):
                        say(("250-" if i < len(lines) - 1 else "250 ") + l)
                elif verb == "HELO":
                    say("250 fake.test")
                elif verb == "MAIL":
                    mail, rcpts = cmd, []
                    say("250 2.1.0 Ok")
                elif verb == "RCPT":
                    addr = cmd.split(":", 1)[1].strip().split(" ")[0]
                    r = self.rcpt_reply(addr.strip("<>"))
                    if r.startswith("2"):
                        rcpts.append(cmd)
                    say(r)
                elif verb == "DATA":
                    if not rcpts:
                        say("554 5.5.1 Error: no valid recipients")
                        continue
                    say("354 End data with <CR><LF>.<CR><LF>")
                    data = b""
                    while True:
                        l = f.readline(1 << 20)
                        if not l or l == b".\r\n":
                            break
                        data += l[1:] if l.startswith(b".") else l
                    self.messages.append((mail, rcpts, data))
                    say("250 2.0.0 Ok: queued as FAKE%d" % len(self.messages))
                elif verb == "RSET":
                    mail, rcpts = None, []
                    say("250 2.0.0 Ok")
                elif verb == "QUIT":
                    say("221 2.0.0 Bye")
                    return
                else:
                    say("502 5.5.2 Error: command not recognized")
        except OSError:
            pass
        finally:
            c.close()
