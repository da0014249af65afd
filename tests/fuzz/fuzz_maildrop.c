/*
 * libFuzzer target for maildrop files (queue/maildrop.c), which any local
 * user can write: the input as a whole file image (header, message,
 * record, trailer) and as a bare record. Checked: no crash; a decoded
 * record has its bounds (at least one recipient, every address in normal
 * form with an '@', known flags, lengths within their limits), and
 * encoding it again gives a record that decodes to the same values.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/mailaddr.h"
#include "queue/maildrop.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

static void
check_addr(const char *a, int empty_ok)
{
	char *norm;

	if (a[0] == '\0') {
		CHECK(empty_ok);
		return;
	}
	CHECK(strlen(a) <= MAILDROP_ADDR_MAX && strchr(a, '@') != NULL);
	norm = mailaddr_normalize(a);
	CHECK(norm != NULL && strcmp(norm, a) == 0);
	free(norm);
}

static void
check_rec(const struct maildrop_rec *r)
{
	struct maildrop_rec *again;
	struct buf b;
	size_t i;

	CHECK(r->nrcpt >= 1);
	CHECK((r->flags & ~(unsigned)MAILDROP_F_ALL) == 0);
	CHECK(r->time_usec <= 999999);
	CHECK(strlen(r->fullname) <= MAILDROP_FULLNAME_MAX);
	check_addr(r->sender, 1);
	for (i = 0; i < r->nrcpt; i++)
		check_addr(r->rcpts[i], 0);
	buf_init(&b, MAILDROP_RECORD_MAX);
	CHECK(maildrop_rec_encode(r, &b) == 0);
	again = maildrop_rec_decode(b.data, b.len, NULL);
	CHECK(again != NULL);
	CHECK(again->time == r->time && again->time_usec == r->time_usec);
	CHECK(again->flags == r->flags && again->nrcpt == r->nrcpt);
	CHECK(strcmp(again->sender, r->sender) == 0);
	CHECK(strcmp(again->fullname, r->fullname) == 0);
	for (i = 0; i < r->nrcpt; i++)
		CHECK(strcmp(again->rcpts[i], r->rcpts[i]) == 0);
	maildrop_rec_free(&again);
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct maildrop_rec *r;
	struct buf err;
	uint64_t len = 0;

	buf_init(&err, 1024);
	r = maildrop_image_decode(p, size, 4096, &len, &err);
	if (r != NULL) {
		CHECK(len <= 4096 && MAILDROP_HEAD_SIZE + len < size);
		check_rec(r);
		maildrop_rec_free(&r);
	} else
		CHECK((errno == EBADMSG || errno == ENOTSUP) && err.len > 0);
	r = maildrop_rec_decode(p, size, &err);
	if (r != NULL) {
		check_rec(r);
		maildrop_rec_free(&r);
	} else
		CHECK(errno == EBADMSG && err.len > 0);
	buf_free(&err);
	return 0;
}
