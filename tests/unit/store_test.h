/*
 * Helpers the store's unit tests share: a temporary Maildir, files put
 * into it the way deliveries and other programs do, and a quick way to
 * open the store and INBOX.
 */
#ifndef TESTS_UNIT_STORE_TEST_H
#define TESTS_UNIT_STORE_TEST_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/buf.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "store/maildir.h"
#include "store/store.h"

struct store_fixture {
	char dir[64];
	char *maildir;
	char *index;
};

static __attribute__((unused)) int
store_fixture_setup(void **state)
{
	struct store_fixture *f = xcalloc(1, sizeof(*f));

	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/mw-test-store-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	f->maildir = xasprintf("%s/example.test/bob/Maildir", f->dir);
	f->index = xasprintf("%s/example.test/bob/mailwright-index.db", f->dir);
	if (maildir_ensure(f->maildir) == -1)
		return -1;
	*state = f;
	return 0;
}

static __attribute__((unused)) int
store_fixture_teardown(void **state)
{
	struct store_fixture *f = *state;

	(void)fs_rm_rf(f->dir);
	free(f->maildir);
	free(f->index);
	free(f);
	return 0;
}

/* Writes maildir/sub/name with body. */
static __attribute__((unused)) void
put_file(const struct store_fixture *f, const char *sub, const char *name,
    const char *body)
{
	char *p = xasprintf("%s/%s/%s", f->maildir, sub, name);

	assert_int_equal(fs_atomic_write(p, body, strlen(body), 0600), 0);
	free(p);
}

/* The one entry of maildir/sub whose name starts with prefix (malloc'd),
 * or NULL. */
static __attribute__((unused)) char *
find_file(const struct store_fixture *f, const char *sub, const char *prefix)
{
	char *path = xasprintf("%s/%s", f->maildir, sub), *ret = NULL;
	struct dirent *de;
	DIR *d = opendir(path);

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0) {
			assert_null(ret);
			ret = xstrdup(de->d_name);
		}
	(void)closedir(d);
	free(path);
	return ret;
}

static __attribute__((unused)) void
open_inbox(
    const struct store_fixture *f, struct store **st, struct store_mailbox **mb)
{
	struct buf err;

	buf_init(&err, 4096);
	if (store_open(f->maildir, st, &err) != 0)
		fail_msg("store_open: %s", buf_cstr(&err));
	if (store_mailbox_open(*st, "INBOX", false, mb, &err) != 0)
		fail_msg("store_mailbox_open: %s", buf_cstr(&err));
	buf_free(&err);
}

static __attribute__((unused)) void
sync_ok(struct store_mailbox *mb, struct store_sync_result *res)
{
	struct buf err;

	buf_init(&err, 4096);
	if (store_mailbox_sync(mb, res, &err) != 0)
		fail_msg("store_mailbox_sync: %s", buf_cstr(&err));
	buf_free(&err);
}

/* Sets the mtimes of cur/ and new/ 10 s back: old enough to trust. */
static __attribute__((unused)) void
age_dirs(const struct store_fixture *f)
{
	static const char *const subs[] = { "cur", "new" };
	struct timespec ts[2];
	size_t i;

	(void)clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= 10;
	ts[1] = ts[0];
	for (i = 0; i < 2; i++) {
		char *p = xasprintf("%s/%s", f->maildir, subs[i]);

		assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
		free(p);
	}
}

#endif
