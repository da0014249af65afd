/*
 * mailwright: one executable, several roles. Dispatches on the command
 * (or on argv[0] for the compatibility names sendmail, mailq and
 * newaliases: the basename of a symlink) after taking the global "-c FILE"
 * option from anywhere before "--".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/conf.h"
#include "lib/log.h"
#include "store/store.h"

struct command {
	const char *name;
	int (*fn)(const struct cli_ctx *, int, char **);
	const char *help;
};

// clang-format off
static const struct command commands[] = {
	{ "serve",      cli_serve,      "run the mail system in the foreground" },
	{ "init",       cli_init,       "init DIR [--domain D] [--hostname H]: create an instance" },
	{ "conf",       cli_conf,       "show or edit the configuration (like postconf)" },
	{ "domain",     cli_domain,     "domain add|del|list: local domains" },
	{ "user",       cli_user,       "user add|del|passwd|list|show: mailboxes" },
	{ "alias",      cli_alias,      "alias add|del|list: aliases" },
	{ "newaliases", cli_newaliases, "compile the alias_maps files" },
	{ "queue",      cli_queue,      "queue list|show|delete|hold|release|requeue|flush: the mail queue" },
	{ "mailq",      cli_mailq,      "mailq [--json]: list the mail queue (as Postfix's mailq)" },
	{ "sendmail",   cli_sendmail,   "sendmail [-t] [-i] [-f SENDER] [RCPT...]: post a message (sendmail(1))" },
	{ "map",        cli_map,        "map FILE | map -q KEY FILE: compile or query a lookup table" },
	{ "index",      cli_index,      "index rebuild|show USER: a user's mail index" },
	{ NULL, NULL, NULL },
};
// clang-format on

static void
usage(FILE *f)
{
	const struct command *c;

	fprintf(f, "usage: mailwright [-c FILE] COMMAND [ARGS]\n\ncommands:\n");
	for (c = commands; c->name != NULL; c++)
		fprintf(f, "  %-11s %s\n", c->name, c->help);
}

static const char *
base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s != NULL ? s + 1 : p;
}

int
main(int argc, char **argv)
{
	struct cli_ctx ctx = { conf_default_path(), false };
	const struct command *c;
	const char *prog = base_name(argv[0]);
	int i, j;

	log_set_service("cli");
	store_library_init();
	/* -c FILE may come before or after the command (not after "--"). */
	for (i = 1, j = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			while (i < argc)
				argv[j++] = argv[i++];
			break;
		}
		if (strcmp(argv[i], "-c") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "mailwright: -c needs a file name\n");
				return 2;
			}
			ctx.config_path = argv[++i];
			ctx.config_given = true;
			continue;
		}
		argv[j++] = argv[i];
	}
	argc = j;
	argv[argc] = NULL;

	/* Compatibility names chosen by argv[0] (symlinks). */
	if (strcmp(prog, "newaliases") == 0)
		return cli_newaliases(&ctx, argc, argv);
	if (strcmp(prog, "mailq") == 0)
		return cli_mailq(&ctx, argc, argv);
	if (strcmp(prog, "sendmail") == 0)
		return cli_sendmail(&ctx, argc, argv);

	if (argc < 2 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (c = commands; c->name != NULL; c++)
		if (strcmp(c->name, argv[1]) == 0)
			return c->fn(&ctx, argc - 1, argv + 1);
	fprintf(stderr, "mailwright: unknown command \"%s\" (try: mailwright help)\n",
	    argv[1]);
	return 2;
}
