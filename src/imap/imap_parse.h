/*
 * The IMAP command reader: fed the bytes of a connection as they arrive,
 * it frames one command at a time, its lines and its literals (RFC 9051
 * 4.3, 7.5; RFC 3501 7.5), and then parses it (imap_command.h). No I/O, no
 * globals; every limit comes from struct imap_limits and memory stays
 * bounded by them whatever a client announces.
 *
 * Literals: "{n}" (synchronizing: the caller sends "+ ..." before the
 * client sends the octets), "{n+}" (LITERAL+ / LITERAL-, RFC 7888), and
 * "~{n}" / "~{n+}" (literal8, RFC 3516). Each literal is reported to the
 * caller before any of its octets is read; the caller accepts it (kept in
 * the command, or streamed to it chunk by chunk for APPEND), or refuses it
 * (then the reader skips a non-synchronizing literal's octets unstored and
 * the rest of the command).
 *
 * The session still decides what a command means in its state; the reader
 * only says what was sent. Its read callback looks like this:
 *
 *	while ((n = evbuffer_get_length(in)) > 0) {
 *		p = evbuffer_pullup(in, n);
 *		ev = imap_reader_feed(r, p, n, &used);
 *		switch (ev) {
 *		case IMAP_READ_LITERAL:	 // append_message: STREAM to a file
 *					 // within the APPENDLIMIT; others:
 *					 // KEEP if !over, else refuse, reply
 *		case IMAP_READ_DATA:	 // write the chunk (before draining)
 *		case IMAP_READ_COMMAND:	 // dispatch imap_reader_command(r)
 *		case IMAP_READ_LINE:	 // AUTHENTICATE response, DONE
 *		case IMAP_READ_ERROR:	 // imap_parse_err_reply(), BYE if fatal
 *		case IMAP_READ_MORE:	 // wait for more input
 *		}
 *		evbuffer_drain(in, used);
 *	}
 *
 * and sends "+ Ready" after taking a synchronizing literal.
 */
#ifndef IMAP_IMAP_PARSE_H
#define IMAP_IMAP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/mw.h"

struct buf;
struct imap_command;

/* Every bound of the parser; all must be > 0. */
struct imap_limits {
	/* One line of a command outside its literals, CRLF included.
	 * RFC 7162 4 asks clients to stay within 8192 octets; Dovecot
	 * accepts 64 KiB (imap_max_line_length). */
	size_t line_max;
	/* One literal kept in memory (mailbox names, strings, passwords). */
	size_t literal_max;
	/* All lines and kept literals of one command. */
	size_t command_max;
	/* Arguments of one command: literals, list items, search keys,
	 * fetch items, flags, each count once; a sequence set counts once
	 * (its ranges are bounded by the line: clients send long UID sets). */
	size_t args_max;
	/* Nesting of parenthesised lists and SEARCH groups. */
	size_t depth_max;
	/* Bytes of parsed structure per command (its bump arena). */
	size_t arena_max;
};

/* Our defaults: Dovecot's line length, 64 KiB literals held in memory
 * (APPEND bodies stream), 1000 arguments, nesting 16. */
extern const struct imap_limits imap_limits_default;

/*
 * What went wrong, and so what to answer. IMAP_ERR_BAD means a tagged BAD
 * (RFC 9051 7.1.5); IMAP_ERR_TOOBIG "NO [TOOBIG]" (RFC 5530 3), or "BAD
 * [TOOBIG]" for a LITERAL- violation (RFC 7888 4); IMAP_ERR_BADCHARSET
 * "NO [BADCHARSET (UTF-8 US-ASCII)]" (RFC 9051 6.4.4).
 */
enum imap_err_code {
	IMAP_ERR_NONE,
	IMAP_ERR_BAD,        /* syntax: tagged BAD */
	IMAP_ERR_UNKNOWN,    /* unknown command: tagged BAD */
	IMAP_ERR_TOOBIG,     /* a refused literal: NO [TOOBIG] */
	IMAP_ERR_TOOBIG_BAD, /* line, command or LITERAL- past a limit:
	                        BAD [TOOBIG] */
	IMAP_ERR_LIMIT,      /* too many arguments, too deep: BAD [LIMIT] */
	IMAP_ERR_BADCHARSET, /* SEARCH CHARSET other than UTF-8/US-ASCII */
};

struct imap_parse_err {
	enum imap_err_code code;
	const char *text; /* static, printable ASCII, for the reply */
	/* the reader cannot find the next command (a non-synchronizing
	 * literal of an unreadable size): answer, then close */
	bool fatal;
};

struct imap_slice {
	const char *p;
	size_t n;
};

/*
 * Appends the reply for err: "tag BAD text", "tag NO [TOOBIG] text",
 * "tag NO [BADCHARSET (UTF-8 US-ASCII)] text", ... with CRLF; "*" when
 * tag is empty (RFC 9051 7.1: a BAD without a usable tag is untagged).
 * 0, or -1 with ENOBUFS past out's ceiling.
 */
int imap_parse_err_reply(const struct imap_parse_err *err,
    struct imap_slice tag, struct buf *out) MW_MUST_CHECK;

/* Parser options the session changes with ENABLE and capabilities. */
struct imap_parse_opts {
	/* RFC 9051 9 / RFC 6855 3: UTF-8 in quoted strings (IMAP4rev2 or
	 * UTF8=ACCEPT enabled). */
	bool utf8;
	/* RFC 7888 3: LITERAL+ advertised; otherwise LITERAL- (RFC 7888 4,
	 * and IMAP4rev2): a non-synchronizing literal above 4096 octets is
	 * refused with a tagged BAD [TOOBIG]. */
	bool literal_plus;
};

/* RFC 7888 4: the largest non-synchronizing literal under LITERAL-. */
#define IMAP_LITERAL_MINUS_MAX 4096

struct imap_reader;

enum imap_read {
	IMAP_READ_MORE,    /* every byte given was used: feed more */
	IMAP_READ_LITERAL, /* a literal was announced: imap_reader_literal() */
	IMAP_READ_DATA,    /* a chunk of a streamed literal */
	IMAP_READ_COMMAND, /* a whole command: imap_reader_command() */
	IMAP_READ_LINE,    /* in line mode: one line, imap_reader_line() */
	IMAP_READ_ERROR,   /* the command is bad: imap_reader_error() */
};

/* A literal announcement, as IMAP_READ_LITERAL reports it. */
struct imap_literal_info {
	uint64_t size;
	bool sync;    /* "{n}": the client waits for "+" */
	bool binary;  /* "~{n}" (RFC 3516 4.3) */
	bool over;    /* size > literal_max or past command_max */
	size_t index; /* 0 for the command's first literal */
	/* a message of APPEND (not its mailbox name): the one literal that
	 * may be streamed (RFC 9051 6.3.12, RFC 3502) */
	bool append_message;
};

/* How the caller takes an announced literal. */
enum imap_literal_mode {
	IMAP_LITERAL_KEEP,   /* stored in the command (not when over) */
	IMAP_LITERAL_STREAM, /* given as IMAP_READ_DATA chunks, not stored */
};

/*
 * A reader that frames commands under lim (copied). Free with
 * imap_reader_free(). The reader owns every command and line it returns;
 * they live until the next imap_reader_feed().
 */
struct imap_reader *imap_reader_new(
    const struct imap_limits *lim, const struct imap_parse_opts *opts);
void imap_reader_free(struct imap_reader **r);
/* Changes the options (after ENABLE); they apply to the bytes fed from
 * now on, so call it between commands. */
void imap_reader_set_opts(
    struct imap_reader *r, const struct imap_parse_opts *opts);

/*
 * Consumes bytes from data[0..len) up to the next event and returns it;
 * *used_out says how many bytes were consumed (the caller drops them from
 * its input and calls again with the rest). Never keeps a pointer into
 * data except for IMAP_READ_DATA, whose chunk is inside data.
 * After IMAP_READ_LITERAL the caller must call imap_reader_literal_take()
 * or imap_reader_literal_refuse() before feeding again.
 */
enum imap_read imap_reader_feed(
    struct imap_reader *r, const void *data, size_t len, size_t *used_out);

/* The announcement behind IMAP_READ_LITERAL. */
const struct imap_literal_info *imap_reader_literal(
    const struct imap_reader *r);
/* The tag and command name read so far (empty slices when not yet read),
 * e.g. to decide whether a literal is an APPEND message. */
struct imap_slice imap_reader_tag(const struct imap_reader *r);
struct imap_slice imap_reader_name(const struct imap_reader *r);
/*
 * Accepts the announced literal. For a synchronizing one the caller now
 * sends "+ Ready for literal data" (RFC 9051 7.5). KEEP is refused (-1,
 * EINVAL) when info->over; STREAM is always allowed. 0 or -1.
 */
int imap_reader_literal_take(
    struct imap_reader *r, enum imap_literal_mode mode) MW_MUST_CHECK;
/*
 * Refuses the announced literal: the caller answers the command now;
 * imap_reader_error() gives NO [TOOBIG] and the tag for it. A synchronizing
 * literal's octets will not come (the client saw no "+"); a non-synchronizing
 * literal's are skipped unstored, as is the rest of its command.
 */
void imap_reader_literal_refuse(struct imap_reader *r);

/* The chunk behind IMAP_READ_DATA: inside the data just fed. *last_out
 * is true for the literal's final chunk. */
struct imap_slice imap_reader_data(const struct imap_reader *r, bool *last_out);

/*
 * The command behind IMAP_READ_COMMAND, parsed (see imap_command.h). It
 * and every slice in it live until the next imap_reader_feed().
 */
const struct imap_command *imap_reader_command(const struct imap_reader *r);

/* The error behind IMAP_READ_ERROR and the command's tag when it was read
 * (empty otherwise: answer untagged). The reader goes on skipping what is
 * left of the bad command without storing it; should that reveal a
 * non-synchronizing literal of unreadable size, a second error with
 * fatal set follows (answer BYE and close). */
const struct imap_parse_err *imap_reader_error(
    const struct imap_reader *r, struct imap_slice *tag_out);

/*
 * Line mode, for AUTHENTICATE responses (RFC 9051 6.2.2) and IDLE's "DONE"
 * (RFC 9051 6.3.13): the next line is returned as IMAP_READ_LINE without
 * its CRLF, literals are not looked for; back to command mode after it.
 */
void imap_reader_want_line(struct imap_reader *r);
struct imap_slice imap_reader_line(const struct imap_reader *r);

#endif
