/*
 * The SMTP client session (see smtp_client.h): DNS plan, connection
 * attempts in MX order, greeting, EHLO/HELO, STARTTLS, and the mail
 * transactions with per-recipient results. The body is streamed from the
 * queue file through smtp_dotstuff, a chunk at a time as the socket drains.
 *
 * Texts follow Postfix's smtp(8), so that admins' greps and pflogsumm
 * keep working: "connect to host[addr]:port: Connection refused", "host
 * H[A] said: 550 ... (in reply to RCPT TO command)", "conversation with
 * H[A] timed out while ...", "lost connection with H[A] while ...".
 */
#include "smtp/smtp_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dns/dns_mx.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/net.h"
#include "lib/tls.h"
#include "lib/worker.h"
#include "lib/xalloc.h"
#include "queue/queue_file.h"
#include "queue/xtext.h"
#include "smtp/smtp_client_private.h"
#include "smtp/smtp_dotstuff.h"
#include "smtp/smtp_downgrade.h"
#include "smtp/smtp_reply.h"

/* snprintf that may cut: texts for logs and bounces are bounded */

void
smtp_client_fmt(char *out, size_t outsz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(out, outsz, fmt, ap);
	va_end(ap);
}

double
smtp_client_now(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sc_on_read(struct bufferevent *bev, void *arg);
static void sc_on_write(struct bufferevent *bev, void *arg);
static void sc_on_event(struct bufferevent *bev, short what, void *arg);

void
smtp_client_timeout(struct smtp_client *c, unsigned secs)
{
	struct timeval tv = { (time_t)secs, 0 };
	struct timeval wtv = { (time_t)c->env->t_data_xfer, 0 };

	(void)bufferevent_set_timeouts(c->bev, &tv, &wtv);
}

/* Sends one command line; the caller adds CRLF-free text. */
void smtp_client_send(struct smtp_client *c, const char *fmt, ...)
    MW_PRINTF(2, 3);

void
smtp_client_send(struct smtp_client *c, const char *fmt, ...)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	va_list ap;

	va_start(ap, fmt);
	(void)evbuffer_add_vprintf(out, fmt, ap);
	va_end(ap);
	(void)evbuffer_add(out, "\r\n", 2);
}

/* The recipient's result, unless it has one. */
void
smtp_client_rcpt_set(struct smtp_client_rcpt *r, enum smtp_rcpt_status st,
    const char *dsn, const char *text, const char *diag)
{
	if (r->status != SMTP_RCPT_PENDING)
		return;
	r->status = st;
	smtp_client_fmt(r->dsn, sizeof(r->dsn), "%s", dsn);
	smtp_client_fmt(r->text, sizeof(r->text), "%s", text);
	smtp_client_fmt(r->diag, sizeof(r->diag), "%s", diag ? diag : "");
}

/* Every recipient without a result gets this one; the message is done. */
void
smtp_client_settle(struct smtp_client *c, enum smtp_rcpt_status st,
    const char *dsn, const char *text, const char *diag)
{
	struct smtp_client_msg *m = c->msg;
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nrcpt; i++)
		smtp_client_rcpt_set(&m->rcpts[i], st, dsn, text, diag);
	/* Postfix: relay=none unless a server took part */
	if (m->relay[0] == '\0')
		smtp_client_fmt(m->relay, sizeof(m->relay), "%s", "none");
	if (m->t_conn == 0)
		m->t_conn = smtp_client_now();
	c->msg = NULL;
	free(c->accepted);
	c->accepted = NULL;
	c->ops->done(c->arg, m);
}

/* The DSN of a reply: its enhanced code, or class.0.0 (RFC 3463 3.1). */
void
smtp_client_reply_dsn(const struct smtp_reply *r, char *out, size_t outsz)
{
	if (r->dsn[0] != '\0' && r->dsn[0] == '0' + r->code / 100)
		smtp_client_fmt(out, outsz, "%s", r->dsn);
	else
		smtp_client_fmt(out, outsz, "%d.0.0", r->code / 100);
}

/* "host H[A] said: <reply> (in reply to X command)" */
void
smtp_client_reply_text(struct smtp_client *c, const char *in_reply_to,
    char *text, size_t textsz, char *diag, size_t diagsz)
{
	struct buf b;

	buf_init(&b, 1000);
	if (smtp_reply_format(&c->reply, &b) == -1 && b.len == 0)
		(void)!buf_printf(&b, "%d", c->reply.code);
	smtp_client_fmt(diag, diagsz, "%s", buf_cstr(&b));
	smtp_client_fmt(text, textsz, "host %s said: %s (in reply to %s)",
	    c->peer_noport, buf_cstr(&b), in_reply_to);
	buf_free(&b);
}

static const char *
sc_stage(const struct smtp_client *c)
{
	switch (c->state) {
	case SC_DNS:
	case SC_CONNECT:
		return "connecting";
	case SC_GREETING:
		return "receiving the initial server greeting";
	case SC_EHLO:
	case SC_HELO:
		return "performing the EHLO handshake";
	case SC_STARTTLS:
	case SC_TLS:
		return "performing the TLS handshake";
	case SC_AUTH:
	case SC_AUTH_USER:
		return "authenticating";
	case SC_TX:
		return c->tx_recv == 0 ? "sending MAIL FROM"
		    : c->msg != NULL && c->tx_recv <= c->msg->nrcpt
		    ? "sending RCPT TO"
		    : "sending DATA command";
	case SC_BODY:
		return "sending message body";
	case SC_DOT:
		return "sending end of data -- message may be sent more than "
		       "once";
	case SC_RSET:
		return "sending RSET";
	case SC_IDLE:
		return "waiting in the connection cache";
	case SC_QUIT:
		break;
	}
	return "sending QUIT";
}

static void
sc_close_bev(struct smtp_client *c)
{
	if (c->bev != NULL) {
		bufferevent_free(c->bev);
		c->bev = NULL;
	} else if (c->ssl != NULL)
		SSL_free(c->ssl);
	c->ssl = NULL;
	c->tls = false;
}

/*
 * A failure of the connection. Before any transaction began on it, the
 * next address is tried; otherwise the current message's recipients
 * without a result are deferred with why and the session ends.
 */
void
smtp_client_conn_fail(
    struct smtp_client *c, const char *dsn, const char *why, bool next_ok)
{
	smtp_client_fmt(c->last_err, sizeof(c->last_err), "%s", why);
	c->last_dane = false;
	if (next_ok && c->nmsgs == 0 && c->ai + 1 < c->plan.n) {
		sc_close_bev(c);
		c->ai++;
		smtp_client_connect_next(c);
		return;
	}
	smtp_client_settle(c, SMTP_RCPT_DEFERRED, dsn, why, NULL);
	smtp_client_finish(c, why);
}

/* Ends the session: QUIT when the server is in a state to take it. */
void
smtp_client_finish(struct smtp_client *c, const char *why)
{
	const struct smtp_client_ops *ops = c->ops;
	void *arg = c->arg;
	enum smtp_client_outcome oc = c->reached ? SMTP_CLIENT_REACHED
	    : c->nodest                          ? SMTP_CLIENT_NODEST
	                                         : SMTP_CLIENT_UNREACHED;
	char whybuf[1024];

	if (c->closing)
		return;
	c->closing = true;
	smtp_client_fmt(whybuf, sizeof(whybuf), "%s", why ? why : "");
	smtp_client_settle(c, SMTP_RCPT_DEFERRED, "4.4.2",
	    why ? why : "connection closed", NULL);
	sc_close_bev(c);
	if (c->dns_job != NULL)
		c->dns_job->c = NULL; /* the job frees itself */
	dns_mx_plan_free(&c->plan);
	smtp_reply_free(&c->reply);
	smtp_reply_free(&c->bdat_reply);
	smtp_downgrade_free(&c->down);
	buf_free(&c->down_out);
	free(c->accepted);
	ops->closed(arg, c, oc, whybuf);
	if (c->depth == 0)
		free(c);
}

/* Around every entry from the event loop: smtp_client_finish() inside may not
 * free c while a caller still uses it. */
void
smtp_client_enter(struct smtp_client *c)
{
	c->depth++;
}

void
smtp_client_leave(struct smtp_client *c)
{
	if (--c->depth == 0 && c->closing)
		free(c);
}

/* The session is between messages: take the next one, or say QUIT. */
void
smtp_client_idle(struct smtp_client *c)
{
	struct smtp_client_msg *m = NULL;
	bool fresh = c->env->reuse_time_limit == 0 ||
	    smtp_client_now() - c->t_connected <
	        (double)c->env->reuse_time_limit;

	if (fresh &&
	    (c->env->reuse_count_limit == 0 ||
	        c->nmsgs < c->env->reuse_count_limit))
		m = c->ops->next(c->arg, c);
	if (m != NULL) {
		c->msg = m;
		c->state = SC_RSET;
		smtp_client_send(c, "RSET");
		smtp_client_timeout(c, c->env->t_rset);
		return;
	}
	if (fresh && c->env->cache_time > 0 && c->ops->idle != NULL &&
	    (c->env->reuse_count_limit == 0 ||
	        c->nmsgs < c->env->reuse_count_limit)) {
		/* Postfix's smtp_connection_cache_time_limit: the next
		 * message for this destination may come in a moment */
		c->state = SC_IDLE;
		smtp_client_timeout(c, c->env->cache_time);
		c->ops->idle(c->arg, c);
		return;
	}
	c->state = SC_QUIT;
	smtp_client_send(c, "QUIT");
	smtp_client_timeout(c, c->env->t_quit);
}

static void
sc_send_ehlo(struct smtp_client *c)
{
	c->state = SC_EHLO;
	memset(&c->ehlo, 0, sizeof(c->ehlo));
	smtp_client_send(c, "EHLO %s", c->env->helo_name);
	smtp_client_timeout(c, c->env->t_helo);
}

static void
sc_tls_start(struct smtp_client *c)
{
	struct bufferevent *f;

	c->ssl = smtp_client_tls_ssl(c);
	if (c->ssl == NULL) {
		smtp_client_conn_fail(c, "4.7.5", "cannot set up TLS", false);
		return;
	}
	f = bufferevent_openssl_filter_new(c->env->base, c->bev, c->ssl,
	    BUFFEREVENT_SSL_CONNECTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (f == NULL) {
		SSL_free(c->ssl);
		c->ssl = NULL;
		smtp_client_conn_fail(c, "4.7.5", "cannot set up TLS", false);
		return;
	}
	c->bev = f;
	c->state = SC_TLS;
	bufferevent_setcb(c->bev, sc_on_read, sc_on_write, sc_on_event, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, 64 * 1024);
	(void)bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	smtp_client_timeout(c, c->env->t_starttls);
}

/* The handshake is done: check what the level asks, log, EHLO again. */
static void
sc_tls_done(struct smtp_client *c)
{
	enum tls_trust t = tls_client_trust(c->ssl, c->level);
	struct buf d;

	c->tls = true;
	buf_init(&d, 512);
	tls_describe(c->ssl, &d);
	/* Postfix: "Verified TLS connection established to H[A]:P: ..." */
	log_info("%s TLS connection established to %s: %s", tls_trust_name(t),
	    c->peer, buf_cstr(&d));
	if (c->level >= TLS_LEVEL_VERIFY && t != TLS_TRUST_VERIFIED) {
		char why[1024];

		buf_reset(&d);
		tls_client_verify_error(c->ssl, &d);
		smtp_client_fmt(why, sizeof(why),
		    "Server certificate not verified: %s: %s", c->peer_noport,
		    buf_cstr(&d));
		buf_free(&d);
		log_info("%s", why);
		smtp_client_conn_fail(c, "4.7.5", why, true);
		return;
	}
	buf_free(&d);
	c->ehlo_again = true;
	sc_send_ehlo(c);
}

/* The server's greeting or EHLO is in: STARTTLS, or start the message. */
static void
sc_after_ehlo(struct smtp_client *c)
{
	char why[1024];

	if (!c->tls && c->level >= TLS_LEVEL_MAY && c->env->tls != NULL &&
	    (c->ehlo.ext & SMTP_EXT_STARTTLS)) {
		c->state = SC_STARTTLS;
		smtp_client_send(c, "STARTTLS");
		smtp_client_timeout(c, c->env->t_starttls);
		return;
	}
	if (!c->tls && c->level >= TLS_LEVEL_ENCRYPT) {
		/* RFC 3207 4: a client that requires TLS must not go on */
		smtp_client_fmt(why, sizeof(why),
		    "TLS is required, but was not offered by host %s",
		    c->peer_noport);
		smtp_client_conn_fail(c, "4.7.4", why, true);
		return;
	}
	if (smtp_client_auth_start(c))
		return;
	smtp_client_tx_start(c);
}

/* A complete reply is in c->reply. */
static void
sc_reply(struct smtp_client *c)
{
	int code = c->reply.code;
	char text[1024], diag[1024], dsn[16];

	switch (c->state) {
	case SC_GREETING:
		if (code != 220) {
			smtp_client_reply_text(c, "initial greeting", text,
			    sizeof(text), diag, sizeof(diag));
			smtp_client_fmt(text, sizeof(text),
			    "host %s refused to talk to me: %s", c->peer_noport,
			    diag);
			smtp_client_reply_dsn(&c->reply, dsn, sizeof(dsn));
			if (code >= 500 && !c->env->skip_5xx_greeting) {
				smtp_client_settle(
				    c, SMTP_RCPT_BOUNCED, dsn, text, diag);
				smtp_client_finish(c, text);
				return;
			}
			smtp_client_conn_fail(
			    c, code >= 500 ? "4.0.0" : dsn, text, true);
			return;
		}
		c->reached = true;
		sc_send_ehlo(c);
		return;
	case SC_EHLO:
		if (code / 100 == 2) {
			smtp_ehlo_parse(&c->reply, &c->ehlo);
			sc_after_ehlo(c);
			return;
		}
		if (code >= 500 && !c->ehlo_again) {
			/* RFC 5321 3.2: an old server; HELO */
			c->state = SC_HELO;
			smtp_client_send(c, "HELO %s", c->env->helo_name);
			smtp_client_timeout(c, c->env->t_helo);
			return;
		}
		smtp_client_reply_text(
		    c, "EHLO command", text, sizeof(text), diag, sizeof(diag));
		smtp_client_conn_fail(c, "4.0.0", text, true);
		return;
	case SC_HELO:
		if (code / 100 == 2) {
			memset(&c->ehlo, 0, sizeof(c->ehlo));
			sc_after_ehlo(c);
			return;
		}
		smtp_client_reply_text(
		    c, "HELO command", text, sizeof(text), diag, sizeof(diag));
		smtp_client_conn_fail(c, "4.0.0", text, true);
		return;
	case SC_STARTTLS:
		if (code == 220) {
			sc_tls_start(c);
			return;
		}
		if (c->level >= TLS_LEVEL_ENCRYPT) {
			smtp_client_reply_text(c, "STARTTLS command", text,
			    sizeof(text), diag, sizeof(diag));
			smtp_client_conn_fail(c, "4.7.4", text, true);
			return;
		}
		/* may: carry on in the clear (RFC 7435) */
		smtp_client_tx_start(c);
		return;
	case SC_AUTH:
	case SC_AUTH_USER:
		smtp_client_auth_reply(c);
		return;
	case SC_TX:
		smtp_client_tx_reply(c);
		return;
	case SC_BODY: /* BDAT replies come while content goes out */
	case SC_DOT:
		if (c->bdat)
			smtp_client_bdat_reply(c);
		else if (c->state == SC_DOT)
			smtp_client_dot_reply(c);
		else
			smtp_client_conn_fail(
			    c, "4.0.0", "unexpected reply", false);
		return;
	case SC_RSET:
		if (code / 100 == 2) {
			smtp_client_tx_start(c);
			return;
		}
		smtp_client_reply_text(
		    c, "RSET command", text, sizeof(text), diag, sizeof(diag));
		smtp_client_settle(c, SMTP_RCPT_DEFERRED, "4.0.0", text, NULL);
		smtp_client_finish(c, text);
		return;
	case SC_QUIT:
	case SC_IDLE: /* e.g. a 421 of a server that closes idle sessions */
		smtp_client_finish(c, NULL);
		return;
	default:
		smtp_client_conn_fail(c, "4.0.0", "unexpected reply", false);
		return;
	}
}

static void sc_read_replies(struct bufferevent *bev, struct smtp_client *c);

static void
sc_on_read(struct bufferevent *bev, void *arg)
{
	struct smtp_client *c = arg;

	smtp_client_enter(c);
	sc_read_replies(bev, c);
	smtp_client_leave(c);
}

static void
sc_read_replies(struct bufferevent *bev, struct smtp_client *c)
{
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t limit = c->env->line_max * SC_REPLY_LINES_MAX, len, used;
	const char *err = NULL;
	enum smtp_reply_status st;
	char why[1024];

	while (c->bev == bev && !c->closing &&
	    (len = evbuffer_get_length(in)) > 0) {
		/* a reply that comes while we send content is read at
		 * the end of data */
		if (c->state == SC_BODY && !c->bdat)
			return;
		if (len > limit)
			len = limit;
		smtp_reply_reset(&c->reply);
		st = smtp_reply_parse(
		    (const char *)evbuffer_pullup(in, (ev_ssize_t)len), len,
		    c->env->line_max, SC_REPLY_LINES_MAX, &c->reply, &used,
		    &err);
		if (st == SMTP_REPLY_MORE && len < limit)
			return;
		if (st != SMTP_REPLY_OK) {
			smtp_client_fmt(why, sizeof(why),
			    "host %s sent a malformed reply (%s) while %s",
			    c->peer_noport, err ? err : "too long",
			    sc_stage(c));
			smtp_client_conn_fail(c, "4.5.0", why, false);
			return;
		}
		(void)evbuffer_drain(in, used);
		sc_reply(c);
	}
}

static void
sc_on_write(struct bufferevent *bev, void *arg)
{
	struct smtp_client *c = arg;

	if (c->bev != bev || c->state != SC_BODY)
		return;
	smtp_client_enter(c);
	smtp_client_body_fill(c);
	if (c->bev == bev && c->state == SC_DOT &&
	    evbuffer_get_length(bufferevent_get_input(bev)) > 0)
		sc_read_replies(bev, c);
	smtp_client_leave(c);
}

static void sc_event(struct smtp_client *c, short what, int e);

static void
sc_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct smtp_client *c = arg;
	int e = EVUTIL_SOCKET_ERROR();

	if (c->bev != bev)
		return;
	smtp_client_enter(c);
	sc_event(c, what, e);
	smtp_client_leave(c);
}

static void
sc_event(struct smtp_client *c, short what, int e)
{
	char why[1024];

	if (what & BEV_EVENT_CONNECTED) {
		if (c->state == SC_TLS) {
			sc_tls_done(c);
			return;
		}
		c->state = SC_GREETING;
		c->t_connected = smtp_client_now();
		smtp_client_timeout(c, c->env->t_helo);
		return;
	}
	if (c->state == SC_CONNECT) {
		smtp_client_fmt(why, sizeof(why), "connect to %s: %s", c->peer,
		    (what & BEV_EVENT_TIMEOUT)
		        ? "Connection timed out"
		        : evutil_socket_error_to_string(e));
		smtp_client_conn_fail(c, "4.4.1", why, true);
		return;
	}
	if (c->state == SC_QUIT) {
		smtp_client_finish(
		    c, NULL); /* a server may close before the 221 */
		return;
	}
	if (c->state == SC_IDLE) {
		if (what & BEV_EVENT_TIMEOUT) {
			/* the cache time is over; libevent disabled reading
			 * at the timeout, and the 221 must be read */
			(void)bufferevent_enable(c->bev, EV_READ);
			c->state = SC_QUIT;
			smtp_client_send(c, "QUIT");
			smtp_client_timeout(c, c->env->t_quit);
		} else
			smtp_client_finish(c, NULL); /* closed by the server */
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		smtp_client_fmt(why, sizeof(why),
		    "conversation with %s timed out while %s", c->peer_noport,
		    sc_stage(c));
	else if (c->state == SC_TLS) {
		struct buf b;

		buf_init(&b, 512);
		tls_error_text(&b);
		smtp_client_fmt(why, sizeof(why),
		    "TLS handshake with %s failed: %s", c->peer_noport,
		    buf_cstr(&b));
		buf_free(&b);
	} else
		smtp_client_fmt(why, sizeof(why),
		    "lost connection with %s while %s", c->peer_noport,
		    sc_stage(c));
	/* a failed handshake at level may: Postfix then tries the next MX
	 * (or the same in the clear); we try the next address */
	smtp_client_conn_fail(
	    c, c->state == SC_TLS ? "4.7.5" : "4.4.2", why, c->state <= SC_TLS);
}

/* Binds the local address of smtp_bind_address(6), when set. */
static int
sc_bind(int fd, int family, const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (addr == NULL || addr[0] == '\0')
		return 0;
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (void *)&ss;

		s4->sin_family = AF_INET;
		if (inet_pton(AF_INET, addr, &s4->sin_addr) != 1)
			return 0;
		len = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (void *)&ss;

		s6->sin6_family = AF_INET6;
		if (inet_pton(AF_INET6, addr, &s6->sin6_addr) != 1)
			return 0;
		len = sizeof(*s6);
	}
	return bind(fd, (struct sockaddr *)&ss, len);
}

void
smtp_client_connect_next(struct smtp_client *c)
{
	const struct dns_mx_addr *a;
	char addr[64];
	int fd, on = 1, level;

	for (; c->ai < c->plan.n; c->ai++) {
		a = &c->plan.v[c->ai];
		net_addr_str(
		    (const struct sockaddr *)&a->ss, addr, sizeof(addr));
		smtp_client_fmt(c->peer, sizeof(c->peer), "%s[%s]:%u", a->host,
		    addr, net_addr_port((const struct sockaddr *)&a->ss));
		smtp_client_fmt(c->peer_noport, sizeof(c->peer_noport),
		    "%s[%s]", a->host, addr);
		level = smtp_client_tls_level(
		    c, a, c->last_err, sizeof(c->last_err));
		if (level == -1) {
			log_info("%s", c->last_err);
			c->last_dane = true;
			continue;
		}
		c->level = (enum tls_level)level;
		fd = socket(a->ss.ss_family,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd == -1 ||
		    sc_bind(fd, a->ss.ss_family,
		        a->ss.ss_family == AF_INET ? c->env->bind4
		                                   : c->env->bind6) == -1) {
			smtp_client_fmt(c->last_err, sizeof(c->last_err),
			    "connect to %s: %s", c->peer, strerror(errno));
			c->last_dane = false;
			if (fd != -1)
				(void)close(fd);
			continue;
		}
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
		c->bev = bufferevent_socket_new(c->env->base, fd,
		    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
		if (c->bev == NULL) {
			(void)close(fd);
			continue;
		}
		c->state = SC_CONNECT;
		c->ehlo_again = false;
		bufferevent_setcb(
		    c->bev, sc_on_read, sc_on_write, sc_on_event, c);
		bufferevent_setwatermark(c->bev, EV_READ, 0, 64 * 1024);
		{
			struct timeval tv = { (time_t)c->env->t_connect, 0 };

			(void)bufferevent_set_timeouts(c->bev, &tv, &tv);
		}
		(void)bufferevent_enable(c->bev, EV_READ | EV_WRITE);
		if (bufferevent_socket_connect(c->bev,
		        (const struct sockaddr *)&a->ss, a->sslen) == -1) {
			smtp_client_fmt(c->last_err, sizeof(c->last_err),
			    "connect to %s: %s", c->peer, strerror(errno));
			c->last_dane = false;
			bufferevent_free(c->bev);
			c->bev = NULL;
			continue;
		}
		return;
	}
	smtp_client_settle(c, SMTP_RCPT_DEFERRED,
	    c->last_dane ? "4.7.5" : "4.4.1",
	    c->last_err[0] != '\0' ? c->last_err : "no address to connect to",
	    NULL);
	smtp_client_finish(c, c->last_err);
}

struct smtp_client *
smtp_client_start(const struct smtp_client_env *env,
    const struct smtp_client_dest *dest, struct smtp_client_msg *first,
    const struct smtp_client_ops *ops, void *arg)
{
	struct smtp_client *c = xcalloc(1, sizeof(*c));

	c->env = env;
	c->dest = *dest;
	c->ops = ops;
	c->arg = arg;
	c->msg = first;
	c->state = SC_DNS;
	smtp_reply_init(&c->reply, env->line_max * 4);
	smtp_reply_init(&c->bdat_reply, env->line_max * 4);
	buf_init(&c->down_out, 0);
	smtp_client_dns_start(c);
	return c;
}

bool
smtp_client_reuse(struct smtp_client *c, struct smtp_client_msg *m)
{
	if (c->state != SC_IDLE || c->closing || c->bev == NULL)
		return false;
	c->msg = m;
	c->state = SC_RSET;
	smtp_client_send(c, "RSET");
	smtp_client_timeout(c, c->env->t_rset);
	return true;
}

void
smtp_client_abort(struct smtp_client *c, const char *why)
{
	smtp_client_settle(c, SMTP_RCPT_DEFERRED, "4.3.0", why, NULL);
	smtp_client_finish(c, why);
}
