/*
 * Unit tests for maildrop files (queue/maildrop.c): the record round trip
 * with hostile strings, a table of malformed records, every truncation of
 * a record and of a whole file rejected, every damaged byte outside the
 * message caught, forged trailers, versions, the size bound, names, and
 * the writer (temporary name, mode 0644 under any umask, final name,
 * removal when not committed).
 */
/* cmocka.h needs these first */
// clang-format off
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
// clang-format on

#include "lib/buf.h"
#include "lib/fs.h"
#include "lib/mw.h"
#include "lib/xalloc.h"
#include "queue/maildrop.h"

static const char *const good_rcpts[] = {
	"bob@example.test",
	"\"a b\"@example.test",
	"\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.test",
	"x%y@example.test",
};

static void
fill_rec(struct maildrop_rec *r)
{
	memset(r, 0, sizeof(*r));
	r->time = 1700000000;
	r->time_usec = 999999;
	r->sender = "alice@example.test";
	r->flags = MAILDROP_F_SENDER | MAILDROP_F_ADD_DATE | MAILDROP_F_8BIT;
	r->fullname = "Alice \"Al\" %20 Example \xc3\xa9";
	r->rcpts = good_rcpts;
	r->nrcpt = MW_NELEM(good_rcpts);
}

static void
test_maildrop_rec_round_trip(void **state)
{
	struct maildrop_rec r, *d;
	struct buf b, err;
	size_t i;

	(void)state;
	fill_rec(&r);
	buf_init(&b, 1 << 16);
	buf_init(&err, 1024);
	assert_int_equal(maildrop_rec_encode(&r, &b), 0);
	d = maildrop_rec_decode(b.data, b.len, &err);
	if (d == NULL)
		fail_msg("%s", buf_cstr(&err));
	assert_int_equal(d->time, r.time);
	assert_int_equal(d->time_usec, r.time_usec);
	assert_string_equal(d->sender, r.sender);
	assert_int_equal(d->flags, r.flags);
	assert_string_equal(d->fullname, r.fullname);
	assert_int_equal(d->nrcpt, r.nrcpt);
	for (i = 0; i < r.nrcpt; i++)
		assert_string_equal(d->rcpts[i], r.rcpts[i]);
	maildrop_rec_free(&d);
	assert_null(d);
	/* the null sender and an empty name */
	r.sender = "";
	r.fullname = "";
	buf_reset(&b);
	assert_int_equal(maildrop_rec_encode(&r, &b), 0);
	assert_non_null(d = maildrop_rec_decode(b.data, b.len, &err));
	assert_string_equal(d->sender, "");
	assert_string_equal(d->fullname, "");
	maildrop_rec_free(&d);
	buf_free(&b);
	buf_free(&err);
}

struct bad_rec {
	const char *name;
	const char *rec;
};

#define HEAD "time 1 2\nsender a@b.example\nflags 0\nfullname x\n"

// clang-format off
static const struct bad_rec bad_recs[] = {
	{ "good (control row)", NULL },
	{ "empty", "" },
	{ "no end", HEAD "nrcpt 1\nrcpt c@d.example\n" },
	{ "after end", HEAD "nrcpt 1\nrcpt c@d.example\nend\nx" },
	{ "end without LF", HEAD "nrcpt 1\nrcpt c@d.example\nend" },
	{ "fields out of order", "sender a@b.example\ntime 1 2\nflags 0\nfullname x\nnrcpt 1\nrcpt c@d.example\nend\n" },
	{ "unknown field", HEAD "color red\nnrcpt 1\nrcpt c@d.example\nend\n" },
	{ "time without usec", "time 1\nsender a@b.example\nflags 0\nfullname x\nnrcpt 1\nrcpt c@d.example\nend\n" },
	{ "usec too big", "time 1 1000000\nsender a@b.example\nflags 0\nfullname x\nnrcpt 1\nrcpt c@d.example\nend\n" },
	{ "time signed", "time -1 2\nsender a@b.example\nflags 0\nfullname x\nnrcpt 1\nrcpt c@d.example\nend\n" },
	{ "unknown flag bit", "time 1 2\nsender a@b.example\nflags 64\nfullname x\nnrcpt 1\nrcpt c@d.example\nend\n" },
	{ "flags not a number", "time 1 2\nsender a@b.example\nflags x\nfullname x\nnrcpt 1\nrcpt c@d.example\nend\n" },
	{ "no recipients", HEAD "nrcpt 0\nend\n" },
	{ "nrcpt too big", HEAD "nrcpt 2\nrcpt c@d.example\nend\n" },
	{ "nrcpt huge", HEAD "nrcpt 99999999999\nrcpt c@d.example\nend\n" },
	{ "nrcpt too small", HEAD "nrcpt 1\nrcpt c@d.example\nrcpt e@f.example\nend\n" },
	{ "lower-case escape", HEAD "nrcpt 1\nrcpt c%2bd@e.example\nend\n" },
	{ "needless escape", HEAD "nrcpt 1\nrcpt %63@d.example\nend\n" },
	{ "NUL escape", HEAD "nrcpt 1\nrcpt c%00@d.example\nend\n" },
	{ "short escape", HEAD "nrcpt 1\nrcpt c@d.example%2\nend\n" },
	{ "unescaped tab", HEAD "nrcpt 1\nrcpt c\t@d.example\nend\n" },
	{ "raw CR", HEAD "nrcpt 1\nrcpt c\r@d.example\nend\n" },
	{ "recipient without @", HEAD "nrcpt 1\nrcpt root\nend\n" },
	{ "recipient not normalised", HEAD "nrcpt 1\nrcpt c@D.Example\nend\n" },
	{ "recipient empty", HEAD "nrcpt 1\nrcpt \nend\n" },
	{ "recipient bad syntax", HEAD "nrcpt 1\nrcpt a..b@c.example\nend\n" },
	{ "sender not normalised", "time 1 2\nsender a@B.example\nflags 0\nfullname x\nnrcpt 1\nrcpt c@d.example\nend\n" },
	{ "sender without @", "time 1 2\nsender alice\nflags 0\nfullname x\nnrcpt 1\nrcpt c@d.example\nend\n" },
	{ "control byte in fullname", "time 1 2\nsender a@b.example\nflags 0\nfullname x%0Ay\nnrcpt 1\nrcpt c@d.example\nend\n" },
	{ "key without space", "time 1 2\nsender a@b.example\nflags 0\nfullname\nnrcpt 1\nrcpt c@d.example\nend\n" },
};
// clang-format on

static void
test_maildrop_rec_bad_table(void **state)
{
	const char *good = HEAD "nrcpt 1\nrcpt c@d.example\nend\n";
	struct maildrop_rec *r;
	struct buf err;
	size_t i;

	(void)state;
	buf_init(&err, 1024);
	for (i = 0; i < MW_NELEM(bad_recs); i++) {
		const char *p =
		    bad_recs[i].rec != NULL ? bad_recs[i].rec : good;

		r = maildrop_rec_decode(p, strlen(p), &err);
		if (bad_recs[i].rec == NULL) {
			if (r == NULL)
				fail_msg("control row: %s", buf_cstr(&err));
		} else if (r != NULL)
			fail_msg("%s: accepted", bad_recs[i].name);
		else {
			assert_int_equal(errno, EBADMSG);
			assert_true(err.len > 0);
		}
		maildrop_rec_free(&r);
	}
	buf_free(&err);
}

static void
test_maildrop_rec_length_limits(void **state)
{
	struct maildrop_rec r, *d;
	struct buf b, err, name, addr;
	size_t i;
	const char *rc[1];

	(void)state;
	buf_init(&b, 1 << 16);
	buf_init(&err, 1024);
	buf_init(&name, 4096);
	buf_init(&addr, 4096);
	/* fullname at max-1, max, max+1 */
	for (i = 0; i < MAILDROP_FULLNAME_MAX + 1; i++) {
		assert_int_equal(buf_append_char(&name, 'n'), 0);
		if (name.len + 1 < MAILDROP_FULLNAME_MAX)
			continue;
		fill_rec(&r);
		r.fullname = name.data;
		buf_reset(&b);
		assert_int_equal(maildrop_rec_encode(&r, &b), 0);
		d = maildrop_rec_decode(b.data, b.len, &err);
		if (name.len <= MAILDROP_FULLNAME_MAX)
			assert_non_null(d);
		else
			assert_null(d);
		maildrop_rec_free(&d);
	}
	/* a recipient longer than MAILDROP_ADDR_MAX */
	assert_int_equal(buf_append_str(&addr, "x@"), 0);
	while (addr.len <= MAILDROP_ADDR_MAX)
		assert_int_equal(buf_append_str(&addr, "a.example."), 0);
	assert_int_equal(buf_append_str(&addr, "test"), 0);
	fill_rec(&r);
	rc[0] = addr.data;
	r.rcpts = rc;
	r.nrcpt = 1;
	buf_reset(&b);
	assert_int_equal(maildrop_rec_encode(&r, &b), 0);
	assert_null(maildrop_rec_decode(b.data, b.len, &err));
	buf_free(&b);
	buf_free(&err);
	buf_free(&name);
	buf_free(&addr);
}

static void
test_maildrop_rec_every_truncation_rejected(void **state)
{
	struct maildrop_rec r, *d;
	struct buf b, err;
	size_t n;

	(void)state;
	fill_rec(&r);
	buf_init(&b, 1 << 16);
	buf_init(&err, 1024);
	assert_int_equal(maildrop_rec_encode(&r, &b), 0);
	for (n = 0; n < b.len; n++) {
		d = maildrop_rec_decode(b.data, n, &err);
		if (d != NULL)
			fail_msg("truncated at %zu of %zu accepted", n, b.len);
	}
	buf_free(&b);
	buf_free(&err);
}

/* ---- files -------------------------------------------------------------- */

static char *
make_queue_dir(void)
{
	char tmpl[] = "/tmp/mw-maildrop-XXXXXX";
	char *dir, *md;

	assert_non_null(mkdtemp(tmpl));
	dir = xstrdup(tmpl);
	md = xasprintf("%s/%s", dir, QUEUE_DIR_MAILDROP);
	assert_int_equal(mkdir(md, 01733), 0);
	free(md);
	return dir;
}

/* Writes a maildrop file with body and returns its bytes; the path goes
 * to *path_out. */
static void
write_drop(
    const char *qdir, const char *body, struct buf *image, char **path_out)
{
	struct maildrop_msg *md;
	struct maildrop_rec r;
	struct buf err;
	char *path;

	buf_init(&err, 1024);
	fill_rec(&r);
	md = maildrop_create(qdir, (uid_t)-1, &err);
	if (md == NULL)
		fail_msg("%s", buf_cstr(&err));
	assert_string_equal(maildrop_name(md), "");
	assert_int_equal(maildrop_write(md, body, strlen(body)), 0);
	assert_int_equal(maildrop_size(md), strlen(body));
	if (maildrop_commit(md, &r, &err) == -1)
		fail_msg("%s", buf_cstr(&err));
	assert_true(maildrop_name_valid(maildrop_name(md)));
	path =
	    xasprintf("%s/%s/%s", qdir, QUEUE_DIR_MAILDROP, maildrop_name(md));
	assert_int_equal(fs_read_file(path, image), 0);
	maildrop_free(&md);
	*path_out = path;
	buf_free(&err);
}

static void
test_maildrop_file_round_trip_and_mode(void **state)
{
	const char *body = "Subject: hi\n\nhello\n";
	char *qdir = make_queue_dir(), *path;
	struct maildrop_rec *r;
	struct buf image, err;
	struct stat st;
	uint64_t len = 0;
	mode_t old;
	int fd;

	(void)state;
	buf_init(&image, 1 << 20);
	buf_init(&err, 1024);
	old = umask(077);
	write_drop(qdir, body, &image, &path);
	(void)umask(old);
	assert_int_equal(stat(path, &st), 0);
	/* mail_owner must read it whatever the user's umask */
	assert_int_equal(st.st_mode & 07777, 0644);
	r = maildrop_image_decode(image.data, image.len, 1 << 20, &len, &err);
	if (r == NULL)
		fail_msg("%s", buf_cstr(&err));
	assert_int_equal(len, strlen(body));
	assert_memory_equal(image.data + MAILDROP_HEAD_SIZE, body, len);
	assert_string_equal(r->sender, "alice@example.test");
	maildrop_rec_free(&r);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	len = 0;
	r = maildrop_file_read(fd, image.len, 1 << 20, &len, &err);
	assert_non_null(r);
	assert_int_equal(len, strlen(body));
	maildrop_rec_free(&r);
	/* message_size_limit: at the size and one below */
	assert_non_null(
	    r = maildrop_file_read(fd, image.len, strlen(body), &len, &err));
	maildrop_rec_free(&r);
	assert_null(
	    maildrop_file_read(fd, image.len, strlen(body) - 1, &len, &err));
	assert_int_equal(errno, EBADMSG);
	(void)close(fd);
	free(path);
	assert_int_equal(fs_rm_rf(qdir), 0);
	free(qdir);
	buf_free(&image);
	buf_free(&err);
}

static void
test_maildrop_file_every_truncation_rejected(void **state)
{
	char *qdir = make_queue_dir(), *path;
	struct maildrop_rec *r;
	struct buf image, err;
	uint64_t len;
	size_t n;

	(void)state;
	buf_init(&image, 1 << 20);
	buf_init(&err, 1024);
	write_drop(qdir, "Subject: x\n\nbody\n", &image, &path);
	for (n = 0; n < image.len; n++) {
		r = maildrop_image_decode(image.data, n, 1 << 20, &len, &err);
		if (r != NULL)
			fail_msg("cut at %zu of %zu accepted", n, image.len);
		assert_int_equal(errno, EBADMSG);
	}
	free(path);
	assert_int_equal(fs_rm_rf(qdir), 0);
	free(qdir);
	buf_free(&image);
	buf_free(&err);
}

static void
test_maildrop_file_damage_outside_the_message_caught(void **state)
{
	const char *body = "Subject: x\n\nbody\n";
	char *qdir = make_queue_dir(), *path;
	struct maildrop_rec *r;
	struct buf image, err;
	uint64_t len;
	size_t i, m = strlen(body);

	(void)state;
	buf_init(&image, 1 << 20);
	buf_init(&err, 1024);
	write_drop(qdir, body, &image, &path);
	for (i = 0; i < image.len; i++) {
		if (i >= MAILDROP_HEAD_SIZE && i < MAILDROP_HEAD_SIZE + m)
			continue; /* the message itself is not checksummed */
		image.data[i] ^= 0x20;
		r = maildrop_image_decode(
		    image.data, image.len, 1 << 20, &len, &err);
		if (r != NULL)
			fail_msg("byte %zu damaged, accepted", i);
		image.data[i] ^= 0x20;
	}
	/* a version from the future */
	image.data[7] = 2;
	assert_null(
	    maildrop_image_decode(image.data, image.len, 1 << 20, &len, &err));
	assert_int_equal(errno, ENOTSUP);
	free(path);
	assert_int_equal(fs_rm_rf(qdir), 0);
	free(qdir);
	buf_free(&image);
	buf_free(&err);
}

/* A message that ends in a copy of another file's record and trailer: the
 * file cut right after it must not pass (the nonces differ). */
static void
test_maildrop_forged_trailer_in_the_message(void **state)
{
	char *qdir = make_queue_dir(), *p1, *p2;
	struct buf a, b, forged, err;
	uint64_t len;

	(void)state;
	buf_init(&a, 1 << 20);
	buf_init(&b, 1 << 20);
	buf_init(&forged, 1 << 20);
	buf_init(&err, 1024);
	write_drop(qdir, "Subject: a\n\nA\n", &a, &p1);
	/* b's message: a's record and trailer, after some text */
	{
		struct maildrop_msg *md;
		struct maildrop_rec r;
		size_t tail_at =
		    MAILDROP_HEAD_SIZE + strlen("Subject: a\n\nA\n");

		fill_rec(&r);
		assert_non_null(md = maildrop_create(qdir, (uid_t)-1, &err));
		assert_int_equal(maildrop_write(md, "Subject: b\n\n", 12), 0);
		assert_int_equal(
		    maildrop_write(md, a.data + tail_at, a.len - tail_at), 0);
		assert_int_equal(maildrop_commit(md, &r, &err), 0);
		p2 = xasprintf(
		    "%s/%s/%s", qdir, QUEUE_DIR_MAILDROP, maildrop_name(md));
		maildrop_free(&md);
		assert_int_equal(fs_read_file(p2, &b), 0);
		/* cut b right after its forged trailer */
		assert_int_equal(buf_append(&forged, b.data,
		                     MAILDROP_HEAD_SIZE + 12 + a.len - tail_at),
		    0);
	}
	assert_null(maildrop_image_decode(
	    forged.data, forged.len, 1 << 20, &len, &err));
	free(p1);
	free(p2);
	assert_int_equal(fs_rm_rf(qdir), 0);
	free(qdir);
	buf_free(&a);
	buf_free(&b);
	buf_free(&forged);
	buf_free(&err);
}

static void
test_maildrop_uncommitted_file_is_removed(void **state)
{
	char *qdir = make_queue_dir(), *md_dir;
	struct maildrop_msg *md;
	struct buf err, list;

	(void)state;
	buf_init(&err, 1024);
	buf_init(&list, 4096);
	assert_non_null(md = maildrop_create(qdir, (uid_t)-1, &err));
	assert_int_equal(maildrop_write(md, "x\n", 2), 0);
	maildrop_free(&md);
	md_dir = xasprintf("%s/%s", qdir, QUEUE_DIR_MAILDROP);
	/* rmdir succeeds only on an empty directory */
	assert_int_equal(rmdir(md_dir), 0);
	/* and no maildrop/: a clear error */
	assert_null(md = maildrop_create(qdir, (uid_t)-1, &err));
	assert_int_equal(errno, ENOENT);
	assert_non_null(strstr(buf_cstr(&err), md_dir));
	free(md_dir);
	assert_int_equal(fs_rm_rf(qdir), 0);
	free(qdir);
	buf_free(&err);
	buf_free(&list);
}

/* reader gets read access, others none where ACLs exist */
static void
test_maildrop_reader_modes(void **state)
{
	char *qdir = make_queue_dir(), *md_dir;
	struct maildrop_msg *md;
	struct maildrop_rec r;
	struct buf err;
	struct stat st;
	char *path;
	mode_t old;
	uid_t other = geteuid() == 65534 ? 65533 : 65534;

	(void)state;
	buf_init(&err, 1024);
	fill_rec(&r);
	md_dir = xasprintf("%s/%s", qdir, QUEUE_DIR_MAILDROP);
	old = umask(022);
	/* the reader owns it: private */
	assert_non_null(md = maildrop_create(qdir, geteuid(), &err));
	assert_int_equal(maildrop_commit(md, &r, &err), 0);
	path = xasprintf("%s/%s", md_dir, maildrop_name(md));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	free(path);
	maildrop_free(&md);
	/* someone else: an ACL (mode shows the mask as group r), else 0644 */
	assert_non_null(md = maildrop_create(qdir, other, &err));
	assert_int_equal(maildrop_commit(md, &r, &err), 0);
	path = xasprintf("%s/%s", md_dir, maildrop_name(md));
	assert_int_equal(stat(path, &st), 0);
	assert_true(
	    (st.st_mode & 07777) == 0640 || (st.st_mode & 07777) == 0644);
	assert_int_equal(st.st_mode & 0002, 0);
	free(path);
	maildrop_free(&md);
	(void)umask(old);
	free(md_dir);
	assert_int_equal(fs_rm_rf(qdir), 0);
	free(qdir);
	buf_free(&err);
}

static void
test_maildrop_names(void **state)
{
	(void)state;
	assert_true(maildrop_name_valid("0123456789abcdef0123456789abcdef"));
	assert_false(maildrop_name_valid("0123456789abcdef0123456789abcde"));
	assert_false(maildrop_name_valid("0123456789abcdef0123456789abcdef0"));
	assert_false(maildrop_name_valid("0123456789ABCDEF0123456789abcdef"));
	assert_false(maildrop_name_valid("t.0123456789abcdef0123456789abcdef"));
	assert_false(maildrop_name_valid(""));
	assert_true(
	    maildrop_tmp_name_valid("t.0123456789abcdef0123456789abcdef"));
	assert_false(
	    maildrop_tmp_name_valid("0123456789abcdef0123456789abcdef"));
	assert_false(maildrop_tmp_name_valid("t.0123"));
	assert_false(maildrop_tmp_name_valid("t."));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_maildrop_rec_round_trip),
		cmocka_unit_test(test_maildrop_rec_bad_table),
		cmocka_unit_test(test_maildrop_rec_length_limits),
		cmocka_unit_test(test_maildrop_rec_every_truncation_rejected),
		cmocka_unit_test(test_maildrop_file_round_trip_and_mode),
		cmocka_unit_test(test_maildrop_file_every_truncation_rejected),
		cmocka_unit_test(
		    test_maildrop_file_damage_outside_the_message_caught),
		cmocka_unit_test(test_maildrop_forged_trailer_in_the_message),
		cmocka_unit_test(test_maildrop_uncommitted_file_is_removed),
		cmocka_unit_test(test_maildrop_reader_modes),
		cmocka_unit_test(test_maildrop_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
