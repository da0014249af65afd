/*
 * The IMAP session: owns the connection (a libevent bufferevent), feeds
 * what arrives to the command reader (imap_parse.h), takes literals
 * (RFC 9051 7.5 "+" continuations, RFC 7888 LITERAL+/-) and streams
 * APPEND messages to temporary files, sends replies, switches to TLS for
 * STARTTLS (RFC 9051 6.2.1) or at once on imaps (RFC 8314 3.3), enforces
 * the timeouts (RFC 9051 5.4), the error limit and output back-pressure,
 * and tears the session down. Modelled on pop3_session.c; lib/conn.c
 * explains the libevent 2.1 TLS quirks handled the same way here.
 */
#include "imap/imap_session.h"

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
#include "imap/imap_job.h"
#include "imap/imap_session_private.h"
#include "lib/cidr.h"
#include "lib/conf.h"
#include "lib/conn.h"
#include "lib/log.h"
#include "lib/service.h"
#include "lib/tls.h"
#include "lib/xalloc.h"
#include "smtp/smtp_clients.h"

/* Stop reading commands while this much output waits for a client that
 * does not read (RFC 9051 5.5: pipelining must not make us buffer all). */
#define IMAP_OUTPUT_HIGH (256 * 1024)
/* Do not read far ahead of what the reader takes at once. */
#define IMAP_INPUT_HIGH (256 * 1024)
/* What a closing session reads and throws away, at most. */
#define IMAP_DRAIN_MAX (256 * 1024)

static void imap_on_read(struct bufferevent *bev, void *arg);
static void imap_on_write(struct bufferevent *bev, void *arg);
static void imap_on_event(struct bufferevent *bev, short what, void *arg);
static void imap_session_process(struct imap_session *s);

static void
imap_session_free(struct imap_session *s)
{
	struct imapd *srv = s->srv;

	/* no job runs now: the store can go (closed on a worker) */
	imap_job_release_store(s);
	imap_append_discard(s);
	imap_idle_stop_watch(s);
	sasl_server_free(&s->sasl);
	if (s->auth_timer != NULL)
		event_free(s->auth_timer);
	if (s->eof_event != NULL)
		event_free(s->eof_event);
	if (s->sleep_timer != NULL)
		event_free(s->sleep_timer);
	smtp_clients_del(srv->clients, s->addr);
	if (s->userip_key != NULL)
		smtp_clients_del(srv->userips, s->userip_key);
	srv->nsessions--;
	imap_reader_free(&s->reader);
	free(s->held_tag);
	free(s->tried_user);
	free(s->username);
	free(s->userip_key);
	free(s->maildir);
	free(s->mbox_name);
	free(s->saved_uids);
	free(s);
}

void
imap_session_hold(struct imap_session *s)
{
	s->refs++;
	s->busy = true;
}

bool
imap_session_release(struct imap_session *s)
{
	s->busy = false;
	if (--s->refs == 0) {
		imap_session_free(s);
		return false;
	}
	return true;
}

size_t
imap_session_outlen(struct imap_session *s)
{
	if (s->bev == NULL)
		return 0;
	return evbuffer_get_length(bufferevent_get_output(s->bev));
}

void
imap_session_set_timeouts(struct imap_session *s)
{
	const struct conf *conf = s->srv->conf;
	struct timeval tv;

	/* RFC 9051 5.4: an autologout timer of at least 30 minutes once
	 * logged in (IDLE included); before that a shorter one */
	tv.tv_sec = (time_t)(s->state == IMAP_STATE_NOT_AUTH
	        ? conf->imap_login_timeout
	        : conf->imap_idle_timeout);
	tv.tv_usec = 0;
	if (s->bev != NULL)
		bufferevent_set_timeouts(s->bev, &tv, &tv);
}

void
imap_session_update_opts(struct imap_session *s)
{
	s->opts.utf8 = s->utf8;
	s->opts.literal_plus = true;
	imap_reader_set_opts(s->reader, &s->opts);
}

static void
imap_session_setup_bev(struct imap_session *s)
{
	bufferevent_setcb(
	    s->bev, imap_on_read, imap_on_write, imap_on_event, s);
	bufferevent_setwatermark(s->bev, EV_READ, 0, IMAP_INPUT_HIGH);
	/* the write callback runs when the output drains below half the
	 * mark: a FETCH in pieces goes on from there */
	bufferevent_setwatermark(s->bev, EV_WRITE, IMAP_OUTPUT_HIGH / 2, 0);
	imap_session_set_timeouts(s);
}

static void
imap_session_greet(struct imap_session *s)
{
	struct buf b;

	/* RFC 9051 7.1.1: the greeting may carry the capabilities, which
	 * saves clients a round trip (Dovecot does) */
	buf_init(&b, 4096);
	(void)!buf_append_str(&b, "* OK [CAPABILITY ");
	imap_capabilities(s, &b);
	(void)!buf_printf(&b, "] %s ready.\r\n", s->srv->conf->mail_name);
	imap_send(s, b.data, b.len);
	buf_free(&b);
}

void
imap_session_new(struct imapd *srv, enum listener_kind kind, int fd,
    const struct sockaddr *sa, socklen_t salen)
{
	const struct conf *conf = srv->conf;
	struct imap_session *s;
	socklen_t llen = sizeof(struct sockaddr_storage);
	unsigned n;

	s = xcalloc(1, sizeof(*s));
	s->srv = srv;
	s->kind = kind;
	s->state = IMAP_STATE_NOT_AUTH;
	s->refs = 1;
	s->watch_wd[0] = s->watch_wd[1] = -1;
	s->started = conn_now_sec();
	memcpy(&s->peer, sa, salen < sizeof(s->peer) ? salen : sizeof(s->peer));
	net_addr_str(sa, s->addr, sizeof(s->addr));
	if (getsockname(fd, (struct sockaddr *)&s->local, &llen) == 0)
		net_addr_str(
		    (struct sockaddr *)&s->local, s->laddr, sizeof(s->laddr));
	else
		(void)snprintf(s->laddr, sizeof(s->laddr), "unknown");
	conn_session_id(s->session_id, sizeof(s->session_id));
	s->opts.literal_plus = true;
	s->reader = imap_reader_new(&srv->limits, &s->opts);
	srv->nsessions++;
	n = smtp_clients_add(srv->clients, s->addr);

	if (kind == LISTENER_IMAPS && srv->tls != NULL) {
		/* RFC 8314 3.3: implicit TLS; the greeting follows the
		 * handshake (libevent holds it until then) */
		SSL *ssl = tls_server_ssl_new(srv->tls);

		s->bev = conn_tls_new(srv->base, fd, ssl);
		s->tls = true;
	} else if (kind == LISTENER_IMAPS) {
		log_warn("imaps connection from %s, but TLS is not configured",
		    s->addr);
		s->bev = NULL;
	} else
		s->bev = bufferevent_socket_new(
		    srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (s->bev == NULL) {
		log_warn("cannot set up connection from %s: %m", s->addr);
		(void)close(fd);
		imap_session_free(s);
		return;
	}
	s->plaintext_ok = s->tls || !conf->imap_disable_plaintext_auth ||
	    cidr_list_match(srv->plaintext_ok, (struct sockaddr *)&s->peer);
	imap_session_setup_bev(s);

	/* RFC 9051 7.1.5: BYE as the greeting refuses the connection */
	if (service_stopping(srv->service)) {
		imap_sendf(s, "* BYE [UNAVAILABLE] Server shutting down.");
		imap_session_close(s, NULL);
		return;
	}
	if (srv->nsessions > conf->imap_connection_limit) {
		imap_sendf(s, "* BYE [UNAVAILABLE] Too many connections.");
		log_warn("connection limit %llu reached, refused %s",
		    (unsigned long long)conf->imap_connection_limit, s->addr);
		imap_session_close(s, NULL);
		return;
	}
	if (conf->imap_client_connection_count_limit > 0 &&
	    n > conf->imap_client_connection_count_limit) {
		imap_sendf(s, "* BYE [UNAVAILABLE] Too many connections from %s.",
		    s->addr);
		log_warn("Connection concurrency limit exceeded: %u from %s "
		         "for service imapd",
		    n, s->addr);
		imap_session_close(s, NULL);
		return;
	}
	imap_session_greet(s);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
}

void
imap_send(struct imap_session *s, const void *p, size_t n)
{
	if (s->bev == NULL)
		return;
	s->out_bytes += n;
	(void)bufferevent_write(s->bev, p, n);
}

static void
imap_vsend(struct imap_session *s, const char *head, const char *status,
    const char *fmt, va_list ap)
{
	struct buf b;

	if (s->bev == NULL)
		return;
	buf_init(&b, 64 * 1024);
	if (head != NULL)
		(void)!buf_printf(&b, "%s %s ", head, status);
	(void)!buf_vprintf(&b, fmt, ap);
	(void)!buf_append(&b, "\r\n", 2);
	imap_send(s, b.data, b.len);
	buf_free(&b);
}

void
imap_sendf(struct imap_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	imap_vsend(s, NULL, NULL, fmt, ap);
	va_end(ap);
}

void
imap_tagged(struct imap_session *s, const char *status, const char *fmt, ...)
{
	va_list ap;
	char tag[IMAP_TAG_COPY_MAX];

	imap_session_tag(s, tag, sizeof(tag));
	va_start(ap, fmt);
	imap_vsend(s, tag, status, fmt, ap);
	va_end(ap);
}

void
imap_session_tag(struct imap_session *s, char *out, size_t size)
{
	struct imap_slice t = { "*", 1 };

	if (s->held_tag != NULL) {
		(void)snprintf(out, size, "%s", s->held_tag);
		return;
	}
	if (s->cmd != NULL && s->cmd->tag.n > 0)
		t = s->cmd->tag;
	(void)snprintf(out, size, "%.*s", (int)t.n, t.p);
}

void
imap_session_error(struct imap_session *s)
{
	if (++s->errors >= s->srv->conf->imap_hard_error_limit) {
		imap_sendf(s, "* BYE Too many invalid IMAP commands.");
		imap_session_close(s, "Too many invalid commands");
	}
}

void
imap_session_log_tail(struct imap_session *s, struct buf *line)
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
imap_session_log_disconnect(struct imap_session *s, const char *reason)
{
	if (s->username == NULL) {
		imap_auth_log_disconnect(s, reason);
		return;
	}
	if (reason == NULL)
		reason = "Connection closed";
	/* Dovecot: "Disconnected: Logged out in=33 out=451 ..." and
	 * "Disconnected for inactivity in=..." */
	log_info("imap(%s)<%ld><%s>: Disconnected%s%s in=%llu out=%llu",
	    log_sanitize_str(s->username), (long)getpid(), s->session_id,
	    strcmp(reason, "Inactivity") == 0 ? "" : ": ",
	    strcmp(reason, "Inactivity") == 0 ? " for inactivity" : reason,
	    (unsigned long long)s->in_bytes, (unsigned long long)s->out_bytes);
}

/* Frees the connection now; the session lives on while jobs hold
 * references to it. */
static void
imap_session_drop(struct imap_session *s, const char *reason)
{
	if (s->bev == NULL)
		return;
	imap_session_log_disconnect(s, reason);
	imap_idle_stop_watch(s);
	conn_close_prepare(s->bev, s->tls, IMAP_DRAIN_MAX);
	SSL_free(s->starttls_ssl);
	s->starttls_ssl = NULL;
	bufferevent_free(s->bev);
	s->bev = NULL;
	s->state = IMAP_STATE_LOGOUT;
	(void)imap_session_release(s);
}

void
imap_session_close(struct imap_session *s, const char *reason)
{
	if (s->bev == NULL || s->closing)
		return;
	s->closing = true;
	s->close_reason = reason;
	bufferevent_disable(s->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(s->bev)) == 0)
		imap_session_drop(s, reason);
	/* else imap_on_write drops it once the replies are out. */
}

void
imap_session_starttls(struct imap_session *s)
{
	s->starttls_ssl = tls_server_ssl_new(s->srv->tls);
	if (s->starttls_ssl == NULL) {
		imap_tagged(s, "NO", "[UNAVAILABLE] TLS not available.");
		return;
	}
	imap_tagged(s, "OK", "Begin TLS negotiation now.");
	/* Read nothing more in plain text: the handshake starts once the
	 * OK has left (imap_on_write -> imap_session_tls_switch). */
	bufferevent_disable(s->bev, EV_READ);
}

/*
 * The OK to STARTTLS is out: the plain connection is replaced by a TLS
 * one on the same socket. Whatever the client pipelined behind STARTTLS
 * is thrown away with the old input buffer and a new reader (RFC 9051
 * 6.2.1; see conn_tls_rewrap).
 */
static void
imap_session_tls_switch(struct imap_session *s)
{
	SSL *ssl = s->starttls_ssl;

	s->starttls_ssl = NULL;
	s->bev = conn_tls_rewrap(s->srv->base, s->bev, ssl);
	if (s->bev == NULL) {
		log_warn("cannot start TLS with %s: %m", s->addr);
		imap_session_log_disconnect(s, "TLS failed");
		s->state = IMAP_STATE_LOGOUT;
		(void)imap_session_release(s);
		return;
	}
	s->cmd = NULL;
	imap_reader_free(&s->reader);
	s->reader = imap_reader_new(&s->srv->limits, &s->opts);
	imap_session_setup_bev(s);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	s->tls = true;
	s->plaintext_ok = true;
}

static void
imap_on_write(struct bufferevent *bev, void *arg)
{
	struct imap_session *s = arg;

	/* below the low-water mark: a job that waits for the output to
	 * drain goes on */
	if (s->output_wait && !s->closing) {
		s->output_wait = false;
		imap_job_continue(s);
		return;
	}
	/* bufferevent_openssl defers this callback (see smtp_on_write):
	 * only an empty buffer says that every reply is out */
	if (evbuffer_get_length(bufferevent_get_output(bev)) > 0) {
		if (!s->busy && !s->closing && s->starttls_ssl == NULL)
			imap_session_process(s); /* back-pressure lifted */
		return;
	}
	if (s->closing) {
		imap_session_drop(s, s->close_reason);
		return;
	}
	if (s->starttls_ssl != NULL) {
		imap_session_tls_switch(s);
		return;
	}
	if (!s->busy)
		imap_session_process(s);
}

static void
imap_on_peer_eof(evutil_socket_t fd, short what, void *arg)
{
	struct imap_session *s = arg;

	(void)fd;
	(void)what;
	if (s->bev != NULL)
		imap_session_process(s);
}

/* The client closed its sending side but may still read: answer what it
 * sent (see conn_peer_eof), then close. */
static void
imap_session_peer_eof(struct imap_session *s)
{
	if (s->peer_eof)
		return;
	s->peer_eof = true;
	if (conn_peer_eof(
	        s->srv->base, s->bev, &s->eof_event, imap_on_peer_eof, s) == -1)
		log_fatal("imap: cannot create an event: out of memory");
}

static void
imap_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct imap_session *s = arg;

	(void)bev;
	if (what & BEV_EVENT_TIMEOUT) {
		/* A client that does not read its replies gets no more. */
		if (s->closing || (what & BEV_EVENT_WRITING)) {
			imap_session_drop(s, "Inactivity");
			return;
		}
		if (s->busy && !s->idling) {
			/* a job runs (a slow store): not the client's fault */
			bufferevent_enable(s->bev, EV_READ);
			return;
		}
		/* RFC 9051 7.1.5 */
		imap_sendf(s, "* BYE Disconnected for inactivity.");
		imap_session_close(s, "Inactivity");
		return;
	}
	if (what & BEV_EVENT_CONNECTED)
		return;
	if ((what & BEV_EVENT_ERROR) && s->tls)
		conn_tls_log_errors(s->bev, s->addr);
	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) &&
	    conn_tls_ready(s->bev, s->tls)) {
		imap_session_peer_eof(s);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		imap_session_drop(
		    s, s->closing ? s->close_reason : "Connection closed");
}

static void
imap_on_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	imap_session_process(arg);
}

void
imap_session_resume(struct imap_session *s)
{
	if (s->bev == NULL)
		return;
	imap_session_process(s);
}

/* The reply to a command the reader could not parse. */
static void
imap_session_read_error(struct imap_session *s)
{
	struct imap_slice tag;
	const struct imap_parse_err *e = imap_reader_error(s->reader, &tag);
	struct buf b;

	imap_auth_abort(s);
	imap_append_discard(s);
	buf_init(&b, 4096);
	if (e->fatal) {
		(void)!buf_printf(&b, "* BYE %s\r\n", e->text);
		imap_send(s, b.data, b.len);
		imap_session_close(s, "Bad command");
	} else if (imap_parse_err_reply(e, tag, &b) == 0) {
		imap_send(s, b.data, b.len);
		imap_session_error(s);
	}
	buf_free(&b);
}

/* A literal is announced: keep it, stream it (an APPEND message) or
 * refuse it before a byte of it is read. */
static void
imap_session_literal(struct imap_session *s)
{
	const struct imap_literal_info *li = imap_reader_literal(s->reader);

	if (li->append_message) {
		if (imap_append_literal(s, li) == -1)
			return; /* refused and answered */
		if (imap_reader_literal_take(s->reader, IMAP_LITERAL_STREAM) ==
		    -1)
			log_panic("imap: streaming a literal refused");
	} else if (li->over) {
		imap_reader_literal_refuse(s->reader);
		imap_session_read_error(s);
		return;
	} else if (imap_reader_literal_take(s->reader, IMAP_LITERAL_KEEP) ==
	    -1)
		log_panic("imap: keeping a literal within limits refused");
	/* RFC 9051 7.5: the client waits for a continuation request */
	if (li->sync)
		imap_send(s, "+ OK\r\n", 6);
}

/* One line in line mode: an AUTHENTICATE response or IDLE's DONE. */
static void
imap_session_line(struct imap_session *s, struct imap_slice line)
{
	if (s->sasl != NULL)
		imap_auth_line(s, line);
	else if (s->idling)
		imap_idle_line(s, line);
}

/* Feeds buffered input to the reader; false when it needs more. */
static bool
imap_session_feed(struct imap_session *s, struct evbuffer *in)
{
	size_t n = evbuffer_get_length(in), used = 0;
	const unsigned char *p = evbuffer_pullup(in, (ev_ssize_t)n);
	enum imap_read ev;
	struct imap_slice chunk;
	bool last;

	ev = imap_reader_feed(s->reader, p, n, &used);
	switch (ev) {
	case IMAP_READ_MORE:
		break;
	case IMAP_READ_LITERAL:
		s->cmd = NULL; /* the reader reuses the last command's memory */
		imap_session_literal(s);
		break;
	case IMAP_READ_DATA:
		chunk = imap_reader_data(s->reader, &last);
		imap_append_data(s, chunk, last); /* before the drain */
		break;
	case IMAP_READ_COMMAND:
		(void)evbuffer_drain(in, used);
		s->in_bytes += used;
		s->cmd = imap_reader_command(s->reader);
		imap_cmd_dispatch(s, s->cmd);
		return true;
	case IMAP_READ_LINE:
		s->cmd = NULL; /* the reader reused its memory */
		(void)evbuffer_drain(in, used);
		s->in_bytes += used;
		imap_session_line(s, imap_reader_line(s->reader));
		return true;
	case IMAP_READ_ERROR:
		(void)evbuffer_drain(in, used);
		s->in_bytes += used;
		imap_session_read_error(s);
		return true;
	}
	(void)evbuffer_drain(in, used);
	s->in_bytes += used;
	return ev != IMAP_READ_MORE;
}

static void
imap_session_process(struct imap_session *s)
{
	struct evbuffer *in, *out;

	s->refs++; /* a handler may close the session under us */
	while (s->bev != NULL && !s->busy && !s->closing &&
	    s->starttls_ssl == NULL) {
		in = bufferevent_get_input(s->bev);
		out = bufferevent_get_output(s->bev);
		if (evbuffer_get_length(out) > IMAP_OUTPUT_HIGH) {
			bufferevent_disable(s->bev, EV_READ);
			break;
		}
		if (!s->peer_eof)
			bufferevent_enable(s->bev, EV_READ);
		if (evbuffer_get_length(in) == 0)
			break;
		if (!imap_session_feed(s, in))
			break;
	}
	/* decrypted bytes left in the SSL object (see conn_read_pending) */
	if (s->tls && s->bev != NULL && !s->peer_eof && !s->closing && !s->busy)
		conn_read_pending(s->bev, IMAP_INPUT_HIGH);
	if (s->peer_eof && s->bev != NULL && !s->busy && !s->closing &&
	    evbuffer_get_length(bufferevent_get_output(s->bev)) <=
	        IMAP_OUTPUT_HIGH)
		imap_session_close(s, "Connection closed");
	if (--s->refs == 0)
		imap_session_free(s);
}
