/*
 * `mailwright queue ...`: the administrator's view of the queue (Postfix's
 * postqueue and postsuper). This file holds the commands that talk to the
 * running queue manager:
 *
 *	queue flush [-d DOMAIN]   retry deferred mail now (postqueue -f / -s)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_accounts_private.h"
#include "lib/buf.h"
#include "lib/conf.h"
#include "queue/queue_file.h"

static int
cli_queue_usage(void)
{
	cli_accounts_fail("usage: mailwright queue flush [-d DOMAIN]");
	return CLI_EXIT_USAGE;
}

static int
cli_queue_flush(const struct conf *conf, int argc, char **argv)
{
	const char *domain = NULL;

	if (argc == 3 && strcmp(argv[1], "-d") == 0)
		domain = argv[2];
	else if (argc != 1)
		return cli_queue_usage();
	if (queue_flush(conf->queue_directory, domain) == -1) {
		cli_accounts_fail("queue flush: cannot reach the queue manager "
		                  "in %s: %s (is `mailwright serve` running?)",
		    conf->queue_directory, strerror(errno));
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}

int
cli_queue(const struct cli_ctx *ctx, int argc, char **argv)
{
	struct conf *conf;
	struct buf err;
	int ret;

	if (argc < 2)
		return cli_queue_usage();
	buf_init(&err, 4096);
	conf = conf_load(ctx->config_path, &err);
	if (conf == NULL) {
		cli_accounts_fail("%s", buf_cstr(&err));
		buf_free(&err);
		return CLI_EXIT_FAIL;
	}
	buf_free(&err);
	if (strcmp(argv[1], "flush") == 0)
		ret = cli_queue_flush(conf, argc - 1, argv + 1);
	else
		ret = cli_queue_usage();
	conf_free(&conf);
	return ret;
}
