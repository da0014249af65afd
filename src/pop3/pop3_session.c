/*
 * The POP3 session: owns the connection (a libevent bufferevent), reads
 * bounded command lines, sends replies, switches to TLS for STLS (RFC
 * 2595 4) or at once on pop3s (RFC 8314 3.3), enforces timeouts, the
 * error limit and output back-pressure, and tears the session down.
 * Commands live in pop3_cmd.c and pop3_auth.c, the mail store jobs in
 * pop3_maildrop.c. Modelled on smtp_session.c; lib/conn.c explains the
 * libevent 2.1 TLS quirks handled the same way here.
 */
#include "pop3/pop3_session.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/ssl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth/sasl.h"
#include "lib/cidr.h"
#include "lib/conf.h"
#include "lib/conn.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "lib/service.h"
#include "lib/tls.h"
#include "lib/xalloc.h"
#include "pop3/pop3_session_private.h"
#include "smtp/smtp_clients.h"

/* Stop reading commands (and the message file) while this much output
 * waits for a client that does not read. */
#define POP3_OUTPUT_HIGH (256 * 1024)
/* Do not read far ahead of what one command line may hold. */
#define POP3_INPUT_HIGH (64 * 1024)
/* What a closing session reads and throws away, at most. */
#define POP3_DRAIN_MAX (256 * 1024)

static void pop3_on_read(struct bufferevent *bev, void *arg);
static void pop3_on_write(struct bufferevent *bev, void *arg);
static void pop3_on_event(struct bufferevent *bev, short what, void *arg);
static void pop3_session_process(struct pop3_session *s);

static void
pop3_session_free(struct pop3_session *s)
{
	struct pop3d *srv = s->srv;

	/* no job runs now: the store can go (closed on a worker) */
	pop3_maildrop_release(s);
	sasl_server_free(&s->sasl);
	if (s->auth_timer != NULL)
		event_free(s->auth_timer);
	if (s->eof_event != NULL)
		event_free(s->eof_event);
	smtp_clients_del(srv->clients, s->addr);
	if (s->userip_key != NULL)
		smtp_clients_del(srv->userips, s->userip_key);
	srv->nsessions--;
	buf_wipe(&s->line);
	buf_free(&s->line);
	free(s->user);
	free(s->tried_user);
	free(s->username);
	free(s->userip_key);
	free(s->marks);
	free(s);
}

void
pop3_session_hold(struct pop3_session *s)
{
	s->refs++;
	s->busy = true;
}

bool
pop3_session_release(struct pop3_session *s)
{
	s->busy = false;
	if (--s->refs == 0) {
		pop3_session_free(s);
		return false;
	}
	return true;
}

void
pop3_session_set_timeouts(struct pop3_session *s)
{
	const struct conf *conf = s->srv->conf;
	struct timeval tv;

	/* RFC 1939 3: an autologout timer of at least 10 minutes once
	 * logged in; before that Dovecot's shorter login timeout */
	tv.tv_sec = (time_t)(s->state == POP3_STATE_AUTHORIZATION
	        ? conf->pop3_login_timeout
	        : conf->pop3_idle_timeout);
	tv.tv_usec = 0;
	if (s->bev != NULL)
		bufferevent_set_timeouts(s->bev, &tv, &tv);
}

static void
pop3_session_setup_bev(struct pop3_session *s)
{
	bufferevent_setcb(
	    s->bev, pop3_on_read, pop3_on_write, pop3_on_event, s);
	bufferevent_setwatermark(s->bev, EV_READ, 0, POP3_INPUT_HIGH);
	/* the write callback runs when the output drains below half the
	 * mark: RETR reads on from there */
	bufferevent_setwatermark(s->bev, EV_WRITE, POP3_OUTPUT_HIGH / 2, 0);
	pop3_session_set_timeouts(s);
}

void
pop3_session_new(struct pop3d *srv, enum listener_kind kind, int fd,
    const struct sockaddr *sa, socklen_t salen)
{
	const struct conf *conf = srv->conf;
	struct pop3_session *s;
	socklen_t llen = sizeof(struct sockaddr_storage);
	unsigned n;

	s = xcalloc(1, sizeof(*s));
	s->srv = srv;
	s->kind = kind;
	s->state = POP3_STATE_AUTHORIZATION;
	s->refs = 1;
	s->lock_fd = -1;
	s->started = conn_now_sec();
	memcpy(&s->peer, sa, salen < sizeof(s->peer) ? salen : sizeof(s->peer));
	net_addr_str(sa, s->addr, sizeof(s->addr));
	if (getsockname(fd, (struct sockaddr *)&s->local, &llen) == 0)
		net_addr_str(
		    (struct sockaddr *)&s->local, s->laddr, sizeof(s->laddr));
	else
		(void)snprintf(s->laddr, sizeof(s->laddr), "unknown");
	conn_session_id(s->session_id, sizeof(s->session_id));
	buf_init(&s->line,
	    conf->pop3_line_limit > POP3_AUTH_LINE_MAX ? conf->pop3_line_limit
	                                               : POP3_AUTH_LINE_MAX);
	srv->nsessions++;
	n = smtp_clients_add(srv->clients, s->addr);

	if (kind == LISTENER_POP3S && srv->tls != NULL) {
		/* RFC 8314 3.3: implicit TLS; the greeting follows the
		 * handshake (libevent holds it until then) */
		SSL *ssl = tls_server_ssl_new(srv->tls);

		s->bev = conn_tls_new(srv->base, fd, ssl);
		s->tls = true;
	} else if (kind == LISTENER_POP3S) {
		log_warn("pop3s connection from %s, but TLS is not configured",
		    s->addr);
		s->bev = NULL;
	} else
		s->bev = bufferevent_socket_new(
		    srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (s->bev == NULL) {
		log_warn("cannot set up connection from %s: %m", s->addr);
		(void)close(fd);
		pop3_session_free(s);
		return;
	}
	s->plaintext_ok = s->tls || !conf->pop3_disable_plaintext_auth ||
	    cidr_list_match(srv->plaintext_ok, (struct sockaddr *)&s->peer);
	pop3_session_setup_bev(s);

	if (service_stopping(srv->service)) {
		pop3_err(s, "[SYS/TEMP] Server shutting down.");
		pop3_session_close(s, NULL);
		return;
	}
	if (srv->nsessions > conf->pop3_connection_limit) {
		pop3_err(s, "[SYS/TEMP] Too many connections.");
		log_warn("connection limit %llu reached, refused %s",
		    (unsigned long long)conf->pop3_connection_limit, s->addr);
		pop3_session_close(s, NULL);
		return;
	}
	if (conf->pop3_client_connection_count_limit > 0 &&
	    n > conf->pop3_client_connection_count_limit) {
		/* RFC 2449 8.1.1: IN-USE would blame the maildrop; this is
		 * a temporary refusal of the client */
		pop3_err(
		    s, "[SYS/TEMP] Too many connections from %s.", s->addr);
		log_warn("Connection concurrency limit exceeded: %u from %s "
		         "for service pop3d",
		    n, s->addr);
		pop3_session_close(s, NULL);
		return;
	}
	/* RFC 1939 4: the greeting; no APOP timestamp (APOP is off) */
	pop3_ok(s, "%s ready.", conf->mail_name);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
}

static void
pop3_vreply(
    struct pop3_session *s, const char *status, const char *fmt, va_list ap)
{
	struct evbuffer *out;

	if (s->bev == NULL)
		return;
	out = bufferevent_get_output(s->bev);
	(void)evbuffer_add(out, status, strlen(status));
	(void)evbuffer_add_vprintf(out, fmt, ap);
	(void)evbuffer_add(out, "\r\n", 2);
}

void
pop3_ok(struct pop3_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pop3_vreply(s, "+OK ", fmt, ap);
	va_end(ap);
}

void
pop3_ok_bare(struct pop3_session *s)
{
	pop3_send(s, "+OK\r\n", 5);
}

void
pop3_err(struct pop3_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pop3_vreply(s, "-ERR ", fmt, ap);
	va_end(ap);
}

void
pop3_send(struct pop3_session *s, const void *p, size_t n)
{
	if (s->bev != NULL)
		(void)bufferevent_write(s->bev, p, n);
}

void
pop3_session_set_state(struct pop3_session *s, enum pop3_state to)
{
	/* RFC 1939 3: AUTHORIZATION -> TRANSACTION -> UPDATE; CLOSED is
	 * reachable from anywhere */
	if (to == POP3_STATE_CLOSED || to == s->state ||
	    (s->state == POP3_STATE_AUTHORIZATION &&
	        to == POP3_STATE_TRANSACTION) ||
	    (s->state == POP3_STATE_TRANSACTION && to == POP3_STATE_UPDATE)) {
		s->state = to;
		return;
	}
	log_panic("pop3: illegal state change %d -> %d", s->state, to);
}

void
pop3_session_error(struct pop3_session *s)
{
	if (++s->errors >= s->srv->conf->pop3_hard_error_limit) {
		pop3_err(s, "Too many bad commands.");
		pop3_session_close(s, "Too many bad commands");
	}
}

void
pop3_session_log_tail(struct pop3_session *s, struct buf *line)
{
	(void)!buf_printf(line, "rip=%s, lip=%s", s->addr, s->laddr);
	if (s->username != NULL)
		(void)!buf_printf(line, ", mpid=%ld", (long)getpid());
	if (s->tls)
		(void)!buf_append_str(line, ", TLS");
	(void)!buf_printf(line, ", session=<%s>", s->session_id);
}

/* Dovecot's shapes, for fail2ban's dovecot filter and admins' greps. */
static void
pop3_session_log_disconnect(struct pop3_session *s, const char *reason)
{
	if (s->username == NULL) {
		pop3_auth_log_disconnect(s, reason);
		return;
	}
	if (reason == NULL)
		reason = "Connection closed";
	/* Dovecot: "Disconnected for inactivity top=...", otherwise
	 * "Disconnected: Logged out top=..." */
	log_info("pop3(%s)<%ld><%s>: Disconnected%s%s top=%u/%llu, "
	         "retr=%u/%llu, del=%u/%zu, size=%llu",
	    log_sanitize_str(s->username), (long)getpid(), s->session_id,
	    strcmp(reason, "Inactivity") == 0 ? "" : ": ",
	    strcmp(reason, "Inactivity") == 0 ? " for inactivity" : reason,
	    s->top_count, (unsigned long long)s->top_bytes, s->retr_count,
	    (unsigned long long)s->retr_bytes, s->del_count, s->nmsgs,
	    (unsigned long long)s->mbox_size);
}

/* Frees the connection now; the session lives on while jobs hold
 * references to it. */
static void
pop3_session_drop(struct pop3_session *s, const char *reason)
{
	if (s->bev == NULL)
		return;
	pop3_session_log_disconnect(s, reason);
	conn_close_prepare(s->bev, s->tls, POP3_DRAIN_MAX);
	SSL_free(s->starttls_ssl);
	s->starttls_ssl = NULL;
	bufferevent_free(s->bev);
	s->bev = NULL;
	s->state = POP3_STATE_CLOSED;
	(void)pop3_session_release(s);
}

void
pop3_session_close(struct pop3_session *s, const char *reason)
{
	if (s->bev == NULL || s->closing)
		return;
	s->closing = true;
	s->close_reason = reason;
	s->state = POP3_STATE_CLOSED;
	bufferevent_disable(s->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(s->bev)) == 0)
		pop3_session_drop(s, reason);
	/* else pop3_on_write drops it once the replies are out. */
}

void
pop3_session_starttls(struct pop3_session *s)
{
	s->starttls_ssl = tls_server_ssl_new(s->srv->tls);
	if (s->starttls_ssl == NULL) {
		pop3_err(
		    s, "[SYS/TEMP] TLS not available due to local problem.");
		return;
	}
	pop3_ok(s, "Begin TLS negotiation now.");
	/* Read nothing more in plain text: the handshake starts once the
	 * +OK has left (pop3_on_write -> pop3_session_tls_switch). */
	bufferevent_disable(s->bev, EV_READ);
}

/*
 * The +OK to STLS is out: the plain connection is replaced by a TLS one
 * on the same socket, and what the client pipelined behind STLS is thrown
 * away (RFC 2595 4; see conn_tls_rewrap).
 */
static void
pop3_session_tls_switch(struct pop3_session *s)
{
	SSL *ssl = s->starttls_ssl;

	s->starttls_ssl = NULL;
	s->bev = conn_tls_rewrap(s->srv->base, s->bev, ssl);
	if (s->bev == NULL) {
		log_warn("cannot start TLS with %s: %m", s->addr);
		pop3_session_log_disconnect(s, "TLS failed");
		s->state = POP3_STATE_CLOSED;
		(void)pop3_session_release(s);
		return;
	}
	pop3_session_setup_bev(s);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	/* RFC 2595 4: forget what was said before (a USER name) */
	free(s->user);
	s->user = NULL;
	s->tls = true;
	s->plaintext_ok = true;
}

static void
pop3_on_write(struct bufferevent *bev, void *arg)
{
	struct pop3_session *s = arg;

	/* below the low-water mark: a RETR in progress reads on (and may
	 * end, running the commands that wait: hold the session) */
	if (s->retr != NULL) {
		s->refs++;
		pop3_retr_on_drain(s);
		if (--s->refs == 0) {
			pop3_session_free(s);
			return;
		}
		if (s->bev == NULL)
			return;
	}
	/* bufferevent_openssl defers this callback (see smtp_on_write):
	 * only an empty buffer says that every reply is out */
	if (evbuffer_get_length(bufferevent_get_output(bev)) > 0) {
		if (!s->busy && !s->closing && s->starttls_ssl == NULL)
			pop3_session_process(s); /* back-pressure lifted */
		return;
	}
	if (s->closing) {
		pop3_session_drop(s, s->close_reason);
		return;
	}
	if (s->starttls_ssl != NULL) {
		pop3_session_tls_switch(s);
		return;
	}
	if (!s->busy)
		pop3_session_process(s);
}

static void
pop3_on_peer_eof(evutil_socket_t fd, short what, void *arg)
{
	struct pop3_session *s = arg;

	(void)fd;
	(void)what;
	if (s->bev != NULL)
		pop3_session_process(s);
}

/* The client closed its sending side but may still read: answer what it
 * sent (see conn_peer_eof), then close. */
static void
pop3_session_peer_eof(struct pop3_session *s)
{
	if (s->peer_eof)
		return;
	s->peer_eof = true;
	if (conn_peer_eof(
	        s->srv->base, s->bev, &s->eof_event, pop3_on_peer_eof, s) == -1)
		log_fatal("pop3: cannot create an event: out of memory");
}

static void
pop3_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct pop3_session *s = arg;

	(void)bev;
	if (what & BEV_EVENT_TIMEOUT) {
		/* A client that does not read its replies gets no more. */
		if (s->closing || (what & BEV_EVENT_WRITING)) {
			pop3_session_drop(s, "Inactivity");
			return;
		}
		if (s->busy) {
			/* a job runs (a slow store): not the client's fault */
			bufferevent_enable(s->bev, EV_READ);
			return;
		}
		pop3_err(s, "Disconnected for inactivity.");
		pop3_session_close(s, "Inactivity");
		return;
	}
	if (what & BEV_EVENT_CONNECTED)
		return;
	if ((what & BEV_EVENT_ERROR) && s->tls)
		conn_tls_log_errors(s->bev, s->addr);
	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) &&
	    conn_tls_ready(s->bev, s->tls)) {
		pop3_session_peer_eof(s);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		pop3_session_drop(
		    s, s->closing ? s->close_reason : "Connection closed");
}

static void
pop3_on_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	pop3_session_process(arg);
}

void
pop3_session_resume(struct pop3_session *s)
{
	if (s->bev == NULL)
		return;
	pop3_session_process(s);
}

static void
pop3_session_line_too_long(struct pop3_session *s)
{
	if (s->sasl != NULL) {
		pop3_auth_abort(s);
		pop3_err(s, "Authentication exchange line is too long.");
	} else
		pop3_err(s, "Line too long.");
	pop3_session_error(s);
}

/*
 * Reads one command line. RFC 1939 3: lines end in CRLF; we also take a
 * bare LF. A line longer than pop3_line_limit (AUTH and its exchange:
 * POP3_AUTH_LINE_MAX) is answered -ERR and skipped up to its end.
 * Returns false when no complete line is buffered.
 */
static bool
pop3_session_read_line(struct pop3_session *s, struct evbuffer *in)
{
	size_t limit = s->srv->conf->pop3_line_limit, eol_len, len;
	struct evbuffer_ptr eol;
	char head[5];
	bool auth = s->sasl != NULL;

	if (!auth && evbuffer_copyout(in, head, sizeof(head)) == sizeof(head))
		auth = ascii_eq_n(head, "AUTH ", sizeof(head));
	if (auth && limit < POP3_AUTH_LINE_MAX)
		limit = POP3_AUTH_LINE_MAX;

	eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_CRLF);
	if (eol.pos == -1) {
		len = evbuffer_get_length(in);
		if (len > limit || s->skipping_line) {
			if (!s->skipping_line)
				pop3_session_line_too_long(s);
			s->skipping_line = true;
			(void)evbuffer_drain(in, len);
		}
		return false;
	}
	len = (size_t)eol.pos;
	if (s->skipping_line || len > limit) {
		if (!s->skipping_line)
			pop3_session_line_too_long(s);
		s->skipping_line = false;
		(void)evbuffer_drain(in, len + eol_len);
		return true;
	}
	buf_reset(&s->line);
	if (buf_append(&s->line, evbuffer_pullup(in, (ev_ssize_t)len), len) ==
	    -1)
		log_panic("pop3: line buffer smaller than pop3_line_limit");
	(void)evbuffer_drain(in, len + eol_len);
	if (s->sasl != NULL)
		pop3_auth_line(s, s->line.data, s->line.len);
	else
		pop3_cmd_dispatch(s, s->line.data, s->line.len);
	buf_wipe(&s->line); /* it may have held a password */
	return true;
}

static void
pop3_session_process(struct pop3_session *s)
{
	struct evbuffer *in, *out;

	s->refs++; /* a handler may close the session under us */
	while (s->bev != NULL && !s->busy && !s->closing &&
	    s->starttls_ssl == NULL) {
		in = bufferevent_get_input(s->bev);
		out = bufferevent_get_output(s->bev);
		/* Back-pressure: a client that does not read its replies
		 * (RFC 2449 6.6: pipelining must not make us buffer all) */
		if (evbuffer_get_length(out) > POP3_OUTPUT_HIGH) {
			bufferevent_disable(s->bev, EV_READ);
			break;
		}
		if (!s->peer_eof)
			bufferevent_enable(s->bev, EV_READ);
		if (evbuffer_get_length(in) == 0)
			break;
		if (!pop3_session_read_line(s, in))
			break;
	}
	/* decrypted bytes left in the SSL object (see conn_read_pending) */
	if (s->tls && s->bev != NULL && !s->peer_eof && !s->closing && !s->busy)
		conn_read_pending(s->bev, POP3_INPUT_HIGH);
	if (s->peer_eof && s->bev != NULL && !s->busy && !s->closing &&
	    evbuffer_get_length(bufferevent_get_output(s->bev)) <=
	        POP3_OUTPUT_HIGH)
		pop3_session_close(s, "Connection closed");
	if (--s->refs == 0)
		pop3_session_free(s);
}
