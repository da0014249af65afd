/*
 * The self-signed certificate that `mailwright init` makes so that TLS
 * works from the first start; an admin replaces it with a real one.
 */
#ifndef CLI_INIT_CERT_H
#define CLI_INIT_CERT_H

#include "lib/mw.h"

struct buf;

/*
 * Makes an EC P-256 key and a self-signed X.509v3 certificate for it, valid
 * for 10 years from now, with CN=hostname and subjectAltName DNS:hostname,
 * DNS:domain, DNS:localhost, IP:127.0.0.1. Writes the key as PKCS#8 PEM to
 * key_path (mode 0600) and the certificate as PEM to cert_path (0644),
 * each atomically. 0, or -1 with one line in err.
 */
int init_cert_write(const char *cert_path, const char *key_path,
    const char *hostname, const char *domain, struct buf *err) MW_MUST_CHECK;

#endif
