/*
 * store-sync-bench: the first sync of a folder whose mail was just
 * delivered (the "cold" SELECT of issue #10): N small messages written
 * into new/ as a delivery agent names them (<time>.M<n>P<pid>.bench,
 * S=<size>,W=<vsize>), then store_open + store_mailbox_open of INBOX
 * (which moves new/ to cur/ and indexes every file), then the same again
 * in a fresh store (warm: the index is up to date). Usage:
 * store-sync-bench DIR [N [fill]] (N defaults to 100000): DIR must not
 * exist; with "fill" it stops after filling, and a later run with the
 * same DIR times only the opens (for a profiler).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench_clock.h"
#include "lib/buf.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "store/maildir.h"
#include "store/store.h"

static void
bench_fill(const char *maildir, size_t n)
{
	char body[1024], *tmp, *dst;
	size_t i, len;
	int fd;
	long now = (long)time(NULL) - (long)n;

	for (i = 0; i < n; i++) {
		len = (size_t)snprintf(body, sizeof(body),
		    "From: bench@example.org\nTo: user1@example.test\n"
		    "Subject: bench %zu\nMessage-ID: <%zu@bench>\n\n"
		    "Hello, this is message %zu.\n",
		    i, i, i);
		tmp = xasprintf(
		    "%s/tmp/%ld.M%zuP1.bench", maildir, now + (long)i, i);
		dst = xasprintf("%s/new/%ld.M%zuP1.bench,S=%zu,W=%zu", maildir,
		    now + (long)i, i, len, len + 6);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (fd == -1 || write(fd, body, len) != (ssize_t)len ||
		    close(fd) == -1 || rename(tmp, dst) == -1) {
			perror(dst);
			exit(1);
		}
		free(tmp);
		free(dst);
	}
}

static void
bench_open(const char *maildir, const char *what)
{
	struct store *st = NULL;
	struct store_mailbox *mb = NULL;
	struct buf err;
	double t0 = bench_now_ms(), c0 = bench_cpu_ms();

	buf_init(&err, 4096);
	if (store_open(maildir, &st, &err) == -1 ||
	    store_mailbox_open(st, "INBOX", false, &mb, &err) == -1) {
		fprintf(stderr, "open %s: %s\n", maildir, buf_cstr(&err));
		exit(1);
	}
	printf("%-6s %zu messages: %.1f ms wall, %.1f ms CPU\n", what,
	    store_mailbox_count(mb), bench_now_ms() - t0, bench_cpu_ms() - c0);
	store_mailbox_close(&mb);
	store_close(&st);
	buf_free(&err);
}

int
main(int argc, char **argv)
{
	size_t n = argc > 2 ? strtoul(argv[2], NULL, 10) : 100000;
	char *maildir;

	if (argc < 2) {
		fprintf(stderr, "usage: store-sync-bench DIR [N [fill]]\n");
		return 2;
	}
	log_set_service("store-sync-bench");
	store_library_init();
	maildir = xasprintf("%s/Maildir", argv[1]);
	if (access(maildir, F_OK) == -1) {
		if (fs_mkdir_p(maildir, 0700) == -1 ||
		    maildir_ensure(maildir) == -1) {
			perror(maildir);
			return 1;
		}
		bench_open(maildir, "empty");
		bench_fill(maildir, n);
		sync();
		if (argc > 3 && strcmp(argv[3], "fill") == 0)
			return 0;
	}
	bench_open(maildir, "cold");
	bench_open(maildir, "warm");
	free(maildir);
	return 0;
}
