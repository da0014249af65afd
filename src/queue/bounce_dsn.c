/*
 * The DSN (bounce) message builder (see bounce_dsn.h): the head of a
 * multipart/report (RFC 6522) up to the header of the returned message,
 * and its tail. Every value that may come from the network (addresses,
 * remote replies, host names) goes through dsn_clean() and dsn_wrap(), so
 * that no byte of it can end a header line or the part early. Choosing
 * recipients, queue files and sending are the queue manager's business.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/mailaddr.h"
#include "lib/parse.h"
#include "queue/bounce_dsn.h"

/* RFC 5322 2.1.1: lines SHOULD stay within 78 characters, MUST within
 * 998; Postfix wraps the notification text at 76 with a 4-space indent. */
#define DSN_HEADER_WIDTH 78
#define DSN_TEXT_WIDTH   76
#define DSN_LINE_MAX     998
/* one value or reason after cleaning: more tells a reader nothing */
#define DSN_VALUE_MAX 4096
/* RFC 2046 5.1.1: boundary := 0*69<bchars> bcharsnospace */
#define DSN_BOUNDARY_MAX 70
/* "Thu, 03 Dec 2026 11:32:19 +0000" and room for a longer year */
#define DSN_DATE_MAX 64

enum dsn_kind {
	DSN_KIND_FAILURE,
	DSN_KIND_DELAY,
	DSN_KIND_SUCCESS,
};

/* Output with a sticky error, so that the builder reads top to bottom. */
struct dsn_out {
	struct buf *b;
	bool utf8; /* keep well-formed UTF-8 in values (smtputf8) */
	bool failed;
};

// clang-format off
static const char *const dsn_action_names[] = {
	[DSN_ACTION_FAILED] =    "failed",
	[DSN_ACTION_DELAYED] =   "delayed",
	[DSN_ACTION_DELIVERED] = "delivered",
	[DSN_ACTION_RELAYED] =   "relayed",
	[DSN_ACTION_EXPANDED] =  "expanded",
};
// clang-format on

static void
dsn_put(struct dsn_out *o, const char *p, size_t n)
{
	if (!o->failed && buf_append(o->b, p, n) == -1)
		o->failed = true;
}

static void
dsn_puts(struct dsn_out *o, const char *s)
{
	dsn_put(o, s, strlen(s));
}

/*
 * Appends s (may be NULL) made safe for a header or text line to v: a
 * control byte becomes '?', and so does a byte >= 0x80 unless utf8 and it
 * starts a well-formed UTF-8 character that is no C1 control; runs of
 * spaces become one, and a space at the start of v is dropped. v's max
 * bounds the result: past it the rest is dropped, at a character boundary.
 */
static void
dsn_clean(struct buf *v, const char *s, bool utf8)
{
	size_t n, i, k;

	if (s == NULL)
		return;
	n = strlen(s);
	for (i = 0; i < n; i += k) {
		unsigned char c = (unsigned char)s[i];
		const char *piece = s + i;

		k = 1;
		if (c == ' ') {
			if (v->len == 0 || v->data[v->len - 1] == ' ')
				continue;
		} else if (c < 0x20 || c == 0x7f)
			piece = "?";
		else if (c >= 0x80) {
			k = utf8 ? mailaddr_utf8_len(s + i, n - i) : 0;
			if (k == 2 && c == 0xc2 &&
			    (unsigned char)s[i + 1] < 0xa0)
				k = 0; /* U+0080..U+009F */
			if (k == 0) {
				k = 1;
				piece = "?";
			}
		}
		if (buf_append(v, piece, piece == s + i ? k : 1) == -1)
			return; /* cut at the bound */
	}
}

/*
 * Appends s (may be NULL) as RFC 6533 3 utf-8-addr-xtext: QCHAR as it is,
 * other characters as "\x{HEX}", control bytes and bytes that are not
 * UTF-8 as '?': a UTF-8 address in a 7-bit delivery-status part.
 */
static void
dsn_clean_uxtext(struct buf *v, const char *s)
{
	size_t n, i, k, j;
	unsigned long cp;
	char hex[16];
	int len;

	if (s == NULL)
		return;
	n = strlen(s);
	for (i = 0; i < n; i += k) {
		unsigned char c = (unsigned char)s[i];

		k = c < 0x80 ? 1 : mailaddr_utf8_len(s + i, n - i);
		if (c >= 0x21 && c <= 0x7e && c != '+' && c != '=' &&
		    c != '\\') {
			if (buf_append_char(v, (char)c) == -1)
				return;
			continue;
		}
		if (c < 0x20 || c == 0x7f || k == 0) {
			k = 1;
			if (buf_append_char(v, '?') == -1)
				return;
			continue;
		}
		cp = k == 1 ? c : c & (0x7fu >> k);
		for (j = 1; j < k; j++)
			cp = cp << 6 | ((unsigned char)s[i + j] & 0x3f);
		len = snprintf(hex, sizeof(hex), "\\x{%02lX}", cp);
		if (len < 0 || (size_t)len >= sizeof(hex) ||
		    buf_append(v, hex, (size_t)len) == -1)
			return;
	}
}

static void
dsn_trim(struct buf *v)
{
	while (v->len > 0 && v->data[v->len - 1] == ' ')
		buf_truncate(v, v->len - 1);
}

/*
 * Appends the cleaned words v[0..n) starting at column col. Before a word
 * that would pass width, the space becomes cont ("\n " folds a header
 * field, RFC 5322 2.2.3; "\n    " indents text). A word longer than a line
 * is split, at a character boundary, so that no line passes DSN_LINE_MAX.
 */
static void
dsn_wrap(struct dsn_out *o, size_t col, const char *v, size_t n, size_t width,
    const char *cont)
{
	size_t i = 0, j, k, wlen, cont_col = strlen(cont) - 1;
	bool first = true;

	while (i < n) {
		for (j = i; j < n && v[j] != ' '; j++)
			continue;
		wlen = j - i;
		if (!first && col + 1 + wlen > width) {
			dsn_puts(o, cont);
			col = cont_col;
		} else if (!first) {
			dsn_put(o, " ", 1);
			col++;
		}
		while (col + wlen > DSN_LINE_MAX) {
			k = DSN_LINE_MAX - col;
			while (
			    k > 0 && ((unsigned char)v[i + k] & 0xc0) == 0x80)
				k--;
			MW_ASSERT(k > 0);
			dsn_put(o, v + i, k);
			dsn_puts(o, cont);
			col = cont_col;
			i += k;
			wlen -= k;
		}
		dsn_put(o, v + i, wlen);
		col += wlen;
		first = false;
		i = j + 1;
	}
}

/* "Name: " and the cleaned value v, folded, and its LF. */
static void
dsn_field_buf(struct dsn_out *o, const char *name, struct buf *v)
{
	dsn_trim(v);
	dsn_puts(o, name);
	dsn_put(o, ":", 1);
	if (v->len > 0) {
		dsn_put(o, " ", 1);
		dsn_wrap(o, strlen(name) + 2, v->data, v->len, DSN_HEADER_WIDTH,
		    "\n ");
	}
	dsn_put(o, "\n", 1);
}

/* "Name: " pre value (both may be NULL), cleaned and folded. */
static void
dsn_field(
    struct dsn_out *o, const char *name, const char *pre, const char *value)
{
	struct buf v;

	buf_init(&v, DSN_VALUE_MAX);
	dsn_clean(&v, pre, o->utf8);
	dsn_clean(&v, value, o->utf8);
	dsn_field_buf(o, name, &v);
	buf_free(&v);
}

static void
dsn_field_date(struct dsn_out *o, const char *name, uint64_t t)
{
	struct buf d;

	buf_init(&d, DSN_DATE_MAX);
	if (bounce_dsn_date(t, &d) == -1)
		o->failed = true;
	else
		dsn_field(o, name, NULL, buf_cstr(&d));
	buf_free(&d);
}

static bool
dsn_has_8bit(const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return true;
	return false;
}

/* An address field "type; addr" (RFC 3464 2.3.1, 2.3.2): a UTF-8
 * address in a 7-bit report as utf-8-addr-xtext (RFC 6533 3). */
static void
dsn_field_addr(
    struct dsn_out *o, const char *name, const char *type, const char *addr)
{
	struct buf v;

	buf_init(&v, DSN_VALUE_MAX);
	dsn_clean(&v, type, o->utf8);
	dsn_trim(&v);
	if (buf_append_str(&v, "; ") == 0) {
		if (!o->utf8 && ascii_eq(type, "utf-8"))
			dsn_clean_uxtext(&v, addr);
		else
			dsn_clean(&v, addr, o->utf8);
	}
	dsn_field_buf(o, name, &v);
	buf_free(&v);
}

/* A text line, cleaned and wrapped at 76 columns with a 4-space indent. */
static void
dsn_text(struct dsn_out *o, const char *const *pieces, size_t npieces)
{
	struct buf v;
	size_t i;

	buf_init(&v, DSN_VALUE_MAX);
	for (i = 0; i < npieces; i++)
		dsn_clean(&v, pieces[i], o->utf8);
	dsn_trim(&v);
	dsn_wrap(o, 0, v.data != NULL ? v.data : "", v.len, DSN_TEXT_WIDTH,
	    "\n    ");
	dsn_put(o, "\n", 1);
	buf_free(&v);
}

static enum dsn_kind
dsn_kind_of(const struct dsn_report *r)
{
	enum dsn_kind kind = DSN_KIND_SUCCESS;
	size_t i;

	for (i = 0; i < r->nrcpt; i++) {
		if (r->rcpts[i].action == DSN_ACTION_FAILED)
			return DSN_KIND_FAILURE;
		if (r->rcpts[i].action == DSN_ACTION_DELAYED)
			kind = DSN_KIND_DELAY;
	}
	return kind;
}

/* RFC 2046 5.1.1: 1..70 bchars, the last one no space. */
static bool
dsn_boundary_valid(const char *b)
{
	size_t n, i;

	if (b == NULL || (n = strlen(b)) == 0 || n > DSN_BOUNDARY_MAX ||
	    b[n - 1] == ' ')
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)b[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        (c >= '0' && c <= '9') ||
		        strchr("'()+_,-./:=? ", c) != NULL))
			return false;
	}
	return true;
}

static const char *
dsn_subject(enum dsn_kind kind)
{
	switch (kind) {
	case DSN_KIND_FAILURE:
		return "Undelivered Mail Returned to Sender";
	case DSN_KIND_DELAY:
		return "Delayed Mail (still being retried)";
	case DSN_KIND_SUCCESS:
		break;
	}
	return "Successful Mail Delivery Report";
}

/* What the first part says about a recipient: the reason, else the
 * remote reply, else the action. */
static const char *
dsn_reason(const struct dsn_rcpt *rc)
{
	if (rc->reason != NULL)
		return rc->reason;
	if (rc->diag != NULL)
		return rc->diag;
	return dsn_action_names[rc->action];
}

/* The returned message's Content-Description, without " Headers". */
static const char *
dsn_returned_name(enum dsn_kind kind)
{
	switch (kind) {
	case DSN_KIND_FAILURE:
		return "Undelivered Message";
	case DSN_KIND_DELAY:
		return "Delayed Message";
	case DSN_KIND_SUCCESS:
		break;
	}
	return "Delivered Message";
}

/* The latest Will-Retry-Until of the delayed recipients, 0 if none. */
static uint64_t
dsn_retry_until(const struct dsn_report *r)
{
	uint64_t t = 0;
	size_t i;

	for (i = 0; i < r->nrcpt; i++)
		if (r->rcpts[i].action == DSN_ACTION_DELAYED &&
		    r->rcpts[i].will_retry_until > t)
			t = r->rcpts[i].will_retry_until;
	return t;
}

/* The first part: what happened, in Postfix's words, then one
 * "<rcpt>: reason" paragraph per recipient. */
static void
dsn_notification(
    struct dsn_out *o, const struct dsn_report *r, enum dsn_kind kind)
{
	const char *intro[] = { "This is the mail system at host ",
		r->reporting_mta, "." };
	bool success_only = true;
	uint64_t until;
	size_t i;

	dsn_text(o, intro, MW_NELEM(intro));
	dsn_puts(o, "\n");
	switch (kind) {
	case DSN_KIND_FAILURE:
		dsn_puts(o,
		    "I'm sorry to have to inform you that your message could not\n"
		    "be delivered to one or more recipients. ");
		dsn_puts(o,
		    r->full ? "It's attached below.\n"
		            : "Its header is attached below.\n");
		break;
	case DSN_KIND_DELAY:
		dsn_puts(o,
		    "###################################################################\n"
		    "# THIS IS A WARNING ONLY. YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\n"
		    "###################################################################\n"
		    "\n"
		    "Your message has not yet been delivered to one or more recipients.\n");
		until = dsn_retry_until(r);
		if (until != 0) {
			struct buf d;

			buf_init(&d, DSN_DATE_MAX);
			if (bounce_dsn_date(until, &d) == -1)
				o->failed = true;
			dsn_puts(o, "The mail system will keep trying until ");
			dsn_puts(o, buf_cstr(&d));
			dsn_puts(o, ".\n");
			buf_free(&d);
		} else
			dsn_puts(o, "The mail system will keep trying.\n");
		break;
	case DSN_KIND_SUCCESS:
		dsn_puts(o,
		    "Your message was successfully delivered to the destination(s)\n"
		    "listed below.\n");
		for (i = 0; i < r->nrcpt; i++)
			if (r->rcpts[i].action != DSN_ACTION_DELIVERED)
				success_only = false;
		if (!success_only)
			dsn_puts(o,
			    "Where it was relayed to a system that does not report\n"
			    "delivery, or expanded to other recipients, you may still\n"
			    "receive notices of delivery problems from elsewhere.\n");
		break;
	}
	if (kind != DSN_KIND_SUCCESS)
		dsn_puts(o,
		    "\n"
		    "For further assistance, please write to <postmaster> and\n"
		    "include this problem report. You can delete your own text\n"
		    "from the attached returned message.\n");
	dsn_puts(o, "\n                   ");
	if (r->mail_name != NULL) {
		const char *sig[] = { "The ", r->mail_name, " program" };

		dsn_text(o, sig, MW_NELEM(sig));
	} else
		dsn_puts(o, "The mail system\n");
	for (i = 0; i < r->nrcpt; i++) {
		const struct dsn_rcpt *rc = &r->rcpts[i];
		const char *why = dsn_reason(rc);
		/* as Postfix, an ORCPT that differs only in case is none */
		bool expanded = rc->orig_rcpt != NULL &&
		    rc->final_rcpt != NULL &&
		    !ascii_eq(rc->orig_rcpt, rc->final_rcpt);
		const char *line[] = { "<", rc->final_rcpt,
			expanded ? "> (expanded from <" : "",
			expanded ? rc->orig_rcpt : "",
			expanded ? ">): " : ">: ", why };

		dsn_puts(o, "\n");
		dsn_text(o, line, MW_NELEM(line));
	}
}

/* The second part (RFC 3464 2.1-2.3). */
static void
dsn_status(struct dsn_out *o, const struct dsn_report *r)
{
	static const char *const default_status[] = {
		[DSN_ACTION_FAILED] = "5.0.0",
		[DSN_ACTION_DELAYED] = "4.0.0",
		[DSN_ACTION_DELIVERED] = "2.0.0",
		[DSN_ACTION_RELAYED] = "2.0.0",
		[DSN_ACTION_EXPANDED] = "2.0.0",
	};
	size_t i;

	/* RFC 3464 2.2: per-message-fields in the grammar's order */
	if (r->envid != NULL)
		dsn_field(o, "Original-Envelope-Id", NULL, r->envid);
	dsn_field(o, "Reporting-MTA", "dns; ", r->reporting_mta);
	if (r->received_from != NULL)
		dsn_field(o, "Received-From-MTA", "dns; ", r->received_from);
	if (r->arrival != 0)
		dsn_field_date(o, "Arrival-Date", r->arrival);
	/* an extension-field, as Postfix's X-Postfix-Queue-ID */
	dsn_field(o, "X-Mailwright-Queue-ID", NULL, r->queue_id);
	for (i = 0; i < r->nrcpt; i++) {
		const struct dsn_rcpt *rc = &r->rcpts[i];

		/* RFC 3464 2.3: per-recipient-fields in the grammar's order */
		dsn_puts(o, "\n");
		if (rc->orig_rcpt != NULL)
			dsn_field_addr(o, "Original-Recipient",
			    rc->orig_type != NULL ? rc->orig_type : "rfc822",
			    rc->orig_rcpt);
		/* RFC 6533 3: a UTF-8 address is of type utf-8 */
		dsn_field_addr(o, "Final-Recipient",
		    dsn_has_8bit(rc->final_rcpt) ? "utf-8" : "rfc822",
		    rc->final_rcpt);
		dsn_field(o, "Action", NULL, dsn_action_names[rc->action]);
		dsn_field(o, "Status", NULL,
		    rc->status != NULL ? rc->status
		                       : default_status[rc->action]);
		if (rc->remote_mta != NULL)
			dsn_field(o, "Remote-MTA", "dns; ", rc->remote_mta);
		if (rc->diag != NULL)
			dsn_field(o, "Diagnostic-Code", "smtp; ", rc->diag);
		if (rc->last_attempt != 0)
			dsn_field_date(
			    o, "Last-Attempt-Date", rc->last_attempt);
		if (rc->action == DSN_ACTION_DELAYED &&
		    rc->will_retry_until != 0)
			dsn_field_date(
			    o, "Will-Retry-Until", rc->will_retry_until);
	}
}

static void
dsn_delimiter(struct dsn_out *o, const struct dsn_report *r)
{
	dsn_puts(o, "\n--");
	dsn_puts(o, r->boundary);
	dsn_puts(o, "\n");
}

int
bounce_dsn_head(const struct dsn_report *r, struct buf *out)
{
	struct dsn_out o = { out, r->smtputf8, false };
	size_t start = out->len, i;
	bool eight = r->body_8bit || r->smtputf8;
	enum dsn_kind kind;

	if (r->nrcpt == 0 || !dsn_boundary_valid(r->boundary)) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < r->nrcpt; i++)
		MW_ASSERT(
		    (unsigned)r->rcpts[i].action < MW_NELEM(dsn_action_names));
	kind = dsn_kind_of(r);
	dsn_field(&o, "From", r->postmaster, " (Mail Delivery System)");
	dsn_field(&o, "To", NULL, r->to);
	dsn_field(&o, "Subject", NULL, dsn_subject(kind));
	dsn_field_date(&o, "Date", r->now);
	dsn_field(&o, "Message-ID", NULL, r->message_id);
	/* RFC 3834 5 */
	dsn_puts(&o, "Auto-Submitted: auto-replied\n");
	dsn_puts(&o, "MIME-Version: 1.0\n");
	/* RFC 6522 3: report-type is the second part's subtype */
	dsn_puts(&o, "Content-Type: multipart/report; report-type=");
	dsn_puts(
	    &o, r->smtputf8 ? "global-delivery-status" : "delivery-status");
	dsn_puts(&o, ";\n\tboundary=\"");
	dsn_puts(&o, r->boundary);
	dsn_puts(&o, "\"\n");
	/* RFC 2045 6.4: a multipart is as 8bit as its parts */
	dsn_puts(&o,
	    eight ? "Content-Transfer-Encoding: 8bit\n"
	          : "Content-Transfer-Encoding: 7bit\n");
	dsn_puts(&o, "\nThis is a MIME-encapsulated message.\n");

	dsn_delimiter(&o, r);
	dsn_puts(&o, "Content-Description: Notification\n");
	dsn_puts(&o,
	    r->smtputf8 ? "Content-Type: text/plain; charset=utf-8\n"
	                : "Content-Type: text/plain; charset=us-ascii\n");
	if (r->smtputf8)
		dsn_puts(&o, "Content-Transfer-Encoding: 8bit\n");
	dsn_puts(&o, "\n");
	dsn_notification(&o, r, kind);

	dsn_delimiter(&o, r);
	dsn_puts(&o, "Content-Description: Delivery report\n");
	/* RFC 6533 6.1: UTF-8 is allowed in message/global-delivery-status */
	dsn_puts(&o,
	    r->smtputf8 ? "Content-Type: message/global-delivery-status\n"
	                  "Content-Transfer-Encoding: 8bit\n"
	                : "Content-Type: message/delivery-status\n");
	dsn_puts(&o, "\n");
	dsn_status(&o, r);

	dsn_delimiter(&o, r);
	dsn_puts(&o, "Content-Description: ");
	dsn_puts(&o, dsn_returned_name(kind));
	dsn_puts(&o, r->full ? "\n" : " Headers\n");
	/* RFC 6522 4 (text/rfc822-headers), RFC 6532 3.7 (message/global),
	 * RFC 6533 6.3 (message/global-headers) */
	dsn_puts(&o, "Content-Type: ");
	dsn_puts(&o,
	    r->full ? (r->smtputf8 ? "message/global" : "message/rfc822")
	            : (r->smtputf8 ? "message/global-headers"
	                           : "text/rfc822-headers"));
	dsn_puts(&o, "\n");
	if (eight)
		dsn_puts(&o, "Content-Transfer-Encoding: 8bit\n");
	dsn_puts(&o, "\n");
	if (o.failed) {
		buf_truncate(out, start);
		errno = ENOBUFS;
		return -1;
	}
	return 0;
}

int
bounce_dsn_tail(const struct dsn_report *r, struct buf *out)
{
	size_t start = out->len;

	/* RFC 2046 5.1.1: the LF before "--" belongs to the delimiter */
	if (buf_append_str(out, "\n--") == -1 ||
	    buf_append_str(out, r->boundary) == -1 ||
	    buf_append_str(out, "--\n") == -1) {
		buf_truncate(out, start);
		errno = ENOBUFS;
		return -1;
	}
	return 0;
}

size_t
bounce_dsn_header_len(const char *p, size_t n)
{
	const char *nl;
	size_t i = 0;

	/* i is at the start of a line */
	while (i < n) {
		if (p[i] == '\n')
			return i + 1;
		if (p[i] == '\r' && n - i >= 2 && p[i + 1] == '\n')
			return i + 2;
		nl = memchr(p + i, '\n', n - i);
		if (nl == NULL)
			break;
		i = (size_t)(nl - p) + 1;
	}
	return n;
}

int
bounce_dsn_date(uint64_t t, struct buf *out)
{
	static const char days[7][4] = { "Thu", "Fri", "Sat", "Sun", "Mon",
		"Tue", "Wed" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May",
		"Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	uint64_t z = t / 86400, s = t % 86400, era, doe, yoe, y, doy, mp, d, m;

	/*
	 * The proleptic Gregorian calendar from days since 1970-01-01 (a
	 * Thursday), after Howard Hinnant's civil_from_days(): no time_t, no
	 * locale, no table lookups that could overflow for any t.
	 */
	z += 719468;
	era = z / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	if (m <= 2)
		y++;
	return buf_printf(out, "%s, %02u %s %04llu %02u:%02u:%02u +0000",
	    days[(t / 86400) % 7], (unsigned)d, months[m - 1],
	    (unsigned long long)y, (unsigned)(s / 3600),
	    (unsigned)(s / 60 % 60), (unsigned)(s % 60));
}
