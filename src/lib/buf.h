/*
 * Growable byte buffers with explicit lengths and a hard ceiling (as curl's
 * dynbuf). Data is always NUL-terminated when non-NULL but may hold NULs.
 */
#ifndef LIB_BUF_H
#define LIB_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/mw.h"

struct buf {
	char *data; /* NUL-terminated when non-NULL; may also hold NULs */
	size_t len, cap;
	size_t max; /* hard ceiling, set at init from configuration */
};

#define BUF_MAX_DEFAULT ((size_t)64 * 1024 * 1024)

/* Initialises an empty buffer that may grow to max bytes. */
void buf_init(struct buf *b, size_t max);
/* Releases the memory; the buffer may be reused after buf_init. */
void buf_free(struct buf *b);
/* Empties the buffer but keeps its memory. */
void buf_reset(struct buf *b);
/* Explicitly zeroes the contents, then empties: for secrets. */
void buf_wipe(struct buf *b);
/* Makes room for n more bytes without appending (for a writer that knows
 * how much will come); -1 with errno ENOBUFS past max. */
int buf_reserve(struct buf *b, size_t n) MW_MUST_CHECK;
/* Appends; -1 with errno ENOBUFS past max, nothing appended then. */
int buf_append(struct buf *b, const void *p, size_t n) MW_MUST_CHECK;
int buf_append_str(struct buf *b, const char *s) MW_MUST_CHECK;
int buf_append_char(struct buf *b, char c) MW_MUST_CHECK;
int buf_printf(struct buf *b, const char *fmt, ...) MW_MUST_CHECK
    MW_PRINTF(2, 3);
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) MW_MUST_CHECK;
/* Drops the first n bytes. */
void buf_consume(struct buf *b, size_t n);
/* Shortens to n bytes (n <= len). */
void buf_truncate(struct buf *b, size_t n);
/* Returns the contents as a C string ("" when empty); owned by b. */
const char *buf_cstr(const struct buf *b);
/* Detaches the contents as a malloc'd C string; b is empty afterwards. */
char *buf_steal(struct buf *b);

#endif
