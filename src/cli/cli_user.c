/*
 * `mailwright user add|del|passwd|list|show`. Passwords come from standard
 * input only, never from argv (which every user can read in ps and /proc):
 * one line from a pipe, or typed twice without echo at a terminal. The
 * data is auth/accounts.c's and hashing auth/password.c's. user add also
 * makes the Maildir with its special-use folders (store/store.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "auth/accounts.h"
#include "auth/password.h"
#include "cli/cli.h"
#include "cli/cli_accounts_private.h"
#include "delivery/resolve.h"
#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "lib/xalloc.h"
#include "store/store.h"

/* Longer than any passphrase a person types; Dovecot accepts up to 4 KiB
 * in AUTH, so a longer one could not log in anyway. */
static const size_t cli_password_max = 4096;

/* The terminal settings to restore if a signal ends a prompt. */
static struct termios cli_user_saved_tio;
static volatile sig_atomic_t cli_user_echo_off;

static void
cli_user_on_signal(int sig)
{
	if (cli_user_echo_off)
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &cli_user_saved_tio);
	(void)signal(sig, SIG_DFL);
	(void)raise(sig);
}

/*
 * Reads one line from fd 0 into pw (without the line end). 0, or -1 with
 * a reason in err. Reads a byte at a time so that nothing after the line
 * is consumed.
 */
static int
cli_user_read_line(struct buf *pw, struct buf *err)
{
	ssize_t r;
	char c;

	for (;;) {
		r = read(STDIN_FILENO, &c, 1);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			(void)!buf_printf(err, "cannot read the password: %s",
			    strerror(errno));
			return -1;
		}
		if (r == 0 || c == '\n')
			break;
		if (c == '\0') {
			(void)!buf_printf(err,
			    "the password contains a NUL "
			    "byte");
			return -1;
		}
		if (buf_append_char(pw, c) == -1) {
			(void)!buf_printf(err,
			    "the password is longer than "
			    "%zu bytes",
			    cli_password_max);
			return -1;
		}
	}
	if (pw->len > 0 && pw->data[pw->len - 1] == '\r')
		buf_truncate(pw, pw->len - 1);
	return 0;
}

/* Prompts on the terminal with echo off and reads one line. */
static int
cli_user_prompt(const char *prompt, struct buf *pw, struct buf *err)
{
	struct sigaction sa, old[4];
	static const int sigs[4] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct termios tio;
	int i, ret;

	if (tcgetattr(STDIN_FILENO, &cli_user_saved_tio) == -1) {
		(void)!buf_printf(err, "cannot read the terminal settings: %s",
		    strerror(errno));
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = cli_user_on_signal;
	(void)sigemptyset(&sa.sa_mask);
	for (i = 0; i < 4; i++)
		(void)sigaction(sigs[i], &sa, &old[i]);
	tio = cli_user_saved_tio;
	tio.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	cli_user_echo_off = 1;
	/* echo off before the prompt: what is typed after it is not shown,
	 * nor flushed away by TCSAFLUSH */
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &tio) == -1) {
		(void)!buf_printf(
		    err, "cannot turn off echo: %s", strerror(errno));
		ret = -1;
	} else {
		(void)fprintf(stderr, "%s", prompt);
		(void)fflush(stderr);
		ret = cli_user_read_line(pw, err);
	}
	(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &cli_user_saved_tio);
	cli_user_echo_off = 0;
	(void)fprintf(stderr, "\n");
	for (i = 0; i < 4; i++)
		(void)sigaction(sigs[i], &old[i], NULL);
	return ret;
}

/* At a terminal: the password typed twice, the same both times. */
static int
cli_user_prompt_twice(const char *address, struct buf *pw, struct buf *err)
{
	struct buf again;
	char *prompt = xasprintf("New password for %s: ", address);
	int ret = -1;

	buf_init(&again, cli_password_max);
	if (cli_user_prompt(prompt, pw, err) == -1)
		goto out;
	if (pw->len == 0) {
		ret = 0; /* the caller says it is empty */
		goto out;
	}
	if (cli_user_prompt("Retype the password: ", &again, err) == -1)
		goto out;
	if (again.len != pw->len ||
	    memcmp(again.data, pw->data, pw->len) != 0) {
		(void)!buf_printf(err, "the passwords do not match");
		goto out;
	}
	ret = 0;
out:
	buf_wipe(&again);
	buf_free(&again);
	free(prompt);
	return ret;
}

/*
 * The new password of address: typed twice at a terminal, else one line
 * of standard input. 0, or -1 with a reason in err. The caller wipes pw.
 */
static int
cli_user_read_password(const char *address, struct buf *pw, struct buf *err)
{
	if (isatty(STDIN_FILENO)) {
		if (cli_user_prompt_twice(address, pw, err) == -1)
			return -1;
	} else if (cli_user_read_line(pw, err) == -1)
		return -1;
	if (pw->len == 0) {
		(void)!buf_printf(err,
		    "empty password (give it as one line on "
		    "standard input, or type it at the prompt)");
		return -1;
	}
	return 0;
}

/* How the password given on standard input is stored. */
struct cli_user_opts {
	const char *scheme; /* "ARGON2ID" (default) or "SCRAM-SHA-256" */
	bool hashed;        /* the input is a stored hash to import */
};

/* Reads, hashes and wipes the password. A malloc'd hash, or NULL. */
static char *
cli_user_new_hash(
    const char *address, const struct cli_user_opts *o, struct buf *err)
{
	struct buf pw;
	char *hash = NULL;

	buf_init(&pw, cli_password_max);
	if (o->hashed) {
		/* Migration: {SHA512-CRYPT}, {BLF-CRYPT}, {CRYPT} (yescrypt),
		 * {ARGON2ID}, {SCRAM-SHA-256} from Dovecot or /etc/shadow. */
		if (cli_user_read_line(&pw, err) == 0) {
			if (password_scheme_ok(buf_cstr(&pw)))
				hash = xstrdup(buf_cstr(&pw));
			else
				(void)!buf_printf(err,
				    "not a stored password hash we can verify "
				    "(expected {ARGON2ID}, {SHA512-CRYPT}, "
				    "{BLF-CRYPT}, {CRYPT} or {SCRAM-SHA-256} "
				    "followed by the hash)");
		}
	} else if (cli_user_read_password(address, &pw, err) == 0) {
		hash = password_hash_scheme(buf_cstr(&pw), o->scheme);
		if (hash == NULL)
			(void)!buf_printf(err, "cannot hash the password: %s",
			    strerror(errno));
	}
	buf_wipe(&pw);
	buf_free(&pw);
	return hash;
}

/* The Maildir of address, as the resolver delivers (an address that
 * cannot name a directory has none: shown as such). */
static char *
cli_user_maildir(const struct conf *conf, const char *address)
{
	char *m = resolve_user_maildir(conf->mail_directory, address);

	return m != NULL ? m : xstrdup("(none: not a safe directory name)");
}

/*
 * The new user's Maildir with its special-use folders
 * (mail_special_use_folders, RFC 6154). A child process does it as
 * mail_owner, who must own the Maildir, while this command keeps its own
 * rights. A failure is only a warning: the user exists, and imapd makes
 * the folders at the first login (store_open_defaults).
 */
static void
cli_user_make_maildir(const struct conf *conf, const char *address)
{
	char *maildir = resolve_user_maildir(conf->mail_directory, address);
	int status;
	pid_t pid;

	if (maildir == NULL)
		return;
	(void)fflush(stdout);
	(void)fflush(stderr);
	pid = fork();
	if (pid == 0) {
		struct store_defaults d = { 0 };
		struct store *st = NULL;
		struct buf err;
		int r = -1;

		buf_init(&err, 4096);
		if (cli_become_mail_owner(conf) == 0 &&
		    store_defaults_parse(
		        conf->mail_special_use_folders, &d, &err) == 0 &&
		    store_open(maildir, &st, &err) == 0)
			r = store_create_defaults(st, &d, &err);
		if (r == -1)
			(void)fprintf(stderr,
			    "mailwright: warning: %s: %s (the folders are "
			    "made at the first IMAP login)\n",
			    maildir,
			    err.len > 0 ? buf_cstr(&err) : strerror(errno));
		store_close(&st);
		store_defaults_free(&d);
		buf_free(&err);
		_exit(r == -1 ? 1 : 0);
	}
	if (pid == -1)
		(void)fprintf(stderr,
		    "mailwright: warning: cannot make %s: fork: %s\n", maildir,
		    strerror(errno));
	else
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
	free(maildir);
}

/* The address as stored (its local part as first typed), or NULL. */
static char *
cli_user_stored_address(struct accounts *acc, const char *address)
{
	const char *domain = cli_accounts_domain_of(address);
	struct buf list, err;
	char *p, *nl, *ret = NULL;

	buf_init(&list, BUF_MAX_DEFAULT);
	buf_init(&err, 4096);
	if (domain != NULL &&
	    accounts_user_list(acc, domain, &list, &err) == ACCOUNTS_OK) {
		for (p = list.data; p != NULL && (nl = strchr(p, '\n')) != NULL;
		     p = nl + 1) {
			*nl = '\0';
			if (ascii_eq(p, address)) {
				ret = xstrdup(p);
				break;
			}
		}
	}
	buf_free(&list);
	buf_free(&err);
	return ret;
}

/* user add and user passwd. */
static int
cli_user_set(struct cli_accounts *ca, bool add, const char *address,
    const struct cli_user_opts *o, struct buf *out, struct buf *err)
{
	const char *domain = cli_accounts_domain_of(address);
	char *hash = NULL, *maildir = NULL;
	int rc;

	/* check what can be checked before asking for the password */
	if (add && domain != NULL) {
		rc = accounts_domain_exists(ca->acc, domain, err);
		if (rc == ACCOUNTS_NOTFOUND) {
			(void)!buf_printf(err,
			    "domain \"%s\" does not exist "
			    "(add it with: mailwright domain add %s)",
			    domain, domain);
			return rc;
		}
		if (rc != ACCOUNTS_OK)
			return rc;
	}
	rc = accounts_user_get(ca->acc, address, NULL, err);
	if (add && rc == ACCOUNTS_OK) {
		buf_reset(err);
		(void)!buf_printf(err,
		    "user \"%s\" already exists (change "
		    "its password with: mailwright user passwd %s)",
		    address, address);
		return ACCOUNTS_EXISTS;
	}
	if (add ? rc != ACCOUNTS_NOTFOUND : rc != ACCOUNTS_OK)
		return rc;
	buf_reset(err);
	hash = cli_user_new_hash(address, o, err);
	if (hash == NULL)
		return ACCOUNTS_ERROR;
	rc = add ? accounts_user_add(ca->acc, address, hash, err)
	         : accounts_user_set_password(ca->acc, address, hash, err);
	if (rc == ACCOUNTS_OK) {
		if (add)
			cli_user_make_maildir(ca->conf, address);
		maildir = cli_user_maildir(ca->conf, address);
		if (add)
			rc = buf_printf(out,
			    "user %s added (mail goes to "
			    "%s)\n",
			    address, maildir);
		else
			rc = buf_printf(
			    out, "password of %s changed\n", address);
	}
	free(maildir);
	free(hash);
	return rc;
}

static int
cli_user_show(struct cli_accounts *ca, const char *address, struct buf *out,
    struct buf *err)
{
	struct buf hash;
	const char *scheme;
	char *stored = NULL, *maildir = NULL;
	int rc;

	buf_init(&hash, 4096);
	rc = accounts_user_get(ca->acc, address, &hash, err);
	if (rc != ACCOUNTS_OK)
		goto out;
	stored = cli_user_stored_address(ca->acc, address);
	maildir = cli_user_maildir(ca->conf, address);
	scheme = password_scheme(buf_cstr(&hash));
	rc = buf_printf(out, "address: %s\nmaildir: %s\npassword scheme: %s\n",
	    stored != NULL ? stored : address, maildir,
	    scheme != NULL ? scheme : "unknown");
out:
	buf_wipe(&hash);
	buf_free(&hash);
	free(stored);
	free(maildir);
	return rc;
}

static int
cli_user_del(struct cli_accounts *ca, const char *address, struct buf *out,
    struct buf *err)
{
	char *maildir;
	int rc;

	rc = accounts_user_del(ca->acc, address, err);
	if (rc != ACCOUNTS_OK)
		return rc;
	/* mail is not thrown away by a typo: the admin removes it */
	maildir = cli_user_maildir(ca->conf, address);
	rc = buf_printf(out,
	    "user %s deleted; its mail stays in %s (remove "
	    "that directory when it is no longer needed)\n",
	    address, maildir);
	free(maildir);
	return rc;
}

static int
cli_user_list(struct cli_accounts *ca, const char *domain, struct buf *out,
    struct buf *err)
{
	int rc;

	if (domain != NULL) {
		rc = accounts_domain_exists(ca->acc, domain, err);
		if (rc == ACCOUNTS_NOTFOUND)
			(void)!buf_printf(err,
			    "domain \"%s\" does not exist "
			    "(see: mailwright domain list)",
			    domain);
		if (rc != ACCOUNTS_OK)
			return rc;
	}
	return accounts_user_list(ca->acc, domain, out, err);
}

int
cli_user(const struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_accounts ca;
	struct cli_user_opts opts = { "ARGON2ID", false };
	struct buf out, err;
	const char *sub = argc >= 2 ? argv[1] : "";
	bool set = strcmp(sub, "add") == 0 || strcmp(sub, "passwd") == 0;
	int rc, ret = CLI_EXIT_FAIL, i, j;

	/* user add|passwd [--scheme ARGON2ID|SCRAM-SHA-256] [--hashed] ADDR */
	for (i = j = 2; set && i < argc; i++) {
		if (strcmp(argv[i], "--hashed") == 0)
			opts.hashed = true;
		else if (strcmp(argv[i], "--scheme") == 0 && i + 1 < argc) {
			opts.scheme = argv[++i];
			if (!ascii_eq(opts.scheme, "ARGON2ID") &&
			    !ascii_eq(opts.scheme, "SCRAM-SHA-256")) {
				cli_accounts_fail("unknown --scheme \"%s\" "
				                  "(use ARGON2ID or "
				                  "SCRAM-SHA-256)",
				    opts.scheme);
				return CLI_EXIT_USAGE;
			}
		} else
			argv[j++] = argv[i];
	}
	if (set)
		argc = j;

	if (set && argc > 3) {
		cli_accounts_fail("user %s reads the password from standard "
		                  "input, never from the command line",
		    sub);
		return CLI_EXIT_USAGE;
	}
	if (!((set && argc == 3) || (strcmp(sub, "del") == 0 && argc == 3) ||
	        (strcmp(sub, "show") == 0 && argc == 3) ||
	        (strcmp(sub, "list") == 0 && (argc == 2 || argc == 3)))) {
		cli_accounts_fail(
		    "usage: mailwright user add|passwd [--scheme "
		    "ARGON2ID|SCRAM-SHA-256] [--hashed] ADDRESS | user "
		    "del|show ADDRESS | user list [DOMAIN] (passwords are "
		    "read from standard input)");
		return CLI_EXIT_USAGE;
	}
	if (argc == 3 && strcmp(sub, "list") != 0 &&
	    cli_accounts_domain_of(argv[2]) == NULL) {
		cli_accounts_fail("\"%s\" is not an address of the form "
		                  "user@domain",
		    argv[2]);
		return CLI_EXIT_FAIL;
	}
	if (cli_accounts_open(ctx, false, &ca) == -1)
		return CLI_EXIT_FAIL;
	buf_init(&out, BUF_MAX_DEFAULT);
	buf_init(&err, 4096);
	if (set)
		rc = cli_user_set(
		    &ca, strcmp(sub, "add") == 0, argv[2], &opts, &out, &err);
	else if (strcmp(sub, "del") == 0)
		rc = cli_user_del(&ca, argv[2], &out, &err);
	else if (strcmp(sub, "show") == 0)
		rc = cli_user_show(&ca, argv[2], &out, &err);
	else
		rc = cli_user_list(&ca, argc == 3 ? argv[2] : NULL, &out, &err);
	if (rc != 0) {
		cli_accounts_fail(
		    "%s", err.len > 0 ? buf_cstr(&err) : strerror(errno));
		goto out;
	}
	if (out.len > 0 &&
	    (fwrite(out.data, 1, out.len, stdout) != out.len ||
	        fflush(stdout) == EOF)) {
		cli_accounts_fail(
		    "cannot write to standard output: %s", strerror(errno));
		goto out;
	}
	ret = CLI_EXIT_OK;
out:
	buf_free(&out);
	buf_free(&err);
	cli_accounts_close(&ca);
	return ret;
}
