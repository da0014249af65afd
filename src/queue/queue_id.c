/*
 * Queue ID generation and validation (see queue_id.h). The time fields come
 * first so that IDs sort by arrival; the pid separates processes and the
 * atomic counter separates IDs made in the same microsecond by the threads
 * of one process.
 */
#include "queue/queue_id.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/time.h>
#include <unistd.h>

/* Base 62 in ASCII order: comparing IDs with strcmp() compares the numbers. */
static const char queue_id_digits[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static atomic_uint_fast32_t queue_id_counter;

/* Writes v as exactly width base-62 digits (v is reduced modulo 62^width). */
static void
queue_id_put(char *p, uint64_t v, size_t width)
{
	while (width-- > 0) {
		p[width] = queue_id_digits[v % 62];
		v /= 62;
	}
}

int
queue_id_new(char *out, size_t outsz)
{
	struct timeval tv;
	uint64_t n;

	if (outsz <= QUEUE_ID_LEN) {
		errno = ENOBUFS;
		return -1;
	}
	(void)gettimeofday(&tv, NULL);
	n = atomic_fetch_add(&queue_id_counter, 1);
	queue_id_put(out, (uint64_t)tv.tv_sec, 6);      /* 62^6 s: year 3770 */
	queue_id_put(out + 6, (uint64_t)tv.tv_usec, 4); /* 62^4 > 10^6 */
	queue_id_put(out + 10, (uint64_t)getpid(), 4); /* 62^4 > pid_max 2^22 */
	queue_id_put(out + 14, n, 3);
	out[QUEUE_ID_LEN] = '\0';
	return 0;
}

bool
queue_id_valid(const char *s)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++) {
		char c = s[n];
		if (n >= QUEUE_ID_LEN_MAX ||
		    !((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
		        (c >= 'a' && c <= 'z')))
			return false;
	}
	return n > 0;
}
