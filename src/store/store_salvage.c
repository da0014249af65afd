/*
 * Salvage from a damaged index: after store_index.c moved a corrupt file
 * aside and made a new one, the rows SQLite can still read from the old
 * file are copied into the new one, so that the UIDs, UIDVALIDITY and
 * modification sequences of those messages survive (IMAP clients keep
 * their caches). What cannot be read is rebuilt from the Maildir by the
 * next sync, which also drops rows whose file is gone: a salvaged row is
 * a hint, the files stay the truth.
 */
#include <sqlite3.h>
#include <stdint.h>
#include <string.h>

#include "lib/log.h"
#include "store/store_private.h"

/* Columns that must be integers in [lo, hi] for a row to be copied. */
struct salvage_col {
	int col;
	sqlite3_int64 lo, hi;
};

static bool
salvage_ints(sqlite3_stmt *s, const struct salvage_col *c, size_t n)
{
	size_t i;
	sqlite3_int64 v;

	for (i = 0; i < n; i++) {
		if (sqlite3_column_type(s, c[i].col) != SQLITE_INTEGER)
			return false;
		v = sqlite3_column_int64(s, c[i].col);
		if (v < c[i].lo || v > c[i].hi)
			return false;
	}
	return true;
}

static bool
salvage_text(sqlite3_stmt *s, int col, size_t max)
{
	const unsigned char *t;
	int n;

	/* the type first: reading the text may convert the value */
	if (sqlite3_column_type(s, col) != SQLITE_TEXT)
		return false;
	t = sqlite3_column_text(s, col);
	n = sqlite3_column_bytes(s, col);
	return t != NULL && n > 0 && (size_t)n <= max &&
	    memchr(t, '\0', (size_t)n) == NULL;
}

/* Copies the rows of sel (in old) that ok() accepts with ins (in new):
 * until the first read error. Returns how many were copied. */
static size_t
salvage_copy(sqlite3 *old, sqlite3 *db, const char *sel, const char *ins,
    bool (*ok)(sqlite3_stmt *))
{
	sqlite3_stmt *r = NULL, *w = NULL;
	size_t n = 0;
	int i, cols;

	if (sqlite3_prepare_v2(old, sel, -1, &r, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, ins, -1, &w, NULL) != SQLITE_OK)
		goto out;
	cols = sqlite3_column_count(r);
	while (sqlite3_step(r) == SQLITE_ROW) {
		if (!ok(r))
			continue;
		sqlite3_reset(w);
		for (i = 0; i < cols; i++)
			(void)sqlite3_bind_value(
			    w, i + 1, sqlite3_column_value(r, i));
		if (sqlite3_step(w) == SQLITE_DONE && sqlite3_changes(db) > 0)
			n++;
	}
out:
	sqlite3_finalize(r);
	sqlite3_finalize(w);
	return n;
}

static bool
salvage_mailbox_ok(sqlite3_stmt *s)
{
	static const struct salvage_col c[] = { { 0, 1, INT64_MAX },
		{ 2, 1, UINT32_MAX }, { 3, 1, UINT32_MAX },
		{ 4, 1, INT64_MAX } };

	return salvage_ints(s, c, MW_NELEM(c)) && salvage_text(s, 1, 255);
}

static bool
salvage_message_ok(sqlite3_stmt *s)
{
	static const struct salvage_col c[] = { { 0, 1, INT64_MAX },
		{ 1, 1, UINT32_MAX - 1 }, { 4, 0, 1 }, { 5, 0, INT64_MAX },
		{ 6, 0, INT64_MAX }, { 7, 0, 0x3f }, { 8, 0, (1 << 26) - 1 },
		{ 9, INT64_MIN, INT64_MAX }, { 10, 1, INT64_MAX } };

	return salvage_ints(s, c, MW_NELEM(c)) && salvage_text(s, 2, 255) &&
	    salvage_text(s, 3, 255) && salvage_text(s, 11, 70) &&
	    store_uidl_ok((const char *)sqlite3_column_text(s, 11),
	        (size_t)sqlite3_column_bytes(s, 11));
}

static bool
salvage_keyword_ok(sqlite3_stmt *s)
{
	static const struct salvage_col c[] = { { 0, 1, INT64_MAX },
		{ 1, 0, STORE_MAX_KEYWORDS - 1 } };

	return salvage_ints(s, c, MW_NELEM(c)) && salvage_text(s, 2, 255);
}

void
store_salvage(struct store *st, const char *aside)
{
	sqlite3 *old = NULL;
	size_t nmb, nmsg;

	if (sqlite3_open_v2(aside, &old,
	        SQLITE_OPEN_READONLY | SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK)
		goto out;
	(void)sqlite3_db_config(old, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	(void)sqlite3_db_config(old, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		goto out;
	nmb = salvage_copy(old, st->db,
	    "SELECT id, name, uidvalidity, uidnext, highestmodseq "
	    "FROM mailboxes",
	    "INSERT OR IGNORE INTO mailboxes (id, name, uidvalidity, uidnext, "
	    "highestmodseq) VALUES (?1, ?2, ?3, ?4, ?5)",
	    salvage_mailbox_ok);
	nmsg = nmb == 0
	    ? 0
	    : salvage_copy(old, st->db,
	          "SELECT mailbox, uid, base, file, in_new, vsize, "
	          "psize, flags, keywords, internaldate, modseq, "
	          "uidl FROM messages",
	          "INSERT OR IGNORE INTO messages (mailbox, uid, "
	          "base, file, in_new, vsize, psize, flags, "
	          "keywords, internaldate, modseq, uidl) SELECT ?1, "
	          "?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12 "
	          "WHERE EXISTS (SELECT 1 FROM mailboxes WHERE id "
	          "= ?1)",
	          salvage_message_ok);
	if (nmb > 0)
		(void)salvage_copy(old, st->db,
		    "SELECT mailbox, idx, name FROM keywords",
		    "INSERT OR IGNORE INTO keywords (mailbox, idx, name) "
		    "VALUES (?1, ?2, ?3)",
		    salvage_keyword_ok);
	/* whatever was read, the counters stay above it (RFC 3501 2.3.1.1:
	 * UIDs are never reused within a UIDVALIDITY) */
	if (sqlite3_exec(st->db,
	        "UPDATE mailboxes SET uidnext = max(uidnext, (SELECT "
	        "coalesce(max(uid), 0) + 1 FROM messages WHERE mailbox = "
	        "mailboxes.id)), highestmodseq = max(highestmodseq, (SELECT "
	        "coalesce(max(modseq), 0) FROM messages WHERE mailbox = "
	        "mailboxes.id)), cur_mtime = -1, new_mtime = -1",
	        NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		(void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		goto out;
	}
	/* RFC 3501 2.3.2: what was there may have been recent for some
	 * session already; only what arrives from now on is */
	if (nmb > 0)
		(void)sqlite3_exec(st->db,
		    "INSERT OR REPLACE INTO recent (folder, first_uid) "
		    "SELECT id, uidnext FROM mailboxes",
		    NULL, NULL, NULL);
	if (nmb > 0)
		log_warn("index %s: kept %zu folders and %zu messages of the "
		         "damaged index",
		    st->index_path, nmb, nmsg);
out:
	if (old != NULL)
		(void)sqlite3_close_v2(old);
}
