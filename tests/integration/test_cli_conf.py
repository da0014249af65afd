"""`mailwright conf`, the postconf of mailwright, against a temporary
configuration file: all values, -n, -d, NAME..., -x, -h, editing with -e
(and NAME=VALUE without -e), -X, the unknown-name warnings, bad values and
a missing file. Needs only the binary (mw_bin from conftest.py)."""

import os
import stat
import subprocess

import pytest

CONFIG = """\
# test configuration
myhostname = mx.example.org

# the domains we take mail for
mydestination = $myhostname,
    localhost.$mydomain
  # a comment between continuation lines
    example.net
my_networks = 10.0.0.0/8
mynetworks = 127.0.0.0/8, $my_networks
smtpd_banner = ${mydomain?$mydomain} says hi $$
smtpd_timeout = 5m
"""


def run(mw_bin, *args, cwd=None, env=None):
    return subprocess.run([str(mw_bin)] + list(args), capture_output=True,
                          text=True, timeout=120, cwd=cwd, env=env)


@pytest.fixture
def cf(tmp_path):
    path = tmp_path / "mailwright.cf"
    path.write_text(CONFIG)
    path.chmod(0o640)
    return path


def conf(mw_bin, cf, *args):
    return run(mw_bin, "-c", str(cf), "conf", *args)


def pairs(stdout):
    """The name -> value pairs of `name = value` lines, checking the shape."""
    out = {}
    for line in stdout.splitlines():
        name, sep, value = line.partition(" = ")
        assert sep, line
        out[name] = value
    return out


def test_conf_prints_every_parameter_sorted(mw_bin, cf):
    r = conf(mw_bin, cf)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    names = [line.split(" = ")[0] for line in r.stdout.splitlines()]
    assert names == sorted(names)
    p = pairs(r.stdout)
    # unexpanded, as postconf prints them
    assert p["mydestination"] == (
        "$myhostname, localhost.$mydomain example.net")
    assert p["smtpd_timeout"] == "5m"
    assert p["smtpd_recipient_limit"] == "1000"
    assert p["mydomain"] == "example.org"  # computed from myhostname
    # the file's own parameter is listed because another one uses it
    assert p["my_networks"] == "10.0.0.0/8"
    assert "smtpd_listen" in p and "maximal_queue_lifetime" in p


def test_conf_n_prints_only_the_file(mw_bin, cf):
    r = conf(mw_bin, cf, "-n")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "my_networks = 10.0.0.0/8",
        "mydestination = $myhostname, localhost.$mydomain example.net",
        "myhostname = mx.example.org",
        "mynetworks = 127.0.0.0/8, $my_networks",
        "smtpd_banner = ${mydomain?$mydomain} says hi $$",
        "smtpd_timeout = 5m",
    ]


def test_conf_d_prints_defaults_even_without_a_file(mw_bin, tmp_path):
    r = run(mw_bin, "-c", str(tmp_path / "none.cf"), "conf", "-d")
    assert r.returncode == 0, r.stderr
    p = pairs(r.stdout)
    assert p["smtpd_recipient_limit"] == "1000"
    assert p["smtpd_timeout"] == "300s"
    assert p["mynetworks"] == ""
    assert p["mydestination"] == "$myhostname, localhost.$mydomain, localhost"
    assert p["smtpd_banner"] == "$myhostname ESMTP $mail_name"
    assert "." in p["myhostname"]
    assert p["mydomain"] == p["myhostname"].split(".", 1)[1]
    r = run(mw_bin, "-c", str(tmp_path / "none.cf"), "conf", "-d",
            "smtpd_timeout")
    assert r.stdout == "smtpd_timeout = 300s\n"


def test_conf_names_in_order_given(mw_bin, cf):
    r = conf(mw_bin, cf, "smtpd_timeout", "myhostname", "mail_name")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "smtpd_timeout = 5m",
        "myhostname = mx.example.org",
        "mail_name = mailwright",
    ]
    r = conf(mw_bin, cf, "-n", "smtpd_timeout", "mail_name")
    assert r.stdout.splitlines() == ["smtpd_timeout = 5m"]


def test_conf_x_expands(mw_bin, cf):
    r = conf(mw_bin, cf, "-x", "mydestination", "mynetworks", "smtpd_banner",
             "myorigin")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "mydestination = mx.example.org, localhost.example.org example.net",
        "mynetworks = 127.0.0.0/8, 10.0.0.0/8",
        "smtpd_banner = example.org says hi $",
        "myorigin = mx.example.org",
    ]


def test_conf_h_prints_values_only(mw_bin, cf):
    r = conf(mw_bin, cf, "-h", "smtpd_timeout", "mynetworks")
    assert r.stdout == "5m\n127.0.0.0/8, $my_networks\n"
    r = conf(mw_bin, cf, "-hx", "mynetworks")
    assert r.stdout == "127.0.0.0/8, 10.0.0.0/8\n"


def test_conf_unknown_name_warns_and_fails(mw_bin, cf):
    r = conf(mw_bin, cf, "smtpd_recipent_limit", "smtpd_timeout")
    assert r.returncode == 1
    assert r.stdout == "smtpd_timeout = 5m\n"
    assert r.stderr == ('mailwright: warning: unknown parameter '
                        '"smtpd_recipent_limit" (did you mean '
                        '"smtpd_recipient_limit"?)\n')
    r = conf(mw_bin, cf, "zzz")
    assert r.returncode == 1
    assert r.stderr == 'mailwright: warning: unknown parameter "zzz"\n'


def test_conf_unknown_name_in_file_warns_with_line(mw_bin, cf):
    cf.write_text(CONFIG + "smtpd_recipent_limit = 5\n")
    r = conf(mw_bin, cf, "smtpd_recipient_limit")
    assert r.returncode == 0
    assert r.stdout == "smtpd_recipient_limit = 1000\n"
    assert r.stderr == (
        'mailwright: warning: %s:13: unknown parameter '
        '"smtpd_recipent_limit" (did you mean "smtpd_recipient_limit"?)\n'
        % cf)


def test_conf_bad_value_is_one_line_and_status_1(mw_bin, cf):
    cf.write_text(CONFIG + "smtpd_recipient_limit = 10k\n")
    r = conf(mw_bin, cf, "-n")
    assert r.returncode == 1
    assert r.stderr == ('mailwright: %s:13: smtpd_recipient_limit: "10k" is '
                        'not a number (1..100000)\n' % cf)
    assert "smtpd_recipient_limit = 10k" in r.stdout.splitlines()


def test_conf_missing_file_is_one_line(mw_bin, tmp_path):
    missing = tmp_path / "y.cf"
    r = run(mw_bin, "-c", str(missing), "conf")
    assert r.returncode == 1
    assert r.stdout == ""
    assert r.stderr == ('mailwright: cannot read %s: No such file or '
                        'directory (create one with "mailwright init DIR" '
                        'or pass -c FILE)\n' % missing)


def test_conf_uses_mailwright_config_env(mw_bin, cf):
    env = dict(os.environ, MAILWRIGHT_CONFIG=str(cf))
    r = run(mw_bin, "conf", "smtpd_timeout", env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "smtpd_timeout = 5m\n"


def test_conf_e_replaces_and_appends_keeping_the_rest(mw_bin, cf):
    r = conf(mw_bin, cf, "-e", "mydestination = a.example, b.example",
             "smtpd_recipient_limit=50", "smtpd_timeout=10m")
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert cf.read_text() == (
        "# test configuration\n"
        "myhostname = mx.example.org\n"
        "\n"
        "# the domains we take mail for\n"
        "mydestination = a.example, b.example\n"
        "  # a comment between continuation lines\n"
        "my_networks = 10.0.0.0/8\n"
        "mynetworks = 127.0.0.0/8, $my_networks\n"
        "smtpd_banner = ${mydomain?$mydomain} says hi $$\n"
        "smtpd_timeout = 10m\n"
        "smtpd_recipient_limit = 50\n")
    assert stat.S_IMODE(cf.stat().st_mode) == 0o640
    r = conf(mw_bin, cf, "-x", "mydestination", "smtpd_recipient_limit")
    assert r.stdout.splitlines() == [
        "mydestination = a.example, b.example",
        "smtpd_recipient_limit = 50",
    ]
    assert not [p for p in cf.parent.iterdir() if ".tmp." in p.name]


def test_conf_name_value_without_e_edits(mw_bin, cf):
    r = conf(mw_bin, cf, "smtpd_timeout=1h")
    assert r.returncode == 0, r.stderr
    assert "smtpd_timeout = 1h\n" in cf.read_text()


def test_conf_e_bad_value_leaves_file_untouched(mw_bin, cf):
    before = cf.read_bytes()
    r = conf(mw_bin, cf, "-e", "smtpd_recipient_limit=10k")
    assert r.returncode == 1
    assert r.stderr == ('mailwright: smtpd_recipient_limit: "10k" is not a '
                        'number (1..100000) (%s not changed)\n' % cf)
    assert cf.read_bytes() == before
    r = conf(mw_bin, cf, "-e", "smtpd_banner = $smtpd_banner x")
    assert r.returncode == 1
    assert "recursive expansion of $smtpd_banner" in r.stderr
    assert len(r.stderr.splitlines()) == 1
    assert cf.read_bytes() == before
    r = conf(mw_bin, cf, "-e", "no_equals_sign")
    assert r.returncode == 1
    assert r.stderr == ('mailwright: "no_equals_sign": expected '
                        'NAME=VALUE\n')
    assert cf.read_bytes() == before


def test_conf_e_can_fix_a_broken_file(mw_bin, cf):
    cf.write_text(CONFIG + "smtpd_recipient_limit = 10k\n")
    # an unrelated edit keeps the old error and says so
    r = conf(mw_bin, cf, "-e", "mail_name=mw")
    assert r.returncode == 0
    assert "warning" in r.stderr and "10k" in r.stderr
    assert "mail_name = mw\n" in cf.read_text()
    r = conf(mw_bin, cf, "-e", "smtpd_recipient_limit=10000")
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert conf(mw_bin, cf, "-h", "smtpd_recipient_limit").stdout == "10000\n"


def test_conf_e_unknown_name_warns_but_writes(mw_bin, cf):
    r = conf(mw_bin, cf, "-e", "smtpd_recipent_limit=5")
    assert r.returncode == 0
    assert r.stderr.startswith('mailwright: warning: unknown parameter '
                               '"smtpd_recipent_limit" (did you mean')
    assert cf.read_text().endswith("smtpd_recipent_limit = 5\n")


def test_conf_X_removes_definitions(mw_bin, cf):
    r = conf(mw_bin, cf, "-X", "mydestination", "smtpd_timeout", "nothere")
    assert r.returncode == 0, r.stderr
    text = cf.read_text()
    assert "mydestination" not in text
    assert "localhost.$mydomain" not in text
    assert "example.net" not in text
    assert "smtpd_timeout" not in text
    assert "  # a comment between continuation lines\n" in text
    assert "# the domains we take mail for\n" in text
    r = conf(mw_bin, cf, "-h", "smtpd_timeout")
    assert r.stdout == "300s\n"


def test_conf_e_through_a_symlink_edits_the_target(mw_bin, cf, tmp_path):
    link = tmp_path / "link.cf"
    link.symlink_to(cf)
    r = conf(mw_bin, link, "-e", "mail_name=viaLink")
    assert r.returncode == 0, r.stderr
    assert link.is_symlink()
    assert "mail_name = viaLink\n" in cf.read_text()


def test_conf_docs_is_markdown_reference(mw_bin, tmp_path):
    r = run(mw_bin, "-c", str(tmp_path / "none.cf"), "conf", "--docs")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("# mailwright configuration reference\n")
    assert "| `smtpd_recipient_limit` | number | `1000` | 1..100000 |" in (
        r.stdout)
    assert "| `myhostname` | string | (the system's host name) |" in r.stdout


def test_conf_bad_options(mw_bin, cf):
    assert conf(mw_bin, cf, "-d", "-n").returncode == 2
    assert conf(mw_bin, cf, "-e", "-n", "a=b").returncode == 2
    assert conf(mw_bin, cf, "-q").returncode == 2


def test_conf_e_keeps_mode_under_a_strict_umask(mw_bin, cf):
    cf.chmod(0o644)
    r = subprocess.run([str(mw_bin), "-c", str(cf), "conf", "-e",
                        "mail_name=x"], capture_output=True, text=True,
                       timeout=120, preexec_fn=lambda: os.umask(0o077))
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE(cf.stat().st_mode) == 0o644
