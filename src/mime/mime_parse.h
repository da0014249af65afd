/*
 * The streaming MIME structure parser: fed a stored message in pieces of
 * any size (lines may end in LF or CRLF), it builds its mime_tree (RFC
 * 2045, RFC 2046 5.1 multiparts, message/rfc822 and message/global). It
 * holds at most one bounded line and one bounded header field at a time,
 * so its memory does not depend on the message's size; parsing is linear.
 * Garbage (no header, binary, NULs, 8-bit, missing boundaries) gives some
 * tree, never an error.
 */
#ifndef MIME_MIME_PARSE_H
#define MIME_MIME_PARSE_H

#include <stddef.h>

struct mime_tree;

struct mime_limits {
	/* Nesting of multiparts and messages; deeper ones are opaque
	 * bodies (Dovecot: mime_max_nested_parts... default 100). */
	size_t depth_max;
	/* Parts in the tree; past it the rest of the part being read is
	 * one opaque body (Dovecot's default: 10000). */
	size_t part_max;
	/* Bytes kept of one header field value that is used; the rest of
	 * the field is skipped (RFC 5322 2.1.1 allows 998 per line). */
	size_t field_max;
	/* Parameters kept per field and language tags per part. */
	size_t param_max;
	/* Longest boundary recognised (RFC 2046 5.1.1: 70; we allow more,
	 * as mail in the wild has it). */
	size_t boundary_max;
	/* Bytes of strings and parts in the tree; past it, no further part
	 * is started. */
	size_t tree_max;
};

/* Defaults: depth 100, 10000 parts, 8 KiB per field, 64 parameters,
 * 256-byte boundaries, 4 MiB per tree. */
extern const struct mime_limits mime_limits_default;

struct mime_parser;

/* A parser for one message; lim is copied. */
struct mime_parser *mime_parser_new(const struct mime_limits *lim);
/* The next n bytes of the message. */
void mime_parser_feed(struct mime_parser *mp, const void *p, size_t n);
/* The end of the message: returns its tree, which the caller frees with
 * mime_tree_free(); the parser is freed and *mpp set to NULL. */
struct mime_tree *mime_parser_end(struct mime_parser **mpp);
/* Drops a parser (and its tree) without finishing; accepts NULL. */
void mime_parser_free(struct mime_parser **mpp);

/* The tree of the message p[0..n) in one call. */
struct mime_tree *mime_parse(
    const void *p, size_t n, const struct mime_limits *lim);

#endif
