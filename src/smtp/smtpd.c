/*
 * The smtpd service process: one event loop accepting on the SMTP
 * listeners it inherited from the master, a worker pool for blocking work
 * (recipient lookups, queue commits), and a graceful stop on SIGTERM.
 */
#include "smtp/smtpd.h"

#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/accounts.h"
#include "auth/auth_penalty.h"
#include "auth/auth_verify.h"
#include "delivery/resolve.h"
#include "delivery/route.h"
#include "dns/dns.h"
#include "lib/buf.h"
#include "lib/cidr.h"
#include "lib/conf.h"
#include "lib/log.h"
#include "lib/net.h"
#include "lib/service.h"
#include "lib/tls.h"
#include "lib/worker.h"
#include "lib/xalloc.h"
#include "queue/queue_file.h"
#include "smtp/smtp_clients.h"
#include "smtp/smtp_session.h"
#include "smtp/smtp_session_private.h"

/* How long a stopping smtpd lets sessions finish (the master waits 10 s). */
#define SMTPD_STOP_GRACE 8

static bool
smtpd_kind(enum listener_kind kind)
{
	return kind == LISTENER_SMTP || kind == LISTENER_SUBMISSION ||
	    kind == LISTENER_SMTPS;
}

static void
smtpd_on_accept(void *arg, enum listener_kind kind, int fd,
    const struct sockaddr *sa, socklen_t salen)
{
	smtp_session_new(arg, kind, fd, sa, salen);
}

int
smtpd_config_check(const struct conf *conf, struct buf *err)
{
	struct tls_server *ts;
	struct smtpd srv;
	int ret;

	if (tls_configured(conf)) {
		ts = tls_server_new(conf, err);
		if (ts == NULL)
			return -1;
		tls_server_free(&ts);
	}
	memset(&srv, 0, sizeof(srv));
	srv.conf = conf;
	ret = smtp_policy_init(&srv, err);
	if (ret == 0 && smtp_policy_needs_dns(&srv) &&
	    dns_servers_check(&conf->dns_servers, err) == -1) {
		char *why = xstrdup(buf_cstr(err));

		buf_reset(err);
		(void)!buf_printf(err, "%s: %s", conf->config_file, why);
		free(why);
		ret = -1;
	}
	smtp_policy_free(&srv);
	return ret;
}

int
smtpd_main(const struct conf *conf, struct listener *ls, size_t nls)
{
	struct smtpd srv;
	struct buf err;

	log_set_service("smtpd");
	(void)signal(SIGPIPE, SIG_IGN);
	(void)signal(SIGHUP, SIG_IGN); /* the master restarts us on reload */
	memset(&srv, 0, sizeof(srv));
	srv.conf = conf;
	buf_init(&err, 1024);
	srv.base = event_base_new();
	if (srv.base == NULL)
		log_fatal("cannot create event base");
	if (queue_dirs_create(conf->queue_directory) == -1)
		log_fatal("cannot create queue directories in %s: %m",
		    conf->queue_directory);
	srv.resolver = resolver_new(conf, &err);
	if (srv.resolver == NULL)
		log_fatal("%s", buf_cstr(&err));
	srv.router = router_new(conf, &err);
	if (srv.router == NULL)
		log_fatal("%s: %s", conf->config_file, buf_cstr(&err));
	srv.mynetworks = cidr_list_new(&conf->mynetworks, &err);
	if (srv.mynetworks == NULL)
		log_fatal("%s: mynetworks: %s", conf->config_file,
		    buf_cstr(&err));
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
	if (conf->smtpd_sasl_auth_enable || conf->submission_sasl_auth_enable)
		srv.verifier = auth_verifier_new(srv.accounts,
		    conf->smtpd_auth_cache_size);
	buf_reset(&err);
	if (smtp_policy_init(&srv, &err) == -1)
		log_fatal("%s", buf_cstr(&err));
	srv.penalty = auth_penalty_new(conf->smtpd_auth_failure_limit,
	    conf->smtpd_auth_failure_window, conf->smtpd_auth_ban_time,
	    conf->smtpd_auth_failure_delay);
	buf_free(&err);
	srv.clients = smtp_clients_new();
	srv.workers = worker_pool_new(srv.base, conf->smtpd_worker_threads);
	srv.policy_workers = srv.workers;
	if (smtp_policy_needs_dns(&srv)) {
		buf_init(&err, 512);
		srv.dns = dns_resolver_new(&conf->dns_servers,
		    (unsigned)conf->dns_timeout * 1000,
		    conf->dns_trust_anchor_file, &err);
		if (srv.dns == NULL)
			log_fatal("%s: %s", conf->config_file, buf_cstr(&err));
		buf_free(&err);
		srv.policy_workers =
		    worker_pool_new(srv.base, conf->smtpd_worker_threads);
	}
	/* RFC 5321 4.5.3.1: path 256, local part 64 (we allow up to 256,
	 * as Postfix does), domain 255 */
	srv.plimits.path_max = 256 + 64;
	srv.plimits.local_max = 256;
	srv.plimits.domain_max = 255;
	srv.banner = xasprintf("220 %s\r\n", conf->smtpd_banner);

	srv.service = service_new(srv.base, ls, nls, smtpd_kind,
	    smtpd_on_accept, &srv, &srv.nsessions, SMTPD_STOP_GRACE);

	(void)event_base_dispatch(srv.base);

	/* Sessions still open after the grace period are simply dropped;
	 * their mail transactions were never acknowledged. Jobs finish
	 * first: an acknowledged commit must complete. */
	if (srv.policy_workers != srv.workers)
		worker_pool_free(&srv.policy_workers);
	worker_pool_free(&srv.workers);
	dns_resolver_free(&srv.dns);
	router_free(&srv.router);
	service_free(&srv.service);
	return 0;
}
