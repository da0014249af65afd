/*
 * The mail store: one user's Maildir++ and its index. POP3, IMAP and the
 * admin CLI use this interface; local delivery writes through maildir.h
 * (same module). Nothing outside src/store/ knows the on-disk layout.
 *
 * Layout (DESIGN.md "Storage"):
 *   <maildir>/{cur,new,tmp}            INBOX
 *   <maildir>/.<Folder>/{cur,new,tmp}  Maildir++ folders (IMAP): the
 *                                      name in modified UTF-7, "." between
 *                                      levels, and a maildirfolder file
 *   <maildir>/subscriptions            IMAP subscriptions (Dovecot's file)
 *   <maildir>/../mailwright-index.db   the per-user index (SQLite, WAL)
 *
 * The Maildir is the truth for content; the index caches what Maildir
 * cannot hold or what is slow to get (UIDs, UIDVALIDITY, the CRLF size,
 * modification sequences, keywords, the parsed MIME structure, the
 * \Recent watermark) and is rebuilt from the Maildir when missing or
 * corrupt. Where dovecot-uidlist exists in a folder the index takes
 * UIDVALIDITY, the next UID, the UIDs and the POP3 UIDLs from it the
 * first time it sees that folder.
 *
 * A mailbox handle gives a numbered view of the folder (index 0..count-1
 * in ascending UID order, POP3 message number = index + 1, IMAP sequence
 * number = index + 1). The view changes only in store_mailbox_sync() and
 * store_mailbox_expunge(), never behind the caller's back; messages other
 * sessions add or remove show up at the caller's next sync.
 *
 * Several processes (pop3d, imapd, the queue, the CLI) may use one store
 * at once: changes are SQLite transactions and atomic renames, so nothing
 * is lost or shown twice. Everything here blocks on the file system and
 * SQLite: call it from a worker thread. A struct store and its mailboxes
 * must be used by one thread at a time.
 */
#ifndef STORE_STORE_H
#define STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/mw.h"

struct buf;
struct store;
struct store_mailbox;

/* System flags; the Maildir info letters are D F P R S T (maildir(5)). */
enum store_flag {
	STORE_FLAG_SEEN = 1u << 0,     /* S, \Seen */
	STORE_FLAG_ANSWERED = 1u << 1, /* R, \Answered */
	STORE_FLAG_FLAGGED = 1u << 2,  /* F, \Flagged */
	STORE_FLAG_DELETED = 1u << 3,  /* T, \Deleted */
	STORE_FLAG_DRAFT = 1u << 4,    /* D, \Draft */
	STORE_FLAG_PASSED = 1u << 5,   /* P, forwarded (kept, not IMAP) */
};
#define STORE_FLAG_MASK 0x3fu

/* Keywords: bit i of store_msg.keywords is dovecot-keywords' letter 'a'+i. */
#define STORE_MAX_KEYWORDS 26

/* One message of a mailbox view. Strings are owned by the mailbox and
 * valid until its next sync, expunge or close. */
struct store_msg {
	uint32_t uid;          /* IMAP UID: ascending, never reused */
	uint32_t flags;        /* enum store_flag */
	uint32_t keywords;     /* STORE_MAX_KEYWORDS bits */
	uint64_t vsize;        /* size with CRLF line ends: POP3 and IMAP */
	uint64_t psize;        /* bytes on disk */
	int64_t internaldate;  /* seconds since the epoch (delivery time) */
	uint64_t modseq;       /* modification sequence, >= 1 */
	const char *uidl;      /* POP3 UIDL: 1..70 bytes of 0x21..0x7E */
};

/*
 * What store_mailbox_sync() changed in the view. The arrays are owned by
 * the mailbox and valid until its next sync, expunge or close.
 */
struct store_sync_result {
	size_t added;   /* messages appended at the end of the view: the
	                   last `added` indexes */
	size_t removed; /* messages that vanished (other session, mutt) */
	size_t changed; /* messages whose flags changed outside */
	/* removed entries: indexes in the view before the sync, highest
	 * first, so that each is right as IMAP sends them one by one in
	 * EXPUNGE responses (RFC 9051 7.5.1) */
	const size_t *expunged;
	/* changed entries: indexes in the view after the sync, ascending
	 * (for unsolicited FETCH FLAGS, RFC 9051 7.5.2) */
	const size_t *flags_changed;
};

/*
 * Opens the store of the Maildir at maildir (absolute path of the
 * "Maildir" directory; created with cur/new/tmp when missing). Opens or
 * creates the index beside it; a corrupt index is moved aside (logged as
 * a warning) and rebuilt. The whole file is checked (PRAGMA quick_check)
 * the first time this process opens it, and again after any statement
 * met damage (SQLITE_CORRUPT), when store_mailbox_open() recovers it and
 * tries once more. 0, or -1 with errno and a one-line reason in err.
 */
int store_open(const char *maildir, struct store **st_out,
    struct buf *err) MW_MUST_CHECK;
/* Sets SQLite up for many small connections; call at program start,
 * before anything opens a database (main.c does). */
void store_library_init(void);
/* Gives back the memory that the index connection caches (pages read,
 * prepared statements), for a store that stays open but idle, as a POP3
 * session between its commands. The next call that needs the index
 * prepares and reads again. No statement may be in use. */
void store_shrink(struct store *st);
/*
 * Closes the index connection of an idle store (after store_shrink's
 * work), keeping the mailbox views in memory: an idle session then holds
 * no SQLite connection at all (about 30 KiB each). The next call that
 * needs the index opens it again, without the checks store_open() does
 * (no quick_check, no migration: the file is known good; one that was
 * replaced or removed meanwhile gets them, as at a sync), transparently
 * to the caller; a failure to reopen is that call's -1 with a reason in
 * err. What reads only the view or message files (store_mailbox_msg,
 * store_msg_open_quick) never reopens it. No statement may be in use and
 * no transaction open. Safe to call repeatedly.
 */
void store_sleep(struct store *st);
/* Closes the store; its mailboxes must be closed first. NULL is fine. */
void store_close(struct store **st);

/*
 * Opens a folder: "INBOX" (any case) is the Maildir itself; other names
 * are IMAP names of Maildir++ folders (UTF-8, "/" between levels; see
 * store_folder_name.h for what is refused, with EINVAL). The view is
 * synced once before this returns. A folder of 2,048 messages or more
 * that no process changed since another session of this process loaded
 * it (same index file, same state of the folder's row: UIDVALIDITY, next
 * UID, highest modseq and the generation every change raises) gets a
 * copy of that view instead of reading its rows (a per-process cache of
 * at most 32 folders and 262,144 messages; thread-safe). read_only: new/ is not moved to cur/ and
 * nothing is written to the Maildir (the index may still be updated). 0, -1
 * with errno (ENOENT for a folder that does not exist) and a reason in err.
 */
int store_mailbox_open(struct store *st, const char *name, bool read_only,
    struct store_mailbox **mb_out, struct buf *err) MW_MUST_CHECK;
void store_mailbox_close(struct store_mailbox **mb);

/*
 * Brings the view up to date: picks up new/ (assigning UIDs in delivery
 * order; a few new files are moved to cur/ unless read-only, a bulk
 * arrival stays in new/ until its flags change) and notices files that
 * other programs added, removed or renamed. Cheap when nothing changed
 * (no directory scan: the directories' change times are compared with the
 * index). res_out may be NULL. 0, or -1 with errno and a reason in err.
 */
int store_mailbox_sync(struct store_mailbox *mb,
    struct store_sync_result *res_out, struct buf *err) MW_MUST_CHECK;

/*
 * store_mailbox_sync(), but directories whose mtimes are what this
 * handle's last scan ended with are not read again, even in the two
 * seconds in which a change could share their time stamp (the full sync
 * scans them then). For commands where news may wait (IMAP UID FETCH,
 * STORE, SEARCH): a change within the same time stamp shows at the next
 * full sync, never is it lost.
 */
int store_mailbox_sync_quick(struct store_mailbox *mb,
    struct store_sync_result *res, struct buf *err) MW_MUST_CHECK;

size_t store_mailbox_count(const struct store_mailbox *mb);
/* Message i (0 <= i < count) of the view. */
const struct store_msg *store_mailbox_msg(
    const struct store_mailbox *mb, size_t i);
/* Index of the message with uid in the view, or SIZE_MAX. O(log n). */
size_t store_mailbox_find_uid(const struct store_mailbox *mb, uint32_t uid);
uint32_t store_mailbox_uidvalidity(const struct store_mailbox *mb);
uint32_t store_mailbox_uidnext(const struct store_mailbox *mb);
uint64_t store_mailbox_highestmodseq(const struct store_mailbox *mb);
/* Sum of vsize over the view. */
uint64_t store_mailbox_vsize(const struct store_mailbox *mb);

/*
 * The name of keyword i (0 <= i < STORE_MAX_KEYWORDS: bit i of
 * store_msg.keywords), as dovecot-keywords gave it, or NULL when the
 * folder has none by that number. Owned by the mailbox, valid until
 * it is closed.
 */
const char *store_mailbox_keyword_name(const struct store_mailbox *mb,
    size_t i);
/* The keywords that have a name: bit i for keyword i. A session that
 * compares it before and after a sync or a flag change learns of the
 * keywords another session made (RFC 9051 7.3.5: announce them). */
uint32_t store_mailbox_keywords_defined(const struct store_mailbox *mb);

/*
 * Opens message i for reading (O_RDONLY|O_CLOEXEC, at offset 0). The file
 * holds the message as delivered, with LF line ends (CRLF is possible in
 * files other programs wrote: readers convert bare LF only). -1 with
 * errno ENOENT when the message was removed by someone else (the view
 * keeps it until the next sync).
 */
int store_msg_open(struct store_mailbox *mb, size_t i,
    int *fd_out) MW_MUST_CHECK;

/*
 * store_msg_open() without its slow path: only the file name the view
 * knows, one openat(), no directory scan and no index access, so that an
 * event loop may call it (the caller must not have a store call running
 * on another thread meanwhile). -1 with errno (ENOENT: renamed or
 * removed; store_msg_open() on a worker finds out which).
 */
int store_msg_open_quick(struct store_mailbox *mb, size_t i,
    int *fd_out) MW_MUST_CHECK;

/*
 * The MIME structure of message i (issue #10: a second FETCH ENVELOPE or
 * BODYSTRUCTURE does not read the file): decoded from the index when it
 * has it, else parsed from the file (fd when not -1 -- read with pread,
 * its offset untouched -- else opened here) with mime_limits_default, in
 * 64 KiB pieces, and kept for the index. A cached blob that does not
 * decode (damaged, or an older encoding) is parsed again and replaced.
 * The caller frees *tree_out (mime_tree_free). -1 with errno (ENOENT:
 * the message is gone) and a reason in err.
 */
struct mime_tree;
int store_msg_tree(struct store_mailbox *mb, size_t i, int fd,
    struct mime_tree **tree_out, struct buf *err) MW_MUST_CHECK;
/*
 * store_msg_tree() in parts, for a caller that parses many files on
 * several threads (a first FETCH ENVELOPE of a large folder):
 * store_msg_tree_cached() gives the cached tree of view entry i or NULL
 * (none: parse the file). store_tree_parse() parses the message in fd
 * (pread from offset 0, mime_limits_default; NULL with errno) and
 * store_tree_blob() encodes a tree for the index (-1: too large to
 * keep); they touch no store, so any thread may call them, as it may
 * store_msg_open_quick() while the mailbox's owner waits for it.
 * store_msg_tree_keep_blob() keeps such a blob (taken over) for the
 * index, as store_msg_tree() keeps what it parsed. The two
 * store_msg_tree_* calls are part of a run of reads (below).
 */
struct mime_tree *store_msg_tree_cached(struct store_mailbox *mb, size_t i);
struct mime_tree *store_tree_parse(int fd);
int store_tree_blob(const struct mime_tree *t, char **blob_out,
    size_t *len_out) MW_MUST_CHECK;
void store_msg_tree_keep_blob(
    struct store_mailbox *mb, size_t i, char *blob, size_t len);
/*
 * Sequential reads: calls of store_msg_tree() for increasing indexes
 * (FETCH 1:*, SEARCH) are a run. The first opens one read transaction
 * and one cursor over the folder's cached trees in UID order; the next
 * ones step it forward (a gap of a few messages is stepped over, a
 * larger one or a smaller index seeks), so that a run costs one WAL read
 * lock and one b-tree walk instead of one of each per message. The run
 * sees the index as it was at its first call. It ends at
 * store_msg_tree_end(), store_mailbox_flush(), store_mailbox_sync(),
 * store_mailbox_close(), store_shrink(), store_sleep(), at any other call
 * that uses the index (the run's transaction is never written in), and
 * after 1,024 calls (a new one starts with the next), so that a snapshot
 * is not held for long and the WAL can be checkpointed. Callers that
 * stop reading for a while (a command done) call one of these.
 */
void store_msg_tree_end(struct store_mailbox *mb);
/*
 * Ends the run of reads (store_msg_tree_end), then
 * writes the trees parsed since the last flush into the index in one
 * transaction (also done by sync, expunge and close, and by
 * store_msg_tree() itself once 65,536 trees or 4 MiB of them wait), so
 * that a FETCH BODYSTRUCTURE of 10,000 uncached messages costs a commit
 * or two, not one each. Works on read-only (EXAMINE) mailboxes too: the
 * index is ours. The trees are dropped from memory even when this fails
 * (they are a cache: the files can be parsed again). 0, or -1 with errno
 * and a reason.
 */
int store_mailbox_flush(
    struct store_mailbox *mb, struct buf *err) MW_MUST_CHECK;
/* Whether trees wait for store_mailbox_flush(). */
bool store_mailbox_unflushed(const struct store_mailbox *mb);

/*
 * For a read-write SELECT (RFC 3501 2.3.2): the UID from which the
 * messages of the view are \Recent for this session (uidnext when none
 * are), and raises the folder's watermark to the view's uidnext so that
 * no other session sees them as recent. Later calls (after a sync
 * brought new messages) give the new ones to this session the same way:
 * each call's messages are those from *first_recent_uid_out to the end
 * of the view, and the session's \Recent set is the union of what its
 * calls gave. Read-only mailboxes get the watermark without raising it
 * (EXAMINE does not take \Recent away). A folder from an index older
 * than the watermark starts with none recent. 0, or -1 with errno and a
 * reason (then *first_recent_uid_out is uidnext).
 */
int store_mailbox_take_recent(struct store_mailbox *mb,
    uint32_t *first_recent_uid_out, struct buf *err) MW_MUST_CHECK;

/* One flag change for store_mailbox_set_flags(). */
struct store_flag_change {
	size_t i;          /* message index in the view */
	uint32_t flags;    /* the new system flags */
	uint32_t keywords; /* the new keywords */
	bool replace;      /* exactly these (IMAP STORE FLAGS); else what
	                      differs from the view is added or removed */
};

/*
 * Sets the flags of n messages in one transaction: renames each file to
 * its new ":2,<letters>" name, gives each changed message a new modseq,
 * and is durable on return. Unless a change says replace, the flags it
 * adds or removes against the view are applied to the message's flags
 * as the index has them now, so that a flag another session (or POP3,
 * or mutt) set meanwhile is not lost; the view gets the result. Messages
 * removed meanwhile are skipped. 0,
 * or -1 with errno and a reason in err (EROFS on a read-only mailbox:
 * flags live in the file names).
 */
int store_mailbox_set_flags(struct store_mailbox *mb,
    const struct store_flag_change *c, size_t n,
    struct buf *err) MW_MUST_CHECK;

/*
 * Removes n messages (indexes into the view, any order): unlinks their
 * files, deletes their index rows, fsyncs cur/ and commits before it
 * returns, then drops them from the view (later indexes shift down).
 * Files already gone count as removed. 0, or -1 with errno and a reason
 * in err (then the view is unchanged and a later sync tells what is left;
 * EROFS on a read-only mailbox).
 */
int store_mailbox_expunge(struct store_mailbox *mb, const size_t *idx,
    size_t n, struct buf *err) MW_MUST_CHECK;

/*
 * Rebuilds the index of the Maildir at maildir from the Maildir (for
 * `mailwright index rebuild USER`): keeps the UIDs, UIDVALIDITY and UIDLs
 * of an old index where it is readable, else takes them from
 * dovecot-uidlist, else assigns new ones with a new UIDVALIDITY. POP3
 * UIDLs survive a rebuild even then (they derive from the file's unique
 * name). 0, or -1 with errno and a reason in err.
 */
int store_index_rebuild(const char *maildir, struct buf *err) MW_MUST_CHECK;

/* ---- folders (IMAP) ---------------------------------------------------- */

/* Special-use attributes (RFC 6154 2), as bits. */
enum store_special_use {
	STORE_USE_ALL = 1u << 0,     /* \All */
	STORE_USE_ARCHIVE = 1u << 1, /* \Archive */
	STORE_USE_DRAFTS = 1u << 2,  /* \Drafts */
	STORE_USE_FLAGGED = 1u << 3, /* \Flagged */
	STORE_USE_JUNK = 1u << 4,    /* \Junk */
	STORE_USE_SENT = 1u << 5,    /* \Sent */
	STORE_USE_TRASH = 1u << 6,   /* \Trash */
};
#define STORE_USE_MASK 0x7fu

/* "\Sent" for STORE_USE_SENT and so on (one bit), else NULL. Static. */
const char *store_special_use_name(uint32_t use);
/* The bit of the attribute s[0..len) ("\sent" in any case), or 0. */
uint32_t store_special_use_of(const char *s, size_t len);

/* One folder of store_folder_list(). */
struct store_folder {
	char *name;           /* IMAP name, UTF-8, "/" between levels */
	uint32_t special_use; /* enum store_special_use */
	bool noselect;        /* only a level above others: Maildir++ has no
	                         directory for it (RFC 9051 7.3.1 \Noselect) */
	bool has_children;    /* \HasChildren, else \HasNoChildren (RFC 9051
	                         7.3.1); \NonExistent is noselect without
	                         a directory, which is the same here */
};

/* A list the store allocates; free it with store_folder_list_free(). */
struct store_folder_list {
	struct store_folder *v;
	size_t n;
};

/*
 * Every folder: INBOX first, then the others in byte order of their
 * names, with levels that exist only above others as noselect entries
 * (Dovecot lists them so). Directories whose names this layout does not
 * write are skipped (debug log). 0, or -1 with errno and a reason.
 */
int store_folder_list(struct store *st, struct store_folder_list *out,
    struct buf *err) MW_MUST_CHECK;
void store_folder_list_free(struct store_folder_list *l);

/*
 * Creates folder name (cur/ new/ tmp/, the maildirfolder file Maildir++
 * requires, fsynced), with special_use (0, or enum store_special_use
 * bits: RFC 6154 3 CREATE ... USE) kept in a mailwright-special-use file
 * inside it. Levels above it are not created: as in Dovecot's Maildir++
 * they list as \Noselect until someone creates them. -1 with EEXIST when
 * it exists (INBOX always does), EINVAL and a reason for a bad name.
 */
int store_folder_create(struct store *st, const char *name,
    uint32_t special_use, struct buf *err) MW_MUST_CHECK;

/*
 * Deletes folder name with its messages and its index rows (RFC 9051
 * 6.3.4). Its children stay: in Maildir++ each folder is a directory of
 * its own, so, as with Dovecot, the name then lists as \Noselect while it
 * has children. -1 with EINVAL for INBOX, ENOENT when it does not exist,
 * and ENOENT too for a \Noselect level (RFC 9051 6.3.4: deleting one that
 * has children is an error). Subscriptions are left alone (RFC 9051
 * 6.3.9: the server does not remove them on its own).
 */
int store_folder_delete(
    struct store *st, const char *name, struct buf *err) MW_MUST_CHECK;

/*
 * Renames folder from to to, with its children (RFC 9051 6.3.6); UIDs
 * and UIDVALIDITY go with them. Renaming INBOX creates to and moves
 * INBOX's messages there (new UIDs), leaving INBOX empty; INBOX's
 * children stay. -1 with EEXIST when to (or a child's new name) exists,
 * ENOENT when from does not, EINVAL for a bad name or a move into
 * from's own subtree.
 */
int store_folder_rename(struct store *st, const char *from, const char *to,
    struct buf *err) MW_MUST_CHECK;

/*
 * IMAP SUBSCRIBE/UNSUBSCRIBE (RFC 9051 6.3.7, 6.3.8): adds or removes name
 * in <maildir>/subscriptions (Dovecot 2.3's file, version 2: levels in
 * modified UTF-7 separated by tabs), replaced atomically. Names need not
 * exist. 0 (also when nothing changed), or -1 with errno and a reason.
 */
int store_folder_subscribe(
    struct store *st, const char *name, bool on, struct buf *err) MW_MUST_CHECK;
/*
 * The subscribed names, in file order, as a store_folder_list (only name
 * is set). Lines that do not map to a name are skipped. 0 or -1.
 */
int store_folder_subscriptions(struct store *st, struct store_folder_list *out,
    struct buf *err) MW_MUST_CHECK;

/* What STATUS reports (RFC 9051 6.3.11, RFC 7162 3.1.2 HIGHESTMODSEQ). */
struct store_folder_status {
	uint32_t messages, unseen, deleted;
	uint32_t recent; /* messages no session has taken as \Recent yet
	                    (RFC 3501 2.3.2, store_mailbox_take_recent;
	                    IMAP4rev1 only: RFC 9051 dropped it) */
	uint32_t uidnext, uidvalidity;
	uint64_t size; /* RFC 8438 STATUS=SIZE: the sum of the CRLF sizes */
	uint64_t highestmodseq;
};

/*
 * The status of folder name from the index, after the cheap sync (no
 * view is built, nothing is renamed in the Maildir). -1 with ENOENT when
 * it does not exist (or is \Noselect), EINVAL for a bad name.
 */
int store_folder_status(struct store *st, const char *name,
    struct store_folder_status *out, struct buf *err) MW_MUST_CHECK;

/* The special-use folders a new Maildir gets. */
struct store_defaults {
	struct store_folder *v; /* name and special_use */
	size_t n;
};

/*
 * Parses the mail_special_use_folders syntax: a list of NAME=\Attribute
 * separated by commas and/or white space, e.g. "Sent=\Sent,
 * Drafts=\Drafts"; an empty string is no folders. 0, or -1 with a
 * one-line reason in err (a bad name, an unknown attribute, a name or an
 * attribute given twice). Free *out with store_defaults_free().
 */
int store_defaults_parse(const char *spec, struct store_defaults *out,
    struct buf *err) MW_MUST_CHECK;
void store_defaults_free(struct store_defaults *d);

/*
 * Creates the folders of d when the Maildir has no folder at all, so that
 * a new user and one made before this existed both get them; a user who
 * kept any folder is left alone. 1 created, 0 nothing to do, -1 error.
 */
int store_create_defaults(struct store *st, const struct store_defaults *d,
    struct buf *err) MW_MUST_CHECK;

/*
 * store_open(), then store_create_defaults(d) (d may be NULL: nothing).
 * What imapd calls at login.
 */
int store_open_defaults(const char *maildir, const struct store_defaults *d,
    struct store **st_out, struct buf *err) MW_MUST_CHECK;

/* ---- adding messages (IMAP APPEND, COPY, MOVE) ------------------------- */

/* One message for store_mailbox_append(). */
struct store_append {
	int fd;            /* the message: read with pread from offset 0 to */
	const char *data;  /* the end of the file; or, when fd is -1, these */
	size_t len;        /* len bytes */
	uint32_t flags;    /* enum store_flag */
	uint32_t keywords; /* bits of this mailbox's keywords */
	int64_t internaldate; /* seconds since the epoch; 0: now */
};

/*
 * Appends a message (IMAP APPEND): writes tmp/<unique>, fsyncs it, links
 * it into cur/ as Dovecot names files ("<unique>,S=<size>,W=<vsize>:2,
 * <flags>"), fsyncs cur/, gives it the folder's next UID and a new modseq,
 * and commits: durable when this returns 0, with the UID in *uid_out
 * (RFC 4315 APPENDUID with store_mailbox_uidvalidity()). The view does
 * not change; the next sync shows the message. -1 with errno and a
 * reason (EROFS on a read-only mailbox, ENOSPC, EDQUOT, ...).
 */
int store_mailbox_append(struct store_mailbox *mb, const struct store_append *a,
    uint32_t *uid_out, struct buf *err) MW_MUST_CHECK;

/*
 * Copies n messages of src's view (indexes, any order) into dst (IMAP
 * COPY): hard links where the file system allows, else a copy; flags go
 * along, keywords by name (added to dst's dovecot-keywords as needed; a
 * keyword with no room there is dropped). New UIDs in dst in the order
 * of idx; uids_out[k] is the UID idx[k] got, or 0 when the message was
 * gone (RFC 4315 COPYUID). One transaction, durable on return. src may be
 * read-only and may be dst; dst must not be read-only.
 */
int store_mailbox_copy(struct store_mailbox *src, const size_t *idx, size_t n,
    struct store_mailbox *dst, uint32_t *uids_out,
    struct buf *err) MW_MUST_CHECK;

/*
 * store_mailbox_copy(), then store_mailbox_expunge() of the copied
 * messages in src (RFC 6851 MOVE). A crash in between leaves the
 * messages in both folders, never in neither. src must be writable and
 * not dst (EINVAL).
 */
int store_mailbox_move(struct store_mailbox *src, const size_t *idx, size_t n,
    struct store_mailbox *dst, uint32_t *uids_out,
    struct buf *err) MW_MUST_CHECK;

/*
 * The number (0..STORE_MAX_KEYWORDS-1, the bit in store_msg.keywords) of
 * keyword name (case-insensitive, RFC 9051 2.3.2 flag-keyword: an atom
 * not starting with "\"). With create, a new keyword takes the first free
 * number and dovecot-keywords is written again. 1 with *idx_out, 0 when
 * it does not exist and !create, -1 with errno: EINVAL (not an atom),
 * ENOSPC (all 26 letters used, Dovecot's Maildir limit), EROFS.
 */
int store_mailbox_keyword_index(struct store_mailbox *mb, const char *name,
    bool create, size_t *idx_out, struct buf *err) MW_MUST_CHECK;

/* ---- change notification (IMAP IDLE, RFC 2177) ------------------------- */

/*
 * An inotify descriptor (non-blocking, close-on-exec) watching the
 * folder's new/ and cur/: it becomes readable when mail is delivered,
 * renamed (flags) or removed by anyone. The caller puts it on its event
 * loop, calls store_watch_read() when it is readable, then
 * store_mailbox_sync() to learn what changed, and closes it with
 * close(). 0, or -1 with errno and a reason.
 */
int store_watch_new(
    struct store_mailbox *mb, int *fd_out, struct buf *err) MW_MUST_CHECK;
/*
 * store_watch_new() on an inotify descriptor of the caller's (one per
 * process serves many sessions: the kernel allows a user only
 * fs.inotify.max_user_instances of them, often 128): adds watches on the
 * folder's new/ and cur/ and gives their watch descriptors in wd_out[0]
 * and [1] (the same numbers for every caller watching the same folder on
 * fd; remove them with inotify_rm_watch() once nobody needs them). 0, or
 * -1 with errno (ENOSPC: fs.inotify.max_user_watches) and a reason.
 */
int store_watch_add(struct store_mailbox *mb, int fd, int wd_out[2],
    struct buf *err) MW_MUST_CHECK;
/* Drains the events of a store_watch_new() fd: 1 when there were any,
 * 0 none, -1 with errno. Never blocks. */
int store_watch_read(int fd) MW_MUST_CHECK;

#endif
