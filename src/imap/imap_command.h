/*
 * A parsed IMAP command (RFC 9051 6 and 9, RFC 3501 6 and 9, and the
 * extensions of issue #10): tag, name, UID prefix and typed arguments of
 * every command. imap_command_parse() is a pure function over one framed
 * command (what imap_reader frames); the reader calls it. Slices point
 * into the frame, which the parser changes in place (quoted strings are
 * unescaped where they stand), and into its arena.
 *
 * Strings are bytes: mailbox names as sent (modified UTF-7, or UTF-8 when
 * opts->utf8; see imap_mutf7.h), flags and keywords as sent.
 */
#ifndef IMAP_IMAP_COMMAND_H
#define IMAP_IMAP_COMMAND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap/imap_fetch.h"
#include "imap/imap_parse.h"
#include "imap/imap_search.h"
#include "imap/imap_seqset.h"

struct imap_arena;

enum imap_cmd_id {
	IMAP_CMD_UNKNOWN,
	IMAP_CMD_CAPABILITY,
	IMAP_CMD_NOOP,
	IMAP_CMD_LOGOUT,
	IMAP_CMD_STARTTLS,
	IMAP_CMD_AUTHENTICATE,
	IMAP_CMD_LOGIN,
	IMAP_CMD_ENABLE,
	IMAP_CMD_SELECT,
	IMAP_CMD_EXAMINE,
	IMAP_CMD_CREATE,
	IMAP_CMD_DELETE,
	IMAP_CMD_RENAME,
	IMAP_CMD_SUBSCRIBE,
	IMAP_CMD_UNSUBSCRIBE,
	IMAP_CMD_LIST,
	IMAP_CMD_LSUB,
	IMAP_CMD_NAMESPACE,
	IMAP_CMD_STATUS,
	IMAP_CMD_APPEND,
	IMAP_CMD_IDLE,
	IMAP_CMD_CHECK,
	IMAP_CMD_CLOSE,
	IMAP_CMD_UNSELECT,
	IMAP_CMD_EXPUNGE,
	IMAP_CMD_SEARCH,
	IMAP_CMD_FETCH,
	IMAP_CMD_STORE,
	IMAP_CMD_COPY,
	IMAP_CMD_MOVE,
	IMAP_CMD_ID,
	IMAP_CMD_MAX,
};

/* The command's name in upper case ("FETCH"), or "UNKNOWN": static. */
const char *imap_cmd_name(enum imap_cmd_id id);

/* RFC 9051 2.3.2 system flags, as bits */
enum {
	IMAP_FLAG_ANSWERED = 1 << 0,
	IMAP_FLAG_FLAGGED = 1 << 1,
	IMAP_FLAG_DELETED = 1 << 2,
	IMAP_FLAG_SEEN = 1 << 3,
	IMAP_FLAG_DRAFT = 1 << 4,
};

/* A flag-list or flags of STORE: system flags as bits, keywords as sent
 * (RFC 9051 9 flag-keyword = atom; compare them case-insensitively). */
struct imap_flags {
	unsigned sys;
	struct imap_slice *kw;
	size_t nkw;
};

/* A mailbox name (RFC 9051 9 mailbox = "INBOX" / astring). */
struct imap_mailbox {
	struct imap_slice name; /* as sent, "INBOX" in any case kept */
	bool inbox;             /* case-insensitively "INBOX" (RFC 9051 5.1) */
};

struct imap_date_time {
	struct imap_date date;
	int hour, min, sec;
	int zone; /* minutes east of UTC: "-0700" is -420 */
};

/* RFC 9051 6.3.11 status-att, as bits (also LIST RETURN STATUS) */
enum {
	IMAP_STATUS_MESSAGES = 1 << 0,
	IMAP_STATUS_UIDNEXT = 1 << 1,
	IMAP_STATUS_UIDVALIDITY = 1 << 2,
	IMAP_STATUS_UNSEEN = 1 << 3,
	IMAP_STATUS_DELETED = 1 << 4,
	IMAP_STATUS_SIZE = 1 << 5,          /* RFC 8438 */
	IMAP_STATUS_RECENT = 1 << 6,        /* RFC 3501 */
	IMAP_STATUS_HIGHESTMODSEQ = 1 << 7, /* RFC 7162 */
	IMAP_STATUS_APPENDLIMIT = 1 << 8,   /* RFC 7889 */
};

/* LIST-EXTENDED (RFC 5258 3) and SPECIAL-USE (RFC 6154 5) options */
enum {
	IMAP_LIST_SEL_SUBSCRIBED = 1 << 0,
	IMAP_LIST_SEL_REMOTE = 1 << 1,
	IMAP_LIST_SEL_RECURSIVEMATCH = 1 << 2,
	IMAP_LIST_SEL_SPECIAL_USE = 1 << 3,
};
enum {
	IMAP_LIST_RET_SUBSCRIBED = 1 << 0,
	IMAP_LIST_RET_CHILDREN = 1 << 1,
	IMAP_LIST_RET_SPECIAL_USE = 1 << 2,
	IMAP_LIST_RET_STATUS = 1 << 3, /* RFC 5819 */
};

/* RFC 6154 2 use-attr, as bits */
enum {
	IMAP_USE_ALL = 1 << 0,
	IMAP_USE_ARCHIVE = 1 << 1,
	IMAP_USE_DRAFTS = 1 << 2,
	IMAP_USE_FLAGGED = 1 << 3,
	IMAP_USE_JUNK = 1 << 4,
	IMAP_USE_SENT = 1 << 5,
	IMAP_USE_TRASH = 1 << 6,
};

/* RFC 2971 3.3: at most 30 pairs, fields of 30 octets, values of 1024 */
#define IMAP_ID_PAIRS_MAX 30
#define IMAP_ID_FIELD_MAX 30
#define IMAP_ID_VALUE_MAX 1024

struct imap_append_msg {
	struct imap_flags flags; /* none when !has_flags */
	bool has_flags;
	bool has_date;
	struct imap_date_time date;
	size_t literal; /* index of its literal in the command */
	bool binary;    /* literal8 (RFC 3516 4.3) */
	bool utf8;      /* RFC 6855 4: "UTF8 (" literal8 ")" */
	bool streamed;  /* data went to the caller as IMAP_READ_DATA */
	uint64_t size;
	struct imap_slice data; /* kept literal; empty when streamed */
};

enum imap_store_op {
	IMAP_STORE_REPLACE, /* FLAGS */
	IMAP_STORE_ADD,     /* +FLAGS */
	IMAP_STORE_REMOVE,  /* -FLAGS */
};

struct imap_command {
	struct imap_slice tag;
	struct imap_slice name; /* as sent, after UID */
	enum imap_cmd_id id;
	bool uid; /* "UID" prefix (RFC 9051 6.4.9) */
	union {
		struct { /* AUTHENTICATE (RFC 9051 6.2.2, SASL-IR RFC 4959) */
			struct imap_slice mech;
			bool has_ir;          /* an initial response was sent */
			struct imap_slice ir; /* base64; "=" gives n == 0 */
		} authenticate;
		struct { /* LOGIN */
			struct imap_slice user, pass;
		} login;
		struct { /* ENABLE (RFC 5161): capability names */
			struct imap_slice *caps;
			size_t n;
		} enable;
		struct { /* SELECT, EXAMINE (RFC 4466 select-params) */
			struct imap_mailbox mbox;
			bool condstore; /* RFC 7162 3.1.8 */
		} select;
		struct { /* CREATE (RFC 6154 3 USE) */
			struct imap_mailbox mbox;
			unsigned use;
			bool
			    use_unknown; /* an unknown use-attr: NO [USEATTR] */
		} create;
		struct { /* DELETE, SUBSCRIBE, UNSUBSCRIBE */
			struct imap_mailbox mbox;
		} mailbox;
		struct { /* RENAME */
			struct imap_mailbox from, to;
		} rename;
		struct { /* LIST (RFC 5258, RFC 5819), LSUB (RFC 3501) */
			bool extended; /* options or several patterns given */
			unsigned select, ret, status;
			struct imap_mailbox ref;
			struct imap_slice *patterns; /* list-mailbox */
			size_t npatterns;
		} list;
		struct { /* STATUS */
			struct imap_mailbox mbox;
			unsigned items;
		} status;
		struct { /* APPEND (MULTIAPPEND RFC 3502, literal8 RFC 3516) */
			struct imap_mailbox mbox;
			struct imap_append_msg *msgs;
			size_t n;
		} append;
		struct { /* FETCH, STORE, COPY, MOVE, UID EXPUNGE: the set */
			struct imap_seqset set;
			struct imap_fetch fetch; /* FETCH */
			struct { /* STORE (RFC 7162 3.1.3 UNCHANGEDSINCE) */
				enum imap_store_op op;
				bool silent;
				struct imap_flags flags;
				bool has_unchangedsince;
				uint64_t unchangedsince;
			} store;
			struct imap_mailbox dest; /* COPY, MOVE */
		} msg;
		struct imap_search search; /* SEARCH */
		struct {                   /* ID (RFC 2971): NIL gives n == 0 */
			struct imap_slice *fields,
			    *values; /* value p NULL: NIL */
			size_t n;
		} id;
	} u;
};

/* A literal of a framed command. */
struct imap_frame_literal {
	size_t off; /* where its octets start in the frame (after CRLF) */
	uint64_t size;
	bool binary;   /* ~{n} */
	bool streamed; /* not stored: the frame goes on right after CRLF */
};

/* One whole command: its lines with their CRLF and its kept literals. */
struct imap_frame {
	char *data;
	size_t len;
	const struct imap_frame_literal *lit;
	size_t nlit;
};

/*
 * Parses the framed command into cmd: 0, or -1 with err filled (and
 * cmd->tag set when the tag was good, for the reply). Allocates from
 * arena (imap_arena_new) and changes frame->data in place; both must
 * outlive cmd. Limits as in struct imap_limits.
 */
int imap_command_parse(struct imap_frame *frame, const struct imap_limits *lim,
    const struct imap_parse_opts *opts, struct imap_arena *arena,
    struct imap_command *cmd, struct imap_parse_err *err) MW_MUST_CHECK;

/* A bump allocator bounded by max bytes, for parsed commands. */
struct imap_arena *imap_arena_new(size_t max);
/* Releases everything allocated since the last reset. */
void imap_arena_reset(struct imap_arena *a);
void imap_arena_free(struct imap_arena **a);

/* RFC 9051 6.3.13 / RFC 2177 3: the line that ends IDLE, "DONE" in any
 * case and nothing else. */
bool imap_idle_done(struct imap_slice line);

#endif
