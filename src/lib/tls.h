/*
 * The server side of TLS (OpenSSL 3), shared by every service: one context
 * per process built from the configuration (certificate, key, protocol
 * floor, cipher list, session resumption, per-domain certificates by SNI),
 * and the per-connection SSL objects handed to libevent. Verification of
 * client certificates is not done (mail clients rarely send one).
 */
#ifndef LIB_TLS_H
#define LIB_TLS_H

#include <stdbool.h>

struct buf;
struct conf;
struct tls_server;
typedef struct ssl_st SSL;

/*
 * Builds the server context from smtpd_tls_cert_file, smtpd_tls_key_file,
 * smtpd_tls_mandatory_protocols, tls_high_cipherlist,
 * smtpd_tls_session_cache_timeout and tls_server_sni_maps. NULL with one
 * line in err naming the file at fault ("cannot load certificate
 * /x/cert.pem: ..."). An empty smtpd_tls_cert_file is an error too: check
 * tls_configured() first.
 */
struct tls_server *tls_server_new(const struct conf *conf, struct buf *err);
void tls_server_free(struct tls_server **ts);
/* True when the configuration names a certificate (TLS can be offered). */
bool tls_configured(const struct conf *conf);
/* A new server-side SSL for one connection; the caller owns it (libevent
 * takes it over with BEV_OPT_CLOSE_ON_FREE). NULL on failure. */
SSL *tls_server_ssl_new(struct tls_server *ts);
/*
 * Appends "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)"
 * (Postfix's wording for logs and Received: headers) to out.
 */
void tls_describe(SSL *ssl, struct buf *out);
/* Appends OpenSSL's queued error text (one line) to out and clears it. */
void tls_error_text(struct buf *out);

#endif
