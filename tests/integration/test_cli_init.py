"""`mailwright init DIR [--domain D] [--hostname H]`: the instance it
makes (configuration, directories, aliases, accounts.db, a self-signed
certificate), its refusal to overwrite one, and the configuration working
from any directory."""

import os
import pwd
import re
import stat
import subprocess
from datetime import datetime

import pytest


def run(mw_bin, *args, cwd=None):
    return subprocess.run([str(mw_bin)] + list(args), capture_output=True,
                          text=True, timeout=120, cwd=cwd)


def init(mw_bin, d, *args, cwd=None):
    r = run(mw_bin, "init", str(d), *args, cwd=cwd)
    assert r.returncode == 0, r.stderr
    return r


def params(cf):
    """name -> value of the settings in a mailwright.cf."""
    out = {}
    for line in cf.read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        assert "=" in line and not line[0].isspace(), line
        k, v = line.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def openssl(*args):
    r = subprocess.run(["openssl"] + list(args), capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def mode(p):
    return stat.S_IMODE(os.lstat(p).st_mode)


def test_init_creates_every_part_of_the_instance(mw_bin, tmp_path):
    d = tmp_path / "inst"
    r = init(mw_bin, d)
    for f in ("mailwright.cf", "aliases", "accounts.db", "tls/cert.pem",
              "tls/key.pem"):
        assert (d / f).is_file(), f
    # private, but for the way to queue/maildrop/, where any local user's
    # sendmail leaves mail (docs/queue.md, "maildrop")
    for sub, m in (("queue", 0o711), ("queue/maildrop", 0o1733),
                   ("mail", 0o700), ("tls", 0o700)):
        assert (d / sub).is_dir(), sub
        assert mode(d / sub) == m, sub
    assert mode(d / "tls/key.pem") == 0o600
    assert mode(d / "accounts.db") == 0o600
    # It says what it made and what to run next.
    assert "mailwright -c %s serve" % (d / "mailwright.cf") in r.stdout
    assert str(d / "tls/cert.pem") in r.stdout
    assert r.stderr == ""


def test_init_config_holds_absolute_paths_inside_dir(mw_bin, tmp_path):
    # A relative DIR, reached through a symbolic link: the file names the
    # real, absolute place.
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    init(mw_bin, "link/inst", cwd=tmp_path)
    d = (tmp_path / "real" / "inst").resolve()
    p = params(d / "mailwright.cf")
    assert p["queue_directory"] == "%s/queue" % d
    assert p["mail_directory"] == "%s/mail" % d
    assert p["accounts_database"] == "%s/accounts.db" % d
    assert p["alias_maps"] == "hash:%s/aliases" % d
    assert p["smtpd_tls_cert_file"] == "%s/tls/cert.pem" % d
    assert p["smtpd_tls_key_file"] == "%s/tls/key.pem" % d
    for k, v in p.items():
        if "/" in v:
            path = v.split(":", 1)[-1]
            assert path.startswith(str(d) + "/"), (k, v)


def test_init_config_defaults(mw_bin, tmp_path):
    d = tmp_path / "inst"
    init(mw_bin, d)
    p = params(d / "mailwright.cf")
    assert p["mydomain"] == "example.test"
    assert p["myhostname"] == "mail.example.test"
    assert p["mydestination"] == "$myhostname, localhost.$mydomain, localhost"
    assert p["maillog_file"] == ""
    assert p["smtpd_listen"] == "127.0.0.1:2525"
    assert p["submission_listen"] == "127.0.0.1:2587"
    assert p["smtps_listen"] == "127.0.0.1:2465"
    assert p["imap_listen"] == "127.0.0.1:2143"
    assert p["imaps_listen"] == "127.0.0.1:2993"
    assert p["pop3_listen"] == "127.0.0.1:2110"
    assert p["pop3s_listen"] == "127.0.0.1:2995"
    # The file explains itself.
    assert (d / "mailwright.cf").read_text().startswith("# ")


def test_init_mail_owner_is_the_invoking_user(mw_bin, tmp_path):
    d = tmp_path / "inst"
    init(mw_bin, d)
    owner = params(d / "mailwright.cf")["mail_owner"]
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("mailwright")
            want = "mailwright"
        except KeyError:
            want = "nobody"
        # Root's init hands the service data to mail_owner.
        uid = pwd.getpwnam(want).pw_uid
        for f in ("", "queue", "mail", "tls", "tls/key.pem",
                  "accounts.db"):
            assert os.lstat(d / f).st_uid == uid, f
        assert os.lstat(d / "mailwright.cf").st_uid == 0
    else:
        want = pwd.getpwuid(os.geteuid()).pw_name
    assert owner == want


def test_init_domain_and_hostname_options(mw_bin, tmp_path):
    d = tmp_path / "inst"
    init(mw_bin, d, "--domain", "Example.ORG", "--hostname", "mx1.example.org")
    p = params(d / "mailwright.cf")
    assert p["mydomain"] == "example.org"
    assert p["myhostname"] == "mx1.example.org"
    text = openssl("x509", "-in", str(d / "tls/cert.pem"), "-noout",
                   "-subject", "-ext", "subjectAltName")
    assert re.search(r"CN\s*=\s*mx1\.example\.org", text), text
    assert "DNS:example.org" in text


def test_init_domain_option_sets_default_hostname(mw_bin, tmp_path):
    d = tmp_path / "inst"
    init(mw_bin, d, "--domain=example.net")
    p = params(d / "mailwright.cf")
    assert p["myhostname"] == "mail.example.net"


def test_init_certificate_is_readable_by_openssl(mw_bin, tmp_path):
    d = tmp_path / "inst"
    init(mw_bin, d)
    cert, key = str(d / "tls/cert.pem"), str(d / "tls/key.pem")
    text = openssl("x509", "-in", cert, "-noout", "-text")
    assert "Version: 3" in text
    assert re.search(r"Subject:\s*CN\s*=\s*mail\.example\.test", text), text
    san = openssl("x509", "-in", cert, "-noout", "-ext", "subjectAltName")
    for name in ("DNS:mail.example.test", "DNS:example.test",
                 "DNS:localhost", "IP Address:127.0.0.1"):
        assert name in san, san
    assert "CA:FALSE" in text
    assert "TLS Web Server Authentication" in text
    # EC P-256 key, and the certificate carries its public half.
    ktext = openssl("pkey", "-in", key, "-noout", "-text")
    assert "prime256v1" in ktext or "P-256" in ktext, ktext
    assert openssl("pkey", "-in", key, "-pubout") == \
        openssl("x509", "-in", cert, "-noout", "-pubkey")
    # Valid from now for 10 years.
    dates = openssl("x509", "-in", cert, "-noout", "-startdate", "-enddate")
    got = dict(l.split("=", 1) for l in dates.splitlines())
    fmt = "%b %d %H:%M:%S %Y GMT"
    start = datetime.strptime(" ".join(got["notBefore"].split()), fmt)
    end = datetime.strptime(" ".join(got["notAfter"].split()), fmt)
    assert (end - start).days >= 3650
    openssl("verify", "-CAfile", cert, "-partial_chain", cert)


def test_init_aliases_file_is_only_comments(mw_bin, tmp_path):
    d = tmp_path / "inst"
    init(mw_bin, d)
    lines = (d / "aliases").read_text().splitlines()
    assert lines and all(l.startswith("#") for l in lines), lines
    assert "#postmaster: root" in lines


def test_init_accounts_db_holds_the_domain(mw_bin, tmp_path):
    d = tmp_path / "inst"
    init(mw_bin, d, "--domain", "example.org")
    r = run(mw_bin, "-c", str(d / "mailwright.cf"), "domain", "list")
    assert r.returncode == 0, r.stderr
    assert "example.org" in r.stdout.split()


def test_init_refuses_to_overwrite_an_instance(mw_bin, tmp_path):
    d = tmp_path / "inst"
    init(mw_bin, d)
    cf = d / "mailwright.cf"
    before = cf.read_bytes()
    cf_key = (d / "tls/key.pem").read_bytes()
    r = run(mw_bin, "init", str(d), "--domain", "example.org")
    assert r.returncode == 1
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("mailwright: ")
    assert "mailwright.cf" in lines[0] and "exists" in lines[0]
    assert cf.read_bytes() == before
    assert (d / "tls/key.pem").read_bytes() == cf_key


def test_init_completes_an_instance_without_config(mw_bin, tmp_path):
    # The configuration is written last: an init that stopped before it
    # can be run again over what it left.
    d = tmp_path / "inst"
    init(mw_bin, d)
    (d / "mailwright.cf").unlink()
    init(mw_bin, d)
    assert params(d / "mailwright.cf")["mydomain"] == "example.test"


@pytest.mark.parametrize("args", [
    [],
    ["--domain", "bad domain"],
    ["--domain", "-bad.example"],
    ["--hostname", "under_score.example"],
    ["--bogus"],
])
def test_init_bad_arguments_are_refused(mw_bin, tmp_path, args):
    d = tmp_path / "inst"
    cmd = ["init"] + ([str(d)] if args else []) + args
    r = run(mw_bin, *cmd)
    assert r.returncode == 2, r
    assert r.stderr.strip(), "no reason given"
    assert not (d / "mailwright.cf").exists()


def test_init_path_with_white_space_is_refused(mw_bin, tmp_path):
    d = tmp_path / "my inst"
    r = run(mw_bin, "init", str(d))
    assert r.returncode == 1
    assert len(r.stderr.splitlines()) == 1, r.stderr
    assert not (d / "mailwright.cf").exists()


def test_conf_works_from_another_cwd(mw_bin, tmp_path):
    d = tmp_path / "inst"
    init(mw_bin, d)
    cf = str(d / "mailwright.cf")
    for cwd in ("/", str(tmp_path)):
        r = run(mw_bin, "-c", cf, "conf", "queue_directory", "mail_directory",
                cwd=cwd)
        assert r.returncode == 0, r.stderr
        assert r.stdout.splitlines() == [
            "queue_directory = %s/queue" % d.resolve(),
            "mail_directory = %s/mail" % d.resolve(),
        ]
    # A relative -c from the instance's parent finds the same values.
    r = run(mw_bin, "-c", "inst/mailwright.cf", "conf", "accounts_database",
            cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "accounts_database = %s/accounts.db" % (
        d.resolve())
