/*
 * Unit tests for src/store/maildir.c: creating Maildir++ directories,
 * delivery file names, and exactly-once delivery (a repeated delivery finds
 * its earlier copy in new/, or in cur/ after a client moved it).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
/* cmocka.h needs the headers above first */
// clang-format off
#include <cmocka.h>
// clang-format on

#include "lib/buf.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "store/maildir.h"

static const char prefix[] = "Return-Path: <a@example.test>\n"
                             "Delivered-To: <b@example.test>\n";

struct fixture {
	char dir[64];
	char *maildir;
	int src; /* a file: 16 bytes of junk, then the body */
	char *body;
	size_t body_len;
};

static int
fixture_setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	char *src;
	size_t i;

	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/mw-test-maildir-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	f->maildir = xasprintf("%s/example.test/bob/Maildir", f->dir);
	f->body_len = 5000;
	f->body = xmalloc(f->body_len);
	for (i = 0; i < f->body_len; i++)
		f->body[i] = (char)('a' + i % 26);
	src = xasprintf("%s/src", f->dir);
	f->src = open(src, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	free(src);
	if (f->src == -1 || write_full(f->src, "JUNKJUNKJUNKJUNK", 16) == -1 ||
	    write_full(f->src, f->body, f->body_len) == -1)
		return -1;
	*state = f;
	return 0;
}

static int
fixture_teardown(void **state)
{
	struct fixture *f = *state;

	(void)close(f->src);
	(void)fs_rm_rf(f->dir);
	free(f->maildir);
	free(f->body);
	free(f);
	return 0;
}

static void
fill_msg(const struct fixture *f, struct maildir_msg *m, const char *name)
{
	memset(m, 0, sizeof(*m));
	m->maildir = f->maildir;
	m->name = name;
	m->prefix = prefix;
	m->prefix_len = sizeof(prefix) - 1;
	m->src_fd = f->src;
	m->src_off = 16;
	m->src_len = f->body_len;
}

/* Number of entries in maildir/sub; *first_out gets a copy of one. */
static size_t
count_entries(const char *maildir, const char *sub, char **first_out)
{
	char *path = xasprintf("%s/%s", maildir, sub);
	struct dirent *de;
	size_t n = 0;
	DIR *d = opendir(path);

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n++ == 0 && first_out != NULL)
			*first_out = xstrdup(de->d_name);
	}
	(void)closedir(d);
	free(path);
	return n;
}

static char *
test_name(const char *host, size_t rcpt, size_t dest)
{
	struct buf b;

	buf_init(&b, 4096);
	assert_int_equal(maildir_name(&b, 1700000000, 12345,
	                     "0Vx3kq4D2h1Zf000a", rcpt, dest, host),
	    0);
	return buf_steal(&b);
}

static void
test_maildir_name_format(void **state)
{
	static const struct {
		const char *host;
		size_t rcpt, dest;
		const char *want;
	} rows[] = {
		{ "mx.example.test", 0, MAILDIR_NO_DEST,
		    "1700000000.M12345Q0Vx3kq4D2h1Zf000aR0.mx.example.test" },
		{ "mx.example.test", 3, 2,
		    "1700000000.M12345Q0Vx3kq4D2h1Zf000aR3.2.mx.example.test" },
		{ "a/b:c,d", 1, MAILDIR_NO_DEST,
		    "1700000000.M12345Q0Vx3kq4D2h1Zf000aR1.a\\057b\\072c\\054d" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < MW_NELEM(rows); i++) {
		char *got = test_name(rows[i].host, rows[i].rcpt, rows[i].dest);

		assert_string_equal(got, rows[i].want);
		free(got);
	}
}

static void
test_maildir_name_limits_and_unsafe_parts(void **state)
{
	/* "<10>.M<5>Q<17>R0." is 38 bytes; a name may have 223 (255 less
	 * room for ",S=<size>" and ":2,<flags>"): hosts of 184, 185, 186 */
	char host[300];
	struct buf b;
	size_t len;

	(void)state;
	buf_init(&b, 4096);
	for (len = 184; len <= 186; len++) {
		memset(host, 'h', len);
		host[len] = '\0';
		buf_reset(&b);
		errno = 0;
		int r = maildir_name(&b, 1700000000, 12345, "0Vx3kq4D2h1Zf000a",
		    0, MAILDIR_NO_DEST, host);
		if (38 + len <= 223) {
			assert_int_equal(r, 0);
			assert_int_equal(b.len, 38 + len);
		} else {
			assert_int_equal(r, -1);
			assert_int_equal(errno, EINVAL);
			assert_int_equal(b.len, 0);
		}
	}
	buf_reset(&b);
	assert_int_equal(
	    maildir_name(&b, 1, 2, "a/b", 0, MAILDIR_NO_DEST, "h"), -1);
	assert_int_equal(
	    maildir_name(&b, 1, 2, "a:b", 0, MAILDIR_NO_DEST, "h"), -1);
	assert_int_equal(
	    maildir_name(&b, 1, 2, "a", 0, MAILDIR_NO_DEST, "h\n"), -1);
	buf_free(&b);
}

static void
test_maildir_ensure_creates_private_dirs(void **state)
{
	struct fixture *f = *state;
	static const char *const subs[] = { "", "/cur", "/new", "/tmp" };
	struct stat st;
	size_t i;

	assert_int_equal(maildir_ensure(f->maildir), 0);
	for (i = 0; i < MW_NELEM(subs); i++) {
		char *p = xasprintf("%s%s", f->maildir, subs[i]);

		assert_int_equal(lstat(p, &st), 0);
		assert_true(S_ISDIR(st.st_mode));
		assert_int_equal(st.st_mode & 0777, 0700);
		free(p);
	}
	/* again: nothing to do */
	assert_int_equal(maildir_ensure(f->maildir), 0);
	/* a missing subdirectory is recreated */
	{
		char *p = xasprintf("%s/tmp", f->maildir);

		assert_int_equal(rmdir(p), 0);
		assert_int_equal(maildir_ensure(f->maildir), 0);
		assert_true(fs_exists(p));
		free(p);
	}
}

static void
test_maildir_ensure_rejects_unsafe_paths(void **state)
{
	struct fixture *f = *state;
	const char *rows[] = { "", "/", "relative/Maildir", "/tmp/../Maildir",
		"/tmp/./Maildir", "/tmp//Maildir", "/tmp/a\nb/Maildir" };
	char *link_path, *target;
	size_t i;

	for (i = 0; i < MW_NELEM(rows); i++) {
		errno = 0;
		assert_int_equal(maildir_ensure(rows[i]), -1);
		assert_int_equal(errno, EINVAL);
	}
	/* a Maildir that is a symbolic link is refused */
	target = xasprintf("%s/elsewhere", f->dir);
	link_path = xasprintf("%s/Maildir", f->dir);
	assert_int_equal(fs_mkdir_p(target, 0700), 0);
	assert_int_equal(symlink(target, link_path), 0);
	assert_int_equal(maildir_ensure(link_path), -1);
	free(target);
	free(link_path);
}

static void
test_maildir_deliver_writes_prefix_and_body(void **state)
{
	struct fixture *f = *state;
	struct maildir_msg m;
	struct buf got, want;
	struct stat st;
	char *name = test_name("mx.example.test", 0, MAILDIR_NO_DEST);
	char *file = NULL, *path;
	bool existed = true;

	assert_int_equal(maildir_ensure(f->maildir), 0);
	fill_msg(f, &m, name);
	assert_int_equal(maildir_deliver(&m, &existed), 0);
	assert_false(existed);
	assert_int_equal(count_entries(f->maildir, "new", &file), 1);
	assert_int_equal(count_entries(f->maildir, "tmp", NULL), 0);
	/* W=: the two header lines end in bare LFs, the body has none */
	path =
	    xasprintf("%s,S=%zu,W=%zu", name, sizeof(prefix) - 1 + f->body_len,
	        sizeof(prefix) - 1 + f->body_len + 2);
	assert_string_equal(file, path);
	free(path);
	path = xasprintf("%s/new/%s", f->maildir, file);
	buf_init(&got, 1 << 20);
	assert_int_equal(fs_read_file(path, &got), 0);
	buf_init(&want, 1 << 20);
	assert_int_equal(buf_append_str(&want, prefix), 0);
	assert_int_equal(buf_append(&want, f->body, f->body_len), 0);
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.data, want.data, want.len);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	buf_free(&got);
	buf_free(&want);
	free(path);
	free(file);
	free(name);
}

static void
test_maildir_deliver_twice_makes_one_file(void **state)
{
	struct fixture *f = *state;
	struct maildir_msg m;
	char *name = test_name("mx.example.test", 0, MAILDIR_NO_DEST);
	bool existed;
	int retry;

	assert_int_equal(maildir_ensure(f->maildir), 0);
	fill_msg(f, &m, name);
	for (retry = 0; retry < 2; retry++) {
		m.check_cur = retry;
		assert_int_equal(maildir_deliver(&m, &existed), 0);
		assert_false(existed);
		assert_int_equal(maildir_deliver(&m, &existed), 0);
		assert_true(existed);
		assert_int_equal(count_entries(f->maildir, "new", NULL), 1);
		assert_int_equal(count_entries(f->maildir, "tmp", NULL), 0);
		assert_int_equal(fs_rm_rf(f->maildir), 0);
		assert_int_equal(maildir_ensure(f->maildir), 0);
	}
	free(name);
}

/* After a client moved the copy to cur/ (with flags, or with Dovecot's
 * extra fields), a retry finds it there instead of delivering again. */
static void
test_maildir_retry_finds_copy_moved_to_cur(void **state)
{
	static const char *const suffixes[] = { ":2,S", ":2,", ",W=5100:2,RS",
		"" };
	struct fixture *f = *state;
	struct maildir_msg m;
	char *name = test_name("mx.example.test", 1, MAILDIR_NO_DEST);
	char *file = NULL, *from, *to;
	bool existed;
	size_t i;

	assert_int_equal(maildir_ensure(f->maildir), 0);
	fill_msg(f, &m, name);
	for (i = 0; i < MW_NELEM(suffixes); i++) {
		m.check_cur = false;
		assert_int_equal(maildir_deliver(&m, &existed), 0);
		assert_false(existed);
		assert_int_equal(count_entries(f->maildir, "new", &file), 1);
		from = xasprintf("%s/new/%s", f->maildir, file);
		to = xasprintf("%s/cur/%s%s", f->maildir,
		    suffixes[i][0] == ',' ? name : file, suffixes[i]);
		assert_int_equal(rename(from, to), 0);
		m.check_cur = true;
		assert_int_equal(maildir_deliver(&m, &existed), 0);
		assert_true(existed);
		assert_int_equal(count_entries(f->maildir, "new", NULL), 0);
		assert_int_equal(count_entries(f->maildir, "cur", NULL), 1);
		assert_int_equal(unlink(to), 0);
		free(from);
		free(to);
		free(file);
		file = NULL;
	}
	free(name);
}

/* Names that share a prefix are different messages. */
static void
test_maildir_retry_does_not_confuse_similar_names(void **state)
{
	struct fixture *f = *state;
	struct maildir_msg m;
	char *r1 = test_name("mx.example.test", 1, MAILDIR_NO_DEST);
	char *r10 = test_name("mx.example.test", 10, MAILDIR_NO_DEST);
	char *r1host2 = test_name("mx.example.test2", 1, MAILDIR_NO_DEST);
	char *p;
	bool existed;

	assert_int_equal(maildir_ensure(f->maildir), 0);
	p = xasprintf("%s/cur/%s,S=1:2,S", f->maildir, r10);
	assert_int_equal(fs_atomic_write(p, "x", 1, 0600), 0);
	free(p);
	p = xasprintf("%s/cur/%s:2,", f->maildir, r1host2);
	assert_int_equal(fs_atomic_write(p, "x", 1, 0600), 0);
	free(p);
	fill_msg(f, &m, r1);
	m.check_cur = true;
	assert_int_equal(maildir_deliver(&m, &existed), 0);
	assert_false(existed);
	assert_int_equal(count_entries(f->maildir, "new", NULL), 1);
	free(r1);
	free(r10);
	free(r1host2);
}

/* A crash between writing tmp/ and linking into new/ leaves a tmp/ file:
 * the retry replaces it. */
static void
test_maildir_deliver_replaces_leftover_tmp(void **state)
{
	struct fixture *f = *state;
	struct maildir_msg m;
	char *name = test_name("mx.example.test", 0, MAILDIR_NO_DEST);
	char *tmp, *file = NULL, *path;
	struct buf got;
	bool existed;

	assert_int_equal(maildir_ensure(f->maildir), 0);
	tmp = xasprintf("%s/tmp/%s,S=%zu", f->maildir, name,
	    sizeof(prefix) - 1 + f->body_len);
	assert_int_equal(fs_atomic_write(tmp, "partial", 7, 0600), 0);
	fill_msg(f, &m, name);
	m.check_cur = true;
	assert_int_equal(maildir_deliver(&m, &existed), 0);
	assert_false(existed);
	assert_false(fs_exists(tmp));
	assert_int_equal(count_entries(f->maildir, "new", &file), 1);
	path = xasprintf("%s/new/%s", f->maildir, file);
	buf_init(&got, 1 << 20);
	assert_int_equal(fs_read_file(path, &got), 0);
	assert_int_equal(got.len, sizeof(prefix) - 1 + f->body_len);
	buf_free(&got);
	free(path);
	free(file);
	free(tmp);
	free(name);
}

/* The bare LFs of hdr then p[0..n): what W= adds to the size. */
static size_t
bare_lfs(const char *hdr, const char *p, size_t n)
{
	size_t i, lf = 0;
	char prev = hdr[strlen(hdr) - 1];

	for (i = 0; i < n; i++) {
		if (p[i] == '\n' && prev != '\r')
			lf++;
		prev = p[i];
	}
	return lf;
}

static void
test_maildir_deliver_large_body_from_another_fs(void **state)
{
	static const char *const dirs[] = { "/tmp", "/dev/shm" };
	struct fixture *f = *state;
	size_t n = 3 * 1024 * 1024 + 17, i, k;
	struct maildir_msg m;
	struct buf got;
	char *big, *name, *file, *path;
	bool existed;

	big = xmalloc(n);
	for (i = 0; i < n; i++)
		big[i] = (char)(i % 251);
	assert_int_equal(maildir_ensure(f->maildir), 0);
	for (k = 0; k < MW_NELEM(dirs); k++) {
		char src[64];
		int fd;

		(void)snprintf(
		    src, sizeof(src), "%s/mw-test-src-XXXXXX", dirs[k]);
		if ((fd = mkstemp(src)) == -1)
			continue; /* no /dev/shm here */
		(void)unlink(src);
		assert_int_equal(write_full(fd, "HDR", 3), 0);
		assert_int_equal(write_full(fd, big, n), 0);
		name = test_name("mx.example.test", k, MAILDIR_NO_DEST);
		memset(&m, 0, sizeof(m));
		m.maildir = f->maildir;
		m.name = name;
		m.src_fd = fd;
		m.src_off = 3;
		m.src_len = n;
		assert_int_equal(maildir_deliver(&m, &existed), 0);
		file = xasprintf(
		    "%s,S=%zu,W=%zu", name, n, n + bare_lfs("HDR", big, n));
		path = xasprintf("%s/new/%s", f->maildir, file);
		buf_init(&got, BUF_MAX_DEFAULT);
		assert_int_equal(fs_read_file(path, &got), 0);
		assert_int_equal(got.len, n);
		assert_memory_equal(got.data, big, n);
		buf_free(&got);
		(void)close(fd);
		free(path);
		free(file);
		free(name);
	}
	free(big);
}

static void
test_maildir_deliver_fails_cleanly(void **state)
{
	struct fixture *f = *state;
	struct maildir_msg m;
	char *name = test_name("mx.example.test", 0, MAILDIR_NO_DEST);
	char *newdir, *elsewhere;
	bool existed;

	fill_msg(f, &m, name);
	/* no such Maildir */
	assert_int_equal(maildir_deliver(&m, &existed), -1);
	assert_int_equal(errno, ENOENT);
	/* the source is shorter than it claims */
	assert_int_equal(maildir_ensure(f->maildir), 0);
	m.src_len = f->body_len + 100;
	assert_int_equal(maildir_deliver(&m, &existed), -1);
	assert_int_equal(errno, EIO);
	assert_int_equal(count_entries(f->maildir, "new", NULL), 0);
	assert_int_equal(count_entries(f->maildir, "tmp", NULL), 0);
	m.src_len = f->body_len;
	/* new/ replaced by a symbolic link: refused, nothing written there */
	newdir = xasprintf("%s/new", f->maildir);
	elsewhere = xasprintf("%s/elsewhere", f->dir);
	assert_int_equal(fs_mkdir_p(elsewhere, 0700), 0);
	assert_int_equal(rmdir(newdir), 0);
	assert_int_equal(symlink(elsewhere, newdir), 0);
	assert_int_equal(maildir_deliver(&m, &existed), -1);
	assert_int_equal(count_entries(elsewhere, "", NULL), 0);
	/* unsafe names and paths */
	m.name = "a/b";
	assert_int_equal(maildir_deliver(&m, &existed), -1);
	assert_int_equal(errno, EINVAL);
	m.name = "a:2,S";
	assert_int_equal(maildir_deliver(&m, &existed), -1);
	assert_int_equal(errno, EINVAL);
	m.name = name;
	m.maildir = "relative/Maildir";
	assert_int_equal(maildir_deliver(&m, &existed), -1);
	assert_int_equal(errno, EINVAL);
	free(newdir);
	free(elsewhere);
	free(name);
}

/* W= counts bare LFs only, across the prefix and the body. */
static void
test_maildir_deliver_vsize(void **state)
{
	static const struct {
		const char *prefix, *body;
		size_t vsize;
	} rows[] = {
		{ "", "a\r\nb\r\n", 6 },
		{ "", "a\nb\n", 6 },
		{ "H: x\r", "\nbody\n\n", 13 }, /* CR then LF across the seam */
		{ "H: x\n", "", 6 },
		{ "", "\r\r\n\n", 5 },
	};
	struct fixture *f = *state;
	struct maildir_msg m;
	char *name, *file = NULL, *want;
	bool existed;
	size_t i;
	int fd;
	char src[128];

	assert_int_equal(maildir_ensure(f->maildir), 0);
	for (i = 0; i < MW_NELEM(rows); i++) {
		(void)snprintf(src, sizeof(src), "%s/src-vsize", f->dir);
		fd = open(src, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		assert_true(fd != -1);
		assert_int_equal(
		    write_full(fd, rows[i].body, strlen(rows[i].body)), 0);
		name = test_name("mx.example.test", i, MAILDIR_NO_DEST);
		memset(&m, 0, sizeof(m));
		m.maildir = f->maildir;
		m.name = name;
		m.prefix = rows[i].prefix;
		m.prefix_len = strlen(rows[i].prefix);
		m.src_fd = fd;
		m.src_len = strlen(rows[i].body);
		assert_int_equal(maildir_deliver(&m, &existed), 0);
		want = xasprintf("%s,S=%zu,W=%zu", name,
		    m.prefix_len + (size_t)m.src_len, rows[i].vsize);
		file = NULL;
		assert_int_equal(count_entries(f->maildir, "new", &file), 1);
		assert_string_equal(file, want);
		free(want);
		want = xasprintf("%s/new/%s", f->maildir, file);
		assert_int_equal(unlink(want), 0);
		free(want);
		free(file);
		free(name);
		(void)close(fd);
	}
}

/* A copy made before W= was written is found: no second copy. */
static void
test_maildir_retry_finds_copy_without_vsize(void **state)
{
	struct fixture *f = *state;
	struct maildir_msg m;
	char *name = test_name("mx.example.test", 0, MAILDIR_NO_DEST);
	char *old;
	bool existed = false;
	int retry;

	assert_int_equal(maildir_ensure(f->maildir), 0);
	fill_msg(f, &m, name);
	old = xasprintf("%s/new/%s,S=%zu", f->maildir, name,
	    sizeof(prefix) - 1 + f->body_len);
	assert_int_equal(fs_atomic_write(old, "x", 1, 0600), 0);
	for (retry = 0; retry < 2; retry++) {
		m.check_cur = retry;
		assert_int_equal(maildir_deliver(&m, &existed), 0);
		assert_true(existed);
		assert_int_equal(count_entries(f->maildir, "new", NULL), 1);
	}
	free(old);
	free(name);
}

#define T(fn)                                                                  \
	cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_maildir_name_format),
		cmocka_unit_test(test_maildir_name_limits_and_unsafe_parts),
		T(test_maildir_ensure_creates_private_dirs),
		T(test_maildir_ensure_rejects_unsafe_paths),
		T(test_maildir_deliver_writes_prefix_and_body),
		T(test_maildir_deliver_twice_makes_one_file),
		T(test_maildir_retry_finds_copy_moved_to_cur),
		T(test_maildir_retry_does_not_confuse_similar_names),
		T(test_maildir_deliver_replaces_leftover_tmp),
		T(test_maildir_deliver_large_body_from_another_fs),
		T(test_maildir_deliver_fails_cleanly),
		T(test_maildir_deliver_vsize),
		T(test_maildir_retry_finds_copy_without_vsize),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
