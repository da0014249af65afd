/*
 * SCRAM-SHA-256 (RFC 5802 with RFC 7677's hash), server side, without
 * channel binding: we never advertise SCRAM-SHA-256-PLUS, so a client's
 * "n" and "y" flags are both fine (RFC 5802 6) and "p=" is refused. The
 * server never sees the password: it checks the client's proof against
 * the StoredKey of Dovecot-style "{SCRAM-SHA-256}" credentials and proves
 * itself with ServerKey.
 *
 * SASLprep (RFC 4013) is limited to ASCII: a user name with a control
 * character or malformed UTF-8 is refused; any other name is used as
 * given, which is what SASLprep yields for printable ASCII (all our
 * account names) and for NFKC-normalised text.
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <sodium.h>
#include <string.h>

#include "auth/password.h"
#include "auth/sasl_private.h"
#include "lib/base64.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/parse.h"

/* The server's part of the nonce: 24 random bytes, 32 base64 characters
 * (RFC 5802 5.1: printable, no ','; base64 of 3n bytes has no '='). */
#define SASL_SCRAM_SNONCE_BYTES 24
/* The made-up salt of an unknown user, as long as Dovecot's salts. */
#define SASL_SCRAM_FAKE_SALT 16

static pthread_once_t sasl_scram_once = PTHREAD_ONCE_INIT;
static unsigned char sasl_scram_fake_key[32];

static void
sasl_scram_init(void)
{
	if (sodium_init() < 0)
		log_fatal("sasl: cannot initialise libsodium");
	randombytes_buf(sasl_scram_fake_key, sizeof(sasl_scram_fake_key));
}

/*
 * RFC 5802 5.1: saslname = 1*(value-safe-char / "=2C" / "=3D"); a '='
 * followed by anything else MUST fail the authentication. Decodes
 * p[0..n) into out (at most SASL_FIELD_MAX octets).
 */
static int
sasl_scram_saslname(const char *p, size_t n, struct buf *out)
{
	size_t i;
	char c;

	sasl_wipe(out);
	for (i = 0; i < n; i++) {
		c = p[i];
		if (c == '=') {
			if (n - i < 3)
				return -1;
			if (p[i + 1] == '2' && p[i + 2] == 'C')
				c = ',';
			else if (p[i + 1] == '3' && p[i + 2] == 'D')
				c = '=';
			else
				return -1;
			i += 2;
		}
		if (buf_append_char(out, c) == -1)
			return -1;
	}
	return password_scram_prep_ok(out->data, out->len) ? 0 : -1;
}

/* RFC 5802 7: c-nonce = printable = %x21-2B / %x2D-7E (no ','). */
static bool
sasl_scram_nonce_ok(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || n > SASL_FIELD_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (p[i] < 0x21 || p[i] > 0x7e || p[i] == ',')
			return false;
	return true;
}

/* The end of the attribute value that starts at p: the next ',' or the
 * NUL at the end of the message. */
static const char *
sasl_scram_value_end(const char *p)
{
	const char *e = strchr(p, ',');

	return e != NULL ? e : p + strlen(p);
}

/*
 * RFC 5802 7:
 *   client-first-message = gs2-header client-first-message-bare
 *   gs2-header = gs2-cbind-flag "," [ authzid ] ","
 *   client-first-message-bare = [reserved-mext ","] username "," nonce
 *                               ["," extensions]
 */
enum sasl_result
sasl_scram_client_first(struct sasl_server *s)
{
	const char *msg = s->dec.data, *p, *e;

	if (s->dec.len == 0 || memchr(msg, '\0', s->dec.len) != NULL)
		return sasl_finish(
		    s, SASL_FAIL_SYNTAX, "malformed SCRAM client-first");
	/* we advertise no -PLUS variant: "p=" is a client error */
	if (msg[0] == 'p')
		return sasl_finish(
		    s, SASL_FAIL_SYNTAX, "SCRAM channel binding not supported");
	if ((msg[0] != 'n' && msg[0] != 'y') || msg[1] != ',')
		return sasl_finish(s, SASL_FAIL_SYNTAX, "bad SCRAM gs2 header");
	p = msg + 2;
	sasl_wipe(&s->authzid);
	if (p[0] == 'a' && p[1] == '=') {
		e = sasl_scram_value_end(p + 2);
		if (*e != ',' ||
		    sasl_scram_saslname(
		        p + 2, (size_t)(e - p - 2), &s->authzid) == -1 ||
		    s->authzid.len == 0)
			return sasl_finish(
			    s, SASL_FAIL_SYNTAX, "bad SCRAM authzid");
		p = e;
	}
	if (p[0] != ',')
		return sasl_finish(s, SASL_FAIL_SYNTAX, "bad SCRAM gs2 header");
	p++;
	sasl_wipe(&s->gs2_header);
	MW_ASSERT(buf_append(&s->gs2_header, msg, (size_t)(p - msg)) == 0);

	/* RFC 5802 5.1: "m" is reserved; its presence MUST fail */
	if (p[0] == 'm' && p[1] == '=')
		return sasl_finish(
		    s, SASL_FAIL_SYNTAX, "SCRAM mandatory extension");
	sasl_wipe(&s->client_first);
	MW_ASSERT(buf_append_str(&s->client_first, p) == 0);
	if (p[0] != 'n' || p[1] != '=')
		return sasl_finish(s, SASL_FAIL_SYNTAX, "SCRAM without user");
	e = sasl_scram_value_end(p + 2);
	if (*e != ',' ||
	    sasl_scram_saslname(p + 2, (size_t)(e - p - 2), &s->authcid) == -1)
		return sasl_finish(s, SASL_FAIL_SYNTAX, "bad SCRAM user name");
	s->have_authcid = true;
	p = e + 1;
	if (p[0] != 'r' || p[1] != '=')
		return sasl_finish(s, SASL_FAIL_SYNTAX, "SCRAM without nonce");
	e = sasl_scram_value_end(p + 2);
	if (!sasl_scram_nonce_ok(p + 2, (size_t)(e - p - 2)))
		return sasl_finish(s, SASL_FAIL_SYNTAX, "bad SCRAM nonce");
	sasl_wipe(&s->nonce);
	MW_ASSERT(buf_append(&s->nonce, p + 2, (size_t)(e - p - 2)) == 0);
	/* what follows are extensions: RFC 5802 7 says to ignore them */
	if (s->authzid.len != 0 &&
	    (s->authzid.len != s->authcid.len ||
	        !ascii_eq_n(s->authzid.data, s->authcid.data, s->authcid.len)))
		return sasl_finish(s, SASL_FAIL_AUTH,
		    "authorization identity differs from the user");
	sasl_wipe(&s->dec);
	s->state = SASL_STATE_SCRAM_CRED;
	return SASL_NEED_CREDENTIALS;
}

/* Credentials that match no proof, with a salt that does not change
 * between attempts for the same (case-insensitive) name. */
static void
sasl_scram_fake_credentials(struct sasl_server *s)
{
	unsigned char mac[crypto_generichash_BYTES];
	struct buf lower;

	buf_init(&lower, SASL_FIELD_MAX);
	MW_ASSERT(buf_append(&lower, s->authcid.data, s->authcid.len) == 0);
	ascii_lower(lower.data);
	crypto_generichash(mac, sizeof(mac), (const unsigned char *)lower.data,
	    lower.len, sasl_scram_fake_key, sizeof(sasl_scram_fake_key));
	buf_free(&lower);
	memset(&s->cred, 0, sizeof(s->cred));
	s->cred.iter = PASSWORD_SCRAM_ITER_DEFAULT;
	s->cred.salt_len = SASL_SCRAM_FAKE_SALT;
	memcpy(s->cred.salt, mac, SASL_SCRAM_FAKE_SALT);
	randombytes_buf(s->cred.stored_key, sizeof(s->cred.stored_key));
	randombytes_buf(s->cred.server_key, sizeof(s->cred.server_key));
	s->cred_real = false;
}

/*
 * RFC 5802 7: server-first-message = [reserved-mext ","] nonce "," salt
 * "," iteration-count ["," extensions], nonce = c-nonce s-nonce.
 */
enum sasl_result
sasl_scram_set_credentials(
    struct sasl_server *s, const char *stored, struct buf *out)
{
	unsigned char snonce[SASL_SCRAM_SNONCE_BYTES];
	struct buf *sf = &s->server_first;

	MW_ASSERT(pthread_once(&sasl_scram_once, sasl_scram_init) == 0);
	s->cred_real =
	    stored != NULL && password_scram_parse(stored, &s->cred) == 0;
	if (!s->cred_real)
		sasl_scram_fake_credentials(s);
	if (s->test_nonce != NULL)
		MW_ASSERT(buf_append_str(&s->nonce, s->test_nonce) == 0);
	else {
		randombytes_buf(snonce, sizeof(snonce));
		MW_ASSERT(
		    base64_encode(&s->nonce, snonce, sizeof(snonce)) == 0);
	}
	sasl_wipe(sf);
	MW_ASSERT(buf_append_str(sf, "r=") == 0 &&
	    buf_append(sf, s->nonce.data, s->nonce.len) == 0 &&
	    buf_append_str(sf, ",s=") == 0 &&
	    base64_encode(sf, s->cred.salt, s->cred.salt_len) == 0 &&
	    buf_printf(sf, ",i=%u", s->cred.iter) == 0);
	sasl_challenge(out, sf->data, sf->len);
	s->state = SASL_STATE_SCRAM_FINAL;
	return SASL_CHALLENGE;
}

/* HMAC-SHA-256 of AuthMessage under a 32-byte key. */
static void
sasl_scram_hmac(const unsigned char *key, const struct buf *msg,
    unsigned char mac[PASSWORD_SCRAM_KEY_LEN])
{
	unsigned int len = PASSWORD_SCRAM_KEY_LEN;

	MW_ASSERT(
	    HMAC(EVP_sha256(), key, PASSWORD_SCRAM_KEY_LEN,
	        (const unsigned char *)msg->data, msg->len, mac, &len) != NULL);
}

/*
 * RFC 5802 3: ClientSignature := HMAC(StoredKey, AuthMessage); ClientKey
 * := ClientProof XOR ClientSignature; the proof is good when H(ClientKey)
 * equals StoredKey. Constant time; true on a match.
 */
static bool
sasl_scram_proof_ok(struct sasl_server *s, const unsigned char *proof,
    const struct buf *auth_message)
{
	unsigned char sig[PASSWORD_SCRAM_KEY_LEN], key[PASSWORD_SCRAM_KEY_LEN];
	unsigned char h[PASSWORD_SCRAM_KEY_LEN];
	size_t i;
	bool ok;

	sasl_scram_hmac(s->cred.stored_key, auth_message, sig);
	for (i = 0; i < sizeof(key); i++)
		key[i] = proof[i] ^ sig[i];
	SHA256(key, sizeof(key), h);
	ok = sodium_memcmp(h, s->cred.stored_key, sizeof(h)) == 0 &&
	    s->cred_real;
	sodium_memzero(sig, sizeof(sig));
	sodium_memzero(key, sizeof(key));
	sodium_memzero(h, sizeof(h));
	return ok;
}

/*
 * RFC 5802 7:
 *   client-final-message-without-proof = channel-binding "," nonce
 *                                        ["," extensions]
 *   client-final-message = client-final-message-without-proof "," proof
 * with channel-binding = "c=" base64(gs2-header) (no cbind-data without
 * -PLUS) and proof = "p=" base64.
 */
enum sasl_result
sasl_scram_client_final(struct sasl_server *s, struct buf *out)
{
	const char *msg = s->dec.data, *p, *e, *proof_at;
	unsigned char sig[PASSWORD_SCRAM_KEY_LEN];
	struct buf proof, cb, am, reply;
	enum sasl_result r;
	size_t wo_proof;

	buf_init(&proof, PASSWORD_SCRAM_KEY_LEN);
	buf_init(&cb, s->gs2_header.len);
	buf_init(
	    &am, s->client_first.len + s->server_first.len + s->dec.len + 2);
	buf_init(&reply, SASL_CHALLENGE_MAX);
	memset(sig, 0, sizeof(sig));
	if (s->dec.len == 0 || memchr(msg, '\0', s->dec.len) != NULL) {
		r = sasl_finish(s, SASL_FAIL_SYNTAX, "malformed SCRAM final");
		goto out;
	}
	/* the proof is the last attribute; base64 holds no ',' */
	proof_at = strrchr(msg, ',');
	if (proof_at == NULL || proof_at[1] != 'p' || proof_at[2] != '=' ||
	    base64_decode(&proof, proof_at + 3, strlen(proof_at + 3)) == -1 ||
	    proof.len != PASSWORD_SCRAM_KEY_LEN) {
		r = sasl_finish(s, SASL_FAIL_SYNTAX, "bad SCRAM proof");
		goto out;
	}
	wo_proof = (size_t)(proof_at - msg);
	/* channel binding: "c=" and exactly our gs2 header in base64 (no
	 * cbind-data without -PLUS); it ends at a ',' before the proof */
	if (msg[0] != 'c' || msg[1] != '=' ||
	    (e = sasl_scram_value_end(msg + 2)) > proof_at ||
	    base64_decode(&cb, msg + 2, (size_t)(e - msg - 2)) == -1 ||
	    cb.len != s->gs2_header.len ||
	    memcmp(cb.data, s->gs2_header.data, cb.len) != 0) {
		r = sasl_finish(
		    s, SASL_FAIL_SYNTAX, "bad SCRAM channel binding");
		goto out;
	}
	/* then the combined nonce of server-first, also before the proof */
	p = e + 1;
	if (p > proof_at || p[0] != 'r' || p[1] != '=' ||
	    (e = sasl_scram_value_end(p + 2)) > proof_at ||
	    (size_t)(e - p - 2) != s->nonce.len ||
	    memcmp(p + 2, s->nonce.data, s->nonce.len) != 0) {
		r = sasl_finish(s, SASL_FAIL_SYNTAX, "bad SCRAM nonce");
		goto out;
	}
	/* what follows up to the proof are extensions, ignored (RFC 5802 7) */
	/* AuthMessage := client-first-message-bare + "," +
	 *     server-first-message + "," + client-final-message-without-proof
	 */
	MW_ASSERT(
	    buf_append(&am, s->client_first.data, s->client_first.len) == 0 &&
	    buf_append_char(&am, ',') == 0 &&
	    buf_append(&am, s->server_first.data, s->server_first.len) == 0 &&
	    buf_append_char(&am, ',') == 0 &&
	    buf_append(&am, msg, wo_proof) == 0);
	if (!sasl_scram_proof_ok(s, (const unsigned char *)proof.data, &am)) {
		r = sasl_finish(s, SASL_FAIL_AUTH,
		    s->cred_real ? "wrong SCRAM proof"
		                 : "no SCRAM credentials for the user");
		goto out;
	}
	/* RFC 5802 3: ServerSignature := HMAC(ServerKey, AuthMessage);
	 * server-final-message = "v=" base64(ServerSignature) */
	sasl_scram_hmac(s->cred.server_key, &am, sig);
	MW_ASSERT(buf_append_str(&reply, "v=") == 0 &&
	    base64_encode(&reply, sig, sizeof(sig)) == 0);
	sasl_challenge(out, reply.data, reply.len);
	sasl_wipe(&s->dec);
	s->state = SASL_STATE_SCRAM_ACK;
	r = SASL_CHALLENGE;
out:
	sodium_memzero(sig, sizeof(sig));
	buf_wipe(&proof);
	buf_free(&proof);
	buf_free(&cb);
	buf_wipe(&am);
	buf_free(&am);
	buf_free(&reply);
	return r;
}
