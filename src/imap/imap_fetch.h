/*
 * Parsed FETCH attributes (RFC 9051 6.4.5 and 9 "fetch-att", RFC 3501
 * 6.4.5, BINARY of RFC 3516 4.2): macros expanded, sections and partials
 * checked against the grammar. Built by imap_command_parse() for FETCH and
 * UID FETCH; answering them is the session's job (which also adds UID to
 * a UID FETCH, RFC 9051 6.4.9).
 */
#ifndef IMAP_IMAP_FETCH_H
#define IMAP_IMAP_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap/imap_parse.h"

enum imap_fetch_att {
	IMAP_FA_ENVELOPE,
	IMAP_FA_FLAGS,
	IMAP_FA_INTERNALDATE,
	IMAP_FA_RFC822_SIZE,
	IMAP_FA_RFC822,        /* RFC 3501: BODY[] */
	IMAP_FA_RFC822_HEADER, /* RFC 3501: BODY.PEEK[HEADER] */
	IMAP_FA_RFC822_TEXT,   /* RFC 3501: BODY[TEXT] */
	IMAP_FA_BODY,          /* non-extensible BODYSTRUCTURE */
	IMAP_FA_BODYSTRUCTURE,
	IMAP_FA_UID,
	IMAP_FA_BODY_SECTION, /* BODY[...] and BODY.PEEK[...] */
	IMAP_FA_BINARY,       /* BINARY[...] and BINARY.PEEK[...] */
	IMAP_FA_BINARY_SIZE,
};

/* RFC 9051 9 section-msgtext / section-text */
enum imap_section_text {
	IMAP_SECTION_ALL, /* "BODY[]" or "BODY[1.2]": the part itself */
	IMAP_SECTION_HEADER,
	IMAP_SECTION_HEADER_FIELDS,
	IMAP_SECTION_HEADER_FIELDS_NOT,
	IMAP_SECTION_TEXT,
	IMAP_SECTION_MIME, /* only after a part number */
};

/* The most part numbers in a section ("1.2.3"); deeper MIME trees are
 * not addressed by real clients, and Dovecot stops at 100 levels too. */
#define IMAP_SECTION_PARTS_MAX 32

struct imap_fetch_item {
	enum imap_fetch_att att;
	bool peek; /* BODY.PEEK / BINARY.PEEK: \Seen not set */
	/* section-part, nz-numbers: parts[0..nparts) */
	uint32_t parts[IMAP_SECTION_PARTS_MAX];
	size_t nparts;
	enum imap_section_text text;
	struct imap_slice *fields; /* HEADER.FIELDS [.NOT] names */
	size_t nfields;
	bool partial; /* "<offset.count>" given */
	uint64_t offset, count;
};

struct imap_fetch {
	struct imap_fetch_item *items;
	size_t n;
	/* RFC 7162 3.1.4.1 CHANGEDSINCE fetch modifier, for CONDSTORE */
	bool has_changedsince;
	uint64_t changedsince;
};

#endif
