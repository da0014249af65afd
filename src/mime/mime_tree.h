/*
 * The MIME structure of one stored message: a tree of parts with the byte
 * offsets and sizes of each part's header and body in the file, the same
 * sizes as IMAP counts them (each bare LF counted as CRLF), line counts and
 * the parsed Content-* header fields; for the message itself and for each
 * embedded message/rfc822 (or message/global) the raw header fields that
 * IMAP's ENVELOPE needs. The tree owns all of its strings (one arena) and
 * is built by mime_parse.h or read back from a blob by mime_tree_decode().
 * Nothing here does I/O.
 */
#ifndef MIME_MIME_TREE_H
#define MIME_MIME_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/mw.h"

struct buf;

/* RFC 2045 6.1; MIME_CTE_7BIT also when there is no such field. */
enum mime_cte {
	MIME_CTE_7BIT,
	MIME_CTE_8BIT,
	MIME_CTE_BINARY,
	MIME_CTE_QP,
	MIME_CTE_BASE64,
	MIME_CTE_OTHER, /* unknown: RFC 2045 6.4, the body is opaque */
};

/* The header fields of a message that ENVELOPE needs (RFC 9051 7.5.2),
 * in the order ENVELOPE lists them. */
enum mime_env_field {
	MIME_ENV_DATE,
	MIME_ENV_SUBJECT,
	MIME_ENV_FROM,
	MIME_ENV_SENDER,
	MIME_ENV_REPLY_TO,
	MIME_ENV_TO,
	MIME_ENV_CC,
	MIME_ENV_BCC,
	MIME_ENV_IN_REPLY_TO,
	MIME_ENV_MESSAGE_ID,
	MIME_ENV_COUNT
};

/* Values are unfolded (RFC 5322 2.2.3: CR and LF removed), NULs dropped,
 * leading and trailing white space trimmed, cut at the field limit. An
 * address field that occurs more than once keeps the values joined with
 * ", " (as Dovecot merges them); other fields keep the first. */
struct mime_envelope {
	const char *field[MIME_ENV_COUNT]; /* NULL: no such field */
};

/* RFC 2045 5.1 parameter; RFC 2231 continuations are joined and an
 * extended value is decoded to UTF-8 ("name*" becomes "name", as RFC 9051
 * 7.5.2 asks of servers); one in an unknown charset keeps its %XX form. */
struct mime_param {
	const char *name, *value;
	/* the value came from an RFC 2231 extended parameter ("name*=" with
	 * a charset) and is UTF-8 now: IMAP names it "name*" (RFC 9051
	 * 7.5.2) */
	bool ext;
};

enum mime_part_flag {
	MIME_PART_MULTIPART = 1 << 0, /* multipart/ with a boundary */
	MIME_PART_MESSAGE = 1 << 1,   /* message/rfc822 or message/global:
	                                 its one child is the message */
	MIME_PART_TEXT = 1 << 2,      /* text/ (or the default text/plain) */
	MIME_PART_TRUNCATED = 1 << 3, /* a limit was hit: the rest of this
	                                 part's body was not parsed */
	MIME_PART_DIGEST = 1 << 4,    /* multipart/digest */
};

struct mime_part {
	struct mime_part *parent, *children, *next;
	uint32_t flags; /* enum mime_part_flag */
	/* In the file: the header includes the empty line that ends it; the
	 * body of a part in a multipart ends before the line end that
	 * precedes the next boundary (RFC 2046 5.1.1). */
	uint64_t hdr_offset, hdr_size, hdr_vsize;
	uint64_t body_offset, body_size, body_vsize, body_lines;
	/* Content-Type as written; NULL when absent or invalid, which means
	 * text/plain (RFC 2045 5.2) or message/rfc822 in a digest. */
	const char *type, *subtype;
	struct mime_param *params;
	size_t params_n;
	enum mime_cte cte;
	const char *cte_name; /* as written; NULL: none */
	const char *id, *description, *md5, *location;
	const char *disposition; /* RFC 2183 type; NULL: none */
	struct mime_param *disp_params;
	size_t disp_params_n;
	const char **language; /* RFC 3282 tags */
	size_t language_n;
	/* The root and each child of a MIME_PART_MESSAGE part. */
	struct mime_envelope *envelope;
};

struct mime_tree;

/* A new empty tree: the root part, text/plain with no sizes. */
struct mime_tree *mime_tree_new(void);
void mime_tree_free(struct mime_tree **t);
struct mime_part *mime_tree_root(const struct mime_tree *t);
size_t mime_tree_part_count(const struct mime_tree *t);
/* Bytes held by the tree's arena and parts. */
size_t mime_tree_mem(const struct mime_tree *t);

/* Allocation from the tree's arena (lives as long as the tree). */
void *mime_tree_alloc(struct mime_tree *t, size_t n);
/* A NUL-terminated copy of p[0..n). */
char *mime_tree_strndup(struct mime_tree *t, const char *p, size_t n);
/* A new part (zeroed) under parent, right after its child "after", which
 * callers pass as the last child (NULL: parent has none yet). */
struct mime_part *mime_tree_add_part(
    struct mime_tree *t, struct mime_part *parent, struct mime_part *after);

/* RFC 2045 5.2 and RFC 2046 5.1.5: the effective type and subtype. */
const char *mime_part_type(const struct mime_part *p);
const char *mime_part_subtype(const struct mime_part *p);
/* The value of parameter name (ASCII case-insensitive), or NULL. */
const char *mime_param_find(
    const struct mime_param *params, size_t n, const char *name);

/*
 * Appends a versioned compact encoding of the tree to out (for the
 * per-user index). 0, or -1 with errno ENOBUFS past out's ceiling.
 */
int mime_tree_encode(const struct mime_tree *t, struct buf *out) MW_MUST_CHECK;
/*
 * Reads back what mime_tree_encode() wrote. Every length and count is
 * checked against the blob and against part_max parts; a damaged blob
 * gives NULL with errno EINVAL (or EPROTO for an unknown version), never
 * a crash. The caller frees the tree.
 */
struct mime_tree *mime_tree_decode(const void *blob, size_t n, size_t part_max);

#endif
