/*
 * Strict number parsing: the whole string must be a number within bounds.
 * Replaces atoi/strtoul at every call site.
 */
#ifndef LIB_PARSE_H
#define LIB_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/mw.h"

/* Decimal digits only, no sign, no spaces; 0 or -1 (EINVAL/ERANGE). */
int parse_uint(const char *s, uint64_t min, uint64_t max,
    uint64_t *v_out) MW_MUST_CHECK;
/* Same, over n bytes that need not be NUL-terminated. */
int parse_uint_n(const char *s, size_t n, uint64_t min, uint64_t max,
    uint64_t *v_out) MW_MUST_CHECK;
/* A time like "300", "300s", "5m", "1h", "2d", "1w" in seconds. */
int parse_duration(const char *s, uint64_t min, uint64_t max,
    uint64_t *secs_out) MW_MUST_CHECK;
/* "yes"/"no" (also "true"/"false", "1"/"0"). */
int parse_bool(const char *s, bool *v_out) MW_MUST_CHECK;
/* ASCII case-insensitive comparison of n bytes / of strings. */
bool ascii_eq_n(const char *a, const char *b, size_t n);
bool ascii_eq(const char *a, const char *b);
/* Lowercases ASCII letters in place. */
void ascii_lower(char *s);

#endif
