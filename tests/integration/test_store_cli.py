"""`mailwright index show|rebuild USER` (src/cli/cli_index.c) over mail
delivered by SMTP: the index lists the messages in delivery order with
their sizes with CRLF line ends, and the POP3 UIDLs survive the loss of
the index file (they derive from the Maildir file names)."""

import os
import re
from pathlib import Path

from conftest import wait_for
from smtp_helpers import message, send_raw_message, session, token, with_token

RCPT = "user1@example.test"


def show(inst, user=RCPT):
    """Parses `index show`: (header dict, [(uid, uidl, size, flags)])."""
    r = inst.cli("index", "show", user, check=True)
    head, msgs = {}, []
    for line in r.stdout.splitlines():
        m = re.match(r"^(\w+): (.*)$", line)
        if m:
            head[m.group(1)] = m.group(2)
            continue
        uid, uidl, size, flags = line.split(" ")
        msgs.append((int(uid), uidl, int(size), flags))
    assert int(head["count"]) == len(msgs)
    return head, msgs


def index_path(inst, user=RCPT):
    return Path(inst.maildir(user)).parent / "mailwright-index.db"


def test_index_show_rebuild_keeps_uidls(instance):
    toks = [token() for _ in range(3)]
    c = session(instance)
    for t in toks:
        send_raw_message(c, [RCPT], message(t) + b"")
    c.close()
    md = Path(instance.maildir(RCPT))
    wait_for(lambda: all(with_token(md, t) for t in toks), 30,
             what="three deliveries")

    head, msgs = show(instance)
    assert [m[0] for m in msgs] == [1, 2, 3]
    assert head["uidnext"] == "4"
    files = {f.name.split(",")[0]: f for f in (md / "new").iterdir()}
    assert len(files) == 3, "show is read-only: new/ stays"
    # the UIDL is the file's base name; UIDs follow the delivery time in
    # it ("<sec>.M<usec>...", compared as numbers, not as strings)
    assert set(files) == {m[1] for m in msgs}
    times = [tuple(int(x) for x in re.match(r"(\d+)\.M(\d+)", m[1]).groups())
             for m in msgs]
    assert times == sorted(times)
    for m in msgs:
        f = files[m[1]]
        data = f.read_bytes()
        # the size is the CRLF size: each stored bare LF counts two bytes
        assert m[2] == len(data) + data.count(b"\n") - data.count(b"\r\n")
        assert f.name.endswith(",W=%d" % m[2])
    # the index is the services', not root's
    st = os.stat(index_path(instance))
    assert st.st_uid == os.stat(md).st_uid

    # lose the index: rebuild gives the same UIDLs
    for sfx in ("", "-wal", "-shm"):
        Path(str(index_path(instance)) + sfx).unlink(missing_ok=True)
    r = instance.cli("index", "rebuild", RCPT, check=True)
    assert "rebuilt" in r.stdout
    assert index_path(instance).exists()
    head2, msgs2 = show(instance)
    assert [(m[1], m[2]) for m in msgs2] == [(m[1], m[2]) for m in msgs]
    assert [m[0] for m in msgs2] == [1, 2, 3]
    # rebuild moves new/ to cur/ (it is a writer)
    assert not list((md / "new").iterdir())

    # garbage in place of the index: moved aside, rebuilt, same UIDLs
    index_path(instance).write_bytes(b"this is not a database" * 100)
    for sfx in ("-wal", "-shm"):
        Path(str(index_path(instance)) + sfx).unlink(missing_ok=True)
    head3, msgs3 = show(instance)
    assert [m[1] for m in msgs3] == [m[1] for m in msgs]
    assert any(".corrupt-" in p.name
               for p in index_path(instance).parent.iterdir())


def test_index_errors_say_what_to_do(instance):
    r = instance.cli("index", "show", "nobody-here@example.test")
    assert r.returncode == 1
    assert "no Maildir yet" in r.stderr
    assert r.stderr.count("\n") == 1
    r = instance.cli("index", "show", "not-an-address")
    assert r.returncode == 2
    assert "local@domain" in r.stderr or "user@domain" in r.stderr
    r = instance.cli("index", "show", "../x@example.test")
    assert r.returncode == 2
    r = instance.cli("index", "frobnicate", RCPT)
    assert r.returncode == 2
    assert "usage: mailwright index" in r.stderr
