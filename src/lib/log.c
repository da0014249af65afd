/*
 * Logging (see log.h). Formats one line into a stack buffer and writes it
 * with one write(2); long lines are cut, never split.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"

#define LOG_LINE_MAX 4096

static const char *log_service = "mailwright";
static char log_host[256] = "localhost";
static pid_t log_pid;
static int log_fd = 2;
static enum log_level log_min = LOG_LEVEL_INFO;

void
log_set_service(const char *service)
{
	log_service = service;
	log_pid = getpid();
}

void
log_set_fd(int fd)
{
	log_fd = fd;
}

int
log_open_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

	if (fd == -1)
		return -1;
	log_fd = fd;
	return 0;
}

void
log_set_hostname(const char *hostname)
{
	(void)snprintf(log_host, sizeof(log_host), "%s", hostname);
}

void
log_set_min_level(enum log_level level)
{
	log_min = level;
}

bool
log_debug_enabled(void)
{
	return log_min <= LOG_LEVEL_DEBUG;
}

static void
log_vwrite(enum log_level level, const char *fmt, va_list ap)
{
	static const char *prefix[] = { "", "", "warning: ", "error: ",
		"fatal: ", "panic: " };
	char line[LOG_LINE_MAX];
	struct tm tm;
	time_t now;
	size_t n;
	int r, saved = errno;

	if (level < log_min)
		return;
	if (log_pid == 0)
		log_pid = getpid();
	now = time(NULL);
	(void)localtime_r(&now, &tm);
	n = strftime(line, sizeof(line), "%b %e %H:%M:%S ", &tm);
	r = snprintf(line + n, sizeof(line) - n, "%s mailwright/%s[%ld]: %s",
	    log_host, log_service, (long)log_pid, prefix[level]);
	if (r > 0)
		n += (size_t)r < sizeof(line) - n ? (size_t)r : sizeof(line) - n - 1;
	errno = saved; /* for %m */
	r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (r > 0)
		n += (size_t)r < sizeof(line) - n ? (size_t)r : sizeof(line) - n - 1;
	line[n++] = '\n';
	while (write(log_fd, line, n) == -1 && errno == EINTR)
		;
	errno = saved;
}

#define LOG_FN(name, level)                                                 \
	void name(const char *fmt, ...)                                     \
	{                                                                   \
		va_list ap;                                                 \
		va_start(ap, fmt);                                          \
		log_vwrite(level, fmt, ap);                                 \
		va_end(ap);                                                 \
	}

LOG_FN(log_debug, LOG_LEVEL_DEBUG)
LOG_FN(log_info, LOG_LEVEL_INFO)
LOG_FN(log_warn, LOG_LEVEL_WARN)
LOG_FN(log_error, LOG_LEVEL_ERROR)

void
log_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_FATAL, fmt, ap);
	va_end(ap);
	exit(1);
}

void
log_panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_PANIC, fmt, ap);
	va_end(ap);
	abort();
}

const char *
log_sanitize(const char *s, size_t len)
{
	static __thread char ring[8][257];
	static __thread unsigned slot;
	char *out = ring[slot++ % 8];
	size_t i;

	if (s == NULL)
		s = "";
	if (len > 256)
		len = 256;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		out[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	out[len] = '\0';
	return out;
}

const char *
log_sanitize_str(const char *s)
{
	return log_sanitize(s, s != NULL ? strnlen(s, 257) : 0);
}
