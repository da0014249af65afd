/*
 * pop-echo: the machine's floor for bench/pop3.py's download, a POP3
 * server that does nothing but answer. It serves one connection at a
 * time on 127.0.0.1:PORT (0: a free port, printed on stdout): a
 * greeting, +OK to USER, PASS and QUIT, "+OK COUNT bytes" to STAT, and to
 * "RETR n" a message of SIZE bytes (lines of 76 characters, CRLF, dot
 * terminated) from memory: one read, and one writev for the commands
 * that read brought, as a server on an event loop does. What a download
 * against it costs is the client's and the loopback round trip's share
 * of every server's figure.
 * Not part of mailwright: a bench tool only.
 *
 *   pop-echo PORT COUNT SIZE
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define IOV_MAX_ANSWERS 1024

/* Writes iov[0..n) whole (writev, again after a short write). */
static int
writev_all(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t w = writev(fd, iov, n);

		if (w <= 0)
			return -1;
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

/* Answers every complete command line in buf[0..*len) with one writev,
 * as a server on an event loop sends what one read asked for; keeps the
 * rest. */
static int
answer(int fd, char *buf, size_t *len, const char *msg, size_t msglen,
    const char *stat)
{
	static struct iovec iov[IOV_MAX_ANSWERS];
	char *p = buf, *end = buf + *len, *nl;
	int quit = 0, n = 0;

	while (!quit && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		const char *r = "+OK\r\n";
		size_t rl = 5;

		if (strncasecmp(p, "RETR", 4) == 0) {
			r = msg;
			rl = msglen;
		} else if (strncasecmp(p, "STAT", 4) == 0) {
			r = stat;
			rl = strlen(stat);
		} else if (strncasecmp(p, "QUIT", 4) == 0)
			quit = 1;
		iov[n].iov_base = (void *)r;
		iov[n++].iov_len = rl;
		if (n == IOV_MAX_ANSWERS) {
			if (writev_all(fd, iov, n) == -1)
				return -1;
			n = 0;
		}
		p = nl + 1;
	}
	if (n > 0 && writev_all(fd, iov, n) == -1)
		return -1;
	*len = (size_t)(end - p);
	memmove(buf, p, *len);
	return quit ? 1 : 0;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	size_t size, msglen, k, len;
	char *msg, stat[64], buf[65536];
	unsigned long count;
	int ls, one = 1;

	if (argc != 4) {
		fprintf(stderr, "usage: pop-echo PORT COUNT SIZE\n");
		return 2;
	}
	count = strtoul(argv[2], NULL, 10);
	size = strtoul(argv[3], NULL, 10);
	msg = malloc(size + 128);
	if (msg == NULL)
		return 1;
	msglen = (size_t)snprintf(msg, 64, "+OK %zu octets\r\n", size);
	for (k = 0; k < size; k++) /* 76 characters and CRLF a line */
		msg[msglen + k] = k % 78 == 76 ? '\r'
		    : k % 78 == 77             ? '\n'
		                               : 'x';
	msglen += size;
	memcpy(msg + msglen, "\r\n.\r\n", 5);
	msglen += 5;
	snprintf(stat, sizeof(stat), "+OK %lu %lu\r\n", count,
	    count * (unsigned long)size);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((unsigned short)atoi(argv[1]));
	ls = socket(AF_INET, SOCK_STREAM, 0);
	(void)setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ls == -1 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(ls, 16) == -1 ||
	    getsockname(ls, (struct sockaddr *)&sa, &sl) == -1) {
		perror("pop-echo");
		return 1;
	}
	printf("%d\n", ntohs(sa.sin_port));
	fflush(stdout);
	for (;;) {
		struct iovec greeting = { "+OK pop-echo\r\n", 14 };
		int fd = accept(ls, NULL, NULL), r = 0;

		if (fd == -1)
			continue;
		(void)setsockopt(
		    fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		len = 0;
		if (writev_all(fd, &greeting, 1) == -1)
			r = -1;
		while (r == 0) {
			ssize_t n = read(fd, buf + len, sizeof(buf) - len);

			if (n <= 0)
				break;
			len += (size_t)n;
			r = answer(fd, buf, &len, msg, msglen, stat);
			if (len == sizeof(buf))
				break; /* a line longer than the buffer */
		}
		close(fd);
	}
}
