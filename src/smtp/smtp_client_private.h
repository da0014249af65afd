/*
 * The SMTP client's internals, shared by smtp_client.c (connections, DNS,
 * greeting, EHLO, STARTTLS, AUTH, reply dispatch) and smtp_client_tx.c
 * (the mail transaction: MAIL, RCPT, DATA or BDAT, the content). Not for
 * use outside src/smtp.
 */
#ifndef SMTP_SMTP_CLIENT_PRIVATE_H
#define SMTP_SMTP_CLIENT_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/dns_mx.h"
#include "lib/buf.h"
#include "lib/mw.h"
#include "smtp/smtp_client.h"
#include "smtp/smtp_dotstuff.h"
#include "smtp/smtp_reply.h"

struct bufferevent;
struct smtp_downgrade;
typedef struct ssl_st SSL;

/* RFC 5321 4.5.3.1.5 allows 512-octet reply lines; a reply of more lines
 * than this is not one a server means */
#define SC_REPLY_LINES_MAX 100
#define SC_BODY_CHUNK      ((size_t)64 * 1024)
#define SC_OUT_HIGH        ((size_t)256 * 1024)
#define SC_OUT_LOW         ((size_t)64 * 1024)

enum sc_state {
	SC_DNS,
	SC_CONNECT,
	SC_GREETING,
	SC_EHLO,
	SC_HELO,
	SC_STARTTLS,
	SC_TLS,
	SC_AUTH,      /* AUTH PLAIN sent, or AUTH LOGIN's password */
	SC_AUTH_USER, /* AUTH LOGIN: the user name is asked for */
	SC_TX,        /* MAIL, RCPT, DATA replies */
	SC_BODY,      /* sending the content */
	SC_DOT,       /* waiting for the end-of-data reply */
	SC_RSET,
	SC_IDLE, /* in the connection cache, waiting for a message */
	SC_QUIT,
};

/* The DNS job (worker thread): reads host and opts, writes plan. */
struct sc_dns_job {
	struct smtp_client *c; /* NULL when the client went away */
	struct dns_resolver *dns;
	char host[256];
	struct dns_mx_opts opts;
	struct dns_mx_plan plan;
};

struct smtp_client {
	const struct smtp_client_env *env;
	struct smtp_client_dest dest;
	const struct smtp_client_ops *ops;
	void *arg;
	enum sc_state state;
	struct sc_dns_job *dns_job;
	struct dns_mx_plan plan;
	size_t ai; /* address being tried */
	struct bufferevent *bev;
	enum tls_level level; /* of this server: dest.tls, DANE resolved */
	bool last_dane;       /* last_err is dane-only's: 4.7.5, not 4.4.1 */
	SSL *ssl;             /* owned by bev once the filter exists */
	bool tls;             /* the session is encrypted */
	bool reached;         /* some server greeted */
	bool nodest;          /* the DNS said the destination does not exist */
	bool ehlo_again;      /* after STARTTLS */
	char peer[SMTP_RELAY_MAX]; /* "host[addr]:port" */
	char peer_noport[SMTP_RELAY_MAX];
	struct smtp_reply reply;
	struct smtp_ehlo ehlo;
	char last_err[1024]; /* the last connection failure */
	/* the current message */
	struct smtp_client_msg *msg;
	size_t tx_sent, tx_recv; /* commands of [MAIL, RCPT..., DATA] */
	bool mail_ok;
	size_t naccepted;
	bool *accepted;
	bool data_abort; /* 354 with no accepted recipient: send "." only */
	bool bdat;       /* CHUNKING (RFC 3030): BDAT instead of DATA */
	size_t bdat_sent, bdat_recv; /* BDAT commands and their replies */
	int bdat_fail; /* the first failed BDAT reply's code, 0: none */
	struct smtp_reply bdat_reply; /* that reply */
	struct smtp_downgrade *down;  /* 8-bit to a server without 8BITMIME */
	struct buf down_out;          /* its output for one chunk */
	struct smtp_dotstuff ds;
	uint64_t body_done;
	bool body_eof;
	size_t nmsgs; /* messages started on this connection */
	double t_connected;
	bool closing;
	unsigned depth; /* callbacks of ours on the stack: free after them */
};

/* snprintf that may cut: texts for logs and bounces are bounded */
void smtp_client_fmt(char *out, size_t outsz, const char *fmt, ...)
    MW_PRINTF(3, 4);
double smtp_client_now(void);
/* Sets the read timeout for the reply awaited (write: data_xfer). */
void smtp_client_timeout(struct smtp_client *c, unsigned secs);
/* Queues one command line (CRLF added). */
void smtp_client_send(struct smtp_client *c, const char *fmt, ...)
    MW_PRINTF(2, 3);
/* The recipient's result, unless it has one. */
void smtp_client_rcpt_set(struct smtp_client_rcpt *r, enum smtp_rcpt_status st,
    const char *dsn, const char *text, const char *diag);
/* Every recipient of c->msg without a result gets this one; the message
 * is handed back to the owner (ops->done) and c->msg becomes NULL. */
void smtp_client_settle(struct smtp_client *c, enum smtp_rcpt_status st,
    const char *dsn, const char *text, const char *diag);
/* The DSN of c's reply: its enhanced code, or class.0.0. */
void smtp_client_reply_dsn(const struct smtp_reply *r, char *out, size_t outsz);
/* "host H[A] said: <reply> (in reply to X)" and the reply alone. */
void smtp_client_reply_text(struct smtp_client *c, const char *in_reply_to,
    char *text, size_t textsz, char *diag, size_t diagsz);
/* Between messages: the next one (RSET), or QUIT. */
void smtp_client_idle(struct smtp_client *c);
/* Ends the session (ops->closed; c freed when no callback of ours is on
 * the stack). */
void smtp_client_finish(struct smtp_client *c, const char *why);

/* smtp_client_tls.c */
/* The TLS level of a connection to a (RFC 7672 2.2 for dane), or -1 with
 * why when a must not be used (dane-only). */
int smtp_client_tls_level(const struct smtp_client *c,
    const struct dns_mx_addr *a, char *why, size_t whysz);
/* The SSL for the handshake at c->level (DANE: with the server's TLSA
 * records; the level drops to encrypt when none can be used). */
SSL *smtp_client_tls_ssl(struct smtp_client *c);

/* A failure of the connection: the next address when no transaction
 * began on it, else the current message's recipients are deferred. */
void smtp_client_conn_fail(
    struct smtp_client *c, const char *dsn, const char *why, bool next_ok);

/* Tries the addresses of the plan from c->ai on. */
void smtp_client_connect_next(struct smtp_client *c);
/* Around every entry from the event loop or a worker's done callback:
 * smtp_client_finish() inside frees c only at the outermost leave. */
void smtp_client_enter(struct smtp_client *c);
void smtp_client_leave(struct smtp_client *c);

/* smtp_client_dns.c: starts the MX plan of c->dest. */
void smtp_client_dns_start(struct smtp_client *c);

/* smtp_client_auth.c: true when an AUTH command went out. */
bool smtp_client_auth_start(struct smtp_client *c);
void smtp_client_auth_reply(struct smtp_client *c);

/* smtp_client_tx.c */
void smtp_client_tx_start(struct smtp_client *c);
void smtp_client_tx_reply(struct smtp_client *c);
void smtp_client_dot_reply(struct smtp_client *c);
void smtp_client_body_fill(struct smtp_client *c);
/* A reply to a BDAT command (RFC 3030 2: one per chunk). */
void smtp_client_bdat_reply(struct smtp_client *c);

#endif
