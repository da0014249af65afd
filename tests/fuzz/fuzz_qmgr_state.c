/*
 * libFuzzer target for the queue manager's delivery state file
 * (src/queue/qmgr_state.c). The first byte is the envelope's recipient
 * count (0..31), the rest the file for qmgr_state_decode(). What decodes
 * is encoded and decoded again: that must succeed and give the same state
 * and bytes (when every value is within what the encoder writes
 * unchanged); after one round, encoding is a fixed point.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "queue/qmgr_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

/* QMGR_STATE_REASON_MAX and the cut of sent addresses in qmgr_state.c */
#define FUZZ_REASON_MAX  1000
#define FUZZ_ADDRESS_MAX 2048

/* Would the encoder write st unchanged? Long values are cut (the
 * decoder refuses a raw DEL in the reason, so it cannot change). */
static bool
encodes_unchanged(const struct qmgr_state *st)
{
	size_t i;

	if (st->reason != NULL && strlen(st->reason) > FUZZ_REASON_MAX)
		return false;
	for (i = 0; i < st->nsent; i++)
		if (strlen(st->sent[i].address) > FUZZ_ADDRESS_MAX)
			return false;
	for (i = 0; st->why != NULL && i < st->nrcpt; i++)
		if (st->why[i] != NULL && strlen(st->why[i]) > FUZZ_REASON_MAX)
			return false;
	return true;
}

static void
check_equal(const struct qmgr_state *a, const struct qmgr_state *b)
{
	size_t i;

	CHECK(a->attempts == b->attempts);
	CHECK(a->next_retry == b->next_retry);
	CHECK(a->nrcpt == b->nrcpt);
	CHECK(a->warned == b->warned);
	CHECK(a->exists && b->exists);
	for (i = 0; i < a->nrcpt; i++)
		CHECK(a->done[i] == b->done[i]);
	CHECK(strcmp(a->reason, b->reason) == 0);
	CHECK(a->nsent == b->nsent);
	for (i = 0; i < a->nsent; i++) {
		CHECK(a->sent[i].rcpt < a->nrcpt);
		CHECK(
		    qmgr_state_is_sent(b, a->sent[i].rcpt, a->sent[i].address));
	}
	for (i = 0; i < a->nrcpt; i++) {
		const char *wa = a->why != NULL ? a->why[i] : NULL;
		const char *wb = b->why != NULL ? b->why[i] : NULL;

		CHECK((wa == NULL) == (wb == NULL));
		CHECK(wa == NULL || strcmp(wa, wb) == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qmgr_state st, back, again;
	struct buf text, text2, text3, err;
	size_t nrcpt;
	char *copy;

	if (size == 0)
		return 0;
	nrcpt = data[0] % 32;
	/* the file in its own allocation: ASan sees reads past its end */
	copy = malloc(size - 1 > 0 ? size - 1 : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data + 1, size - 1);
	buf_init(&err, 1024);
	qmgr_state_init(&st, nrcpt);
	if (qmgr_state_decode(copy, size - 1, &st, &err) == -1) {
		CHECK(err.len > 0 && memchr(err.data, '\n', err.len) == NULL);
		CHECK(!st.exists);
		goto out;
	}
	CHECK(st.reason != NULL);
	buf_init(&text, 1 << 24);
	buf_init(&text2, 1 << 24);
	buf_init(&text3, 1 << 24);
	CHECK(qmgr_state_encode(&st, &text) == 0);
	qmgr_state_init(&back, nrcpt);
	CHECK(qmgr_state_decode(text.data, text.len, &back, &err) == 0);
	if (encodes_unchanged(&st))
		check_equal(&st, &back);
	/* what the encoder wrote, it writes unchanged: a fixed point */
	CHECK(encodes_unchanged(&back));
	CHECK(qmgr_state_encode(&back, &text2) == 0);
	if (encodes_unchanged(&st))
		CHECK(text.len == text2.len &&
		    memcmp(text.data, text2.data, text.len) == 0);
	qmgr_state_init(&again, nrcpt);
	CHECK(qmgr_state_decode(text2.data, text2.len, &again, &err) == 0);
	check_equal(&back, &again);
	CHECK(qmgr_state_encode(&again, &text3) == 0);
	CHECK(text2.len == text3.len &&
	    memcmp(text2.data, text3.data, text2.len) == 0);
	qmgr_state_free(&again);
	qmgr_state_free(&back);
	buf_free(&text3);
	buf_free(&text2);
	buf_free(&text);
out:
	qmgr_state_free(&st);
	buf_free(&err);
	free(copy);
	return 0;
}
