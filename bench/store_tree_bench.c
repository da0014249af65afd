/*
 * store-tree-bench: the cost of the store's read paths (issue #10).
 * Makes a Maildir of N messages of about 2.6 KB (a multipart/alternative
 * with a text and an HTML part; with "small", text/plain of about 1 KB as
 * bench/imap.py's imap100k), then times
 *   - a warm open: store_open + store_mailbox_open("INBOX") + close, as
 *     an IMAP LOGIN + SELECT does once the index is built (repeated; the
 *     median, CPU and wall time);
 *   - for every message in turn, store_msg_tree() on the uncached folder
 *     (parse + batched writes, as a first FETCH BODYSTRUCTURE 1:* does)
 *     and again in a new session (decode from the index), as FETCH 1:*
 *     ENVELOPE and SEARCH HEADER do.
 * CPU time (the process's) is steadier than wall time on a shared
 * machine. Usage: store-tree-bench DIR [N [small]] (an existing DIR is
 * used as it is); STB_ONLY=open or tree runs one part.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_clock.h"
#include "lib/buf.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "mime/mime_tree.h"
#include "store/maildir.h"
#include "store/store.h"

static int
bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* A text/plain message of about 1 KB (imap.py's imap100k). */
static void
bench_message_small(struct buf *b, size_t k)
{
	size_t i;

	buf_reset(b);
	if (buf_printf(b,
	        "From: Alice <alice@example.org>\n"
	        "To: Bob <bob@example.test>\n"
	        "Subject: Message %zu\n"
	        "Date: Mon, 1 Jan 2024 10:00:00 +0000\n"
	        "Message-ID: <%zu.small@example.org>\n"
	        "Content-Type: text/plain; charset=utf-8\n\n",
	        k, k) == -1)
		exit(1);
	for (i = 0; i < 12; i++)
		if (buf_append_str(b,
		        "The quick brown fox jumps over the lazy "
		        "dog, and the meeting is at ten.\n") == -1)
			exit(1);
}

static void
bench_message(struct buf *b, size_t k)
{
	size_t i;

	buf_reset(b);
	if (buf_printf(b,
	        "Return-Path: <alice@example.org>\n"
	        "Delivered-To: bob@example.test\n"
	        "Received: from mx.example.org (mx.example.org "
	        "[192.0.2.10])\n\tby mail.example.test with ESMTPS; Mon, 1 Jan "
	        "2024 10:00:00 +0000\n"
	        "From: Alice <alice@example.org>\n"
	        "To: Bob <bob@example.test>\n"
	        "Cc: Carol <carol@example.net>, Dave <dave@example.net>\n"
	        "Subject: Report number %zu for the weekly meeting\n"
	        "Date: Mon, 1 Jan 2024 10:00:00 +0000\n"
	        "Message-ID: <%zu.report@example.org>\n"
	        "MIME-Version: 1.0\n"
	        "Content-Type: multipart/alternative; boundary=\"b1_%zu\"\n"
	        "\n--b1_%zu\nContent-Type: text/plain; charset=utf-8\n"
	        "Content-Transfer-Encoding: quoted-printable\n\n",
	        k, k, k, k) == -1)
		exit(1);
	for (i = 0; i < 14; i++)
		if (buf_append_str(b,
		        "The quick brown fox jumps over the lazy "
		        "dog, and the meeting is at ten.\n") == -1)
			exit(1);
	if (buf_printf(b,
	        "\n--b1_%zu\nContent-Type: text/html; charset=utf-8\n"
	        "Content-Transfer-Encoding: quoted-printable\n\n<html><body>\n",
	        k) == -1)
		exit(1);
	for (i = 0; i < 14; i++)
		if (buf_append_str(b,
		        "<p>The quick brown fox jumps over the "
		        "lazy dog, meeting at ten.</p>\n") == -1)
			exit(1);
	if (buf_printf(b, "</body></html>\n\n--b1_%zu--\n", k) == -1)
		exit(1);
}

/* store_msg_tree() over the whole folder; the ms it took (wall; the
 * CPU ms in *cpu_out). */
static double
bench_pass(const char *maildir, size_t *parts_out, double *cpu_out)
{
	struct store *st = NULL;
	struct store_mailbox *mb = NULL;
	struct mime_tree *t;
	struct buf err;
	double t0, c0, ms;
	size_t i;

	buf_init(&err, 4096);
	if (store_open(maildir, &st, &err) == -1 ||
	    store_mailbox_open(st, "INBOX", false, &mb, &err) == -1) {
		fprintf(stderr, "open: %s\n", buf_cstr(&err));
		exit(1);
	}
	*parts_out = 0;
	c0 = bench_cpu_ms();
	t0 = bench_now_ms();
	for (i = 0; i < store_mailbox_count(mb); i++) {
		if (store_msg_tree(mb, i, -1, &t, &err) == -1) {
			fprintf(stderr, "tree: %s\n", buf_cstr(&err));
			exit(1);
		}
		*parts_out += mime_tree_part_count(t);
		mime_tree_free(&t);
	}
	if (store_mailbox_flush(mb, &err) == -1) {
		fprintf(stderr, "flush: %s\n", buf_cstr(&err));
		exit(1);
	}
	ms = bench_now_ms() - t0;
	*cpu_out = bench_cpu_ms() - c0;
	store_mailbox_close(&mb);
	store_close(&st);
	buf_free(&err);
	return ms;
}

/* Warm opens of the store and of INBOX: the medians of reps, as
 * "cpu/wall" ms, for store_open alone and for the whole. */
static void
bench_open(const char *maildir, size_t reps)
{
	double *oc = xcalloc(reps, sizeof(double));
	double *ow = xcalloc(reps, sizeof(double));
	double *tc = xcalloc(reps, sizeof(double));
	double *tw = xcalloc(reps, sizeof(double));
	struct store *st = NULL;
	struct store_mailbox *mb = NULL;
	struct buf err;
	double c0, w0;
	size_t r;

	buf_init(&err, 4096);
	for (r = 0; r < reps; r++) {
		c0 = bench_cpu_ms();
		w0 = bench_now_ms();
		if (store_open(maildir, &st, &err) == -1) {
			fprintf(stderr, "open: %s\n", buf_cstr(&err));
			exit(1);
		}
		oc[r] = bench_cpu_ms() - c0;
		ow[r] = bench_now_ms() - w0;
		if (store_mailbox_open(st, "INBOX", false, &mb, &err) == -1) {
			fprintf(stderr, "open: %s\n", buf_cstr(&err));
			exit(1);
		}
		store_mailbox_close(&mb);
		store_close(&st);
		tc[r] = bench_cpu_ms() - c0;
		tw[r] = bench_now_ms() - w0;
	}
	qsort(oc, reps, sizeof(double), bench_cmp_double);
	qsort(ow, reps, sizeof(double), bench_cmp_double);
	qsort(tc, reps, sizeof(double), bench_cmp_double);
	qsort(tw, reps, sizeof(double), bench_cmp_double);
	printf("warm open, median of %zu (cpu/wall ms): store_open %.2f/%.2f, "
	       "+ mailbox open + close %.2f/%.2f (min: %.2f/%.2f)\n",
	    reps, oc[reps / 2], ow[reps / 2], tc[reps / 2], tw[reps / 2], tc[0],
	    tw[0]);
	free(oc);
	free(ow);
	free(tc);
	free(tw);
	buf_free(&err);
}

/* Writes a message file without fsync: the bench's own data. */
static int
bench_write(const char *path, const struct buf *msg)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd == -1)
		return -1;
	if (write(fd, msg->data, msg->len) != (ssize_t)msg->len) {
		(void)close(fd);
		return -1;
	}
	return close(fd);
}

int
main(int argc, char **argv)
{
	struct store *st = NULL;
	struct store_mailbox *mb = NULL;
	struct buf msg, err, path;
	size_t n = 10000, i, parts, bytes = 0;
	bool small = false;
	char *maildir;
	double ms, cpu;
	const char *only;
	bool reuse;

	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: store-tree-bench DIR [N [small]]\n");
		return 2;
	}
	if (argc >= 3)
		n = (size_t)strtoul(argv[2], NULL, 10);
	small = argc == 4 && strcmp(argv[3], "small") == 0;
	log_set_min_level(LOG_LEVEL_ERROR);
	store_library_init();
	maildir = xasprintf("%s/Maildir", argv[1]);
	/* DIR from an earlier run: its messages as they are (no first
	 * parse to measure) */
	reuse = access(maildir, F_OK) == 0;
	if (reuse)
		n = 0;
	if (fs_mkdir_p(argv[1], 0700) == -1 || maildir_ensure(maildir) == -1)
		return 1;
	buf_init(&msg, 1 << 20);
	buf_init(&err, 4096);
	buf_init(&path, 4096);
	for (i = 0; i < n; i++) {
		if (small)
			bench_message_small(&msg, i);
		else
			bench_message(&msg, i);
		bytes += msg.len;
		buf_reset(&path);
		if (buf_printf(&path, "%s/cur/%zu.M%zuP1.bench:2,S", maildir,
		        (size_t)1700000000 + i, i) == -1 ||
		    bench_write(buf_cstr(&path), &msg) == -1)
			return 1;
	}
	/* cur/'s mtime must be older than the sync's 2 s of slack for the
	 * warm opens to skip the scan, as they do in a real mailbox */
	if (!reuse)
		(void)sleep(3);
	/* the first sync (UIDs) is not what is measured */
	if (store_open(maildir, &st, &err) == -1 ||
	    store_mailbox_open(st, "INBOX", false, &mb, &err) == -1) {
		fprintf(stderr, "open: %s\n", buf_cstr(&err));
		return 1;
	}
	if (reuse) {
		n = store_mailbox_count(mb);
		printf("%s: reused\n", maildir);
	} else
		printf("%zu bytes each on average\n", bytes / (n ? n : 1));
	printf("%zu messages\n", n);
	store_mailbox_close(&mb);
	store_close(&st);
	/* STB_ONLY=open or tree: one part (for perf record) */
	only = getenv("STB_ONLY");
	if (only == NULL || strcmp(only, "open") == 0)
		bench_open(maildir, n >= 50000 ? 7 : 21);
	if (only != NULL && strcmp(only, "tree") != 0)
		return 0;
	ms = bench_pass(maildir, &parts, &cpu);
	printf("%s: %.1f ms, cpu %.1f ms (%.2f us a message, %zu parts)\n",
	    reuse ? "from the cache (reused)" : "parse + cache", ms, cpu,
	    ms * 1e3 / (double)n, parts);
	for (i = 0; i < 3; i++) {
		ms = bench_pass(maildir, &parts, &cpu);
		printf("from the cache: %.1f ms, cpu %.1f ms (%.2f us a "
		       "message, %zu parts)\n",
		    ms, cpu, ms * 1e3 / (double)n, parts);
	}
	buf_free(&msg);
	buf_free(&err);
	buf_free(&path);
	free(maildir);
	return 0;
}
