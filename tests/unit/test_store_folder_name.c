/*
 * Unit tests for the folder name mapping (src/store/store_folder_name.c):
 * IMAP names to Maildir++ directories and back, as Dovecot writes them,
 * and every name that could escape or confuse the layout refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the headers above first */
// clang-format off
#include <cmocka.h>
// clang-format on

#include <string.h>

#include "lib/buf.h"
#include "store/store_folder_name.h"

struct name_row {
	const char *label, *name, *canon, *disk; /* disk NULL: refused */
};

// clang-format off
static const struct name_row name_rows[] = {
	{ "plain",            "Sent",          "Sent",          ".Sent" },
	{ "inbox",            "INBOX",         "INBOX",         "" },
	{ "inbox any case",   "iNbOx",         "INBOX",         "" },
	{ "inbox child",      "inbox/Lists",   "INBOX/Lists",   ".INBOX.Lists" },
	{ "nested",           "a/b/c",         "a/b/c",         ".a.b.c" },
	{ "inbox deeper",     "a/INBOX",       "a/INBOX",       ".a.INBOX" },
	{ "utf-8",            "Entw\xc3\xbc" "rfe", "Entw\xc3\xbc" "rfe", ".Entw&APw-rfe" },
	{ "ampersand",        "R&D",           "R&D",           ".R&-D" },
	{ "space",            "Old Mail",      "Old Mail",      ".Old Mail" },
	{ "tilde",            "~x",            "~x",            ".~x" },
	{ "empty",            "",              NULL,            NULL },
	{ "leading sep",      "/a",            NULL,            NULL },
	{ "trailing sep",     "a/",            NULL,            NULL },
	{ "double sep",       "a//b",          NULL,            NULL },
	{ "dot level",        "a/./b",         NULL,            NULL },
	{ "dotdot level",     "../x",          NULL,            NULL },
	{ "dot inside",       "a.b",           NULL,            NULL },
	{ "leading dot",      ".x",            NULL,            NULL },
	{ "control",          "a\tb",          NULL,            NULL },
	{ "del",              "a\x7f",         NULL,            NULL },
	{ "wildcard star",    "a*",            NULL,            NULL },
	{ "wildcard percent", "a%",            NULL,            NULL },
	{ "bad utf-8",        "a\xff",         NULL,            NULL },
	{ "overlong utf-8",   "\xc0\xaf",      NULL,            NULL },
};
// clang-format on

static void
test_store_folder_name_table(void **state)
{
	struct buf canon, disk, back;
	const char *why;
	size_t i;

	(void)state;
	buf_init(&canon, 4096);
	buf_init(&disk, 4096);
	buf_init(&back, 4096);
	for (i = 0; i < sizeof(name_rows) / sizeof(name_rows[0]); i++) {
		const struct name_row *r = &name_rows[i];
		size_t len = strlen(r->name);
		int a, b;

		buf_reset(&canon);
		buf_reset(&disk);
		why = NULL;
		a = store_folder_name_canon(r->name, len, &canon, &why);
		b = store_folder_name_to_disk(r->name, len, &disk, &why);
		if (r->disk == NULL) {
			if (a != -1 || b != -1)
				fail_msg("%s: accepted", r->label);
			assert_int_equal(errno, EINVAL);
			assert_non_null(why);
			assert_int_equal(canon.len, 0);
			assert_int_equal(disk.len, 0);
			continue;
		}
		if (a != 0 || b != 0)
			fail_msg("%s: refused: %s", r->label, why);
		assert_string_equal(buf_cstr(&canon), r->canon);
		assert_string_equal(buf_cstr(&disk), r->disk);
		if (r->disk[0] == '\0')
			continue;
		buf_reset(&back);
		assert_int_equal(store_folder_name_from_disk(
		                     disk.data, disk.len, &back, &why),
		    0);
		assert_string_equal(buf_cstr(&back), r->canon);
	}
	buf_free(&canon);
	buf_free(&disk);
	buf_free(&back);
}

static const char *const bad_disk[] = {
	".",
	"..",
	"..DOVECOT-TRASH",
	".a.",
	".a..b",
	"x",
	".INBOX",
	".inbox.x",
	".Inbox",
	".a&Jjo",
	".&AGE-",
	".a*",
	".a%b",
	".a\tb",
	"cur",
	".&AOk-&AOk-",
};

static void
test_store_folder_name_bad_disk(void **state)
{
	struct buf out;
	const char *why;
	size_t i;

	(void)state;
	buf_init(&out, 4096);
	for (i = 0; i < sizeof(bad_disk) / sizeof(bad_disk[0]); i++) {
		errno = 0;
		if (store_folder_name_from_disk(
		        bad_disk[i], strlen(bad_disk[i]), &out, &why) != -1)
			fail_msg(
			    "%s: accepted as %s", bad_disk[i], buf_cstr(&out));
		assert_int_equal(errno, EINVAL);
		assert_int_equal(out.len, 0);
	}
	/* "&-&-" is two ampersands, canonical: fine */
	assert_int_equal(
	    store_folder_name_from_disk(".&-&-", 5, &out, &why), 0);
	assert_string_equal(buf_cstr(&out), "&&");
	buf_free(&out);
}

/* The directory name may be 255 bytes (NAME_MAX) with its dot. */
static void
test_store_folder_name_length_limit(void **state)
{
	char name[300];
	struct buf out;
	const char *why;
	size_t n;

	(void)state;
	buf_init(&out, 4096);
	for (n = 253; n <= 256; n++) {
		memset(name, 'x', n);
		name[n] = '\0';
		buf_reset(&out);
		if (n + 1 <= STORE_FOLDER_DISK_MAX) {
			assert_int_equal(
			    store_folder_name_to_disk(name, n, &out, &why), 0);
			assert_int_equal(out.len, n + 1);
		} else
			assert_int_equal(
			    store_folder_name_to_disk(name, n, &out, &why), -1);
	}
	/* with levels: ".a.<252 x>" is 255 */
	name[0] = 'a';
	name[1] = '/';
	memset(name + 2, 'x', 252);
	buf_reset(&out);
	assert_int_equal(store_folder_name_to_disk(name, 254, &out, &why), 0);
	assert_int_equal(out.len, 255);
	name[254] = 'x';
	buf_reset(&out);
	assert_int_equal(store_folder_name_to_disk(name, 255, &out, &why), -1);
	buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_folder_name_table),
		cmocka_unit_test(test_store_folder_name_bad_disk),
		cmocka_unit_test(test_store_folder_name_length_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
