/*
 * File-system helpers: full reads and writes, directory fsync, atomic file
 * replacement, mkdir -p, and validation of path components built from user
 * or domain names.
 */
#ifndef LIB_FS_H
#define LIB_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "lib/mw.h"

struct buf;

/* Writes all n bytes (retries short writes and EINTR); 0 or -1. */
int write_full(int fd, const void *p, size_t n) MW_MUST_CHECK;
/* Reads up to n bytes, retrying until EOF; returns bytes read or -1. */
ssize_t read_full(int fd, void *p, size_t n);
/* fsyncs the directory at path; 0 or -1. */
int fsync_dir(const char *path) MW_MUST_CHECK;
/*
 * Atomically replaces path with data: writes path.tmp.<pid>, fsyncs it,
 * renames it over path, fsyncs the directory. 0 or -1 (errno kept).
 */
int fs_atomic_write(const char *path, const void *data, size_t len,
    mode_t mode) MW_MUST_CHECK;
/* Reads a whole file into out (appending); fails with ENOBUFS past out->max. */
int fs_read_file(const char *path, struct buf *out) MW_MUST_CHECK;
/* Creates path and its missing parents with mode; 0 or -1. */
int fs_mkdir_p(const char *path, mode_t mode) MW_MUST_CHECK;
/* Removes a directory tree (for tests and cleanup); 0 or -1. */
int fs_rm_rf(const char *path);
/*
 * True when s may be used as one path component: non-empty, at most 255
 * bytes, no '/', no NUL, no control bytes, not starting with '.'.
 */
bool fs_component_ok(const char *s);
bool fs_exists(const char *path);
/* The directory part of path ("." or "/" at the ends), malloc'd. */
char *fs_dirname(const char *path);

#endif
