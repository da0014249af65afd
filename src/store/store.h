/*
 * The mail store: one user's Maildir++ and its index. POP3, IMAP and the
 * admin CLI use this interface; local delivery writes through maildir.h
 * (same module). Nothing outside src/store/ knows the on-disk layout.
 *
 * Layout (DESIGN.md "Storage"):
 *   <maildir>/{cur,new,tmp}            INBOX
 *   <maildir>/.<Folder>/{cur,new,tmp}  Maildir++ folders (IMAP, later)
 *   <maildir>/../mailwright-index.db   the per-user index (SQLite, WAL)
 *
 * The Maildir is the truth for content; the index caches what Maildir
 * cannot hold or what is slow to get (UIDs, UIDVALIDITY, the CRLF size,
 * modification sequences, keywords, later the parsed structure) and is
 * rebuilt from the Maildir when missing or corrupt. Where dovecot-uidlist
 * exists in a folder the index takes UIDVALIDITY, the next UID, the UIDs
 * and the POP3 UIDLs from it the first time it sees that folder.
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

/* What store_mailbox_sync() changed in the view. */
struct store_sync_result {
	size_t added;   /* messages appended at the end of the view */
	size_t removed; /* messages that vanished (other session, mutt) */
	size_t changed; /* messages whose flags changed outside */
};

/*
 * Opens the store of the Maildir at maildir (absolute path of the
 * "Maildir" directory; created with cur/new/tmp when missing). Opens or
 * creates the index beside it; a corrupt index is moved aside (logged as
 * a warning) and rebuilt. 0, or -1 with errno and a one-line reason in
 * err.
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
/* Closes the store; its mailboxes must be closed first. NULL is fine. */
void store_close(struct store **st);

/*
 * Opens a folder: "INBOX" (any case) is the Maildir itself; other names
 * are Maildir++ folders (IMAP issue). The view is synced once before this
 * returns. read_only: new/ is not moved to cur/ and nothing is written to
 * the Maildir (the index may still be updated). 0, -1 with errno (ENOENT
 * for a folder that does not exist) and a reason in err.
 */
int store_mailbox_open(struct store *st, const char *name, bool read_only,
    struct store_mailbox **mb_out, struct buf *err) MW_MUST_CHECK;
void store_mailbox_close(struct store_mailbox **mb);

/*
 * Brings the view up to date: picks up new/ (assigning UIDs in delivery
 * order, moving the files to cur/ unless read-only) and notices files that
 * other programs added, removed or renamed. Cheap when nothing changed
 * (no directory scan: the directories' change times are compared with the
 * index). res_out may be NULL. 0, or -1 with errno and a reason in err.
 */
int store_mailbox_sync(struct store_mailbox *mb,
    struct store_sync_result *res_out, struct buf *err) MW_MUST_CHECK;

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

/* One flag change for store_mailbox_set_flags(). */
struct store_flag_change {
	size_t i;          /* message index in the view */
	uint32_t flags;    /* the new system flags (replace) */
	uint32_t keywords; /* the new keywords (replace) */
};

/*
 * Sets the flags of n messages in one transaction: renames each file to
 * its new ":2,<letters>" name, gives each changed message a new modseq,
 * and is durable on return. Messages removed meanwhile are skipped. 0,
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

#endif
