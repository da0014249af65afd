/*
 * The SASL server's common steps (decoding responses, cancel, limits,
 * accessors) and the PLAIN and LOGIN mechanisms. SCRAM-SHA-256 lives in
 * sasl_scram.c; verifying passwords and looking up credentials is the
 * caller's (see sasl.h).
 */
#include "auth/sasl.h"

#include <stdlib.h>
#include <string.h>

#include "auth/sasl_private.h"
#include "lib/base64.h"
#include "lib/buf.h"
#include "lib/mailaddr.h"
#include "lib/parse.h"
#include "lib/xalloc.h"

/* LOGIN's challenges: base64 of "Username:" and "Password:" */
#define SASL_LOGIN_USERNAME "VXNlcm5hbWU6"
#define SASL_LOGIN_PASSWORD "UGFzc3dvcmQ6"

struct sasl_mech_def {
	const char *name;
	enum sasl_mech mech;
};

// clang-format off
static const struct sasl_mech_def sasl_mechs[] = {
	{ "PLAIN",         SASL_MECH_PLAIN },
	{ "LOGIN",         SASL_MECH_LOGIN },
	{ "SCRAM-SHA-256", SASL_MECH_SCRAM_SHA256 },
};
// clang-format on

static const struct sasl_mech_def *
sasl_mech_find(const char *mech)
{
	size_t i;

	if (mech == NULL)
		return NULL;
	for (i = 0; i < MW_NELEM(sasl_mechs); i++)
		/* RFC 4422 3.1: mechanism names are case-insensitive */
		if (ascii_eq(mech, sasl_mechs[i].name))
			return &sasl_mechs[i];
	return NULL;
}

bool
sasl_mech_supported(const char *mech)
{
	return sasl_mech_find(mech) != NULL;
}

struct sasl_server *
sasl_server_new(const char *mech, size_t max_response)
{
	const struct sasl_mech_def *def;
	struct sasl_server *s;

	def = sasl_mech_find(mech);
	if (def == NULL)
		return NULL;
	s = xcalloc(1, sizeof(*s));
	s->mech = def->mech;
	s->state = SASL_STATE_START;
	s->max_response = max_response;
	/* a decoded response is shorter than its base64 */
	buf_init(&s->dec, max_response);
	buf_init(&s->authcid, SASL_FIELD_MAX);
	buf_init(&s->authzid, SASL_FIELD_MAX);
	buf_init(&s->password, SASL_FIELD_MAX);
	buf_init(&s->gs2_header, max_response);
	buf_init(&s->client_first, max_response);
	buf_init(&s->server_first, SASL_CHALLENGE_MAX);
	buf_init(&s->nonce, 2 * SASL_FIELD_MAX);
	return s;
}

void
sasl_wipe(struct buf *b)
{
	buf_wipe(b);
	buf_reset(b);
}

void
sasl_server_free(struct sasl_server **sp)
{
	struct sasl_server *s = *sp;
	struct buf *bufs[8];
	size_t i;

	if (s == NULL)
		return;
	bufs[0] = &s->dec;
	bufs[1] = &s->authcid;
	bufs[2] = &s->authzid;
	bufs[3] = &s->password;
	bufs[4] = &s->gs2_header;
	bufs[5] = &s->client_first;
	bufs[6] = &s->server_first;
	bufs[7] = &s->nonce;
	for (i = 0; i < MW_NELEM(bufs); i++) {
		buf_wipe(bufs[i]);
		buf_free(bufs[i]);
	}
	explicit_bzero(&s->cred, sizeof(s->cred));
	free(s->test_nonce);
	free(s);
	*sp = NULL;
}

const char *
sasl_server_mech(const struct sasl_server *s)
{
	size_t i;

	for (i = 0; i < MW_NELEM(sasl_mechs); i++)
		if (sasl_mechs[i].mech == s->mech)
			return sasl_mechs[i].name;
	log_panic("sasl: unknown mechanism %d", (int)s->mech);
}

enum sasl_result
sasl_finish(struct sasl_server *s, enum sasl_result r, const char *reason)
{
	s->state = SASL_STATE_DONE;
	s->success = r == SASL_SUCCESS;
	if (reason != NULL)
		s->reason = reason;
	sasl_wipe(&s->dec);
	sasl_wipe(&s->password);
	return r;
}

void
sasl_challenge(struct buf *out, const void *p, size_t n)
{
	buf_reset(out);
	/* our challenges are bounded: a smaller out is the caller's bug */
	MW_ASSERT(base64_encode(out, p, n) == 0);
}

/*
 * Decodes a response into s->dec and returns 0, or finishes the exchange
 * with *r_out set and returns -1. RFC 4954 4: "*" cancels; in the AUTH
 * command itself, "=" stands for an empty initial response. Anything else
 * must be canonical base64 within max_response.
 */
static int
sasl_decode(struct sasl_server *s, const char *resp, size_t len, bool initial,
    enum sasl_result *r_out)
{
	sasl_wipe(&s->dec);
	if (len > s->max_response) {
		*r_out = sasl_finish(s, SASL_FAIL_SYNTAX, "response too long");
		return -1;
	}
	if (!initial && len == 1 && resp[0] == '*') {
		*r_out = sasl_finish(s, SASL_CANCEL, "cancelled by the client");
		return -1;
	}
	if (initial && len == 1 && resp[0] == '=')
		return 0; /* decoded: empty */
	if (base64_decode(&s->dec, resp, len) == -1) {
		*r_out = sasl_finish(s, SASL_FAIL_SYNTAX, "invalid base64");
		return -1;
	}
	return 0;
}

/* RFC 4616 2: 1..255 (0..255 if may_be_empty) octets of UTF-8, no NUL. */
static bool
sasl_field_ok(const char *p, size_t n, bool may_be_empty)
{
	size_t i, c;

	if (n > SASL_FIELD_MAX || (n == 0 && !may_be_empty))
		return false;
	for (i = 0; i < n; i += c) {
		if (p[i] == '\0')
			return false;
		c = mailaddr_utf8_len(p + i, n - i);
		if (c == 0)
			return false;
	}
	return true;
}

/* Copies a checked field into b. */
static void
sasl_set_field(struct buf *b, const char *p, size_t n)
{
	sasl_wipe(b);
	MW_ASSERT(buf_append(b, p, n) == 0); /* n <= SASL_FIELD_MAX */
}

/* We do not act for others: an authzid must name the authcid itself. */
static bool
sasl_authzid_ok(const struct sasl_server *s)
{
	return s->authzid.len == 0 ||
	    (s->authzid.len == s->authcid.len &&
	        ascii_eq_n(s->authzid.data, s->authcid.data, s->authcid.len));
}

/*
 * RFC 4616 2: message = [authzid] UTF8NUL authcid UTF8NUL passwd, each
 * field 1..255 octets of UTF-8 without NUL (authzid may be empty).
 */
static enum sasl_result
sasl_plain(struct sasl_server *s)
{
	const char *p = s->dec.data, *nul1, *nul2, *end;

	if (s->dec.len == 0)
		return sasl_finish(s, SASL_FAIL_SYNTAX, "empty PLAIN message");
	end = p + s->dec.len;
	nul1 = memchr(p, '\0', s->dec.len);
	if (nul1 == NULL)
		return sasl_finish(s, SASL_FAIL_SYNTAX, "PLAIN without NUL");
	nul2 = memchr(nul1 + 1, '\0', (size_t)(end - nul1 - 1));
	if (nul2 == NULL)
		return sasl_finish(s, SASL_FAIL_SYNTAX, "PLAIN with one NUL");
	if (!sasl_field_ok(p, (size_t)(nul1 - p), true) ||
	    !sasl_field_ok(nul1 + 1, (size_t)(nul2 - nul1 - 1), false) ||
	    !sasl_field_ok(nul2 + 1, (size_t)(end - nul2 - 1), false))
		return sasl_finish(
		    s, SASL_FAIL_SYNTAX, "malformed PLAIN field");
	sasl_set_field(&s->authzid, p, (size_t)(nul1 - p));
	sasl_set_field(&s->authcid, nul1 + 1, (size_t)(nul2 - nul1 - 1));
	s->have_authcid = true;
	if (!sasl_authzid_ok(s))
		return sasl_finish(s, SASL_FAIL_AUTH,
		    "authorization identity differs from the user");
	sasl_set_field(&s->password, nul2 + 1, (size_t)(end - nul2 - 1));
	sasl_wipe(&s->dec);
	s->state = SASL_STATE_PASSWORD;
	return SASL_NEED_PASSWORD_CHECK;
}

/* LOGIN's user name, then the "Password:" challenge. */
static enum sasl_result
sasl_login_user(struct sasl_server *s, struct buf *out)
{
	if (!sasl_field_ok(s->dec.data, s->dec.len, false))
		return sasl_finish(s, SASL_FAIL_SYNTAX, "malformed LOGIN user");
	sasl_set_field(&s->authcid, s->dec.data, s->dec.len);
	s->have_authcid = true;
	sasl_wipe(&s->dec);
	buf_reset(out);
	MW_ASSERT(buf_append_str(out, SASL_LOGIN_PASSWORD) == 0);
	s->state = SASL_STATE_LOGIN_PASS;
	return SASL_CHALLENGE;
}

static enum sasl_result
sasl_login_pass(struct sasl_server *s)
{
	if (!sasl_field_ok(s->dec.data, s->dec.len, false))
		return sasl_finish(
		    s, SASL_FAIL_SYNTAX, "malformed LOGIN password");
	sasl_set_field(&s->password, s->dec.data, s->dec.len);
	sasl_wipe(&s->dec);
	s->state = SASL_STATE_PASSWORD;
	return SASL_NEED_PASSWORD_CHECK;
}

/* The first call: the AUTH command's initial response, or NULL. */
static enum sasl_result
sasl_start(struct sasl_server *s, const char *resp, size_t len, struct buf *out)
{
	enum sasl_result r;

	if (resp == NULL) {
		buf_reset(out);
		switch (s->mech) {
		case SASL_MECH_PLAIN:
			s->state = SASL_STATE_PLAIN; /* RFC 4954 4: "334 " */
			break;
		case SASL_MECH_LOGIN:
			MW_ASSERT(
			    buf_append_str(out, SASL_LOGIN_USERNAME) == 0);
			s->state = SASL_STATE_LOGIN_USER;
			break;
		case SASL_MECH_SCRAM_SHA256:
			s->state = SASL_STATE_SCRAM_FIRST;
			break;
		}
		return SASL_CHALLENGE;
	}
	if (sasl_decode(s, resp, len, true, &r) == -1)
		return r;
	switch (s->mech) {
	case SASL_MECH_PLAIN:
		return sasl_plain(s);
	case SASL_MECH_LOGIN:
		return sasl_login_user(s, out);
	case SASL_MECH_SCRAM_SHA256:
		return sasl_scram_client_first(s);
	}
	log_panic("sasl: unknown mechanism %d", (int)s->mech);
}

enum sasl_result
sasl_server_step(
    struct sasl_server *s, const char *resp, size_t len, struct buf *out)
{
	enum sasl_result r;

	if (s->state == SASL_STATE_START)
		return sasl_start(s, resp, len, out);
	MW_ASSERT(resp != NULL);
	switch (s->state) {
	case SASL_STATE_PLAIN:
	case SASL_STATE_LOGIN_USER:
	case SASL_STATE_LOGIN_PASS:
	case SASL_STATE_SCRAM_FIRST:
	case SASL_STATE_SCRAM_FINAL:
	case SASL_STATE_SCRAM_ACK:
		break;
	default:
		log_panic("sasl: step in state %d", (int)s->state);
	}
	if (sasl_decode(s, resp, len, false, &r) == -1)
		return r;
	switch (s->state) {
	case SASL_STATE_PLAIN:
		return sasl_plain(s);
	case SASL_STATE_LOGIN_USER:
		return sasl_login_user(s, out);
	case SASL_STATE_LOGIN_PASS:
		return sasl_login_pass(s);
	case SASL_STATE_SCRAM_FIRST:
		return sasl_scram_client_first(s);
	case SASL_STATE_SCRAM_FINAL:
		return sasl_scram_client_final(s, out);
	case SASL_STATE_SCRAM_ACK:
		/* RFC 5802 5 over RFC 4954: the answer to server-final is
		 * empty */
		if (s->dec.len != 0)
			return sasl_finish(s, SASL_FAIL_SYNTAX,
			    "data after the server signature");
		return sasl_finish(s, SASL_SUCCESS, NULL);
	default:
		break;
	}
	log_panic("sasl: step in state %d", (int)s->state);
}

enum sasl_result
sasl_server_password_result(struct sasl_server *s, bool ok)
{
	MW_ASSERT(s->state == SASL_STATE_PASSWORD);
	if (!ok)
		return sasl_finish(s, SASL_FAIL_AUTH, "wrong password");
	return sasl_finish(s, SASL_SUCCESS, NULL);
}

enum sasl_result
sasl_server_set_credentials(
    struct sasl_server *s, const char *stored, struct buf *out)
{
	MW_ASSERT(s->state == SASL_STATE_SCRAM_CRED);
	return sasl_scram_set_credentials(s, stored, out);
}

const char *
sasl_server_authcid(const struct sasl_server *s)
{
	return s->have_authcid ? buf_cstr(&s->authcid) : NULL;
}

const char *
sasl_server_authzid(const struct sasl_server *s)
{
	return buf_cstr(&s->authzid);
}

const char *
sasl_server_password(const struct sasl_server *s)
{
	return s->state == SASL_STATE_PASSWORD ? buf_cstr(&s->password) : NULL;
}

const char *
sasl_server_username(const struct sasl_server *s)
{
	return s->success ? buf_cstr(&s->authcid) : NULL;
}

const char *
sasl_server_reason(const struct sasl_server *s)
{
	return s->reason;
}

void
sasl_server_set_nonce(struct sasl_server *s, const char *nonce)
{
	const char *p;

	for (p = nonce; *p != '\0'; p++)
		MW_ASSERT(*p > ' ' && *p < 0x7f && *p != ',');
	MW_ASSERT(p != nonce && p - nonce <= SASL_FIELD_MAX);
	free(s->test_nonce);
	s->test_nonce = xstrdup(nonce);
}
