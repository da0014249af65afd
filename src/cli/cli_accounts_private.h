/*
 * What the account commands (cli_accounts.c: domain and alias; cli_user.c:
 * user) share: loading the configuration, opening accounts.db, and the one
 * line "mailwright: ..." error shape of cli.h.
 */
#ifndef CLI_CLI_ACCOUNTS_PRIVATE_H
#define CLI_CLI_ACCOUNTS_PRIVATE_H

#include <stdbool.h>

#include "lib/mw.h"

struct accounts;
struct cli_ctx;
struct conf;

/* Exit statuses of cli.h. */
#define CLI_EXIT_OK    0
#define CLI_EXIT_FAIL  1
#define CLI_EXIT_USAGE 2

struct cli_accounts {
	struct conf *conf;
	struct accounts *acc;
};

/* Prints "mailwright: <text>\n" to stderr. */
void cli_accounts_fail(const char *fmt, ...) MW_PRINTF(1, 2);
/*
 * Loads the configuration and opens its accounts_database (create: and
 * creates it, handing a new file to mail_owner when run as root). 0, or
 * -1 after printing why.
 */
int cli_accounts_open(
    const struct cli_ctx *ctx, bool create, struct cli_accounts *ca);
void cli_accounts_close(struct cli_accounts *ca);
/* Run as root: becomes mail_owner for good, so that what the command
 * writes (queue files, a mail index) stays the services'. 0, or -1
 * after printing why. Does nothing for other users. */
int cli_become_mail_owner(const struct conf *conf);
/* The part after the last '@' of address, or NULL (borrowed). */
const char *cli_accounts_domain_of(const char *address);

#endif
