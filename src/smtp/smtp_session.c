/*
 * The SMTP session: owns the connection (a libevent bufferevent), reads
 * bounded command lines, hands body bytes to the receiver, sends replies,
 * enforces timeouts and error limits, and tears the session down. Command
 * semantics live in smtp_cmd.c, body handling in smtp_receive.c.
 */
#include "smtp/smtp_session.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <netinet/in.h>
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
#include "queue/queue_file.h"
#include "smtp/smtp_clients.h"
#include "smtp/smtp_session_private.h"

/* Stop reading from a client whose replies pile up unread. */
#define SMTP_OUTPUT_HIGH (256 * 1024)
/* Do not read far ahead of what one command line may hold. */
#define SMTP_INPUT_HIGH (64 * 1024)
/* What a closing session reads and throws away, at most (see
 * conn_drain_socket). */
#define SMTP_DRAIN_MAX (256 * 1024)

static void smtp_on_read(struct bufferevent *bev, void *arg);
static void smtp_on_write(struct bufferevent *bev, void *arg);
static void smtp_on_event(struct bufferevent *bev, short what, void *arg);
static void smtp_session_process(struct smtp_session *s);
static void smtp_session_log_disconnect(struct smtp_session *s);
static void smtp_session_peer_eof(struct smtp_session *s);

static const char *counter_names[SMTP_CNT_MAX] = { "ehlo", "helo", "mail",
	"rcpt", "data", "bdat", "rset", "noop", "quit", "vrfy", "expn", "help",
	"starttls", "auth", "unknown" };

const char *
smtp_session_peer(const struct smtp_session *s)
{
	static char peer[160];

	(void)snprintf(peer, sizeof(peer), "%s[%s]", s->name, s->addr);
	return peer;
}

const char *
smtp_session_logid(const struct smtp_session *s)
{
	return s->tx != NULL && s->tx->qm != NULL ? queue_msg_id(s->tx->qm)
						   : "NOQUEUE";
}

static void
smtp_session_free(struct smtp_session *s)
{
	struct smtpd *srv = s->srv;

	smtp_tx_free(&s->tx);
	sasl_server_free(&s->sasl);
	free(s->sasl_username);
	if (s->auth_timer != NULL)
		event_free(s->auth_timer);
	if (s->eof_event != NULL)
		event_free(s->eof_event);
	smtp_clients_del(srv->clients, s->addr);
	srv->nsessions--;
	buf_free(&s->line);
	free(s->helo);
	free(s);
}

void
smtp_session_hold(struct smtp_session *s)
{
	s->refs++;
	s->busy = true;
}

bool
smtp_session_release(struct smtp_session *s)
{
	s->busy = false;
	if (--s->refs == 0) {
		smtp_session_free(s);
		return false;
	}
	return true;
}

void
smtp_session_new(struct smtpd *srv, enum listener_kind kind, int fd,
    const struct sockaddr *sa, socklen_t salen)
{
	const struct conf *conf = srv->conf;
	struct smtp_session *s;
	struct timeval tv;
	unsigned n;

	s = xcalloc(1, sizeof(*s));
	s->srv = srv;
	s->kind = kind;
	s->state = SMTP_STATE_CONNECTED;
	s->refs = 1;
	memcpy(&s->peer, sa, salen < sizeof(s->peer) ? salen : sizeof(s->peer));
	net_addr_str(sa, s->addr, sizeof(s->addr));
	/* Reverse DNS comes with the resolver; loopback needs no lookup. */
	(void)snprintf(s->name, sizeof(s->name), "%s",
	    (strncmp(s->addr, "127.", 4) == 0 || strcmp(s->addr, "::1") == 0)
		? "localhost"
		: "unknown");
	/* RFC 4954 4: AUTH responses may reach 12288 octets */
	buf_init(&s->line, conf->smtpd_line_limit > SMTP_AUTH_LINE_MAX
		? conf->smtpd_line_limit
		: SMTP_AUTH_LINE_MAX);
	s->in_mynetworks = cidr_list_match(srv->mynetworks, sa);
	srv->nsessions++;
	n = smtp_clients_add(srv->clients, s->addr);

	if (kind == LISTENER_SMTPS && srv->tls != NULL) {
		/* RFC 8314 3.3: implicit TLS, the greeting follows the
		 * handshake (libevent holds it until then). */
		SSL *ssl = tls_server_ssl_new(srv->tls);

		s->bev = conn_tls_new(srv->base, fd, ssl);
		s->tls = true;
	} else if (kind == LISTENER_SMTPS) {
		log_warn("smtps connection from %s, but TLS is not configured",
		    smtp_session_peer(s));
		s->bev = NULL;
	} else {
		const char *level = kind == LISTENER_SUBMISSION
		    ? conf->submission_tls_security_level
		    : conf->smtpd_tls_security_level;

		s->bev = bufferevent_socket_new(srv->base, fd,
		    BEV_OPT_CLOSE_ON_FREE);
		s->tls_offered = srv->tls != NULL && strcmp(level, "none") != 0;
		s->tls_required = strcmp(level, "encrypt") == 0;
	}
	if (s->bev == NULL) {
		log_warn("cannot set up connection from %s: %m",
		    smtp_session_peer(s));
		(void)close(fd);
		smtp_session_free(s);
		return;
	}
	bufferevent_setcb(s->bev, smtp_on_read, smtp_on_write, smtp_on_event,
	    s);
	bufferevent_setwatermark(s->bev, EV_READ, 0, SMTP_INPUT_HIGH);
	tv.tv_sec = (time_t)conf->smtpd_timeout;
	tv.tv_usec = 0;
	bufferevent_set_timeouts(s->bev, &tv, &tv);
	log_info("connect from %s", smtp_session_peer(s));

	if (service_stopping(srv->service)) {
		smtp_reply(s, 421, "4.3.2", "%s Service shutting down",
		    conf->myhostname);
		smtp_session_close(s, NULL);
		return;
	}
	if (srv->nsessions > conf->smtpd_connection_limit) {
		smtp_reply(s, 421, "4.3.2", "%s Error: too many connections",
		    conf->myhostname);
		log_warn("connection limit %llu reached, refused %s",
		    (unsigned long long)conf->smtpd_connection_limit,
		    smtp_session_peer(s));
		smtp_session_close(s, NULL);
		return;
	}
	if (conf->smtpd_client_connection_count_limit > 0 &&
	    n > conf->smtpd_client_connection_count_limit) {
		smtp_reply(s, 421, "4.7.0",
		    "%s Error: too many connections from %s",
		    conf->myhostname, s->addr);
		log_warn("Connection concurrency limit exceeded: %u from %s "
			 "for service smtpd",
		    n, smtp_session_peer(s));
		smtp_session_close(s, NULL);
		return;
	}
	smtp_reply_raw(s, srv->banner, strlen(srv->banner));
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
}

void
smtp_session_starttls(struct smtp_session *s)
{
	s->starttls_ssl = tls_server_ssl_new(s->srv->tls);
	if (s->starttls_ssl == NULL) {
		smtp_reply(s, 454, "4.7.0", "TLS not available due to local problem");
		return;
	}
	smtp_reply(s, 220, "2.0.0", "Ready to start TLS");
	/* Read nothing more in plain text: the handshake starts once the 220
	 * has left (smtp_on_write -> smtp_session_tls_switch). */
	bufferevent_disable(s->bev, EV_READ);
}

/*
 * The 220 is out: the plain connection is replaced by a TLS one on the
 * same socket, and what the client pipelined behind STARTTLS is thrown
 * away (RFC 3207 4.2; see conn_tls_rewrap).
 */
static void
smtp_session_tls_switch(struct smtp_session *s)
{
	SSL *ssl = s->starttls_ssl;
	struct timeval tv = { (time_t)s->srv->conf->smtpd_timeout, 0 };

	s->starttls_ssl = NULL;
	s->bev = conn_tls_rewrap(s->srv->base, s->bev, ssl);
	if (s->bev == NULL) {
		log_warn("cannot start TLS with %s: %m", smtp_session_peer(s));
		smtp_session_log_disconnect(s);
		s->state = SMTP_STATE_CLOSED;
		(void)smtp_session_release(s);
		return;
	}
	bufferevent_setcb(s->bev, smtp_on_read, smtp_on_write, smtp_on_event,
	    s);
	bufferevent_setwatermark(s->bev, EV_READ, 0, SMTP_INPUT_HIGH);
	bufferevent_set_timeouts(s->bev, &tv, &tv);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	/* RFC 3207 4.2: forget everything said before; EHLO again. */
	smtp_tx_free(&s->tx);
	free(s->helo);
	s->helo = NULL;
	s->esmtp = false;
	s->tls = true;
	s->tls_offered = false;
	s->state = SMTP_STATE_CONNECTED;
}

void
smtp_session_tls_describe(struct smtp_session *s, struct buf *out)
{
	SSL *ssl = s->bev != NULL ? bufferevent_openssl_get_ssl(s->bev) : NULL;

	if (ssl != NULL)
		tls_describe(ssl, out);
}

void
smtp_reply_raw(struct smtp_session *s, const char *text, size_t len)
{
	if (s->bev == NULL)
		return;
	(void)bufferevent_write(s->bev, text, len);
}

void
smtp_reply(struct smtp_session *s, int code, const char *enh,
    const char *fmt, ...)
{
	struct evbuffer *out;
	va_list ap;

	if (s->bev == NULL)
		return;
	out = bufferevent_get_output(s->bev);
	if (enh != NULL)
		(void)evbuffer_add_printf(out, "%d %s ", code, enh);
	else
		(void)evbuffer_add_printf(out, "%d ", code);
	va_start(ap, fmt);
	(void)evbuffer_add_vprintf(out, fmt, ap);
	va_end(ap);
	(void)evbuffer_add(out, "\r\n", 2);
}

void
smtp_session_count(struct smtp_session *s, enum smtp_counter c, bool ok)
{
	s->cnt[c][1]++;
	if (ok)
		s->cnt[c][0]++;
}

void
smtp_session_set_state(struct smtp_session *s, enum smtp_state to)
{
	/* Legal transitions (RFC 5321 4.1.4 and 3.3): from each state, the
	 * states a command may lead to. CLOSED is reachable from anywhere. */
	static const struct {
		enum smtp_state from;
		unsigned to;
	} legal[] = {
		{ SMTP_STATE_CONNECTED, SMTP_STATE_READY },
		{ SMTP_STATE_READY, SMTP_STATE_READY | SMTP_STATE_MAIL },
		{ SMTP_STATE_MAIL, SMTP_STATE_READY | SMTP_STATE_RCPT |
			SMTP_STATE_BDAT },
		{ SMTP_STATE_RCPT, SMTP_STATE_READY | SMTP_STATE_DATA |
			SMTP_STATE_BDAT },
		{ SMTP_STATE_DATA, SMTP_STATE_READY },
		{ SMTP_STATE_BDAT, SMTP_STATE_READY },
	};
	size_t i;

	if (to == SMTP_STATE_CLOSED || to == s->state) {
		s->state = to;
		return;
	}
	for (i = 0; i < MW_NELEM(legal); i++)
		if (legal[i].from == s->state && (legal[i].to & to)) {
			s->state = to;
			return;
		}
	log_panic("smtp: illegal state change %d -> %d", s->state, to);
}

void
smtp_session_error(struct smtp_session *s)
{
	if (++s->errors >= s->srv->conf->smtpd_hard_error_limit) {
		smtp_reply(s, 421, "4.7.0", "%s Error: too many errors",
		    s->srv->conf->myhostname);
		smtp_session_close(s, "too many errors");
	}
}

static void
smtp_session_log_disconnect(struct smtp_session *s)
{
	struct buf line;
	unsigned total = 0, ok = 0;
	int i;

	buf_init(&line, 4096);
	(void)!buf_printf(&line, "disconnect from %s", smtp_session_peer(s));
	for (i = 0; i < SMTP_CNT_MAX; i++) {
		if (s->cnt[i][1] == 0)
			continue;
		total += s->cnt[i][1];
		ok += s->cnt[i][0];
		if (s->cnt[i][0] == s->cnt[i][1])
			(void)!buf_printf(&line, " %s=%u", counter_names[i],
			    s->cnt[i][1]);
		else
			(void)!buf_printf(&line, " %s=%u/%u", counter_names[i],
			    s->cnt[i][0], s->cnt[i][1]);
	}
	if (ok == total)
		(void)!buf_printf(&line, " commands=%u", total);
	else
		(void)!buf_printf(&line, " commands=%u/%u", ok, total);
	log_info("%s", buf_cstr(&line));
	buf_free(&line);
}

/* Frees the connection now; the session object lives on while jobs hold
 * references to it. Callers have flushed the output first, or give up on
 * it (timeouts, errors). */
static void
smtp_session_drop(struct smtp_session *s)
{
	if (s->bev == NULL)
		return;
	smtp_session_log_disconnect(s);
	conn_close_prepare(s->bev, s->tls, SMTP_DRAIN_MAX);
	SSL_free(s->starttls_ssl);
	s->starttls_ssl = NULL;
	bufferevent_free(s->bev);
	s->bev = NULL;
	s->state = SMTP_STATE_CLOSED;
	(void)smtp_session_release(s);
}

void
smtp_session_close(struct smtp_session *s, const char *reason)
{
	if (s->bev == NULL || s->closing)
		return;
	if (reason != NULL)
		log_info("%s after %s from %s", reason,
		    s->state == SMTP_STATE_DATA ? "DATA" : "command",
		    smtp_session_peer(s));
	s->closing = true;
	s->state = SMTP_STATE_CLOSED;
	bufferevent_disable(s->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(s->bev)) == 0)
		smtp_session_drop(s);
	/* else smtp_on_write drops it once the replies are out. */
}

/* The replies have left: close, switch to TLS, or read again. */
static void
smtp_on_write(struct bufferevent *bev, void *arg)
{
	struct smtp_session *s = arg;

	/*
	 * bufferevent_openssl (libevent 2.1) defers this callback: it is
	 * queued when SSL_write empties the output buffer and runs at the
	 * end of the loop iteration, after the read callback of the same
	 * iteration may have added replies and closed the session (the 220
	 * of smtps leaves as the client's first commands arrive). Only an
	 * empty buffer says that every reply has gone through SSL_write to
	 * the socket; libevent calls again when it is.
	 */
	if (evbuffer_get_length(bufferevent_get_output(bev)) > 0)
		return;
	if (s->closing) {
		smtp_session_drop(s);
		return;
	}
	if (s->starttls_ssl != NULL) {
		smtp_session_tls_switch(s);
		return;
	}
	/* Output drained below the mark: read again. */
	if (!s->busy)
		smtp_session_process(s);
}

static void
smtp_on_peer_eof(evutil_socket_t fd, short what, void *arg)
{
	struct smtp_session *s = arg;

	(void)fd;
	(void)what;
	if (s->bev != NULL)
		smtp_session_process(s);
}

/*
 * The client closed its sending side but may still read: answer the
 * commands it sent before, up to its QUIT, and close once those replies
 * are out (smtp_session_process). From the loop, not from the event
 * callback (see conn_peer_eof).
 */
static void
smtp_session_peer_eof(struct smtp_session *s)
{
	if (s->peer_eof)
		return;
	s->peer_eof = true;
	if (conn_peer_eof(
	        s->srv->base, s->bev, &s->eof_event, smtp_on_peer_eof, s) == -1)
		log_fatal("smtp: cannot create an event: out of memory");
}

static void
smtp_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct smtp_session *s = arg;

	(void)bev;
	if (what & BEV_EVENT_TIMEOUT) {
		/* A client that does not read its replies gets no more. */
		if (s->closing || (what & BEV_EVENT_WRITING)) {
			smtp_session_drop(s);
			return;
		}
		log_info("timeout after %s from %s",
		    s->state == SMTP_STATE_DATA ? "DATA" : "command",
		    smtp_session_peer(s));
		smtp_reply(s, 421, "4.4.2", "%s Error: timeout exceeded",
		    s->srv->conf->myhostname);
		/* The timeout disabled reading only; the 421 goes out and
		 * smtp_on_write drops the connection. */
		smtp_session_close(s, NULL);
		return;
	}
	if (what & BEV_EVENT_CONNECTED) {
		struct buf d;

		buf_init(&d, 512);
		smtp_session_tls_describe(s, &d);
		log_info("TLS connection established from %s: %s",
		    smtp_session_peer(s), buf_cstr(&d));
		buf_free(&d);
		return;
	}
	if ((what & BEV_EVENT_ERROR) && s->tls)
		conn_tls_log_errors(s->bev, smtp_session_peer(s));
	/* Not when a TLS handshake ended unfinished: nothing can be sent. */
	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) &&
	    conn_tls_ready(s->bev, s->tls)) {
		smtp_session_peer_eof(s);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		if (!s->closing && s->state != SMTP_STATE_CLOSED)
			log_info("lost connection after %s from %s",
			    s->state == SMTP_STATE_DATA ? "DATA" : "command",
			    smtp_session_peer(s));
		smtp_session_drop(s);
	}
}

static void
smtp_on_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	smtp_session_process(arg);
}

void
smtp_session_resume(struct smtp_session *s)
{
	if (s->bev == NULL)
		return;
	smtp_session_process(s);
}

/* Feeds body bytes (DATA or a BDAT chunk) to the receiver. */
static bool
smtp_session_feed_body(struct smtp_session *s, struct evbuffer *in)
{
	struct evbuffer_iovec v;
	size_t used;

	if (evbuffer_peek(in, -1, NULL, &v, 1) < 1 || v.iov_len == 0)
		return false;
	if (s->state == SMTP_STATE_DATA)
		used = smtp_receive_data(s, v.iov_base, v.iov_len);
	else
		used = smtp_receive_bdat(s, v.iov_base, v.iov_len);
	(void)evbuffer_drain(in, used);
	return true;
}

/* A command line over its limit; an AUTH exchange it belongs to ends
 * (RFC 4954 4: 500 5.5.6). */
static void
smtp_session_line_too_long(struct smtp_session *s, bool auth)
{
	if (auth) {
		smtp_auth_abort(s);
		smtp_reply(s, 500, "5.5.6",
		    "Authentication Exchange line is too long");
	} else
		smtp_reply(s, 500, "5.5.2", "Error: line too long");
	smtp_session_error(s);
}

/*
 * Reads one command line. RFC 5321 2.3.8: lines end in CRLF; like Postfix
 * we also accept a bare LF at the end of a command. A line longer than
 * smtpd_line_limit is answered 500 5.5.2 and skipped up to its end.
 * Returns false when no complete line is buffered.
 */
static bool
smtp_session_read_line(struct smtp_session *s, struct evbuffer *in)
{
	size_t limit = s->srv->conf->smtpd_line_limit, eol_len, len;
	struct evbuffer_ptr eol;
	char head[5];
	bool auth = s->sasl != NULL;

	/* RFC 4954 4: the AUTH command and the lines of its exchange may be
	 * up to 12288 octets long */
	if (!auth && evbuffer_copyout(in, head, sizeof(head)) == sizeof(head))
		auth = ascii_eq_n(head, "AUTH ", sizeof(head));
	if (auth && limit < SMTP_AUTH_LINE_MAX)
		limit = SMTP_AUTH_LINE_MAX;

	eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_CRLF);
	if (eol.pos == -1) {
		len = evbuffer_get_length(in);
		if (len > limit || s->skipping_line) {
			/* RFC 5321 4.5.3.1.4: at least 512; ours is configurable */
			if (!s->skipping_line)
				smtp_session_line_too_long(s, auth);
			s->skipping_line = true;
			(void)evbuffer_drain(in, len);
		}
		return false;
	}
	len = (size_t)eol.pos;
	if (s->skipping_line || len > limit) {
		if (!s->skipping_line)
			smtp_session_line_too_long(s, auth);
		s->skipping_line = false;
		(void)evbuffer_drain(in, len + eol_len);
		return true;
	}
	buf_reset(&s->line);
	if (buf_append(&s->line, evbuffer_pullup(in, (ev_ssize_t)len), len) ==
	    -1)
		log_panic("smtp: line buffer smaller than smtpd_line_limit");
	(void)evbuffer_drain(in, len + eol_len);
	if (s->sasl != NULL)
		smtp_auth_line(s, s->line.data, s->line.len);
	else
		smtp_cmd_dispatch(s, s->line.data, s->line.len);
	return true;
}

static void
smtp_session_process(struct smtp_session *s)
{
	struct evbuffer *in, *out;

	s->refs++; /* a handler may close the session under us */
	while (s->bev != NULL && !s->busy && !s->closing &&
	    s->starttls_ssl == NULL) {
		in = bufferevent_get_input(s->bev);
		out = bufferevent_get_output(s->bev);
		/* Back-pressure: a client that does not read its replies. */
		if (evbuffer_get_length(out) > SMTP_OUTPUT_HIGH) {
			bufferevent_disable(s->bev, EV_READ);
			break;
		}
		if (!s->peer_eof)
			bufferevent_enable(s->bev, EV_READ);
		if (evbuffer_get_length(in) == 0)
			break;
		if (s->discard_left > 0) {
			size_t n = evbuffer_get_length(in);
			if (n > s->discard_left)
				n = (size_t)s->discard_left;
			(void)evbuffer_drain(in, n);
			s->discard_left -= n;
			continue;
		}
		if (s->state == SMTP_STATE_DATA ||
		    (s->state == SMTP_STATE_BDAT && s->tx != NULL &&
			s->tx->in_chunk)) {
			if (!smtp_session_feed_body(s, in))
				break;
			continue;
		}
		if (!smtp_session_read_line(s, in))
			break;
	}
	/* decrypted bytes left in the SSL object (see conn_read_pending) */
	if (s->tls && s->bev != NULL && !s->peer_eof && !s->closing && !s->busy)
		conn_read_pending(s->bev, SMTP_INPUT_HIGH);
	/* The client has said all it will say and every command of it is
	 * answered (or a partial one is left): close after the replies.
	 * A running job, or output over the mark, comes back here. */
	if (s->peer_eof && s->bev != NULL && !s->busy && !s->closing &&
	    evbuffer_get_length(bufferevent_get_output(s->bev)) <=
		SMTP_OUTPUT_HIGH)
		smtp_session_close(s, "lost connection");
	if (--s->refs == 0)
		smtp_session_free(s);
}
