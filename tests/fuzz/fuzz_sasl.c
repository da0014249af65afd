/*
 * libFuzzer target for the SASL server mechanisms and the strict base64
 * decoder. The first byte picks the mechanism and the caller's answers
 * (initial response or not, password right or wrong, SCRAM credentials
 * known or not) and whether the harness base64-encodes the lines first
 * (so that mutations reach the mechanisms' parsers); the rest is split at
 * '\n' into the client's lines. Each step's promises are checked: challenges
 * are canonical base64 within SASL_CHALLENGE_MAX, the identities are bounded
 * NUL-free UTF-8, a final result ends the exchange and only SASL_SUCCESS names
 * a user. The SCRAM server nonce is fixed so that RFC 7677's exchange can be
 * replayed.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/sasl.h"
#include "lib/base64.h"
#include "lib/buf.h"
#include "lib/mailaddr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

/* RFC 7677 3: user "user", password "pencil" */
#define FUZZ_STORED                                                            \
	"{SCRAM-SHA-256}4096,W22ZaJ0SNY7soEsUEjb6gQ==,"                        \
	"WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=,"                        \
	"wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="
#define FUZZ_SNONCE       "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define FUZZ_MAX_RESPONSE 512

static const char *const fuzz_mechs[] = { "PLAIN", "LOGIN", "SCRAM-SHA-256" };

static void
check_field(const char *s)
{
	size_t n, i, c;

	CHECK(s != NULL);
	n = strlen(s);
	CHECK(n <= SASL_FIELD_MAX);
	for (i = 0; i < n; i += c) {
		c = mailaddr_utf8_len(s + i, n - i);
		CHECK(c != 0);
	}
}

static void
check_challenge(const struct buf *out)
{
	struct buf dec;

	CHECK(out->len <= SASL_CHALLENGE_MAX);
	buf_init(&dec, SASL_CHALLENGE_MAX);
	CHECK(base64_decode(&dec, buf_cstr(out), out->len) == 0);
	buf_free(&dec);
}

/* The next line of the input, or false when there is none. */
static bool
next_line(const uint8_t **p, const uint8_t *end, const char **line, size_t *len)
{
	const uint8_t *nl;

	if (*p > end)
		return false;
	nl = memchr(*p, '\n', (size_t)(end - *p));
	*line = (const char *)*p;
	*len = nl != NULL ? (size_t)(nl - *p) : (size_t)(end - *p);
	*p = nl != NULL ? nl + 1 : end + 1;
	return true;
}

/* Steps with line, base64-encoded first when encode is set. */
static enum sasl_result
step_line(struct sasl_server *s, const char *line, size_t len, bool encode,
    struct buf *out)
{
	struct buf enc;
	enum sasl_result r;

	if (!encode)
		return sasl_server_step(s, line, len, out);
	buf_init(&enc, base64_encoded_len(len));
	CHECK(base64_encode(&enc, line, len) == 0);
	r = sasl_server_step(s, buf_cstr(&enc), enc.len, out);
	buf_free(&enc);
	return r;
}

static void
fuzz_exchange(uint8_t flags, const uint8_t *p, const uint8_t *end)
{
	struct sasl_server *s;
	enum sasl_result r;
	struct buf out;
	const char *line;
	size_t len;
	bool encode = (flags & 32) != 0;
	int steps = 0;

	s = sasl_server_new(fuzz_mechs[flags % 3], FUZZ_MAX_RESPONSE);
	CHECK(s != NULL);
	sasl_server_set_nonce(s, FUZZ_SNONCE);
	buf_init(&out, SASL_CHALLENGE_MAX);
	if ((flags & 4) != 0 && next_line(&p, end, &line, &len))
		r = step_line(s, line, len, encode, &out);
	else
		r = sasl_server_step(s, NULL, 0, &out);
	for (;;) {
		CHECK(++steps < 64);
		switch (r) {
		case SASL_CHALLENGE:
			check_challenge(&out);
			CHECK(sasl_server_username(s) == NULL);
			if (!next_line(&p, end, &line, &len))
				goto out;
			r = step_line(s, line, len, encode, &out);
			continue;
		case SASL_NEED_PASSWORD_CHECK:
			check_field(sasl_server_authcid(s));
			check_field(sasl_server_authzid(s));
			check_field(sasl_server_password(s));
			CHECK(sasl_server_password(s)[0] != '\0');
			r = sasl_server_password_result(s, (flags & 8) != 0);
			CHECK(sasl_server_password(s) == NULL);
			continue;
		case SASL_NEED_CREDENTIALS:
			check_field(sasl_server_authcid(s));
			r = sasl_server_set_credentials(
			    s, (flags & 16) != 0 ? FUZZ_STORED : NULL, &out);
			CHECK(r == SASL_CHALLENGE);
			continue;
		case SASL_SUCCESS:
			check_field(sasl_server_username(s));
			CHECK(strcmp(sasl_server_username(s),
			          sasl_server_authcid(s)) == 0);
			goto out;
		case SASL_FAIL_SYNTAX:
		case SASL_FAIL_AUTH:
		case SASL_CANCEL:
			CHECK(sasl_server_username(s) == NULL);
			CHECK(sasl_server_reason(s) != NULL);
			goto out;
		}
		abort();
	}
out:
	buf_free(&out);
	sasl_server_free(&s);
	CHECK(s == NULL);
}

/* Whatever decodes encodes back to the same text (one canonical form). */
static void
fuzz_base64(const uint8_t *data, size_t size)
{
	struct buf dec, enc;

	buf_init(&dec, size);
	buf_init(&enc, size + 4);
	if (base64_decode(&dec, (const char *)data, size) == 0) {
		CHECK(dec.len <= base64_decoded_max(size));
		CHECK(base64_encode(&enc, dec.data, dec.len) == 0);
		CHECK(enc.len == size);
		CHECK(size == 0 || memcmp(enc.data, data, size) == 0);
	} else
		CHECK(dec.len == 0);
	buf_free(&dec);
	buf_free(&enc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	fuzz_exchange(data[0], data + 1, data + size);
	fuzz_base64(data + 1, size - 1);
	return 0;
}
