/*
 * Logging in Postfix's shape: "Mmm dd hh:mm:ss host mailwright/<service>[pid]:
 * [warning: |error: |fatal: |panic: ]text". One call writes one line with a
 * single write(2) on an O_APPEND descriptor, so processes never interleave.
 * Formats are printf-checked; %m prints strerror(errno) (glibc).
 */
#ifndef LIB_LOG_H
#define LIB_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/mw.h"

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARN,
	LOG_LEVEL_ERROR,
	LOG_LEVEL_FATAL,
	LOG_LEVEL_PANIC,
};

/* Sets the service tag ("smtpd", "queue", "master", ...); borrowed string
 * must live for the process. Also records the pid (call again after fork). */
void log_set_service(const char *service);
/* Sends output to fd (default 2). The fd is not closed by log. */
void log_set_fd(int fd);
/* Opens path for appending and logs there; -1 on failure. */
int log_open_file(const char *path);
void log_set_hostname(const char *hostname);
void log_set_min_level(enum log_level level);
bool log_debug_enabled(void);

void log_debug(const char *fmt, ...) MW_PRINTF(1, 2);
void log_info(const char *fmt, ...) MW_PRINTF(1, 2);
void log_warn(const char *fmt, ...) MW_PRINTF(1, 2);
void log_error(const char *fmt, ...) MW_PRINTF(1, 2);
/* Logs and exits with status 1. */
void log_fatal(const char *fmt, ...) MW_PRINTF(1, 2) MW_NORETURN;
/* Logs and aborts (core dump): for bugs. Declared in mw.h too. */
void log_panic(const char *fmt, ...) MW_PRINTF(1, 2) MW_NORETURN;

/*
 * Makes client text safe to log: control bytes and non-ASCII become '?', the
 * result is cut at 256 bytes. Returns one of a small ring of thread-local
 * buffers: valid until 8 more calls on this thread.
 */
const char *log_sanitize(const char *s, size_t len);
const char *log_sanitize_str(const char *s);

#endif
