/*
 * libFuzzer target for the store's index recovery (src/store/
 * store_index.c, store_sync.c): the input is written as the index file
 * of a temporary Maildir holding a few messages, then store_open,
 * store_mailbox_open and a sync run on it. Whatever the file holds they
 * must not crash; they may fail with -1, and when they succeed the view
 * holds messages in ascending UID order with valid UIDLs (the index is
 * a cache the store trusts while the directories look unchanged, so
 * rows of a well-formed index may stand for files that are not there).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "store/maildir.h"
#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

static char fuzz_dir[64];
static char *fuzz_maildir, *fuzz_index;

static void
fuzz_cleanup(void)
{
	(void)fs_rm_rf(fuzz_dir);
}

static void
fuzz_init(void)
{
	static const char *const files[] = {
		"new/1700000000.M1Q1R0.h,S=12,W=14",
		"new/1700000001.M1Q2R0.h,S=12",
		"cur/1700000002.M1Q3R0.h:2,S",
	};
	size_t i;

	log_set_min_level(LOG_LEVEL_FATAL);
	(void)snprintf(fuzz_dir, sizeof(fuzz_dir), "/tmp/mw-fuzz-store-XXXXXX");
	CHECK(mkdtemp(fuzz_dir) != NULL);
	(void)atexit(fuzz_cleanup);
	fuzz_maildir = xasprintf("%s/Maildir", fuzz_dir);
	fuzz_index = xasprintf("%s/mailwright-index.db", fuzz_dir);
	CHECK(maildir_ensure(fuzz_maildir) == 0);
	for (i = 0; i < MW_NELEM(files); i++) {
		char *p = xasprintf("%s/%s", fuzz_maildir, files[i]);

		CHECK(fs_atomic_write(p, "Subject: x\n\n", 12, 0600) == 0);
		free(p);
	}
}

/* Removes every index file and what recovery moved aside. */
static void
fuzz_clear_index(void)
{
	struct dirent *de;
	DIR *d = opendir(fuzz_dir);

	CHECK(d != NULL);
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, "mailwright-index", 16) == 0) {
			char *p = xasprintf("%s/%s", fuzz_dir, de->d_name);

			(void)unlink(p);
			free(p);
		}
	(void)closedir(d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store *st = NULL;
	struct store_mailbox *mb = NULL;
	struct store_sync_result res;
	struct buf err;
	size_t i;

	if (fuzz_maildir == NULL)
		fuzz_init();
	fuzz_clear_index();
	CHECK(fs_atomic_write(fuzz_index, data, size, 0600) == 0);
	buf_init(&err, 4096);
	if (store_open(fuzz_maildir, &st, &err) == 0) {
		if (store_mailbox_open(st, "INBOX", false, &mb, &err) == 0) {
			if (store_mailbox_sync(mb, &res, &err) == 0) {
				for (i = 0; i < store_mailbox_count(mb); i++) {
					const struct store_msg *m =
					    store_mailbox_msg(mb, i);
					size_t n = strlen(m->uidl);

					CHECK(m->uid != 0 && n >= 1 && n <= 70);
					CHECK(i == 0 ||
					    m->uid >
					        store_mailbox_msg(mb, i - 1)
					            ->uid);
				}
			}
			store_mailbox_close(&mb);
		}
		store_close(&st);
	}
	buf_free(&err);
	return 0;
}
