"""kill -9 of pop3d at points of a session (issue #9: "Crash-safe: kill -9
of pop3d or the queue at any point leaves the Maildir and index
consistent"): in TRANSACTION after DELEs (nothing is deleted), right
after QUIT while the update runs (all, or what was unlinked so far, is
gone; never a message shown twice or lost otherwise), and while a new
message is delivered. The master restarts pop3d; the next session sees
a mailbox whose listing matches the Maildir, with the same UIDLs."""

import os
import re
import signal

from conftest import wait_for
from pop3_helpers import (PASSWORD2, USER2, RawPOP3, clear_maildir,
                          maildir_files, message, pinst, put_message,
                          token)  # noqa: F401


def pop3d_pids(inst):
    """The pids of the pop3d processes that logged a login (mpid=)."""
    return {int(p) for p in re.findall(r"pop3-login: Login: .*?mpid=(\d+)",
                                       inst.log_text())}


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def listing(inst):
    """UIDL -> size of a new session (after the master restarted pop3d)."""
    def session():
        try:
            with RawPOP3(inst.pop3_port) as c:
                c.greeting()
                c.login(USER2, PASSWORD2)
                assert c.cmd("UIDL").startswith("+OK")
                uidls = dict(l.split() for l in c.multiline())
                assert c.cmd("LIST").startswith("+OK")
                sizes = dict(l.split() for l in c.multiline())
                # every message can be read
                for n in uidls:
                    r = c.cmd("RETR " + n)
                    assert r.startswith("+OK"), r
                    c.multiline()
                c.cmd("QUIT")
                return {u: int(sizes[n]) for n, u in uidls.items()}
        except (OSError, EOFError, AssertionError):
            return None
    return wait_for(session, 60, 0.2, "a POP3 session after the restart")


def kill_pop3d(inst, before):
    pids = pop3d_pids(inst) - before
    assert pids, "no pop3d logged the login"
    for p in pids:
        if alive(p):
            os.kill(p, signal.SIGKILL)
    return pids


def fill(inst, n):
    clear_maildir(inst, USER2)
    for i in range(n):
        put_message(inst, USER2, message("%s-%d" % (token(), i)))


def test_kill_9_in_transaction_deletes_nothing(pinst):
    fill(pinst, 6)
    first = listing(pinst)
    assert len(first) == 6
    killed = set()
    c = RawPOP3(pinst.pop3_port)
    c.greeting()
    c.login(USER2, PASSWORD2)
    for i in range(1, 4):
        assert c.cmd("DELE %d" % i).startswith("+OK")
    killed |= kill_pop3d(pinst, set())
    c.close()
    assert listing(pinst) == first
    assert len(maildir_files(pinst, USER2)) == 6
    clear_maildir(pinst, USER2)


def test_kill_9_during_the_update_leaves_a_consistent_mailbox(pinst):
    fill(pinst, 40)
    first = listing(pinst)
    c = RawPOP3(pinst.pop3_port)
    c.greeting()
    c.login(USER2, PASSWORD2)
    c.send("".join("DELE %d\r\n" % i for i in range(1, 31)))
    for _ in range(30):
        assert c.readline().startswith("+OK")
    before = pop3d_pids(pinst)
    c.send("QUIT\r\n")  # the update starts; kill at once
    kill_pop3d(pinst, set())
    c.close()
    after = listing(pinst)
    # what is left is a subset of what was there, with the same UIDLs and
    # sizes, and at least the ten messages that were never deleted
    assert set(after) <= set(first)
    assert all(after[u] == first[u] for u in after)
    kept = list(first)[30:]
    assert all(u in after for u in kept)
    # the Maildir and the listing agree: one file per message
    assert len(maildir_files(pinst, USER2)) == len(after)
    # and a second look changes nothing
    assert listing(pinst) == after
    del before
    clear_maildir(pinst, USER2)


def test_kill_9_with_a_delivery_in_flight_loses_nothing(pinst):
    fill(pinst, 5)
    c = RawPOP3(pinst.pop3_port)
    c.greeting()
    c.login(USER2, PASSWORD2)
    put_message(pinst, USER2, message("late-" + token()))
    kill_pop3d(pinst, set())
    c.close()
    after = listing(pinst)
    assert len(after) == 6
    assert len(maildir_files(pinst, USER2)) == 6
    clear_maildir(pinst, USER2)
