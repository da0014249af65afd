"""The account commands against a minimal configuration in a temporary
directory: `mailwright domain`, `user`, `alias` and `newaliases`, their
output, their exit statuses (0 done, 1 failed, 2 usage) and the rule that
a password never comes from the command line. Needs only the binary
(mw_bin from conftest.py)."""

import getpass
import os
import pty
import select
import sqlite3
import stat
import subprocess
import time

import pytest

TIMEOUT = 120


@pytest.fixture
def cf(tmp_path):
    """A minimal configuration; everything lives under tmp_path."""
    path = tmp_path / "mailwright.cf"
    path.write_text(
        "myhostname = mail.example.net\n"
        "queue_directory = %(d)s/queue\n"
        "mail_directory = %(d)s/mail\n"
        "accounts_database = %(d)s/accounts.db\n"
        "alias_maps = hash:%(d)s/aliases\n"
        "mail_owner = %(owner)s\n" % {"d": tmp_path,
                                      "owner": getpass.getuser()})
    return path


def mw(mw_bin, cf, *args, input=None):
    return subprocess.run([str(mw_bin), "-c", str(cf)] + list(args),
                          capture_output=True, text=True, input=input,
                          timeout=TIMEOUT)


def ok(r):
    assert r.returncode == 0, r.stderr
    return r


def fails(r, code=1, text=None):
    """A failure: the exit status and one line "mailwright: ..."."""
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("mailwright: "), r.stderr
    if text is not None:
        assert text in lines[0], lines[0]
    return r


def users_table(tmp_path):
    db = sqlite3.connect(str(tmp_path / "accounts.db"))
    try:
        return db.execute(
            "SELECT address, local, domain, password_hash FROM users "
            "ORDER BY address").fetchall()
    finally:
        db.close()


@pytest.fixture
def domain(mw_bin, cf):
    ok(mw(mw_bin, cf, "domain", "add", "example.org"))
    return "example.org"


# --- domain ------------------------------------------------------------

def test_domain_add_list_del(mw_bin, cf, tmp_path):
    r = ok(mw(mw_bin, cf, "domain", "add", "Example.ORG"))
    assert r.stdout == "domain example.org added\n"
    ok(mw(mw_bin, cf, "domain", "add", "b.test"))
    assert ok(mw(mw_bin, cf, "domain", "list")).stdout == \
        "b.test\nexample.org\n"
    assert ok(mw(mw_bin, cf, "domain", "del", "b.test")).stdout == \
        "domain b.test deleted\n"
    assert ok(mw(mw_bin, cf, "domain", "list")).stdout == "example.org\n"


def test_accounts_db_is_private(mw_bin, cf, tmp_path, domain):
    mode = stat.S_IMODE(os.stat(tmp_path / "accounts.db").st_mode)
    assert mode == 0o600
    db = sqlite3.connect(str(tmp_path / "accounts.db"))
    try:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA user_version").fetchone()[0] == 1
    finally:
        db.close()


def test_domain_add_twice_fails(mw_bin, cf, domain):
    fails(mw(mw_bin, cf, "domain", "add", "EXAMPLE.org"),
          text='domain "example.org" already exists')


@pytest.mark.parametrize("bad", ["bad_domain.test", "-x.test", "a..b",
                                 "example.org.", "[192.0.2.1]", "a/b",
                                 ".."])
def test_domain_add_invalid_fails(mw_bin, cf, bad):
    fails(mw(mw_bin, cf, "domain", "add", bad), text="not a valid domain")


def test_domain_del_missing_fails(mw_bin, cf, domain):
    fails(mw(mw_bin, cf, "domain", "del", "other.test"),
          text='domain "other.test" does not exist')


def test_domain_del_with_users_fails(mw_bin, cf, domain):
    ok(mw(mw_bin, cf, "user", "add", "bob@example.org", input="pw\n"))
    fails(mw(mw_bin, cf, "domain", "del", "example.org"),
          text="still has 1 user")
    assert ok(mw(mw_bin, cf, "domain", "list")).stdout == "example.org\n"


def test_list_before_any_database_fails(mw_bin, cf):
    fails(mw(mw_bin, cf, "domain", "list"),
          text="(create it with: mailwright domain add DOMAIN)")


@pytest.mark.parametrize("args", [[], ["add"], ["add", "a.test", "b.test"],
                                  ["list", "x"], ["frob", "a.test"]])
def test_domain_usage_exits_2(mw_bin, cf, args):
    fails(mw(mw_bin, cf, "domain", *args), code=2, text="usage:")


def test_missing_config_fails(mw_bin, tmp_path):
    r = subprocess.run([str(mw_bin), "-c", str(tmp_path / "none.cf"),
                        "domain", "list"], capture_output=True, text=True,
                       timeout=TIMEOUT)
    fails(r)


# --- user --------------------------------------------------------------

def test_user_add_reads_password_from_stdin(mw_bin, cf, tmp_path, domain):
    r = ok(mw(mw_bin, cf, "user", "add", "Bob@Example.org",
              input="s3cret pass\n"))
    assert r.stdout.startswith("user Bob@Example.org added")
    rows = users_table(tmp_path)
    assert len(rows) == 1
    address, local, dom, hash_ = rows[0]
    assert (address, local, dom) == ("Bob@example.org", "Bob",
                                     "example.org")
    assert hash_.startswith("{ARGON2ID}$argon2id$v=19$m=32768,t=2,p=1$")
    assert "s3cret" not in hash_


def test_user_password_in_argv_is_refused(mw_bin, cf, tmp_path, domain):
    fails(mw(mw_bin, cf, "user", "add", "bob@example.org", "hunter2",
             input="other\n"),
          code=2, text="never from the command line")
    assert users_table(tmp_path) == []
    ok(mw(mw_bin, cf, "user", "add", "bob@example.org", input="pw\n"))
    fails(mw(mw_bin, cf, "user", "passwd", "bob@example.org", "hunter2"),
          code=2, text="never from the command line")
    for name in os.listdir(tmp_path):
        data = (tmp_path / name).read_bytes() \
            if (tmp_path / name).is_file() else b""
        assert b"hunter2" not in data, name


@pytest.mark.parametrize("stdin", ["", "\n", "\r\n"])
def test_user_add_empty_password_fails(mw_bin, cf, tmp_path, domain, stdin):
    fails(mw(mw_bin, cf, "user", "add", "bob@example.org", input=stdin),
          text="empty password")
    assert users_table(tmp_path) == []


def test_user_add_takes_one_line(mw_bin, cf, tmp_path, domain):
    ok(mw(mw_bin, cf, "user", "add", "bob@example.org",
          input="first line\r\nsecond line\n"))
    assert len(users_table(tmp_path)) == 1


def test_user_add_missing_domain_says_how(mw_bin, cf, domain):
    fails(mw(mw_bin, cf, "user", "add", "bob@x.test", input="pw\n"),
          text='domain "x.test" does not exist '
               '(add it with: mailwright domain add x.test)')


def test_user_add_existing_fails(mw_bin, cf, domain):
    ok(mw(mw_bin, cf, "user", "add", "bob@example.org", input="pw\n"))
    fails(mw(mw_bin, cf, "user", "add", "BOB@example.org", input="pw\n"),
          text="already exists")


@pytest.mark.parametrize("bad", ["bob", "@example.org", ".bob@example.org",
                                 "a..b@example.org", "a/b@example.org",
                                 "\"bob\"@example.org", "x" * 65 +
                                 "@example.org"])
def test_user_add_invalid_address_fails(mw_bin, cf, tmp_path, domain, bad):
    fails(mw(mw_bin, cf, "user", "add", bad, input="pw\n"))
    assert users_table(tmp_path) == []


def test_user_show(mw_bin, cf, tmp_path, domain):
    ok(mw(mw_bin, cf, "user", "add", "Bob@example.org", input="pw\n"))
    r = ok(mw(mw_bin, cf, "user", "show", "bob@EXAMPLE.org"))
    assert r.stdout == (
        "address: Bob@example.org\n"
        "maildir: %s/mail/example.org/bob/Maildir\n"
        "password scheme: ARGON2ID\n" % tmp_path)
    fails(mw(mw_bin, cf, "user", "show", "eve@example.org"),
          text='user "eve@example.org" does not exist')


def test_user_passwd_changes_the_hash(mw_bin, cf, tmp_path, domain):
    ok(mw(mw_bin, cf, "user", "add", "bob@example.org", input="one\n"))
    before = users_table(tmp_path)[0][3]
    r = ok(mw(mw_bin, cf, "user", "passwd", "bob@example.org",
              input="two\n"))
    assert r.stdout == "password of bob@example.org changed\n"
    after = users_table(tmp_path)[0][3]
    assert after != before and after.startswith("{ARGON2ID}")
    fails(mw(mw_bin, cf, "user", "passwd", "eve@example.org",
             input="x\n"), text="does not exist")
    fails(mw(mw_bin, cf, "user", "passwd", "bob@example.org", input=""),
          text="empty password")
    assert users_table(tmp_path)[0][3] == after


def test_user_del_leaves_the_maildir(mw_bin, cf, tmp_path, domain):
    ok(mw(mw_bin, cf, "user", "add", "bob@example.org", input="pw\n"))
    maildir = tmp_path / "mail" / "example.org" / "bob" / "Maildir"
    # user add makes the Maildir with its special-use folders
    assert (maildir / "new").is_dir()
    assert (maildir / ".Sent" / "maildirfolder").is_file()
    (maildir / "new" / "1.msg").write_text("Subject: keep\n\nhi\n")
    r = ok(mw(mw_bin, cf, "user", "del", "bob@example.org"))
    assert "deleted" in r.stdout and str(maildir) in r.stdout
    assert "stays" in r.stdout
    assert (maildir / "new" / "1.msg").is_file()
    assert users_table(tmp_path) == []
    fails(mw(mw_bin, cf, "user", "del", "bob@example.org"),
          text="does not exist")


def test_user_list(mw_bin, cf, domain):
    ok(mw(mw_bin, cf, "domain", "add", "a.test"))
    for addr in ("zed@example.org", "amy@a.test", "bea@example.org"):
        ok(mw(mw_bin, cf, "user", "add", addr, input="pw\n"))
    assert ok(mw(mw_bin, cf, "user", "list")).stdout == \
        "amy@a.test\nbea@example.org\nzed@example.org\n"
    assert ok(mw(mw_bin, cf, "user", "list", "example.org")).stdout == \
        "bea@example.org\nzed@example.org\n"
    fails(mw(mw_bin, cf, "user", "list", "none.test"),
          text='domain "none.test" does not exist')


@pytest.mark.parametrize("args", [[], ["add"], ["frob", "a@b.test"],
                                  ["del"], ["list", "a", "b"],
                                  ["show", "a@b.test", "x"]])
def test_user_usage_exits_2(mw_bin, cf, domain, args):
    fails(mw(mw_bin, cf, "user", *args), code=2, text="usage:")


def run_on_tty(mw_bin, cf, args, answers):
    """Runs mailwright on a pseudo-terminal, typing each answer after the
    prompt that asks for it. Returns (exit status, everything shown)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([str(mw_bin), "-c", str(cf)] + args,
                            stdin=slave, stdout=slave, stderr=slave,
                            close_fds=True)
    os.close(slave)
    shown = b""
    pending = list(answers)
    deadline = time.monotonic() + TIMEOUT
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                shown += chunk
            if pending and shown.count(b": ") > len(answers) - len(pending):
                os.write(master, pending.pop(0).encode() + b"\n")
            if proc.poll() is not None and not ready:
                break
        status = proc.wait(timeout=TIMEOUT)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    return status, shown.decode("utf-8", "replace")


def test_user_add_at_a_terminal_prompts_twice_without_echo(
        mw_bin, cf, tmp_path, domain):
    status, shown = run_on_tty(mw_bin, cf, ["user", "add",
                                            "bob@example.org"],
                               ["tty-secret", "tty-secret"])
    assert status == 0, shown
    assert "New password for bob@example.org: " in shown
    assert "Retype the password: " in shown
    assert "tty-secret" not in shown  # echo was off
    assert len(users_table(tmp_path)) == 1


def test_user_add_at_a_terminal_mismatch_fails(mw_bin, cf, tmp_path,
                                               domain):
    status, shown = run_on_tty(mw_bin, cf, ["user", "add",
                                            "bob@example.org"],
                               ["one", "two"])
    assert status == 1, shown
    assert "mailwright: the passwords do not match" in shown
    assert users_table(tmp_path) == []


# --- alias -------------------------------------------------------------

def test_alias_add_list_del(mw_bin, cf, domain):
    r = ok(mw(mw_bin, cf, "alias", "add", "sales@example.org", "bob",
              "Carol@Remote.EXAMPLE"))
    assert r.stdout == ("alias sales@example.org: bob@example.org, "
                        "Carol@remote.example\n")
    r = ok(mw(mw_bin, cf, "alias", "add", "sales@example.org",
              "dave@example.org", "bob@example.org"))
    assert r.stdout == ("alias sales@example.org: bob@example.org, "
                        "Carol@remote.example, dave@example.org\n")
    # localhost is local through the default mydestination
    ok(mw(mw_bin, cf, "alias", "add", "root@localhost", "bob@example.org"))
    assert ok(mw(mw_bin, cf, "alias", "list")).stdout == (
        "root@localhost: bob@example.org\n"
        "sales@example.org: bob@example.org, Carol@remote.example, "
        "dave@example.org\n")
    assert ok(mw(mw_bin, cf, "alias", "del", "SALES@example.org")).stdout \
        == "alias SALES@example.org deleted\n"
    assert ok(mw(mw_bin, cf, "alias", "list")).stdout == \
        "root@localhost: bob@example.org\n"
    fails(mw(mw_bin, cf, "alias", "del", "sales@example.org"),
          text='alias "sales@example.org" does not exist')


def test_alias_add_non_local_domain_fails(mw_bin, cf, domain):
    fails(mw(mw_bin, cf, "alias", "add", "x@other.test", "bob@example.org"),
          text='domain "other.test" is not local '
               '(add it with: mailwright domain add other.test)')


@pytest.mark.parametrize("target", ["|/bin/sh", "/etc/passwd", "a b",
                                    "bob@", "bob@[192.0.2.1]"])
def test_alias_add_bad_target_fails(mw_bin, cf, domain, target):
    fails(mw(mw_bin, cf, "alias", "add", "x@example.org", target),
          text="alias target")


@pytest.mark.parametrize("args", [[], ["add", "x@example.org"],
                                  ["del"], ["list", "x"]])
def test_alias_usage_exits_2(mw_bin, cf, domain, args):
    fails(mw(mw_bin, cf, "alias", *args), code=2, text="usage:")


# --- newaliases --------------------------------------------------------

def aliases_db(tmp_path):
    db = sqlite3.connect(str(tmp_path / "aliases.db"))
    try:
        return dict(db.execute("SELECT name, targets FROM aliases"))
    finally:
        db.close()


def test_newaliases_compiles_the_map(mw_bin, cf, tmp_path):
    (tmp_path / "aliases").write_text(
        "# comment\n"
        "MAILER-DAEMON: postmaster\n"
        "postmaster: root\n"
        "root: bob@example.org,\n"
        "  alice\n")
    r = ok(mw(mw_bin, cf, "newaliases"))
    assert r.stdout == "%s/aliases.db: 3 aliases\n" % tmp_path
    assert aliases_db(tmp_path) == {
        "mailer-daemon": "postmaster",
        "postmaster": "root",
        "root": "bob@example.org, alice",
    }
    mode = stat.S_IMODE(os.stat(tmp_path / "aliases.db").st_mode)
    assert mode == 0o644
    assert not [n for n in os.listdir(tmp_path) if ".tmp." in n]


def test_newaliases_without_a_file_is_fine(mw_bin, cf, tmp_path):
    r = ok(mw(mw_bin, cf, "newaliases"))
    assert "does not exist" in r.stdout
    assert not (tmp_path / "aliases.db").exists()


def test_newaliases_error_names_the_line_and_keeps_the_old_db(
        mw_bin, cf, tmp_path):
    (tmp_path / "aliases").write_text("root: bob\n")
    ok(mw(mw_bin, cf, "newaliases"))
    (tmp_path / "aliases").write_text("root: bob\n\nlist: |/usr/bin/x\n")
    fails(mw(mw_bin, cf, "newaliases"),
          text='%s/aliases:3: target "|/usr/bin/x": |command targets are '
               'not supported' % tmp_path)
    assert aliases_db(tmp_path) == {"root": "bob"}


def test_newaliases_takes_no_arguments(mw_bin, cf):
    fails(mw(mw_bin, cf, "newaliases", "extra"), code=2, text="usage:")


def test_newaliases_by_its_own_name(mw_bin, cf, tmp_path):
    (tmp_path / "aliases").write_text("root: bob\n")
    link = tmp_path / "newaliases"
    link.symlink_to(mw_bin)
    r = subprocess.run([str(link), "-c", str(cf)], capture_output=True,
                       text=True, timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr
    assert aliases_db(tmp_path) == {"root": "bob"}
