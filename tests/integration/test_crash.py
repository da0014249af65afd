"""The crash test: while clients send mail as fast as they can, the
services of the master are killed with SIGKILL at random, again and
again. Afterwards every message that got its 250 must be in each of its
recipients' Maildirs exactly once (DESIGN.md: 250 only once the message
is durable; local delivery exactly once across crashes), no message may
be stored twice anywhere, and the master must still be serving."""

import os
import random
import re
import signal
import smtplib
import threading
import time
from collections import Counter
from pathlib import Path

from conftest import children_of, pid_alive, wait_for
from smtp_helpers import (SENDER, USERS, queue_dir, queue_pending,
                          running_instance, token, wait_one)

DURATION = 30        # seconds of sending under fire
CLIENTS = 8          # sending threads
KILL_EVERY = (1.0, 2.0)  # seconds between two kills, at random
DRAIN_TIMEOUT = 60   # for the queue to empty once the killing stops
# The defaults: a message committed by an smtpd killed before it poked the
# queue manager is found by the scan the master asks for (SIGUSR1) when
# it sees the smtpd die, not by the periodic one (docs/queue.md).
PARAMS = {}
SUBJECT = re.compile(rb"^Subject: crash (tok-[0-9a-f]{32})$", re.M)


class Record:
    """What the clients saw, shared between their threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.accepted = {}  # token -> recipients that were accepted
        self.stats = Counter()

    def count(self, what):
        with self.lock:
            self.stats[what] += 1


def crash_message(tok, rcpts):
    return ("From: <%s>\r\nTo: %s\r\nSubject: crash %s\r\n"
            "Message-ID: <%s@crash.client.test>\r\n\r\n"
            "crash test body %s\r\n.leading dot line\r\n"
            % (SENDER, ", ".join("<%s>" % a for a in rcpts), tok, tok,
               tok)).encode()


def client(port, seed, stop, rec):
    """Sends until stop is set. A message counts as accepted only when its
    DATA got 250; connection errors, 421 and 4xx are retried with a new
    message on a new connection."""
    rnd = random.Random(seed)
    s = None
    while not stop.is_set():
        tok = token()
        rcpts = rnd.sample(USERS, 2 if rnd.random() < 0.3 else 1)
        try:
            if s is None:
                s = smtplib.SMTP("127.0.0.1", port, "crash.client.test",
                                 timeout=20)
            rec.count("sent")
            refused = s.sendmail(SENDER, rcpts, crash_message(tok, rcpts))
        except smtplib.SMTPRecipientsRefused:
            rec.count("refused")
            s = reset(s)
            continue
        except (smtplib.SMTPException, OSError):
            # 421 or 451 replies, resets, timeouts: not accepted.
            rec.count("failed")
            s = drop(s)
            continue
        ok = [a for a in rcpts if a not in refused]
        with rec.lock:
            rec.accepted[tok] = ok
            rec.stats["accepted"] += 1
    drop(s)


def reset(s):
    try:
        s.rset()
        return s
    except (smtplib.SMTPException, OSError):
        return drop(s)


def drop(s):
    if s is not None:
        try:
            s.close()
        except OSError:
            pass
    return None


def all_stored(inst):
    """(maildir, token) -> how many files of that Maildir hold the token,
    over every Maildir of the instance."""
    counts = Counter()
    for md in (Path(inst.dir) / "mail").glob("*/*/Maildir"):
        for sub in ("new", "cur"):
            d = md / sub
            if not d.is_dir():
                continue
            for f in d.iterdir():
                m = SUBJECT.search(f.read_bytes())
                if m:
                    counts[(md, m.group(1).decode())] += 1
    return counts


def test_kill_9_of_services_loses_and_duplicates_nothing(mw_bin):
    with running_instance(mw_bin, PARAMS) as inst:
        master = inst.pid
        rec = Record()
        stop = threading.Event()
        threads = [threading.Thread(target=client,
                                    args=(inst.smtp_port, i, stop, rec),
                                    daemon=True) for i in range(CLIENTS)]
        for t in threads:
            t.start()
        kills = 0
        rnd = random.Random(0)
        end = time.monotonic() + DURATION
        try:
            while time.monotonic() < end:
                # Pacing between kills, not a wait for a condition.
                stop.wait(rnd.uniform(*KILL_EVERY))
                kids = children_of(master)
                if not kids:
                    continue  # all of them are being restarted
                victim = rnd.choice(kids)
                # Only a process whose parent is our master.
                if victim in children_of(master):
                    try:
                        os.kill(victim, signal.SIGKILL)
                        kills += 1
                    except ProcessLookupError:
                        pass
        finally:
            stop.set()
            for t in threads:
                t.join(60)
        assert not any(t.is_alive() for t in threads), "a client hangs"
        print("crash test: sent=%d accepted=%d refused=%d failed=%d kills=%d"
              % (rec.stats["sent"], rec.stats["accepted"],
                 rec.stats["refused"], rec.stats["failed"], kills))
        assert kills >= 10, "only %d kills" % kills
        assert rec.stats["accepted"] > 0, "nothing was accepted"

        # The master survived, restarted its services, and serves.
        assert inst.proc.poll() is None, "the master died"
        assert pid_alive(master)
        wait_for(lambda: children_of(master), 30, what="restarted services")
        probe = token()
        with smtplib.SMTP("127.0.0.1", inst.smtp_port, "crash.client.test",
                          timeout=30) as s:
            s.sendmail(SENDER, [USERS[0]], crash_message(probe, [USERS[0]]))
        wait_one(inst, USERS[0], probe, timeout=DRAIN_TIMEOUT)

        wait_for(lambda: not queue_pending(inst), DRAIN_TIMEOUT,
                 what="the queue to drain")
        # A committed message is whole (fsync before rename): none may
        # have been set aside as damaged.
        corrupt = queue_dir(inst) / "corrupt"
        assert not corrupt.is_dir() or list(corrupt.iterdir()) == []

        counts = all_stored(inst)
        twice = {k: n for k, n in counts.items() if n != 1}
        assert not twice, "stored more than once: %r" % twice
        where = {}
        for (md, tok), _ in counts.items():
            where.setdefault(tok, set()).add(md)
        lost = []
        for tok, rcpts in rec.accepted.items():
            want = {inst.maildir(a) for a in rcpts}
            have = where.get(tok, set())
            if want - have:
                lost.append((tok, sorted(map(str, want - have))))
            # Never to someone who was not a recipient.
            assert have <= want, (tok, have, want)
        assert not lost, "%d accepted messages lost, e.g. %r" % (
            len(lost), lost[:5])
