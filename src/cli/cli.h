/*
 * Entry points of the commands of the one mailwright binary. main.c strips
 * the global "-c FILE" and calls one of these with argv[0] = the command
 * name. Each returns the process exit status: 0 on success; on failure it
 * has printed one line "mailwright: what is wrong (how to fix)" to stderr.
 */
#ifndef CLI_CLI_H
#define CLI_CLI_H

#include <stdbool.h>

struct cli_ctx {
	const char *config_path; /* -c, $MAILWRIGHT_CONFIG or the default */
	bool config_given;       /* -c was on the command line */
};

int cli_serve(const struct cli_ctx *ctx, int argc, char **argv);
int cli_init(const struct cli_ctx *ctx, int argc, char **argv);
int cli_conf(const struct cli_ctx *ctx, int argc, char **argv);
int cli_domain(const struct cli_ctx *ctx, int argc, char **argv);
int cli_user(const struct cli_ctx *ctx, int argc, char **argv);
int cli_alias(const struct cli_ctx *ctx, int argc, char **argv);
int cli_newaliases(const struct cli_ctx *ctx, int argc, char **argv);
int cli_map(const struct cli_ctx *ctx, int argc, char **argv);
int cli_queue(const struct cli_ctx *ctx, int argc, char **argv);
int cli_index(const struct cli_ctx *ctx, int argc, char **argv);
/* The queue in Postfix's mailq layout (`mailq [--json]`); as mailq and
 * sendmail -bp, exit statuses are sysexits(3)'s. */
int cli_mailq(const struct cli_ctx *ctx, int argc, char **argv);
/* sendmail(1): also chosen by argv[0] "sendmail", "mailq", "newaliases";
 * exit statuses are sysexits(3)'s. */
int cli_sendmail(const struct cli_ctx *ctx, int argc, char **argv);

#endif
