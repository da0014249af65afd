/*
 * `mailwright init DIR [--domain D] [--hostname H]`: creates a ready-to-run
 * instance in DIR: mailwright.cf with absolute paths inside DIR, the queue,
 * mail and tls directories, an aliases file, accounts.db holding domain D,
 * and a self-signed certificate (init_cert.c). It never overwrites an
 * instance: an existing DIR/mailwright.cf stops it, and that file is
 * written last, so that a failed init can simply be run again.
 *
 * mail_owner, the user the services run as, is the invoking user, so that
 * anyone can serve an instance on the unprivileged ports init chooses.
 * When root runs init, it is "mailwright" if that user exists, else
 * "nobody"; the services never run as root (the master drops to
 * mail_owner), so root's init hands them DIR and the data they write: DIR
 * itself, queue/, mail/, tls/ with its files, and accounts.db. The
 * configuration and the aliases file stay root's.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/accounts.h"
#include "cli/cli.h"
#include "cli/init_cert.h"
#include "delivery/aliases_db.h"
#include "lib/buf.h"
#include "lib/fs.h"
#include "lib/parse.h"
#include "lib/xalloc.h"

#define INIT_DEFAULT_DOMAIN "example.test" /* RFC 2606 2: for testing */

struct init_opts {
	const char *dir;
	char *domain;
	char *hostname;
};

static void
init_usage(FILE *f)
{
	(void)fprintf(f,
	    "usage: mailwright init DIR [--domain DOMAIN] [--hostname HOST]\n"
	    "  creates an instance in DIR (default domain %s,\n"
	    "  hostname mail.DOMAIN); then: mailwright -c DIR/mailwright.cf serve\n",
	    INIT_DEFAULT_DOMAIN);
}

/* RFC 1123 2.1 host name: labels of letters, digits and inner hyphens,
 * 1..63 bytes each, 253 in all. */
static bool
init_hostname_ok(const char *s)
{
	size_t len = strlen(s), label = 0, i;

	if (len == 0 || len > 253 || s[len - 1] == '.')
		return false;
	for (i = 0; i <= len; i++) {
		char c = s[i];

		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		        (c == '-' && label > 0)))
			return false;
		label++;
	}
	return true;
}

/*
 * The configuration syntax splits lists on commas and white space, expands
 * '$' and starts comments with '#': a path holding one of them cannot be
 * written into mailwright.cf as it is.
 */
static bool
init_path_ok(const char *p)
{
	for (; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == ',' ||
		    *p == '$' || *p == '#' || *p == '\\')
			return false;
	return true;
}

static int
init_parse_args(int argc, char **argv, struct init_opts *o)
{
	const char *domain = NULL, *hostname = NULL;
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			init_usage(stdout);
			return 1;
		} else if (strcmp(a, "--domain") == 0 && i + 1 < argc) {
			domain = argv[++i];
		} else if (strncmp(a, "--domain=", 9) == 0) {
			domain = a + 9;
		} else if (strcmp(a, "--hostname") == 0 && i + 1 < argc) {
			hostname = argv[++i];
		} else if (strncmp(a, "--hostname=", 11) == 0) {
			hostname = a + 11;
		} else if (a[0] == '-' && a[1] != '\0') {
			(void)fprintf(stderr,
			    "mailwright: init: unknown option or missing value: %s\n",
			    a);
			init_usage(stderr);
			return 2;
		} else if (o->dir == NULL) {
			o->dir = a;
		} else {
			(void)fprintf(stderr,
			    "mailwright: init: one directory only (got %s and %s)\n",
			    o->dir, a);
			return 2;
		}
	}
	if (o->dir == NULL || o->dir[0] == '\0') {
		init_usage(stderr);
		return 2;
	}
	o->domain = xstrdup(domain != NULL ? domain : INIT_DEFAULT_DOMAIN);
	ascii_lower(o->domain);
	if (!init_hostname_ok(o->domain)) {
		(void)fprintf(stderr,
		    "mailwright: init: --domain: \"%s\" is not a domain name (letters, digits, '-' and '.')\n",
		    o->domain);
		return 2;
	}
	o->hostname = hostname != NULL ? xstrdup(hostname)
	                               : xasprintf("mail.%s", o->domain);
	ascii_lower(o->hostname);
	if (!init_hostname_ok(o->hostname)) {
		(void)fprintf(stderr,
		    "mailwright: init: --hostname: \"%s\" is not a host name (letters, digits, '-' and '.')\n",
		    o->hostname);
		return 2;
	}
	return 0;
}

/* The user the services will run as (see the top of this file). */
static char *
init_mail_owner(void)
{
	struct passwd *pw;

	if (geteuid() == 0)
		return xstrdup(
		    getpwnam("mailwright") != NULL ? "mailwright" : "nobody");
	pw = getpwuid(geteuid());
	if (pw == NULL)
		return NULL;
	return xstrdup(pw->pw_name);
}

/* Creates path with text, failing if it exists; mode set exactly. */
static int
init_write_new(const char *path, const char *text, mode_t mode)
{
	int fd, ret = -1, saved;

	fd = open(
	    path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd == -1)
		return -1;
	if (fchmod(fd, mode) == -1 ||
	    write_full(fd, text, strlen(text)) == -1 || fsync(fd) == -1)
		goto out;
	ret = 0;
out:
	saved = errno;
	(void)close(fd);
	if (ret == -1)
		(void)unlink(path);
	errno = saved;
	return ret;
}

static int
init_config_text(struct buf *b, const char *dir, const struct init_opts *o,
    const char *owner)
{
	return buf_printf(b,
	    "# mailwright.cf: the configuration of the mailwright instance in\n"
	    "# %s, written by `mailwright init`.\n"
	    "#\n"
	    "# The syntax is Postfix's main.cf: \"name = value\"; a line that starts\n"
	    "# with white space continues the previous one; \"#\" at the start of a\n"
	    "# line makes a comment; $name and ${name} expand other parameters; list\n"
	    "# items are separated by commas or white space. Parameters not set here\n"
	    "# have their defaults: `mailwright -c %s/mailwright.cf conf` shows every\n"
	    "# value, `conf -d` the defaults. After a change, send the master SIGHUP.\n"
	    "\n"
	    "# Identity. The domain is local through accounts.db (`mailwright domain\n"
	    "# add` adds more); mydestination names the other local domains.\n"
	    "myhostname = %s\n"
	    "mydomain = %s\n"
	    "mydestination = $myhostname, localhost.$mydomain, localhost\n"
	    "\n"
	    "# Where things live, and who runs the services: the master drops to\n"
	    "# mail_owner when started as root. maillog_file empty: log to stderr.\n"
	    "queue_directory = %s/queue\n"
	    "mail_directory = %s/mail\n"
	    "accounts_database = %s/accounts.db\n"
	    "alias_maps = hash:%s/aliases\n"
	    "maillog_file =\n"
	    "mail_owner = %s\n"
	    "\n"
	    "# Listeners: lists of address:port, empty to disable. Loopback ports\n"
	    "# above 1024, so that any user can serve; for mail from the Internet,\n"
	    "# smtpd_listen = 0.0.0.0:25 (and start as root).\n"
	    "smtpd_listen = 127.0.0.1:2525\n"
	    "submission_listen = 127.0.0.1:2587\n"
	    "smtps_listen = 127.0.0.1:2465\n"
	    "imap_listen = 127.0.0.1:2143\n"
	    "imaps_listen = 127.0.0.1:2993\n"
	    "pop3_listen = 127.0.0.1:2110\n"
	    "pop3s_listen = 127.0.0.1:2995\n"
	    "\n"
	    "# TLS: a self-signed certificate made by init; put a real one here.\n"
	    "smtpd_tls_cert_file = %s/tls/cert.pem\n"
	    "smtpd_tls_key_file = %s/tls/key.pem\n",
	    dir, dir, o->hostname, o->domain, dir, dir, dir, dir, owner, dir,
	    dir);
}

static int
init_aliases_text(struct buf *b, const char *dir)
{
	return buf_printf(b,
	    "# aliases: the local aliases of the instance in %s\n"
	    "# (alias_maps = hash:%s/aliases), in the format of /etc/aliases:\n"
	    "# \"name: target, target\". After a change, run\n"
	    "# `mailwright -c %s/mailwright.cf newaliases`.\n"
	    "#\n"
	    "# RFC 5321 4.5.1: every mail domain accepts mail for postmaster; send\n"
	    "# it to someone who reads it, for example:\n"
	    "#postmaster: root\n",
	    dir, dir, dir);
}

/* Gives the data the services write to owner (root's init only). */
static int
init_chown_data(const char *dir, const char *owner, struct buf *err)
{
	static const char *const parts[] = { "", "/queue", "/queue/maildrop",
		"/mail", "/tls", "/tls/cert.pem", "/tls/key.pem",
		"/accounts.db", "/accounts.db-wal", "/accounts.db-shm" };
	struct passwd *pw;
	char *path;
	size_t i;

	pw = getpwnam(owner);
	if (pw == NULL) {
		(void)!buf_printf(err, "no such user \"%s\"", owner);
		return -1;
	}
	for (i = 0; i < MW_NELEM(parts); i++) {
		path = xasprintf("%s%s", dir, parts[i]);
		if (lchown(path, pw->pw_uid, pw->pw_gid) == -1 &&
		    errno != ENOENT) {
			(void)!buf_printf(err, "cannot chown %s: %m", path);
			free(path);
			return -1;
		}
		free(path);
	}
	return 0;
}

static int
init_accounts(const char *dir, const char *domain, struct buf *err)
{
	struct accounts *a;
	char *path = xasprintf("%s/accounts.db", dir);
	int r, ret = -1;

	a = accounts_open(path, true, err);
	if (a == NULL)
		goto out;
	r = accounts_domain_add(a, domain, err);
	if (r == ACCOUNTS_OK || r == ACCOUNTS_EXISTS) {
		buf_reset(err);
		ret = 0;
	}
	accounts_close(&a);
out:
	free(path);
	return ret;
}

/* queue/, mail/ and tls/: private to the services, but for the way to
 * queue/maildrop/, where any local user's sendmail leaves mail: queue/ is
 * searchable (0711) and maildrop/ a drop box (1733, docs/queue.md). */
static int
init_make_dirs(const char *dir)
{
	static const char *const subs[] = { "queue", "queue/maildrop", "mail",
		"tls" };
	static const mode_t modes[] = { 0711, 01733, 0700, 0700 };
	char *p;
	size_t i;

	for (i = 0; i < MW_NELEM(subs); i++) {
		p = xasprintf("%s/%s", dir, subs[i]);
		if ((mkdir(p, 0700) == -1 && errno != EEXIST) ||
		    chmod(p, modes[i]) == -1) {
			(void)fprintf(stderr,
			    "mailwright: init: cannot create %s: %s\n", p,
			    strerror(errno));
			free(p);
			return -1;
		}
		free(p);
	}
	return 0;
}

static int
init_cert_files(const char *dir, const struct init_opts *o, struct buf *err)
{
	char *cert = xasprintf("%s/tls/cert.pem", dir);
	char *key = xasprintf("%s/tls/key.pem", dir);
	int ret = -1;

	if (init_cert_write(cert, key, o->hostname, o->domain, err) == -1)
		goto out;
	/* A certificate is public; the umask made it private. */
	if (chmod(cert, 0644) == -1) {
		(void)!buf_printf(err, "cannot chmod %s: %m", cert);
		goto out;
	}
	ret = 0;
out:
	free(cert);
	free(key);
	return ret;
}

/* Makes the absolute form of dir before it exists, to check it early. */
static char *
init_abs_guess(const char *dir)
{
	char cwd[PATH_MAX];

	if (dir[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		return xstrdup(dir);
	return xasprintf("%s/%s", cwd, dir);
}

static int
init_run(const struct init_opts *o)
{
	char *guess = NULL, *dir = NULL, *cf = NULL, *owner = NULL, *p = NULL;
	struct buf err, text;
	struct stat st;
	bool created;
	int ret = 1;

	buf_init(&err, 4096);
	buf_init(&text, 64 * 1024);
	guess = init_abs_guess(o->dir);
	if (!init_path_ok(guess)) {
		(void)fprintf(stderr,
		    "mailwright: init: %s: the path must not hold white space, ',', '$', '#' or '\\' (the configuration syntax gives them a meaning)\n",
		    guess);
		goto out;
	}
	cf = xasprintf("%s/mailwright.cf", o->dir);
	if (lstat(cf, &st) == 0) {
		(void)fprintf(stderr,
		    "mailwright: init: %s exists: not overwriting an instance\n",
		    cf);
		goto out;
	}
	owner = init_mail_owner();
	if (owner == NULL) {
		(void)fprintf(stderr,
		    "mailwright: init: user id %u has no name: cannot set mail_owner\n",
		    (unsigned)geteuid());
		goto out;
	}

	created = stat(o->dir, &st) == -1;
	if (fs_mkdir_p(o->dir, 0755) == -1) {
		(void)fprintf(stderr,
		    "mailwright: init: cannot create %s: %s\n", o->dir,
		    strerror(errno));
		goto out;
	}
	if (created)
		(void)chmod(o->dir, 0755);
	dir = realpath(o->dir, NULL);
	if (dir == NULL || !init_path_ok(dir)) {
		(void)fprintf(stderr, "mailwright: init: %s: %s\n", o->dir,
		    dir == NULL
		        ? strerror(errno)
		        : "its real path holds white space, ',', '$', '#' or '\\'");
		goto out;
	}
	free(cf);
	cf = xasprintf("%s/mailwright.cf", dir);

	if (init_make_dirs(dir) == -1)
		goto out;
	free(p);
	p = xasprintf("%s/aliases", dir);
	/* An aliases file left by an earlier run (or the admin) stays. */
	if (init_aliases_text(&text, dir) == -1 ||
	    (!fs_exists(p) && init_write_new(p, buf_cstr(&text), 0644) == -1)) {
		(void)fprintf(stderr, "mailwright: init: cannot write %s: %s\n",
		    p, strerror(errno));
		goto out;
	}
	{
		size_t naliases;

		/* Compiled now, so the services never read a stale map. */
		if (aliases_db_compile(p, &naliases, &err) == -1) {
			(void)fprintf(stderr, "mailwright: init: %s\n",
			    buf_cstr(&err));
			goto out;
		}
	}
	if (init_accounts(dir, o->domain, &err) == -1 ||
	    init_cert_files(dir, o, &err) == -1) {
		(void)fprintf(stderr, "mailwright: init: %s\n", buf_cstr(&err));
		goto out;
	}
	if (geteuid() == 0 && init_chown_data(dir, owner, &err) == -1) {
		(void)fprintf(stderr, "mailwright: init: %s\n", buf_cstr(&err));
		goto out;
	}

	/* Last: its presence means "a complete instance". */
	buf_reset(&text);
	if (init_config_text(&text, dir, o, owner) == -1 ||
	    init_write_new(cf, buf_cstr(&text), 0644) == -1 ||
	    fsync_dir(dir) == -1) {
		(void)fprintf(stderr, "mailwright: init: cannot write %s: %s\n",
		    cf, strerror(errno));
		goto out;
	}

	(void)printf(
	    "mailwright: created an instance in %s\n"
	    "  configuration  %s\n"
	    "  queue          %s/queue\n"
	    "  mail           %s/mail\n"
	    "  accounts       %s/accounts.db (domain %s)\n"
	    "  aliases        %s/aliases\n"
	    "  certificate    %s/tls/cert.pem (self-signed, CN=%s)\n"
	    "  private key    %s/tls/key.pem\n"
	    "  services run as %s; SMTP on 127.0.0.1:2525, submission 2587, smtps 2465\n"
	    "\n"
	    "add a mailbox:  mailwright -c %s user add user1@%s\n"
	    "start it with:  mailwright -c %s serve\n",
	    dir, cf, dir, dir, dir, o->domain, dir, dir, o->hostname, dir,
	    owner, cf, o->domain, cf);
	ret = 0;
out:
	free(p);
	free(owner);
	free(cf);
	free(dir);
	free(guess);
	buf_free(&text);
	buf_free(&err);
	return ret;
}

int
cli_init(const struct cli_ctx *ctx, int argc, char **argv)
{
	struct init_opts o;
	mode_t old;
	int r;

	(void)ctx; /* init writes DIR/mailwright.cf; -c does not apply */
	memset(&o, 0, sizeof(o));
	r = init_parse_args(argc, argv, &o);
	if (r == 0) {
		/* Private by default; public files get their mode exactly. */
		old = umask(077);
		r = init_run(&o);
		(void)umask(old);
	} else if (r == 1) {
		r = 0;
	}
	free(o.domain);
	free(o.hostname);
	return r;
}
