/*
 * Queue IDs: short names for messages that are unique across processes and
 * restarts and sort roughly by arrival time. An ID is 17 characters of
 * [0-9A-Za-z]: base 62 digits (in ASCII order, so strcmp() orders by time)
 * of the seconds (6), the microseconds (4), the process id (4) and a
 * per-process counter (3). Creation of the file named after an ID still
 * uses O_EXCL and retries with a fresh ID on EEXIST.
 */
#ifndef QUEUE_QUEUE_ID_H
#define QUEUE_QUEUE_ID_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/mw.h"

#define QUEUE_ID_LEN     17 /* what queue_id_new() makes */
#define QUEUE_ID_LEN_MAX 20 /* what queue_id_valid() accepts */

/*
 * Writes a fresh NUL-terminated ID into out (outsz > QUEUE_ID_LEN).
 * Thread-safe. 0, or -1 (ENOBUFS) when out is too small.
 */
int queue_id_new(char *out, size_t outsz) MW_MUST_CHECK;
/* True when s is 1..QUEUE_ID_LEN_MAX characters of [0-9A-Za-z]: safe as a
 * file name and in a Maildir file name. */
bool queue_id_valid(const char *s);

#endif
