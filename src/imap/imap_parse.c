/*
 * The IMAP command reader (see imap_parse.h): frames commands out of the
 * byte stream (RFC 9051 2.2.1: a command is lines ended by CRLF, and a line
 * that ends with a literal announcement continues after the literal's
 * octets) and hands each whole command to imap_command_parse(). What it
 * keeps is bounded by the limits: lines by line_max, the command by
 * command_max, literals by the caller's decision, made before their first
 * octet is read. A bad command is reported at once and the rest of it is
 * skipped unstored, following its literals so that the next command is
 * found where it starts.
 */
#include "imap/imap_parse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "imap/imap_command.h"
#include "imap/imap_parse_private.h"
#include "lib/buf.h"
#include "lib/parse.h"
#include "lib/xalloc.h"

// clang-format off
const struct imap_limits imap_limits_default = {
	.line_max = 65536,          /* Dovecot's imap_max_line_length */
	.literal_max = 65536,
	.command_max = 1024 * 1024,
	.args_max = 1000,
	.depth_max = 16,
	.arena_max = 1024 * 1024,
};
// clang-format on

enum reader_state {
	R_LINE,           /* reading a line of a command */
	R_LITERAL_WAIT,   /* a literal announced; the caller decides */
	R_LITERAL_KEEP,   /* reading a literal into the command */
	R_LITERAL_STREAM, /* passing a literal on as chunks */
	R_SKIP_LITERAL,   /* a bad command's literal, discarded */
	R_SKIP_LINE,      /* a bad command's line, discarded */
	R_RAW_LINE,       /* line mode */
	R_SKIP_RAW,       /* an overlong line in line mode */
};

/*
 * While a bad command is skipped, its lines are scanned byte by byte for a
 * literal announcement at their end, however many leading zeros its
 * number has: missing one would read the literal's octets as commands.
 */
enum scan_state {
	SCAN_NONE,
	SCAN_DIGITS, /* "{" and digits */
	SCAN_PLUS,   /* "{" digits "+" */
	SCAN_CLOSE,  /* ... "}" */
	SCAN_CR,     /* ... "}" CR: a literal if LF comes next */
};

struct lit_scan {
	enum scan_state state;
	size_t digits;
	uint64_t size;
	bool sync, overflow;
};
/* The longest tag the reader copies for error replies, and its space */
#define TAG_MAX  64
#define TAG_PEEK (TAG_MAX + 1)

struct imap_reader {
	struct imap_limits lim;
	struct imap_parse_opts opts;
	enum reader_state state;
	bool done; /* the last event ended a command: reset at next feed */
	bool want_line;
	struct buf cmd;    /* lines and kept literals of this command */
	size_t line_start; /* where the current line starts in cmd */
	struct imap_frame_literal *lit; /* grown on demand up to args_max */
	size_t nlit, lit_cap;
	struct imap_literal_info info;
	enum imap_cmd_id head_id; /* the command, once a literal is seen */
	bool mailbox_literal;     /* its first argument is a literal */
	uint64_t remaining;       /* octets of the current literal still due */
	bool lit_binary;
	char tag[TAG_MAX], name[32]; /* copies for errors and peeking */
	size_t tag_len, name_len;
	struct lit_scan scan;
	struct imap_parse_err err;
	struct imap_arena *arena;
	struct imap_command command;
	struct imap_slice chunk, line;
	bool chunk_last;
};

struct imap_reader *
imap_reader_new(
    const struct imap_limits *lim, const struct imap_parse_opts *opts)
{
	struct imap_reader *r = xcalloc(1, sizeof(*r));

	MW_ASSERT(lim->line_max > 0 && lim->literal_max > 0 &&
	    lim->command_max >= lim->line_max && lim->args_max > 0 &&
	    lim->depth_max > 0 && lim->arena_max > 0);
	r->lim = *lim;
	r->opts = *opts;
	buf_init(&r->cmd, lim->command_max);
	r->arena = imap_arena_new(lim->arena_max);
	return r;
}

void
imap_reader_free(struct imap_reader **r)
{
	if (*r == NULL)
		return;
	buf_free(&(*r)->cmd);
	free((*r)->lit);
	imap_arena_free(&(*r)->arena);
	free(*r);
	*r = NULL;
}

void
imap_reader_set_opts(struct imap_reader *r, const struct imap_parse_opts *opts)
{
	r->opts = *opts;
}

/* Forgets the command just finished; keeps little memory when idle. */
static void
reader_reset(struct imap_reader *r)
{
	if (r->cmd.cap > 4096) {
		buf_free(&r->cmd);
		buf_init(&r->cmd, r->lim.command_max);
	} else
		buf_reset(&r->cmd);
	r->line_start = 0;
	r->nlit = 0;
	if (r->lit_cap > 8) { /* an idle connection keeps little */
		free(r->lit);
		r->lit = NULL;
		r->lit_cap = 0;
	}
	r->tag_len = r->name_len = 0;
	r->scan.state = SCAN_NONE;
	r->head_id = IMAP_CMD_UNKNOWN;
	r->mailbox_literal = false;
	r->err = (struct imap_parse_err){ IMAP_ERR_NONE, NULL, false };
	memset(&r->command, 0, sizeof(r->command));
	imap_arena_reset(r->arena);
	r->done = false;
	r->state = r->want_line ? R_RAW_LINE : R_LINE;
}

/* Copies the tag and the command name from the start of a command, when
 * they are complete there (tag SP name). */
static void
reader_peek_names(struct imap_reader *r, const char *p, size_t n)
{
	size_t i = 0, t, a;

	for (;
	     i < n && imap_is_astring_char((unsigned char)p[i]) && p[i] != '+';
	     i++)
		;
	if (i == 0 || i >= n || p[i] != ' ')
		return;
	/* a tag too long to copy is not echoed, but the name still counts
	 * (APPEND's message literals are told apart by it) */
	if (i <= sizeof(r->tag)) {
		memcpy(r->tag, p, i);
		r->tag_len = i;
	}
	t = i;
	for (i = t + 1; i < n && imap_is_atom_char((unsigned char)p[i]); i++)
		;
	a = i - (t + 1);
	if (a == 3 && i < n && p[i] == ' ' && ascii_eq_n(p + t + 1, "UID", 3)) {
		t = i;
		for (i = t + 1; i < n && imap_is_atom_char((unsigned char)p[i]);
		     i++)
			;
		a = i - (t + 1);
	}
	if (a > 0 && a <= sizeof(r->name)) {
		memcpy(r->name, p + t + 1, a);
		r->name_len = a;
	}
}

/*
 * A literal announcement at the end of line[0..n) (CRLF not included):
 * RFC 9051 9 literal = "{" number64 ["+"] "}" CRLF; RFC 3516 4.3 literal8
 * = "~{" number64 ["+"] "}" CRLF. 1 when found, 0 when not, -1 for a
 * number past 2^63 - 1.
 */
static int
literal_tail(
    const char *line, size_t n, uint64_t *size, bool *sync, bool *binary)
{
	size_t i, digits;
	uint64_t v = 0;

	if (n < 3 || line[n - 1] != '}')
		return 0;
	i = n - 1;
	*sync = true;
	if (line[i - 1] == '+') {
		*sync = false;
		i--;
	}
	for (digits = 0; i > 0 && line[i - 1] >= '0' && line[i - 1] <= '9'; i--)
		digits++;
	if (digits == 0 || i == 0 || line[i - 1] != '{')
		return 0;
	*binary = i >= 2 && line[i - 2] == '~';
	for (; digits > 0; digits--, i++) {
		unsigned d = (unsigned)(line[i] - '0');

		if (v > ((uint64_t)INT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*size = v;
	return 1;
}

static enum imap_read
reader_fail(struct imap_reader *r, enum imap_err_code code, const char *text)
{
	r->err.code = code;
	r->err.text = text;
	if (r->tag_len == 0 && r->line_start == 0)
		reader_peek_names(
		    r, r->cmd.data ? r->cmd.data : "", r->cmd.len);
	return IMAP_READ_ERROR;
}

/* After a bad complete line: skip its literal, if any, and what follows
 * it, or end the command. */
static void
reader_skip_after_line(struct imap_reader *r, const char *line, size_t n)
{
	uint64_t size;
	bool sync, binary;
	int rc = literal_tail(line, n, &size, &sync, &binary);

	if (rc == 1 && !sync) {
		r->remaining = size;
		r->state = R_SKIP_LITERAL;
		return;
	}
	if (rc == -1 && !sync)
		r->err.fatal = true; /* cannot find the next command */
	/* a synchronizing literal will not come: the client saw no "+" */
	r->done = true;
}

/* Scans skipped bytes (no LF among them) for "{" number ["+"] "}" CR. */
static void
scan_bytes(struct lit_scan *sc, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '{') {
			*sc =
			    (struct lit_scan){ SCAN_DIGITS, 0, 0, true, false };
			continue;
		}
		switch (sc->state) {
		case SCAN_DIGITS:
			if (c >= '0' && c <= '9') {
				if (sc->size >
				    ((uint64_t)INT64_MAX - (c - '0')) / 10)
					sc->overflow = true;
				else
					sc->size = sc->size * 10 + (c - '0');
				sc->digits++;
			} else if (sc->digits > 0 && c == '+') {
				sc->sync = false;
				sc->state = SCAN_PLUS;
			} else if (sc->digits > 0 && c == '}')
				sc->state = SCAN_CLOSE;
			else
				sc->state = SCAN_NONE;
			break;
		case SCAN_PLUS:
			sc->state = c == '}' ? SCAN_CLOSE : SCAN_NONE;
			break;
		case SCAN_CLOSE:
			sc->state = c == '\r' ? SCAN_CR : SCAN_NONE;
			break;
		case SCAN_NONE:
		case SCAN_CR:
			sc->state = SCAN_NONE;
			break;
		}
	}
}

/* Enters R_SKIP_LINE for the current line, whose start is in cmd. */
static void
reader_skip_line(struct imap_reader *r)
{
	r->scan.state = SCAN_NONE;
	scan_bytes(
	    &r->scan, r->cmd.data + r->line_start, r->cmd.len - r->line_start);
	r->state = R_SKIP_LINE;
}

/* RFC 9051 2.2.1: lines end with CRLF; NUL and bare CR are not CHARs and
 * never part of a line (RFC 9051 9 CHAR, TEXT-CHAR). */
static const char *
line_check(const char *line, size_t n)
{
	size_t i;

	if (n < 2 || line[n - 2] != '\r')
		return "Line must end with CRLF";
	for (i = 0; i + 2 < n; i++) {
		if (line[i] == '\0')
			return "NUL in command";
		if (line[i] == '\r')
			return "CR without LF in command";
	}
	return NULL;
}

/* A whole line is in cmd[line_start..): a literal follows, or the command
 * is complete and is parsed. */
static enum imap_read
reader_line_done(struct imap_reader *r)
{
	const char *line = r->cmd.data + r->line_start, *bad;
	size_t n = r->cmd.len - r->line_start;
	struct imap_literal_info *info = &r->info;
	struct imap_frame frame;
	int rc;

	if (r->line_start == 0)
		reader_peek_names(r, line, n);
	if ((bad = line_check(line, n)) != NULL) {
		reader_skip_after_line(
		    r, line, n >= 2 && line[n - 2] == '\r' ? n - 2 : n - 1);
		return reader_fail(r, IMAP_ERR_BAD, bad);
	}
	rc = literal_tail(line, n - 2, &info->size, &info->sync, &info->binary);
	if (rc == -1) {
		reader_skip_after_line(r, line, n - 2);
		return reader_fail(r, IMAP_ERR_BAD, "Literal size too big");
	}
	if (rc == 1) {
		/* RFC 9051 7.5: a command already known to be bad gets its
		 * BAD instead of a continuation */
		if (r->line_start == 0) {
			size_t args;

			if (imap_command_check_head(line, n, &r->lim, &r->opts,
			        &r->head_id, &args, &r->err) == -1) {
				reader_skip_after_line(r, line, n - 2);
				return IMAP_READ_ERROR;
			}
			/* APPEND's first argument, the mailbox, may be a
			 * literal too */
			r->mailbox_literal = line[args] == '{';
		}
		if (r->nlit == r->lim.args_max) {
			reader_skip_after_line(r, line, n - 2);
			return reader_fail(
			    r, IMAP_ERR_LIMIT, "Too many literals");
		}
		/* RFC 7888 4: LITERAL- allows non-synchronizing literals
		 * of at most 4096 octets; above, a tagged BAD [TOOBIG] */
		if (!info->sync && !r->opts.literal_plus &&
		    info->size > IMAP_LITERAL_MINUS_MAX) {
			reader_skip_after_line(r, line, n - 2);
			return reader_fail(r, IMAP_ERR_TOOBIG_BAD,
			    "Non-synchronizing literal too big (LITERAL-)");
		}
		info->over = info->size > r->lim.literal_max ||
		    info->size > r->lim.command_max - r->cmd.len;
		info->index = r->nlit;
		info->append_message = r->head_id == IMAP_CMD_APPEND &&
		    (r->nlit > 0 || !r->mailbox_literal);
		r->state = R_LITERAL_WAIT;
		return IMAP_READ_LITERAL;
	}
	r->done = true;
	frame = (struct imap_frame){ r->cmd.data, r->cmd.len, r->lit, r->nlit };
	if (imap_command_parse(&frame, &r->lim, &r->opts, r->arena, &r->command,
	        &r->err) == -1)
		return IMAP_READ_ERROR;
	return IMAP_READ_COMMAND;
}

/* R_LINE and R_RAW_LINE: appends up to the next LF. */
static enum imap_read
reader_feed_line(struct imap_reader *r, const char *p, size_t len, size_t *used)
{
	const char *lf = memchr(p, '\n', len);
	size_t chunk = lf != NULL ? (size_t)(lf - p) + 1 : len;
	size_t cur = r->cmd.len - r->line_start;
	bool raw = r->state == R_RAW_LINE;

	if (chunk > r->lim.line_max - cur ||
	    (!raw && chunk > r->lim.command_max - r->cmd.len)) {
		/* keep the start of the first line, for the tag (and the
		 * space after it) */
		if (r->line_start == 0 && cur < TAG_PEEK) {
			/* never the LF: the skip must see it */
			size_t k = chunk - (lf != NULL);

			if (k > TAG_PEEK - cur)
				k = TAG_PEEK - cur;

			if (buf_append(&r->cmd, p, k) == 0) {
				*used = k;
				p += k, len -= k;
			}
		}
		if (raw) {
			r->want_line = false;
			r->state = R_SKIP_RAW;
			return reader_fail(
			    r, IMAP_ERR_TOOBIG_BAD, "Line too long");
		}
		reader_skip_line(r);
		return reader_fail(r, IMAP_ERR_TOOBIG_BAD,
		    cur + chunk > r->lim.line_max ? "Line too long"
		                                  : "Command too long");
	}
	if (buf_append(&r->cmd, p, chunk) == -1)
		return reader_fail(r, IMAP_ERR_TOOBIG_BAD, "Command too long");
	*used = chunk;
	if (lf == NULL)
		return IMAP_READ_MORE;
	if (!raw)
		return reader_line_done(r);
	r->done = true;
	r->want_line = false;
	{
		const char *bad = line_check(r->cmd.data, r->cmd.len);

		if (bad != NULL)
			return reader_fail(r, IMAP_ERR_BAD, bad);
	}
	r->line = (struct imap_slice){ r->cmd.data, r->cmd.len - 2 };
	return IMAP_READ_LINE;
}

/* The literal's octets p[0..n): RFC 9051 9 literal = ... *CHAR8, no NUL;
 * literal8 may hold any OCTET (RFC 3516 4.3). */
static bool
literal_ok(const struct imap_reader *r, const char *p, size_t n)
{
	return r->lit_binary || memchr(p, '\0', n) == NULL;
}

/* Ends the current literal: the command goes on with a new line. */
static void
literal_end(struct imap_reader *r)
{
	r->line_start = r->cmd.len;
	r->state = R_LINE;
}

enum imap_read
imap_reader_feed(
    struct imap_reader *r, const void *data, size_t len, size_t *used_out)
{
	const char *p = data;
	size_t used = 0, k;
	const char *lf;
	enum imap_read ev;

	MW_ASSERT(r->state != R_LITERAL_WAIT);
	if (r->done)
		reader_reset(r);
	while (used < len || r->state == R_LITERAL_STREAM) {
		size_t avail = len - used;

		switch (r->state) {
		case R_LINE:
		case R_RAW_LINE:
			k = 0;
			ev = reader_feed_line(r, p + used, avail, &k);
			used += k;
			if (ev != IMAP_READ_MORE) {
				*used_out = used;
				return ev;
			}
			break;
		case R_LITERAL_KEEP:
			k = avail < r->remaining ? avail : (size_t)r->remaining;
			if (!literal_ok(r, p + used, k)) {
				r->state = R_SKIP_LITERAL;
				*used_out = used;
				return reader_fail(
				    r, IMAP_ERR_BAD, "NUL in literal");
			}
			if (buf_append(&r->cmd, p + used, k) == -1)
				log_panic(
				    "imap: literal past its checked size");
			used += k;
			if ((r->remaining -= k) == 0)
				literal_end(r);
			break;
		case R_LITERAL_STREAM:
			k = avail < r->remaining ? avail : (size_t)r->remaining;
			if (k == 0 && r->remaining > 0) {
				*used_out = used;
				return IMAP_READ_MORE;
			}
			if (!literal_ok(r, p + used, k)) {
				r->state = R_SKIP_LITERAL;
				*used_out = used;
				return reader_fail(
				    r, IMAP_ERR_BAD, "NUL in literal");
			}
			r->chunk = (struct imap_slice){ p + used, k };
			used += k;
			r->chunk_last = (r->remaining -= k) == 0;
			if (r->chunk_last)
				literal_end(r);
			*used_out = used;
			return IMAP_READ_DATA;
		case R_SKIP_LITERAL:
			k = avail < r->remaining ? avail : (size_t)r->remaining;
			used += k;
			if ((r->remaining -= k) == 0) {
				r->scan.state = SCAN_NONE;
				r->state = R_SKIP_LINE;
			}
			break;
		case R_SKIP_LINE:
		case R_SKIP_RAW:
			lf = memchr(p + used, '\n', avail);
			k = lf != NULL ? (size_t)(lf - (p + used)) : avail;
			scan_bytes(&r->scan, p + used, k);
			used += k;
			if (lf == NULL)
				break;
			used++; /* the LF */
			if (r->state == R_SKIP_LINE &&
			    r->scan.state == SCAN_CR && !r->scan.sync) {
				if (r->scan.overflow) {
					/* RFC 7888 4 leaves reading or closing;
					 * unreadable, so closing */
					r->done = true;
					*used_out = used;
					r->err = (struct imap_parse_err){
						IMAP_ERR_BAD,
						"Literal size too big", true
					};
					return IMAP_READ_ERROR;
				}
				r->remaining = r->scan.size;
				r->state = R_SKIP_LITERAL;
				break;
			}
			reader_reset(r);
			break;
		case R_LITERAL_WAIT:
			log_panic(
			    "imap: reader fed before the literal was decided");
		}
	}
	*used_out = used;
	return IMAP_READ_MORE;
}

const struct imap_literal_info *
imap_reader_literal(const struct imap_reader *r)
{
	return &r->info;
}

struct imap_slice
imap_reader_tag(const struct imap_reader *r)
{
	return (struct imap_slice){ r->tag, r->tag_len };
}

struct imap_slice
imap_reader_name(const struct imap_reader *r)
{
	return (struct imap_slice){ r->name, r->name_len };
}

int
imap_reader_literal_take(struct imap_reader *r, enum imap_literal_mode mode)
{
	struct imap_frame_literal *lit;

	MW_ASSERT(r->state == R_LITERAL_WAIT);
	if (mode == IMAP_LITERAL_KEEP && r->info.over) {
		errno = EINVAL;
		return -1;
	}
	if (r->nlit == r->lit_cap) { /* nlit < args_max: checked at the line */
		r->lit_cap = r->lit_cap == 0 ? 4 : r->lit_cap * 2;
		if (r->lit_cap > r->lim.args_max)
			r->lit_cap = r->lim.args_max;
		r->lit = xreallocarray(r->lit, r->lit_cap, sizeof(*r->lit));
	}
	lit = &r->lit[r->nlit++];
	lit->off = r->cmd.len;
	lit->size = r->info.size;
	lit->binary = r->info.binary;
	lit->streamed = mode == IMAP_LITERAL_STREAM;
	r->remaining = r->info.size;
	r->lit_binary = r->info.binary;
	if (mode == IMAP_LITERAL_STREAM)
		r->state = R_LITERAL_STREAM;
	else if (r->remaining == 0)
		literal_end(r);
	else
		r->state = R_LITERAL_KEEP;
	return 0;
}

void
imap_reader_literal_refuse(struct imap_reader *r)
{
	MW_ASSERT(r->state == R_LITERAL_WAIT);
	r->err = (struct imap_parse_err){ IMAP_ERR_TOOBIG, "Literal too big",
		false };
	if (r->info.sync) {
		r->done = true; /* RFC 9051 7.5: no "+", no octets */
		r->state = R_LINE;
		return;
	}
	r->remaining = r->info.size;
	r->state = R_SKIP_LITERAL;
}

struct imap_slice
imap_reader_data(const struct imap_reader *r, bool *last_out)
{
	*last_out = r->chunk_last;
	return r->chunk;
}

const struct imap_command *
imap_reader_command(const struct imap_reader *r)
{
	return &r->command;
}

const struct imap_parse_err *
imap_reader_error(const struct imap_reader *r, struct imap_slice *tag_out)
{
	/* the parsed tag when there is one: it may be longer than the copy */
	if (r->command.tag.n > 0)
		*tag_out = r->command.tag;
	else
		*tag_out = (struct imap_slice){ r->tag, r->tag_len };
	return &r->err;
}

void
imap_reader_want_line(struct imap_reader *r)
{
	r->want_line = true;
	if (!r->done && r->state == R_LINE && r->cmd.len == 0)
		r->state = R_RAW_LINE;
}

struct imap_slice
imap_reader_line(const struct imap_reader *r)
{
	return r->line;
}

int
imap_parse_err_reply(
    const struct imap_parse_err *err, struct imap_slice tag, struct buf *out)
{
	size_t start = out->len;
	const char *code = "";
	const char *kind = "BAD";
	int rc;

	switch (err->code) {
	case IMAP_ERR_TOOBIG:
		kind = "NO";
		code = "[TOOBIG] ";
		break;
	case IMAP_ERR_TOOBIG_BAD:
		code = "[TOOBIG] ";
		break;
	case IMAP_ERR_LIMIT:
		code = "[LIMIT] ";
		break;
	case IMAP_ERR_BADCHARSET:
		kind = "NO";
		code = "[BADCHARSET (UTF-8 US-ASCII)] ";
		break;
	case IMAP_ERR_NONE:
	case IMAP_ERR_BAD:
	case IMAP_ERR_UNKNOWN:
		break;
	}
	if (tag.n == 0)
		rc = buf_printf(out, "* %s %s%s\r\n", kind, code, err->text);
	else
		rc = buf_printf(out, "%.*s %s %s%s\r\n", (int)tag.n, tag.p,
		    kind, code, err->text);
	if (rc == -1)
		buf_truncate(out, start);
	return rc;
}
