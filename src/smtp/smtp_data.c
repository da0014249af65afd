/*
 * The DATA and BDAT body decoders (see smtp_data.h): byte-at-a-time state
 * machines, so that input may be split anywhere, that append runs of plain
 * text in one go. Writing the stored bytes to the queue file, and refusing
 * bare LFs or oversized messages, is the session's job.
 */
#include <errno.h>

#include "lib/buf.h"
#include "smtp/smtp_data.h"

enum smtp_data_state {
	/* DATA: a line is a run of bytes ended by CRLF (RFC 5321 2.3.8) */
	SMTP_DATA_S_BOL,    /* at the start of a line */
	SMTP_DATA_S_TEXT,   /* inside a line */
	SMTP_DATA_S_CR,     /* inside a line, after a CR (not yet stored) */
	SMTP_DATA_S_DOT,    /* after a "." at the start of a line */
	SMTP_DATA_S_DOT_CR, /* after ".<CR>" at the start of a line */
	SMTP_DATA_S_DONE,   /* after <CRLF>.<CRLF> */
	/* BDAT */
	SMTP_BDAT_S_TEXT, /* outside a CRLF */
	SMTP_BDAT_S_CR,   /* after a CR (not yet stored) */
	SMTP_BDAT_S_DONE, /* after the LAST chunk */
};

/* Notes what the consumed bytes in[0..n) hold. */
static void
smtp_data_scan(struct smtp_data *d, const char *in, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c >= 0x80)
			d->saw_8bit = true;
		else if (c == '\0')
			d->saw_nul = true;
		else if (c == '\n')
			d->saw_bare_lf = true; /* a CRLF never reaches here */
	}
}

/* Room left in out. */
static size_t
smtp_data_room(const struct buf *out)
{
	return out->len < out->max ? out->max - out->len : 0;
}

/* Appends one byte; -1 (ENOBUFS) when out is full. */
static int
smtp_data_put(struct smtp_data *d, struct buf *out, char c)
{
	if (buf_append_char(out, c) == -1)
		return -1;
	d->size++;
	return 0;
}

/*
 * The length of the run of text in[0..n) that ends before the next CR;
 * LFs in it are bare ones.
 */
static size_t
smtp_data_run(const char *in, size_t n)
{
	size_t i;

	for (i = 0; i < n && in[i] != '\r'; i++)
		continue;
	return i;
}

/*
 * Appends as much of the text run in[0..n) as fits; returns how many
 * bytes were consumed (== stored).
 */
static size_t
smtp_data_put_run(
    struct smtp_data *d, struct buf *out, const char *in, size_t n)
{
	size_t room = smtp_data_room(out);

	if (n > room)
		n = room;
	if (n == 0 || buf_append(out, in, n) == -1)
		return 0;
	smtp_data_scan(d, in, n);
	d->size += n;
	return n;
}

void
smtp_data_init(struct smtp_data *d, bool reject_bare_lf)
{
	d->state = SMTP_DATA_S_BOL; /* the "." line may be the first line */
	d->reject_bare_lf = reject_bare_lf;
	d->saw_bare_lf = false;
	d->saw_bare_cr = false;
	d->saw_8bit = false;
	d->saw_nul = false;
	d->size = 0;
}

int
smtp_data_feed(struct smtp_data *d, const char *in, size_t n, struct buf *out,
    size_t *used)
{
	size_t i = 0, run, k;

	while (i < n && d->state != SMTP_DATA_S_DONE) {
		char c = in[i];

		switch (d->state) {
		case SMTP_DATA_S_BOL:
			if (c == '.') {
				d->state = SMTP_DATA_S_DOT;
				i++;
			} else
				d->state = SMTP_DATA_S_TEXT;
			break;
		case SMTP_DATA_S_DOT:
			/* RFC 5321 4.5.2: "." and more on the line: drop the
			 * dot. A bare LF does not end the line, so ".<LF>"
			 * is a stuffed dot followed by a bare LF. */
			if (c == '\r') {
				d->state = SMTP_DATA_S_DOT_CR;
				i++;
			} else
				d->state = SMTP_DATA_S_TEXT;
			break;
		case SMTP_DATA_S_DOT_CR:
			if (c == '\n') {
				/* RFC 5321 4.1.1.4: <CRLF>.<CRLF> */
				d->state = SMTP_DATA_S_DONE;
				i++;
			} else /* ".<CR>x": a stuffed dot, then a bare CR */
				d->state = SMTP_DATA_S_CR;
			break;
		case SMTP_DATA_S_CR:
			if (c == '\n') {
				if (smtp_data_put(d, out, '\n') == -1)
					goto full;
				d->state = SMTP_DATA_S_BOL;
				i++;
			} else {
				/* a bare CR is content; c is looked at again */
				if (smtp_data_put(d, out, '\r') == -1)
					goto full;
				d->saw_bare_cr = true;
				d->state = SMTP_DATA_S_TEXT;
			}
			break;
		case SMTP_DATA_S_TEXT:
			if (c == '\r') {
				d->state = SMTP_DATA_S_CR;
				i++;
				break;
			}
			run = smtp_data_run(in + i, n - i);
			k = smtp_data_put_run(d, out, in + i, run);
			i += k;
			if (k < run)
				goto full;
			break;
		default:
			MW_ASSERT(!"smtp_data_feed: not a DATA decoder");
		}
	}
	*used = i;
	return d->state == SMTP_DATA_S_DONE ? SMTP_DATA_DONE : SMTP_DATA_MORE;
full:
	*used = i;
	errno = ENOBUFS;
	return -1;
}

void
smtp_bdat_init(struct smtp_data *d)
{
	smtp_data_init(d, false);
	d->state = SMTP_BDAT_S_TEXT;
}

int
smtp_bdat_feed(
    struct smtp_data *d, const char *in, size_t n, bool last, struct buf *out)
{
	bool full = false;
	size_t i = 0, run, k;

	MW_ASSERT(d->state == SMTP_BDAT_S_TEXT || d->state == SMTP_BDAT_S_CR);
	while (i < n) {
		if (d->state == SMTP_BDAT_S_CR) {
			/* stored form: CRLF becomes LF, a bare CR stays */
			if (in[i] == '\n') {
				if (!full && smtp_data_put(d, out, '\n') == -1)
					full = true;
				i++;
			} else {
				if (!full && smtp_data_put(d, out, '\r') == -1)
					full = true;
				d->saw_bare_cr = true;
			}
			d->state = SMTP_BDAT_S_TEXT;
			continue;
		}
		if (in[i] == '\r') {
			d->state = SMTP_BDAT_S_CR;
			i++;
			continue;
		}
		run = smtp_data_run(in + i, n - i);
		k = full ? 0 : smtp_data_put_run(d, out, in + i, run);
		if (k < run) {
			/* past out->max: note the rest, do not store it */
			full = true;
			smtp_data_scan(d, in + i + k, run - k);
		}
		i += run;
	}
	if (last) {
		if (d->state == SMTP_BDAT_S_CR) {
			if (!full && smtp_data_put(d, out, '\r') == -1)
				full = true;
			d->saw_bare_cr = true;
		}
		d->state = SMTP_BDAT_S_DONE;
	}
	if (full) {
		errno = ENOBUFS;
		return -1;
	}
	return 0;
}
