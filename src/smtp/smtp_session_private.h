/*
 * Internals shared by the files of the SMTP server: the server (one per
 * smtpd process), the session state machine, the mail transaction, and
 * the functions the command handlers and the data receiver call.
 */
#ifndef SMTP_SMTP_SESSION_PRIVATE_H
#define SMTP_SMTP_SESSION_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "lib/buf.h"
#include "lib/net.h"
#include "smtp/smtp_data.h"
#include "smtp/smtp_parse.h"

struct bufferevent;
struct cidr_list;
struct conf;
struct event_base;
struct queue_msg;
struct resolver;
struct router;
struct dns_resolver;
struct worker_pool;
struct smtp_client_count;
struct tls_server;
struct accounts;
struct smtp_policy;
struct restrict_reply;
struct auth_verifier;
struct auth_penalty;
struct sasl_server;
struct service;
struct event;
typedef struct ssl_st SSL;

/* RFC 4954 4: servers must take AUTH lines of at least 12288 octets. */
#define SMTP_AUTH_LINE_MAX 12288

/* One per smtpd process. */
struct smtpd {
	const struct conf *conf;
	struct event_base *base;
	struct service *service; /* listeners, graceful stop */
	struct worker_pool *workers;
	/* restriction checks (MAIL, RCPT, DATA): workers, or a pool of
	 * their own when they may wait for DNS, so that a slow name server
	 * never holds up the commits and logins queued on workers */
	struct worker_pool *policy_workers;
	struct dns_resolver *dns; /* NULL: no restriction needs DNS */
	struct resolver *resolver;
	struct router *router; /* relay_domains */
	struct cidr_list *mynetworks;
	struct smtp_parse_limits plimits;
	struct smtp_client_count *clients; /* connections per client address */
	struct tls_server *tls; /* NULL: no certificate, no TLS */
	struct accounts *accounts;      /* for AUTH */
	struct auth_verifier *verifier; /* NULL: no AUTH */
	struct auth_penalty *penalty;   /* failed AUTH per client */
	struct smtp_policy *policy;     /* restriction lists */
	size_t nsessions;
	char *banner; /* "220 " + smtpd_banner, expanded */
};

/* States are bits so a command table row can list where it is allowed. */
enum smtp_state {
	SMTP_STATE_CONNECTED = 1 << 0, /* greeted, no HELO/EHLO yet */
	SMTP_STATE_READY = 1 << 1,     /* HELO/EHLO done, no transaction */
	SMTP_STATE_MAIL = 1 << 2,      /* MAIL accepted, no recipient yet */
	SMTP_STATE_RCPT = 1 << 3,      /* at least one recipient */
	SMTP_STATE_DATA = 1 << 4,      /* reading a DATA body */
	SMTP_STATE_BDAT = 1 << 5,      /* between/inside BDAT chunks */
	SMTP_STATE_CLOSED = 1 << 6,    /* QUIT sent, or dropping */
};

/* Command counters for the disconnect line (Postfix's shape). */
enum smtp_counter {
	SMTP_CNT_EHLO, SMTP_CNT_HELO, SMTP_CNT_MAIL, SMTP_CNT_RCPT,
	SMTP_CNT_DATA, SMTP_CNT_BDAT, SMTP_CNT_RSET, SMTP_CNT_NOOP,
	SMTP_CNT_QUIT, SMTP_CNT_VRFY, SMTP_CNT_EXPN, SMTP_CNT_HELP,
	SMTP_CNT_STARTTLS, SMTP_CNT_AUTH, SMTP_CNT_UNKNOWN, SMTP_CNT_MAX,
};

/* A mail transaction: from MAIL to the end of DATA/BDAT LAST or RSET. */
struct smtp_tx {
	struct queue_msg *qm;
	char *sender; /* "" for <> */
	char **rcpts;
	size_t nrcpt, rcpt_cap;
	uint64_t declared_size; /* SIZE=, 0 if absent */
	bool smtputf8;
	bool body_8bit;
	/* RFC 3461 DSN parameters */
	int dsn_ret;            /* QUEUE_DSN_RET_*, 0 if absent */
	char *envid;            /* decoded ENVID, NULL if absent */
	unsigned char *notify;  /* per recipient, parallel to rcpts */
	char **orcpt;           /* per recipient "type;addr" or NULL */
	/* body reception */
	struct smtp_data dec;
	struct buf out;      /* decoder output staged for the queue file */
	bool too_big;        /* message_size_limit passed: answer 552 */
	bool write_failed;   /* queue file write failed: answer 451 */
	bool bdat_seen;      /* BDAT used: DATA is now out of sequence */
	bool bdat_failed;    /* a chunk was refused: discard the rest */
	uint64_t bdat_left;  /* bytes of the current chunk still to read */
	uint64_t bdat_total; /* octets received in all chunks so far */
	bool bdat_last;      /* the current chunk is the last */
	bool in_chunk;       /* reading chunk bytes */
};

struct smtp_session {
	struct smtpd *srv;
	struct bufferevent *bev;
	enum listener_kind kind;
	enum smtp_state state;
	struct sockaddr_storage peer;
	char addr[64];  /* "127.0.0.1" */
	char name[64];  /* "localhost" or "unknown" */
	char *helo;
	bool esmtp;
	/* the client sent commands ahead where RFC 2920 does not allow it
	 * (smtp_cmd_dispatch); for reject_unauth_pipelining */
	bool ill_pipelining;
	bool tls;           /* the connection is encrypted */
	bool tls_required;  /* level encrypt: no mail before STARTTLS */
	bool tls_offered;   /* STARTTLS may be used (not yet TLS) */
	SSL *starttls_ssl;  /* set between STARTTLS and the 220 leaving */
	struct sasl_server *sasl; /* an AUTH exchange is in progress */
	char *sasl_username;      /* after a successful AUTH */
	const char *sasl_method;
	struct event *auth_timer; /* delays a 535 */
	bool in_mynetworks;
	bool skipping_line; /* discarding the rest of an overlong line */
	bool busy;          /* a worker job runs: input waits */
	bool closing;       /* close once output is flushed */
	bool peer_eof;      /* the client sends no more: FIN, close_notify */
	struct event *eof_event; /* acts on peer_eof, after libevent */
	int refs;           /* the connection + pending jobs */
	unsigned errors;    /* for smtpd_hard_error_limit */
	uint64_t discard_left; /* bytes of a refused BDAT chunk to skip */
	unsigned cnt[SMTP_CNT_MAX][2]; /* [n][0] ok, [n][1] total */
	struct smtp_tx *tx;
	struct buf line; /* the current command line */
};

/* Sends "code enh text\r\n". enh may be NULL (e.g. 220, 221, 354). */
void smtp_reply(struct smtp_session *s, int code, const char *enh,
    const char *fmt, ...) MW_PRINTF(4, 5);
/* Sends raw, already formatted reply text. */
void smtp_reply_raw(struct smtp_session *s, const char *text, size_t len);

/* smtp_cmd_dsn.c: RET/ENVID of MAIL and NOTIFY/ORCPT of RCPT (RFC 3461),
 * decoded into malloc'd values; -1 after a 501 reply. */
struct smtp_mail_params;
struct smtp_rcpt_params;
int smtp_mail_dsn(struct smtp_session *s,
    const struct smtp_mail_params *params, int *ret_out, char **envid_out);
int smtp_rcpt_dsn(struct smtp_session *s,
    const struct smtp_rcpt_params *params, unsigned char *notify_out,
    char **orcpt_out);
/* Counts a command; ok false marks it as failed in the disconnect line. */
void smtp_session_count(struct smtp_session *s, enum smtp_counter c, bool ok);
/* Changes state; asserts the transition is legal. */
void smtp_session_set_state(struct smtp_session *s, enum smtp_state to);
/* Drops the connection once pending output is written; logs disconnect. */
void smtp_session_close(struct smtp_session *s, const char *reason);
/* A protocol error: counts it; past smtpd_hard_error_limit closes. */
void smtp_session_error(struct smtp_session *s);
/* Takes a reference for a worker job, and gives it back in done. Returns
 * false when the session was closed meanwhile (then do not touch it
 * again beyond this call). */
void smtp_session_hold(struct smtp_session *s);
bool smtp_session_release(struct smtp_session *s);
/* Resumes processing buffered input after a job finished. */
void smtp_session_resume(struct smtp_session *s);
/* "host[addr]" for logs (static buffer per session call). */
const char *smtp_session_peer(const struct smtp_session *s);
/* The ID for log lines: the queue ID or "NOQUEUE". */
const char *smtp_session_logid(const struct smtp_session *s);

/* Transactions. */
void smtp_tx_free(struct smtp_tx **tx);
/* Ends the transaction (RSET, EHLO, end of DATA). */
void smtp_session_reset_tx(struct smtp_session *s);

/* STARTTLS: replies 220, discards pipelined input, starts the handshake. */
void smtp_session_starttls(struct smtp_session *s);
/* Appends "TLSv1.3 with cipher ..." for the Received: header. */
void smtp_session_tls_describe(struct smtp_session *s, struct buf *out);

/* Refusals, answered and logged in Postfix's shape (smtp_reject.c). */
void smtp_log_reject(struct smtp_session *s, const char *cmd, const char *rcpt,
    int code, const char *enh, const char *text);
/* Answers a REJECT or DEFER of the restriction lists, and logs it. */
void smtp_reply_restriction(struct smtp_session *s, const char *cmd,
    const char *rcpt, const struct restrict_reply *r);
/* Logs what warn_if_reject kept from refusing ("reject_warning"). */
void smtp_log_warnings(struct smtp_session *s, const char *cmd,
    const char *rcpt, const struct restrict_reply *r);

/* SMTP AUTH (smtp_auth.c). */
bool smtp_auth_offered(const struct smtp_session *s);
void smtp_auth_mechanisms(const struct smtp_session *s, struct buf *out);
void smtp_cmd_auth(struct smtp_session *s, const struct smtp_cmd *cmd);
/* A response line during an AUTH exchange (s->sasl != NULL). */
void smtp_auth_line(struct smtp_session *s, const char *line, size_t len);
/* Ends an AUTH exchange in progress, if any, without a reply. */
void smtp_auth_abort(struct smtp_session *s);

/* Restriction lists (smtp_policy.c). The stage is a restrict_stage. */
int smtp_policy_init(struct smtpd *srv, struct buf *err);
void smtp_policy_free(struct smtpd *srv);
/* Evaluates the lists of stage; blocks (worker thread). Returns a
 * restrict_verdict: REJECT/DEFER with the reply in out. */
int smtp_policy_eval(struct smtp_session *s, int stage, const char *sender,
    const char *recipient, struct restrict_reply *out);
/* Whether stage has anything to evaluate (else skip the job). */
bool smtp_policy_needed(const struct smtp_session *s, int stage);
/* True when a restriction looks names up in DNS. */
bool smtp_policy_needs_dns(const struct smtpd *srv);

/* Command dispatch: handles one complete command line. */
void smtp_cmd_dispatch(struct smtp_session *s, const char *line, size_t len);

/* Body reception (smtp_receive.c). */
void smtp_receive_start_data(struct smtp_session *s);
/* Consumes body bytes from input; returns bytes used. */
size_t smtp_receive_data(struct smtp_session *s, const char *p, size_t n);
void smtp_receive_start_bdat(struct smtp_session *s, uint64_t size,
    bool last);
size_t smtp_receive_bdat(struct smtp_session *s, const char *p, size_t n);

#endif
