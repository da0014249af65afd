/*
 * Inside the SASL server: the exchange's state, which sasl.c (common
 * steps, PLAIN, LOGIN) and sasl_scram.c (SCRAM-SHA-256) share.
 */
#ifndef AUTH_SASL_PRIVATE_H
#define AUTH_SASL_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/password.h"
#include "auth/sasl.h"
#include "lib/buf.h"

enum sasl_mech {
	SASL_MECH_PLAIN,
	SASL_MECH_LOGIN,
	SASL_MECH_SCRAM_SHA256,
};

enum sasl_state {
	SASL_STATE_START,       /* nothing received: initial response next */
	SASL_STATE_PLAIN,       /* PLAIN: "334 " sent, the message next */
	SASL_STATE_LOGIN_USER,  /* LOGIN: "Username:" sent */
	SASL_STATE_LOGIN_PASS,  /* LOGIN: "Password:" sent */
	SASL_STATE_PASSWORD,    /* waiting for sasl_server_password_result */
	SASL_STATE_SCRAM_FIRST, /* SCRAM: "334 " sent, client-first next */
	SASL_STATE_SCRAM_CRED,  /* waiting for sasl_server_set_credentials */
	SASL_STATE_SCRAM_FINAL, /* server-first sent, client-final next */
	SASL_STATE_SCRAM_ACK,   /* server-final sent, an empty line next */
	SASL_STATE_DONE,        /* a final result was returned */
};

struct sasl_server {
	enum sasl_mech mech;
	enum sasl_state state;
	size_t max_response;
	bool success;
	const char *reason;  /* static, for the log */
	struct buf dec;      /* the decoded response (secret) */
	struct buf authcid;  /* NUL-free UTF-8, <= SASL_FIELD_MAX */
	struct buf authzid;  /* the same, "" when none */
	struct buf password; /* secret; wiped once checked */
	bool have_authcid;
	/* SCRAM */
	struct buf gs2_header;   /* "n,," or "y,a=...," */
	struct buf client_first; /* client-first-message-bare */
	struct buf server_first; /* server-first-message */
	struct buf nonce;        /* c-nonce s-nonce */
	struct password_scram cred;
	bool cred_real; /* false: made up for an unknown user */
	char *test_nonce;
};

/* Wipes and empties b (for secrets). */
void sasl_wipe(struct buf *b);
/* Marks the exchange finished with result r (and reason, may be NULL). */
enum sasl_result sasl_finish(
    struct sasl_server *s, enum sasl_result r, const char *reason);
/* Resets out and appends the base64 of p[0..n); asserts on the ceiling. */
void sasl_challenge(struct buf *out, const void *p, size_t n);

/* SCRAM-SHA-256 steps over the decoded client message s->dec. */
enum sasl_result sasl_scram_client_first(struct sasl_server *s);
enum sasl_result sasl_scram_client_final(
    struct sasl_server *s, struct buf *out);
/* See sasl_server_set_credentials. */
enum sasl_result sasl_scram_set_credentials(
    struct sasl_server *s, const char *stored, struct buf *out);

#endif
