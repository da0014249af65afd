/*
 * Unit tests for src/queue: queue IDs, the envelope record, queue files
 * (commit, read back, torn and damaged files, versions, forged trailers),
 * pokes, and the qmgr's delivery state file.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
/* cmocka.h needs the headers above first */
// clang-format off
#include <cmocka.h>
// clang-format on

#include "lib/buf.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "queue/qmgr_private.h"
#include "queue/queue_file.h"
#include "queue/queue_id.h"
#include "queue/queue_private.h"

/* Hostile envelope strings: CR, LF, spaces, '%', DEL, 8-bit, UTF-8. */
static const char *const hostile_rcpts[] = {
	"bob@example.test",
	"a b\r\nX-Injected: yes@example.test",
	"%41%zz%@example.test",
	"\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.test",
	"\x7f\x01\x1f\xff@example.test",
	"",
	"end",
};

static void
fill_env(struct queue_env *env)
{
	memset(env, 0, sizeof(*env));
	env->arrival = 1700000000;
	env->arrival_usec = 999999;
	env->sender = "s\nender %25 \t@example.test";
	env->rcpts = hostile_rcpts;
	env->nrcpt = MW_NELEM(hostile_rcpts);
	env->client_name = "localhost";
	env->client_addr = "127.0.0.1";
	env->helo = "";
	env->proto = "ESMTP\r\n";
	env->smtputf8 = true;
	env->body_8bit = false;
}

static void
assert_env_equal(const struct queue_env *a, const struct queue_env *b)
{
	size_t i;

	assert_string_equal(a->id, b->id);
	assert_int_equal(a->arrival, b->arrival);
	assert_int_equal(a->arrival_usec, b->arrival_usec);
	assert_string_equal(a->sender, b->sender);
	assert_string_equal(a->client_name, b->client_name);
	assert_string_equal(a->client_addr, b->client_addr);
	assert_string_equal(a->helo, b->helo);
	assert_string_equal(a->proto, b->proto);
	assert_int_equal(a->smtputf8, b->smtputf8);
	assert_int_equal(a->body_8bit, b->body_8bit);
	assert_int_equal(a->size, b->size);
	assert_int_equal(a->nrcpt, b->nrcpt);
	for (i = 0; i < a->nrcpt; i++)
		assert_string_equal(a->rcpts[i], b->rcpts[i]);
}

static char *
make_queue_dir(void)
{
	char tmpl[] = "/tmp/mw-test-queue-XXXXXX";

	assert_non_null(mkdtemp(tmpl));
	assert_int_equal(queue_dirs_create(tmpl), 0);
	return xstrdup(tmpl);
}

/* Commits a message with body (n bytes, written in chunks of step). */
static char *
commit_msg(const char *qdir, const char *body, size_t n, size_t step)
{
	struct queue_env env;
	struct queue_msg *qm;
	struct buf err;
	char *id;
	size_t off;

	buf_init(&err, 1024);
	qm = queue_msg_create(qdir, &err);
	assert_non_null(qm);
	for (off = 0; off < n; off += step)
		assert_int_equal(queue_msg_write(qm, body + off,
		                     n - off < step ? n - off : step),
		    0);
	assert_int_equal(queue_msg_size(qm), n);
	fill_env(&env);
	assert_int_equal(queue_msg_commit(qm, &env), 0);
	id = xstrdup(queue_msg_id(qm));
	queue_msg_free(&qm);
	buf_free(&err);
	return id;
}

static void
read_whole(const char *path, struct buf *out)
{
	buf_init(out, BUF_MAX_DEFAULT);
	assert_int_equal(fs_read_file(path, out), 0);
}

static void
write_whole(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd != -1);
	assert_int_equal(write_full(fd, p, n), 0);
	assert_int_equal(close(fd), 0);
}

/* Opens path; returns errno (0 when it opened). */
static int
open_errno(const char *path)
{
	struct queue_file *qf;
	struct buf err;
	int e = 0;

	buf_init(&err, 4096);
	qf = queue_file_open_path(path, &err);
	if (qf == NULL) {
		e = errno;
		assert_true(err.len > 0);
	}
	queue_file_free(&qf);
	buf_free(&err);
	return e;
}

static void
test_queue_id_format_unique_and_sorted(void **state)
{
	char prev[QUEUE_ID_MAX] = "", id[QUEUE_ID_MAX];
	int i;

	(void)state;
	for (i = 0; i < 20000; i++) {
		assert_int_equal(queue_id_new(id, sizeof(id)), 0);
		assert_int_equal(strlen(id), QUEUE_ID_LEN);
		assert_true(queue_id_valid(id));
		/* later IDs sort after earlier ones: unique and by time */
		assert_true(strcmp(prev, id) < 0);
		memcpy(prev, id, sizeof(id));
	}
}

static void
test_queue_id_limits(void **state)
{
	static const struct {
		const char *s;
		bool ok;
	} rows[] = {
		{ "a", true },
		{ "0123456789ABCDEFGHI", true },    /* max-1 */
		{ "0123456789ABCDEFGHIJ", true },   /* max */
		{ "0123456789ABCDEFGHIJK", false }, /* max+1 */
		{ "", false },
		{ "abc/def", false },
		{ "abc.def", false },
		{ "abc def", false },
		{ "abc-def", false },
		{ "\xc3\xa9", false },
	};
	char out[QUEUE_ID_LEN + 1];
	size_t i;

	(void)state;
	for (i = 0; i < MW_NELEM(rows); i++)
		assert_int_equal(queue_id_valid(rows[i].s), rows[i].ok);
	/* the output buffer: max-1 fails, max works */
	errno = 0;
	assert_int_equal(queue_id_new(out, QUEUE_ID_LEN), -1);
	assert_int_equal(errno, ENOBUFS);
	assert_int_equal(queue_id_new(out, QUEUE_ID_LEN + 1), 0);
}

static void
test_queue_env_round_trip_hostile_bytes(void **state)
{
	struct queue_env env, *back;
	struct buf rec, err;
	size_t i;

	(void)state;
	fill_env(&env);
	memcpy(env.id, "0Vx3kq4D2h1Zf000a", 18);
	env.size = 12345;
	buf_init(&rec, BUF_MAX_DEFAULT);
	buf_init(&err, 1024);
	assert_int_equal(queue_env_encode(&env, &rec), 0);
	/* no raw control byte, space or CR can reach a value */
	for (i = 0; i < rec.len; i++)
		assert_true(rec.data[i] != '\r' && rec.data[i] != '\0');
	back = queue_env_decode(rec.data, rec.len, &err);
	assert_non_null(back);
	assert_env_equal(&env, back);
	queue_env_free(&back);
	assert_null(back);
	/* every strict prefix is rejected, never misread */
	for (i = 0; i < rec.len; i++) {
		back = queue_env_decode(rec.data, i, &err);
		assert_null(back);
		assert_int_equal(errno, EBADMSG);
	}
	buf_free(&rec);
	buf_free(&err);
}

static void
test_queue_env_decode_rejects_bad_records(void **state)
{
#define HEAD  "id ABC\narrival 1 2\nsize 3\n"
#define STRS  "sender a\nclient_name b\nclient_addr c\nhelo d\nproto e\n"
#define FLAGS "smtputf8 0\nbody_8bit 1\n"
	static const struct {
		const char *label, *rec;
		bool ok;
	} rows[] = {
		{ "good", HEAD STRS FLAGS "nrcpt 1\nrcpt x\nend\n", true },
		{ "empty values",
		    HEAD "sender \nclient_name \nclient_addr \n"
		         "helo \nproto \n" FLAGS "nrcpt 1\nrcpt \nend\n",
		    true },
		{ "escapes",
		    HEAD STRS FLAGS "nrcpt 1\nrcpt %0D%0A%25%20\nend\n", true },
		{ "no id", "arrival 1 2\n", false },
		{ "bad id",
		    "id A/B\narrival 1 2\nsize 3\n" STRS FLAGS
		    "nrcpt 1\nrcpt x\nend\n",
		    false },
		{ "long id",
		    "id 0123456789ABCDEFGHIJK\narrival 1 2\nsize 3\n" STRS FLAGS
		    "nrcpt 1\nrcpt x\nend\n",
		    false },
		{ "no usec",
		    "id ABC\narrival 1\nsize 3\n" STRS FLAGS
		    "nrcpt 1\nrcpt x\nend\n",
		    false },
		{ "usec too big",
		    "id ABC\narrival 1 1000000\nsize 3\n" STRS FLAGS
		    "nrcpt 1\nrcpt x\nend\n",
		    false },
		{ "usec max",
		    "id ABC\narrival 1 999999\nsize 3\n" STRS FLAGS
		    "nrcpt 1\nrcpt x\nend\n",
		    true },
		{ "negative size",
		    "id ABC\narrival 1 2\nsize -3\n" STRS FLAGS
		    "nrcpt 1\nrcpt x\nend\n",
		    false },
		{ "unknown key",
		    HEAD "color blue\n" STRS FLAGS "nrcpt 1\nrcpt x\nend\n",
		    false },
		{ "order",
		    HEAD "client_name b\nsender a\nclient_addr c\n"
		         "helo d\nproto e\n" FLAGS "nrcpt 1\nrcpt x\nend\n",
		    false },
		{ "bad escape", HEAD STRS FLAGS "nrcpt 1\nrcpt %G1\nend\n",
		    false },
		{ "short escape", HEAD STRS FLAGS "nrcpt 1\nrcpt %4\nend\n",
		    false },
		{ "lower-case escape",
		    HEAD STRS FLAGS "nrcpt 1\nrcpt %0a\nend\n", false },
		{ "NUL escape", HEAD STRS FLAGS "nrcpt 1\nrcpt a%00b\nend\n",
		    false },
		{ "raw space", HEAD STRS FLAGS "nrcpt 1\nrcpt a b\nend\n",
		    false },
		{ "raw CR", HEAD STRS FLAGS "nrcpt 1\nrcpt a\rb\nend\n",
		    false },
		{ "flag 2",
		    HEAD STRS "smtputf8 2\nbody_8bit 1\n"
		              "nrcpt 1\nrcpt x\nend\n",
		    false },
		{ "no recipients", HEAD STRS FLAGS "nrcpt 0\nend\n", false },
		{ "fewer rcpt lines", HEAD STRS FLAGS "nrcpt 2\nrcpt x\nend\n",
		    false },
		{ "more rcpt lines",
		    HEAD STRS FLAGS "nrcpt 1\nrcpt x\nrcpt y\nend\n", false },
		{ "huge nrcpt",
		    HEAD STRS FLAGS "nrcpt 99999999999\nrcpt x\nend\n", false },
		{ "no end", HEAD STRS FLAGS "nrcpt 1\nrcpt x\n", false },
		{ "end without LF", HEAD STRS FLAGS "nrcpt 1\nrcpt x\nend",
		    false },
		{ "after end", HEAD STRS FLAGS "nrcpt 1\nrcpt x\nend\nx\n",
		    false },
		{ "CRLF lines", "id ABC\r\narrival 1 2\r\n", false },
	};
#undef HEAD
#undef STRS
#undef FLAGS
	struct queue_env *env;
	struct buf err;
	size_t i;

	(void)state;
	buf_init(&err, 1024);
	for (i = 0; i < MW_NELEM(rows); i++) {
		env = queue_env_decode(rows[i].rec, strlen(rows[i].rec), &err);
		if ((env != NULL) != rows[i].ok)
			fail_msg("row \"%s\": %s", rows[i].label,
			    env != NULL ? "accepted" : buf_cstr(&err));
		if (env == NULL)
			assert_int_equal(errno, EBADMSG);
		queue_env_free(&env);
	}
	buf_free(&err);
}

static void
test_queue_file_commit_and_read_back(void **state)
{
	static const size_t sizes[] = { 0, 1, 65535, 65536, 65537, 300000 };
	static const size_t steps[] = { 1, 7, 65536, 100000 };
	char *qdir = make_queue_dir(), *body, *id, *path;
	struct queue_file *qf;
	struct queue_env want;
	struct buf err;
	size_t i, k;

	(void)state;
	body = xmalloc(300000);
	for (i = 0; i < 300000; i++)
		body[i] = (char)(i * 7 + i / 251);
	buf_init(&err, 1024);
	for (i = 0; i < MW_NELEM(sizes); i++)
		for (k = 0; k < MW_NELEM(steps); k++) {
			char *got;

			if (steps[k] == 1 && sizes[i] > 70000)
				continue; /* slow and adds nothing */
			id = commit_msg(qdir, body, sizes[i], steps[k]);
			path =
			    xasprintf("%s/%s/%s", qdir, QUEUE_DIR_INCOMING, id);
			assert_false(fs_exists(path));
			free(path);
			qf = queue_file_open(qdir, id, &err);
			assert_non_null(qf);
			fill_env(&want);
			memcpy(want.id, id, strlen(id) + 1);
			want.size = sizes[i];
			assert_env_equal(&want, queue_file_env(qf));
			assert_int_equal(queue_file_body_size(qf), sizes[i]);
			got = xmalloc(sizes[i] + 1);
			assert_int_equal(pread(queue_file_fd(qf), got, sizes[i],
			                     (off_t)queue_file_body_offset(qf)),
			    (ssize_t)sizes[i]);
			assert_memory_equal(got, body, sizes[i]);
			free(got);
			queue_file_free(&qf);
			free(id);
		}
	buf_free(&err);
	free(body);
	assert_int_equal(fs_rm_rf(qdir), 0);
	free(qdir);
}

static void
test_queue_file_torn_at_every_offset_rejected(void **state)
{
	static const char body[] = "Received: from x\nSubject: hi\n\nbody\n";
	char *qdir = make_queue_dir(), *qdir2 = make_queue_dir();
	char *id, *path, *path2;
	struct buf whole;
	size_t n;

	(void)state;
	id = commit_msg(qdir, body, sizeof(body) - 1, 5);
	path = xasprintf("%s/%s/%s", qdir, QUEUE_DIR_ACTIVE, id);
	path2 = xasprintf("%s/%s/%s", qdir2, QUEUE_DIR_ACTIVE, id);
	read_whole(path, &whole);
	assert_int_equal(open_errno(path), 0);
	for (n = 0; n < whole.len; n++) {
		write_whole(path2, whole.data, n);
		if (open_errno(path2) != EBADMSG)
			fail_msg("a file cut at %zu of %zu bytes was not "
			         "rejected as torn",
			    n, whole.len);
	}
	/* a byte appended is damage too */
	assert_int_equal(buf_append_char(&whole, '\n'), 0);
	write_whole(path2, whole.data, whole.len);
	assert_int_equal(open_errno(path2), EBADMSG);
	buf_free(&whole);
	free(path);
	free(path2);
	free(id);
	assert_int_equal(fs_rm_rf(qdir), 0);
	assert_int_equal(fs_rm_rf(qdir2), 0);
	free(qdir);
	free(qdir2);
}

static void
test_queue_file_damaged_byte_outside_body_rejected(void **state)
{
	static const char body[] = "Subject: x\n\nbody\n";
	char *qdir = make_queue_dir(), *id, *path;
	size_t n, body_end = 16 + sizeof(body) - 1;
	struct buf whole;

	(void)state;
	id = commit_msg(qdir, body, sizeof(body) - 1, 100);
	path = xasprintf("%s/%s/%s", qdir, QUEUE_DIR_ACTIVE, id);
	read_whole(path, &whole);
	for (n = 0; n < whole.len; n++) {
		int e;

		if (n >= 16 && n < body_end)
			continue; /* the body is not checksummed */
		whole.data[n] ^= 0x20;
		write_whole(path, whole.data, whole.len);
		e = open_errno(path);
		if (e != EBADMSG && e != ENOTSUP)
			fail_msg("byte %zu damaged: errno %d", n, e);
		whole.data[n] ^= 0x20;
	}
	write_whole(path, whole.data, whole.len);
	assert_int_equal(open_errno(path), 0);
	buf_free(&whole);
	free(path);
	free(id);
	assert_int_equal(fs_rm_rf(qdir), 0);
	free(qdir);
}

static void
test_queue_file_unknown_version_rejected(void **state)
{
	char *qdir = make_queue_dir(), *id, *path;
	struct buf whole;

	(void)state;
	id = commit_msg(qdir, "x\n", 2, 2);
	path = xasprintf("%s/%s/%s", qdir, QUEUE_DIR_ACTIVE, id);
	read_whole(path, &whole);
	/* header: "MWQF", then the version, big-endian */
	assert_memory_equal(whole.data, "MWQF\0\0\0\1", 8);
	whole.data[7] = 2;
	write_whole(path, whole.data, whole.len);
	assert_int_equal(open_errno(path), ENOTSUP);
	whole.data[7] = 1;
	/* trailer: "MWQT", then the version */
	assert_memory_equal(whole.data + whole.len - 40, "MWQT\0\0\0\1", 8);
	whole.data[whole.len - 40 + 7] = 2;
	write_whole(path, whole.data, whole.len);
	assert_int_equal(open_errno(path), ENOTSUP);
	buf_free(&whole);
	free(path);
	free(id);
	assert_int_equal(fs_rm_rf(qdir), 0);
	free(qdir);
}

/* A body that ends in another message's envelope and trailer must not pass
 * for a message when the file is cut right after it: the nonce differs. */
static void
test_queue_file_forged_trailer_in_body_rejected(void **state)
{
	char *qdir = make_queue_dir(), *ida, *idb, *pa, *pb;
	struct buf a, b, forged;

	(void)state;
	ida = commit_msg(qdir, "a\n", 2, 2);
	pa = xasprintf("%s/%s/%s", qdir, QUEUE_DIR_ACTIVE, ida);
	read_whole(pa, &a);
	buf_init(&forged, BUF_MAX_DEFAULT);
	assert_int_equal(buf_append(&forged, "b\n", 2), 0);
	assert_int_equal(buf_append(&forged, a.data + 16 + 2, a.len - 18), 0);
	idb = commit_msg(qdir, forged.data, forged.len, forged.len);
	pb = xasprintf("%s/%s/%s", qdir, QUEUE_DIR_ACTIVE, idb);
	read_whole(pb, &b);
	write_whole(pb, b.data, 16 + forged.len);
	assert_int_equal(open_errno(pb), EBADMSG);
	/* and a file renamed to another ID does not pass either */
	write_whole(pb, a.data, a.len);
	assert_int_equal(open_errno(pb), EBADMSG);
	buf_free(&a);
	buf_free(&b);
	buf_free(&forged);
	free(pa);
	free(pb);
	free(ida);
	free(idb);
	assert_int_equal(fs_rm_rf(qdir), 0);
	free(qdir);
}

static void
test_queue_msg_free_uncommitted_removes_file(void **state)
{
	char *qdir = make_queue_dir(), *path;
	struct queue_msg *qm;
	struct queue_file *qf;

	(void)state;
	qm = queue_msg_create(qdir, NULL);
	assert_non_null(qm);
	assert_int_equal(queue_msg_write(qm, "x", 1), 0);
	path =
	    xasprintf("%s/%s/%s", qdir, QUEUE_DIR_INCOMING, queue_msg_id(qm));
	assert_true(fs_exists(path));
	qf = queue_file_open(qdir, queue_msg_id(qm), NULL);
	assert_null(qf);
	assert_int_equal(errno, ENOENT);
	queue_msg_free(&qm);
	assert_null(qm);
	assert_false(fs_exists(path));
	free(path);
	assert_int_equal(fs_rm_rf(qdir), 0);
	free(qdir);
}

static void
test_queue_msg_create_makes_missing_dirs(void **state)
{
	char tmpl[] = "/tmp/mw-test-queue-XXXXXX";
	struct queue_msg *qm;
	char *qdir;

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	qdir = xasprintf("%s/q", tmpl);
	qm = queue_msg_create(qdir, NULL);
	assert_non_null(qm);
	queue_msg_free(&qm);
	free(qdir);
	assert_int_equal(fs_rm_rf(tmpl), 0);
}

struct commit_thread {
	const char *qdir;
	char ids[50][QUEUE_ID_MAX];
};

static void *
commit_thread_run(void *arg)
{
	struct commit_thread *t = arg;
	struct queue_env env;
	struct queue_msg *qm;
	int i;

	for (i = 0; i < 50; i++) {
		qm = queue_msg_create(t->qdir, NULL);
		if (qm == NULL || queue_msg_write(qm, "hello\n", 6) == -1)
			abort();
		fill_env(&env);
		if (queue_msg_commit(qm, &env) == -1)
			abort();
		memcpy(t->ids[i], queue_msg_id(qm), QUEUE_ID_MAX);
		queue_msg_free(&qm);
	}
	return NULL;
}

/* Concurrent commits share directory fsyncs; every one is durable and
 * readable, every ID distinct. */
static void
test_queue_msg_commit_concurrent(void **state)
{
	char *qdir = make_queue_dir();
	struct commit_thread t[8];
	pthread_t th[8];
	size_t i, k;

	(void)state;
	for (i = 0; i < 8; i++) {
		t[i].qdir = qdir;
		assert_int_equal(
		    pthread_create(&th[i], NULL, commit_thread_run, &t[i]), 0);
	}
	for (i = 0; i < 8; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	for (i = 0; i < 8; i++)
		for (k = 0; k < 50; k++) {
			struct queue_file *qf =
			    queue_file_open(qdir, t[i].ids[k], NULL);

			assert_non_null(qf);
			assert_int_equal(queue_file_body_size(qf), 6);
			queue_file_free(&qf);
		}
	assert_int_equal(fs_rm_rf(qdir), 0);
	free(qdir);
}

/* Binds the manager's socket the way qmgr does and receives one poke. */
static void
poke_and_receive(const char *qdir)
{
	struct sockaddr_un sun;
	socklen_t len;
	char id[QUEUE_ID_MAX], got[64];
	int fd, dirfd;
	ssize_t n;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd != -1);
	assert_int_equal(queue_sock_addr(qdir, &sun, &len, &dirfd), 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, len), 0);
	if (dirfd != -1)
		(void)close(dirfd);
	assert_int_equal(queue_id_new(id, sizeof(id)), 0);
	queue_poke(qdir, id);
	n = recv(fd, got, sizeof(got), MSG_DONTWAIT);
	assert_int_equal(n, QUEUE_POKE_HDR + strlen(id));
	assert_memory_equal(got, QUEUE_POKE_MAGIC, 4);
	assert_int_equal(got[4], QUEUE_POKE_VERSION);
	assert_memory_equal(got + QUEUE_POKE_HDR, id, strlen(id));
	(void)close(fd);
}

static void
test_queue_poke_reaches_socket_even_on_long_paths(void **state)
{
	char *qdir = make_queue_dir(), *deep;

	(void)state;
	/* nobody listening: harmless, errno kept */
	errno = 1234;
	queue_poke(qdir, "ABC");
	assert_int_equal(errno, 1234);
	poke_and_receive(qdir);
	/* longer than sun_path (108 bytes): goes through /proc/self/fd */
	deep = xasprintf("%s/%s/%s", qdir,
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
	assert_int_equal(fs_mkdir_p(deep, 0700), 0);
	poke_and_receive(deep);
	free(deep);
	assert_int_equal(fs_rm_rf(qdir), 0);
	free(qdir);
}

static void
test_qmgr_state_round_trip_and_rejects(void **state)
{
	static const struct {
		const char *label, *text;
		bool ok;
	} rows[] = {
		{ "good",
		    "version 1\nattempts 2\nnext_retry 5\nnrcpt 3\n"
		    "done 0 2\nreason x y\n",
		    true },
		{ "none done",
		    "version 1\nattempts 2\nnext_retry 5\nnrcpt 3\n"
		    "done\nreason \n",
		    true },
		{ "index max",
		    "version 1\nattempts 2\nnext_retry 5\nnrcpt 3\n"
		    "done 2\nreason \n",
		    true },
		{ "index max+1",
		    "version 1\nattempts 2\nnext_retry 5\n"
		    "nrcpt 3\ndone 3\nreason \n",
		    false },
		{ "version 3 (unknown)",
		    "version 3\nattempts 2\nnext_retry 5\nnrcpt 3\n"
		    "done\nreason \n",
		    false },
		{ "version 2",
		    "version 2\nattempts 2\nnext_retry 5\nnrcpt 3\n"
		    "done\nreason \n",
		    true },
		{ "nrcpt differs",
		    "version 1\nattempts 2\nnext_retry 5\n"
		    "nrcpt 4\ndone\nreason \n",
		    false },
		{ "double space",
		    "version 1\nattempts 2\nnext_retry 5\n"
		    "nrcpt 3\ndone 0  1\nreason \n",
		    false },
		{ "no reason",
		    "version 1\nattempts 2\nnext_retry 5\nnrcpt 3\n"
		    "done\n",
		    false },
		{ "trailing",
		    "version 1\nattempts 2\nnext_retry 5\nnrcpt 3\n"
		    "done\nreason \nx\n",
		    false },
	};
	struct qmgr_state st, back;
	struct buf out, err;
	size_t i;

	(void)state;
	qmgr_state_init(&st, 5);
	st.attempts = 7;
	st.next_retry = 1700000300;
	st.done[1] = st.done[4] = true;
	st.reason = xstrdup("lookup failed\r\nX-Fake: 1");
	buf_init(&out, 4096);
	buf_init(&err, 1024);
	assert_int_equal(qmgr_state_encode(&st, &out), 0);
	qmgr_state_init(&back, 5);
	assert_int_equal(qmgr_state_decode(out.data, out.len, &back, &err), 0);
	assert_true(back.exists);
	assert_int_equal(back.attempts, 7);
	assert_int_equal(back.next_retry, 1700000300);
	for (i = 0; i < 5; i++)
		assert_int_equal(back.done[i], i == 1 || i == 4);
	assert_string_equal(back.reason, "lookup failed??X-Fake: 1");
	qmgr_state_free(&back);
	qmgr_state_free(&st);
	for (i = 0; i < MW_NELEM(rows); i++) {
		int r;

		qmgr_state_init(&back, 3);
		r = qmgr_state_decode(
		    rows[i].text, strlen(rows[i].text), &back, &err);
		if ((r == 0) != rows[i].ok)
			fail_msg("row \"%s\": %s", rows[i].label,
			    r == 0 ? "accepted" : buf_cstr(&err));
		qmgr_state_free(&back);
	}
	buf_free(&out);
	buf_free(&err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_queue_id_format_unique_and_sorted),
		cmocka_unit_test(test_queue_id_limits),
		cmocka_unit_test(test_queue_env_round_trip_hostile_bytes),
		cmocka_unit_test(test_queue_env_decode_rejects_bad_records),
		cmocka_unit_test(test_queue_file_commit_and_read_back),
		cmocka_unit_test(test_queue_file_torn_at_every_offset_rejected),
		cmocka_unit_test(
		    test_queue_file_damaged_byte_outside_body_rejected),
		cmocka_unit_test(test_queue_file_unknown_version_rejected),
		cmocka_unit_test(
		    test_queue_file_forged_trailer_in_body_rejected),
		cmocka_unit_test(test_queue_msg_free_uncommitted_removes_file),
		cmocka_unit_test(test_queue_msg_create_makes_missing_dirs),
		cmocka_unit_test(test_queue_msg_commit_concurrent),
		cmocka_unit_test(
		    test_queue_poke_reaches_socket_even_on_long_paths),
		cmocka_unit_test(test_qmgr_state_round_trip_and_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
