/*
 * Server side of the SASL mechanisms of SMTP AUTH (RFC 4954): PLAIN (RFC
 * 4616), LOGIN (draft-murchison-sasl-login) and SCRAM-SHA-256 (RFC 5802,
 * RFC 7677) without channel binding. Pure state machines: no I/O, nothing
 * that blocks. The caller reads the client's lines, sends the replies,
 * and does the slow parts off the event loop: it verifies a password when
 * a step asks for it (auth_verify), or looks up SCRAM credentials
 * (auth_lookup_scram), and hands back the result. Not thread-safe: one
 * exchange belongs to one session.
 *
 * The caller's loop, for AUTH <mech> [initial-response]:
 *
 *	r = sasl_server_step(s, initial_or_NULL, len, out);
 *	for (;;) switch (r) {
 *	case SASL_CHALLENGE:	send "334 " out; read a line;
 *				r = sasl_server_step(s, line, len, out);
 *	case SASL_NEED_PASSWORD_CHECK:
 *				verify authcid/password off the loop;
 *				r = sasl_server_password_result(s, ok);
 *	case SASL_NEED_CREDENTIALS:
 *				look up authcid's credentials off the loop;
 *				r = sasl_server_set_credentials(s, stored, out);
 *	case SASL_SUCCESS:	235 2.7.0; SASL_FAIL_AUTH: 535 5.7.8;
 *	SASL_FAIL_SYNTAX:	501 5.5.2; SASL_CANCEL: 501 5.0.0
 *	}
 */
#ifndef AUTH_SASL_H
#define AUTH_SASL_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/mw.h"

struct buf;
struct sasl_server;

enum sasl_result {
	/* out holds a base64 challenge (may be empty): send "334 <out>",
	 * then step with the client's next line */
	SASL_CHALLENGE,
	/* authcid, authzid and password are available: verify them, then
	 * call sasl_server_password_result */
	SASL_NEED_PASSWORD_CHECK,
	/* SCRAM: look up authcid's stored credentials, then call
	 * sasl_server_set_credentials */
	SASL_NEED_CREDENTIALS,
	/* authenticated: sasl_server_username names the user */
	SASL_SUCCESS,
	/* malformed, overlong or not allowed by the mechanism: 501 5.5.2 */
	SASL_FAIL_SYNTAX,
	/* wrong credentials (or a refused authorization identity): 535 */
	SASL_FAIL_AUTH,
	/* RFC 4954 4: the client answered a challenge with "*": 501 5.0.0 */
	SASL_CANCEL,
};

/* RFC 4616 2: authzid, authcid and passwd are each at most 255 octets;
 * the same bounds apply to LOGIN and to the SCRAM username and nonce. */
#define SASL_FIELD_MAX 255
/* The ceiling out must allow: the largest challenge we send (a SCRAM
 * server-first-message with a 255-octet client nonce and a 128-octet
 * salt, in base64). */
#define SASL_CHALLENGE_MAX 1024

/*
 * Starts an exchange with mechanism mech (case-insensitive: "PLAIN",
 * "LOGIN", "SCRAM-SHA-256"). max_response bounds each client response as
 * received (base64 text); a longer one fails with SASL_FAIL_SYNTAX (the
 * caller's line reader answers 500 5.5.6 before that for overlong lines).
 * Returns NULL for an unknown mechanism. Free with sasl_server_free.
 */
struct sasl_server *sasl_server_new(const char *mech, size_t max_response);
/* Wipes the secrets it held, frees, and sets *s to NULL; NULL is fine. */
void sasl_server_free(struct sasl_server **s);
/* Whether mech names a mechanism sasl_server_new knows. */
bool sasl_mech_supported(const char *mech);
/* The mechanism's canonical name ("PLAIN", ...): a static string. */
const char *sasl_server_mech(const struct sasl_server *s);

/*
 * Feeds the client's response exactly as received on the wire, without
 * CRLF: base64 text, "*" to cancel, or for the first call (the AUTH
 * command's initial response) NULL when there was none and "=" for an
 * empty one (RFC 4954 4). resp need not be NUL-terminated and may hold
 * NULs (they make it malformed). Resets out and, for SASL_CHALLENGE,
 * fills it with the challenge in base64; out's ceiling must be at least
 * SASL_CHALLENGE_MAX.
 *
 * After SCRAM has verified the client's proof, the server-final-message
 * ("v=<ServerSignature>") comes as a last SASL_CHALLENGE; the client
 * answers with an empty line and only then is the result SASL_SUCCESS.
 * RFC 4954 would also allow it as data in the 235 reply, but the 334 way
 * is the one every client handles (Dovecot and Cyrus send it so).
 *
 * Calling this while a password check or a credentials lookup is pending,
 * or after a final result, is a bug (assertion).
 */
enum sasl_result sasl_server_step(
    struct sasl_server *s, const char *resp, size_t len, struct buf *out);

/*
 * The verdict on the password that SASL_NEED_PASSWORD_CHECK asked about:
 * wipes the password and returns SASL_SUCCESS (ok) or SASL_FAIL_AUTH.
 */
enum sasl_result sasl_server_password_result(struct sasl_server *s, bool ok);

/*
 * SCRAM: the user's stored "{SCRAM-SHA-256}..." credentials (see
 * password.h), or NULL when the user does not exist or has none. Resets
 * out, fills it with the server-first-message and returns SASL_CHALLENGE.
 * Without usable credentials the exchange goes on with a made-up salt
 * (the same for the same name, during this process's life) and fails at
 * the proof, so that a client cannot tell unknown users from wrong
 * passwords (RFC 5802 9).
 */
enum sasl_result sasl_server_set_credentials(
    struct sasl_server *s, const char *stored, struct buf *out);

/* The authentication identity the client gave (valid once PLAIN or LOGIN
 * asked for the password check, or SCRAM for credentials; then until
 * free): NULL before. */
const char *sasl_server_authcid(const struct sasl_server *s);
/* The authorization identity, "" when the client gave none (it is then
 * refused unless it equals authcid, ignoring ASCII case). */
const char *sasl_server_authzid(const struct sasl_server *s);
/* The password to verify: only between SASL_NEED_PASSWORD_CHECK and
 * sasl_server_password_result, NULL otherwise. */
const char *sasl_server_password(const struct sasl_server *s);
/* The authenticated identity (for logs and reject_sender_login_mismatch)
 * after SASL_SUCCESS; NULL before and after a failure. */
const char *sasl_server_username(const struct sasl_server *s);
/* Why the exchange failed, for the log line (a static string, never with
 * client data), or NULL. */
const char *sasl_server_reason(const struct sasl_server *s);

/* For tests: use nonce (printable ASCII without ',', copied) as the
 * server's part of the SCRAM nonce instead of a random one. */
void sasl_server_set_nonce(struct sasl_server *s, const char *nonce);

#endif
