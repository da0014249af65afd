/*
 * Parsing the trees of a FETCH's next messages ahead (imap_fetch_pre.h).
 */
#include "imap/imap_fetch_pre.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "imap/imap_session_private.h"
#include "lib/worker.h"
#include "lib/xalloc.h"
#include "mime/mime_tree.h"
#include "store/store.h"

/* The window: messages, and bytes of their files (a tree grows with its
 * file's parts, so this bounds the trees held). */
#define PRE_MSGS_MAX  256
#define PRE_BYTES_MAX ((uint64_t)4 * 1024 * 1024)
/* Fewer files than this are parsed by the job alone. */
#define PRE_PARALLEL_MIN 16
/* Helpers per window, at most (besides the job). */
#define PRE_HELPERS_MAX 3

/* A file to parse: in (view index), out (fd, tree, blob). */
struct pre_item {
	size_t i;
	int fd;
	struct mime_tree *tree;
	char *blob;
	size_t len;
};

/* The files of a window, shared with the helpers: the job's reference
 * and each helper's; the last one frees it. */
struct pre_batch {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct store_mailbox *mb; /* only store_msg_open_quick() */
	bool keep_fd;
	size_t n, next, done, refs;
	struct pre_item it[PRE_MSGS_MAX];
};

static void
pre_batch_unref(struct pre_batch *b)
{
	bool last;

	MW_ASSERT(pthread_mutex_lock(&b->mu) == 0);
	last = --b->refs == 0;
	MW_ASSERT(pthread_mutex_unlock(&b->mu) == 0);
	if (!last)
		return;
	pthread_mutex_destroy(&b->mu);
	pthread_cond_destroy(&b->cv);
	free(b);
}

/* Opens, parses and encodes one file. A file not where the view says
 * (renamed, gone) is left to store_msg_tree() on the job's thread. */
static void
pre_item_run(const struct pre_batch *b, struct pre_item *e)
{
	if (store_msg_open_quick(b->mb, e->i, &e->fd) == -1) {
		e->fd = -1;
		return;
	}
	e->tree = store_tree_parse(e->fd);
	if (e->tree != NULL &&
	    store_tree_blob(e->tree, &e->blob, &e->len) == -1)
		e->blob = NULL;
	if (!b->keep_fd) {
		(void)close(e->fd);
		e->fd = -1;
	}
}

/* Takes files until none is left. */
static void
pre_batch_work(struct pre_batch *b)
{
	for (;;) {
		size_t k;

		MW_ASSERT(pthread_mutex_lock(&b->mu) == 0);
		if (b->next == b->n) {
			MW_ASSERT(pthread_mutex_unlock(&b->mu) == 0);
			return;
		}
		k = b->next++;
		MW_ASSERT(pthread_mutex_unlock(&b->mu) == 0);
		pre_item_run(b, &b->it[k]);
		MW_ASSERT(pthread_mutex_lock(&b->mu) == 0);
		if (++b->done == b->n)
			MW_ASSERT(pthread_cond_broadcast(&b->cv) == 0);
		MW_ASSERT(pthread_mutex_unlock(&b->mu) == 0);
	}
}

static void
pre_helper_run(void *arg)
{
	struct pre_batch *b = arg;

	pre_batch_work(b);
	pre_batch_unref(b);
}

/* Runs the batch on the job's thread and up to PRE_HELPERS_MAX helpers;
 * returns once every file is done. */
static void
pre_batch_run(struct imap_session *s, struct pre_batch *b)
{
	size_t h, nhelp = worker_pool_threads(s->srv->workers) - 1;

	if (nhelp > PRE_HELPERS_MAX)
		nhelp = PRE_HELPERS_MAX;
	if (b->n < PRE_PARALLEL_MIN)
		nhelp = 0;
	b->refs += nhelp; /* before any helper can drop its own */
	for (h = 0; h < nhelp; h++)
		worker_submit(s->srv->workers, pre_helper_run, NULL, b);
	pre_batch_work(b);
	/* only files a helper is working on now are left: never one that a
	 * queued helper has yet to start */
	MW_ASSERT(pthread_mutex_lock(&b->mu) == 0);
	while (b->done < b->n)
		MW_ASSERT(pthread_cond_wait(&b->cv, &b->mu) == 0);
	MW_ASSERT(pthread_mutex_unlock(&b->mu) == 0);
}

static void
pre_clear(struct imap_fetch_pre *pre)
{
	for (size_t k = 0; k < pre->n; k++) {
		mime_tree_free(&pre->m[k].tree);
		if (pre->m[k].fd != -1)
			(void)close(pre->m[k].fd);
	}
	pre->n = 0;
}

void
imap_fetch_pre_fill(struct imap_session *s, struct imap_fetch_pre *pre,
    const size_t *idx, size_t n, size_t pos, bool keep_fd)
{
	struct store_mailbox *mb = s->mb;
	struct pre_batch *b;
	size_t slot[PRE_MSGS_MAX];
	uint64_t bytes = 0;

	pre_clear(pre);
	if (pre->m == NULL)
		pre->m = xreallocarray(NULL, PRE_MSGS_MAX, sizeof(*pre->m));
	b = xcalloc(1, sizeof(*b));
	MW_ASSERT(pthread_mutex_init(&b->mu, NULL) == 0);
	MW_ASSERT(pthread_cond_init(&b->cv, NULL) == 0);
	b->refs = 1; /* the job's */
	b->mb = mb;
	b->keep_fd = keep_fd;
	pre->first = pos;
	while (pos + pre->n < n && pre->n < PRE_MSGS_MAX &&
	    bytes < PRE_BYTES_MAX) {
		struct imap_fetch_pre_msg *e = &pre->m[pre->n];

		e->i = idx[pos + pre->n];
		e->fd = -1;
		bytes += store_mailbox_msg(mb, e->i)->psize;
		e->tree = store_msg_tree_cached(mb, e->i);
		if (e->tree == NULL) {
			b->it[b->n].i = e->i;
			b->it[b->n].fd = -1;
			slot[b->n++] = pre->n;
		}
		pre->n++;
	}
	if (b->n > 0)
		pre_batch_run(s, b);
	for (size_t k = 0; k < b->n; k++) {
		struct pre_item *it = &b->it[k];
		struct imap_fetch_pre_msg *e = &pre->m[slot[k]];

		e->tree = it->tree;
		e->fd = it->fd;
		if (it->blob != NULL)
			store_msg_tree_keep_blob(mb, it->i, it->blob, it->len);
	}
	pre_batch_unref(b);
}

struct imap_fetch_pre_msg *
imap_fetch_pre_get(struct imap_fetch_pre *pre, size_t pos)
{
	if (pos < pre->first || pos - pre->first >= pre->n)
		return NULL;
	return &pre->m[pos - pre->first];
}

void
imap_fetch_pre_free(struct imap_fetch_pre *pre)
{
	pre_clear(pre);
	free(pre->m);
	pre->m = NULL;
}
