/*
 * The connection plumbing shared by the SMTP, POP3 and IMAP sessions (see
 * conn.h). The libevent 2.1 quirks it works around are explained here,
 * once, for all three.
 */
#include "lib/conn.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/bufferevent_struct.h> /* ev_read, see conn_read_pending */
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/base64.h"
#include "lib/buf.h"
#include "lib/log.h"

uint64_t
conn_now_sec(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

void
conn_session_id(char *out, size_t size)
{
	unsigned char raw[9]; /* 9 bytes: 12 base64 characters, no padding */
	struct buf b;

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		log_fatal("RAND_bytes failed");
	buf_init(&b, size);
	if (base64_encode(&b, raw, sizeof(raw)) == 0)
		(void)snprintf(out, size, "%s", buf_cstr(&b));
	buf_free(&b);
}

/*
 * Throws away what the client sent that we will not read (commands
 * pipelined behind QUIT, its close_notify): closing a TCP socket that holds
 * unread data sends RST instead of FIN (RFC 1122 4.2.2.13), and a RST
 * discards our last replies if they are still queued here, or unread at
 * the client on some stacks. Best effort and bounded: what arrives after
 * this still meets a RST.
 */
void
conn_drain_socket(evutil_socket_t fd, size_t max)
{
	size_t total = 0;
	ssize_t n;

	/* tcp(7): MSG_TRUNC discards the bytes instead of copying them */
	while (total < max &&
	    (n = recv(fd, NULL, max - total, MSG_TRUNC | MSG_DONTWAIT)) > 0)
		total += (size_t)n;
}

struct bufferevent *
conn_tls_new(struct event_base *base, evutil_socket_t fd, SSL *ssl)
{
	struct bufferevent *bev;

	if (ssl == NULL)
		return NULL;
	bev = bufferevent_openssl_socket_new(
	    base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev != NULL)
		bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

/*
 * The plain connection is replaced by a TLS one on the same socket.
 * Whatever the client pipelined behind STARTTLS (or STLS) is still in the
 * old input buffer and is thrown away with it (RFC 3207 4.2, RFC 2595 4,
 * RFC 9051 6.2.1; CVE-2011-0411); the ClientHello is still in the kernel
 * for the new one.
 */
struct bufferevent *
conn_tls_rewrap(struct event_base *base, struct bufferevent *bev, SSL *ssl)
{
	struct bufferevent *nbev = NULL;
	int fd, saved;

	fd = fcntl(bufferevent_getfd(bev), F_DUPFD_CLOEXEC, 0);
	bufferevent_free(bev); /* closes the old descriptor */
	if (fd != -1)
		nbev = conn_tls_new(base, fd, ssl);
	if (nbev == NULL) {
		saved = errno;
		if (fd != -1)
			(void)close(fd);
		SSL_free(ssl);
		errno = saved;
	}
	return nbev;
}

bool
conn_tls_ready(struct bufferevent *bev, bool tls)
{
	SSL *ssl;

	if (!tls)
		return true;
	ssl = bufferevent_openssl_get_ssl(bev);
	return ssl != NULL && SSL_is_init_finished(ssl);
}

void
conn_tls_log_errors(struct bufferevent *bev, const char *peer)
{
	unsigned long e;
	char text[256];

	while ((e = bufferevent_get_openssl_error(bev)) != 0) {
		ERR_error_string_n(e, text, sizeof(text));
		log_info("TLS error from %s: %s", peer, text);
	}
}

void
conn_close_prepare(struct bufferevent *bev, bool tls, size_t drain_max)
{
	evutil_socket_t fd;

	if (tls) {
		SSL *ssl = bufferevent_openssl_get_ssl(bev);

		/* RFC 8446 6.1: say goodbye with close_notify (best effort,
		 * the socket is non-blocking). The replies went through
		 * SSL_write before it: the output buffer is empty. */
		if (ssl != NULL && SSL_is_init_finished(ssl))
			(void)SSL_shutdown(ssl);
	}
	fd = bufferevent_getfd(bev);
	if (fd != -1)
		conn_drain_socket(fd, drain_max);
}

/*
 * bufferevent_openssl (libevent 2.1) stops reading at the input high-water
 * mark in the middle of a TLS record: the rest of that record's plaintext
 * stays decrypted in the SSL object, and once the input has drained,
 * libevent waits for the socket alone, which stays silent when the client
 * has sent everything and waits for our replies. Run libevent's read
 * handler for those bytes.
 */
void
conn_read_pending(struct bufferevent *bev, size_t high)
{
	SSL *ssl;

	if (!(bufferevent_get_enabled(bev) & EV_READ) ||
	    evbuffer_get_length(bufferevent_get_input(bev)) >= high)
		return;
	ssl = bufferevent_openssl_get_ssl(bev);
	if (ssl != NULL && SSL_is_init_finished(ssl) && SSL_pending(ssl) > 0)
		event_active(&bev->ev_read, EV_READ, 1);
}

/*
 * The client closed its sending side (TCP FIN or TLS close_notify) but
 * may still read: the session answers the commands it sent before, up to
 * its QUIT (or LOGOUT), and closes once those replies are out. Not from
 * the event callback that reports it: bufferevent_openssl (libevent 2.1)
 * reports the end of the stream from inside its SSL_read loop, before it
 * adds the bytes read just before it to the input buffer and runs the read
 * callback. It has also stopped writing; pending replies need it
 * restarted.
 */
int
conn_peer_eof(struct event_base *base, struct bufferevent *bev,
    struct event **evp, event_callback_fn cb, void *arg)
{
	bufferevent_disable(bev, EV_READ);
	bufferevent_enable(bev, EV_WRITE);
	if (*evp == NULL)
		*evp = event_new(base, -1, 0, cb, arg);
	if (*evp == NULL)
		return -1;
	event_active(*evp, EV_TIMEOUT, 1);
	return 0;
}
