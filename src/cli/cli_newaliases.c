/*
 * `mailwright newaliases` (also `newaliases` through a symlink): compiles
 * each alias map into PATH.db (delivery/aliases_db.c does the work). As in
 * Postfix, the maps compiled are alias_database, which defaults to
 * $alias_maps. A map whose file does not exist is reported and skipped: no
 * file means no aliases.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "cli/cli_accounts_private.h"
#include "delivery/aliases_db.h"
#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/log.h"

int
cli_newaliases(const struct cli_ctx *ctx, int argc, char **argv)
{
	const struct conf_list *maps;
	struct conf *conf;
	struct buf err;
	size_t i, count;
	char *path;
	int ret = CLI_EXIT_OK;

	if (argc > 1) {
		cli_accounts_fail(
		    "usage: mailwright newaliases (it takes no "
		    "arguments; the maps are alias_database in %s)",
		    ctx->config_path);
		return CLI_EXIT_USAGE;
	}
	buf_init(&err, 4096);
	conf = conf_load(ctx->config_path, &err);
	if (conf == NULL) {
		cli_accounts_fail("%s", buf_cstr(&err));
		buf_free(&err);
		return CLI_EXIT_FAIL;
	}
	maps = conf->alias_database.n > 0 ? &conf->alias_database
	                                  : &conf->alias_maps;
	for (i = 0; i < maps->n; i++) {
		buf_reset(&err);
		path = aliases_db_map_path(maps->items[i], &err);
		if (path == NULL) {
			cli_accounts_fail("%s", buf_cstr(&err));
			ret = CLI_EXIT_FAIL;
			continue;
		}
		switch (aliases_db_compile(path, &count, &err)) {
		case 0:
			(void)printf("%s.db: %zu alias%s\n", path, count,
			    count == 1 ? "" : "es");
			break;
		case 1:
			(void)printf("%s does not exist: no aliases\n", path);
			break;
		default:
			cli_accounts_fail("%s", buf_cstr(&err));
			ret = CLI_EXIT_FAIL;
			break;
		}
		free(path);
	}
	if (fflush(stdout) == EOF)
		ret = CLI_EXIT_FAIL;
	conf_free(&conf);
	buf_free(&err);
	return ret;
}
