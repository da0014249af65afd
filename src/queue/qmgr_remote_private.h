/*
 * The outbound scheduler's internals, shared by qmgr_remote.c (queues,
 * connections, results) and qmgr_dest.c (destinations: their MX options,
 * TLS level, SASL credentials, and our own addresses for the MX loop
 * rule). Not for use outside src/queue.
 */
#ifndef QUEUE_QMGR_REMOTE_PRIVATE_H
#define QUEUE_QMGR_REMOTE_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "delivery/route.h"
#include "dns/dns_mx.h"
#include "lib/tls_client.h"
#include "smtp/smtp_client.h"

struct conf;
struct dns_resolver;
struct maptable;
struct qmgr_job;
struct qmgr_rdest;
struct tls_client;
struct worker_pool;

/* DNS lookups wait on their own threads, never on delivery threads. */
#define QMGR_DNS_THREADS 8

struct qmgr_dest;

/* One message to one destination: what a connection sends at once. */
struct qmgr_delivery {
	struct smtp_client_msg cm;
	struct qmgr_job *job;
	struct qmgr_dest *dest;
	size_t *rd; /* indexes into job->rd, parallel to cm.rcpts */
	struct qmgr_delivery *next;
	double t_queued;
};

struct qmgr_dest {
	char key[320];
	struct route route;
	struct dns_mx_opts mx;
	enum tls_level tls;
	struct qmgr_delivery *head, *tail; /* waiting */
	size_t nwaiting;
	size_t active; /* connections */
	size_t window; /* connections allowed now */
	size_t fails;  /* failed connections since the last success */
	double dead_until;
	char dead_why[1024];
	char *sasl_user, *sasl_pass; /* smtp_sasl_password_maps */
	struct qmgr_conn **idle;     /* connections in the cache */
	size_t nidle, capidle;
	struct qmgr_dest *next_all;
};

struct qmgr_remote {
	struct qmgr *q;
	struct smtp_client_env env;
	struct worker_pool *dns_pool;
	struct dns_resolver *dns;
	struct tls_client *tls;
	struct maptable **tls_policy;
	size_t ntls_policy;
	struct maptable **sasl_maps;
	size_t nsasl_maps;
	void *dests; /* tsearch tree by key */
	struct qmgr_dest *all;
	size_t active; /* connections, all destinations */
	struct sockaddr_storage *own;
	size_t nown;
	bool v4, v6;
	int prefer;
	struct smtp_client **conns; /* open connections, for shutdown */
	size_t nconns, capconns;
};

/* qmgr_dest.c */
int qmgr_dest_cmp(const void *a, const void *b);
/* Fills r->own from the MX listeners (wildcards: every interface). */
void qmgr_remote_own(struct qmgr_remote *r, const struct conf *conf);
/* The destination of rd, made on first use (tsearch tree r->dests). */
struct qmgr_dest *qmgr_dest_get(
    struct qmgr_remote *r, const struct qmgr_rdest *rd);

#endif
