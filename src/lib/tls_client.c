/*
 * Client TLS contexts (see tls_client.h). Verification always runs (so
 * that the log can say what the peer proved), but only the verify and
 * secure levels act on it: RFC 7435 opportunistic security, as Postfix's
 * "may" and "encrypt" levels do.
 */
#include "lib/tls_client.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/log.h"
#include "lib/tls.h"
#include "lib/xalloc.h"

struct tls_client {
	SSL_CTX *ctx;
};

// clang-format off
static const char *const tls_level_names[] = {
	[TLS_LEVEL_NONE] = "none", [TLS_LEVEL_MAY] = "may",
	[TLS_LEVEL_ENCRYPT] = "encrypt", [TLS_LEVEL_VERIFY] = "verify",
	[TLS_LEVEL_SECURE] = "secure", [TLS_LEVEL_DANE] = "dane",
	[TLS_LEVEL_DANE_ONLY] = "dane-only",
};
// clang-format on

int
tls_level_parse(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(tls_level_names) / sizeof(*tls_level_names); i++)
		if (strcmp(s, tls_level_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *
tls_level_name(enum tls_level l)
{
	return tls_level_names[l];
}

/* Accept every chain during the handshake: the verdict is read after it
 * (tls_client_trust) and acted upon by the caller for its level. */
static int
tls_client_verify_cb(int ok, X509_STORE_CTX *x)
{
	(void)ok;
	(void)x;
	return 1;
}

struct tls_client *
tls_client_new(const struct conf *conf, struct buf *err)
{
	struct tls_client *tc = xcalloc(1, sizeof(*tc));
	const char *ca = conf->smtp_tls_CAfile;
	int minv;

	ERR_clear_error();
	if ((tc->ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		(void)!buf_append_str(err, "cannot create TLS context: ");
		tls_error_text(err);
		goto fail;
	}
	/* RFC 8996: no TLS 1.0/1.1 */
	minv = strcmp(conf->smtp_tls_mandatory_protocols, ">=TLSv1.3") == 0
	    ? TLS1_3_VERSION
	    : TLS1_2_VERSION;
	(void)SSL_CTX_set_min_proto_version(tc->ctx, minv);
	(void)SSL_CTX_set_options(
	    tc->ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	(void)SSL_CTX_set_mode(tc->ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_verify(tc->ctx, SSL_VERIFY_PEER, tls_client_verify_cb);
	/* RFC 7671: OpenSSL's DANE verifier, for the SSLs that enable it */
	if (SSL_CTX_dane_enable(tc->ctx) <= 0) {
		(void)!buf_append_str(err, "cannot enable DANE: ");
		tls_error_text(err);
		goto fail;
	}
	if (ca != NULL && ca[0] != '\0') {
		if (SSL_CTX_load_verify_locations(tc->ctx, ca, NULL) != 1) {
			(void)!buf_printf(
			    err, "smtp_tls_CAfile: cannot load %s: ", ca);
			tls_error_text(err);
			goto fail;
		}
	} else if (SSL_CTX_set_default_verify_paths(tc->ctx) != 1)
		log_warn("TLS: cannot load the system CA store");
	return tc;
fail:
	tls_client_free(&tc);
	return NULL;
}

void
tls_client_free(struct tls_client **tcp)
{
	struct tls_client *tc = *tcp;

	if (tc == NULL)
		return;
	SSL_CTX_free(tc->ctx);
	free(tc);
	*tcp = NULL;
}

SSL *
tls_client_ssl_new(struct tls_client *tc, const char *host,
    enum tls_level level, const char *const *names)
{
	SSL *ssl = SSL_new(tc->ctx);
	bool literal = strchr(host, ':') != NULL ||
	    strspn(host, "0123456789.") == strlen(host);
	size_t i;

	if (ssl == NULL)
		return NULL;
	/* RFC 6066 3: SNI carries host names, never literal addresses */
	if (!literal)
		(void)SSL_set_tlsext_host_name(ssl, host);
	if (level >= TLS_LEVEL_DANE) {
		/* RFC 7672 3.2.2: the TLSA base domain is the name to match
		 * (DANE-TA), wildcards only as a whole left-most label */
		if (SSL_dane_enable(ssl, host) <= 0) {
			SSL_free(ssl);
			return NULL;
		}
		SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		/* RFC 7672 3.1.1: DANE-EE(3) binds the key, not names */
		(void)SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
		for (i = 0; names != NULL && names[i] != NULL; i++)
			(void)SSL_add1_host(ssl, names[i]);
	} else if (level >= TLS_LEVEL_VERIFY) {
		SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if (names == NULL || names[0] == NULL)
			(void)SSL_set1_host(ssl, host);
		else {
			(void)SSL_set1_host(ssl, names[0]);
			for (i = 1; names[i] != NULL; i++)
				(void)SSL_add1_host(ssl, names[i]);
		}
	}
	return ssl;
}

int
tls_client_dane_add(SSL *ssl, unsigned usage, unsigned selector, unsigned mtype,
    const unsigned char *data, size_t len)
{
	int rc;

	if (usage > 255 || selector > 255 || mtype > 255)
		return -1;
	rc = SSL_dane_tlsa_add(
	    ssl, (uint8_t)usage, (uint8_t)selector, (uint8_t)mtype, data, len);
	ERR_clear_error();
	return rc > 0 ? 1 : rc == 0 ? 0 : -1;
}

enum tls_trust
tls_client_trust(SSL *ssl, enum tls_level level)
{
	X509 *peer = SSL_get0_peer_certificate(ssl);

	if (peer == NULL)
		return TLS_TRUST_ANONYMOUS;
	if (SSL_get_verify_result(ssl) != X509_V_OK)
		return TLS_TRUST_UNTRUSTED;
	/* RFC 7672 3: a DANE connection is verified by a TLSA match only,
	 * never by the CA store */
	if (level >= TLS_LEVEL_DANE)
		return SSL_get0_dane_authority(ssl, NULL, NULL) >= 0
		    ? TLS_TRUST_VERIFIED
		    : TLS_TRUST_UNTRUSTED;
	/* the name was checked only when asked for (verify, secure) */
	return level >= TLS_LEVEL_VERIFY ? TLS_TRUST_VERIFIED
	                                 : TLS_TRUST_TRUSTED;
}

const char *
tls_trust_name(enum tls_trust t)
{
	switch (t) {
	case TLS_TRUST_ANONYMOUS:
		return "Anonymous";
	case TLS_TRUST_UNTRUSTED:
		return "Untrusted";
	case TLS_TRUST_TRUSTED:
		return "Trusted";
	case TLS_TRUST_VERIFIED:
		break;
	}
	return "Verified";
}

void
tls_client_verify_error(SSL *ssl, struct buf *out)
{
	long v = SSL_get_verify_result(ssl);

	if (SSL_get0_peer_certificate(ssl) == NULL)
		(void)!buf_append_str(out, "the server sent no certificate");
	else
		(void)!buf_printf(out, "certificate verification failed: %s",
		    X509_verify_cert_error_string(v));
}
