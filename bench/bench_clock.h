/*
 * Clocks for the C benches: wall time (monotonic) and this process's CPU
 * time, in milliseconds.
 */
#ifndef MW_BENCH_CLOCK_H
#define MW_BENCH_CLOCK_H

#include <time.h>

static inline double
bench_now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static inline double
bench_cpu_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

#endif
