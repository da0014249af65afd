/*
 * store-sleep-bench: what an idle store costs with its index connection
 * open, after store_shrink(), and after store_sleep(). Makes N Maildirs
 * of 10 small messages each (one user each, as N POP3 or IMAP sessions
 * of N users), opens every store with INBOX's view, then reports the
 * process's RSS and PSS (/proc/self/smaps_rollup), the malloc'd bytes in
 * use and the open files, per store, at each step; and the time a wake
 * (a sync after a sleep) and a sleep take. Usage: store-sleep-bench DIR
 * [N] (DIR must not exist; N defaults to 500).
 */
#include <dirent.h>
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_clock.h"
#include "lib/buf.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "store/maildir.h"
#include "store/store.h"

#define BENCH_MSGS 10

struct bench_mem {
	double rss_kib, pss_kib; /* smaps_rollup */
	double heap_kib;         /* mallinfo2: bytes in use */
	size_t fds;
};

static void
bench_mem_read(struct bench_mem *m)
{
	struct mallinfo2 mi = mallinfo2();
	char line[256];
	unsigned long v;
	struct dirent *de;
	FILE *fp;
	DIR *d;

	memset(m, 0, sizeof(*m));
	if ((fp = fopen("/proc/self/smaps_rollup", "r")) == NULL) {
		perror("/proc/self/smaps_rollup");
		exit(1);
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (sscanf(line, "Rss: %lu kB", &v) == 1)
			m->rss_kib = (double)v;
		else if (sscanf(line, "Pss: %lu kB", &v) == 1)
			m->pss_kib = (double)v;
	}
	(void)fclose(fp);
	m->heap_kib = (double)mi.uordblks / 1024.0;
	if ((d = opendir("/proc/self/fd")) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.')
				m->fds++;
		(void)closedir(d);
	}
}

static void
bench_mem_report(const char *what, const struct bench_mem *base, size_t n)
{
	struct bench_mem m;

	bench_mem_read(&m);
	printf("%-28s RSS %6.1f  PSS %6.1f  heap %6.1f KiB/store  "
	       "fds %4.2f/store\n",
	    what, (m.rss_kib - base->rss_kib) / (double)n,
	    (m.pss_kib - base->pss_kib) / (double)n,
	    (m.heap_kib - base->heap_kib) / (double)n,
	    (double)(m.fds - base->fds) / (double)n);
}

static void
bench_open(const char *maildir, struct store **st, struct store_mailbox **mb)
{
	struct buf err;

	buf_init(&err, 4096);
	if (store_open(maildir, st, &err) == -1 ||
	    store_mailbox_open(*st, "INBOX", false, mb, &err) == -1) {
		fprintf(stderr, "open %s: %s\n", maildir, buf_cstr(&err));
		exit(1);
	}
	buf_free(&err);
}

static char *
bench_make_user(const char *dir, size_t u)
{
	static const char msg[] = "From: Alice <alice@example.org>\n"
	                          "To: Bob <bob@example.test>\n"
	                          "Subject: hello\n"
	                          "Date: Mon, 1 Jan 2024 10:00:00 +0000\n"
	                          "Message-ID: <1@example.org>\n"
	                          "\n"
	                          "Hello Bob, the meeting is at ten.\n";
	char *maildir = xasprintf("%s/u%zu/Maildir", dir, u), *path;
	size_t i;

	if (fs_mkdir_p(maildir, 0700) == -1 || maildir_ensure(maildir) == -1) {
		perror(maildir);
		exit(1);
	}
	for (i = 0; i < BENCH_MSGS; i++) {
		path = xasprintf("%s/cur/%zu.M%zuP1.bench:2,S", maildir,
		    (size_t)1700000000 + i, i);
		if (fs_atomic_write(path, msg, strlen(msg), 0600) == -1) {
			perror(path);
			exit(1);
		}
		free(path);
	}
	return maildir;
}

/* All n stores opened, then shrunk, then put to sleep, then woken and
 * put to sleep again: the worst case for the heap (every store's
 * allocations interleaved with every other's SQLite memory). */
static void
bench_all_at_once(char **maildir, size_t n)
{
	struct store **st, *warm = NULL;
	struct store_mailbox **mb, *warm_mb = NULL;
	struct store_sync_result res;
	struct bench_mem base;
	struct buf err;
	double t0, wake_ms, sleep_ms;
	size_t i;

	buf_init(&err, 4096);
	st = xcalloc(n, sizeof(*st));
	mb = xcalloc(n, sizeof(*mb));
	/* one store stays open so that SQLite's process-wide state (its
	 * VFS, the unix inode list) counts in the base */
	bench_open(maildir[n], &warm, &warm_mb);
	store_sleep(warm);
	(void)malloc_trim(0);
	bench_mem_read(&base);

	printf("all at once: %zu stores, %d messages each, INBOX open\n", n,
	    BENCH_MSGS);
	for (i = 0; i < n; i++)
		bench_open(maildir[i], &st[i], &mb[i]);
	bench_mem_report("open:", &base, n);
	for (i = 0; i < n; i++)
		store_shrink(st[i]);
	bench_mem_report("store_shrink:", &base, n);
	(void)malloc_trim(0);
	bench_mem_report("store_shrink + malloc_trim:", &base, n);
	for (i = 0; i < n; i++)
		store_sleep(st[i]);
	bench_mem_report("store_sleep:", &base, n);
	(void)malloc_trim(0);
	bench_mem_report("store_sleep + malloc_trim:", &base, n);

	/* a wake: the sync a session does at its next command */
	t0 = bench_now_ms();
	for (i = 0; i < n; i++)
		if (store_mailbox_sync(mb[i], &res, &err) == -1) {
			fprintf(stderr, "sync: %s\n", buf_cstr(&err));
			exit(1);
		}
	wake_ms = bench_now_ms() - t0;
	bench_mem_report("woken by a sync:", &base, n);
	t0 = bench_now_ms();
	for (i = 0; i < n; i++)
		store_sleep(st[i]);
	sleep_ms = bench_now_ms() - t0;
	(void)malloc_trim(0);
	bench_mem_report("asleep again + malloc_trim:", &base, n);
	printf("wake + sync %.0f us, sleep %.0f us (a store)\n",
	    wake_ms * 1e3 / (double)n, sleep_ms * 1e3 / (double)n);

	for (i = 0; i < n; i++) {
		store_mailbox_close(&mb[i]);
		store_close(&st[i]);
	}
	store_mailbox_close(&warm_mb);
	store_close(&warm);
	free(st);
	free(mb);
	buf_free(&err);
}

/* Each store opened and then shrunk or put to sleep before the next
 * opens, as sessions that log in one after the other and go idle: the
 * next one's SQLite memory reuses what the last one gave back. */
static void
bench_one_by_one(char **maildir, size_t n, bool sleep)
{
	struct store **st, *warm = NULL;
	struct store_mailbox **mb, *warm_mb = NULL;
	struct bench_mem base;
	size_t i;

	st = xcalloc(n, sizeof(*st));
	mb = xcalloc(n, sizeof(*mb));
	bench_open(maildir[n], &warm, &warm_mb);
	store_sleep(warm);
	(void)malloc_trim(0);
	bench_mem_read(&base);
	for (i = 0; i < n; i++) {
		bench_open(maildir[i], &st[i], &mb[i]);
		if (sleep)
			store_sleep(st[i]);
		else
			store_shrink(st[i]);
	}
	printf("one by one, each %s before the next opens:\n",
	    sleep ? "asleep" : "shrunk");
	bench_mem_report(sleep ? "store_sleep:" : "store_shrink:", &base, n);
	(void)malloc_trim(0);
	bench_mem_report(sleep ? "store_sleep + malloc_trim:"
	                       : "store_shrink + malloc_trim:",
	    &base, n);
	for (i = 0; i < n; i++) {
		store_mailbox_close(&mb[i]);
		store_close(&st[i]);
	}
	store_mailbox_close(&warm_mb);
	store_close(&warm);
	free(st);
	free(mb);
}

/* Runs one scenario in a child of its own: each starts from the same
 * heap. */
static void
bench_run(char **maildir, size_t n, int which)
{
	pid_t pid;
	int status;

	fflush(stdout);
	if ((pid = fork()) == -1) {
		perror("fork");
		exit(1);
	}
	if (pid == 0) {
		if (which == 0)
			bench_all_at_once(maildir, n);
		else
			bench_one_by_one(maildir, n, which == 2);
		fflush(stdout);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "scenario %d failed\n", which);
		exit(1);
	}
}

int
main(int argc, char **argv)
{
	struct store *st = NULL;
	struct store_mailbox *mb = NULL;
	struct rlimit rl;
	char **maildir;
	size_t n = 500, i;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: store-sleep-bench DIR [N]\n");
		return 2;
	}
	if (argc == 3)
		n = (size_t)strtoul(argv[2], NULL, 10);
	if (n == 0)
		return 2;
	log_set_min_level(LOG_LEVEL_ERROR);
	store_library_init();
	/* about 5 files a store while awake: index, WAL, shm, cur/, new/ */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	maildir = xcalloc(n + 1, sizeof(*maildir));
	for (i = 0; i <= n; i++)
		maildir[i] = bench_make_user(argv[1], i);
	/* the first open of each (UIDs, schema) is not what is measured */
	for (i = 0; i <= n; i++) {
		bench_open(maildir[i], &st, &mb);
		store_mailbox_close(&mb);
		store_close(&st);
	}
	bench_run(maildir, n, 0);
	bench_run(maildir, n, 1);
	bench_run(maildir, n, 2);
	for (i = 0; i <= n; i++)
		free(maildir[i]);
	free(maildir);
	return 0;
}
