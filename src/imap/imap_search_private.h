/*
 * What imap_search_eval.c (the program, cheap keys, the reply) and
 * imap_search_text.c (folding, matching, reading the message) share.
 */
#ifndef IMAP_IMAP_SEARCH_PRIVATE_H
#define IMAP_IMAP_SEARCH_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap/imap_search_eval.h"
#include "lib/buf.h"

struct mime_tree;

/* What a key needs beyond the store entry. */
enum search_need {
	SEARCH_NEED_NONE,
	SEARCH_NEED_ENV,    /* the tree's envelope (or the root header) */
	SEARCH_NEED_HEADER, /* the root header from the file */
	SEARCH_NEED_BODY,   /* BODY: text bodies */
	SEARCH_NEED_TEXT,   /* TEXT: every header and text body */
};

/* A folded needle and the bytes it must see again across a cut. */
struct search_matcher {
	char *needle; /* folded */
	size_t n;
	char *win; /* 2 * n bytes: the tail of what came, then the head
	              of what comes */
	size_t tail_n;
};

struct search_node {
	enum imap_search_key key;
	struct search_node *child, *next;
	enum search_need need;
	signed char val; /* this message: 1, 0, or -1 not known yet */
	union {
		struct {
			struct imap_seqset set; /* resolved, "$" not in it */
			bool saved;             /* "$": also env.saved_uids */
		} set;
		struct {
			int64_t lo, hi; /* internal date in [lo, hi) */
		} t;
		struct {
			int64_t lo, hi; /* day numbers: sent day in [lo, hi) */
		} day;
		uint64_t size;
		int kw; /* bit, or -1 */
	} u;
	/* string keys: the field (FROM is "From"; NULL for BODY, TEXT) */
	char *field;
	size_t field_n;
	int env; /* enum mime_env_field, or -1 */
	struct search_matcher m;
};

struct imap_search_prog {
	struct imap_search_env env;
	struct search_node *nodes; /* nodes[0] is the root */
	size_t n, nodes_max;
	size_t chunk;
	bool needs_content;
	bool needs_file; /* some key reads the file (not the envelope) */
	/* scratch for imap_search_text.c, kept between messages */
	char *rbuf; /* chunk bytes of the file */
	char *fold;
	size_t fold_cap;
	struct buf field, dec, conv, pend;
};

void search_matcher_reset(struct search_matcher *m);
/* Whether the needle occurs in what m saw before and s[0..n). */
bool search_matcher_feed(struct search_matcher *m, const char *s, size_t n);
/* Folds s[0..n) into p->fold (grown as needed); its length. */
size_t search_fold_into(struct imap_search_prog *p, const char *s, size_t n);

/* A character cut at the end of one piece of a stream. */
struct search_fold_carry {
	unsigned char b[4];
	size_t n;
};
/* search_fold_into() for a stream in pieces: a character cut at the end
 * waits in fc for the next piece unless more is false. */
size_t search_fold_stream(struct imap_search_prog *p,
    struct search_fold_carry *fc, const char *s, size_t n, bool more);

/* Three-valued: 1, 0, or -1 while some leaf under n is not known. */
int search_node_eval(const struct search_node *n);

/* Appends the folded form of s[0..n) (n grows the buffer) to *dst. */
void search_fold_str(const char *s, size_t n, char **dst, size_t *len_out);
/* Sets up m for the folded needle s[0..n) (owned by m afterwards). */
void search_matcher_init(struct search_matcher *m, char *s, size_t n);
void search_matcher_free(struct search_matcher *m);

/* The envelope keys (NEED_ENV) from tree; those it cannot answer are left
 * for the header. */
void search_eval_envelope(struct imap_search_prog *p, const struct store_msg *m,
    const struct mime_tree *tree);
/* Reads what the keys still unknown need from fd; every leaf is known
 * afterwards. 0, or -1 with errno. */
int search_eval_content(struct imap_search_prog *p, const struct store_msg *m,
    int fd, const struct mime_tree *tree);

/* RFC 5322 3.3 date: the day number of the date as written (its own
 * zone), or false. */
bool search_date_parse(const char *s, size_t n, int64_t *day_out);
/* Days since 1970-01-01 of a civil date. */
int64_t search_days_from_civil(int64_t y, int m, int d);
/* The day number of t in the local zone. */
int64_t search_local_day(int64_t t);

#endif
