/*
 * `mailwright domain add|del|list` and `mailwright alias add|del|list`,
 * and the helpers the user command shares (cli_accounts_private.h). The
 * data and its checks are auth/accounts.c's; this file parses arguments,
 * prints results and picks exit statuses (0 done, 1 failed, 2 usage).
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/accounts.h"
#include "cli/cli.h"
#include "cli/cli_accounts_private.h"
#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "lib/xalloc.h"

void
cli_accounts_fail(const char *fmt, ...)
{
	struct buf b;
	va_list ap;

	buf_init(&b, 4096);
	va_start(ap, fmt);
	if (buf_vprintf(&b, fmt, ap) == -1)
		buf_reset(&b);
	va_end(ap);
	/* one line: whatever the text holds, no newline gets through */
	(void)fprintf(stderr, "mailwright: %s\n",
	    log_sanitize(b.data != NULL ? b.data : "", b.len));
	buf_free(&b);
}

const char *
cli_accounts_domain_of(const char *address)
{
	const char *at = strrchr(address, '@');

	return at != NULL && at[1] != '\0' ? at + 1 : NULL;
}

/* A database this command just created belongs to mail_owner, who runs
 * the services (as mailwright init does it). */
static void
cli_accounts_chown_new(const struct conf *conf)
{
	static const char *const suffixes[] = { "", "-wal", "-shm" };
	struct passwd *pw;
	char *path;
	size_t i;

	if (geteuid() != 0 || conf->mail_owner == NULL ||
	    conf->mail_owner[0] == '\0')
		return;
	pw = getpwnam(conf->mail_owner);
	if (pw == NULL) {
		(void)fprintf(stderr,
		    "mailwright: warning: mail_owner \"%s\" "
		    "does not exist: %s stays root's\n",
		    log_sanitize_str(conf->mail_owner),
		    conf->accounts_database);
		return;
	}
	for (i = 0; i < MW_NELEM(suffixes); i++) {
		path = xasprintf("%s%s", conf->accounts_database, suffixes[i]);
		if (lchown(path, pw->pw_uid, pw->pw_gid) == -1 &&
		    errno != ENOENT)
			(void)fprintf(stderr,
			    "mailwright: warning: cannot "
			    "chown %s: %s\n",
			    path, strerror(errno));
		free(path);
	}
}

int
cli_accounts_open(
    const struct cli_ctx *ctx, bool create, struct cli_accounts *ca)
{
	struct buf err;
	bool existed;

	ca->conf = NULL;
	ca->acc = NULL;
	buf_init(&err, 4096);
	ca->conf = conf_load(ctx->config_path, &err);
	if (ca->conf == NULL) {
		cli_accounts_fail("%s", buf_cstr(&err));
		goto fail;
	}
	existed = fs_exists(ca->conf->accounts_database);
	ca->acc = accounts_open(ca->conf->accounts_database, create, &err);
	if (ca->acc == NULL) {
		cli_accounts_fail("%s", buf_cstr(&err));
		goto fail;
	}
	if (!existed)
		cli_accounts_chown_new(ca->conf);
	buf_free(&err);
	return 0;
fail:
	buf_free(&err);
	cli_accounts_close(ca);
	return -1;
}

void
cli_accounts_close(struct cli_accounts *ca)
{
	accounts_close(&ca->acc);
	conf_free(&ca->conf);
}

int
cli_become_mail_owner(const struct conf *conf)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return 0;
	if ((pw = getpwnam(conf->mail_owner)) == NULL) {
		cli_accounts_fail(
		    "mail_owner %s does not exist (set mail_owner "
		    "in %s)",
		    conf->mail_owner, conf->config_file);
		return -1;
	}
	if (setgroups(1, &pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1) {
		cli_accounts_fail("cannot become mail_owner %s: %s",
		    conf->mail_owner, strerror(errno));
		return -1;
	}
	return 0;
}

/* Prints out (a list that ends in '\n', or nothing) to stdout. */
static int
cli_accounts_print(const struct buf *out)
{
	if (out->len > 0 && fwrite(out->data, 1, out->len, stdout) != out->len)
		return -1;
	return fflush(stdout) == EOF ? -1 : 0;
}

static void
cli_domain_usage(void)
{
	cli_accounts_fail("usage: mailwright domain add DOMAIN | domain del "
	                  "DOMAIN | domain list");
}

int
cli_domain(const struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_accounts ca;
	struct buf out, err;
	const char *sub = argc >= 2 ? argv[1] : "";
	char *domain;
	int rc, ret = CLI_EXIT_FAIL;

	if (!((strcmp(sub, "add") == 0 && argc == 3) ||
	        (strcmp(sub, "del") == 0 && argc == 3) ||
	        (strcmp(sub, "list") == 0 && argc == 2))) {
		cli_domain_usage();
		return CLI_EXIT_USAGE;
	}
	if (cli_accounts_open(ctx, strcmp(sub, "add") == 0, &ca) == -1)
		return CLI_EXIT_FAIL;
	buf_init(&out, BUF_MAX_DEFAULT);
	buf_init(&err, 4096);
	domain = xstrdup(argc == 3 ? argv[2] : "");
	ascii_lower(domain); /* stored lowercased: say it as stored */
	if (strcmp(sub, "add") == 0) {
		rc = accounts_domain_add(ca.acc, domain, &err);
		if (rc == ACCOUNTS_OK)
			rc = buf_printf(&out, "domain %s added\n", domain);
	} else if (strcmp(sub, "del") == 0) {
		rc = accounts_domain_del(ca.acc, domain, &err);
		if (rc == ACCOUNTS_OK)
			rc = buf_printf(&out, "domain %s deleted\n", domain);
	} else
		rc = accounts_domain_list(ca.acc, &out, &err);
	if (rc != 0) {
		cli_accounts_fail(
		    "%s", err.len > 0 ? buf_cstr(&err) : strerror(errno));
		goto out;
	}
	if (cli_accounts_print(&out) == -1) {
		cli_accounts_fail(
		    "cannot write to standard output: %s", strerror(errno));
		goto out;
	}
	ret = CLI_EXIT_OK;
out:
	free(domain);
	buf_free(&out);
	buf_free(&err);
	cli_accounts_close(&ca);
	return ret;
}

static void
cli_alias_usage(void)
{
	cli_accounts_fail("usage: mailwright alias add ADDRESS TARGET... | "
	                  "alias del ADDRESS | alias list");
}

/* True when domain is local: in mydestination or in accounts.db. */
static int
cli_alias_domain_local(
    struct cli_accounts *ca, const char *domain, struct buf *err)
{
	if (conf_list_has(&ca->conf->mydestination, domain))
		return ACCOUNTS_OK;
	return accounts_domain_exists(ca->acc, domain, err);
}

/*
 * alias add: a target without a domain gets the alias's own domain, as
 * names in alias_maps files do, so "alias add sales@example.org bob" means
 * bob@example.org.
 */
static int
cli_alias_add(struct cli_accounts *ca, const char *address, int ntargets,
    char **targets, struct buf *out, struct buf *err)
{
	const char *domain = cli_accounts_domain_of(address);
	struct buf list;
	char **full, *p, *nl;
	int i, rc, wr;

	if (domain == NULL) {
		(void)!buf_printf(err,
		    "\"%s\" is not an address of the form "
		    "user@domain",
		    address);
		return ACCOUNTS_ERROR;
	}
	rc = cli_alias_domain_local(ca, domain, err);
	if (rc == ACCOUNTS_NOTFOUND) {
		buf_reset(err);
		(void)!buf_printf(err,
		    "domain \"%s\" is not local (add it "
		    "with: mailwright domain add %s)",
		    domain, domain);
	}
	if (rc != ACCOUNTS_OK)
		return rc;
	full = xcalloc((size_t)ntargets, sizeof(*full));
	for (i = 0; i < ntargets; i++)
		full[i] = strchr(targets[i], '@') != NULL
		    ? xstrdup(targets[i])
		    : xasprintf("%s@%s", targets[i], domain);
	rc = accounts_alias_add(
	    ca->acc, address, (const char *const *)full, (size_t)ntargets, err);
	for (i = 0; i < ntargets; i++)
		free(full[i]);
	free(full);
	if (rc != ACCOUNTS_OK)
		return rc;
	/* show the alias as it now is, merged with earlier targets:
	 * "alias sales@example.org: a@example.org, b@example.org" */
	buf_init(&list, BUF_MAX_DEFAULT);
	rc = accounts_alias_get(ca->acc, address, &list, err);
	if (rc == ACCOUNTS_OK) {
		wr = buf_printf(out, "alias %s:", address);
		for (p = list.data; wr == 0 && (nl = strchr(p, '\n')) != NULL;
		     p = nl + 1)
			wr = buf_printf(out, "%s %.*s",
			    p == list.data ? "" : ",", (int)(nl - p), p);
		if (wr == -1 || buf_append_char(out, '\n') == -1)
			rc = ACCOUNTS_ERROR;
	}
	buf_free(&list);
	return rc;
}

int
cli_alias(const struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_accounts ca;
	struct buf out, err;
	const char *sub = argc >= 2 ? argv[1] : "";
	int rc, ret = CLI_EXIT_FAIL;

	if (!((strcmp(sub, "add") == 0 && argc >= 4) ||
	        (strcmp(sub, "del") == 0 && argc == 3) ||
	        (strcmp(sub, "list") == 0 && argc == 2))) {
		cli_alias_usage();
		return CLI_EXIT_USAGE;
	}
	if (cli_accounts_open(ctx, strcmp(sub, "add") == 0, &ca) == -1)
		return CLI_EXIT_FAIL;
	buf_init(&out, BUF_MAX_DEFAULT);
	buf_init(&err, 4096);
	if (strcmp(sub, "add") == 0)
		rc =
		    cli_alias_add(&ca, argv[2], argc - 3, argv + 3, &out, &err);
	else if (strcmp(sub, "del") == 0) {
		rc = accounts_alias_del(ca.acc, argv[2], &err);
		if (rc == ACCOUNTS_OK)
			rc = buf_printf(&out, "alias %s deleted\n", argv[2]);
	} else
		rc = accounts_alias_list(ca.acc, &out, &err);
	if (rc != 0) {
		cli_accounts_fail(
		    "%s", err.len > 0 ? buf_cstr(&err) : strerror(errno));
		goto out;
	}
	if (cli_accounts_print(&out) == -1) {
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
