"""The C client of the timed IMAP and POP3 steps (build/bench/
mail-bench-client, bench/mail_client.c) as a subprocess: one request line
in, one JSON line out. A Python client costs a few microseconds per FETCH
response or RETR, the same for both servers, which would pull the ratios
towards 1; the C client scans the replies in place at C speed and checks
them the same way (FETCH counts, the items each response must hold,
literal bytes)."""

import json
import os
import subprocess

BIN = os.environ.get(
    "BENCH_MAIL_CLIENT",
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build",
                 "bench", "mail-bench-client"))


class ClientError(RuntimeError):
    pass


class MailClient:
    """One mail-bench-client process; start it before the timed part."""

    def __init__(self):
        if not os.access(BIN, os.X_OK):
            raise ClientError(f"{BIN} missing: run make build")
        self.p = subprocess.Popen([BIN], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, bufsize=0)

    def req(self, *fields):
        """Sends one request (fields joined by tabs); returns the reply
        dict, or raises ClientError with the client's reason."""
        self.p.stdin.write(("\t".join(str(f) for f in fields) + "\n")
                           .encode())
        line = self.p.stdout.readline()
        if not line:
            raise ClientError("mail-bench-client exited")
        r = json.loads(line)
        if "error" in r:
            raise ClientError(r["error"])
        return r

    def close(self):
        try:
            self.p.stdin.close()
        finally:
            self.p.wait()


def as_bytes(s):
    """A reply string as the bytes the server sent (see mail_client.c)."""
    return s.encode("latin-1")
