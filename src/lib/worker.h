/*
 * A small thread pool for work that must not run on an event loop: fsync,
 * SQLite, password hashing. worker_submit() queues a job; run() executes on
 * a worker thread and touches only *job; done() runs afterwards on the
 * loop thread of the event base the pool was created with.
 */
#ifndef LIB_WORKER_H
#define LIB_WORKER_H

#include <stddef.h>

struct event_base;
struct worker_pool;

typedef void worker_run_fn(void *job);
typedef void worker_done_fn(void *job);

/* Starts nthreads threads; done callbacks are dispatched on base. Create
 * pools only after fork (threads do not survive fork). */
struct worker_pool *worker_pool_new(struct event_base *base, size_t nthreads);
/* Waits for queued jobs to finish (running their done callbacks), then
 * stops the threads and frees the pool. */
void worker_pool_free(struct worker_pool **wp);
/* Queues a job; done may be NULL. Never fails (allocation exits on OOM).
 * A worker may queue jobs too (helpers of its own job). */
void worker_submit(struct worker_pool *wp, worker_run_fn *run,
    worker_done_fn *done, void *job);
/* Jobs queued or running. */
size_t worker_pool_pending(const struct worker_pool *wp);
/* The pool's threads. */
size_t worker_pool_threads(const struct worker_pool *wp);

#endif
