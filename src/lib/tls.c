/*
 * Server TLS contexts (see tls.h). Defaults follow current practice for
 * mail (RFC 8314, RFC 8996): TLS 1.2 and 1.3 only, forward-secret AEAD
 * ciphers, no compression or renegotiation, session resumption by cache
 * and tickets, and buffers released on idle connections so that an idle
 * TLS session costs little memory.
 */
#include "lib/tls.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/xalloc.h"

/* A certificate chosen by SNI (tls_server_sni_maps). */
struct tls_sni {
	char *domain; /* lowercase; "*.example.org" matches one label */
	SSL_CTX *ctx;
};

struct tls_server {
	SSL_CTX *ctx;
	struct tls_sni *sni;
	size_t nsni;
};

bool
tls_configured(const struct conf *conf)
{
	return conf->smtpd_tls_cert_file != NULL &&
	    conf->smtpd_tls_cert_file[0] != '\0';
}

void
tls_error_text(struct buf *out)
{
	unsigned long e = ERR_get_error();
	char text[256];

	if (e == 0) {
		(void)!buf_append_str(out, errno ? strerror(errno) : "unknown");
		return;
	}
	ERR_error_string_n(e, text, sizeof(text));
	(void)!buf_append_str(out, text);
	ERR_clear_error();
}

static SSL_CTX *
tls_ctx_new(const struct conf *conf, const char *cert, const char *key,
    struct buf *err)
{
	static const unsigned char sid_ctx[] = "mailwright";
	SSL_CTX *ctx;
	int minv;

	ERR_clear_error();
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		(void)!buf_append_str(err, "cannot create TLS context: ");
		tls_error_text(err);
		return NULL;
	}
	/* RFC 8996: no TLS 1.0/1.1 */
	minv = strcmp(conf->smtpd_tls_mandatory_protocols, ">=TLSv1.3") == 0
	    ? TLS1_3_VERSION
	    : TLS1_2_VERSION;
	(void)SSL_CTX_set_min_proto_version(ctx, minv);
	(void)SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
		SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
	/* A client that closes TCP without close_notify (most do, after
	 * QUIT) has ended its side, not broken the session: OpenSSL 3 would
	 * make that a fatal error, which fails every later SSL_write (our
	 * replies to what it sent before) and which libevent's
	 * allow_dirty_shutdown does not recognise. SMTP marks its own ends
	 * (QUIT, the "." of DATA, BDAT LAST), so a truncated stream cannot
	 * pass for a complete one. */
	(void)SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
	(void)SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_set_cipher_list(ctx, conf->tls_high_cipherlist) != 1) {
		(void)!buf_printf(err, "%s: tls_high_cipherlist: no usable "
				       "cipher in \"%s\"",
		    conf->config_file, conf->tls_high_cipherlist);
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		(void)!buf_printf(err, "cannot load certificate %s: ", cert);
		tls_error_text(err);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		(void)!buf_printf(err, "cannot load private key %s: ", key);
		tls_error_text(err);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		(void)!buf_printf(err, "private key %s does not match "
				       "certificate %s",
		    key, cert);
		goto fail;
	}
	if (conf->smtpd_tls_session_cache_timeout > 0) {
		(void)SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
		(void)SSL_CTX_set_timeout(ctx,
		    (long)conf->smtpd_tls_session_cache_timeout);
		(void)SSL_CTX_set_session_id_context(ctx, sid_ctx,
		    sizeof(sid_ctx) - 1);
		/* RFC 8446 4.6.1: one ticket per connection is enough for a
		 * mail client (OpenSSL sends two by default). */
		(void)SSL_CTX_set_num_tickets(ctx, 1);
	} else {
		(void)SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
		(void)SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
		(void)SSL_CTX_set_num_tickets(ctx, 0);
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

static bool
tls_sni_match(const char *pattern, const char *name)
{
	const char *dot;

	if (strcasecmp(pattern, name) == 0)
		return true;
	/* "*.example.org" matches exactly one more label */
	if (pattern[0] == '*' && pattern[1] == '.') {
		dot = strchr(name, '.');
		return dot != NULL && dot != name &&
		    strcasecmp(dot + 1, pattern + 2) == 0;
	}
	return false;
}

/* RFC 6066 3: choose the certificate for the requested server name. */
static int
tls_on_servername(SSL *ssl, int *alert, void *arg)
{
	struct tls_server *ts = arg;
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	size_t i;

	(void)alert;
	if (name == NULL)
		return SSL_TLSEXT_ERR_NOACK;
	for (i = 0; i < ts->nsni; i++)
		if (tls_sni_match(ts->sni[i].domain, name)) {
			(void)SSL_set_SSL_CTX(ssl, ts->sni[i].ctx);
			return SSL_TLSEXT_ERR_OK;
		}
	return SSL_TLSEXT_ERR_NOACK; /* the default certificate */
}

/* Lines "domain key-file cert-file", '#' comments. */
static int
tls_sni_load(struct tls_server *ts, const struct conf *conf, struct buf *err)
{
	const char *path = conf->tls_server_sni_maps;
	struct buf text;
	char *line, *next;
	unsigned lineno = 0;
	int ret = -1;

	buf_init(&text, 1024 * 1024);
	if (fs_read_file(path, &text) == -1) {
		(void)!buf_printf(err, "cannot read tls_server_sni_maps %s: %m",
		    path);
		goto out;
	}
	if (buf_append_char(&text, '\n') == -1)
		goto out;
	for (line = text.data; *line != '\0'; line = next) {
		char dom[256], key[1024], cert[1024];
		int n;

		next = strchr(line, '\n');
		*next++ = '\0';
		lineno++;
		while (*line == ' ' || *line == '\t')
			line++;
		if (*line == '#' || *line == '\0')
			continue;
		n = sscanf(line, "%255s %1023s %1023s", dom, key, cert);
		if (n != 3) {
			(void)!buf_printf(err, "%s:%u: expected \"domain "
					       "key-file cert-file\"",
			    path, lineno);
			goto out;
		}
		ts->sni = xreallocarray(ts->sni, ts->nsni + 1,
		    sizeof(*ts->sni));
		ts->sni[ts->nsni].ctx = tls_ctx_new(conf, cert, key, err);
		if (ts->sni[ts->nsni].ctx == NULL)
			goto out;
		ts->sni[ts->nsni].domain = xstrdup(dom);
		ts->nsni++;
	}
	ret = 0;
out:
	buf_free(&text);
	return ret;
}

struct tls_server *
tls_server_new(const struct conf *conf, struct buf *err)
{
	struct tls_server *ts;

	if (!tls_configured(conf)) {
		(void)!buf_printf(err, "%s: smtpd_tls_cert_file is empty: TLS "
				       "needs a certificate",
		    conf->config_file);
		return NULL;
	}
	ts = xcalloc(1, sizeof(*ts));
	ts->ctx = tls_ctx_new(conf, conf->smtpd_tls_cert_file,
	    conf->smtpd_tls_key_file[0] != '\0' ? conf->smtpd_tls_key_file
						: conf->smtpd_tls_cert_file,
	    err);
	if (ts->ctx == NULL)
		goto fail;
	if (conf->tls_server_sni_maps[0] != '\0') {
		if (tls_sni_load(ts, conf, err) == -1)
			goto fail;
		SSL_CTX_set_tlsext_servername_callback(ts->ctx,
		    tls_on_servername);
		SSL_CTX_set_tlsext_servername_arg(ts->ctx, ts);
	}
	return ts;
fail:
	tls_server_free(&ts);
	return NULL;
}

void
tls_server_free(struct tls_server **tsp)
{
	struct tls_server *ts = *tsp;
	size_t i;

	if (ts == NULL)
		return;
	for (i = 0; i < ts->nsni; i++) {
		SSL_CTX_free(ts->sni[i].ctx);
		free(ts->sni[i].domain);
	}
	free(ts->sni);
	SSL_CTX_free(ts->ctx);
	free(ts);
	*tsp = NULL;
}

SSL *
tls_server_ssl_new(struct tls_server *ts)
{
	return SSL_new(ts->ctx);
}

void
tls_describe(SSL *ssl, struct buf *out)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
	int alg = 0, bits = c != NULL ? SSL_CIPHER_get_bits(c, &alg) : 0;

	(void)!buf_printf(out, "%s with cipher %s (%d/%d bits)",
	    SSL_get_version(ssl), c != NULL ? SSL_CIPHER_get_name(c) : "none",
	    bits, alg);
}
