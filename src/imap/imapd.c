/*
 * The imapd service process: one event loop accepting on the IMAP
 * listeners it inherited from the master, a worker pool for blocking work
 * (password checks, the mail store), and a graceful stop on SIGTERM.
 * Modelled on pop3d.c.
 */
#include "imap/imapd.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/accounts.h"
#include "auth/auth_penalty.h"
#include "auth/auth_verify.h"
#include "imap/imap_session.h"
#include "imap/imap_session_private.h"
#include "imap/imap_watch.h"
#include "lib/buf.h"
#include "lib/cidr.h"
#include "lib/conf.h"
#include "lib/log.h"
#include "lib/service.h"
#include "lib/tls.h"
#include "lib/worker.h"
#include "lib/xalloc.h"
#include "smtp/smtp_clients.h"
#include "store/store.h"

#include <event2/event.h>

/* How long a stopping imapd lets sessions finish (the master waits 10 s). */
#define IMAPD_STOP_GRACE 8

static bool
imapd_kind(enum listener_kind kind)
{
	return kind == LISTENER_IMAP || kind == LISTENER_IMAPS;
}

static void
imapd_on_accept(void *arg, enum listener_kind kind, int fd,
    const struct sockaddr *sa, socklen_t salen)
{
	imap_session_new(arg, kind, fd, sa, salen);
}

int
imapd_config_check(const struct conf *conf, struct buf *err)
{
	struct cidr_list *l;
	struct buf why;

	buf_init(&why, 512);
	l = cidr_list_new(&conf->imap_plaintext_auth_networks, &why);
	if (l == NULL) {
		(void)!buf_printf(err, "%s: imap_plaintext_auth_networks: %s",
		    conf->config_file, buf_cstr(&why));
		buf_free(&why);
		return -1;
	}
	cidr_list_free(&l);
	buf_free(&why);
	return 0;
}

/* The parser's bounds from the configuration. */
static void
imapd_limits(struct imapd *srv)
{
	const struct conf *conf = srv->conf;

	srv->limits = imap_limits_default;
	srv->limits.line_max = conf->imap_line_limit;
	srv->limits.literal_max = conf->imap_literal_limit;
	if (srv->limits.command_max <
	    conf->imap_line_limit + conf->imap_literal_limit)
		srv->limits.command_max =
		    conf->imap_line_limit + conf->imap_literal_limit;
	srv->append_limit = conf->imap_append_limit != 0
	    ? conf->imap_append_limit
	    : conf->message_size_limit;
}

int
imapd_main(const struct conf *conf, struct listener *ls, size_t nls)
{
	struct imapd srv;
	struct store_defaults *d;
	struct buf err;

	log_set_service("imapd");
	(void)signal(SIGPIPE, SIG_IGN);
	(void)signal(SIGHUP, SIG_IGN); /* the master restarts us on reload */
	memset(&srv, 0, sizeof(srv));
	srv.conf = conf;
	srv.sep = conf->imap_hierarchy_separator[0];
	imapd_limits(&srv);
	buf_init(&err, 1024);
	srv.base = event_base_new();
	if (srv.base == NULL)
		log_fatal("cannot create event base");
	srv.plaintext_ok =
	    cidr_list_new(&conf->imap_plaintext_auth_networks, &err);
	if (srv.plaintext_ok == NULL)
		log_fatal("%s: imap_plaintext_auth_networks: %s",
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
	d = xcalloc(1, sizeof(*d));
	buf_reset(&err);
	if (store_defaults_parse(conf->mail_special_use_folders, d, &err) == -1)
		log_fatal("%s: mail_special_use_folders: %s",
		    conf->config_file, buf_cstr(&err));
	srv.defaults = d;
	srv.verifier =
	    auth_verifier_new(srv.accounts, conf->smtpd_auth_cache_size);
	/* the same penalty parameters as SMTP AUTH (per process) */
	srv.penalty = auth_penalty_new(conf->smtpd_auth_failure_limit,
	    conf->smtpd_auth_failure_window, conf->smtpd_auth_ban_time,
	    conf->smtpd_auth_failure_delay);
	buf_free(&err);
	srv.clients = smtp_clients_new();
	srv.userips = smtp_clients_new();
	srv.workers = worker_pool_new(srv.base, conf->imap_worker_threads);
	srv.watches = imap_watch_hub_new(srv.base);
	if (srv.watches == NULL)
		log_warn("inotify is not available (%m): IDLE sees changes only "
		         "at its end");
	srv.service = service_new(srv.base, ls, nls, imapd_kind,
	    imapd_on_accept, &srv, &srv.nsessions, IMAPD_STOP_GRACE);

	(void)event_base_dispatch(srv.base);

	/* Sessions still open after the grace period are dropped; jobs
	 * finish first (an APPEND or EXPUNGE under way completes). */
	worker_pool_free(&srv.workers);
	service_free(&srv.service);
	return 0;
}
