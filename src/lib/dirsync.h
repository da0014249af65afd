/*
 * Group commit for directory fsyncs. Many threads rename files into one
 * directory and each needs that directory fsynced before it may report
 * success; dirsync_wait() lets one fsync cover every rename that completed
 * before it started, so N concurrent messages cost about one directory
 * fsync instead of N. Thread-safe.
 */
#ifndef LIB_DIRSYNC_H
#define LIB_DIRSYNC_H

#include "lib/mw.h"

struct dirsync;

/* Opens path (a directory) for syncing; NULL with errno on failure. */
struct dirsync *dirsync_new(const char *path);
void dirsync_free(struct dirsync **ds);
/*
 * Returns once an fsync of the directory that started after this call was
 * made has completed: every rename done before the call is then durable.
 * 0 or -1 (errno of the failing fsync).
 */
int dirsync_wait(struct dirsync *ds) MW_MUST_CHECK;

#endif
