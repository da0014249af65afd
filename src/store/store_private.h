/*
 * What the files of the mail store share: the store and mailbox structs,
 * the SQLite index (store_index.c), the directory sync (store_sync.c) and
 * the helpers store.c and the CLI-facing code use. Not for use outside
 * src/store/.
 */
#ifndef STORE_STORE_PRIVATE_H
#define STORE_STORE_PRIVATE_H

#include <fcntl.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/mw.h"
#include "store/store.h"

struct buf;
struct dovecot_uidlist;
struct store_view_block;
struct store_view_snap;

/* The index file beside the Maildir directory (DESIGN.md "Storage"). */
#define STORE_INDEX_NAME "mailwright-index.db"
/* PRAGMA user_version of the schema store_index.c creates. */
#define STORE_SCHEMA_VERSION 1
/* How long a process waits for another's write transaction. */
#define STORE_BUSY_MS 10000
/* Dovecot's rule: a directory changed this recently may change again
 * within the same time stamp, so its mtime is not trusted (ns). */
#define STORE_MTIME_SLACK_NS ((int64_t)2 * 1000 * 1000 * 1000)
/* An mtime column that says "scan next time". */
#define STORE_MTIME_UNKNOWN ((int64_t)-1)
/* At most this many messages in one folder (a bound for the view and
 * for dovecot-uidlist). */
#define STORE_MAX_MESSAGES ((size_t)10 * 1000 * 1000)

enum store_stmt {
	STORE_ST_BEGIN,
	STORE_ST_COMMIT,
	STORE_ST_ROLLBACK,
	STORE_ST_MB_GET,
	STORE_ST_MB_ADD,
	STORE_ST_MB_UPDATE,
	STORE_ST_MB_LIST,
	STORE_ST_MSG_LIST, /* the view: every column, by uid */
	STORE_ST_MSG_SCAN, /* what the sync compares: uid, base, file */
	STORE_ST_MSG_GET,  /* one message by uid */
	STORE_ST_MSG_ADD,
	STORE_ST_MSG_SET_FILE,
	STORE_ST_MSG_SET_FLAGS,
	STORE_ST_MSG_SET_SIZES,
	STORE_ST_MSG_DEL,
	STORE_ST_KW_ADD,
	STORE_ST_KW_LIST,
	STORE_ST_MB_EMPTY,  /* delete a folder's messages (keeps the row) */
	STORE_ST_KW_EMPTY,  /* and its keywords */
	STORE_ST_MB_RENAME, /* name ?1 becomes ?2 */
	STORE_ST_MB_DEL,    /* a row by name, with nothing in it */
	STORE_ST_MB_MAXVAL, /* the highest UIDVALIDITY of any row */
	STORE_ST_MB_STATUS, /* counts and sizes for STATUS */
	STORE_ST_MSG_HAS_BASE,
	STORE_ST_MIME_GET,   /* a message's structure blob */
	STORE_ST_MIME_PUT,   /* (or replace) one, if its message exists */
	STORE_ST_MIME_DEL,   /* one message's */
	STORE_ST_MIME_EMPTY, /* a folder's */
	STORE_ST_RECENT_GET, /* a folder's \Recent watermark */
	STORE_ST_RECENT_SET,
	STORE_ST_RECENT_DEL,
	STORE_ST_MB_RECENT, /* messages with uid >= ?2 */
	STORE_ST_MIME_RUN,  /* a folder's blobs from uid ?2 up (store_tree.c) */
	STORE_ST_COUNT
};

/* A file: device, inode, birth time (store_index_checked.c). */
struct store_file_id {
	uint64_t dev, ino;
	int64_t btime_ns; /* birth time, 0 where the file system has none */
};

struct store {
	char *maildir;    /* the Maildir directory */
	bool damaged;     /* a statement met SQLITE_CORRUPT (store_dberr):
	                     store_mailbox_open recovers and tries again */
	char *index_path; /* <maildir>/../mailwright-index.db */
	sqlite3 *db;      /* NULL after store_sleep: use store_db() */
	sqlite3_stmt *st[STORE_ST_COUNT];
	char *wake_err;   /* why the last reopen failed (store_dberr), */
	int wake_errno;   /* and its errno */
	struct store_file_id index_id; /* (the view cache's key) */
	dev_t index_dev;  /* the file opened: another process that */
	ino_t index_ino;  /* replaced it (recovery) makes us reopen */
	size_t mailboxes; /* open mailboxes (must be 0 at close) */
	/* store_msg_tree's run of reads (store_tree.c): one read
	 * transaction and one cursor (STORE_ST_MIME_RUN) over the mime rows
	 * of run_mb in uid order while the calls go up */
	struct store_mailbox *run_mb; /* NULL: no run */
	bool run_txn;                 /* the BEGIN was the run's */
	bool run_have;                /* the cursor is on a row, of */
	uint32_t run_uid;             /* this uid; */
	uint32_t run_lo;              /* no row in [run_lo, run_uid) (or
	                                 above run_lo when !run_have) */
	size_t run_calls;
};

/* A mailboxes row. */
struct store_mb_row {
	int64_t id;
	uint32_t uidvalidity, uidnext;
	uint64_t highestmodseq;
	int64_t cur_mtime, new_mtime; /* ns, or STORE_MTIME_UNKNOWN */
	uint64_t gen;                 /* +1 by each change of its messages */
};

/* A parsed structure waiting for store_mailbox_flush() (store_tree.c). */
struct store_tree_pending {
	uint32_t uid;
	char *blob; /* mime_tree_encode() */
	size_t len;
};

/* Private per-message state, parallel to the view. */
struct store_msg_file {
	char *file;  /* the current name in cur/ (or new/): in the view's
	                arena, or malloc'd when own (renamed since) */
	bool in_new; /* read-only sessions leave new/ files there */
	bool own;
};

/* Message i's file is now file (malloc'd, taken over) in new/ or cur/. */
void store_msg_file_set(
    struct store_mailbox *mb, size_t i, char *file, bool in_new);
/* store.c: (re)reads the names of the folder's keywords from the index. */
void store_keywords_load(struct store_mailbox *mb);
/* Frees f's name when it is its own (a view entry that goes). */
void store_msg_file_release(struct store_mailbox *mb, struct store_msg_file *f);
/* Makes the view's arrays mb's own to change (a copy of the snapshot's
 * when they were shared) and returns them. */
struct store_msg *store_view_own(struct store_mailbox *mb,
    struct store_msg_file **f_out);

struct store_mailbox {
	struct store *st;
	char *name;       /* "INBOX" or the folder name */
	char *dir;        /* the folder directory */
	int curfd, newfd; /* its cur/ and new/ (O_DIRECTORY|O_NOFOLLOW) */
	bool read_only;
	bool index_only; /* the sync updates the index, builds no view */
	struct store_mb_row row; /* as of the view's last load */
	bool loaded;             /* the view was loaded once */
	/* the directories' mtimes this handle's last scan ended with (in
	 * memory only: store_mailbox_sync_quick trusts them) */
	int64_t seen_cur_mtime, seen_new_mtime;
	/* the view: its own arrays, or (shared) its snapshot's until a
	 * change needs them writable (store_view_own) */
	const struct store_msg *v;
	const struct store_msg_file *f;
	size_t n;
	bool shared;
	size_t nown; /* entries of f that own their names */
	struct store_view_block *arena; /* the view's strings (UIDLs and
	                                   file names, store_view.c), */
	struct store_view_snap *snap;   /* or its snapshot's */
	char *keywords[STORE_MAX_KEYWORDS];
	size_t *sync_expunged; /* store_sync_result's arrays */
	size_t *sync_changed;
	struct store_tree_pending *tp; /* trees not yet in the index */
	size_t tp_n, tp_cap, tp_bytes;
	uint32_t tp_max_uid; /* the highest UID in tp (0: none) */
	size_t trees_parsed; /* files store_msg_tree() parsed (tests) */
};

/* How the store opens directories: never through a symlink. */
#define STORE_DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

/* store_folder.c, for store_folder_rename.c: the folder directories of
 * the Maildir as names (unsorted, no INBOX, no levels without a
 * directory), and emptying a folder's index rows (all: the row goes). */
struct store_folder_list;
int store_folder_scan(struct store *st, struct store_folder_list *l,
    size_t *cap, bool first_only, struct buf *err) MW_MUST_CHECK;
int store_folder_rows_empty(struct store *st, const char *name, bool all,
    struct buf *err) MW_MUST_CHECK;

/* Sets err to the formatted reason (err may be NULL). */
void store_seterr(struct buf *err, const char *fmt, ...) MW_PRINTF(2, 3);
/* "index PATH: what: sqlite message", errno EIO (EAGAIN when busy). */
int store_dberr(struct store *st, struct buf *err, const char *what);

/* store_tree.c: the parsed trees kept since the last flush are written
 * (store_mailbox_flush) or dropped; close and sync call these. A failed
 * flush is only logged: the trees are a cache. */
void store_tree_flush_quiet(struct store_mailbox *mb);
void store_tree_pending_free(struct store_mailbox *mb);
/* Ends store_msg_tree's run of reads (its cursor and read transaction),
 * if any: before any other statement, a transaction of the caller's,
 * store_shrink, store_sleep and closing the connection. */
void store_tree_run_end(struct store *st);

/* store_index.c: opening (with recovery), statements, rows. */
int store_index_open(struct store *st, struct buf *err) MW_MUST_CHECK;
void store_index_close(struct store *st);
/* Closes the connection (store_sleep); store_db opens it again. */
void store_index_sleep(struct store *st);
/* Copies what can be read of the damaged index at aside into the new,
 * empty one (store_salvage.c). Failures only mean less is kept. */
void store_salvage(struct store *st, const char *aside);
/* Closes the index and opens it again with every check, as after
 * damage found in use: a file that fails them is moved aside and
 * salvaged. 0 or -1. */
int store_index_recover(struct store *st, struct buf *err) MW_MUST_CHECK;

/* store_index_checked.c: the index files this process has checked
 * (PRAGMA quick_check), so that store_open checks each only once. */
/* The id of the file at path (not following a symlink). 0 or -1. */
int store_file_id_of(const char *path, struct store_file_id *id_out);
bool store_index_checked_has(const struct store_file_id *id);
void store_index_checked_add(const struct store_file_id *id);
/* Forgets every file: after damage, and for tests that damage a file in
 * place as if another process (or a disk) had. */
void store_index_checked_reset(void);
/* Reopens the index when its file was replaced or removed since it was
 * opened (another process recovered it, an admin deleted it). 0 or -1. */
int store_index_recheck(struct store *st, struct buf *err) MW_MUST_CHECK;
/* The index connection, opened again when store_sleep closed it (the
 * settings of store_index_open, none of its checks); NULL when that
 * failed, and store_dberr then gives the reason. Everything outside the
 * opening code goes through here (or store_stmt) rather than st->db. */
sqlite3 *store_db(struct store *st);
/* The SQL of each statement (store_index.c). */
extern const char *const store_sql[STORE_ST_COUNT];
/* Reset statement id, bound to nothing: the caller binds and steps;
 * NULL when it does not prepare or the index does not reopen. */
sqlite3_stmt *store_stmt(struct store *st, enum store_stmt id);
/* Steps a statement that returns no rows; resets it. 0 or -1. */
int store_step_done(sqlite3_stmt *s) MW_MUST_CHECK;
int store_begin(struct store *st, struct buf *err) MW_MUST_CHECK;
int store_commit(struct store *st, struct buf *err) MW_MUST_CHECK;
void store_rollback(struct store *st);
/* The row of mailbox name: 1 found, 0 none, -1 error. */
int store_mb_get(struct store *st, const char *name, struct store_mb_row *row,
    struct buf *err) MW_MUST_CHECK;
int store_mb_add(struct store *st, const char *name, struct store_mb_row *row,
    struct buf *err) MW_MUST_CHECK;
int store_mb_update(struct store *st, const struct store_mb_row *row,
    struct buf *err) MW_MUST_CHECK;
/* The \Recent watermark of folder id (RFC 3501 2.3.2): the first UID no
 * session has taken as recent; a folder with none set (an index older
 * than the watermark) has dflt. 0 or -1. */
int store_recent_get(struct store *st, int64_t id, uint32_t dflt,
    uint32_t *first_out, struct buf *err) MW_MUST_CHECK;
int store_recent_set(struct store *st, int64_t id, uint32_t first,
    struct buf *err) MW_MUST_CHECK;
/* Deletes the structure rows of folder id (and with all, its watermark
 * too): for a folder emptied or dropped. 0 or -1. */
int store_folder_rows_drop(
    struct store *st, int64_t id, bool all, struct buf *err) MW_MUST_CHECK;

/* The POP3 UIDL derived from a base name (store_index.c): the base when
 * it is 1..70 bytes of 0x21..0x7E, else 40 hex digits of its SHA-256.
 * out must hold 71 bytes. */
void store_uidl_of_base(const char *base, size_t len, char out[71]);
/* Dovecot's default pop3_uidl_format "%08Xu%08Xv": lower-case hex. */
void store_uidl_dovecot(uint32_t uid, uint32_t uidvalidity, char out[71]);
bool store_uidl_ok(const char *s, size_t len);

/* Opens the mailbox of canonical name (store.c): index_only for STATUS. */
int store_mailbox_open_mode(struct store *st, const char *name, bool read_only,
    bool index_only, struct store_mailbox **mb_out,
    struct buf *err) MW_MUST_CHECK;
/* The directory of canonical folder name (malloc'd), or NULL with EINVAL
 * and a reason; *canon_out (may be NULL) gets the canonical name. */
char *store_folder_dir(
    struct store *st, const char *name, char **canon_out, struct buf *err);
/* Whether the Maildir has any folder directory besides INBOX. 0 or -1. */
int store_folder_any(
    struct store *st, bool *any_out, struct buf *err) MW_MUST_CHECK;
/* A name no other process picks for a file or a directory (Dovecot's
 * "<sec>.M<usec>P<pid>Q<n>.<host>"), appended to out. */
int store_unique_name(struct buf *out) MW_MUST_CHECK;
/* store_append.c: the folder's row under the write lock (ENOENT when it
 * vanished), and the row of a file just linked into cur/ (next UID). */
int store_append_row_get(struct store_mailbox *mb, struct store_mb_row *row,
    struct buf *err) MW_MUST_CHECK;
int store_append_row(struct store_mailbox *mb, struct store_mb_row *row,
    const char *base, const char *file, uint64_t psize, uint64_t vsize,
    uint32_t flags, uint32_t keywords, int64_t date, uint32_t *uid_out,
    struct buf *err) MW_MUST_CHECK;
/* Reads file name of the folder into b: 1 read, 0 absent, -1 error. */
int store_read_folder_file(
    struct store_mailbox *mb, const char *name, struct buf *b) MW_MUST_CHECK;

/* store_sync.c. force: scan even when the mtimes match, and recompute
 * the sizes of known messages (store_index_rebuild). quick: mtimes equal
 * to the ones this handle's last scan ended with are trusted, even
 * within the 2 s in which the index does not trust them. */
int store_sync_run(struct store_mailbox *mb, bool force, bool quick,
    struct store_sync_result *res, struct buf *err) MW_MUST_CHECK;
/* store_view.c. Frees the view (at close). */
void store_view_clear(struct store_mailbox *mb);
/* The view cache (store_view.c): folders from this many messages are
 * kept, at most this many messages in all; hits so far (tests). */
extern size_t store_view_cache_min, store_view_cache_max_msgs;
extern size_t store_view_cache_hits;
/* store_tree.c: trees kept before store_msg_tree() flushes by itself
 * (4 MiB of them flush sooner); tests make it small. */
extern size_t store_tree_batch;
/* Empties it (tests; views keep what they use). */
void store_view_cache_clear(void);
/* Reloads the view from the index when its generation changed. */
int store_view_load(struct store_mailbox *mb, struct store_sync_result *res,
    struct buf *err) MW_MUST_CHECK;
/* Looks in cur/ and new/ for a file with base: 1 found (*file_out
 * malloc'd, *in_new_out), 0 none, -1 error. */
int store_find_base(struct store_mailbox *mb, const char *base, size_t base_len,
    char **file_out, bool *in_new_out) MW_MUST_CHECK;
/* The size of fd's contents with every bare LF counted as CRLF. */
int store_count_vsize(int fd, uint64_t *vsize_out) MW_MUST_CHECK;
/* CLOCK_REALTIME in ns. */
int64_t store_now_ns(void);
/* The first sync of a folder with no rows: dovecot-uidlist and
 * dovecot-keywords (store_dovecot.c). */
int store_dovecot_import(struct store_mailbox *mb, struct store_mb_row *row,
    struct dovecot_uidlist **ul_out, struct buf *err) MW_MUST_CHECK;

#endif
