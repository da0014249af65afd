"""The queue from the command line: mailq (Postfix's layout: ID and mark,
size, arrival time, sender, then each recipient not yet done with the
reason of its last deferral), mailq --json (postqueue -j's fields), and
queue show, hold, release, requeue and delete, one message or ALL. The
deferred mail goes to relayed.test, a relay domain whose transport points
at a closed loopback port."""

import json
import re
import smtplib
import subprocess
import time

import pytest

from conftest import free_port, wait_for
from smtp_helpers import queue_dir, running_instance, token

RELAYED = "x@relayed.test"
USER1 = "user1@example.test"
SENDER = "alice@example.org"


@pytest.fixture(scope="module")
def relay(mw_bin):
    """An instance that relays relayed.test to a port nobody listens on
    and retries only when told (long backoff)."""
    port = free_port()
    with running_instance(mw_bin, {
            "relay_domains": "relayed.test",
            "minimal_backoff_time": "3600s",
            "maximal_backoff_time": "7200s",
            "smtp_connect_timeout": "5s"}) as inst:
        tm = inst.dir / "transport"
        tm.write_text("relayed.test smtp:[127.0.0.1]:%d\n" % port)
        inst.stop()
        inst.set_param("transport_maps", "texthash:%s" % tm)
        inst.start()
        inst.closed_port = port
        yield inst


def post(inst, rcpts, tok, sender=SENDER):
    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=30) as c:
        c.sendmail(sender, rcpts, "Subject: %s\r\n\r\nqueued %s\r\n"
                   % (tok, tok))


def deferrals(inst, rcpt=RELAYED):
    return [l for l in inst.log_text().splitlines()
            if "to=<%s>" % rcpt in l and "status=deferred" in l]


def ids_of(inst, tok):
    """The queue IDs of the queued messages holding tok."""
    out = []
    for sub in ("active", "hold"):
        for p in (queue_dir(inst) / sub).iterdir():
            try:
                if tok.encode() in p.read_bytes():
                    out.append(p.name)
            except FileNotFoundError:
                pass
    return out


def deferred_message(inst):
    """Posts one message to RELAYED and user1; returns (id, token) once
    the relayed recipient is deferred."""
    tok = token()
    n = len(deferrals(inst))
    post(inst, [RELAYED, USER1], tok)
    wait_for(lambda: len(deferrals(inst)) > n, 60, what="the deferral")
    (qid,) = wait_for(lambda: ids_of(inst, tok), 30, what="the queue ID")
    wait_for(lambda: (queue_dir(inst) / "defer" / qid).exists(), 30,
             what="the state file")
    return qid, tok


def mailq(inst, *args):
    r = inst.cli("mailq", *args)
    assert r.returncode == 0, r.stderr
    return r.stdout


def queue(inst, *args):
    return inst.cli("queue", *args)


def test_empty_queue(relay):
    assert mailq(relay) == "Mail queue is empty\n"
    assert json.loads(mailq(relay, "--json")) == []
    r = queue(relay, "list")
    assert r.returncode == 0 and r.stdout == "Mail queue is empty\n"


def test_mailq_shows_a_deferred_message(relay):
    qid, tok = deferred_message(relay)
    out = mailq(relay)
    lines = out.splitlines()
    assert lines[0].split() == ["-Queue", "ID-", "--Size--",
                                "----Arrival", "Time----",
                                "-Sender/Recipient-------"]
    i = [n for n, l in enumerate(lines) if l.startswith(qid)][0]
    m = re.fullmatch(r"([0-9A-Za-z]{17})(.) +(\d+) (\w{3} \w{3} [ \d]\d "
                     r"\d\d:\d\d:\d\d)  (\S+)", lines[i])
    assert m, lines[i]
    assert m.group(2) == " "  # deferred: no mark
    assert m.group(5) == SENDER
    arrival = time.mktime(time.strptime(
        time.strftime("%Y ") + m.group(4), "%Y %a %b %d %H:%M:%S"))
    assert abs(arrival - time.time()) < 600
    reason = lines[i + 1].strip()
    assert reason.startswith("(") and reason.endswith(")"), lines[i + 1]
    assert "127.0.0.1[127.0.0.1]:%d" % relay.closed_port in reason
    assert len(lines[i + 1]) == 78 or len(reason) > 76
    assert lines[i + 2] == " " * 49 + RELAYED
    # user1 was delivered: not listed
    block = lines[i:lines.index("", i) if "" in lines[i:] else len(lines)]
    assert not any(USER1 in l for l in block)
    assert re.fullmatch(r"-- \d+ Kbytes in \d+ Requests?\.", lines[-1])


def test_mailq_json(relay):
    qid, tok = deferred_message(relay)
    items = json.loads(mailq(relay, "--json"))
    (it,) = [x for x in items if x["queue_id"] == qid]
    assert it["queue_name"] == "active"
    assert it["sender"] == SENDER
    assert isinstance(it["arrival_time"], int)
    assert abs(it["arrival_time"] - time.time()) < 600
    assert it["message_size"] > len(tok)
    (rc,) = it["recipients"]
    assert rc["address"] == RELAYED
    assert "127.0.0.1[127.0.0.1]:%d" % relay.closed_port in rc["delay_reason"]
    assert json.loads(queue(relay, "list", "--json").stdout) == items


def test_show(relay):
    qid, tok = deferred_message(relay)
    r = queue(relay, "show", qid)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert out.startswith("*** MESSAGE CONTENTS active/%s ***\n" % qid)
    assert "Received: " in out and "queued %s" % tok in out
    env = out.split("*** ENVELOPE RECORDS active/%s ***\n" % qid)[1]
    assert "id %s\n" % qid in env
    assert "sender %s\n" % SENDER in env
    assert "rcpt %s\n" % RELAYED in env and "rcpt %s\n" % USER1 in env
    assert "*** DELIVERY STATE defer/%s ***\nversion 2\n" % qid in out
    assert out.endswith("*** MESSAGE FILE END active/%s ***\n" % qid)


def test_hold_and_release(relay):
    qid, _ = deferred_message(relay)
    r = queue(relay, "hold", qid)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "%s: placed on hold\nPlaced on hold: 1 message\n" % qid
    assert (queue_dir(relay) / "hold" / qid).exists()
    assert not (queue_dir(relay) / "active" / qid).exists()
    assert re.search(r"^%s! " % qid, mailq(relay), re.M)
    (it,) = [x for x in json.loads(mailq(relay, "--json"))
             if x["queue_id"] == qid]
    assert it["queue_name"] == "hold"
    # the deferral reason stays with it
    assert "delay_reason" in it["recipients"][0]
    r = queue(relay, "hold", qid)
    assert r.returncode == 1 and "on hold already" in r.stderr
    n = len(deferrals(relay))
    r = queue(relay, "release", qid)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("%s: released from hold\n" % qid)
    assert (queue_dir(relay) / "active" / qid).exists()
    # released: tried at once again
    wait_for(lambda: len(deferrals(relay)) > n, 60, what="a new attempt")
    r = queue(relay, "release", qid)
    assert r.returncode == 1 and "is not on hold" in r.stderr


def test_requeue_forgets_the_backoff(relay):
    qid, _ = deferred_message(relay)
    state = queue_dir(relay) / "defer" / qid
    assert "attempts 1\n" in state.read_text()
    n = len(deferrals(relay))
    r = queue(relay, "requeue", qid)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("%s: requeued\n" % qid)
    wait_for(lambda: "%s: requeued" % qid in relay.log_text(), 30,
             what="the queue manager's requeue")
    wait_for(lambda: len(deferrals(relay)) > n, 60, what="the retry")
    # the new deferral counts as the first attempt again
    wait_for(lambda: "attempts 1\n" in state.read_text(), 30)
    # the delivered recipient is still done
    assert "done 1" in state.read_text()


def test_delete(relay):
    qid, _ = deferred_message(relay)
    r = queue(relay, "delete", qid)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "%s: removed\nDeleted: 1 message\n" % qid
    assert not (queue_dir(relay) / "active" / qid).exists()
    assert not (queue_dir(relay) / "defer" / qid).exists()
    assert qid not in mailq(relay)


def test_errors_say_what_and_how(relay):
    r = queue(relay, "delete", "1xZ6Bj30yo07jd000")
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1 and "no such message" in r.stderr
    r = queue(relay, "show", "../../etc/passwd")
    assert r.returncode == 1 and "is not a queue ID" in r.stderr
    r = queue(relay, "requeue", "nosuchid")
    assert r.returncode == 1 and "no such message" in r.stderr
    r = queue(relay, "frobnicate")
    assert r.returncode == 2 and "usage:" in r.stderr
    r = queue(relay, "delete")
    assert r.returncode == 2
    r = relay.cli("mailq", "--bogus")
    assert r.returncode == 64


def test_all(relay):
    for _ in range(2):
        deferred_message(relay)
    n = len(json.loads(mailq(relay, "--json")))
    assert n >= 2
    r = queue(relay, "hold", "ALL")
    assert r.returncode == 0, r.stderr
    assert r.stdout.endswith("Placed on hold: %d messages\n" % n)
    assert all(x["queue_name"] == "hold"
               for x in json.loads(mailq(relay, "--json")))
    r = queue(relay, "release", "ALL")
    assert r.stdout.endswith("Released from hold: %d messages\n" % n)
    r = queue(relay, "delete", "ALL")
    assert r.returncode == 0, r.stderr
    assert r.stdout.endswith("Deleted: %d messages\n" % n)
    assert mailq(relay) == "Mail queue is empty\n"


def test_not_the_mail_owner_is_told_how(relay):
    r = subprocess.run(["setpriv", "--reuid=daemon", "--regid=daemon",
                        "--clear-groups", relay.bin, "-c", str(relay.conf),
                        "queue", "list"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 1
    assert "Permission denied (run it as root or as mail_owner nobody)" in \
        r.stderr, r.stderr
    r = subprocess.run(["setpriv", "--reuid=daemon", "--regid=daemon",
                        "--clear-groups", relay.bin, "-c", str(relay.conf),
                        "mailq"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 77  # EX_NOPERM
    # mail_owner itself may
    r = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup",
                        "--clear-groups", relay.bin, "-c", str(relay.conf),
                        "queue", "list"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr


def test_maildrop_is_listed_while_the_server_is_down(make_instance):
    inst = make_instance(start=False)
    tok = token()
    r = subprocess.run([inst.bin, "-c", str(inst.conf), "sendmail", "-f",
                        SENDER, USER1],
                       input=b"Subject: %s\n\nqueued %s\n" % (tok.encode(),
                                                              tok.encode()),
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    (it,) = json.loads(mailq(inst, "--json"))
    assert it["queue_name"] == "maildrop"
    assert re.fullmatch(r"[0-9a-f]{32}", it["queue_id"])
    assert it["sender"] == SENDER
    assert it["recipients"] == [{"address": USER1}]
    out = mailq(inst)
    assert out.splitlines()[1].startswith(it["queue_id"] + "  ")
    r = queue(inst, "show", it["queue_id"])
    assert r.returncode == 0 and "queued %s" % tok in r.stdout
    assert "*** ENVELOPE RECORDS maildrop/" in r.stdout
    r = queue(inst, "hold", it["queue_id"])
    assert r.returncode == 1 and "maildrop/" in r.stderr
    r = queue(inst, "delete", it["queue_id"])
    assert r.returncode == 0, r.stderr
    assert mailq(inst) == "Mail queue is empty\n"
