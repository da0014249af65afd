/*
 * Internals shared by the files of the POP3 server: the server (one per
 * pop3d process), the session state machine, and the functions the
 * command handlers call. pop3_session.c owns the connection, pop3_cmd.c
 * the dispatch and the TRANSACTION commands, pop3_auth.c the
 * AUTHORIZATION state and the login, pop3_maildrop.c the mail store jobs
 * (open at login, UPDATE at QUIT, RETR/TOP streaming).
 */
#ifndef POP3_POP3_SESSION_PRIVATE_H
#define POP3_POP3_SESSION_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "lib/buf.h"
#include "lib/net.h"
#include "pop3/pop3_encode.h"
#include "pop3/pop3_parse.h"

struct accounts;
struct auth_penalty;
struct auth_verifier;
struct bufferevent;
struct cidr_list;
struct conf;
struct event;
struct event_base;
struct sasl_server;
struct service;
struct smtp_client_count;
struct store;
struct store_mailbox;
struct tls_server;
struct worker_pool;
typedef struct ssl_st SSL;

/* RFC 5034 4: AUTH exchange lines may be long (as SMTP's 12288). */
#define POP3_AUTH_LINE_MAX 12288
/* RFC 2449 3: arguments are at most 40 characters. */
#define POP3_ARG_MAX 40

/* One per pop3d process. */
struct pop3d {
	const struct conf *conf;
	struct event_base *base;
	struct service *service; /* listeners, graceful stop */
	struct worker_pool *workers;
	struct smtp_client_count *clients; /* connections per address */
	struct smtp_client_count *userips; /* sessions per user+address */
	struct cidr_list *plaintext_ok;    /* pop3_plaintext_auth_networks */
	struct tls_server *tls;            /* NULL: no certificate, no TLS */
	struct accounts *accounts;
	struct auth_verifier *verifier;
	struct auth_penalty *penalty; /* failed logins per client */
	struct pop3_parse_limits plimits;
	size_t nsessions;
};

/* RFC 1939 3: the states; bits, so a table row lists where a command is
 * allowed. */
enum pop3_state {
	POP3_STATE_AUTHORIZATION = 1 << 0,
	POP3_STATE_TRANSACTION = 1 << 1,
	POP3_STATE_UPDATE = 1 << 2, /* after QUIT in TRANSACTION */
	POP3_STATE_CLOSED = 1 << 3,
};

/* A RETR or TOP being sent. */
struct pop3_retr {
	int fd;
	size_t msg; /* index in the view */
	bool top;
	bool eof;     /* the file is read to its end (or TOP done) */
	bool pending; /* a read job runs */
	bool started; /* the +OK line is out */
	int err;      /* errno of a failed read, 0 */
	struct pop3_encoder enc;
	char *in, *out; /* the job's buffers */
	size_t outlen;
	uint64_t off;  /* the next byte of the file to read */
	uint64_t size; /* the file's size at open */
	uint64_t sent; /* bytes of the response body so far */
};

struct pop3_session {
	struct pop3d *srv;
	struct bufferevent *bev;
	enum listener_kind kind;
	enum pop3_state state;
	struct sockaddr_storage peer, local;
	char addr[64];  /* rip */
	char laddr[64]; /* lip */
	char session_id[20];
	bool tls;          /* the connection is encrypted */
	SSL *starttls_ssl; /* set between STLS and the +OK leaving */
	bool plaintext_ok; /* TLS, or from pop3_plaintext_auth_networks */
	bool utf8;         /* RFC 6856 3: UTF8 was given */
	/* AUTHORIZATION */
	char *user;               /* USER name, waiting for PASS */
	struct sasl_server *sasl; /* an AUTH exchange in progress */
	const char *method;       /* "PLAIN", ... of the last attempt */
	char *tried_user;         /* for the failure log line */
	unsigned auth_attempts;   /* failed ones */
	bool plaintext_refused;   /* for the disconnect log line */
	struct event *auth_timer; /* delays a -ERR [AUTH] */
	uint64_t started;         /* monotonic seconds */
	/* TRANSACTION */
	char *username;   /* logged in as */
	char *userip_key; /* counted in srv->userips */
	struct store *store;
	struct store_mailbox *mb;
	int lock_fd;            /* pop3_lock_session: the flocked Maildir */
	size_t nmsgs;           /* the view at login (RFC 1939 4) */
	uint64_t mbox_size;     /* its vsize */
	unsigned char *marks;   /* per message: POP3_MARK_* */
	struct pop3_retr *retr; /* RETR/TOP in progress */
	/* statistics for the logout line (Dovecot's shape) */
	unsigned top_count, retr_count, del_count;
	uint64_t top_bytes, retr_bytes;
	/* connection */
	bool skipping_line;       /* discarding the rest of an overlong line */
	bool busy;                /* a worker job runs: input waits */
	bool closing;             /* close once output is flushed */
	bool peer_eof;            /* the client sends no more */
	const char *close_reason; /* static text for the logout line */
	struct event *eof_event;
	int refs;        /* the connection + pending jobs */
	unsigned errors; /* for pop3_hard_error_limit */
	struct buf line; /* the current command line */
};

#define POP3_MARK_DELETED 0x01
#define POP3_MARK_RETR    0x02 /* RETR'd: \Seen at UPDATE */

/* Sends "+OK text\r\n" / "-ERR text\r\n" (text may start "[CODE] "). */
void pop3_ok(struct pop3_session *s, const char *fmt, ...) MW_PRINTF(2, 3);
void pop3_err(struct pop3_session *s, const char *fmt, ...) MW_PRINTF(2, 3);
/* Sends "+OK\r\n". */
void pop3_ok_bare(struct pop3_session *s);
/* Sends bytes as they are. */
void pop3_send(struct pop3_session *s, const void *p, size_t n);
/* Changes state; asserts the transition is legal. */
void pop3_session_set_state(struct pop3_session *s, enum pop3_state to);
/* Drops the connection once pending output is written; reason for the
 * log line ("Logged out", "Disconnected for inactivity", ...). */
void pop3_session_close(struct pop3_session *s, const char *reason);
/* A protocol error: counts it; past pop3_hard_error_limit closes. */
void pop3_session_error(struct pop3_session *s);
/* References for worker jobs (see smtp_session_hold). release returns
 * false when the session is freed; s->bev NULL says it is closed. */
void pop3_session_hold(struct pop3_session *s);
bool pop3_session_release(struct pop3_session *s);
/* Resumes processing buffered input after a job finished. */
void pop3_session_resume(struct pop3_session *s);
/* STLS: replies +OK, discards pipelined input, starts the handshake. */
void pop3_session_starttls(struct pop3_session *s);
/* Appends ", TLS" style connection facts for the login lines. */
void pop3_session_log_tail(struct pop3_session *s, struct buf *line);
/* Sets the read/write timeout: login or idle. */
void pop3_session_set_timeouts(struct pop3_session *s);

/* pop3_cmd.c: handles one complete command line. */
void pop3_cmd_dispatch(struct pop3_session *s, const char *line, size_t len);

/* pop3_auth.c */
void pop3_cmd_user(struct pop3_session *s, const struct pop3_cmd *cmd);
void pop3_cmd_pass(struct pop3_session *s, const struct pop3_cmd *cmd);
void pop3_cmd_auth(struct pop3_session *s, const struct pop3_cmd *cmd);
void pop3_cmd_apop(struct pop3_session *s, const struct pop3_cmd *cmd);
/* A response line during an AUTH exchange (s->sasl != NULL). */
void pop3_auth_line(struct pop3_session *s, const char *line, size_t len);
/* Ends an AUTH exchange in progress without a reply. */
void pop3_auth_abort(struct pop3_session *s);
/* Appends " PLAIN LOGIN ..." as CAPA's SASL line lists them now. */
void pop3_auth_mechanisms(const struct pop3_session *s, struct buf *out);
/* The login line of a failed or abandoned login, at disconnect. */
void pop3_auth_log_disconnect(struct pop3_session *s, const char *how);

/* pop3_maildrop.c: the mail store on the worker pool. */
/* Opens the maildrop of s->username and enters TRANSACTION. */
void pop3_maildrop_open(struct pop3_session *s);
/* UPDATE (RFC 1939 6): expunges the marked messages, then +OK/-ERR. */
void pop3_maildrop_update(struct pop3_session *s);
/* Closes the store and a RETR's file (on a worker: the session is being
 * freed, no job of it runs). */
void pop3_maildrop_release(struct pop3_session *s);
/* RETR n / TOP n m: streams message i. */
void pop3_retr_start(
    struct pop3_session *s, size_t i, bool top, uint64_t lines);
/* The output has drained: read on, if a RETR/TOP is in progress. */
void pop3_retr_on_drain(struct pop3_session *s);

#endif
