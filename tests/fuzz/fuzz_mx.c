/*
 * libFuzzer target for the pure MX code of src/dns/dns_mx.c. The bytes are
 * MX rdata for dns_mx_rdata(): what it accepts must be a host name whose
 * wire form (lower case) is exactly the input. Then they are a list of
 * records for dns_mx_order() (two bytes each: a preference from a small
 * range, so that ties are common, and a random value), ordered with a
 * deterministic random source: the result must be sorted by preference,
 * hold every record once, and use one random value per tied record.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_mx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

#define FUZZ_MX_MAX 32

static void
check_rdata(const uint8_t *data, size_t size)
{
	unsigned char *copy = malloc(size > 0 ? size : 1), *p;
	unsigned char wire[2 + DNS_HOST_MAX + 2];
	struct dns_mx mx;
	size_t n, o, i, start;

	if (copy == NULL)
		return;
	memcpy(copy, data, size); /* its own allocation: ASan sees overreads */
	if (dns_mx_rdata(copy, size, &mx) == 0) {
		n = strlen(mx.host);
		CHECK(n < DNS_HOST_MAX);
		CHECK(mx.pref == ((unsigned)data[0] << 8 | data[1]));
		/* rebuild the wire form from the text */
		wire[0] = data[0];
		wire[1] = data[1];
		o = 2;
		for (start = 0, i = 0; n > 0 && i <= n; i++) {
			if (i < n && mx.host[i] != '.')
				continue;
			CHECK(
			    i > start && i - start <= 63); /* no empty label */
			wire[o++] = (unsigned char)(i - start);
			memcpy(wire + o, mx.host + start, i - start);
			o += i - start;
			start = i + 1;
		}
		wire[o++] = 0;
		CHECK(o == size);
		for (i = 0; i < size; i++) {
			unsigned char c = copy[i];

			/* the name's letters folded, not the preference */
			if (i >= 2 && c >= 'A' && c <= 'Z')
				c = (unsigned char)(c - 'A' + 'a');
			CHECK(wire[i] == c);
		}
		for (p = (unsigned char *)mx.host; *p != '\0'; p++)
			CHECK(*p > ' ' && *p < 0x7f && *p != '\\' &&
			    !(*p >= 'A' && *p <= 'Z'));
	}
	free(copy);
}

struct rnd {
	const uint8_t *v;
	size_t n, calls;
};

static uint64_t
rnd_next(void *arg)
{
	struct rnd *r = arg;
	uint64_t v = 0;

	/* a byte of the input, scaled up so that the modulo matters */
	if (r->n > 0)
		v = (uint64_t)r->v[r->calls % r->n] * 0x9e3779b97f4a7c15ULL;
	r->calls++;
	return v;
}

static void
check_order(const uint8_t *data, size_t size)
{
	struct dns_mx v[FUZZ_MX_MAX];
	uint8_t rv[FUZZ_MX_MAX];
	bool seen[FUZZ_MX_MAX] = { false };
	struct rnd r;
	size_t n, i, k, want_calls;

	for (n = 0; n < FUZZ_MX_MAX && 2 * n + 1 < size; n++) {
		memset(&v[n], 0, sizeof(v[n]));
		v[n].pref = data[2 * n] % 8 * 10;
		(void)snprintf(v[n].host, sizeof(v[n].host), "%zu", n);
		rv[n] = data[2 * n + 1];
	}
	/* ties to shuffle: one random value for each record but the first
	 * of its preference */
	for (want_calls = 0, i = 0; i < n; i++)
		for (k = 0; k < i; k++)
			if (v[k].pref == v[i].pref) {
				want_calls++;
				break;
			}
	r.v = rv;
	r.n = n;
	r.calls = 0;
	dns_mx_order(n > 0 ? v : NULL, n, rnd_next, &r);
	CHECK(r.calls == want_calls);
	for (i = 0; i < n; i++) {
		k = strtoul(v[i].host, NULL, 10);
		CHECK(k < n && !seen[k]);
		seen[k] = true;
		CHECK(v[i].pref == data[2 * k] % 8 * 10);
		if (i > 0)
			CHECK(v[i - 1].pref <= v[i].pref);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_rdata(data, size);
	check_order(data, size);
	return 0;
}
