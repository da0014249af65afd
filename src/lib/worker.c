/*
 * The worker pool (see worker.h): a mutex-protected FIFO of jobs, N
 * threads that run them, and an eventfd that wakes the event loop to run
 * the done callbacks in submission-completion order.
 */
#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/worker.h"
#include "lib/xalloc.h"

struct worker_job {
	worker_run_fn *run;
	worker_done_fn *done;
	void *arg;
	struct worker_job *next;
};

struct job_queue {
	struct worker_job *head, *tail;
};

struct worker_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job_queue todo;     /* waiting to run */
	struct job_queue finished; /* run, waiting for done on the loop */
	bool stopping;
	/* queued + running + awaiting done; atomic: workers submit too */
	atomic_size_t pending;
	pthread_t *threads;
	size_t nthreads;
	int efd;
	struct event *ev;
};

static void
job_queue_push(struct job_queue *q, struct worker_job *j)
{
	j->next = NULL;
	if (q->tail != NULL)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
}

static struct worker_job *
job_queue_pop(struct job_queue *q)
{
	struct worker_job *j = q->head;

	if (j != NULL) {
		q->head = j->next;
		if (q->head == NULL)
			q->tail = NULL;
	}
	return j;
}

static void *
worker_thread(void *arg)
{
	struct worker_pool *wp = arg;
	struct worker_job *j;
	uint64_t one = 1;
	bool wake;

	for (;;) {
		pthread_mutex_lock(&wp->mu);
		while (wp->todo.head == NULL && !wp->stopping)
			pthread_cond_wait(&wp->cv, &wp->mu);
		j = job_queue_pop(&wp->todo);
		pthread_mutex_unlock(&wp->mu);
		if (j == NULL)
			return NULL; /* stopping and nothing left */
		j->run(j->arg);
		pthread_mutex_lock(&wp->mu);
		wake = wp->finished.head == NULL;
		job_queue_push(&wp->finished, j);
		pthread_mutex_unlock(&wp->mu);
		if (wake && write(wp->efd, &one, sizeof(one)) == -1 &&
		    errno != EAGAIN)
			log_panic("worker: eventfd write: %m");
	}
}

/* Runs the done callbacks of finished jobs on the loop thread. */
static void
worker_on_finished(evutil_socket_t fd, short what, void *arg)
{
	struct worker_pool *wp = arg;
	struct job_queue q;
	struct worker_job *j;
	uint64_t n;

	(void)what;
	if (read(fd, &n, sizeof(n)) == -1 && errno != EAGAIN)
		log_panic("worker: eventfd read: %m");
	pthread_mutex_lock(&wp->mu);
	q = wp->finished;
	wp->finished.head = wp->finished.tail = NULL;
	pthread_mutex_unlock(&wp->mu);
	while ((j = job_queue_pop(&q)) != NULL) {
		if (j->done != NULL)
			j->done(j->arg);
		free(j);
		wp->pending--;
	}
}

struct worker_pool *
worker_pool_new(struct event_base *base, size_t nthreads)
{
	struct worker_pool *wp = xcalloc(1, sizeof(*wp));
	size_t i;

	pthread_mutex_init(&wp->mu, NULL);
	pthread_cond_init(&wp->cv, NULL);
	wp->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (wp->efd == -1)
		log_fatal("worker: eventfd: %m");
	wp->ev = event_new(base, wp->efd, EV_READ | EV_PERSIST,
	    worker_on_finished, wp);
	if (wp->ev == NULL || event_add(wp->ev, NULL) == -1)
		log_fatal("worker: cannot register eventfd");
	wp->nthreads = nthreads ? nthreads : 1;
	wp->threads = xcalloc(wp->nthreads, sizeof(*wp->threads));
	for (i = 0; i < wp->nthreads; i++) {
		int e = pthread_create(&wp->threads[i], NULL, worker_thread,
		    wp);
		if (e != 0) {
			errno = e;
			log_fatal("worker: pthread_create: %m");
		}
	}
	return wp;
}

void
worker_submit(struct worker_pool *wp, worker_run_fn *run,
    worker_done_fn *done, void *job)
{
	struct worker_job *j = xmalloc(sizeof(*j));

	j->run = run;
	j->done = done;
	j->arg = job;
	wp->pending++;
	pthread_mutex_lock(&wp->mu);
	MW_ASSERT(!wp->stopping);
	job_queue_push(&wp->todo, j);
	pthread_cond_signal(&wp->cv);
	pthread_mutex_unlock(&wp->mu);
}

size_t
worker_pool_pending(const struct worker_pool *wp)
{
	return atomic_load(&wp->pending);
}

size_t
worker_pool_threads(const struct worker_pool *wp)
{
	return wp->nthreads;
}

void
worker_pool_free(struct worker_pool **wpp)
{
	struct worker_pool *wp = *wpp;
	size_t i;

	if (wp == NULL)
		return;
	pthread_mutex_lock(&wp->mu);
	wp->stopping = true;
	pthread_cond_broadcast(&wp->cv);
	pthread_mutex_unlock(&wp->mu);
	for (i = 0; i < wp->nthreads; i++)
		pthread_join(wp->threads[i], NULL);
	/* Every job has run: deliver the remaining done callbacks. */
	worker_on_finished(wp->efd, EV_READ, wp);
	event_free(wp->ev);
	(void)close(wp->efd);
	pthread_mutex_destroy(&wp->mu);
	pthread_cond_destroy(&wp->cv);
	free(wp->threads);
	free(wp);
	*wpp = NULL;
}
