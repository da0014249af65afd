/*
 * `mailwright index rebuild|show USER`: the administrator's tools for a
 * user's mail index (store/store.h):
 *
 *	index rebuild USER   rebuild the index from the Maildir, keeping the
 *	                     UIDs of a readable index (else dovecot-uidlist)
 *	index show USER      the INBOX as the index sees it: UIDVALIDITY,
 *	                     the next UID, and per message uid, UIDL, size
 *	                     (with CRLF line ends) and flags
 *
 * USER is local@domain; the Maildir is where delivery puts it
 * (resolve_user_maildir). Run as root, the command first becomes
 * mail_owner, so that an index it creates belongs to the services.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/cli_accounts_private.h"
#include "delivery/resolve.h"
#include "lib/buf.h"
#include "lib/conf.h"
#include "store/maildir_name.h"
#include "store/store.h"

static int
cli_index_usage(void)
{
	cli_accounts_fail("usage: mailwright index rebuild USER | index show "
	                  "USER (USER is local@domain)");
	return CLI_EXIT_USAGE;
}

/* "DFRS" and keyword letters, or "-" for none. */
static void
cli_index_flags(const struct store_msg *m, char out[40])
{
	static const uint32_t order[] = { STORE_FLAG_DRAFT, STORE_FLAG_FLAGGED,
		STORE_FLAG_PASSED, STORE_FLAG_ANSWERED, STORE_FLAG_SEEN,
		STORE_FLAG_DELETED };
	size_t i, n = 0;

	for (i = 0; i < MW_NELEM(order); i++)
		if (m->flags & order[i])
			out[n++] = maildir_flag_letter(order[i]);
	for (i = 0; i < STORE_MAX_KEYWORDS; i++)
		if (m->keywords & (1u << i))
			out[n++] = (char)('a' + i);
	if (n == 0)
		out[n++] = '-';
	out[n] = '\0';
}

static int
cli_index_show(const char *maildir, struct buf *err)
{
	struct store *st = NULL;
	struct store_mailbox *mb = NULL;
	char flags[40];
	size_t i;
	int ret = -1;

	/* read-only: looking does not move new/ to cur/ */
	if (store_open(maildir, &st, err) == -1 ||
	    store_mailbox_open(st, "INBOX", true, &mb, err) == -1)
		goto out;
	printf("maildir: %s\nuidvalidity: %u\nuidnext: %u\n"
	       "highestmodseq: %llu\ncount: %zu\nsize: %llu\n",
	    maildir, store_mailbox_uidvalidity(mb), store_mailbox_uidnext(mb),
	    (unsigned long long)store_mailbox_highestmodseq(mb),
	    store_mailbox_count(mb),
	    (unsigned long long)store_mailbox_vsize(mb));
	for (i = 0; i < store_mailbox_count(mb); i++) {
		const struct store_msg *m = store_mailbox_msg(mb, i);

		cli_index_flags(m, flags);
		printf("%u %s %llu %s\n", m->uid, m->uidl,
		    (unsigned long long)m->vsize, flags);
	}
	if (fflush(stdout) == EOF) {
		(void)!buf_printf(err, "cannot write to standard output: %s",
		    strerror(errno));
		goto out;
	}
	ret = 0;
out:
	store_mailbox_close(&mb);
	store_close(&st);
	return ret;
}

int
cli_index(const struct cli_ctx *ctx, int argc, char **argv)
{
	struct conf *conf = NULL;
	struct buf err;
	struct stat sb;
	char *maildir = NULL;
	int ret = CLI_EXIT_FAIL;
	bool rebuild;

	if (argc != 3 ||
	    (strcmp(argv[1], "rebuild") != 0 && strcmp(argv[1], "show") != 0))
		return cli_index_usage();
	rebuild = strcmp(argv[1], "rebuild") == 0;
	buf_init(&err, 4096);
	if ((conf = conf_load(ctx->config_path, &err)) == NULL) {
		cli_accounts_fail("%s", buf_cstr(&err));
		goto out;
	}
	maildir = resolve_user_maildir(conf->mail_directory, argv[2]);
	if (maildir == NULL) {
		cli_accounts_fail("\"%s\" is not an address of the form "
		                  "user@domain",
		    argv[2]);
		ret = CLI_EXIT_USAGE;
		goto out;
	}
	if (cli_become_mail_owner(conf) == -1)
		goto out;
	if (stat(maildir, &sb) == -1) {
		if (errno == ENOENT)
			cli_accounts_fail("%s has no Maildir yet (%s: it is "
			                  "made by the first delivery)",
			    argv[2], maildir);
		else
			cli_accounts_fail("%s: %s (run it as root or as "
			                  "mail_owner %s)",
			    maildir, strerror(errno), conf->mail_owner);
		goto out;
	}
	if (rebuild ? store_index_rebuild(maildir, &err)
	            : cli_index_show(maildir, &err)) {
		cli_accounts_fail("%s%s",
		    err.len > 0 ? buf_cstr(&err) : strerror(errno),
		    errno == EACCES ? " (run it as root or as mail_owner)"
		                    : "");
		goto out;
	}
	if (rebuild)
		printf("index of %s rebuilt from %s\n", argv[2], maildir);
	ret = CLI_EXIT_OK;
out:
	free(maildir);
	conf_free(&conf);
	buf_free(&err);
	return ret;
}
