/*
 * The pop3d service process: one event loop accepting on the POP3
 * listeners it inherited from the master, a worker pool for blocking work
 * (password checks, the mail store), and a graceful stop on SIGTERM.
 * Modelled on smtpd.c.
 */
#include "pop3/pop3d.h"

#include <event2/event.h>
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
#include "lib/service.h"
#include "lib/tls.h"
#include "lib/worker.h"
#include "lib/xalloc.h"
#include "pop3/pop3_session.h"
#include "pop3/pop3_session_private.h"
#include "smtp/smtp_clients.h"

/* How long a stopping pop3d lets sessions finish (the master waits 10 s). */
#define POP3D_STOP_GRACE 8

static bool
pop3d_kind(enum listener_kind kind)
{
	return kind == LISTENER_POP3 || kind == LISTENER_POP3S;
}

static void
pop3d_on_accept(void *arg, enum listener_kind kind, int fd,
    const struct sockaddr *sa, socklen_t salen)
{
	pop3_session_new(arg, kind, fd, sa, salen);
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
	struct buf err;

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

	srv.service = service_new(srv.base, ls, nls, pop3d_kind,
	    pop3d_on_accept, &srv, &srv.nsessions, POP3D_STOP_GRACE);

	(void)event_base_dispatch(srv.base);

	/* Sessions still open after the grace period are dropped; their
	 * deletions never happened (RFC 1939 6: only QUIT updates). Jobs
	 * finish first: an UPDATE under way completes. */
	worker_pool_free(&srv.workers);
	service_free(&srv.service);
	return 0;
}
