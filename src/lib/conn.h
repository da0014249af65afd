/*
 * Connection plumbing that the SMTP, POP3 and IMAP sessions do the same
 * way around their libevent bufferevents: the session id in the logs, a
 * monotonic clock, implicit TLS and the switch to TLS after STARTTLS/STLS,
 * the libevent 2.1 TLS quirks (bytes left in the SSL object, the end of
 * the stream reported too early) and the drain before close. The session
 * state machines, and so what to do at each of these points, stay with
 * the sessions.
 */
#ifndef LIB_CONN_H
#define LIB_CONN_H

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bufferevent;
typedef struct ssl_st SSL;

/* Seconds since some fixed point (CLOCK_MONOTONIC): for durations only. */
uint64_t conn_now_sec(void);

/* Dovecot's session=<...>: writes 12 base64 characters of randomness
 * (size must be at least 13); exits (log_fatal) if RAND_bytes fails. */
void conn_session_id(char *out, size_t size);

/*
 * Reads and throws away what the peer sent that will not be read, at most
 * max bytes, before the socket fd is closed (see conn.c for why).
 */
void conn_drain_socket(evutil_socket_t fd, size_t max);

/*
 * A server-side TLS bufferevent on fd that starts with the handshake and
 * closes fd when freed; NULL when ssl is NULL or libevent fails (errno
 * set). The caller still owns fd and ssl then.
 */
struct bufferevent *conn_tls_new(
    struct event_base *base, evutil_socket_t fd, SSL *ssl);

/*
 * After the positive reply to STARTTLS has left: frees bev (and whatever
 * the client pipelined in its input buffer) and returns a TLS bufferevent
 * on the same socket that owns ssl, with no callbacks set. NULL when that
 * fails: the socket is closed, ssl freed and errno says why.
 */
struct bufferevent *conn_tls_rewrap(
    struct event_base *base, struct bufferevent *bev, SSL *ssl);

/* False while a TLS handshake on bev is unfinished (nothing can be sent
 * then); true for a plain connection (tls false). */
bool conn_tls_ready(struct bufferevent *bev, bool tls);

/* Logs, one line each, the OpenSSL errors queued on bev, from peer. */
void conn_tls_log_errors(struct bufferevent *bev, const char *peer);

/*
 * Before bev is freed: sends close_notify when tls and the handshake is
 * done, then drains the socket (conn_drain_socket, at most drain_max).
 */
void conn_close_prepare(struct bufferevent *bev, bool tls, size_t drain_max);

/*
 * Runs libevent's read handler when decrypted bytes wait in bev's SSL
 * object although reading is on and its input holds less than high (the
 * read high-water mark): see conn.c. Does nothing on a plain bufferevent.
 */
void conn_read_pending(struct bufferevent *bev, size_t high);

/*
 * The peer closed its sending side: stops reading from bev, restarts
 * writing, and runs cb(arg) from the loop soon, through *evp (created on
 * first use in base; the caller frees it). -1 (out of memory) or 0.
 */
int conn_peer_eof(struct event_base *base, struct bufferevent *bev,
    struct event **evp, event_callback_fn cb, void *arg);

#endif
