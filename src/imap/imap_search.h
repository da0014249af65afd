/*
 * A parsed SEARCH program (RFC 9051 6.4.4 and 9 "search-program", RFC 3501
 * 6.4.4, ESEARCH RETURN options of RFC 4731 3 and SAVE of RFC 5182 2.1):
 * a bounded tree of search keys. Built by imap_command_parse() for SEARCH
 * and UID SEARCH; evaluating it is the mail store's job.
 */
#ifndef IMAP_IMAP_SEARCH_H
#define IMAP_IMAP_SEARCH_H

#include <stdbool.h>
#include <stdint.h>

#include "imap/imap_parse.h"
#include "imap/imap_seqset.h"

struct imap_date {
	int year, mon, day; /* mon 1..12, day 1..31 (valid for the month) */
};

enum imap_search_key {
	IMAP_SK_AND, /* a parenthesised group, or the whole program */
	IMAP_SK_OR,  /* two children */
	IMAP_SK_NOT, /* one child */
	IMAP_SK_SEQSET,
	IMAP_SK_UID,
	IMAP_SK_ALL,
	IMAP_SK_ANSWERED,
	IMAP_SK_DELETED,
	IMAP_SK_DRAFT,
	IMAP_SK_FLAGGED,
	IMAP_SK_SEEN,
	IMAP_SK_UNANSWERED,
	IMAP_SK_UNDELETED,
	IMAP_SK_UNDRAFT,
	IMAP_SK_UNFLAGGED,
	IMAP_SK_UNSEEN,
	IMAP_SK_NEW,    /* RFC 3501: RECENT UNSEEN */
	IMAP_SK_OLD,    /* RFC 3501: NOT RECENT */
	IMAP_SK_RECENT, /* RFC 3501 */
	IMAP_SK_KEYWORD,
	IMAP_SK_UNKEYWORD,
	IMAP_SK_BEFORE, /* internal date */
	IMAP_SK_ON,
	IMAP_SK_SINCE,
	IMAP_SK_SENTBEFORE, /* Date: header */
	IMAP_SK_SENTON,
	IMAP_SK_SENTSINCE,
	IMAP_SK_LARGER,
	IMAP_SK_SMALLER,
	IMAP_SK_BCC, /* string keys: substring of the decoded field */
	IMAP_SK_CC,
	IMAP_SK_FROM,
	IMAP_SK_SUBJECT,
	IMAP_SK_TO,
	IMAP_SK_BODY,
	IMAP_SK_TEXT,
	IMAP_SK_HEADER, /* field and value */
};

struct imap_search_node {
	enum imap_search_key key;
	struct imap_search_node *child; /* AND: first of a list; OR: two */
	struct imap_search_node *next;  /* the next sibling */
	union {
		struct imap_seqset set; /* SEQSET, UID (as parsed) */
		struct imap_date date;  /* BEFORE ... SENTSINCE */
		uint64_t size;          /* LARGER, SMALLER (number64) */
		struct imap_slice str;  /* string keys, KEYWORD, UNKEYWORD */
		struct {
			struct imap_slice field, value;
		} header;
	} u;
};

/* RFC 4731 3 search-return-opt, as bits. */
enum {
	IMAP_SEARCH_RET_MIN = 1 << 0,
	IMAP_SEARCH_RET_MAX = 1 << 1,
	IMAP_SEARCH_RET_ALL = 1 << 2,
	IMAP_SEARCH_RET_COUNT = 1 << 3,
	IMAP_SEARCH_RET_SAVE = 1 << 4, /* RFC 5182 2.1 */
};

enum imap_charset {
	IMAP_CHARSET_DEFAULT, /* none given: US-ASCII, or UTF-8 (rev2) */
	IMAP_CHARSET_US_ASCII,
	IMAP_CHARSET_UTF8,
};

struct imap_search {
	/* RETURN was given: answer with ESEARCH (RFC 4731 3). "RETURN ()"
	 * means ALL; ret holds the bits then. */
	bool esearch;
	unsigned ret;
	enum imap_charset charset;
	struct imap_search_node *root; /* IMAP_SK_AND of the top keys */
	size_t nodes;
	bool uses_saved; /* some sequence set is "$" (RFC 5182 2.2) */
};

#endif
