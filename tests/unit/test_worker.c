/* Unit tests for src/lib/worker.c and src/lib/dirsync.c. */
#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/dirsync.h"
#include "lib/worker.h"

struct job {
	int ran_on_worker;
	int done;
	pthread_t loop_thread;
	int *ndone;
	struct event_base *base;
	int total;
};

static void
job_run(void *arg)
{
	struct job *j = arg;

	j->ran_on_worker = !pthread_equal(pthread_self(), j->loop_thread);
}

static void
job_done(void *arg)
{
	struct job *j = arg;

	/* done runs on the loop thread */
	assert_true(pthread_equal(pthread_self(), j->loop_thread));
	j->done = 1;
	if (++*j->ndone == j->total)
		event_base_loopexit(j->base, NULL);
}

static void
test_worker_runs_jobs_off_loop_and_done_on_loop(void **state)
{
	struct event_base *base = event_base_new();
	struct worker_pool *wp = worker_pool_new(base, 4);
	struct job jobs[100];
	int ndone = 0, i;

	(void)state;
	for (i = 0; i < 100; i++) {
		jobs[i] = (struct job){ 0, 0, pthread_self(), &ndone, base, 100 };
		worker_submit(wp, job_run, job_done, &jobs[i]);
	}
	assert_int_equal(worker_pool_pending(wp), 100);
	event_base_dispatch(base);
	assert_int_equal(ndone, 100);
	for (i = 0; i < 100; i++) {
		assert_true(jobs[i].ran_on_worker);
		assert_true(jobs[i].done);
	}
	assert_int_equal(worker_pool_pending(wp), 0);
	worker_pool_free(&wp);
	assert_null(wp);
	event_base_free(base);
}

static void
test_worker_free_runs_pending_done_callbacks(void **state)
{
	struct event_base *base = event_base_new();
	struct worker_pool *wp = worker_pool_new(base, 2);
	struct job jobs[10];
	int ndone = 0, i;

	(void)state;
	for (i = 0; i < 10; i++) {
		jobs[i] = (struct job){ 0, 0, pthread_self(), &ndone, base, 99 };
		worker_submit(wp, job_run, job_done, &jobs[i]);
	}
	worker_pool_free(&wp);
	assert_int_equal(ndone, 10);
	event_base_free(base);
}

static struct dirsync *shared_ds;

static void *
sync_thread(void *arg)
{
	int *ret = arg;

	*ret = dirsync_wait(shared_ds);
	return NULL;
}

static void
test_dirsync_concurrent_waiters_all_succeed(void **state)
{
	char dir[] = "/tmp/mw-test-dirsync-XXXXXX";
	pthread_t t[16];
	int ret[16], i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	shared_ds = dirsync_new(dir);
	assert_non_null(shared_ds);
	for (i = 0; i < 16; i++)
		pthread_create(&t[i], NULL, sync_thread, &ret[i]);
	for (i = 0; i < 16; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(ret[i], 0);
	}
	assert_int_equal(dirsync_wait(shared_ds), 0);
	dirsync_free(&shared_ds);
	assert_null(shared_ds);
	assert_int_equal(rmdir(dir), 0);
}

static void
test_dirsync_new_on_missing_dir_fails(void **state)
{
	(void)state;
	errno = 0;
	assert_null(dirsync_new("/nonexistent/mw/dir"));
	assert_int_equal(errno, ENOENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_worker_runs_jobs_off_loop_and_done_on_loop),
		cmocka_unit_test(test_worker_free_runs_pending_done_callbacks),
		cmocka_unit_test(test_dirsync_concurrent_waiters_all_succeed),
		cmocka_unit_test(test_dirsync_new_on_missing_dir_fails),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
