/*
 * libFuzzer target for the pure TLSA code of src/dns/dns_tlsa.c. The bytes
 * are TLSA rdata for dns_tlsa_rdata(): a usable record has a DANE usage,
 * a known selector and matching type and a digest of the right length,
 * and its data is exactly the input after the three parameter bytes.
 * Then they are cut into an answer of several records (one length byte
 * each) for dns_tlsa_classify(), secure or not by the first byte: the
 * verdict must follow from the records' own verdicts (RFC 7672 2.2).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns.h"
#include "dns/dns_tlsa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

#define FUZZ_TLSA_RECORDS 8

static void
check_rdata(const uint8_t *data, size_t size)
{
	unsigned char *copy = malloc(size > 0 ? size : 1);
	struct dns_tlsa t;
	enum dns_tlsa_rr v;

	if (copy == NULL)
		return;
	memcpy(copy, data, size); /* its own allocation: ASan sees overreads */
	v = dns_tlsa_rdata(copy, size, &t);
	if (size < 4)
		CHECK(v == DNS_TLSA_RR_MALFORMED);
	if (v == DNS_TLSA_RR_USABLE) {
		CHECK(t.usage == 2 || t.usage == 3);
		CHECK(t.selector <= 1 && t.mtype <= 2);
		CHECK(t.mtype != 1 || t.len == 32);
		CHECK(t.mtype != 2 || t.len == 64);
		CHECK(t.len > 0 && t.len == size - 3 && t.data == copy + 3);
		CHECK(t.usage == data[0] && t.selector == data[1] &&
		    t.mtype == data[2]);
	}
	free(copy);
}

static void
check_classify(const uint8_t *data, size_t size)
{
	const unsigned char *rr[FUZZ_TLSA_RECORDS];
	int len[FUZZ_TLSA_RECORDS];
	unsigned char *owned[FUZZ_TLSA_RECORDS];
	struct dns_answer a;
	struct dns_tlsa_set s;
	struct dns_tlsa t;
	size_t off = 1, n = 0, usable = 0, i, l;

	if (size == 0)
		return;
	memset(&a, 0, sizeof(a));
	a.status = (enum dns_status)(data[0] % 5);
	a.secure = (data[0] & 0x80) != 0;
	while (n < FUZZ_TLSA_RECORDS && off < size) {
		l = data[off++];
		if (l > size - off)
			l = size - off;
		owned[n] = malloc(l > 0 ? l : 1);
		if (owned[n] == NULL)
			break;
		memcpy(owned[n], data + off, l);
		rr[n] = owned[n];
		len[n] = (int)l;
		if (dns_tlsa_rdata(owned[n], l, &t) == DNS_TLSA_RR_USABLE)
			usable++;
		off += l;
		n++;
	}
	a.n = a.status == DNS_OK ? n : 0;
	a.data = rr;
	a.len = len;
	dns_tlsa_classify(&a, &s);
	switch (a.status) {
	case DNS_OK:
		if (!a.secure)
			CHECK(s.status == DNS_DANE_NONE && s.n == 0);
		else if (usable > 0)
			CHECK(s.status == DNS_DANE_USABLE && s.n == usable);
		else
			CHECK(s.status == DNS_DANE_UNUSABLE && s.n == 0);
		break;
	case DNS_NODATA:
	case DNS_NXDOMAIN:
		CHECK(s.status == DNS_DANE_NONE);
		break;
	default:
		CHECK(s.status == DNS_DANE_TEMPFAIL);
		break;
	}
	for (i = 0; i < s.n; i++)
		CHECK(s.rr[i].usage == 2 || s.rr[i].usage == 3);
	dns_tlsa_set_free(&s);
	for (i = 0; i < n; i++)
		free(owned[i]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_rdata(data, size);
	check_classify(data, size);
	return 0;
}
