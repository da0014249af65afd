/*
 * smtp-tls-source: a load generator for the submission case of the
 * benchmark, in the spirit of Postfix's smtp-source (which speaks neither
 * TLS nor AUTH). Each message is one new connection: greeting, EHLO,
 * STARTTLS (or implicit TLS with -S), EHLO, AUTH PLAIN, MAIL, RCPT, DATA
 * with a message of -l bytes, QUIT. -s threads share -m messages.
 *
 *   smtp-tls-source [-S] [-s sessions] [-m messages] [-l bytes]
 *       -u user -p password -f from -t to host:port
 *
 * Prints the number of messages accepted (250 after DATA) and exits 1 if
 * any failed. Not part of mailwright: a bench tool only.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *host, *user, *pass, *from, *to;
static int port, nsessions = 1, nmessages = 1, msgsize = 2048;
static bool implicit_tls;
static atomic_int next_msg, accepted, failed;
static SSL_CTX *ctx;
static char *body;
static char auth_b64[700];

struct conn {
	int fd;
	SSL *ssl;
	char buf[8192];
	size_t len;
};

static int
conn_write(struct conn *c, const char *p, size_t n)
{
	while (n > 0) {
		int w = c->ssl ? SSL_write(c->ssl, p, (int)n)
			       : (int)write(c->fd, p, n);
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads one reply (all its lines); returns its code or -1. */
static int
conn_reply(struct conn *c)
{
	for (;;) {
		char *nl;

		while ((nl = memchr(c->buf, '\n', c->len)) != NULL) {
			size_t l = (size_t)(nl - c->buf) + 1;
			bool last = l >= 4 && c->buf[3] != '-';
			int code = atoi(c->buf);

			memmove(c->buf, c->buf + l, c->len - l);
			c->len -= l;
			if (last)
				return code;
		}
		if (c->len == sizeof(c->buf))
			return -1;
		int r = c->ssl ? SSL_read(c->ssl, c->buf + c->len,
				     (int)(sizeof(c->buf) - c->len))
			       : (int)read(c->fd, c->buf + c->len,
				     sizeof(c->buf) - c->len);
		if (r <= 0)
			return -1;
		c->len += (size_t)r;
	}
}

static int
cmd(struct conn *c, const char *line, int want)
{
	if (line != NULL && conn_write(c, line, strlen(line)) == -1)
		return -1;
	return conn_reply(c) == want ? 0 : -1;
}

static int
start_tls(struct conn *c)
{
	c->ssl = SSL_new(ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1 ||
	    SSL_connect(c->ssl) != 1)
		return -1;
	return 0;
}

static int
one_message(void)
{
	struct sockaddr_in sa;
	struct conn c = { .fd = -1 };
	char line[1024];
	int ret = -1, one = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	inet_pton(AF_INET, host, &sa.sin_addr);
	c.fd = socket(AF_INET, SOCK_STREAM, 0);
	if (c.fd == -1 ||
	    connect(c.fd, (struct sockaddr *)&sa, sizeof(sa)) == -1)
		goto out;
	setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (implicit_tls && start_tls(&c) == -1)
		goto out;
	if (cmd(&c, NULL, 220) == -1 || cmd(&c, "EHLO bench.test\r\n", 250))
		goto out;
	if (!implicit_tls) {
		if (cmd(&c, "STARTTLS\r\n", 220) == -1 || start_tls(&c) == -1 ||
		    cmd(&c, "EHLO bench.test\r\n", 250) == -1)
			goto out;
	}
	snprintf(line, sizeof(line), "AUTH PLAIN %s\r\n", auth_b64);
	if (cmd(&c, line, 235) == -1)
		goto out;
	snprintf(line, sizeof(line), "MAIL FROM:<%s>\r\n", from);
	if (cmd(&c, line, 250) == -1)
		goto out;
	snprintf(line, sizeof(line), "RCPT TO:<%s>\r\n", to);
	if (cmd(&c, line, 250) == -1 || cmd(&c, "DATA\r\n", 354) == -1)
		goto out;
	if (cmd(&c, body, 250) == -1)
		goto out;
	ret = 0;
	(void)cmd(&c, "QUIT\r\n", 221);
out:
	if (c.ssl != NULL) {
		SSL_shutdown(c.ssl);
		SSL_free(c.ssl);
	}
	if (c.fd != -1)
		close(c.fd);
	return ret;
}

static void *
worker(void *arg)
{
	(void)arg;
	while (atomic_fetch_add(&next_msg, 1) < nmessages) {
		if (one_message() == 0)
			atomic_fetch_add(&accepted, 1);
		else
			atomic_fetch_add(&failed, 1);
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	pthread_t *t;
	char *colon, plain[512];
	int opt, i, n;

	while ((opt = getopt(argc, argv, "Ss:m:l:u:p:f:t:")) != -1) {
		switch (opt) {
		case 'S': implicit_tls = true; break;
		case 's': nsessions = atoi(optarg); break;
		case 'm': nmessages = atoi(optarg); break;
		case 'l': msgsize = atoi(optarg); break;
		case 'u': user = optarg; break;
		case 'p': pass = optarg; break;
		case 'f': from = optarg; break;
		case 't': to = optarg; break;
		default: goto usage;
		}
	}
	if (optind + 1 != argc || !user || !pass || !from || !to ||
	    (colon = strrchr(argv[optind], ':')) == NULL)
		goto usage;
	*colon = '\0';
	host = argv[optind];
	port = atoi(colon + 1);
	n = snprintf(plain, sizeof(plain), "%c%s%c%s", 0, user, 0, pass);
	EVP_EncodeBlock((unsigned char *)auth_b64, (unsigned char *)plain, n);
	/* A message of about msgsize bytes: headers, then 72-column lines. */
	body = malloc((size_t)msgsize + 256 + 8);
	n = snprintf(body, 256, "From: <%s>\r\nTo: <%s>\r\nSubject: bench\r\n\r\n",
	    from, to);
	while (n < msgsize) {
		int k = msgsize - n > 74 ? 72 : (msgsize - n > 2 ? msgsize - n - 2 : 1);
		memset(body + n, 'x', (size_t)k);
		n += k;
		memcpy(body + n, "\r\n", 2);
		n += 2;
	}
	/* the end of data goes with the message, in one write (one TLS
	 * record), as a buffered client such as smtp-source sends it */
	memcpy(body + n, ".\r\n", 4);
	n += 3;
	body[n] = '\0';
	ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	t = calloc((size_t)nsessions, sizeof(*t));
	for (i = 0; i < nsessions; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (i = 0; i < nsessions; i++)
		pthread_join(t[i], NULL);
	printf("%d accepted, %d failed\n", accepted, failed);
	return failed > 0;
usage:
	fprintf(stderr, "usage: smtp-tls-source [-S] [-s sessions] [-m messages] "
			"[-l bytes] -u user -p password -f from -t to host:port\n");
	return 2;
}
