/* Unit tests of src/lib/base64.c: RFC 4648 10 vectors, every malformed
 * shape the strict decoder refuses, ceilings, round trips. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
/* cmocka.h needs the headers above first */
// clang-format off
#include <cmocka.h>
// clang-format on

#include "lib/base64.h"
#include "lib/buf.h"

struct vector {
	const char *plain;
	const char *encoded;
};

// clang-format off
/* RFC 4648 10 */
static const struct vector rfc4648_vectors[] = {
	{ "",       "" },
	{ "f",      "Zg==" },
	{ "fo",     "Zm8=" },
	{ "foo",    "Zm9v" },
	{ "foob",   "Zm9vYg==" },
	{ "fooba",  "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" },
};
// clang-format on

static void
test_base64_encode_rfc4648_vectors(void **state)
{
	struct buf b;
	size_t i;

	(void)state;
	buf_init(&b, 1024);
	for (i = 0; i < sizeof(rfc4648_vectors) / sizeof(rfc4648_vectors[0]);
	     i++) {
		const struct vector *v = &rfc4648_vectors[i];

		buf_reset(&b);
		assert_int_equal(
		    base64_encode(&b, v->plain, strlen(v->plain)), 0);
		assert_string_equal(buf_cstr(&b), v->encoded);
		assert_int_equal(b.len, base64_encoded_len(strlen(v->plain)));
	}
	buf_free(&b);
}

static void
test_base64_decode_rfc4648_vectors(void **state)
{
	struct buf b;
	size_t i;

	(void)state;
	buf_init(&b, 1024);
	for (i = 0; i < sizeof(rfc4648_vectors) / sizeof(rfc4648_vectors[0]);
	     i++) {
		const struct vector *v = &rfc4648_vectors[i];

		buf_reset(&b);
		assert_int_equal(
		    base64_decode(&b, v->encoded, strlen(v->encoded)), 0);
		assert_int_equal(b.len, strlen(v->plain));
		assert_memory_equal(buf_cstr(&b), v->plain, b.len);
		assert_true(b.len <= base64_decoded_max(strlen(v->encoded)));
	}
	buf_free(&b);
}

static void
test_base64_decode_appends(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 1024);
	assert_int_equal(buf_append_str(&b, "x:"), 0);
	assert_int_equal(base64_decode(&b, "Zm9v", 4), 0);
	assert_string_equal(buf_cstr(&b), "x:foo");
	buf_free(&b);
}

// clang-format off
static const char *const bad_inputs[] = {
	"Z",            /* not a multiple of 4 */
	"Zg",
	"Zg=",
	"Zm9vY",
	"Zm9v\r\n",     /* line break */
	"Zm9v ",        /* trailing space */
	" Zm9v",
	"Zm 9v",
	"Zm9\tv",
	"Zg==Zg==",     /* padding in the middle */
	"Z===",         /* three pad characters */
	"====",
	"=Zg=",
	"Z=g=",
	"Zh==",         /* non-zero bits under the padding (RFC 4648 3.5) */
	"Zm9=",
	"Zm-v",         /* base64url alphabet */
	"Zm_v",
	"Zm9v=",
	"Zm9v.===",
	"Zm\xc3\xa9",   /* 8-bit */
	"*",            /* a cancel is not base64 */
	"=",            /* nor is RFC 4954's empty initial response */
};
// clang-format on

static void
test_base64_decode_rejects_non_canonical(void **state)
{
	struct buf b;
	size_t i;

	(void)state;
	buf_init(&b, 1024);
	for (i = 0; i < sizeof(bad_inputs) / sizeof(bad_inputs[0]); i++) {
		assert_int_equal(buf_append_str(&b, "keep"), 0);
		errno = 0;
		if (base64_decode(&b, bad_inputs[i], strlen(bad_inputs[i])) !=
		    -1)
			fail_msg("accepted \"%s\"", bad_inputs[i]);
		assert_int_equal(errno, EINVAL);
		assert_string_equal(buf_cstr(&b), "keep"); /* unchanged */
		buf_reset(&b);
	}
	buf_free(&b);
}

static void
test_base64_decode_rejects_embedded_nul(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 1024);
	assert_int_equal(base64_decode(&b, "Zm\0v", 4), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(base64_decode(&b, "Zg=\0", 4), -1);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

/* Every octet value through encode and back, at each length mod 3. */
static void
test_base64_round_trip_all_octets(void **state)
{
	unsigned char in[256];
	struct buf enc, dec;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(255 - i);
	buf_init(&enc, 4096);
	buf_init(&dec, 4096);
	for (n = 0; n <= sizeof(in); n++) {
		buf_reset(&enc);
		buf_reset(&dec);
		assert_int_equal(base64_encode(&enc, in, n), 0);
		assert_int_equal(enc.len, base64_encoded_len(n));
		assert_int_equal(base64_decode(&dec, enc.data, enc.len), 0);
		assert_int_equal(dec.len, n);
		if (n > 0)
			assert_memory_equal(dec.data, in, n);
	}
	buf_free(&enc);
	buf_free(&dec);
}

/* The ceiling of out at max-1, max, max+1 of the result's length. */
static void
test_base64_ceiling(void **state)
{
	static const struct {
		const char *label;
		size_t max;
		int ret;
	} rows[] = {
		{ "decode max-1", 5, -1 },
		{ "decode max", 6, 0 },
		{ "decode max+1", 7, 0 },
	};
	struct buf b;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		buf_init(&b, rows[i].max);
		errno = 0;
		if (base64_decode(&b, "Zm9vYmFy", 8) != rows[i].ret)
			fail_msg("%s", rows[i].label);
		if (rows[i].ret == -1) {
			assert_int_equal(errno, ENOBUFS);
			assert_int_equal(b.len, 0);
		} else
			assert_string_equal(buf_cstr(&b), "foobar");
		buf_free(&b);

		/* encoding "foob" takes 8 characters */
		buf_init(&b, rows[i].max + 2);
		errno = 0;
		if (base64_encode(&b, "foob", 4) != rows[i].ret)
			fail_msg("encode %s", rows[i].label);
		if (rows[i].ret == -1) {
			assert_int_equal(errno, ENOBUFS);
			assert_int_equal(b.len, 0);
		} else
			assert_string_equal(buf_cstr(&b), "Zm9vYg==");
		buf_free(&b);
	}
}

static void
test_base64_lengths(void **state)
{
	(void)state;
	assert_int_equal(base64_encoded_len(0), 0);
	assert_int_equal(base64_encoded_len(1), 4);
	assert_int_equal(base64_encoded_len(3), 4);
	assert_int_equal(base64_encoded_len(4), 8);
	assert_int_equal(base64_decoded_max(0), 0);
	assert_int_equal(base64_decoded_max(4), 3);
	assert_int_equal(base64_decoded_max(5), 6);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64_encode_rfc4648_vectors),
		cmocka_unit_test(test_base64_decode_rfc4648_vectors),
		cmocka_unit_test(test_base64_decode_appends),
		cmocka_unit_test(test_base64_decode_rejects_non_canonical),
		cmocka_unit_test(test_base64_decode_rejects_embedded_nul),
		cmocka_unit_test(test_base64_round_trip_all_octets),
		cmocka_unit_test(test_base64_ceiling),
		cmocka_unit_test(test_base64_lengths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
