/*
 * What test_conf.c and test_conf_values.c share: loading a configuration
 * from text and checking lists. Included once per test executable.
 */
#ifndef TESTS_UNIT_CONF_TEST_H
#define TESTS_UNIT_CONF_TEST_H

#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/conf_parse.h"

#define LABEL "mailwright.cf"

/* Loads text; err and warn are (re)initialised and owned by the caller. */
static struct conf *
load(const char *text, struct buf *err, struct buf *warn)
{
	buf_init(err, 4096);
	buf_init(warn, 1 << 20);
	return conf_load_data(LABEL, text, strlen(text), NULL, err, warn);
}

/* Loads text that must fail; returns the error line (caller frees). */
static char *
load_error(const char *text)
{
	struct buf err, warn;
	struct conf *c = load(text, &err, &warn);

	assert_null(c);
	buf_free(&warn);
	return buf_steal(&err);
}

/* Loads text that must succeed with no warnings. */
static struct conf *
load_ok(const char *text)
{
	struct buf err, warn;
	struct conf *c = load(text, &err, &warn);

	if (c == NULL)
		fail_msg("load failed: %s", buf_cstr(&err));
	assert_string_equal(buf_cstr(&warn), "");
	buf_free(&err);
	buf_free(&warn);
	return c;
}

static void
assert_list(const struct conf_list *l, const char *const *want, size_t n)
{
	size_t i;

	assert_int_equal(l->n, n);
	for (i = 0; i < n; i++)
		assert_string_equal(l->items[i], want[i]);
}

#endif
