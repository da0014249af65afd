/*
 * DATA encoding for the SMTP client (see smtp_dotstuff.h).
 */
#include "smtp/smtp_dotstuff.h"

void
smtp_dotstuff_init(struct smtp_dotstuff *d)
{
	d->bol = true;
	d->empty = true;
}

size_t
smtp_dotstuff_feed(struct smtp_dotstuff *d, const char *in, size_t n, char *out)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		char c = in[i];

		/* RFC 5321 4.5.2: a line that starts with '.' gets one more */
		if (d->bol && c == '.')
			out[o++] = '.';
		if (c == '\n') {
			out[o++] = '\r';
			out[o++] = '\n';
			d->bol = true;
		} else {
			out[o++] = c;
			d->bol = false;
		}
	}
	if (n > 0)
		d->empty = false;
	return o;
}

size_t
smtp_dotstuff_crlf(const char *in, size_t n, char *out)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (in[i] == '\n')
			out[o++] = '\r';
		out[o++] = in[i];
	}
	return o;
}

size_t
smtp_dotstuff_end(struct smtp_dotstuff *d, char *out)
{
	size_t o = 0;

	/* RFC 5321 4.1.1.4: the content ends with CRLF before ".CRLF" */
	if (!d->bol) {
		out[o++] = '\r';
		out[o++] = '\n';
	}
	out[o++] = '.';
	out[o++] = '\r';
	out[o++] = '\n';
	d->bol = true;
	return o;
}

unsigned long long
smtp_dotstuff_size(unsigned long long n, unsigned long long lines)
{
	return n + lines;
}
