/*
 * The FETCH response of one message (RFC 9051 6.4.5 and 7.5.2, RFC 3501
 * 6.4.5 and 7.4.2, BINARY of RFC 3516): "* <seq> FETCH (...)" CRLF with
 * the items in the order asked, each once, written in pieces so that a
 * large body is streamed from the message file, never held in memory.
 * The session parses FETCH (imap_fetch.h), opens the file and gets the
 * MIME tree as imap_fetch_needs() says, sets \Seen when
 * imap_fetch_sets_seen() says so, and sends what the writer appends.
 *
 * Contents (BODY[...], RFC822*, BINARY[...]) go as literals whose size
 * is known before the first byte: bare LF in the file is sent as CRLF
 * and counted so (the tree's *_vsize, store_msg.vsize for the whole
 * message); NUL in BODY contents goes as 0x80 (RFC 9051 4.3: no NUL in
 * a literal; as Dovecot); a file shorter than announced is padded with
 * spaces (and logged), one longer is cut, so that a literal's bytes
 * always match its announcement. A section that does not exist gives an
 * empty literal {0} (as Dovecot: imap-msgpart.c returns an empty part),
 * never NIL, and so does a partial that starts past the end.
 */
#ifndef IMAP_IMAP_FETCH_MSG_H
#define IMAP_IMAP_FETCH_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;
struct imap_fetch;
struct mime_tree;
struct store_msg;

enum imap_fetch_need {
	IMAP_FETCH_NEED_TREE = 1 << 0,
	IMAP_FETCH_NEED_FILE = 1 << 1,
};

/*
 * What answering f needs besides the store_msg (enum imap_fetch_need):
 * FLAGS, UID, INTERNALDATE and RFC822.SIZE need nothing; RFC822, BODY[]
 * and BINARY[] of the whole message, BINARY.SIZE[] the file only (their
 * size is store_msg.vsize, the same as RFC822.SIZE); ENVELOPE, BODY and
 * BODYSTRUCTURE the tree only; every other section (part numbers,
 * HEADER, TEXT, MIME, RFC822.HEADER, RFC822.TEXT) both.
 */
unsigned imap_fetch_needs(const struct imap_fetch *f);

/* RFC 9051 6.4.5: does f set \Seen? BODY[...] (not BODY.PEEK), BINARY[...]
 * (not BINARY.PEEK), RFC822 and RFC822.TEXT do; RFC822.HEADER does not. */
bool imap_fetch_sets_seen(const struct imap_fetch *f);

struct imap_fetch_msg_in {
	uint32_t seq; /* the message sequence number */
	const struct store_msg *msg;
	const char *const *keywords; /* keywords[i] names keyword bit i */
	size_t nkeywords;
	bool recent; /* \Recent in FLAGS (IMAP4rev1 sessions) */
	const struct mime_tree *tree; /* when IMAP_FETCH_NEED_TREE */
	int fd;    /* when IMAP_FETCH_NEED_FILE: pread only */
	bool utf8; /* imap_string.h utf8 */
	/* UID FETCH: UID is sent first even if not asked (RFC 9051 6.4.9) */
	bool add_uid;
	/* \Seen was just set by this fetch: FLAGS is sent at the end even if
	 * not asked (RFC 3501 6.4.5: the flag change must be reported) */
	bool add_flags;
};

struct imap_fetch_writer;

/*
 * Checks what can be answered before anything is written, and makes a
 * writer for the response to f about in->msg. f and everything in *in
 * are borrowed and must outlive the writer. 0 with *w_out set; or -1 with
 * *code_out set to a response code for the tagged NO: "UNKNOWN-CTE" for
 * BINARY or BINARY.SIZE of a part whose Content-Transfer-Encoding is not
 * known (RFC 3516 4.1, 4.3).
 */
int imap_fetch_writer_new(const struct imap_fetch *f,
    const struct imap_fetch_msg_in *in, struct imap_fetch_writer **w_out,
    const char **code_out);

/*
 * Makes w (from imap_fetch_writer_new() with the same f and
 * in->add_uid) write the response about another message, in (borrowed as
 * there), as if new, without allocating: a FETCH keeps one writer for
 * all its messages. The response w was writing is dropped. 0, or -1 with
 * *code_out set as imap_fetch_writer_new() says (w stays usable).
 */
int imap_fetch_writer_next(struct imap_fetch_writer *w,
    const struct imap_fetch_msg_in *in, const char **code_out);

/*
 * Appends the next piece of the response to out: the item texts up to
 * the next literal's contents, and of those at most budget bytes per
 * call (the file is read in pieces of at most budget bytes; budget 0 is
 * taken as 1). A call may append nothing while the writer reads ahead (a
 * BINARY size, a HEADER.FIELDS result). Returns 1 when more remains, 0
 * when the response is complete (")" CRLF appended), -1 on error with
 * errno (a read error, or ENOBUFS past out's ceiling); after -1 the
 * response is broken and the connection must be closed.
 */
int imap_fetch_writer_step(
    struct imap_fetch_writer *w, struct buf *out, size_t budget);

/* Frees the writer; sets *w to NULL; accepts NULL. */
void imap_fetch_writer_free(struct imap_fetch_writer **w);

#endif
