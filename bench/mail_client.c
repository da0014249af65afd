/*
 * mail-bench-client: the IMAP and POP3 client that bench/imap.py and
 * bench/pop3.py drive for their timed steps. A client written in Python
 * spends a few microseconds on every FETCH response and every RETR, which
 * for 10,000 messages is a good part of what is measured and the same
 * for both servers, so the ratios shrink towards 1; this one scans the
 * received bytes in place, as the Python client does, at C speed. Not
 * part of mailwright: a bench tool only. Plain TCP (the TLS cases stay in
 * Python; they measure memory, not speed).
 *
 * One request per line on stdin, fields separated by tabs; one JSON
 * object per line on stdout ({"error": "..."} when it failed; "us" is
 * the request's wall time in microseconds):
 *
 *   connect HOST PORT             -> {"greeting": "...", "us": N}
 *   imap CHECK KEEP OPTS TEXT     sends "a<n> TEXT", reads up to the
 *                                 tagged reply; CHECK: bytes every FETCH
 *                                 response must hold (may be empty);
 *                                 KEEP: prefixes of untagged responses
 *                                 to return, separated by "|"; OPTS:
 *                                 "f" return FETCH responses too, "b"
 *                                 BYE expected (LOGOUT)
 *                                 -> {"fetches": N, "lits": BYTES,
 *                                     "kept": ["..."], "us": N}
 *   pop cmd TEXT                  one command, its +OK line -> {"line"}
 *   pop retr N WINDOW             RETR 1..N with up to WINDOW commands in
 *                                 flight (1: one at a time, RFC 2449
 *                                 pipelining above) -> {"n", "bytes"}
 *   close                         closes the connection -> {}
 *
 * Strings in replies are bytes: those outside printable ASCII are written
 * as \u00XX, so a reader decodes the JSON and then encodes as latin-1.
 * IMAP responses are framed as RFC 9051 4.3 says: a line, and when it
 * ends in {n}, the n bytes after it and the next line, and so on.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "bench_clock.h"

#define REQ_MAX  (64 * 1024)
#define KEEP_MAX 8
#define RBUF_MAX ((size_t)1 << 31) /* a response larger than this fails */

struct rbuf {
	char *p;
	size_t len, pos, cap;
};

static int fd = -1;
static struct rbuf rb;
static unsigned tagn;
static char errmsg[512];

/* ---- output ---------------------------------------------------------- */

static void
json_str(const char *s, size_t n)
{
	putchar('"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void
reply_error(void)
{
	fputs("{\"error\": ", stdout);
	json_str(errmsg, strlen(errmsg));
	fputs("}\n", stdout);
	fflush(stdout);
}

static int
fail(const char *what, const char *s, size_t n)
{
	if (n > 200)
		n = 200;
	snprintf(errmsg, sizeof(errmsg), "%s%.*s", what, (int)n, s ? s : "");
	return -1;
}

/* ---- the connection -------------------------------------------------- */

/* Reads more into rb; -1 when the server closed or failed. */
static int
rb_fill(void)
{
	ssize_t r;

	if (rb.cap - rb.len < 65536) {
		size_t cap = rb.cap ? rb.cap * 2 : (size_t)4 << 20;
		char *p;

		if (cap > RBUF_MAX)
			return fail("response too large", NULL, 0);
		p = realloc(rb.p, cap);
		if (p == NULL)
			return fail("out of memory", NULL, 0);
		rb.p = p;
		rb.cap = cap;
	}
	do
		r = read(fd, rb.p + rb.len, rb.cap - rb.len);
	while (r == -1 && errno == EINTR);
	if (r == 0)
		return fail("connection closed by the server", NULL, 0);
	if (r == -1)
		return fail("read: ", strerror(errno), strlen(strerror(errno)));
	rb.len += (size_t)r;
	return 0;
}

/* Between responses: drops what was read. */
static void
rb_compact(void)
{
	if (rb.pos < ((size_t)1 << 20))
		return;
	memmove(rb.p, rb.p + rb.pos, rb.len - rb.pos);
	rb.len -= rb.pos;
	rb.pos = 0;
}

/* The offset of the next CRLF at or after from, reading as needed. */
static int
rb_crlf(size_t from, size_t *at)
{
	for (;;) {
		char *q = memmem(rb.p + from, rb.len - from, "\r\n", 2);

		if (q != NULL) {
			*at = (size_t)(q - rb.p);
			return 0;
		}
		if (rb.len > from)
			from = rb.len - 1;
		if (rb_fill() == -1)
			return -1;
	}
}

static int
send_all(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return fail("write: ", strerror(errno),
			    strlen(strerror(errno)));
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
do_connect(const char *host, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	struct timeval tv = { .tv_sec = 300 };
	int one = 1, e;
	size_t at;

	if (fd != -1)
		close(fd);
	rb.len = rb.pos = 0;
	tagn = 0;
	e = getaddrinfo(host, port, &hints, &ai);
	if (e != 0)
		return fail(
		    "getaddrinfo: ", gai_strerror(e), strlen(gai_strerror(e)));
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1 || connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
		freeaddrinfo(ai);
		return fail(
		    "connect: ", strerror(errno), strlen(strerror(errno)));
	}
	freeaddrinfo(ai);
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (rb_crlf(0, &at) == -1)
		return -1;
	rb.pos = at + 2;
	return 0;
}

/* ---- IMAP ------------------------------------------------------------ */

/*
 * The next response: [*start, *end) without its last CRLF; *lit: the
 * bytes of its literals.
 */
static int
imap_response(bool may_compact, size_t *start, size_t *end, size_t *lit)
{
	size_t p, i;

	if (may_compact)
		rb_compact();
	*start = p = rb.pos;
	*lit = 0;
	for (;;) { /* p: the start of a line of the response */
		if (rb_crlf(p, &i) == -1)
			return -1;
		if (i > p && rb.p[i - 1] == '}') {
			size_t j = i - 1, n = 0, k;

			while (j > p && rb.p[j - 1] != '{')
				j--;
			k = j;
			while (k < i - 1 && rb.p[k] >= '0' && rb.p[k] <= '9' &&
			    n < RBUF_MAX)
				n = n * 10 + (size_t)(rb.p[k++] - '0');
			if (k < i - 1 && rb.p[k] == '+')
				k++;
			if (j > p && k == i - 1 && k > j && rb.p[j] >= '0' &&
			    rb.p[j] <= '9') {
				if (n >= RBUF_MAX)
					return fail(
					    "literal too large", NULL, 0);
				p = i + 2 + n;
				while (rb.len < p)
					if (rb_fill() == -1)
						return -1;
				*lit += n;
				continue;
			}
		}
		rb.pos = i + 2;
		*end = i;
		return 0;
	}
}

static bool
starts(size_t at, size_t end, const char *s)
{
	size_t n = strlen(s);

	return end - at >= n && memcmp(rb.p + at, s, n) == 0;
}

struct kept {
	size_t start, end; /* offsets, valid until the next compaction */
};

static int
do_imap(const char *check, char *keep, const char *opts, const char *text)
{
	const char *keeps[KEEP_MAX];
	size_t nkeep = 0, fetches = 0, lits = 0, nkept = 0, capkept = 0;
	struct kept *kept = NULL;
	bool keep_fetch = strchr(opts, 'f') != NULL;
	bool bye = strchr(opts, 'b') != NULL;
	char tag[32], *line;
	size_t taglen, checklen = strlen(check), linelen;
	int rc = -1;

	for (char *s = keep, *k; *s != '\0' && nkeep < KEEP_MAX; s = k) {
		k = strchr(s, '|');
		keeps[nkeep++] = s;
		if (k == NULL)
			break;
		*k++ = '\0';
	}
	taglen = (size_t)snprintf(tag, sizeof(tag), "a%u ", ++tagn);
	linelen = taglen + strlen(text) + 2;
	line = malloc(linelen + 1);
	if (line == NULL)
		return fail("out of memory", NULL, 0);
	snprintf(line, linelen + 1, "%s%s\r\n", tag, text);
	if (send_all(line, linelen) == -1)
		goto out;
	for (;;) {
		size_t start, end, lit;
		bool keepit = false;

		/* no compaction once kept offsets point into the buffer */
		if (imap_response(nkept == 0, &start, &end, &lit) == -1)
			goto out;
		if (starts(start, end, "* ")) {
			size_t win = end - start < 24 ? end - start : 24;

			if (memmem(rb.p + start, win, " FETCH ", 7) != NULL) {
				fetches++;
				lits += lit;
				if (checklen > 0 &&
				    memmem(rb.p + start, end - start, check,
				        checklen) == NULL) {
					fail("a FETCH response without the "
					     "expected item: ",
					    rb.p + start, end - start);
					goto out;
				}
				keepit = keep_fetch;
			} else {
				for (size_t k = 0; k < nkeep && !keepit; k++)
					keepit = starts(start, end, keeps[k]);
				if (starts(start, end, "* BYE") && !bye) {
					fail("", rb.p + start, end - start);
					goto out;
				}
			}
			if (keepit) {
				if (nkept == capkept) {
					size_t nc = capkept ? capkept * 2 : 16;
					struct kept *nk =
					    realloc(kept, nc * sizeof(*nk));

					if (nk == NULL) {
						fail("out of memory", NULL, 0);
						goto out;
					}
					kept = nk;
					capkept = nc;
				}
				kept[nkept++] = (struct kept){ start, end };
			}
			continue;
		}
		if (starts(start, end, "+")) {
			fail("unexpected continuation: ", rb.p + start,
			    end - start);
			goto out;
		}
		if (starts(start, end, tag)) {
			if (!starts(start + taglen, end, "OK")) {
				fail("", rb.p + start, end - start);
				goto out;
			}
			break;
		}
		fail("unexpected: ", rb.p + start, end - start);
		goto out;
	}
	printf("{\"fetches\": %zu, \"lits\": %zu, \"kept\": [", fetches, lits);
	for (size_t k = 0; k < nkept; k++) {
		if (k > 0)
			fputs(", ", stdout);
		json_str(rb.p + kept[k].start, kept[k].end - kept[k].start);
	}
	fputs("]", stdout);
	rc = 0;
out:
	free(kept);
	free(line);
	return rc;
}

/* ---- POP3 ------------------------------------------------------------ */

/* The next reply line, which must be +OK; [*start, *end). */
static int
pop_line(size_t *start, size_t *end)
{
	size_t i;

	rb_compact();
	if (rb_crlf(rb.pos, &i) == -1)
		return -1;
	*start = rb.pos;
	*end = i;
	rb.pos = i + 2;
	if (!starts(*start, *end, "+OK"))
		return fail("POP3 error: ", rb.p + *start, *end - *start);
	return 0;
}

/* A +OK line, then the data up to CRLF.CRLF (RFC 1939 3); its size. */
static int
pop_multi(size_t *size)
{
	size_t start, end, scan;

	if (pop_line(&start, &end) == -1)
		return -1;
	start = scan = rb.pos;
	for (;;) {
		char *q;

		if (rb.len - start >= 3 &&
		    memcmp(rb.p + start, ".\r\n", 3) == 0) {
			rb.pos = start + 3;
			*size = 0;
			return 0;
		}
		q = memmem(rb.p + scan, rb.len - scan, "\r\n.\r\n", 5);
		if (q != NULL) {
			*size = (size_t)(q - rb.p) + 2 - start;
			rb.pos = (size_t)(q - rb.p) + 5;
			return 0;
		}
		if (rb.len - start > 4)
			scan = rb.len - 4;
		if (rb_fill() == -1)
			return -1;
	}
}

static int
do_pop_cmd(const char *text)
{
	size_t start, end;
	char *line;
	int rc;

	if (asprintf(&line, "%s\r\n", text) == -1)
		return fail("out of memory", NULL, 0);
	rc = send_all(line, strlen(line));
	free(line);
	if (rc == -1 || pop_line(&start, &end) == -1)
		return -1;
	fputs("{\"line\": ", stdout);
	json_str(rb.p + start, end - start);
	return 0;
}

static int
do_pop_retr(unsigned long n, unsigned long window)
{
	unsigned long sent = 0, done = 0;
	size_t total = 0, size;
	char batch[64 * 24];

	if (window < 1 || window > 64)
		return fail("window: 1 to 64", NULL, 0);
	while (done < n) {
		size_t len = 0;

		while (sent < n && sent - done < window)
			len += (size_t)snprintf(batch + len,
			    sizeof(batch) - len, "RETR %lu\r\n", ++sent);
		if (len > 0 && send_all(batch, len) == -1)
			return -1;
		if (pop_multi(&size) == -1)
			return -1;
		total += size;
		done++;
	}
	printf("{\"n\": %lu, \"bytes\": %zu", n, total);
	return 0;
}

/* ---- requests -------------------------------------------------------- */

/* Splits s at tabs into at most max fields; the number found. */
static size_t
split_tabs(char *s, char **f, size_t max)
{
	size_t n = 0;

	while (n < max) {
		f[n++] = s;
		s = strchr(s, '\t');
		if (s == NULL || n == max)
			break;
		*s++ = '\0';
	}
	return n;
}

static int
request(char *req)
{
	char *f[5];
	size_t n = split_tabs(req, f, 5);

	if (strcmp(f[0], "connect") == 0 && n == 3) {
		if (do_connect(f[1], f[2]) == -1)
			return -1;
		fputs("{\"greeting\": ", stdout);
		json_str(rb.p, rb.pos - 2);
		return 0;
	}
	if (strcmp(f[0], "close") == 0) {
		if (fd != -1)
			close(fd);
		fd = -1;
		putchar('{');
		return 0;
	}
	if (fd == -1)
		return fail("not connected", NULL, 0);
	if (strcmp(f[0], "imap") == 0 && n == 5)
		return do_imap(f[1], f[2], f[3], f[4]);
	if (strcmp(f[0], "pop") == 0 && n == 3 && strcmp(f[1], "cmd") == 0)
		return do_pop_cmd(f[2]);
	if (strcmp(f[0], "pop") == 0 && n == 4 && strcmp(f[1], "retr") == 0)
		return do_pop_retr(
		    strtoul(f[2], NULL, 10), strtoul(f[3], NULL, 10));
	return fail("unknown request: ", f[0], strlen(f[0]));
}

int
main(void)
{
	static char req[REQ_MAX];

	while (fgets(req, sizeof(req), stdin) != NULL) {
		size_t len = strlen(req);
		double t0 = bench_now_ms();

		if (len > 0 && req[len - 1] == '\n')
			req[--len] = '\0';
		if (request(req) == -1) {
			reply_error();
			continue;
		}
		printf("%s\"us\": %.0f}\n",
		    strcmp(req, "close") == 0 ? "" : ", ",
		    (bench_now_ms() - t0) * 1e3);
		fflush(stdout);
	}
	return 0;
}
