/*
 * libFuzzer target for folder names (src/store/store_folder_name.c):
 * both directions never read past the input and leave the output alone
 * on error; a directory entry that maps to a name maps back to itself
 * (disk -> IMAP -> disk), an accepted IMAP name maps to a directory of
 * at most NAME_MAX that maps back to its canonical form, and nothing
 * accepted holds "/", NUL or a "." or ".." level on disk.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "store/store_folder_name.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct buf a, b, c;
	const char *why;

	buf_init(&a, 4096);
	buf_init(&b, 4096);
	buf_init(&c, 4096);
	/* as a directory entry */
	if (store_folder_name_from_disk(s, size, &a, &why) == 0) {
		CHECK(a.len > 0);
		CHECK(store_folder_name_to_disk(a.data, a.len, &b, &why) == 0);
		CHECK(b.len == size && memcmp(b.data, s, size) == 0);
		CHECK(store_folder_name_canon(a.data, a.len, &c, &why) == 0);
		CHECK(c.len == a.len && memcmp(c.data, a.data, a.len) == 0);
	} else
		CHECK(a.len == 0);
	buf_reset(&a);
	buf_reset(&b);
	buf_reset(&c);
	/* as an IMAP name */
	if (store_folder_name_to_disk(s, size, &a, &why) == 0) {
		CHECK(store_folder_name_canon(s, size, &c, &why) == 0);
		CHECK(a.len <= STORE_FOLDER_DISK_MAX);
		CHECK(memchr(a.data != NULL ? a.data : "", '/', a.len) == NULL);
		if (a.len == 0) {
			CHECK(c.len == 5 && memcmp(c.data, "INBOX", 5) == 0);
		} else {
			CHECK(
			    a.data[0] == '.' && a.len >= 2 && a.data[1] != '.');
			CHECK(a.data[a.len - 1] != '.');
			CHECK(strstr(a.data, "..") == NULL);
			CHECK(store_folder_name_from_disk(
			          a.data, a.len, &b, &why) == 0);
			CHECK(b.len == c.len &&
			    memcmp(b.data, c.data, c.len) == 0);
		}
	} else
		CHECK(a.len == 0);
	buf_free(&a);
	buf_free(&b);
	buf_free(&c);
	return 0;
}
