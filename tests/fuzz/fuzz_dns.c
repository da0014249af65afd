/*
 * libFuzzer target for what src/dns/dns.c parses itself (libunbound parses
 * DNS messages): MX rdata (dns_mx_classify) and dns_servers entries
 * (dns_servers_check), and names to A-labels (dns_name_to_ascii). The
 * first byte picks which; for MX the rest is a
 * sequence of records, each a length byte and that many bytes of rdata.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns.h"
#include "lib/buf.h"
#include "lib/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_RR 64

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char *rr[FUZZ_MAX_RR];
	int len[FUZZ_MAX_RR];
	struct dns_answer a;
	struct buf err;
	struct conf_list l;
	char *text;
	size_t pos = 1, n = 0;
	enum dns_mailhost m;

	if (size == 0)
		return 0;
	if (data[0] & 1) {
		text = strndup((const char *)data + 1, size - 1);
		if (text == NULL)
			return 0;
		if (data[0] & 2) {
			/* an A-label form is ASCII, or there is none */
			char *ascii = dns_name_to_ascii(text);

			for (char *p = ascii; p != NULL && *p != '\0'; p++)
				if ((unsigned char)*p >= 0x80)
					abort();
			free(ascii);
			free(text);
			return 0;
		}
		l.items = &text;
		l.n = 1;
		buf_init(&err, 1024);
		if (dns_servers_check(&l, &err) == -1 &&
		    (err.len == 0 || memchr(err.data, '\n', err.len) != NULL))
			abort(); /* errors are one line */
		buf_free(&err);
		free(text);
		return 0;
	}
	while (pos < size && n < FUZZ_MAX_RR) {
		size_t k = data[pos++];

		if (k > size - pos)
			k = size - pos;
		/* each record in its own allocation, so that ASan sees any
		 * read past its end */
		rr[n] = malloc(k ? k : 1);
		if (rr[n] == NULL)
			break;
		memcpy((void *)rr[n], data + pos, k);
		len[n++] = (int)k;
		pos += k;
	}
	memset(&a, 0, sizeof(a));
	a.status = DNS_OK;
	a.n = n;
	a.data = rr;
	a.len = len;
	m = dns_mx_classify(&a);
	if (m != DNS_MAILHOST_FOUND && m != DNS_MAILHOST_NULLMX &&
	    m != DNS_MAILHOST_INVALID)
		abort();
	while (n > 0)
		free((void *)rr[--n]);
	return 0;
}
