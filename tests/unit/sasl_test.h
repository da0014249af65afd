/*
 * What test_sasl.c and test_sasl_scram.c share: a fixture with the
 * challenge and scratch buffers, and steps that base64-encode the client's
 * response and decode the server's challenge. Included once per test
 * executable.
 */
#ifndef TESTS_UNIT_SASL_TEST_H
#define TESTS_UNIT_SASL_TEST_H

#include "auth/sasl.h"
#include "lib/base64.h"
#include "lib/buf.h"

#define MAX_RESPONSE 12288 /* far above any response these tests send */

struct fixture {
	struct buf out, tmp;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	buf_init(&f->out, SASL_CHALLENGE_MAX);
	buf_init(&f->tmp, 65536);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	buf_free(&f->out);
	buf_free(&f->tmp);
	free(f);
	return 0;
}

/* Steps with the base64 of raw[0..n). */
static enum sasl_result
step_raw(struct fixture *f, struct sasl_server *s, const void *raw, size_t n)
{
	buf_reset(&f->tmp);
	assert_int_equal(base64_encode(&f->tmp, raw, n), 0);
	return sasl_server_step(s, buf_cstr(&f->tmp), f->tmp.len, &f->out);
}

static enum sasl_result
step_str(struct fixture *f, struct sasl_server *s, const char *text)
{
	return step_raw(f, s, text, strlen(text));
}

/* The decoded challenge in out, as a C string in tmp. */
static const char *
challenge(struct fixture *f)
{
	buf_reset(&f->tmp);
	assert_int_equal(base64_decode(&f->tmp, f->out.data, f->out.len), 0);
	return buf_cstr(&f->tmp);
}

#endif
