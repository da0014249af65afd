/*
 * A self-signed certificate for a new instance (see init_cert.h), made
 * with OpenSSL 3's EVP and X509 APIs. Profile of RFC 5280, as a public CA
 * would issue a server certificate: v3, random 159-bit serial, SHA-256,
 * basicConstraints CA:FALSE, keyUsage digitalSignature, extendedKeyUsage
 * serverAuth, and the names in subjectAltName (RFC 6125 6.4.4: clients
 * check those, not the CN).
 */
#include "cli/init_cert.h"

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/fs.h"

/* RFC 5280 4.1.2.5: the validity; 10 years for a throwaway instance. */
#define INIT_CERT_DAYS (10 * 365 + 2)

/* Appends OpenSSL's reason for the last failure to err. */
static void
init_cert_error(struct buf *err, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	char reason[256];

	if (e != 0) {
		ERR_error_string_n(e, reason, sizeof(reason));
		(void)!buf_printf(err, "%s: %s", what, reason);
	} else {
		(void)!buf_printf(err, "%s failed", what);
	}
	ERR_clear_error();
}

static int
init_cert_add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext;
	int ok;

	ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	if (ext == NULL)
		return -1;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

/* Writes the PEM in a memory BIO to path atomically. */
static int
init_cert_save(BIO *bio, const char *path, mode_t mode, struct buf *err)
{
	char *data;
	long len;

	len = BIO_get_mem_data(bio, &data);
	if (len <= 0) {
		(void)!buf_printf(err, "%s: nothing to write", path);
		return -1;
	}
	if (fs_atomic_write(path, data, (size_t)len, mode) == -1) {
		(void)!buf_printf(err, "cannot write %s: %m", path);
		return -1;
	}
	return 0;
}

int
init_cert_write(const char *cert_path, const char *key_path,
    const char *hostname, const char *domain, struct buf *err)
{
	EVP_PKEY *pkey = NULL;
	X509 *x = NULL;
	X509_NAME *name;
	X509V3_CTX ctx;
	BIGNUM *bn = NULL;
	ASN1_INTEGER *serial = NULL;
	BIO *kbio = NULL, *cbio = NULL;
	struct buf san;
	int ret = -1;

	buf_init(&san, 4096);
	pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (pkey == NULL) {
		init_cert_error(err, "EC P-256 key generation");
		goto out;
	}
	x = X509_new();
	bn = BN_new();
	if (x == NULL || bn == NULL) {
		init_cert_error(err, "X509_new");
		goto out;
	}
	/* RFC 5280 4.1.2.2: positive, at most 20 octets, unpredictable. */
	if (!X509_set_version(x, X509_VERSION_3) ||
	    !BN_rand(bn, 159, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
	    (serial = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    !X509_set_serialNumber(x, serial)) {
		init_cert_error(err, "certificate serial number");
		goto out;
	}
	if (X509_gmtime_adj(X509_getm_notBefore(x), 0) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), INIT_CERT_DAYS, 0, NULL) ==
	        NULL ||
	    !X509_set_pubkey(x, pkey)) {
		init_cert_error(err, "certificate validity");
		goto out;
	}
	name = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	        (const unsigned char *)hostname, -1, -1, 0) ||
	    !X509_set_issuer_name(x, name)) {
		init_cert_error(err, "certificate name");
		goto out;
	}

	/* The names, each once: hostname may equal domain or localhost. */
	if (buf_printf(&san, "DNS:%s", hostname) == -1 ||
	    (strcmp(domain, hostname) != 0 &&
	        buf_printf(&san, ",DNS:%s", domain) == -1) ||
	    (strcmp(hostname, "localhost") != 0 &&
	        strcmp(domain, "localhost") != 0 &&
	        buf_append_str(&san, ",DNS:localhost") == -1) ||
	    buf_append_str(&san, ",IP:127.0.0.1") == -1) {
		(void)!buf_printf(err, "subjectAltName too long");
		goto out;
	}
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	if (init_cert_add_ext(
	        x, &ctx, NID_basic_constraints, "critical,CA:FALSE") == -1 ||
	    init_cert_add_ext(
	        x, &ctx, NID_key_usage, "critical,digitalSignature") == -1 ||
	    init_cert_add_ext(x, &ctx, NID_ext_key_usage, "serverAuth") == -1 ||
	    init_cert_add_ext(x, &ctx, NID_subject_key_identifier, "hash") ==
	        -1 ||
	    init_cert_add_ext(x, &ctx, NID_subject_alt_name, buf_cstr(&san)) ==
	        -1) {
		init_cert_error(err, "certificate extensions");
		goto out;
	}
	if (X509_sign(x, pkey, EVP_sha256()) == 0) {
		init_cert_error(err, "certificate signature");
		goto out;
	}

	kbio = BIO_new(BIO_s_mem());
	cbio = BIO_new(BIO_s_mem());
	if (kbio == NULL || cbio == NULL ||
	    !PEM_write_bio_PrivateKey(kbio, pkey, NULL, NULL, 0, NULL, NULL) ||
	    !PEM_write_bio_X509(cbio, x)) {
		init_cert_error(err, "PEM encoding");
		goto out;
	}
	/* The key first: a certificate without its key is of no use. */
	if (init_cert_save(kbio, key_path, 0600, err) == -1 ||
	    init_cert_save(cbio, cert_path, 0644, err) == -1)
		goto out;
	ret = 0;
out:
	/* The key's bytes in the memory BIO are cleared as it is freed
	 * (BIO_s_mem frees through OPENSSL_free); the file is what counts. */
	BIO_free(kbio);
	BIO_free(cbio);
	ASN1_INTEGER_free(serial);
	BN_free(bn);
	X509_free(x);
	EVP_PKEY_free(pkey);
	buf_free(&san);
	return ret;
}
