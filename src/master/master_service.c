/*
 * Supervision of the services: one slot per service instance (smtpd x
 * smtpd_processes, pop3d x pop3_processes, imapd x imap_processes,
 * queue x 1), forking them, reaping them, restarting a
 * dead one at once (with a growing delay only when it keeps dying within
 * a second of its start), retiring the processes of an old configuration,
 * and SIGKILLing those that outstay their grace time.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/conf.h"
#include "lib/log.h"
#include "lib/net.h"
#include "lib/xalloc.h"
#include "master/master_private.h"
#include "imap/imapd.h"
#include "pop3/pop3d.h"
#include "queue/qmgr.h"
#include "smtp/smtpd.h"

uint64_t
master_now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

const char *
master_service_name(enum master_service s)
{
	switch (s) {
	case MASTER_SERVICE_SMTPD:
		return "smtpd";
	case MASTER_SERVICE_QUEUE:
		return "queue";
	case MASTER_SERVICE_POP3D:
		return "pop3d";
	case MASTER_SERVICE_IMAPD:
		return "imapd";
	}
	log_panic("unknown service %d", (int)s);
}

/* A service of which two must never run at once, even across a reload:
 * the queue manager owns the queue and its socket. */
static bool
master_service_single(enum master_service s)
{
	return s == MASTER_SERVICE_QUEUE;
}

static bool
master_listener_smtp(enum listener_kind k)
{
	return k == LISTENER_SMTP || k == LISTENER_SUBMISSION ||
	    k == LISTENER_SMTPS;
}

static bool
master_listener_pop3(enum listener_kind k)
{
	return k == LISTENER_POP3 || k == LISTENER_POP3S;
}

static bool
master_listener_imap(enum listener_kind k)
{
	return k == LISTENER_IMAP || k == LISTENER_IMAPS;
}

/* Closes every descriptor from 3 up except those in keep. */
static void
master_close_fds_except(int *keep, size_t n)
{
	struct rlimit rl;
	unsigned lo = 3, fd, max;
	size_t i, j;
	int t;

	for (i = 1; i < n; i++) /* insertion sort: n is tiny */
		for (j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
			t = keep[j];
			keep[j] = keep[j - 1];
			keep[j - 1] = t;
		}
	for (i = 0; i <= n; i++) {
		unsigned hi = i < n ? (unsigned)keep[i] : ~0U;

		if (i < n && (keep[i] < 0 || (unsigned)keep[i] < lo))
			continue;
		if (hi > lo && close_range(lo, hi - 1, 0) == -1) {
			/* Kernels before 5.9: one close(2) at a time. */
			max = 65536;
			if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
			    rl.rlim_cur < max)
				max = (unsigned)rl.rlim_cur;
			for (fd = lo; fd < hi && fd < max; fd++)
				(void)close((int)fd);
		}
		if (i < n)
			lo = (unsigned)keep[i] + 1;
	}
}

/*
 * The child's side of a fork: becomes the service and never returns.
 * The master blocks the signals it waits for; a service starts with an
 * empty mask and default dispositions, except SIGPIPE (ignored, as every
 * network server wants) and SIGINT/SIGHUP (ignored: a ^C or a hangup of
 * the terminal reaches every process of its group, and the master alone
 * decides what happens then). A service may install its own handlers.
 */
static void MW_NORETURN
master_child_run(struct master *m, enum master_service service)
{
	sigset_t none;
	size_t nkeep = 0, i;
	int *keep, status;

	(void)signal(SIGCHLD, SIG_DFL);
	(void)signal(SIGTERM, SIG_DFL);
	(void)signal(SIGINT, SIG_IGN);
	(void)signal(SIGHUP, SIG_IGN);
	(void)signal(SIGPIPE, SIG_IGN);
	/* SIGUSR1 asks the queue to scan; it installs its handler itself.
	 * Blocked since the fork (master.c), so none can kill us before. */
	(void)signal(SIGUSR1, SIG_IGN);
	(void)sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	/* Die with the master; it may have died before this line. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) == -1 ||
	    getppid() != m->pid)
		_exit(1);
	log_set_service(master_service_name(service));

	/* Keep the log and, for smtpd and pop3d, their listeners; nothing
	 * else of the master's (a queue process has no business with the
	 * sockets, an smtpd none with the POP3 ones). */
	keep = xcalloc(m->nls + 1, sizeof(*keep));
	if (m->log_fd != -1)
		keep[nkeep++] = m->log_fd;
	for (i = 0; i < m->nls; i++)
		if ((service == MASTER_SERVICE_SMTPD &&
			master_listener_smtp(m->ls[i].kind)) ||
		    (service == MASTER_SERVICE_POP3D &&
			master_listener_pop3(m->ls[i].kind)) ||
		    (service == MASTER_SERVICE_IMAPD &&
			master_listener_imap(m->ls[i].kind)))
			keep[nkeep++] = m->ls[i].fd;
	master_close_fds_except(keep, nkeep);
	free(keep);

	switch (service) {
	case MASTER_SERVICE_SMTPD:
		status = smtpd_main(m->conf, m->ls, m->nls);
		break;
	case MASTER_SERVICE_QUEUE:
		status = qmgr_main(m->conf);
		break;
	case MASTER_SERVICE_POP3D:
		status = pop3d_main(m->conf, m->ls, m->nls);
		break;
	case MASTER_SERVICE_IMAPD:
		status = imapd_main(m->conf, m->ls, m->nls);
		break;
	default:
		status = 1;
		break;
	}
	/* _exit: the master's atexit handlers and buffers are not ours. */
	_exit(status);
}

/* Starts the process of a slot; on fork failure, retries later. */
static void
master_slot_start(struct master *m, struct master_slot *slot)
{
	pid_t pid;

	slot->restart_at_ms = 0;
	slot->started_ms = master_now_ms();
	pid = fork();
	if (pid == -1) {
		log_error("fork %s: %m", master_service_name(slot->service));
		slot->backoff_ms =
		    slot->backoff_ms ? slot->backoff_ms : MASTER_BACKOFF_MIN_MS;
		slot->restart_at_ms = slot->started_ms + slot->backoff_ms;
		return;
	}
	if (pid == 0)
		master_child_run(m, slot->service);
	slot->pid = pid;
	log_debug("started %s pid %ld", master_service_name(slot->service),
	    (long)pid);
}

static void
master_status_str(int status, char *out, size_t outsz)
{
	if (WIFSIGNALED(status))
		(void)snprintf(
		    out, outsz, "killed by signal %d", WTERMSIG(status));
	else if (WIFEXITED(status))
		(void)snprintf(
		    out, outsz, "exit status %d", WEXITSTATUS(status));
	else
		(void)snprintf(out, outsz, "wait status %d", status);
}

/* A process the master asked to stop that did so cleanly. */
static bool
master_status_clean(int status)
{
	return (WIFEXITED(status) && WEXITSTATUS(status) == 0) ||
	    (WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
}

/* Postfix's shape: "warning: process smtpd pid 1234 killed by signal 9". */
static void
master_log_exit(enum master_service service, pid_t pid, int status)
{
	char how[64];

	master_status_str(status, how, sizeof(how));
	log_warn("process %s pid %ld %s", master_service_name(service),
	    (long)pid, how);
}

/*
 * An smtpd that died may have committed a message and not yet poked the
 * queue about it: SIGUSR1 asks the queue service to scan now rather than
 * at its next queue_run_delay.
 */
static void
master_queue_rescan(struct master *m)
{
	size_t i;

	for (i = 0; i < m->nslots; i++)
		if (m->slots[i].service == MASTER_SERVICE_QUEUE &&
		    m->slots[i].pid > 0)
			(void)kill(m->slots[i].pid, SIGUSR1);
}

static void
master_slot_exited(struct master *m, struct master_slot *slot, int status)
{
	uint64_t now = master_now_ms(), delay;
	pid_t pid = slot->pid;

	slot->pid = 0;
	if (m->stopping) {
		if (!master_status_clean(status))
			master_log_exit(slot->service, pid, status);
		return;
	}
	master_log_exit(slot->service, pid, status);
	if (slot->service == MASTER_SERVICE_SMTPD)
		master_queue_rescan(m);
	if (now - slot->started_ms >= MASTER_QUICK_DEATH_MS) {
		/* It had been working: bring it back at once. */
		slot->backoff_ms = 0;
		master_slot_start(m, slot);
		return;
	}
	/* Died young: at once the first time, then 100 ms, 200 ms, ... 5 s,
	 * so that a service that cannot start does not spin. */
	delay = slot->backoff_ms;
	slot->backoff_ms = delay == 0           ? MASTER_BACKOFF_MIN_MS
	    : delay * 2 > MASTER_BACKOFF_MAX_MS ? MASTER_BACKOFF_MAX_MS
	                                        : delay * 2;
	if (delay == 0) {
		master_slot_start(m, slot);
		return;
	}
	log_warn(
	    "process %s keeps dying within %d ms of its start -- throttling for %llu ms",
	    master_service_name(slot->service), MASTER_QUICK_DEATH_MS,
	    (unsigned long long)delay);
	slot->restart_at_ms = now + delay;
}

static void
master_retired_exited(struct master *m, size_t i, int status)
{
	struct master_retired r = m->retired[i];
	size_t j;

	if (!master_status_clean(status))
		master_log_exit(r.service, r.pid, status);
	m->retired[i] = m->retired[--m->nretired];
	/* A single service of the new configuration waited for this one. */
	for (j = 0; j < m->nslots; j++)
		if (m->slots[j].wait_for == r.pid) {
			m->slots[j].wait_for = 0;
			if (!m->stopping)
				master_slot_start(m, &m->slots[j]);
		}
}

void
master_reap(struct master *m)
{
	pid_t pid;
	size_t i;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < m->nslots; i++)
			if (m->slots[i].pid == pid) {
				master_slot_exited(m, &m->slots[i], status);
				break;
			}
		if (i < m->nslots)
			continue;
		for (i = 0; i < m->nretired; i++)
			if (m->retired[i].pid == pid) {
				master_retired_exited(m, i, status);
				break;
			}
	}
}

/* Moves a running slot's process to the retired list and SIGTERMs it. */
static void
master_slot_retire(struct master *m, struct master_slot *slot, uint64_t now)
{
	struct master_retired *r;

	if (slot->pid == 0)
		return;
	m->retired =
	    xreallocarray(m->retired, m->nretired + 1, sizeof(*m->retired));
	r = &m->retired[m->nretired++];
	r->service = slot->service;
	r->pid = slot->pid;
	r->kill_at_ms = now + MASTER_STOP_GRACE_MS;
	slot->pid = 0;
}

void
master_slots_replace(struct master *m)
{
	struct master_slot *old = m->slots;
	size_t nold = m->nslots, first_retired = m->nretired, i, j, n = 0;
	uint64_t now = master_now_ms(), nsmtpd = 0, npop3d = 0, nimapd = 0;
	bool smtp = false, pop3 = false, imap = false;

	/* Without a listener a service has nothing to do. */
	for (i = 0; i < m->nls; i++) {
		smtp = smtp || master_listener_smtp(m->ls[i].kind);
		pop3 = pop3 || master_listener_pop3(m->ls[i].kind);
		imap = imap || master_listener_imap(m->ls[i].kind);
	}
	nsmtpd = smtp ? m->conf->smtpd_processes : 0;
	npop3d = pop3 ? m->conf->pop3_processes : 0;
	nimapd = imap ? m->conf->imap_processes : 0;
	if (!smtp)
		log_warn(
		    "no smtpd_listen, submission_listen or smtps_listen: no smtpd runs");
	for (i = 0; i < nold; i++)
		master_slot_retire(m, &old[i], now);
	free(old);

	m->slots = xcalloc(nsmtpd + npop3d + nimapd + 1, sizeof(*m->slots));
	for (i = 0; i < nsmtpd; i++)
		m->slots[n++].service = MASTER_SERVICE_SMTPD;
	for (i = 0; i < npop3d; i++)
		m->slots[n++].service = MASTER_SERVICE_POP3D;
	for (i = 0; i < nimapd; i++)
		m->slots[n++].service = MASTER_SERVICE_IMAPD;
	m->slots[n++].service = MASTER_SERVICE_QUEUE;
	m->nslots = n;

	/* New processes first, so that the listeners never go unserved;
	 * then the old ones are told to finish. */
	for (i = 0; i < n; i++) {
		struct master_slot *s = &m->slots[i];

		if (master_service_single(s->service))
			for (j = 0; j < m->nretired; j++)
				if (m->retired[j].service == s->service)
					s->wait_for = m->retired[j].pid;
		if (s->wait_for == 0)
			master_slot_start(m, s);
	}
	for (j = first_retired; j < m->nretired; j++)
		(void)kill(m->retired[j].pid, SIGTERM);
}

void
master_children_term(struct master *m)
{
	size_t i;

	for (i = 0; i < m->nslots; i++) {
		m->slots[i].restart_at_ms = 0;
		m->slots[i].wait_for = 0;
		if (m->slots[i].pid != 0)
			(void)kill(m->slots[i].pid, SIGTERM);
	}
	for (i = 0; i < m->nretired; i++)
		(void)kill(m->retired[i].pid, SIGTERM);
}

size_t
master_children_count(const struct master *m)
{
	size_t i, n = m->nretired;

	for (i = 0; i < m->nslots; i++)
		if (m->slots[i].pid != 0)
			n++;
	return n;
}

static void
master_kill(enum master_service service, pid_t pid)
{
	log_warn("process %s pid %ld did not stop within %d s -- killing it",
	    master_service_name(service), (long)pid,
	    MASTER_STOP_GRACE_MS / 1000);
	(void)kill(pid, SIGKILL);
}

void
master_timers_run(struct master *m, uint64_t now)
{
	size_t i;

	for (i = 0; i < m->nretired; i++)
		if (m->retired[i].kill_at_ms != 0 &&
		    m->retired[i].kill_at_ms <= now) {
			m->retired[i].kill_at_ms = 0;
			master_kill(m->retired[i].service, m->retired[i].pid);
		}
	if (m->stopping) {
		if (m->stop_deadline_ms == 0 || m->stop_deadline_ms > now)
			return;
		m->stop_deadline_ms = 0;
		for (i = 0; i < m->nslots; i++)
			if (m->slots[i].pid != 0)
				master_kill(
				    m->slots[i].service, m->slots[i].pid);
		for (i = 0; i < m->nretired; i++)
			if (m->retired[i].kill_at_ms != 0) {
				m->retired[i].kill_at_ms = 0;
				master_kill(
				    m->retired[i].service, m->retired[i].pid);
			}
		return;
	}
	for (i = 0; i < m->nslots; i++)
		if (m->slots[i].restart_at_ms != 0 &&
		    m->slots[i].restart_at_ms <= now && m->slots[i].pid == 0)
			master_slot_start(m, &m->slots[i]);
}

uint64_t
master_timers_next(const struct master *m)
{
	uint64_t next = UINT64_MAX;
	size_t i;

	for (i = 0; i < m->nretired; i++)
		if (m->retired[i].kill_at_ms != 0 &&
		    m->retired[i].kill_at_ms < next)
			next = m->retired[i].kill_at_ms;
	if (m->stopping) {
		if (m->stop_deadline_ms != 0 && m->stop_deadline_ms < next)
			next = m->stop_deadline_ms;
		return next;
	}
	for (i = 0; i < m->nslots; i++)
		if (m->slots[i].restart_at_ms != 0 &&
		    m->slots[i].restart_at_ms < next)
			next = m->slots[i].restart_at_ms;
	return next;
}

void
master_slots_free(struct master *m)
{
	free(m->slots);
	m->slots = NULL;
	m->nslots = 0;
	free(m->retired);
	m->retired = NULL;
	m->nretired = 0;
}
