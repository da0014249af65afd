"""sendmail(1) as cron, PHP's mail(), git send-email and mutt use it:
recipients as arguments or from the headers (-t, Bcc: removed), -f, -F,
-i, the headers pickup adds (From:, Date:, Message-ID:, Received:), exit
statuses (sysexits), the argv[0] names (sendmail, mailq, newaliases), an
SMTP session on standard input (-bs), -bp and -q; and the maildrop/ path:
a local user posts while the server is down, another user can neither
find, read nor remove that file, and the server delivers it once it
starts (docs/queue.md, "maildrop")."""

import grp
import os
import pwd
import re
import subprocess

import pytest

from conftest import CLI_TIMEOUT, wait_for
from smtp_helpers import module_instance  # noqa: F401
from smtp_helpers import queue_dir, split_stored, token, wait_one

EX_USAGE, EX_DATAERR, EX_NOINPUT, EX_TEMPFAIL = 64, 65, 66, 75
LOCAL_USERS = {"mwsend1": "Mw Sender One,,,", "mwsend2": "Mw Sender Two"}
USER1, USER2, USER3 = ("user1@example.test", "user2@example.test",
                       "user3@example.test")

needs_root = pytest.mark.skipif(os.geteuid() != 0,
                                reason="creates users and drops to them")


def run(inst, args, data=b"", user=None, prog=None, conf=None, stdin=None):
    """Runs `mailwright -c CONF sendmail ARGS` (or prog, a path whose
    basename picks the role) with data on standard input, as root or as
    user (setpriv: uid, gid, no supplementary groups)."""
    cmd = [prog or inst.bin, "-c", str(conf or inst.conf)]
    if prog is None:
        cmd.append("sendmail")
    cmd += list(args)
    if user is not None:
        cmd = ["setpriv", "--reuid=" + user, "--regid=" + user,
               "--clear-groups"] + cmd
    return subprocess.run(cmd, input=data if stdin is None else None,
                          stdin=stdin, capture_output=True,
                          timeout=CLI_TIMEOUT)


@pytest.fixture(scope="module")
def local_users():
    """Two local accounts (made with useradd unless they exist)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to create local users")
    made = []
    for name, gecos in LOCAL_USERS.items():
        try:
            pwd.getpwnam(name)
        except KeyError:
            subprocess.run(["useradd", "-M", "-s", "/usr/sbin/nologin",
                            "-c", gecos, name], check=True)
            made.append(name)
    yield {n: pwd.getpwnam(n) for n in LOCAL_USERS}
    for name in made:
        subprocess.run(["userdel", name], check=False)
        try:
            grp.getgrnam(name)
            subprocess.run(["groupdel", name], check=False)
        except KeyError:
            pass


def headers(msg):
    """The header section of a stored message as a list of (name, value)
    (folded lines joined)."""
    head = msg.split(b"\n\n", 1)[0].decode("utf-8", "replace")
    out = []
    for line in head.split("\n"):
        if line[:1] in (" ", "\t") and out:
            out[-1] = (out[-1][0], out[-1][1] + "\n" + line)
        elif ":" in line:
            k, v = line.split(":", 1)
            out.append((k, v.strip()))
    return out


def header(msg, name):
    vals = [v for k, v in headers(msg) if k.lower() == name.lower()]
    return vals[0] if vals else None


def myorigin(inst):
    return inst.get_param("myhostname")


def drops(inst):
    d = queue_dir(inst) / "maildrop"
    return sorted(p for p in d.iterdir() if re.fullmatch(r"[0-9a-f]{32}",
                                                         p.name))


# --- recipients, senders, headers -----------------------------------------

def test_recipients_as_arguments(instance):
    tok = token()
    r = run(instance, [USER1, USER2],
            b"Subject: %s\n\nhello from sendmail\n" % tok.encode())
    assert r.returncode == 0, r.stderr
    for rcpt in (USER1, USER2):
        m = wait_one(instance, rcpt, tok)
        added, rest = split_stored(m)
        # pickup's Received:, as Postfix's: by HOST (NAME, from userid N)
        assert re.match(r"by %s \(mailwright, from userid 0\)\n\tid "
                        r"[0-9A-Za-z]{17}; " % re.escape(myorigin(instance)),
                        added["Received"]), added["Received"]
        assert added["Return-Path"] == "<root@%s>" % myorigin(instance)
        assert b"hello from sendmail" in rest
    wait_for(lambda: [l for l in instance.log_text().splitlines()
                      if "uid=0 from=<root@%s>" % myorigin(instance) in l],
             30, what="pickup's uid= from= line")


def test_missing_from_date_message_id_are_added(instance):
    tok = token()
    r = run(instance, ["-F", "Cron Daemon", USER1],
            b"Subject: %s\n\nno From, Date or Message-ID\n" % tok.encode())
    assert r.returncode == 0, r.stderr
    m = wait_one(instance, USER1, tok)
    assert header(m, "From") == "Cron Daemon <root@%s>" % myorigin(instance)
    assert re.match(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}",
                    header(m, "Date")), header(m, "Date")
    assert re.fullmatch(r"<\d{14}\.[0-9A-Za-z]{17}@%s>" %
                        re.escape(myorigin(instance)),
                        header(m, "Message-ID")), header(m, "Message-ID")


def test_present_headers_are_kept_as_they_are(instance):
    tok = token()
    msg = ("From: Alice <alice@example.org>\nDate: Thu, 3 Dec 2020 "
           "11:32:19 +0000\nMessage-ID: <%s@example.org>\nSubject: x\n\n"
           "body\n" % tok).encode()
    assert run(instance, [USER1], msg).returncode == 0
    m = wait_one(instance, USER1, tok)
    h = headers(m)
    assert [v for k, v in h if k == "From"] == ["Alice <alice@example.org>"]
    assert len([1 for k, _ in h if k.lower() == "date"]) == 1
    assert len([1 for k, _ in h if k.lower() == "message-id"]) == 1


def test_full_name_needing_quotes(instance):
    tok = token()
    assert run(instance, ["-F", "Doe, John", USER1],
               b"Subject: %s\n\nx\n" % tok.encode()).returncode == 0
    m = wait_one(instance, USER1, tok)
    assert header(m, "From") == '"Doe, John" <root@%s>' % myorigin(instance)


def test_t_reads_to_cc_bcc_and_removes_bcc(instance):
    tok = token()
    msg = ("To: One <%s>\nCc: %s\nBcc: %s\nSubject: %s\n\nblind copy\n"
           % (USER1, USER2, USER3, tok)).encode()
    r = run(instance, ["-t", "-i"], msg)
    assert r.returncode == 0, r.stderr
    for rcpt in (USER1, USER2, USER3):
        _, rest = split_stored(wait_one(instance, rcpt, tok))
        head = rest.split(b"\n\n", 1)[0]
        assert b"Bcc" not in head and USER3.encode() not in head, head


def test_t_adds_argument_recipients_too(instance):
    tok = token()
    msg = ("To: %s\nSubject: %s\n\nx\n" % (USER1, tok)).encode()
    assert run(instance, ["-t", USER2], msg).returncode == 0
    wait_one(instance, USER1, tok)
    wait_one(instance, USER2, tok)


def test_f_sets_the_envelope_sender(instance):
    for args, want in ((["-f", "bounces@example.org"], "bounces@example.org"),
                       (["-fglued@example.org"], "glued@example.org"),
                       (["-f", "<angle@example.org>"], "angle@example.org"),
                       (["-r", "r@example.org"], "r@example.org"),
                       (["-f", ""], "")):
        tok = token()
        r = run(instance, args + [USER1], b"Subject: %s\n\nx\n" %
                tok.encode())
        assert r.returncode == 0, (args, r.stderr)
        added, _ = split_stored(wait_one(instance, USER1, tok))
        assert added["Return-Path"] == "<%s>" % want, args


def test_dot_line_ends_input_unless_i(instance):
    tok1, tok2 = token(), token()
    body = b"Subject: %s\n\nbefore\n.\nafter the dot\n"
    assert run(instance, [USER1], body % tok1.encode()).returncode == 0
    m = wait_one(instance, USER1, tok1)
    assert b"before" in m and b"after the dot" not in m
    for opt in ("-i", "-oi"):
        tok = token()
        assert run(instance, [opt, USER1],
                   body % tok.encode()).returncode == 0
        m = wait_one(instance, USER1, tok)
        assert b"\n.\nafter the dot\n" in m, opt
    # CRLF input is stored with LF line ends
    assert run(instance, ["-i", USER1], b"Subject: %s\r\n\r\nline\r\n" %
               tok2.encode()).returncode == 0
    m = wait_one(instance, USER1, tok2)
    assert b"\r" not in m


def test_message_without_headers_keeps_its_first_line(instance):
    tok = token()
    assert run(instance, [USER1], b"%s is the first line\nsecond\n" %
               tok.encode()).returncode == 0
    m = wait_one(instance, USER1, tok)
    head, body = m.split(b"\n\n", 1)
    assert body.startswith(tok.encode() + b" is the first line")
    assert header(m, "From") is not None


def test_unqualified_recipient_gets_myorigin(instance):
    # "postmaster" becomes postmaster@$myorigin, a local address
    tok = token()
    r = run(instance, ["postmaster"], b"Subject: %s\n\nx\n" % tok.encode())
    assert r.returncode == 0, r.stderr
    wait_for(lambda: [l for l in instance.log_text().splitlines()
                      if "to=<postmaster@%s>" % myorigin(instance) in l],
             30, what="delivery to postmaster@$myorigin")


# --- exit statuses -----------------------------------------------------------

def test_usage_errors_exit_64_with_one_line(instance):
    for args in (["-x", USER1], ["--help"], ["-bd"], ["-f"], ["-oQ/x", USER1]):
        r = run(instance, args, b"x\n")
        assert r.returncode == EX_USAGE, (args, r.returncode, r.stderr)
        err = r.stderr.decode()
        assert err.count("\n") == 1 and err.startswith("sendmail: "), err
        assert "usage:" in err
    r = run(instance, [], b"Subject: x\n\nx\n")
    assert r.returncode == EX_USAGE
    assert b"no recipients" in r.stderr


def test_no_recipients_in_headers_exits_65(instance):
    before = len(drops(instance))
    r = run(instance, ["-t"], b"Subject: nobody\n\nx\n")
    assert r.returncode == EX_DATAERR, r.stderr
    assert b"no recipient addresses found" in r.stderr
    assert len(drops(instance)) == before


def test_bad_addresses_exit_65(instance):
    r = run(instance, ["a..b@example.test"], b"x\n")
    assert r.returncode == EX_DATAERR
    assert b"bad recipient address" in r.stderr
    r = run(instance, ["-f", "not an address", USER1], b"x\n")
    assert r.returncode == EX_DATAERR
    assert b"bad sender address" in r.stderr


def test_message_size_limit(instance, tmp_path):
    conf = tmp_path / "small.cf"
    conf.write_text(instance.conf.read_text() + "\nmessage_size_limit = 2048\n")
    os.chmod(tmp_path, 0o755)
    big = b"Subject: big\n\n" + b"x" * 3000 + b"\n"
    r = run(instance, [USER1], big, conf=conf)
    assert r.returncode == EX_DATAERR
    assert b"message_size_limit (2048 bytes)" in r.stderr
    assert not list((queue_dir(instance) / "maildrop").glob("t.*"))
    r = run(instance, [USER1], b"Subject: small\n\nok\n", conf=conf)
    assert r.returncode == 0, r.stderr


def test_unreadable_input_exits_66(instance):
    with open("/dev/null", "wb") as w:  # a descriptor open for writing
        r = run(instance, [USER1], stdin=w)
    assert r.returncode == EX_NOINPUT, r.stderr


def test_no_queue_directory_exits_75(instance, tmp_path):
    conf = tmp_path / "gone.cf"
    conf.write_text(instance.conf.read_text() +
                    "\nqueue_directory = %s/nowhere\n" % tmp_path)
    r = run(instance, [USER1], b"x\n", conf=conf)
    assert r.returncode == EX_TEMPFAIL
    assert b"nowhere/maildrop" in r.stderr


# --- names, -bp, -q, -bs -------------------------------------------------------

def test_argv0_names(instance, tmp_path):
    os.chmod(tmp_path, 0o755)
    for name in ("sendmail", "mailq", "newaliases"):
        (tmp_path / name).symlink_to(instance.bin)
    tok = token()
    r = run(instance, [USER1], b"Subject: %s\n\nvia symlink\n" %
            tok.encode(), prog=str(tmp_path / "sendmail"))
    assert r.returncode == 0, r.stderr
    wait_one(instance, USER1, tok)
    r = run(instance, [], prog=str(tmp_path / "mailq"))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(b"-Queue ID-") or \
        r.stdout == b"Mail queue is empty\n"
    r = run(instance, [], prog=str(tmp_path / "newaliases"))
    assert r.returncode == 0, r.stderr
    assert b"aliases" in r.stdout


def test_bp_lists_the_queue_and_q_flushes(instance):
    r = run(instance, ["-bp"])
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(b"-Queue ID-") or \
        r.stdout == b"Mail queue is empty\n"
    r = run(instance, ["-q"])
    assert r.returncode == 0, r.stderr
    wait_for(lambda: "flush: retrying deferred mail now" in
             instance.log_text(), 30, what="the flush")


def bs(inst, script, user=None):
    r = run(inst, ["-bs"], script, user=user)
    assert r.returncode == 0, r.stderr
    return r.stdout.decode().split("\r\n")


def test_bs_session(instance):
    tok = token()
    lines = bs(instance, (
        "EHLO client.example\r\n"
        "MAIL FROM:<bs-sender@example.org>\r\n"
        "RCPT TO:<%s>\r\n"
        "RCPT TO:<%s>\r\n"
        "DATA\r\n"
        "Subject: %s\r\n\r\n..leading dot\r\nbody\r\n.\r\n"
        "NOOP\r\nRSET\r\nQUIT\r\n" % (USER1, USER2, tok)).encode())
    codes = [l[:3] for l in lines if l]
    assert lines[0].startswith("220 ")
    assert "250-PIPELINING" in lines and "250 SMTPUTF8" in lines
    assert codes[-6:] == ["250", "354", "250", "250", "250", "221"], lines
    assert re.search(r"queued as [0-9a-f]{32}", "\n".join(lines))
    for rcpt in (USER1, USER2):
        m = wait_one(instance, rcpt, tok)
        added, rest = split_stored(m)
        assert added["Return-Path"] == "<bs-sender@example.org>"
        assert b"\n.leading dot\n" in rest  # dot-unstuffed


def test_bs_session_with_bare_lf_lines(instance):
    """A program that writes LF line ends: "." alone on a line still ends
    DATA, and the message is stored as sent."""
    tok = token()
    lines = bs(instance, (
        "HELO client.example\n"
        "MAIL FROM:<lf-sender@example.org>\n"
        "RCPT TO:<%s>\n"
        "DATA\n"
        "Subject: %s\n\n..dotted\nline two\r\nline three\n.\n"
        "QUIT\n" % (USER1, tok)).encode())
    codes = [l[:3] for l in lines if l]
    assert codes == ["220", "250", "250", "250", "354", "250", "221"], lines
    m = wait_one(instance, USER1, tok)
    _, rest = split_stored(m)
    assert b"\n.dotted\nline two\nline three\n" in rest


def test_bs_errors_keep_the_session(instance):
    lines = bs(instance, (
        "HELO client.example\r\n"
        "RCPT TO:<%s>\r\n"            # no MAIL yet
        "MAIL FROM:<>\r\n"
        "MAIL FROM:<x@example.org>\r\n"  # nested
        "DATA\r\n"                    # no RCPT yet
        "RCPT TO:<a..b@example.test>\r\n"
        "BDAT 10 LAST\r\n"
        "WHAT\r\n"
        "NOOP\r\nQUIT\r\n" % USER1).encode())
    codes = [l[:3] for l in lines if l]
    assert codes == ["220", "250", "503", "250", "503", "503", "501", "502",
                     "500", "250", "221"], lines


# --- maildrop/: a local user, the server down ---------------------------------

@needs_root
def test_local_user_posts_while_the_server_is_down(make_instance,
                                                   local_users):
    inst = make_instance(start=False)
    u1, u2 = local_users["mwsend1"], local_users["mwsend2"]
    tok = token()
    r = run(inst, [USER1], b"Subject: %s\n\nposted while down\n" %
            tok.encode(), user="mwsend1")
    assert r.returncode == 0, r.stderr
    (f,) = drops(inst)
    st = f.stat()
    assert st.st_uid == u1.pw_uid
    assert st.st_mode & 0o002 == 0  # nobody else may write it
    assert not list((queue_dir(inst) / "maildrop").glob("t.*"))

    # the other user cannot find it, read it, or remove it
    other = ["setpriv", "--reuid=mwsend2", "--regid=mwsend2",
             "--clear-groups"]
    r = subprocess.run(other + ["ls", str(f.parent)], capture_output=True)
    assert r.returncode != 0 and b"Permission denied" in r.stderr
    r = subprocess.run(other + ["rm", "-f", str(f)], capture_output=True)
    assert r.returncode != 0 and b"not permitted" in r.stderr
    r = subprocess.run(other + ["cat", str(f)], capture_output=True)
    if st.st_mode & 0o004 == 0:
        # ACLs: mail_owner and the sender only
        assert r.returncode != 0 and b"Permission denied" in r.stderr
    assert f.exists()
    # and cannot put a file over it
    r = subprocess.run(other + ["sh", "-c", "echo x > %s" % f],
                       capture_output=True)
    assert r.returncode != 0

    inst.start()
    m = wait_one(inst, USER1, tok)
    added, rest = split_stored(m)
    assert "from userid %d" % u1.pw_uid in added["Received"]
    assert added["Return-Path"] == "<mwsend1@%s>" % myorigin(inst)
    # the GECOS name, without its comma-separated rest
    assert header(m, "From") == "Mw Sender One <mwsend1@%s>" % myorigin(inst)
    wait_for(lambda: not drops(inst), 30, what="the maildrop file removed")
    assert "uid=%d from=<mwsend1@%s>" % (u1.pw_uid, myorigin(inst)) in \
        inst.log_text()

    # while the server runs, a drop is picked up at once (inotify)
    tok = token()
    assert run(inst, ["-t"], b"To: %s\nSubject: %s\n\nx\n" %
               (USER2.encode(), tok.encode()), user="mwsend2").returncode == 0
    m = wait_one(inst, USER2, tok, timeout=20)
    assert "from userid %d" % u2.pw_uid in split_stored(m)[0]["Received"]


@needs_root
def test_a_bad_file_in_maildrop_goes_to_corrupt(make_instance, local_users):
    inst = make_instance()
    md = queue_dir(inst) / "maildrop"
    name = "0123456789abcdef0123456789abcdef"
    r = subprocess.run(["setpriv", "--reuid=mwsend1", "--regid=mwsend1",
                        "--clear-groups", "sh", "-c",
                        "printf 'MWMD junk' > %s/%s" % (md, name)],
                       capture_output=True)
    assert r.returncode == 0, r.stderr
    wait_for(lambda: (queue_dir(inst) / "corrupt" / name).exists(), 30,
             what="the file in corrupt/")
    assert not (md / name).exists()
    wait_for(lambda: [l for l in inst.log_text().splitlines()
                      if "maildrop/%s" % name in l and "corrupt/" in l], 10)
    # a symbolic link is not followed
    link = "f" * 32
    os.symlink("/etc/passwd", md / link)
    inst.cli("queue", "flush")  # flush also scans
    wait_for(lambda: os.path.islink(queue_dir(inst) / "corrupt" / link), 30,
             what="the link in corrupt/")
