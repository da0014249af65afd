/*
 * The pop3d service process: one event loop accepting on the POP3
 * listeners it inherited from the master, a worker pool for blocking work
 * (password checks, the mail store), and a graceful stop on SIGTERM.
 * Modelled on smtpd.c.
 */
#include "pop3/pop3d.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/accounts.h"
#include "auth/auth_penalty.h"
#include "auth/auth_verify.h"
#include "lib/buf.h"
#include "lib/cidr.h"
#include "lib/conf.h"
#include "lib/log.h"
#include "lib/net.h"
#include "lib/tls.h"
#include "lib/worker.h"
#include "lib/xalloc.h"
#include "pop3/pop3_session.h"
#include "pop3/pop3_session_private.h"
#include "smtp/smtp_clients.h"

/* How long a stopping pop3d lets sessions finish (the master waits 10 s). */
#define POP3D_STOP_GRACE 8

struct pop3d_listener {
	struct pop3d *srv;
	enum listener_kind kind;
	struct evconnlistener *lev;
};

static struct pop3d_listener *stop_listeners;
static size_t stop_nlisteners;

static void
pop3d_on_accept(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct pop3d_listener *l = arg;
	int one = 1;

	(void)lev;
	(void)evutil_make_socket_closeonexec(fd);
	/* replies leave whole; see smtpd_on_accept */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	pop3_session_new(l->srv, l->kind, fd, sa, (socklen_t)salen);
}

static void
pop3d_on_accept_error(struct evconnlistener *lev, void *arg)
{
	int e = EVUTIL_SOCKET_ERROR();

	(void)lev;
	(void)arg;
	errno = e;
	log_warn("accept: %m");
}

static void
pop3d_on_stop_tick(evutil_socket_t fd, short what, void *arg)
{
	struct pop3d *srv = arg;
	static int ticks;

	(void)fd;
	(void)what;
	if (srv->nsessions == 0 || ++ticks > POP3D_STOP_GRACE * 10)
		event_base_loopexit(srv->base, NULL);
}

static void
pop3d_on_sigterm(evutil_socket_t sig, short what, void *arg)
{
	struct pop3d *srv = arg;
	struct timeval tv = { 0, 100000 };
	struct event *tick;
	size_t i;

	(void)sig;
	(void)what;
	if (srv->stopping)
		return;
	srv->stopping = true;
	for (i = 0; i < stop_nlisteners; i++)
		evconnlistener_disable(stop_listeners[i].lev);
	tick = event_new(srv->base, -1, EV_PERSIST, pop3d_on_stop_tick, srv);
	(void)event_add(tick, &tv);
}

int
pop3d_config_check(const struct conf *conf, struct buf *err)
{
	struct cidr_list *l;
	struct buf why;

	buf_init(&why, 512);
	l = cidr_list_new(&conf->pop3_plaintext_auth_networks, &why);
	if (l == NULL) {
		(void)!buf_printf(err, "%s: pop3_plaintext_auth_networks: %s",
		    conf->config_file, buf_cstr(&why));
		buf_free(&why);
		return -1;
	}
	cidr_list_free(&l);
	buf_free(&why);
	return 0;
}

int
pop3d_main(const struct conf *conf, struct listener *ls, size_t nls)
{
	struct pop3d srv;
	struct pop3d_listener *pl;
	struct event *ev_term, *ev_int;
	struct buf err;
	size_t i, n = 0;

	log_set_service("pop3d");
	(void)signal(SIGPIPE, SIG_IGN);
	(void)signal(SIGHUP, SIG_IGN); /* the master restarts us on reload */
	memset(&srv, 0, sizeof(srv));
	srv.conf = conf;
	buf_init(&err, 1024);
	srv.base = event_base_new();
	if (srv.base == NULL)
		log_fatal("cannot create event base");
	srv.plaintext_ok =
	    cidr_list_new(&conf->pop3_plaintext_auth_networks, &err);
	if (srv.plaintext_ok == NULL)
		log_fatal("%s: pop3_plaintext_auth_networks: %s",
		    conf->config_file, buf_cstr(&err));
	if (tls_configured(conf)) {
		buf_reset(&err);
		srv.tls = tls_server_new(conf, &err);
		if (srv.tls == NULL)
			log_fatal("%s", buf_cstr(&err));
	}
	buf_reset(&err);
	srv.accounts = accounts_open(conf->accounts_database, false, &err);
	if (srv.accounts == NULL)
		log_fatal("%s", buf_cstr(&err));
	srv.verifier =
	    auth_verifier_new(srv.accounts, conf->smtpd_auth_cache_size);
	/* the same penalty parameters as SMTP AUTH (per process) */
	srv.penalty = auth_penalty_new(conf->smtpd_auth_failure_limit,
	    conf->smtpd_auth_failure_window, conf->smtpd_auth_ban_time,
	    conf->smtpd_auth_failure_delay);
	buf_free(&err);
	srv.clients = smtp_clients_new();
	srv.userips = smtp_clients_new();
	srv.workers = worker_pool_new(srv.base, conf->pop3_worker_threads);
	srv.plimits.arg_max = POP3_ARG_MAX;

	pl = xcalloc(nls ? nls : 1, sizeof(*pl));
	for (i = 0; i < nls; i++) {
		if (ls[i].kind != LISTENER_POP3 && ls[i].kind != LISTENER_POP3S)
			continue;
		pl[n].srv = &srv;
		pl[n].kind = ls[i].kind;
		pl[n].lev = evconnlistener_new(srv.base, pop3d_on_accept,
		    &pl[n], LEV_OPT_CLOSE_ON_EXEC, -1, ls[i].fd);
		if (pl[n].lev == NULL)
			log_fatal("cannot listen on %s", ls[i].spec);
		evconnlistener_set_error_cb(pl[n].lev, pop3d_on_accept_error);
		n++;
	}
	stop_listeners = pl;
	stop_nlisteners = n;
	ev_term = evsignal_new(srv.base, SIGTERM, pop3d_on_sigterm, &srv);
	ev_int = evsignal_new(srv.base, SIGINT, pop3d_on_sigterm, &srv);
	(void)event_add(ev_term, NULL);
	(void)event_add(ev_int, NULL);

	(void)event_base_dispatch(srv.base);

	/* Sessions still open after the grace period are dropped; their
	 * deletions never happened (RFC 1939 6: only QUIT updates). Jobs
	 * finish first: an UPDATE under way completes. */
	worker_pool_free(&srv.workers);
	return 0;
}
