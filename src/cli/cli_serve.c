/*
 * `mailwright [-c FILE] serve`: runs the mail system in the foreground.
 * The work is the master's (src/master/); this only checks the command
 * line.
 */
#include <stdio.h>

#include "cli/cli.h"
#include "master/master.h"

int
cli_serve(const struct cli_ctx *ctx, int argc, char **argv)
{
	if (argc > 1) {
		(void)fprintf(stderr,
		    "mailwright: serve takes no arguments (usage: mailwright [-c FILE] serve)\n");
		return 2;
	}
	(void)argv;
	return master_main(ctx->config_path);
}
