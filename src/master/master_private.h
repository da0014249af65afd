/*
 * What the master's files share: the master's state, its service slots,
 * listener sets (master_listen.c), privileges (master_privs.c) and
 * supervision (master_service.c). master.c holds the loop.
 */
#ifndef MASTER_MASTER_PRIVATE_H
#define MASTER_MASTER_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/mw.h"

struct buf;
struct conf;
struct listener;

/* A service dies "quickly" when it exits within this of its start. */
#define MASTER_QUICK_DEATH_MS 1000
/* Restart delays after repeated quick deaths: 100 ms, doubling, to 5 s. */
#define MASTER_BACKOFF_MIN_MS 100
#define MASTER_BACKOFF_MAX_MS 5000
/* How long a SIGTERMed service may take before it gets SIGKILL. */
#define MASTER_STOP_GRACE_MS 10000
/* listen(2) backlog, as Postfix's and nginx's default. */
#define MASTER_LISTEN_BACKLOG 511

enum master_service {
	MASTER_SERVICE_SMTPD,
	MASTER_SERVICE_QUEUE,
	MASTER_SERVICE_POP3D,
	MASTER_SERVICE_IMAPD,
};

/* One service instance that the master keeps running. */
struct master_slot {
	enum master_service service;
	pid_t pid;              /* 0 while not running */
	uint64_t started_ms;    /* monotonic time of the last start */
	uint64_t backoff_ms;    /* delay of the next quick-death restart */
	uint64_t restart_at_ms; /* 0: no restart scheduled */
	pid_t wait_for;         /* start only once this retired pid is gone */
};

/* A process of an older configuration (or a stopping one): SIGTERMed,
 * SIGKILLed at kill_at_ms. */
struct master_retired {
	enum master_service service;
	pid_t pid;
	uint64_t kill_at_ms; /* 0: already SIGKILLed */
};

struct master {
	pid_t pid;
	struct conf *conf;
	struct listener *ls; /* the listening sockets of every service */
	size_t nls;
	struct master_slot *slots;
	size_t nslots;
	struct master_retired *retired;
	size_t nretired;
	int log_fd; /* maillog_file, or -1: stderr */
	bool stopping;
	uint64_t stop_deadline_ms; /* 0: the SIGKILLs have been sent */
};

/* Monotonic milliseconds. */
uint64_t master_now_ms(void);

/*
 * Binds the listeners of c into a new set that replaces *ls_inout: a spec
 * already bound in the old set keeps its socket, the old sockets not
 * carried over are closed. On failure the old set is untouched and err
 * holds "cannot bind SPEC: reason" or "param: SPEC: reason".
 */
int master_listen_open(const struct conf *c, struct listener **ls_inout,
    size_t *n_inout, struct buf *err) MW_MUST_CHECK;
/* Closes and frees a set; *ls becomes NULL. */
void master_listen_close(struct listener **ls, size_t *n);

/*
 * Creates the queue and mail directories; when started as root, hands them
 * (and the accounts database) to mail_owner and drops to it for good.
 * 0, or -1 with one line in err. with_privs false: directories only.
 */
int master_privs_setup(
    const struct conf *c, bool with_privs, struct buf *err) MW_MUST_CHECK;

/* The service name for logs and process titles ("smtpd", "queue"). */
const char *master_service_name(enum master_service s);
/* Replaces the slots by those c asks for and starts them; the processes
 * of the old slots are retired (SIGTERM, SIGKILL after the grace time). */
void master_slots_replace(struct master *m);
/* Reaps every exited child and restarts what must be restarted. */
void master_reap(struct master *m);
/* Runs what is due at now: restarts, SIGKILLs. */
void master_timers_run(struct master *m, uint64_t now);
/* The next time master_timers_run has something to do; UINT64_MAX: none. */
uint64_t master_timers_next(const struct master *m);
/* SIGTERMs every child and cancels restarts (for shutdown). */
void master_children_term(struct master *m);
/* Children still alive. */
size_t master_children_count(const struct master *m);
void master_slots_free(struct master *m);

#endif
