/*
 * Queue files: one file per accepted message under queue_directory, written
 * by smtpd (or sendmail) and read by the queue manager. A message is first
 * written under a temporary name; queue_msg_commit() makes it durable
 * (fsync file, rename into place, fsync directory: group-committed across
 * threads) and only then may the server answer 250. A file that was never
 * committed is never delivered. Layout: docs/queue.md.
 */
#ifndef QUEUE_QUEUE_FILE_H
#define QUEUE_QUEUE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/mw.h"

struct buf;

#define QUEUE_ID_MAX 32

/* The envelope of a message. Strings are owned by whoever built it. */
struct queue_env {
	char id[QUEUE_ID_MAX];
	uint64_t arrival;      /* seconds since the epoch */
	uint64_t arrival_usec; /* microseconds within that second */
	const char *sender;    /* "" for the null reverse-path <> */
	const char *const *rcpts; /* envelope recipients, normalised */
	size_t nrcpt;
	const char *client_name; /* "localhost" or "unknown" */
	const char *client_addr; /* "127.0.0.1" */
	const char *helo;        /* may be "" */
	const char *proto;       /* "SMTP", "ESMTP", "ESMTPS", "ESMTPA", ... */
	bool smtputf8;
	bool body_8bit;          /* BODY=8BITMIME */
	uint64_t size;           /* stored message bytes */
	/* RFC 3461 DSN parameters; absent when 0 / NULL */
	int dsn_ret;             /* QUEUE_DSN_RET_FULL or _HDRS */
	const char *envid;       /* ENVID, decoded (printable ASCII) */
	/* per recipient, each NULL when no recipient has one */
	const unsigned char *notify; /* QUEUE_DSN_NOTIFY_* bits; 0: none */
	const char *const *orcpt;    /* "rfc822;addr" decoded, or NULL */
};

#define QUEUE_DSN_RET_FULL       1
#define QUEUE_DSN_RET_HDRS       2
#define QUEUE_DSN_NOTIFY_NEVER   1
#define QUEUE_DSN_NOTIFY_SUCCESS 2
#define QUEUE_DSN_NOTIFY_FAILURE 4
#define QUEUE_DSN_NOTIFY_DELAY   8

struct queue_msg;

/*
 * Creates a new message file in queue_dir with a fresh unique queue ID.
 * NULL with a reason in err (an environment failure: answer 451 4.3.0).
 * Runs on the loop thread (one open(2)).
 */
struct queue_msg *queue_msg_create(const char *queue_dir, struct buf *err);
/* The queue ID (valid until queue_msg_free). */
const char *queue_msg_id(const struct queue_msg *qm);
/* Appends message bytes (stored form: LF line ends). Buffered; 0 or -1. */
int queue_msg_write(struct queue_msg *qm, const void *p, size_t n)
    MW_MUST_CHECK;
/* Message bytes written so far. */
uint64_t queue_msg_size(const struct queue_msg *qm);
/*
 * Writes the envelope (env->id and env->size are taken from qm), flushes,
 * fsyncs, renames into place and group-fsyncs the directory. BLOCKS: call
 * from a worker thread. 0 when the message is durable, -1 with errno.
 * Thread-safe across different messages.
 */
int queue_msg_commit(struct queue_msg *qm, const struct queue_env *env)
    MW_MUST_CHECK;
/* Frees; if the message was not committed, its file is removed. */
void queue_msg_free(struct queue_msg **qm);

/* Tells the queue manager that message id is ready (UNIX datagram to
 * <queue_dir>/qmgr.sock; non-blocking, best effort: the manager also scans
 * the queue). */
void queue_poke(const char *queue_dir, const char *id);
/* Asks the queue manager to retry deferred mail now (all, or for domain
 * when not NULL): `mailwright queue flush`. 0, or -1 with errno (ENOENT
 * or ECONNREFUSED: no queue manager runs). Blocking send. */
int queue_flush(const char *queue_dir, const char *domain) MW_MUST_CHECK;
/* Asks the queue manager to drop the retry schedule of message id and try
 * it now (`mailwright queue requeue`): as queue_flush. */
int queue_requeue(const char *queue_dir, const char *id) MW_MUST_CHECK;

/* Directories under queue_directory, mode 0700 but for maildrop/
 * (docs/queue.md). */
#define QUEUE_DIR_MAILDROP "maildrop" /* posted by sendmail: mode 1733 */
#define QUEUE_DIR_INCOMING "incoming" /* being written; never delivered */
#define QUEUE_DIR_ACTIVE   "active"   /* committed messages, immutable */
#define QUEUE_DIR_DEFER    "defer"    /* per-message delivery state */
#define QUEUE_DIR_HOLD	   "hold"     /* expired: kept, not delivered */
#define QUEUE_DIR_CORRUPT  "corrupt"  /* failed validation: kept for a human */
#define QUEUE_SOCKET	   "qmgr.sock"
#define QUEUE_LOCK_FILE    "qmgr.lock" /* flock()ed by the queue manager */

/* Creates queue_dir and its subdirectories where missing (mode 0700;
 * maildrop/ 1733, and queue_dir itself searchable by all, 0711, so that
 * any user's sendmail reaches maildrop/) and makes the new entries
 * durable. 0 or -1 with errno. */
int queue_dirs_create(const char *queue_dir) MW_MUST_CHECK;

/*
 * The envelope record (format version 1, docs/queue.md): text lines whose
 * values are %XX-escaped so that any byte but NUL round-trips. Encoding
 * appends to out; 0 or -1 (ENOBUFS past out->max).
 */
int queue_env_encode(const struct queue_env *env, struct buf *out)
    MW_MUST_CHECK;
/*
 * Decodes an envelope record (a pure function over n bytes). Returns one
 * allocation holding the envelope and all its strings, freed with
 * queue_env_free(); NULL with errno EBADMSG and a reason in err.
 */
struct queue_env *queue_env_decode(const char *p, size_t n, struct buf *err);
void queue_env_free(struct queue_env **env);

/*
 * Reading committed messages (the queue manager, the queue command).
 * queue_file_open() opens <queue_dir>/active/<id>; queue_file_open_path()
 * any queue file whose name is its ID. Both check the header, the trailer,
 * the sizes, the envelope checksum and that the envelope names the file's
 * ID. NULL with errno ENOENT (no such message), EBADMSG (torn or corrupt),
 * ENOTSUP (a format version this build does not know) or an I/O error, and
 * a one-line reason in err. Blocking file I/O: not on an event loop.
 */
struct queue_file;
struct queue_file *queue_file_open(const char *queue_dir, const char *id,
    struct buf *err);
struct queue_file *queue_file_open_path(const char *path, struct buf *err);
/* The envelope; owned by qf. */
const struct queue_env *queue_file_env(const struct queue_file *qf);
/* A read-only descriptor of the file (owned by qf), and where the message
 * bytes are in it: use pread() or copy_file_range() with an explicit
 * offset, never the file position, so that readers may share it. */
int queue_file_fd(const struct queue_file *qf);
uint64_t queue_file_body_offset(const struct queue_file *qf);
uint64_t queue_file_body_size(const struct queue_file *qf);
void queue_file_free(struct queue_file **qf);

#endif
