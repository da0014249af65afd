/*
 * What the IMAP parser tests share: running text through an imap_reader in
 * chunks of a given size, keeping every literal that fits and refusing the
 * others, up to the first command or error. Included once per executable.
 */
#ifndef TESTS_UNIT_IMAP_TEST_H
#define TESTS_UNIT_IMAP_TEST_H

#include <string.h>

#include "imap/imap_command.h"
#include "imap/imap_parse.h"

#define S(s) s, sizeof(s) - 1

/* Small limits for the tests: each is hit easily. */
static const struct imap_limits imap_test_lim = {
	.line_max = 200,
	.literal_max = 100,
	.command_max = 1000,
	.args_max = 50,
	.depth_max = 5,
	.arena_max = 64 * 1024,
};

struct imap_test_run {
	enum imap_read ev; /* IMAP_READ_COMMAND or IMAP_READ_ERROR */
	bool refused;      /* a literal was over and got refused */
	size_t literals;   /* announcements seen */
	size_t used;       /* input consumed up to the event */
	const struct imap_command *cmd;
	struct imap_parse_err err;
	struct imap_slice tag;
};

/*
 * Feeds in[0..n) to r, chunk bytes at a time (0: all at once) with a cut
 * at offset cut (0: none), until a command, an error or a refused
 * literal; returns what happened. The command lives until r is fed again.
 */
static inline struct imap_test_run
imap_test_feed_cut(
    struct imap_reader *r, const char *in, size_t n, size_t chunk, size_t cut)
{
	struct imap_test_run run = { .ev = IMAP_READ_MORE };
	size_t pos = 0, used, len;

	while (pos <= n) {
		len = n - pos;
		if (chunk > 0 && len > chunk)
			len = chunk;
		if (pos < cut && pos + len > cut)
			len = cut - pos; /* the first piece ends at cut */
		run.ev = imap_reader_feed(r, in + pos, len, &used);
		pos += used;
		switch (run.ev) {
		case IMAP_READ_MORE:
			if (pos == n)
				goto out;
			break;
		case IMAP_READ_LITERAL:
			run.literals++;
			if (imap_reader_literal(r)->over) {
				imap_reader_literal_refuse(r);
				run.refused = true;
				goto out;
			}
			if (imap_reader_literal_take(r, IMAP_LITERAL_KEEP) != 0)
				fail_msg("take refused a literal that fits");
			break;
		case IMAP_READ_DATA:
		case IMAP_READ_LINE:
			goto out;
		case IMAP_READ_COMMAND:
			run.cmd = imap_reader_command(r);
			goto out;
		case IMAP_READ_ERROR:
			run.err = *imap_reader_error(r, &run.tag);
			goto out;
		}
	}
out:
	run.used = pos;
	return run;
}

static inline struct imap_test_run
imap_test_feed(struct imap_reader *r, const char *in, size_t n, size_t chunk)
{
	return imap_test_feed_cut(r, in, n, chunk, 0);
}

/* Long lines, but the other limits as imap_test_lim. */
static const struct imap_limits imap_test_lim_long = {
	.line_max = 8192,
	.literal_max = 100,
	.command_max = 8192,
	.args_max = 50,
	.depth_max = 5,
	.arena_max = 64 * 1024,
};

/* One command through a fresh reader; the reader is returned for the
 * command's lifetime (free it after the checks). */
static inline struct imap_test_run
imap_test_one_lim(struct imap_reader **r, const struct imap_limits *lim,
    const char *in, size_t n, bool utf8)
{
	struct imap_parse_opts opts = { .utf8 = utf8, .literal_plus = true };

	*r = imap_reader_new(lim, &opts);
	return imap_test_feed(*r, in, n, 0);
}

static inline struct imap_test_run
imap_test_one(struct imap_reader **r, const char *in, size_t n, bool utf8)
{
	return imap_test_one_lim(r, &imap_test_lim, in, n, utf8);
}

static inline bool
imap_test_slice_eq(struct imap_slice s, const char *want)
{
	return s.n == strlen(want) && memcmp(s.p, want, s.n) == 0;
}

#define assert_slice(s, want)                                                  \
	do {                                                                   \
		if (!imap_test_slice_eq((s), (want)))                          \
			fail_msg("got \"%.*s\", want \"%s\"", (int)(s).n,      \
			    (s).p != NULL ? (s).p : "", (want));               \
	} while (0)

#endif
