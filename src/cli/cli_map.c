/*
 * `mailwright map`: the postmap(1) of mailwright (policy/maptable.c does
 * the work).
 *
 *   mailwright map [TYPE:]FILE...        compile hash: tables into
 *                                        FILE.db; check the others
 *   mailwright map -q KEY [TYPE:]FILE... print the value of KEY (the first
 *                                        table that has it wins)
 *   mailwright map -q - [TYPE:]FILE...   look up each line of stdin and
 *                                        print "key<TAB>value" for those
 *                                        found
 *
 * As postmap: a bare FILE is hash:FILE; -q exits 0 when found and 1 when
 * not (saying nothing). Errors are one line "mailwright: FILE:LINE: what
 * is wrong" with exit status 1; a wrong command line exits 2. The
 * configuration is not read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_accounts_private.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "policy/maptable.h"

/* A key read from stdin: as long as a mail address may be, with room. */
#define CLI_MAP_KEY_MAX 4096

static int
cli_map_usage(void)
{
	cli_accounts_fail("usage: mailwright map [TYPE:]FILE... | mailwright "
	                  "map -q KEY|- [TYPE:]FILE...");
	return CLI_EXIT_USAGE;
}

/* Prints each warning line (duplicate keys) to stderr. */
static void
cli_map_warnings(const struct buf *warn)
{
	size_t i = 0, e;

	while (i < warn->len) {
		for (e = i; e < warn->len && warn->data[e] != '\n'; e++)
			;
		(void)fprintf(stderr, "mailwright: warning: %.*s\n",
		    (int)(e - i), warn->data + i);
		i = e + 1;
	}
}

static int
cli_map_compile(int n, char **specs)
{
	struct buf err, warn;
	enum maptable_type type;
	const char *path;
	size_t count;
	int i, ret = CLI_EXIT_OK;

	buf_init(&err, 4096);
	buf_init(&warn, 1024 * 1024);
	for (i = 0; i < n; i++) {
		buf_reset(&err);
		buf_reset(&warn);
		if (maptable_spec_parse(specs[i], &type, &path, &err) == -1 ||
		    maptable_compile(specs[i], &count, &warn, &err) == -1) {
			cli_accounts_fail("%s", buf_cstr(&err));
			ret = CLI_EXIT_FAIL;
			continue;
		}
		cli_map_warnings(&warn);
		if (type == MAPTABLE_HASH)
			(void)printf("%s.db: %zu entr%s\n", path, count,
			    count == 1 ? "y" : "ies");
		else
			(void)printf("%s:%s: %zu %s, nothing to compile\n",
			    maptable_type_name(type), path, count,
			    type == MAPTABLE_TEXTHASH
			        ? (count == 1 ? "entry" : "entries")
			        : (count == 1 ? "rule" : "rules"));
	}
	buf_free(&err);
	buf_free(&warn);
	return ret;
}

/* Looks key up in the tables in order. 0 found (value in value), 1 not
 * found, -1 after printing why. */
static int
cli_map_lookup(
    struct maptable **tables, int n, const char *key, struct buf *value)
{
	struct buf err;
	int i, rc = 1;

	buf_init(&err, 4096);
	for (i = 0; i < n && rc == 1; i++) {
		rc = maptable_lookup(tables[i], key, value, &err);
		if (rc == -1)
			cli_accounts_fail("%s", buf_cstr(&err));
	}
	buf_free(&err);
	return rc;
}

/* -q -: one key a line from stdin. */
static int
cli_map_query_stdin(struct maptable **tables, int n, struct buf *value)
{
	char line[CLI_MAP_KEY_MAX + 2];
	size_t len;
	int rc, ret = CLI_EXIT_FAIL;

	while (fgets(line, sizeof(line), stdin) != NULL) {
		len = strlen(line);
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		else if (!feof(stdin)) {
			cli_accounts_fail("a key on stdin is longer than %d "
			                  "bytes",
			    CLI_MAP_KEY_MAX);
			return CLI_EXIT_FAIL;
		}
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		rc = cli_map_lookup(tables, n, line, value);
		if (rc == -1)
			return CLI_EXIT_FAIL;
		if (rc == 0) {
			(void)printf("%s\t%s\n", line, buf_cstr(value));
			ret = CLI_EXIT_OK;
		}
	}
	return ret;
}

static int
cli_map_query(const char *key, int n, char **specs)
{
	struct maptable **tables = calloc((size_t)n, sizeof(*tables));
	struct buf err, value;
	int i, rc, ret = CLI_EXIT_FAIL;

	if (tables == NULL) {
		cli_accounts_fail("out of memory");
		return CLI_EXIT_FAIL;
	}
	buf_init(&err, 4096);
	buf_init(&value, 1024 * 1024);
	for (i = 0; i < n; i++) {
		tables[i] = maptable_open(specs[i], &err);
		if (tables[i] == NULL) {
			cli_accounts_fail("%s", buf_cstr(&err));
			goto out;
		}
	}
	if (strcmp(key, "-") == 0)
		ret = cli_map_query_stdin(tables, n, &value);
	else {
		rc = cli_map_lookup(tables, n, key, &value);
		if (rc == 0) {
			(void)printf("%s\n", buf_cstr(&value));
			ret = CLI_EXIT_OK;
		}
	}
out:
	for (i = 0; i < n; i++)
		maptable_free(&tables[i]);
	free(tables);
	buf_free(&err);
	buf_free(&value);
	return ret;
}

int
cli_map(const struct cli_ctx *ctx, int argc, char **argv)
{
	int ret;

	(void)ctx;
	if (argc >= 2 &&
	    (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		(void)printf("usage: mailwright map [TYPE:]FILE...\n"
		             "       mailwright map -q KEY|- [TYPE:]FILE...\n"
		             "TYPE is hash (the default), texthash, cidr, "
		             "regexp or pcre\n");
		return CLI_EXIT_OK;
	}
	if (argc >= 2 && strcmp(argv[1], "-q") == 0) {
		if (argc < 4)
			return cli_map_usage();
		ret = cli_map_query(argv[2], argc - 3, argv + 3);
	} else {
		if (argc < 2 || argv[1][0] == '-')
			return cli_map_usage();
		ret = cli_map_compile(argc - 1, argv + 1);
	}
	if (fflush(stdout) == EOF)
		ret = CLI_EXIT_FAIL;
	return ret;
}
