/*
 * libFuzzer target for xtext (RFC 3461 4) and the DSN parameter values
 * (RFC 3461 4.1-4.4, RFC 6533 3). Decoding then encoding then decoding
 * gives the same bytes, encoding then decoding gives the input back, and
 * NOTIFY, RET, ENVID and ORCPT results keep their rules and limits; on
 * failure the output buffers are left as they were.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/mailaddr.h"
#include "queue/xtext.h"
#include "smtp/smtp_dsn_param.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

static void
check_xtext_chars(const struct buf *b)
{
	size_t i;

	for (i = 0; i < b->len; i++) {
		unsigned char c = (unsigned char)b->data[i];

		CHECK(c >= '!' && c <= '~' && c != '=');
		if (c == '+') {
			CHECK(i + 2 < b->len);
			CHECK(strchr("0123456789ABCDEF", b->data[i + 1]));
			CHECK(strchr("0123456789ABCDEF", b->data[i + 2]));
			i += 2;
		}
	}
}

static void
fuzz_xtext(const char *p, size_t n)
{
	struct buf dec, enc, dec2, small;

	/* room for any result: decoding never grows, encoding triples */
	buf_init(&dec, n);
	buf_init(&enc, 3 * n);
	buf_init(&dec2, n);
	if (xtext_decode(p, n, &dec) == 0) {
		CHECK(dec.len <= n);
		CHECK(memchr(dec.data != NULL ? dec.data : "", '\0', dec.len) ==
		    NULL);
		CHECK(xtext_encode(dec.data, dec.len, &enc) == 0);
		check_xtext_chars(&enc);
		CHECK(xtext_decode(enc.data, enc.len, &dec2) == 0);
		CHECK(dec2.len == dec.len &&
		    (dec.len == 0 ||
		        memcmp(dec.data, dec2.data, dec.len) == 0));
	} else {
		CHECK(errno == EINVAL && dec.len == 0);
	}
	buf_reset(&enc);
	buf_reset(&dec2);
	CHECK(xtext_encode(p, n, &enc) == 0);
	check_xtext_chars(&enc);
	if (memchr(p, '\0', n) == NULL) {
		CHECK(xtext_decode(enc.data, enc.len, &dec2) == 0);
		CHECK(
		    dec2.len == n && (n == 0 || memcmp(dec2.data, p, n) == 0));
	} else
		CHECK(xtext_decode(enc.data, enc.len, &dec2) == -1);
	/* a small buffer: all or nothing */
	buf_init(&small, n % 13);
	if (xtext_encode(p, n, &small) == 0)
		CHECK(small.len == enc.len);
	else
		CHECK(
		    errno == ENOBUFS && small.len == 0 && enc.len > small.max);
	buf_free(&small);
	buf_free(&dec);
	buf_free(&enc);
	buf_free(&dec2);
}

static bool
printable_from(const struct buf *b, size_t from)
{
	size_t i;

	for (i = from; i < b->len; i++)
		if ((unsigned char)b->data[i] < 0x20 ||
		    (unsigned char)b->data[i] > 0x7e)
			return false;
	return true;
}

static void
fuzz_params(const char *v)
{
	const unsigned notify_list =
	    DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE | DSN_NOTIFY_DELAY;
	struct buf out, type, addr;
	const char *err;
	unsigned flags;
	size_t i, k;
	int ret;

	if (dsn_parse_notify(v, &flags) == 0)
		CHECK(flags == DSN_NOTIFY_NEVER ||
		    (flags != 0 && (flags & ~notify_list) == 0));
	if (dsn_parse_ret(v, &ret) == 0)
		CHECK(ret == 1 || ret == 2);

	buf_init(&out, 64);
	CHECK(buf_append_str(&out, "x") == 0);
	if (dsn_parse_envid(v, &out, &err) == 0) {
		CHECK(strlen(v) <= 100 && out.len > 1 && out.len <= 1 + 100);
		CHECK(printable_from(&out, 1));
	} else
		CHECK(err != NULL && out.len == 1);
	buf_free(&out);

	buf_init(&type, 16);
	buf_init(&addr, 256);
	CHECK(buf_append_str(&type, "t") == 0);
	CHECK(buf_append_str(&addr, "a") == 0);
	if (dsn_parse_orcpt(v, &type, &addr, &err) == 0) {
		CHECK(type.len > 1 && addr.len > 1);
		for (i = 1; i < type.len; i++)
			CHECK(!(type.data[i] >= 'A' && type.data[i] <= 'Z') &&
			    type.data[i] > ' ' && type.data[i] < 0x7f &&
			    type.data[i] != ';');
		if (strcmp(type.data + 1, "utf-8") != 0)
			CHECK(printable_from(&addr, 1));
		else
			for (i = 1; i < addr.len; i += k) {
				CHECK((unsigned char)addr.data[i] >= 0x20 &&
				    addr.data[i] != 0x7f);
				k = mailaddr_utf8_len(
				    addr.data + i, addr.len - i);
				CHECK(k > 0);
			}
	} else
		CHECK(err != NULL && type.len == 1 && addr.len == 1);
	buf_free(&type);
	buf_free(&addr);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *v;

	fuzz_xtext((const char *)data, size);
	/* the parameter parsers take a string: up to the first NUL */
	v = malloc(size + 1);
	if (v == NULL)
		return 0;
	memcpy(v, data, size);
	v[size] = '\0';
	fuzz_params(v);
	free(v);
	return 0;
}
