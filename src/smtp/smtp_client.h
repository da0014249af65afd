/*
 * The SMTP client: one asynchronous connection to one destination, on an
 * event loop. It finds the destination's servers (dns_mx_plan on a worker
 * thread), connects to them in order until one talks, greets with EHLO
 * (HELO after a 5xx), upgrades with STARTTLS at the configured level, and
 * sends messages: MAIL, RCPT and DATA pipelined when the server offers
 * PIPELINING (RFC 2920), SIZE, BODY=8BITMIME and SMTPUTF8 as the message
 * needs and the server allows. After each message it asks its owner for
 * the next one to the same destination (RSET between) or says QUIT.
 *
 * Results are per recipient. The owner (the queue's scheduler) decides
 * what they mean for the queue; the client logs only the connection's own
 * events (TLS outcome).
 */
#ifndef SMTP_SMTP_CLIENT_H
#define SMTP_SMTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/tls_client.h"

/* "mx.example.org[192.0.2.1]:25" fits */
#define SMTP_RELAY_MAX 320

struct dns_mx_opts;
struct dns_resolver;
struct event_base;
struct smtp_client;
struct tls_client;
struct worker_pool;

enum smtp_rcpt_status {
	SMTP_RCPT_PENDING,
	SMTP_RCPT_SENT,     /* 2xx at the end of data */
	SMTP_RCPT_DEFERRED, /* 4xx, or no answer: try again later */
	SMTP_RCPT_BOUNCED,  /* 5xx: give up */
};

/* One recipient of a message delivery, with its result. */
struct smtp_client_rcpt {
	const char *address; /* borrowed */
	size_t index;        /* the owner's: envelope recipient number */
	unsigned notify;     /* RFC 3461 NOTIFY bits (QUEUE_DSN_NOTIFY_*) */
	const char *orcpt;   /* "type;address" or NULL */
	enum smtp_rcpt_status status;
	char dsn[16];    /* "2.0.0", "5.1.1", ... */
	char text[1024]; /* Postfix's parenthesised text for the log */
	char diag[1024]; /* the server's reply, "" when it was not one */
};

/* One message to send. Borrowed until done runs for it. */
struct smtp_client_msg {
	const char *id;              /* queue ID, for logs */
	const char *sender;          /* "" for <> */
	int fd;                      /* the queue file */
	uint64_t body_off, body_len; /* the stored message (LF line ends) */
	uint64_t wire_size;          /* its size with CRLF line ends (SIZE=) */
	bool body_8bit;              /* BODY=8BITMIME */
	bool smtputf8;               /* needs SMTPUTF8 */
	int dsn_ret;                 /* QUEUE_DSN_RET_*, 0: none */
	const char *envid;           /* NULL: none */
	struct smtp_client_rcpt *rcpts;
	size_t nrcpt;
	/* filled by the client */
	char relay[SMTP_RELAY_MAX]; /* "mx.example[192.0.2.1]:25" or "none" */
	double t_conn;              /* connection set up (delays=c) */
	bool dsn_passed; /* the server offered DSN: parameters sent */
	void *arg;       /* the owner's */
};

enum smtp_client_outcome {
	SMTP_CLIENT_REACHED,   /* a server greeted us */
	SMTP_CLIENT_UNREACHED, /* no server could be reached (yet) */
	SMTP_CLIENT_NODEST,    /* the destination does not exist (DNS) */
};

/* The owner's callbacks. */
struct smtp_client_ops {
	/* A message has its results (every rcpt no longer PENDING). */
	void (*done)(void *arg, struct smtp_client_msg *msg);
	/* The next message for this connection, or NULL: then QUIT. */
	struct smtp_client_msg *(*next)(void *arg, struct smtp_client *c);
	/* Nothing more to send now: the connection waits up to the cache
	 * time for smtp_client_reuse(), then says QUIT. May be NULL. */
	void (*idle)(void *arg, struct smtp_client *c);
	/* The connection ended (c is freed after): for the owner's
	 * concurrency feedback, whether a server greeted us. */
	void (*closed)(void *arg, struct smtp_client *c,
	    enum smtp_client_outcome outcome, const char *why);
};

/* What every connection of a process shares. Borrowed by clients. */
struct smtp_client_env {
	struct event_base *base;
	struct worker_pool *dns_pool;
	struct dns_resolver *dns;
	struct tls_client *tls; /* NULL: no TLS possible */
	const char *helo_name;
	const char *bind4, *bind6; /* "" or NULL: any */
	size_t line_max;
	unsigned t_connect, t_helo, t_starttls, t_mail, t_rcpt, t_data_init,
	    t_data_xfer, t_data_done, t_rset, t_quit; /* seconds */
	bool skip_5xx_greeting;
	bool chunking;            /* use BDAT when the server offers CHUNKING */
	unsigned cache_time;      /* seconds an idle connection waits; 0: QUIT */
	size_t reuse_count_limit; /* messages per connection; 0: no limit */
	unsigned reuse_time_limit; /* seconds a connection takes new ones */
};

/* The destination of one connection. */
struct smtp_client_dest {
	char host[256];               /* domain (MX lookup) or host */
	const struct dns_mx_opts *mx; /* how to find the servers */
	enum tls_level tls;
	const char *const *tls_names; /* for verify/secure; NULL: host */
	/* SMTP AUTH (RFC 4954) towards this destination; NULL: none */
	const char *sasl_user, *sasl_pass;
	bool sasl_tls_only; /* send credentials only over TLS */
};

/*
 * Starts a connection for first (which must have rcpts). ops are called
 * on the loop with arg. Never fails: a failure shows as results.
 */
struct smtp_client *smtp_client_start(const struct smtp_client_env *env,
    const struct smtp_client_dest *dest, struct smtp_client_msg *first,
    const struct smtp_client_ops *ops, void *arg);

/* Hands m to an idle connection (RSET, then its transaction). False when
 * c is no longer idle (it is closing): the caller keeps m. */
bool smtp_client_reuse(struct smtp_client *c, struct smtp_client_msg *m);

/* Stops at once (shutdown): pending recipients are deferred, done and
 * closed run before this returns. */
void smtp_client_abort(struct smtp_client *c, const char *why);

#endif
