/*
 * store-tree-bench: the cost of the MIME structure cache (issue #10).
 * Makes a Maildir of N messages of about 2.6 KB (a multipart/alternative
 * with a text and an HTML part), then times, for every message in turn,
 * store_msg_tree() on the uncached folder (parse + batched writes, as a
 * first FETCH BODYSTRUCTURE 1:* does) and again in a new session (decode
 * from the index). Usage: store-tree-bench DIR [N] (DIR must not exist).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "mime/mime_tree.h"
#include "store/maildir.h"
#include "store/store.h"

static double
bench_now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
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

/* store_msg_tree() over the whole folder; the ms it took. */
static double
bench_pass(const char *maildir, size_t *parts_out)
{
	struct store *st = NULL;
	struct store_mailbox *mb = NULL;
	struct mime_tree *t;
	struct buf err;
	double t0, ms;
	size_t i;

	buf_init(&err, 4096);
	if (store_open(maildir, &st, &err) == -1 ||
	    store_mailbox_open(st, "INBOX", false, &mb, &err) == -1) {
		fprintf(stderr, "open: %s\n", buf_cstr(&err));
		exit(1);
	}
	*parts_out = 0;
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
	store_mailbox_close(&mb);
	store_close(&st);
	buf_free(&err);
	return ms;
}

int
main(int argc, char **argv)
{
	struct store *st = NULL;
	struct store_mailbox *mb = NULL;
	struct buf msg, err, path;
	size_t n = 10000, i, parts, bytes = 0;
	char *maildir;
	double ms;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: store-tree-bench DIR [N]\n");
		return 2;
	}
	if (argc == 3)
		n = (size_t)strtoul(argv[2], NULL, 10);
	log_set_min_level(LOG_LEVEL_ERROR);
	store_library_init();
	maildir = xasprintf("%s/Maildir", argv[1]);
	if (fs_mkdir_p(argv[1], 0700) == -1 || maildir_ensure(maildir) == -1)
		return 1;
	buf_init(&msg, 1 << 20);
	buf_init(&err, 4096);
	buf_init(&path, 4096);
	for (i = 0; i < n; i++) {
		bench_message(&msg, i);
		bytes += msg.len;
		buf_reset(&path);
		if (buf_printf(&path, "%s/cur/%zu.M%zuP1.bench:2,S", maildir,
		        (size_t)1700000000 + i, i) == -1 ||
		    fs_atomic_write(buf_cstr(&path), msg.data, msg.len, 0600) ==
		        -1)
			return 1;
	}
	/* the first sync (UIDs) is not what is measured */
	if (store_open(maildir, &st, &err) == -1 ||
	    store_mailbox_open(st, "INBOX", false, &mb, &err) == -1) {
		fprintf(stderr, "open: %s\n", buf_cstr(&err));
		return 1;
	}
	store_mailbox_close(&mb);
	store_close(&st);
	printf("%zu messages, %.0f bytes each on average\n", n,
	    (double)bytes / (double)n);
	ms = bench_pass(maildir, &parts);
	printf("parse + cache: %.1f ms (%.1f us a message, %zu parts)\n", ms,
	    ms * 1e3 / (double)n, parts);
	ms = bench_pass(maildir, &parts);
	printf("from the cache: %.1f ms (%.1f us a message, %zu parts)\n", ms,
	    ms * 1e3 / (double)n, parts);
	buf_free(&msg);
	buf_free(&err);
	buf_free(&path);
	free(maildir);
	return 0;
}
