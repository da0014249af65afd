/*
 * Internals shared by the files of the IMAP server: the server (one per
 * imapd process), the session, and what command handlers call.
 * imap_session.c owns the connection and the command reader, imap_cmd.c
 * the dispatch and the commands of any state, imap_auth.c the login,
 * imap_job.c the mail store jobs on the worker pool, imap_cmd_*.c the
 * commands by group.
 *
 * Threads: the session lives on the loop thread. Everything that touches
 * the mail store runs in a job on a worker (one job per session at a
 * time: s->busy), which builds its untagged and tagged replies into the
 * job's buffer; the loop sends them when the job is done. While a job
 * runs the loop reads no commands, so the command being answered (owned
 * by the reader) stays valid for the job.
 */
#ifndef IMAP_IMAP_SESSION_PRIVATE_H
#define IMAP_IMAP_SESSION_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "imap/imap_command.h"
#include "imap/imap_parse.h"
#include "lib/buf.h"
#include "lib/net.h"

struct accounts;
struct auth_penalty;
struct auth_verifier;
struct bufferevent;
struct cidr_list;
struct conf;
struct event;
struct event_base;
struct imap_job;
struct sasl_server;
struct service;
struct smtp_client_count;
struct store;
struct store_defaults;
struct store_mailbox;
struct tls_server;
struct worker_pool;
typedef struct ssl_st SSL;

/* AUTHENTICATE responses may be long (as SMTP's 12288). */
#define IMAP_AUTH_LINE_MAX 12288
/* Output a job writes before it lets the loop send it (FETCH in pieces). */
#define IMAP_JOB_OUT_CHUNK (256 * 1024)

/* One per imapd process. */
struct imapd {
	const struct conf *conf;
	struct event_base *base;
	struct service *service;
	struct worker_pool *workers;
	struct smtp_client_count *clients; /* connections per address */
	struct smtp_client_count *userips; /* sessions per user+address */
	struct cidr_list *plaintext_ok;    /* imap_plaintext_auth_networks */
	struct tls_server *tls;            /* NULL: no certificate, no TLS */
	struct accounts *accounts;
	struct auth_verifier *verifier;
	struct auth_penalty *penalty;
	struct store_defaults *defaults; /* mail_special_use_folders */
	struct imap_limits limits;
	uint64_t append_limit; /* RFC 7889 APPENDLIMIT */
	char sep;              /* imap_hierarchy_separator */
	size_t nsessions;
	/* IDLE: one inotify descriptor for every session (imap_watch.c);
	 * inotify_fd is valid while inotify_event is not NULL */
	int inotify_fd;
	struct event *inotify_event;
	struct imap_watch *watches;
	size_t nwatches, watches_cap;
};

/* A session watching a directory (imap_watch.c). */
struct imap_watch {
	int wd;
	struct imap_session *s;
};

/* RFC 9051 3: the states, as bits so that a table row lists where a
 * command is allowed. */
enum imap_state {
	IMAP_STATE_NOT_AUTH = 1 << 0,
	IMAP_STATE_AUTH = 1 << 1,
	IMAP_STATE_SELECTED = 1 << 2,
	IMAP_STATE_LOGOUT = 1 << 3,
};

/* One message of an APPEND, streamed to an unnamed temporary file. */
struct imap_append_file {
	int fd;        /* -1 when it could not be opened (err says why) */
	uint64_t size; /* as announced */
	uint64_t got;  /* octets received */
	int err;       /* errno of a failed open or write: the APPEND fails */
	bool cr;       /* the last chunk ended in CR, not written yet */
};

struct imap_session {
	struct imapd *srv;
	struct bufferevent *bev;
	enum listener_kind kind;
	enum imap_state state;
	struct sockaddr_storage peer, local;
	char addr[64];  /* rip */
	char laddr[64]; /* lip */
	char session_id[20];
	bool tls;          /* the connection is encrypted */
	SSL *starttls_ssl; /* set between STARTTLS and its OK leaving */
	bool plaintext_ok; /* TLS, or from imap_plaintext_auth_networks */
	struct imap_reader *reader;
	struct imap_parse_opts opts;
	/* ENABLE (RFC 5161) */
	bool rev2;   /* IMAP4rev2 */
	bool utf8_accept; /* UTF8=ACCEPT (RFC 6855) */
	bool utf8; /* UTF8=ACCEPT or IMAP4rev2: UTF-8 names and strings */
	/* login */
	struct sasl_server *sasl; /* an AUTHENTICATE in progress */
	/* the tag of a command answered after the reader moved on (LOGIN,
	 * AUTHENTICATE, IDLE): imap_session_tag() prefers it to s->cmd's */
	char *held_tag;
	const char *method;
	char *tried_user;
	unsigned auth_attempts;
	bool plaintext_refused;
	struct event *auth_timer;
	uint64_t started; /* monotonic seconds */
	/* authenticated */
	char *username;
	char *userip_key;
	char *maildir;
	struct store *store;
	/* selected */
	struct store_mailbox *mb;
	char *mbox_name; /* UTF-8, "/" between levels (the store's form) */
	bool read_only;
	uint32_t first_recent_uid; /* rev1 \Recent: UIDs from here */
	uint32_t exists;           /* EXISTS the client was told */
	/* the message literals of an APPEND being received, in order */
	struct imap_append_file *appends;
	size_t nappends;
	/* IDLE (RFC 2177) */
	bool idling;
	bool watching;             /* in srv->watches (the selected mailbox) */
	int watch_wd[2];           /* its new/ and cur/ on srv->inotify_fd */
	struct event *watch_event; /* deferred: sync again after a job */
	bool watch_pending; /* a change came while a job ran */
	/* RFC 5182 SEARCHRES "$": the UIDs of the last SEARCH ... SAVE */
	struct imap_range *saved_uids;
	size_t nsaved;
	/* the command being answered */
	const struct imap_command *cmd;
	struct imap_job *job;
	/* connection */
	bool busy;    /* a job runs or a reply is delayed: input waits */
	bool closing; /* close once output is flushed */
	bool peer_eof;
	bool output_wait; /* a job's next step waits for the output */
	bool closing_after_job; /* a job wrote BYE: close once it is sent */
	const char *close_reason;
	struct event *eof_event;
	struct event *sleep_timer; /* puts an idle store to sleep */
	int refs;
	unsigned errors;
	uint64_t in_bytes, out_bytes; /* for the logout line */
};

/* Longest tag copied for a reply (the reader bounds it by the line). */
#define IMAP_TAG_COPY_MAX 1024

/* Sends bytes as they are (counted for the logout line). */
void imap_send(struct imap_session *s, const void *p, size_t n);
/* Sends a printf-formatted line; CRLF is added. */
void imap_sendf(struct imap_session *s, const char *fmt, ...) MW_PRINTF(2, 3);
/* "tag OK|NO|BAD text" for the command being answered. */
void imap_tagged(struct imap_session *s, const char *status,
    const char *fmt, ...) MW_PRINTF(3, 4);
/* The tag of the command being answered ("*" when none) into out. */
void imap_session_tag(struct imap_session *s, char *out, size_t size);
/* Drops the connection once output is written; reason for the log. */
void imap_session_close(struct imap_session *s, const char *reason);
/* A protocol error: counts it; past imap_hard_error_limit closes. */
void imap_session_error(struct imap_session *s);
void imap_session_hold(struct imap_session *s);
/* false when the session was freed; s->bev NULL: closed. */
bool imap_session_release(struct imap_session *s);
/* Resumes reading commands after a job or a delay. */
void imap_session_resume(struct imap_session *s);
/* STARTTLS: OK, then the handshake once it left. */
void imap_session_starttls(struct imap_session *s);
void imap_session_set_timeouts(struct imap_session *s);
/* Reader options after ENABLE or TLS. */
void imap_session_update_opts(struct imap_session *s);
/* ", TLS, session=<...>" tail of the login lines. */
void imap_session_log_tail(struct imap_session *s, struct buf *line);
/* Output waiting to be sent. */
size_t imap_session_outlen(struct imap_session *s);

/* imap_cmd.c */
void imap_cmd_dispatch(struct imap_session *s, const struct imap_command *c);
/* The CAPABILITY list for the state, without "* CAPABILITY ". */
void imap_capabilities(struct imap_session *s, struct buf *out);

/* imap_cmd_append.c: the APPEND message literals as they arrive. */
/* A message literal is announced: checks state and size, opens its
 * temporary file; -1 when refused (then answered). */
int imap_append_literal(
    struct imap_session *s, const struct imap_literal_info *li);
void imap_append_data(
    struct imap_session *s, struct imap_slice chunk, bool last);
/* Closes the temporary files of an APPEND that will not happen. */
void imap_append_discard(struct imap_session *s);

/* imap_cmd_idle.c */
/* A line in IDLE: DONE ends it (RFC 2177 3). */
void imap_idle_line(struct imap_session *s, struct imap_slice line);
/* Stops watching the mailbox (IDLE over, or the session ends). */
void imap_idle_stop_watch(struct imap_session *s);

/* imap_watch.c: the selected mailbox of IDLE sessions watched on the
 * process's one inotify descriptor (the kernel grants a user only
 * fs.inotify.max_user_instances of them). On the loop, while no job of
 * the session runs. */
/* Watches s->mb; each change then calls imap_idle_notify(s). 0, or -1
 * with errno and a reason in err. */
int imap_watch_add(struct imap_session *s, struct buf *err);
/* Stops watching for s (nothing when it does not watch). */
void imap_watch_remove(struct imap_session *s);
/* imap_cmd_idle.c: the watched mailbox of s changed. */
void imap_idle_notify(struct imap_session *s);

/* imap_auth.c */
void imap_cmd_login(struct imap_session *s, const struct imap_command *c);
void imap_cmd_authenticate(
    struct imap_session *s, const struct imap_command *c);
void imap_auth_line(struct imap_session *s, struct imap_slice line);
void imap_auth_abort(struct imap_session *s);
void imap_auth_log_disconnect(struct imap_session *s, const char *how);
/* Appends " AUTH=PLAIN ..." for the capabilities. */
void imap_auth_capabilities(const struct imap_session *s, struct buf *out);

#endif
