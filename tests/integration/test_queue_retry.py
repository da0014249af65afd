"""A delivery that fails (here: the mailbox is not writable) is deferred
with the reason in the log, kept in the queue, and delivered by a later
retry once the cause is gone: never dropped."""

import os
import smtplib

from conftest import wait_for, maildir_messages
from smtp_helpers import queue_pending

RCPT = "user2@example.test"


def test_unwritable_mailbox_is_deferred_then_retried(make_instance):
    inst = make_instance(params={"minimal_backoff_time": "1s",
                                 "maximal_backoff_time": "2s",
                                 "queue_run_delay": "1s"})
    mailbox = inst.dir / "mail" / "example.test" / "user2"
    mailbox.mkdir(parents=True, exist_ok=True)
    # owned like the mail store (mail_owner, when the tests run as root)
    st = (inst.dir / "mail").stat()
    for p in (mailbox.parent, mailbox):
        os.chown(p, st.st_uid, st.st_gid)
    os.chmod(mailbox, 0o000)
    try:
        with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=30) as c:
            c.sendmail("a@example.org", [RCPT],
                       "Subject: retry-token\r\n\r\nbody\r\n")
        line = wait_for(lambda: [l for l in inst.log_text().splitlines()
                                 if "to=<%s>" % RCPT in l
                                 and "status=deferred" in l], 30)
        assert "(" in line[0]  # the reason is logged
        assert queue_pending(inst), "the message must stay queued"
    finally:
        os.chmod(mailbox, 0o700)
    msgs = wait_for(lambda: [m for m in maildir_messages(inst.maildir(RCPT))
                             if b"retry-token" in m], 30)
    assert len(msgs) == 1
    wait_for(lambda: not queue_pending(inst), 30)
