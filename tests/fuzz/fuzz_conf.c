/*
 * libFuzzer target for the configuration: the input bytes are a
 * configuration file, run through the parser, the expander and the value
 * checks (conf_load_data) under small limits, and through the -e/-X editor,
 * whose result must parse whenever the input did.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/conf_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

// clang-format off
static const struct conf_limits fuzz_limits = {
	.line_max   = 1024,
	.file_max   = 8192,
	.value_max  = 4096,
	.expand_max = 65536,
	.depth_max  = 20,
};

static const struct conf_edit fuzz_edits[] = {
	{ "myhostname", "x.example" },
	{ "a", NULL },
	{ "smtpd_banner", "$myhostname ${a?yes} $$" },
};
// clang-format on

static void
fuzz_edit(const char *text, size_t len)
{
	struct conf_file before = { NULL, 0, 0 }, after = { NULL, 0, 0 };
	const struct conf_def *d;
	struct buf out, err, warn;

	buf_init(&out, 1 << 20);
	buf_init(&err, 4096);
	buf_init(&warn, 65536);
	if (conf_edit_text(
	        text, len, fuzz_edits, MW_NELEM(fuzz_edits), &out, &warn) == -1)
		abort(); /* the output has room for input and edits */
	if (conf_parse("fuzz", text, len, &fuzz_limits, &before, &err) == 0) {
		/* an edit never breaks a file that parsed */
		if (conf_parse("fuzz", buf_cstr(&out), out.len, &fuzz_limits,
		        &after, &err) == -1)
			abort();
		d = conf_file_find(&after, "myhostname");
		if (d == NULL || strcmp(d->value, "x.example") != 0)
			abort();
		if (conf_file_find(&after, "a") != NULL)
			abort();
	}
	conf_file_free(&before);
	conf_file_free(&after);
	buf_free(&out);
	buf_free(&err);
	buf_free(&warn);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf err, warn;
	struct conf *c;
	const char *text = (const char *)data;

	buf_init(&err, 4096);
	buf_init(&warn, 65536);
	c = conf_load_data("fuzz", text, size, &fuzz_limits, &err, &warn);
	if (c == NULL && err.len == 0)
		abort(); /* a failure always says why */
	if (c != NULL && (c->myhostname == NULL || c->smtpd_banner == NULL))
		abort();
	conf_free(&c);
	buf_free(&err);
	buf_free(&warn);
	if (size <= fuzz_limits.file_max)
		fuzz_edit(text, size);
	return 0;
}
