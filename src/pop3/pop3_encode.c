/*
 * RETR and TOP encoding (see pop3_encode.h).
 */
#include "pop3/pop3_encode.h"

void
pop3_encoder_init(struct pop3_encoder *e, bool top, uint64_t body_lines)
{
	e->bol = true;
	e->cr = false;
	e->in_body = false;
	e->top = top;
	e->done = false;
	e->line_len = 0;
	e->lines_left = body_lines;
}

/* A line has ended (its LF written). */
static void
pop3_encoder_eol(struct pop3_encoder *e)
{
	if (!e->in_body) {
		/* RFC 5322 2.1: an empty line ends the header */
		if (e->line_len == 0) {
			e->in_body = true;
			if (e->top && e->lines_left == 0)
				e->done = true;
		}
	} else if (e->top && --e->lines_left == 0)
		e->done = true;
	e->bol = true;
	e->cr = false;
	e->line_len = 0;
}

size_t
pop3_encoder_feed(struct pop3_encoder *e, const char *in, size_t n, char *out)
{
	size_t i, o = 0;

	for (i = 0; i < n && !e->done; i++) {
		char c = in[i];

		/* RFC 1939 3: a line that starts with '.' gets one more */
		if (e->bol && c == '.')
			out[o++] = '.';
		if (c == '\n') {
			if (!e->cr)
				out[o++] = '\r';
			out[o++] = '\n';
			pop3_encoder_eol(e);
			continue;
		}
		out[o++] = c;
		e->bol = false;
		e->cr = c == '\r';
		if (!e->cr)
			e->line_len++;
	}
	return o;
}

bool
pop3_encoder_done(const struct pop3_encoder *e)
{
	return e->done;
}

size_t
pop3_encoder_end(struct pop3_encoder *e, char *out)
{
	size_t o = 0;

	/* RFC 1939 3: the body ends with CRLF before ".CRLF" */
	if (!e->bol) {
		if (!e->cr)
			out[o++] = '\r';
		out[o++] = '\n';
	}
	out[o++] = '.';
	out[o++] = '\r';
	out[o++] = '\n';
	e->bol = true;
	e->cr = false;
	e->done = true;
	return o;
}
