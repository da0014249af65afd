/*
 * The master process (see master.h): start-up, the supervision loop,
 * reload on SIGHUP and stop on SIGTERM/SIGINT. Listeners are in
 * master_listen.c, privileges in master_privs.c, the service processes in
 * master_service.c.
 *
 * The master is single-threaded and never blocks on anything but its own
 * signals: it keeps SIGCHLD, SIGHUP, SIGTERM and SIGINT blocked and takes
 * them one at a time with sigtimedwait(), whose timeout is the next
 * restart or SIGKILL that is due. No handler runs asynchronously, so
 * nothing here needs to be async-signal-safe, and a forked service
 * inherits no handler of ours.
 */
#include "master/master.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/log.h"
#include "lib/net.h"
#include "master/master_private.h"
#include "imap/imapd.h"
#include "pop3/pop3d.h"
#include "smtp/smtpd.h"

/* One line on stderr (and in maillog_file when there is one): a start
 * that fails must say why where the admin is looking. */
static void master_start_error(const struct master *m, const char *fmt, ...)
    MW_PRINTF(2, 3);

static void
master_start_error(const struct master *m, const char *fmt, ...)
{
	struct buf line;
	va_list ap;

	buf_init(&line, 4096);
	va_start(ap, fmt);
	(void)!buf_vprintf(&line, fmt, ap);
	va_end(ap);
	(void)fprintf(stderr, "mailwright: %s\n", buf_cstr(&line));
	if (m->log_fd != -1)
		log_error("%s", buf_cstr(&line));
	buf_free(&line);
}

/* Opens maillog_file for the master and every service (they inherit the
 * descriptor); empty means stderr. */
static int
master_log_open(struct master *m)
{
	int fd;

	if (m->conf->maillog_file[0] == '\0')
		return 0;
	fd = open(m->conf->maillog_file,
	    O_WRONLY | O_APPEND | O_CREAT | O_NOCTTY | O_CLOEXEC, 0640);
	if (fd == -1)
		return -1;
	m->log_fd = fd;
	log_set_fd(fd);
	return 0;
}

static void
master_signals(sigset_t *set)
{
	(void)sigemptyset(set);
	(void)sigaddset(set, SIGCHLD);
	(void)sigaddset(set, SIGHUP);
	(void)sigaddset(set, SIGTERM);
	(void)sigaddset(set, SIGINT);
}

/*
 * SIGHUP: re-reads the configuration. A bad file, or a listener that cannot
 * be bound, keeps the running configuration. Otherwise new services start
 * with the new one and the old ones are told to finish (master_service.c).
 * What was settled at start as root cannot change: mail_owner, and
 * maillog_file, which mail_owner might not be allowed to open.
 */
/* Builds what the services will build (TLS material, re-read on SIGHUP;
 * restriction lists and tables); 0, or -1 with one line in err. */
static int
master_config_check(const struct conf *conf, struct buf *err)
{
	if (smtpd_config_check(conf, err) == -1)
		return -1;
	if (pop3d_config_check(conf, err) == -1)
		return -1;
	return imapd_config_check(conf, err);
}

static void
master_reload(struct master *m)
{
	struct conf *nc, *old;
	struct buf err;

	buf_init(&err, 4096);
	nc = conf_load(m->conf->config_file, &err);
	if (nc == NULL) {
		log_error(
		    "%s -- keeping the running configuration", buf_cstr(&err));
		goto out;
	}
	if (master_config_check(nc, &err) == -1) {
		log_error("reload: %s -- keeping the running configuration",
		    buf_cstr(&err));
		conf_free(&nc);
		goto out;
	}
	if (master_listen_open(nc, &m->ls, &m->nls, &err) == -1) {
		log_error("reload: %s -- keeping the running configuration",
		    buf_cstr(&err));
		conf_free(&nc);
		goto out;
	}
	if (strcmp(nc->mail_owner, m->conf->mail_owner) != 0)
		log_warn(
		    "mail_owner changed from %s to %s: that takes a restart",
		    m->conf->mail_owner, nc->mail_owner);
	if (strcmp(nc->maillog_file, m->conf->maillog_file) != 0)
		log_warn("maillog_file changed: that takes a restart");
	buf_reset(&err);
	if (master_privs_setup(nc, false, &err) == -1)
		log_warn("%s", buf_cstr(&err));
	log_info("reload -- version %s, configuration %s", MW_VERSION,
	    nc->config_file);
	old = m->conf;
	m->conf = nc;
	master_slots_replace(m);
	conf_free(&old);
out:
	buf_free(&err);
}

/* SIGTERM/SIGINT: every child gets SIGTERM, and SIGKILL after the grace
 * time. A second signal does not wait for the grace time. */
static void
master_stop(struct master *m, int sig)
{
	if (m->stopping) {
		m->stop_deadline_ms = master_now_ms();
		return;
	}
	log_info("terminating on signal %d", sig);
	m->stopping = true;
	m->stop_deadline_ms = master_now_ms() + MASTER_STOP_GRACE_MS;
	master_children_term(m);
	/* New connections are refused as soon as the services let go of
	 * their copies too. */
	master_listen_close(&m->ls, &m->nls);
}

static void
master_loop(struct master *m)
{
	struct timespec ts;
	uint64_t now, next, wait;
	sigset_t set;
	int sig;

	master_signals(&set);
	for (;;) {
		if (m->stopping && master_children_count(m) == 0)
			break;
		now = master_now_ms();
		next = master_timers_next(m);
		/* Nothing due: wake up now and then all the same. */
		wait = next == UINT64_MAX ? 60000 : next > now ? next - now : 0;
		ts.tv_sec = (time_t)(wait / 1000);
		ts.tv_nsec = (long)(wait % 1000) * 1000000;
		sig = sigtimedwait(&set, NULL, &ts);
		switch (sig) {
		case SIGCHLD:
			master_reap(m);
			break;
		case SIGHUP:
			if (!m->stopping)
				master_reload(m);
			break;
		case SIGTERM:
		case SIGINT:
			master_stop(m, sig);
			break;
		default: /* timeout (EAGAIN) or EINTR */
			break;
		}
		master_timers_run(m, master_now_ms());
	}
}

int
master_main(const char *config_path)
{
	struct master m;
	struct buf err;
	sigset_t set, oset;
	int ret = 1;

	memset(&m, 0, sizeof(m));
	m.pid = getpid();
	m.log_fd = -1;
	buf_init(&err, 4096);
	m.conf = conf_load(config_path, &err);
	if (m.conf == NULL) {
		(void)fprintf(stderr, "%s\n", buf_cstr(&err));
		goto out;
	}
	if (master_log_open(&m) == -1) {
		master_start_error(&m, "cannot open maillog_file %s: %s",
		    m.conf->maillog_file, strerror(errno));
		goto out;
	}
	log_set_service("master");
	log_set_hostname(m.conf->myhostname);
	(void)umask(077);
	/* A reader that goes away (a closed stderr pipe) must not kill us. */
	(void)signal(SIGPIPE, SIG_IGN);
	/* Blocked before the first fork, so that no exit goes unseen. */
	master_signals(&set);
	(void)sigprocmask(SIG_BLOCK, &set, &oset);
	{
		/* Not waited for: only inherited blocked by the services,
		 * which ignore it or install a handler (the queue's rescan). */
		sigset_t usr1;

		(void)sigemptyset(&usr1);
		(void)sigaddset(&usr1, SIGUSR1);
		(void)sigprocmask(SIG_BLOCK, &usr1, NULL);
	}

	buf_reset(&err);
	if (master_listen_open(m.conf, &m.ls, &m.nls, &err) == -1) {
		master_start_error(&m, "%s", buf_cstr(&err));
		goto out_mask;
	}
	/* The listeners are bound: root is no longer needed. */
	buf_reset(&err);
	if (master_privs_setup(m.conf, true, &err) == -1) {
		master_start_error(&m, "%s", buf_cstr(&err));
		goto out_mask;
	}
	/* As mail_owner, who must read them again on SIGHUP: a missing or
	 * unreadable certificate is a one-line start-up error. */
	buf_reset(&err);
	if (master_config_check(m.conf, &err) == -1) {
		master_start_error(&m, "%s", buf_cstr(&err));
		goto out_mask;
	}
	log_info("daemon started -- version %s, configuration %s", MW_VERSION,
	    m.conf->config_file);
	master_slots_replace(&m);
	master_loop(&m);
	ret = 0;
out_mask:
	(void)sigprocmask(SIG_SETMASK, &oset, NULL);
out:
	master_slots_free(&m);
	master_listen_close(&m.ls, &m.nls);
	conf_free(&m.conf);
	buf_free(&err);
	if (m.log_fd != -1) {
		log_set_fd(2);
		(void)close(m.log_fd);
	}
	return ret;
}
