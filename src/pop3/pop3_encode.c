/*
 * RETR and TOP encoding (see pop3_encode.h).
 */
#include "pop3/pop3_encode.h"

#include <string.h>

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
	const char *p = in, *end = in + n, *lf;
	size_t o = 0, k, i;

	/* a line at a time: memchr finds its end, memcpy moves it */
	while (p < end && !e->done) {
		/* RFC 1939 3: a line that starts with '.' gets one more */
		if (e->bol && *p == '.')
			out[o++] = '.';
		lf = memchr(p, '\n', (size_t)(end - p));
		k = (size_t)((lf != NULL ? lf : end) - p);
		if (k > 0) {
			memcpy(out + o, p, k);
			o += k;
			e->bol = false;
			e->cr = p[k - 1] == '\r';
			/* only the header needs the length: an empty line
			 * ends it (CRs do not count) */
			if (!e->in_body)
				for (i = 0; i < k; i++)
					e->line_len += p[i] != '\r';
		}
		if (lf == NULL)
			break;
		if (!e->cr)
			out[o++] = '\r';
		out[o++] = '\n';
		pop3_encoder_eol(e);
		p = lf + 1;
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
