/*
 * Inside the FETCH writer (imap_fetch_msg.c; imap_fetch_src.c): where a
 * section's bytes come from. A source is a byte range of the message file (or a
 * block of memory: a HEADER.FIELDS result), read in pieces with pread, with
 * bare LF turned into CRLF and then decoded from quoted-printable or base64 for
 * BINARY (RFC 3516). Finding a section's part and range in the MIME tree (RFC
 * 9051 6.4.5) and filtering header fields are here too.
 */
#ifndef IMAP_IMAP_FETCH_MSG_PRIVATE_H
#define IMAP_IMAP_FETCH_MSG_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/mw.h"
#include "mime/mime_decode.h"
#include "mime/mime_tree.h"

struct imap_fetch_item;
struct imap_slice;
struct store_msg;

enum imap_src_dec {
	IMAP_SRC_PLAIN,
	IMAP_SRC_QP,
	IMAP_SRC_BASE64,
};

struct imap_src {
	const char *mem; /* not NULL: the bytes mem[0..mem_n) */
	size_t mem_n, mem_pos;
	int fd;
	uint64_t pos, end; /* file range; end UINT64_MAX: up to EOF */
	bool crlf;         /* send bare LF as CRLF */
	bool prev_cr;
	enum imap_src_dec dec;
	struct mime_qp qp;
	struct mime_b64 b64;
	bool eof; /* everything read and the decoder flushed */
};

/* What a section names: exists false for a part that is not there. */
struct imap_section_range {
	bool exists;
	bool whole;                   /* the whole message: [0, EOF) */
	uint64_t off, size;           /* in the file */
	uint64_t vsize;               /* with CRLF line ends */
	const struct mime_part *part; /* whose header or body it is */
};

/*
 * The range that item it names (BODY[...], BINARY[...], RFC822*), with
 * the tree t (may be NULL for the whole message, which is msg's file).
 */
struct imap_section_range imap_section_find(const struct mime_tree *t,
    const struct store_msg *msg, const struct imap_fetch_item *it);

/* Starts s on the file range r; crlf and dec as given. */
void imap_src_init_file(struct imap_src *s, int fd,
    const struct imap_section_range *r, bool crlf, enum imap_src_dec dec);
/* Starts s on the memory p[0..n) (borrowed), sent as it is. */
void imap_src_init_mem(struct imap_src *s, const char *p, size_t n);
/*
 * Reads the next piece of at most chunk bytes (one pread) through the
 * conversion and decoder, appending to out (up to 2 * chunk + 70 bytes).
 * rbuf has room for IMAP_SRC_RBUF(chunk) bytes: what is read, then what
 * the CRLF conversion makes of it. At the end sets s->eof. 0, or -1 with
 * errno (read error, ENOBUFS).
 */
#define IMAP_SRC_RBUF(chunk) (3 * (chunk))
int imap_src_fill(struct imap_src *s, char *rbuf, size_t chunk,
    struct buf *out) MW_MUST_CHECK;

/* HEADER.FIELDS [.NOT] (RFC 9051 6.4.5): fed a header with CRLF line
 * ends in pieces, keeps the fields named (or those not named) whole with
 * their folded lines, and ends the result with the empty line. */
struct imap_hdr_filter {
	const struct imap_slice *names;
	size_t n;
	bool not ;
	bool done;         /* the header has been read */
	bool eoh;          /* it ended with its empty line */
	struct buf field;  /* the field being read */
	size_t line_start; /* where its last line starts in field */
};

void imap_hdr_filter_init(struct imap_hdr_filter *hf,
    const struct imap_slice *names, size_t n, bool not );
int imap_hdr_filter_feed(struct imap_hdr_filter *hf, const char *p, size_t n,
    struct buf *out) MW_MUST_CHECK;
/* The end of the header: the last field and the empty line go to out. */
int imap_hdr_filter_end(
    struct imap_hdr_filter *hf, struct buf *out) MW_MUST_CHECK;
void imap_hdr_filter_free(struct imap_hdr_filter *hf);

#endif
