"""`mailwright map`, the postmap of mailwright, with the real binary
(mw_bin from conftest.py): compiling hash: tables into FILE.db, checking
the other types, `-q KEY` and `-q -` queries with postmap's exit statuses
(0 found, 1 not found), and one-line "mailwright: FILE:LINE: ..." errors.
Needs no configuration file and no running server."""

import os
import sqlite3
import stat
import subprocess

import pytest

TIMEOUT = 120


def mw(mw_bin, *args, input=None, cwd=None):
    return subprocess.run([str(mw_bin)] + list(args), capture_output=True,
                          text=True, input=input, timeout=TIMEOUT, cwd=cwd)


def fails(r, code=1, text=None):
    """A failure: the exit status and one line "mailwright: ..."."""
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("mailwright: "), r.stderr
    if text is not None:
        assert text in lines[0], lines[0]
    return r


def query(mw_bin, key, *specs):
    return mw(mw_bin, "map", "-q", key, *[str(s) for s in specs])


@pytest.fixture
def access(tmp_path):
    path = tmp_path / "access"
    path.write_text(
        "# an access table\n"
        "Spam@Example.ORG   REJECT go away\n"
        "example.net        OK\n"
        "long.example       REJECT one\n"
        "  two\n")
    return path


def test_map_compiles_hash_table(mw_bin, access, tmp_path):
    r = mw(mw_bin, "map", str(access))
    assert r.returncode == 0, r.stderr
    assert r.stdout == "%s.db: 3 entries\n" % access
    assert r.stderr == ""
    db = tmp_path / "access.db"
    assert db.is_file()
    # an SQLite file with the folded keys; no temporary file left
    con = sqlite3.connect(str(db))
    try:
        rows = dict(con.execute("SELECT key, value FROM map"))
    finally:
        con.close()
    assert rows == {"spam@example.org": "REJECT go away",
                    "example.net": "OK",
                    "long.example": "REJECT one  two"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["access",
                                                           "access.db"]


def test_map_db_has_text_permissions(mw_bin, access, tmp_path):
    os.chmod(access, 0o640)
    assert mw(mw_bin, "map", "hash:%s" % access).returncode == 0
    mode = stat.S_IMODE(os.stat(tmp_path / "access.db").st_mode)
    assert mode == 0o640


def test_map_query_found_and_not_found(mw_bin, access):
    assert mw(mw_bin, "map", str(access)).returncode == 0
    r = query(mw_bin, "SPAM@example.org", access)
    assert (r.returncode, r.stdout, r.stderr) == (0, "REJECT go away\n", "")
    r = query(mw_bin, "long.example", "hash:%s" % access)
    assert (r.returncode, r.stdout) == (0, "REJECT one  two\n")
    r = query(mw_bin, "nobody@example.org", access)
    assert (r.returncode, r.stdout, r.stderr) == (1, "", "")


def test_map_query_reads_stale_text_with_warning(mw_bin, access):
    assert mw(mw_bin, "map", str(access)).returncode == 0
    access.write_text("fresh OK\n")
    st = os.stat(str(access) + ".db")
    os.utime(access, (st.st_atime + 100, st.st_mtime + 100))
    r = query(mw_bin, "fresh", access)
    assert (r.returncode, r.stdout) == (0, "OK\n")
    assert "older than" in r.stderr and "run mailwright map" in r.stderr


def test_map_query_text_types(mw_bin, tmp_path):
    (tmp_path / "t").write_text("Key Value\n")
    (tmp_path / "c").write_text("192.0.2.0/24 REJECT net\n"
                                "2001:db8::/32 OK\n")
    (tmp_path / "r").write_text("/^(.*)@(.*)$/ user=$1 domain=${2}\n")
    (tmp_path / "p").write_text("/^\\d+$/ DIGITS\n")
    cases = [
        ("KEY", "texthash:%s" % (tmp_path / "t"), 0, "Value\n"),
        ("192.0.2.9", "cidr:%s" % (tmp_path / "c"), 0, "REJECT net\n"),
        ("2001:db8::1", "cidr:%s" % (tmp_path / "c"), 0, "OK\n"),
        ("198.51.100.1", "cidr:%s" % (tmp_path / "c"), 1, ""),
        ("Bob@Example.ORG", "regexp:%s" % (tmp_path / "r"), 0,
         "user=Bob domain=Example.ORG\n"),
        ("1234", "pcre:%s" % (tmp_path / "p"), 0, "DIGITS\n"),
        ("12a4", "pcre:%s" % (tmp_path / "p"), 1, ""),
    ]
    for key, spec, code, out in cases:
        r = query(mw_bin, key, spec)
        assert (r.returncode, r.stdout, r.stderr) == (code, out, ""), \
            (key, spec, r.stderr)
    # no .db is written for them
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c", "p", "r", "t"]


def test_map_query_first_table_wins(mw_bin, tmp_path):
    (tmp_path / "a").write_text("k from-a\n")
    (tmp_path / "b").write_text("k from-b\nj from-b\n")
    a, b = "texthash:%s" % (tmp_path / "a"), "texthash:%s" % (tmp_path / "b")
    assert query(mw_bin, "k", a, b).stdout == "from-a\n"
    assert query(mw_bin, "j", a, b).stdout == "from-b\n"


def test_map_query_stdin(mw_bin, access):
    assert mw(mw_bin, "map", str(access)).returncode == 0
    r = mw(mw_bin, "map", "-q", "-", str(access),
           input="example.net\nnobody\r\nspam@example.org\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout == ("example.net\tOK\n"
                        "spam@example.org\tREJECT go away\n")
    r = mw(mw_bin, "map", "-q", "-", str(access), input="nobody\n")
    assert (r.returncode, r.stdout) == (1, "")


def test_map_checks_other_types(mw_bin, tmp_path):
    (tmp_path / "c").write_text("if 10.0.0.0/8\n10.1.0.0/16 A\nendif\n")
    r = mw(mw_bin, "map", "cidr:%s" % (tmp_path / "c"))
    assert r.returncode == 0, r.stderr
    assert r.stdout == "cidr:%s: 1 rule, nothing to compile\n" % (
        tmp_path / "c")


@pytest.mark.parametrize("spec_type,text,error", [
    ("hash", "key-without-value\n",
     ":1: expected format: key whitespace value"),
    ("hash", "a 1\n  b\nc\n", ":3: expected format: key whitespace value"),
    ("hash", " leading x\n",
     ":1: a logical line must not start with white space"),
    ("hash", "a v\x01\n", ":1: control byte 0x01"),
    ("cidr", "192.0.2.1/24 REJECT\n",
     ':1: "192.0.2.1/24" has host bits set: perhaps you mean '
     '"192.0.2.0/24"'),
    ("cidr", "mail.example REJECT\n", ":1: bad address pattern"),
    ("regexp", "/(a/ X\n", ":1: bad pattern"),
    ("regexp", "/a/q X\n", ':1: unknown flag "q"'),
    ("regexp", "/(a)/ $2\n", ":1: $2 but the pattern has 1 group"),
    ("pcre", "if /a/\n/b/ X\n", ":1: if without endif"),
])
def test_map_syntax_error_is_one_line(mw_bin, tmp_path, spec_type, text,
                                      error):
    path = tmp_path / "table"
    path.write_text(text)
    spec = "%s:%s" % (spec_type, path)
    r = fails(mw(mw_bin, "map", spec), text=str(path) + error)
    assert r.stdout == ""
    assert not (tmp_path / "table.db").exists()
    fails(query(mw_bin, "a", spec), text=str(path) + error)


def test_map_error_keeps_old_db(mw_bin, access):
    assert mw(mw_bin, "map", str(access)).returncode == 0
    access.write_text("example.net REJECT\nbroken\n")
    fails(mw(mw_bin, "map", str(access)), text=":2: expected format")
    st = os.stat(str(access) + ".db")
    os.utime(access, (st.st_atime - 100, st.st_mtime - 100))
    assert query(mw_bin, "example.net", access).stdout == "OK\n"


def test_map_duplicate_is_a_warning(mw_bin, tmp_path):
    path = tmp_path / "dup"
    path.write_text("a first\nA second\n")
    r = mw(mw_bin, "map", str(path))
    assert r.returncode == 0
    assert r.stderr == ('mailwright: warning: %s:2: duplicate entry "a" '
                        '(the one on line 1 wins)\n' % path)
    assert query(mw_bin, "a", path).stdout == "first\n"


def test_map_missing_file(mw_bin, tmp_path):
    missing = tmp_path / "missing"
    fails(mw(mw_bin, "map", str(missing)),
          text="cannot read %s: No such file or directory" % missing)
    fails(query(mw_bin, "k", missing),
          text="cannot read %s: No such file or directory" % missing)


def test_map_bad_type(mw_bin, tmp_path):
    fails(mw(mw_bin, "map", "lmdb:%s" % (tmp_path / "x")),
          text='unsupported table type "lmdb"')


def test_map_usage(mw_bin):
    fails(mw(mw_bin, "map"), code=2, text="usage: mailwright map")
    fails(mw(mw_bin, "map", "-q", "key"), code=2, text="usage:")
    fails(mw(mw_bin, "map", "-x", "file"), code=2, text="usage:")
    r = mw(mw_bin, "map", "--help")
    assert r.returncode == 0 and "mailwright map -q" in r.stdout


def test_map_listed_in_help(mw_bin):
    r = mw(mw_bin, "help")
    assert r.returncode == 0
    assert "map FILE | map -q KEY FILE" in r.stdout
