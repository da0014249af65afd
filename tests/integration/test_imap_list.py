"""LIST and LSUB (RFC 9051 6.3.9, RFC 3501 6.3.8/6.3.9), LIST-EXTENDED
(RFC 5258), LIST-STATUS (RFC 5819) and SPECIAL-USE (RFC 6154): a new
user's folders, levels that exist only above others, wildcards,
references, INBOX in any case, subscriptions, RECURSIVEMATCH, return
options, UTF-8 and modified UTF-7 names, bad commands, 10,000 folders,
and curl. The expected lines are what Dovecot 2.3 sends for the same
folders (checked by hand against tests/integration/dovecot_ref.py),
except where the module docstring of src/imap/imap_cmd_list.c says."""

import os
import shutil
import subprocess
import urllib.parse
from pathlib import Path

import pytest

from imap_helpers import (PASSWORD, PASSWORD2, PASSWORD3, USER, USER2, USER3,
                          RawIMAP, iinst)  # noqa: F401


def session(inst, user=USER, password=PASSWORD):
    c = RawIMAP(inst.ports["imap_port"])
    c.greeting()
    c.login(user, password)
    return c


def lines(c, command):
    """The untagged lines of an OK command, as str."""
    u, t = c.cmd(command)
    assert b" OK " in t, (command, t)
    return [x.decode() for x in u]


def ok(c, command):
    u, t = c.cmd(command)
    assert b" OK " in t, (command, u, t)


@pytest.fixture(scope="module")
def tree(iinst):  # noqa: F811
    """user1 with a.b.c (so a and a.b are levels only), x and x.y, and
    subscriptions to Sent, a.b.c and a name that does not exist."""
    with session(iinst) as c:
        for name in ("a.b.c", "x", "x.y"):
            ok(c, "CREATE %s" % name)
        for name in ("Sent", "a.b.c", "nothere"):
            ok(c, "SUBSCRIBE %s" % name)
    return iinst


def test_new_user_folders_with_special_use(iinst):  # noqa: F811
    with session(iinst, USER3, PASSWORD3) as c:
        assert lines(c, 'LIST "" *') == [
            '* LIST (\\HasNoChildren) "." "INBOX"',
            '* LIST (\\HasNoChildren \\Archive) "." "Archive"',
            '* LIST (\\HasNoChildren \\Drafts) "." "Drafts"',
            '* LIST (\\HasNoChildren \\Junk) "." "Junk"',
            '* LIST (\\HasNoChildren \\Sent) "." "Sent"',
            '* LIST (\\HasNoChildren \\Trash) "." "Trash"',
        ]
        # RFC 6154 5.1: only the special-use ones; extended LIST sends
        # the attributes because the selection asks for them
        assert lines(c, 'LIST (SPECIAL-USE) "" *') == [
            '* LIST (\\HasNoChildren \\Archive) "." "Archive"',
            '* LIST (\\HasNoChildren \\Drafts) "." "Drafts"',
            '* LIST (\\HasNoChildren \\Junk) "." "Junk"',
            '* LIST (\\HasNoChildren \\Sent) "." "Sent"',
            '* LIST (\\HasNoChildren \\Trash) "." "Trash"',
        ]
        # extended LIST without the return option: no use attributes
        assert lines(c, 'LIST "" "Sent" RETURN ()') == [
            '* LIST (\\HasNoChildren) "." "Sent"']


def test_empty_pattern_gives_separator_and_root(tree):
    with session(tree) as c:
        assert lines(c, 'LIST "" ""') == ['* LIST (\\Noselect) "." ""']
        # RFC 9051 6.3.9: the root of the reference (Dovecot: up to its
        # first separator)
        assert lines(c, 'LIST "x.y" ""') == ['* LIST (\\Noselect) "." "x."']
        assert lines(c, 'LIST "a" ""') == ['* LIST (\\Noselect) "." ""']
        # RFC 5258: in extended LIST "" is a pattern like another
        assert lines(c, 'LIST "" ("")') == []
        assert lines(c, 'LSUB "" ""') == []


def test_levels_only_above_others_are_noselect(tree):
    with session(tree) as c:
        got = lines(c, 'LIST "" *')
        assert '* LIST (\\Noselect \\HasChildren) "." "a"' in got
        assert '* LIST (\\Noselect \\HasChildren) "." "a.b"' in got
        assert '* LIST (\\HasNoChildren) "." "a.b.c"' in got
        assert '* LIST (\\HasChildren) "." "x"' in got
        assert '* LIST (\\HasNoChildren) "." "x.y"' in got
        # INBOX first, then byte order
        assert got[0] == '* LIST (\\HasNoChildren) "." "INBOX"'
        # RFC 5258 3.4: extended LIST says \NonExistent (Dovecot)
        assert lines(c, 'LIST "" a RETURN (CHILDREN)') == [
            '* LIST (\\NonExistent \\HasChildren) "." "a"']


def test_percent_does_not_cross_the_separator(tree):
    with session(tree) as c:
        names = [l.rsplit(" ", 1)[1] for l in lines(c, 'LIST "" %')]
        assert '"a"' in names and '"x"' in names
        assert '"a.b"' not in names and '"x.y"' not in names
        assert lines(c, 'LIST "" "%.%"') == [
            '* LIST (\\Noselect \\HasChildren) "." "a.b"',
            '* LIST (\\HasNoChildren) "." "x.y"']
        assert lines(c, 'LIST "" "a.*"') == [
            '* LIST (\\Noselect \\HasChildren) "." "a.b"',
            '* LIST (\\HasNoChildren) "." "a.b.c"']
        assert lines(c, 'LIST "" "*.c"') == [
            '* LIST (\\HasNoChildren) "." "a.b.c"']
        assert lines(c, 'LIST "" "*%*%*%*q"') == []


def test_reference_and_pattern_are_joined(tree):
    with session(tree) as c:
        # Dovecot joins them as sent
        assert lines(c, 'LIST a. %') == [
            '* LIST (\\Noselect \\HasChildren) "." "a.b"']
        assert lines(c, 'LIST a .b') == [
            '* LIST (\\Noselect \\HasChildren) "." "a.b"']
        assert lines(c, 'LIST a %') == [
            '* LIST (\\Noselect \\HasChildren) "." "a"']
        assert lines(c, 'LIST a. .b') == []
        assert lines(c, 'LIST "a.b." *') == [
            '* LIST (\\HasNoChildren) "." "a.b.c"']


def test_inbox_in_any_case(tree):
    with session(tree) as c:
        for pat in ("inbox", "InBoX", "INBOX", "i*", "%box"):
            got = lines(c, 'LIST "" "%s"' % pat)
            assert '* LIST (\\HasNoChildren) "." "INBOX"' in got, pat
        assert lines(c, 'LIST "" "inbox.%"') == []


def test_lsub_after_subscribe_and_unsubscribe(tree):
    with session(tree) as c:
        assert lines(c, 'LSUB "" *') == [
            '* LSUB () "." "Sent"', '* LSUB () "." "a.b.c"',
            '* LSUB () "." "nothere"']
        # RFC 3501 6.3.9: "%" and a subscribed child: the level, \Noselect
        assert lines(c, 'LSUB "" %') == [
            '* LSUB () "." "Sent"', '* LSUB (\\Noselect) "." "a"',
            '* LSUB () "." "nothere"']
        assert lines(c, 'LSUB "" a.%') == ['* LSUB (\\Noselect) "." "a.b"']
        ok(c, "SUBSCRIBE x.y")
        assert lines(c, 'LSUB "" x*') == ['* LSUB () "." "x.y"']
        ok(c, "UNSUBSCRIBE x.y")
        assert lines(c, 'LSUB "" x*') == []
        # still answered after ENABLE IMAP4rev2 (Dovecot does)
        ok(c, "ENABLE IMAP4rev2")
        assert lines(c, 'LSUB "" S*') == ['* LSUB () "." "Sent"']


def test_list_subscribed_with_a_name_that_does_not_exist(tree):
    with session(tree) as c:
        assert lines(c, 'LIST (SUBSCRIBED) "" *') == [
            '* LIST (\\Subscribed \\HasNoChildren) "." "Sent"',
            '* LIST (\\Subscribed \\HasNoChildren) "." "a.b.c"',
            '* LIST (\\Subscribed \\NonExistent \\HasNoChildren) "." '
            '"nothere"']
        # RETURN (SUBSCRIBED) marks them among all folders
        got = lines(c, 'LIST "" "*" RETURN (SUBSCRIBED)')
        assert '* LIST (\\Subscribed \\HasNoChildren) "." "Sent"' in got
        assert '* LIST (\\HasNoChildren) "." "x.y"' in got
        assert not any('"nothere"' in l for l in got)


def test_recursivematch_childinfo(tree):
    with session(tree) as c:
        assert lines(c, 'LIST (SUBSCRIBED RECURSIVEMATCH) "" %') == [
            '* LIST (\\Subscribed \\HasNoChildren) "." "Sent"',
            '* LIST (\\NonExistent \\HasChildren) "." "a" '
            '("CHILDINFO" ("SUBSCRIBED"))',
            '* LIST (\\Subscribed \\NonExistent \\HasNoChildren) "." '
            '"nothere"']
        # a subscribed name that matches is listed itself: no parents
        assert lines(c, 'LIST (SUBSCRIBED RECURSIVEMATCH) "" "a*"') == [
            '* LIST (\\Subscribed \\HasNoChildren) "." "a.b.c"']
        # RFC 5258 3: RECURSIVEMATCH alone is BAD
        _, t = c.cmd('LIST (RECURSIVEMATCH) "" %')
        assert b" BAD " in t
        ok(c, "NOOP")


def test_return_children_special_use_status(tree):
    with session(tree) as c:
        got = lines(c, 'LIST "" % RETURN (CHILDREN SPECIAL-USE '
                       'STATUS (MESSAGES UIDNEXT))')
        assert got[:2] == ['* LIST (\\HasNoChildren) "." "INBOX"',
                           '* STATUS "INBOX" (MESSAGES 0 UIDNEXT 1)']
        i = got.index('* LIST (\\HasNoChildren \\Sent) "." "Sent"')
        assert got[i + 1] == '* STATUS "Sent" (MESSAGES 0 UIDNEXT 1)'
        i = got.index('* LIST (\\HasChildren) "." "x"')
        assert got[i + 1] == '* STATUS "x" (MESSAGES 0 UIDNEXT 1)'
        # RFC 5819: no STATUS for a name that is no mailbox
        i = got.index('* LIST (\\NonExistent \\HasChildren) "." "a"')
        assert i + 1 == len(got) or not got[i + 1].startswith("* STATUS")


def test_several_patterns(tree):
    with session(tree) as c:
        assert lines(c, 'LIST "" ("INBOX" "S*")') == [
            '* LIST (\\HasNoChildren) "." "INBOX"',
            '* LIST (\\HasNoChildren) "." "Sent"']


def test_utf8_names_and_their_modified_utf7_form(iinst):  # noqa: F811
    with session(iinst, USER2, PASSWORD2) as c:
        ok(c, "ENABLE UTF8=ACCEPT")
        ok(c, 'CREATE "Entw\u00fcrfe"'.encode("utf-8"))
        u, t = c.cmd(b'LIST "" "Entw*"')
        assert b" OK " in t
        assert u == ['* LIST (\\HasNoChildren) "." "Entw\u00fcrfe"'.encode()]
    with session(iinst, USER2, PASSWORD2) as c:
        assert lines(c, 'LIST "" "Entw*"') == [
            '* LIST (\\HasNoChildren) "." "Entw&APw-rfe"']
        assert lines(c, 'LIST "" "Entw&APw-%"') == [
            '* LIST (\\HasNoChildren) "." "Entw&APw-rfe"']
        ok(c, "DELETE Entw&APw-rfe")


def test_bad_commands_then_the_session_goes_on(tree):
    with session(tree) as c:
        for bad in ('LIST "" "unterminated', 'LIST ""', 'LIST "" ("a"',
                    'LIST (BOGUS) "" *', 'LIST "" * RETURN (BOGUS)',
                    'LSUB (SUBSCRIBED) "" *'):
            _, t = c.cmd(bad)
            assert b" BAD " in t, (bad, t)
        ok(c, "NOOP")
        assert lines(c, 'LIST "" INBOX') == [
            '* LIST (\\HasNoChildren) "." "INBOX"']


def test_list_before_login_is_refused(iinst):  # noqa: F811
    with RawIMAP(iinst.ports["imap_port"]) as c:
        c.greeting()
        _, t = c.cmd('LIST "" *')
        assert b" BAD " in t or b" NO " in t


def test_ten_thousand_folders(iinst):  # noqa: F811
    """Written into the Maildir as a Maildir++ tool would: the listing
    comes in pieces of the job's output chunk, complete and in order."""
    user = "user3@example.test"
    md = Path(iinst.maildir(user))
    ref = md / "cur"
    st = os.stat(ref)
    names = ["big%05d" % i for i in range(10000)]
    try:
        for n in names:
            for sub in ("", "/cur", "/new", "/tmp"):
                p = md / ("." + n + sub)
                p.mkdir()
                os.chown(p, st.st_uid, st.st_gid)
        with session(iinst, USER3, PASSWORD3) as c:
            got = lines(c, 'LIST "" "big*"')
            assert got == ['* LIST (\\HasNoChildren) "." "%s"' % n
                           for n in names]
            assert len(lines(c, 'LIST "" %')) == 10006
            ok(c, "NOOP")
    finally:
        for n in names:
            shutil.rmtree(md / ("." + n), ignore_errors=True)


def test_curl_lists_folders(tree):
    url = "imap://%s:%s@127.0.0.1:%d/" % (
        urllib.parse.quote(USER, safe=""), urllib.parse.quote(PASSWORD, safe=""),
        tree.ports["imap_port"])
    r = subprocess.run(["curl", "-s", "--max-time", "60", url],
                       capture_output=True, timeout=90)
    assert r.returncode == 0, r
    out = r.stdout.decode().splitlines()
    assert '* LIST (\\HasNoChildren) "." "INBOX"' in out
    assert '* LIST (\\HasNoChildren \\Sent) "." "Sent"' in out
    assert '* LIST (\\Noselect \\HasChildren) "." "a"' in out


DOVECOT_COMMANDS = [
    'LIST "" ""', 'LIST "" *', 'LIST "" %', 'LIST "" "%.%"', 'LIST a. %',
    'LIST a .b', 'LIST "" i*', 'LIST "" "*b%"', 'LSUB "" *', 'LSUB "" %',
    'LSUB "" a.%', 'LIST (SUBSCRIBED) "" * RETURN (CHILDREN)',
    'LIST (SUBSCRIBED RECURSIVEMATCH) "" % RETURN (CHILDREN)',
    'LIST (SUBSCRIBED RECURSIVEMATCH) "" "a.%.%" RETURN (CHILDREN)',
    'LIST "" % RETURN (SUBSCRIBED CHILDREN)',
    'LIST "" % RETURN (CHILDREN STATUS (MESSAGES UIDNEXT))',
]


def _normal(line):
    """A response line without Dovecot's \\Marked/\\UnMarked, with the
    name unquoted (Dovecot sends atoms where it can, we quote)."""
    for junk in (" \\UnMarked", " \\Marked", "\\UnMarked ", "\\Marked "):
        line = line.replace(junk, "")
    return line.replace('"', "")


def _answers(port, user, password):
    out = {}
    with RawIMAP(port) as c:
        c.greeting()
        c.login(user, password)
        for cmd in DOVECOT_COMMANDS:
            u, t = c.cmd(cmd)
            assert b" OK " in t, (cmd, t)
            got = [_normal(x.decode()) for x in u]
            if cmd.startswith('LIST "" %') and "STATUS" in cmd:
                # a STATUS line stays right after its LIST line
                pairs, i = [], 0
                while i < len(got):
                    if i + 1 < len(got) and got[i + 1].startswith(
                            "* STATUS"):
                        pairs.append((got[i], got[i + 1]))
                        i += 2
                    else:
                        pairs.append((got[i],))
                        i += 1
                got = pairs
            out[cmd] = sorted(got)  # Dovecot lists in directory order
    return out


def test_same_answers_as_dovecot_on_its_maildir(make_instance):
    """Dovecot makes the folders and subscriptions, both servers answer
    the same commands on that Maildir (attributes and names compared;
    the order of lines is Dovecot's directory order, so not compared;
    extended LIST asked for CHILDREN, which we send anyway)."""
    import pwd

    from dovecot_ref import DovecotRef
    from imap_helpers import TRUSTED

    inst = make_instance(params=TRUSTED, start=False)
    owner = pwd.getpwnam(inst.get_param("mail_owner") or "nobody")
    mail_root = inst.dir / "mail"
    dom = mail_root / "example.test"
    dom.mkdir(parents=True, exist_ok=True)
    for d in (mail_root, dom):
        os.chown(d, owner.pw_uid, owner.pw_gid)
    # Dovecot's folders only (no special-use defaults of ours)
    shutil.rmtree(inst.maildir(USER).parent, ignore_errors=True)
    with DovecotRef(inst.dir.parent / "dovecot", mail_root,
                    {USER: PASSWORD}, owner.pw_uid, owner.pw_gid) as dc:
        with RawIMAP(dc.imap_port) as c:
            c.greeting()
            c.login(USER, PASSWORD)
            for cmd in ("CREATE Sent", "CREATE Drafts", "CREATE a.b.c",
                        "CREATE a.b.c.d", "CREATE x", "CREATE x.y",
                        "CREATE INBOX.sub", "SUBSCRIBE Sent",
                        "SUBSCRIBE a.b.c", "SUBSCRIBE a.b.c.d",
                        "SUBSCRIBE x.y"):
                ok(c, cmd)
        theirs = _answers(dc.imap_port, USER, PASSWORD)
    inst.start()
    ours = _answers(inst.ports["imap_port"], USER, PASSWORD)
    for cmd in DOVECOT_COMMANDS:
        assert ours[cmd] == theirs[cmd], cmd
