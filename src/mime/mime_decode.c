/*
 * Streaming quoted-printable and base64 body decoders and header unfolding
 * (see mime_decode.h). RFC 2047 and charsets are in mime_2047.c.
 */
#include "mime/mime_decode.h"

#include <errno.h>
#include <string.h>

#include "lib/buf.h"

enum qp_state {
	QP_TEXT,   /* ws[] holds white space not yet known to be trailing */
	QP_EQ,     /* after "=" */
	QP_EQ_HEX, /* after "=" and one hex digit (hex1) */
	QP_EQ_WS,  /* after "=" and white space (in ws[]): a soft break? */
	QP_EQ_CR,  /* after "=", maybe white space, and CR */
};

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

void
mime_qp_init(struct mime_qp *q)
{
	memset(q, 0, sizeof(*q));
}

static int
qp_flush_ws(struct mime_qp *q, struct buf *out)
{
	int ret = buf_append(out, q->ws, q->ws_n);

	q->ws_n = 0;
	return ret;
}

/* White space in TEXT or EQ_WS: held until we know whether the line ends;
 * a run longer than the hold is let through. */
static int
qp_hold_ws(struct mime_qp *q, unsigned char c, struct buf *out)
{
	if (q->ws_n == MIME_QP_WS_MAX) {
		if (q->state == QP_EQ_WS && buf_append_char(out, '=') == -1)
			return -1;
		if (q->state == QP_EQ_WS)
			q->state = QP_TEXT;
		if (qp_flush_ws(q, out) == -1)
			return -1;
	}
	q->ws[q->ws_n++] = c;
	return 0;
}

/* One byte; *again is set when c must be looked at once more in the new
 * state (after an "=" that started nothing). */
static int
qp_byte(struct mime_qp *q, unsigned char c, struct buf *out, bool *again)
{
	int h;

	*again = false;
	switch (q->state) {
	case QP_TEXT:
		if (c == ' ' || c == '\t')
			return qp_hold_ws(q, c, out);
		if (c == '\r' || c == '\n')
			q->ws_n = 0; /* rule 3: trailing white space goes */
		else if (qp_flush_ws(q, out) == -1)
			return -1;
		if (c == '=') {
			q->state = QP_EQ;
			return 0;
		}
		return buf_append_char(out, (char)c);
	case QP_EQ:
		if ((h = hexval(c)) >= 0) {
			q->hex1 = c;
			q->state = QP_EQ_HEX;
			return 0;
		}
		if (c == '\n') { /* soft line break */
			q->state = QP_TEXT;
			return 0;
		}
		if (c == '\r') {
			q->state = QP_EQ_CR;
			return 0;
		}
		if (c == ' ' || c == '\t') {
			q->state = QP_EQ_WS;
			return qp_hold_ws(q, c, out);
		}
		q->state = QP_TEXT;
		*again = true;
		return buf_append_char(out, '=');
	case QP_EQ_HEX:
		q->state = QP_TEXT;
		if ((h = hexval(c)) >= 0)
			return buf_append_char(
			    out, (char)(hexval(q->hex1) << 4 | h));
		*again = true;
		return buf_append(out, (const char[]){ '=', (char)q->hex1 }, 2);
	case QP_EQ_WS:
		if (c == ' ' || c == '\t')
			return qp_hold_ws(q, c, out);
		if (c == '\n') {
			q->ws_n = 0;
			q->state = QP_TEXT;
			return 0;
		}
		if (c == '\r') {
			q->ws_n = 0;
			q->state = QP_EQ_CR;
			return 0;
		}
		/* "= x": not a soft break; kept literally */
		q->state = QP_TEXT;
		*again = true;
		if (buf_append_char(out, '=') == -1)
			return -1;
		return qp_flush_ws(q, out);
	case QP_EQ_CR:
		q->state = QP_TEXT;
		if (c == '\n')
			return 0; /* "=" CRLF: soft line break */
		*again = true;    /* "=" and a bare CR: the CR stays */
		return buf_append(out, "=\r", 2);
	}
	return 0;
}

int
mime_qp_decode(struct mime_qp *q, const void *in, size_t n, struct buf *out)
{
	const unsigned char *p = in;
	size_t i, run;
	bool again;

	for (i = 0; i < n;) {
		/* the common case: a run of plain bytes */
		if (q->state == QP_TEXT && q->ws_n == 0) {
			for (run = i; run < n && p[run] != '=' &&
			     p[run] != ' ' && p[run] != '\t';
			     run++)
				;
			if (run > i) {
				if (buf_append(out, p + i, run - i) == -1)
					return -1;
				i = run;
				continue;
			}
		}
		if (qp_byte(q, p[i], out, &again) == -1)
			return -1;
		if (!again)
			i++;
	}
	return 0;
}

int
mime_qp_end(struct mime_qp *q, struct buf *out)
{
	int ret = 0;

	switch (q->state) {
	case QP_TEXT:
	case QP_EQ:
	case QP_EQ_WS:
		break; /* trailing white space, or a soft break at the end */
	case QP_EQ_HEX:
		ret = buf_append(out, (const char[]){ '=', (char)q->hex1 }, 2);
		break;
	case QP_EQ_CR:
		ret = buf_append(out, "=\r", 2);
		break;
	}
	mime_qp_init(q);
	return ret;
}

/* Base64 */

static const signed char b64_val[256] = {
	['A'] = 1,
	['B'] = 2,
	['C'] = 3,
	['D'] = 4,
	['E'] = 5,
	['F'] = 6,
	['G'] = 7,
	['H'] = 8,
	['I'] = 9,
	['J'] = 10,
	['K'] = 11,
	['L'] = 12,
	['M'] = 13,
	['N'] = 14,
	['O'] = 15,
	['P'] = 16,
	['Q'] = 17,
	['R'] = 18,
	['S'] = 19,
	['T'] = 20,
	['U'] = 21,
	['V'] = 22,
	['W'] = 23,
	['X'] = 24,
	['Y'] = 25,
	['Z'] = 26,
	['a'] = 27,
	['b'] = 28,
	['c'] = 29,
	['d'] = 30,
	['e'] = 31,
	['f'] = 32,
	['g'] = 33,
	['h'] = 34,
	['i'] = 35,
	['j'] = 36,
	['k'] = 37,
	['l'] = 38,
	['m'] = 39,
	['n'] = 40,
	['o'] = 41,
	['p'] = 42,
	['q'] = 43,
	['r'] = 44,
	['s'] = 45,
	['t'] = 46,
	['u'] = 47,
	['v'] = 48,
	['w'] = 49,
	['x'] = 50,
	['y'] = 51,
	['z'] = 52,
	['0'] = 53,
	['1'] = 54,
	['2'] = 55,
	['3'] = 56,
	['4'] = 57,
	['5'] = 58,
	['6'] = 59,
	['7'] = 60,
	['8'] = 61,
	['9'] = 62,
	['+'] = 63,
	['/'] = 64,
}; /* value + 1; 0: not in the alphabet */

void
mime_b64_init(struct mime_b64 *b)
{
	b->acc = 0;
	b->bits = 0;
}

/* A group cut short by "=" or the end: 2 chars give 1 byte, 3 give 2. */
static int
b64_flush(struct mime_b64 *b, struct buf *out)
{
	char o[2];
	int ret = 0;

	if (b->bits == 12) {
		o[0] = (char)(b->acc >> 4);
		ret = buf_append(out, o, 1);
	} else if (b->bits == 18) {
		o[0] = (char)(b->acc >> 10);
		o[1] = (char)(b->acc >> 2);
		ret = buf_append(out, o, 2);
	}
	mime_b64_init(b);
	return ret;
}

int
mime_b64_decode(struct mime_b64 *b, const void *in, size_t n, struct buf *out)
{
	const unsigned char *p = in;
	char o[3];
	size_t i;
	int v;

	for (i = 0; i < n; i++) {
		if (p[i] == '=') {
			if (b64_flush(b, out) == -1)
				return -1;
			continue;
		}
		if ((v = b64_val[p[i]]) == 0)
			continue; /* RFC 2045 6.8: ignored */
		b->acc = b->acc << 6 | (uint32_t)(v - 1);
		b->bits += 6;
		if (b->bits == 24) {
			o[0] = (char)(b->acc >> 16);
			o[1] = (char)(b->acc >> 8);
			o[2] = (char)b->acc;
			b->acc = 0;
			b->bits = 0;
			if (buf_append(out, o, 3) == -1)
				return -1;
		}
	}
	return 0;
}

int
mime_b64_end(struct mime_b64 *b, struct buf *out)
{
	return b64_flush(b, out);
}

int
mime_unfold(const char *p, size_t n, struct buf *out)
{
	size_t i, start = 0;

	for (i = 0; i < n; i++) {
		if (p[i] != '\r' && p[i] != '\n')
			continue;
		if (i > start && buf_append(out, p + start, i - start) == -1)
			return -1;
		start = i + 1;
	}
	if (n > start && buf_append(out, p + start, n - start) == -1)
		return -1;
	return 0;
}
