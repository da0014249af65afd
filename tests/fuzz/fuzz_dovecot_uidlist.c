/*
 * libFuzzer target for dovecot-uidlist and dovecot-keywords
 * (src/store/dovecot_uidlist.c): a parsed list has ascending unique UIDs
 * below nextuid, bases that are safe names and findable, UIDLs of RFC
 * 1939 7's shape, and no more records than allowed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "store/dovecot_uidlist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dovecot_uidlist *ul = NULL;
	char *names[26] = { 0 };
	struct buf err;
	size_t i, k;

	buf_init(&err, 256);
	if (dovecot_uidlist_parse((const char *)data, size, 50, &ul, &err) ==
	    0) {
		CHECK(ul->n <= 50 && ul->uidvalidity != 0);
		for (i = 0; i < ul->n; i++) {
			const struct dovecot_uidlist_rec *r = &ul->v[i];

			CHECK(r->uid != 0 && r->uid < ul->nextuid);
			CHECK(i == 0 || r->uid > ul->v[i - 1].uid);
			CHECK(r->base_len > 0 && r->base_len <= 255);
			CHECK(r->base[0] != '.');
			CHECK(memchr(r->base, '/', r->base_len) == NULL);
			CHECK(dovecot_uidlist_find(ul, r->base, r->base_len) ==
			    r);
			CHECK(r->uidl_len <= 70);
			for (k = 0; k < r->uidl_len; k++)
				CHECK(r->uidl[k] > 0x20 && r->uidl[k] < 0x7f);
		}
		dovecot_uidlist_free(&ul);
	} else
		CHECK(ul == NULL);
	buf_free(&err);
	(void)dovecot_keywords_parse((const char *)data, size, names);
	for (i = 0; i < 26; i++) {
		if (names[i] != NULL)
			CHECK(names[i][0] != '\0' && strlen(names[i]) <= 255 &&
			    strchr(names[i], ' ') == NULL);
		free(names[i]);
	}
	return 0;
}
