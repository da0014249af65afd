/*
 * Unit tests for the DSN builder (bounce_dsn.c, RFC 3464, RFC 6522, RFC
 * 6533): one whole failure report, the field order of the delivery-status
 * part, the three kinds, SMTPUTF8, hostile values that try to add header
 * lines or parts, folding of long values, output limits at max-1, max and
 * max+1, the RFC 5322 date against gmtime_r(), and the header length of
 * the returned message.
 */
/* cmocka.h needs these first */
// clang-format off
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
// clang-format on

#include "lib/buf.h"
#include "lib/mw.h"
#include "queue/bounce_dsn.h"

#define S(s) s, sizeof(s) - 1

#define BOUNDARY "4bX9k2LmQz.1764761539/mail.example.com"

static const struct dsn_rcpt rcpt_failed = {
	.final_rcpt = "bob@example.org",
	.orig_rcpt = "bob@example.org",
	.orig_type = "rfc822",
	.action = DSN_ACTION_FAILED,
	.status = "5.1.1",
	.remote_mta = "mx.example.org",
	.diag = "550 5.1.1 <bob@example.org>: Recipient address rejected",
	.reason = "host mx.example.org[192.0.2.1] said: 550 5.1.1 "
	          "<bob@example.org>: Recipient address rejected (in reply to "
	          "RCPT TO command)",
	.last_attempt = 1764761539,
};

static struct dsn_report
report(const struct dsn_rcpt *rcpts, size_t n)
{
	struct dsn_report r = {
		.reporting_mta = "mail.example.com",
		.mail_name = "mailwright",
		.postmaster = "MAILER-DAEMON@mail.example.com",
		.to = "alice@example.com",
		.queue_id = "4bX9k2LmQz",
		.envid = "QQ314159",
		.received_from = "client.example[192.0.2.7]",
		.arrival = 1764761000,
		.now = 1764761539,
		.message_id = "<20251203113219.4bX9k2LmQz@mail.example.com>",
		.boundary = BOUNDARY,
		.full = true,
		.rcpts = rcpts,
		.nrcpt = n,
	};

	return r;
}

/* The head, or a failed test. The caller frees. */
static char *
head(const struct dsn_report *r)
{
	struct buf out;

	buf_init(&out, 1 << 20);
	if (bounce_dsn_head(r, &out) == -1)
		fail_msg("bounce_dsn_head: %s", strerror(errno));
	return buf_steal(&out);
}

// clang-format off
static const char golden_failure[] =
	"From: MAILER-DAEMON@mail.example.com (Mail Delivery System)\n"
	"To: alice@example.com\n"
	"Subject: Undelivered Mail Returned to Sender\n"
	"Date: Wed, 03 Dec 2025 11:32:19 +0000\n"
	"Message-ID: <20251203113219.4bX9k2LmQz@mail.example.com>\n"
	"Auto-Submitted: auto-replied\n"
	"MIME-Version: 1.0\n"
	"Content-Type: multipart/report; report-type=delivery-status;\n"
	"\tboundary=\"" BOUNDARY "\"\n"
	"Content-Transfer-Encoding: 7bit\n"
	"\n"
	"This is a MIME-encapsulated message.\n"
	"\n"
	"--" BOUNDARY "\n"
	"Content-Description: Notification\n"
	"Content-Type: text/plain; charset=us-ascii\n"
	"\n"
	"This is the mail system at host mail.example.com.\n"
	"\n"
	"I'm sorry to have to inform you that your message could not\n"
	"be delivered to one or more recipients. It's attached below.\n"
	"\n"
	"For further assistance, please write to <postmaster> and\n"
	"include this problem report. You can delete your own text\n"
	"from the attached returned message.\n"
	"\n"
	"                   The mailwright program\n"
	"\n"
	"<bob@example.org>: host mx.example.org[192.0.2.1] said: 550 5.1.1\n"
	"    <bob@example.org>: Recipient address rejected (in reply to RCPT TO\n"
	"    command)\n"
	"\n"
	"--" BOUNDARY "\n"
	"Content-Description: Delivery report\n"
	"Content-Type: message/delivery-status\n"
	"\n"
	"Original-Envelope-Id: QQ314159\n"
	"Reporting-MTA: dns; mail.example.com\n"
	"Received-From-MTA: dns; client.example[192.0.2.7]\n"
	"Arrival-Date: Wed, 03 Dec 2025 11:23:20 +0000\n"
	"X-Mailwright-Queue-ID: 4bX9k2LmQz\n"
	"\n"
	"Original-Recipient: rfc822; bob@example.org\n"
	"Final-Recipient: rfc822; bob@example.org\n"
	"Action: failed\n"
	"Status: 5.1.1\n"
	"Remote-MTA: dns; mx.example.org\n"
	"Diagnostic-Code: smtp; 550 5.1.1 <bob@example.org>: Recipient address rejected\n"
	"Last-Attempt-Date: Wed, 03 Dec 2025 11:32:19 +0000\n"
	"\n"
	"--" BOUNDARY "\n"
	"Content-Description: Undelivered Message\n"
	"Content-Type: message/rfc822\n"
	"\n";
// clang-format on

static void
test_bounce_dsn_head_failure_whole(void **state)
{
	struct dsn_report r = report(&rcpt_failed, 1);
	struct buf out;
	char *h = head(&r);

	assert_string_equal(h, golden_failure);
	free(h);
	/* appends after what is there; the tail closes the multipart */
	buf_init(&out, 1 << 20);
	assert_int_equal(buf_append_str(&out, "Return-Path: <>\n"), 0);
	assert_int_equal(bounce_dsn_head(&r, &out), 0);
	assert_int_equal(out.len, 16 + sizeof(golden_failure) - 1);
	assert_int_equal(bounce_dsn_tail(&r, &out), 0);
	assert_string_equal(
	    out.data + out.len - sizeof(BOUNDARY) - 5, "\n--" BOUNDARY "--\n");
	buf_free(&out);
}

/* Returns the offset of "\n" name ": " in h from from, or fails. */
static size_t
field_at(const char *h, size_t from, const char *name)
{
	char want[128];
	const char *p;

	(void)snprintf(want, sizeof(want), "\n%s: ", name);
	p = strstr(h + from, want);
	if (p == NULL)
		fail_msg("no %s after offset %zu", name, from);
	return (size_t)(p - h) + 1;
}

static bool
has_field(const char *h, const char *name)
{
	char want[64];

	(void)snprintf(want, sizeof(want), "\n%s: ", name);
	return strstr(h, want) != NULL;
}

/* RFC 3464 2.2 and 2.3: the fields come in the grammar's order, and each
 * recipient's block starts after a blank line. */
static void
test_bounce_dsn_status_fields_in_order(void **state)
{
	static const char *const per_message[] = { "Original-Envelope-Id",
		"Reporting-MTA", "Received-From-MTA", "Arrival-Date",
		"X-Mailwright-Queue-ID" };
	static const char *const per_rcpt[] = { "Original-Recipient",
		"Final-Recipient", "Action", "Status", "Remote-MTA",
		"Diagnostic-Code", "Last-Attempt-Date", "Will-Retry-Until" };
	struct dsn_rcpt rc[2] = { rcpt_failed, rcpt_failed };
	struct dsn_report r;
	size_t pos, i, k;
	char *h;

	rc[1].action = DSN_ACTION_DELAYED;
	rc[1].status = "4.4.1";
	rc[1].will_retry_until = 1765000000;
	rc[1].final_rcpt = "carol@example.org";
	r = report(rc, 2);
	r.full = false;
	h = head(&r);
	pos = field_at(h, 0,
	    "Content-Type: message/delivery-status\n\n"
	    "Original-Envelope-Id");
	for (i = 0; i < MW_NELEM(per_message); i++)
		pos = field_at(h, pos, per_message[i]);
	for (k = 0; k < 2; k++) {
		/* a blank line, then the first field of the block */
		assert_memory_equal(
		    strstr(h + pos, "\n\n"), "\n\nOriginal-Recipient:", 21);
		for (i = 0; i < MW_NELEM(per_rcpt); i++) {
			if (k == 0 && i == MW_NELEM(per_rcpt) - 1)
				continue; /* no Will-Retry-Until when failed */
			pos = field_at(h, pos, per_rcpt[i]);
		}
	}
	assert_true(strstr(h,
	                "Will-Retry-Until: Sat, 06 Dec 2025 05:46:40 "
	                "+0000\n") != NULL);
	/* one Will-Retry-Until: the failed recipient has none */
	assert_null(
	    strstr(strstr(h, "Will-Retry-Until") + 1, "Will-Retry-Until"));
	free(h);
}

struct kind_case {
	const char *name;
	enum dsn_action actions[3];
	size_t n;
	const char *subject;
	const char *text;
	const char *part3;
};

// clang-format off
static const struct kind_case kind_cases[] = {
	{ "failed", { DSN_ACTION_FAILED }, 1,
	  "Subject: Undelivered Mail Returned to Sender\n",
	  "your message could not\nbe delivered",
	  "Content-Description: Undelivered Message\n" },
	{ "failed wins", { DSN_ACTION_DELIVERED, DSN_ACTION_DELAYED,
	  DSN_ACTION_FAILED }, 3,
	  "Subject: Undelivered Mail Returned to Sender\n",
	  "your message could not\nbe delivered",
	  "Content-Description: Undelivered Message\n" },
	{ "delayed", { DSN_ACTION_DELAYED }, 1,
	  "Subject: Delayed Mail (still being retried)\n",
	  "Your message has not yet been delivered to one or more recipients.\n"
	  "The mail system will keep trying until Sat, 06 Dec 2025 05:46:40 "
	  "+0000.\n",
	  "Content-Description: Delayed Message\n" },
	{ "delayed wins over success", { DSN_ACTION_RELAYED,
	  DSN_ACTION_DELAYED }, 2,
	  "Subject: Delayed Mail (still being retried)\n",
	  "# THIS IS A WARNING ONLY. YOU DO NOT NEED TO RESEND YOUR MESSAGE. #",
	  "Content-Description: Delayed Message\n" },
	{ "delivered", { DSN_ACTION_DELIVERED }, 1,
	  "Subject: Successful Mail Delivery Report\n",
	  "Your message was successfully delivered to the destination(s)\n"
	  "listed below.\n\n",
	  "Content-Description: Delivered Message\n" },
	{ "relayed", { DSN_ACTION_RELAYED, DSN_ACTION_EXPANDED }, 2,
	  "Subject: Successful Mail Delivery Report\n",
	  "Where it was relayed to a system that does not report\n",
	  "Content-Description: Delivered Message\n" },
};
// clang-format on

static void
test_bounce_dsn_kinds_table(void **state)
{
	static const char *const action_lines[] = { "Action: failed\n",
		"Action: delayed\n", "Action: delivered\n", "Action: relayed\n",
		"Action: expanded\n" };
	struct dsn_rcpt rc[3];
	struct dsn_report r;
	size_t i, k;
	char *h;

	for (i = 0; i < MW_NELEM(kind_cases); i++) {
		const struct kind_case *c = &kind_cases[i];

		for (k = 0; k < c->n; k++) {
			rc[k] = rcpt_failed;
			rc[k].action = c->actions[k];
			rc[k].will_retry_until = 1765000000;
		}
		r = report(rc, c->n);
		h = head(&r);
		if (strstr(h, c->subject) == NULL ||
		    strstr(h, c->text) == NULL || strstr(h, c->part3) == NULL)
			fail_msg("%s:\n%s", c->name, h);
		for (k = 0; k < c->n; k++)
			assert_non_null(strstr(h, action_lines[c->actions[k]]));
		/* the success report asks for no help */
		assert_int_equal(strstr(h, "For further assistance") != NULL,
		    strstr(c->subject, "Successful") == NULL);
		free(h);
	}
}

/* Checks the lines of h: none longer than 998, no CR, no control byte but
 * LF and the TAB we fold the boundary with, and the only lines that start
 * with "--" are the three delimiters. */
static void
check_lines(const char *h, const char *boundary)
{
	const char *line = h, *nl;
	size_t delimiters = 0, n;
	char delim[128];

	(void)snprintf(delim, sizeof(delim), "--%s", boundary);
	for (; *line != '\0'; line = nl + 1) {
		nl = strchr(line, '\n');
		assert_non_null(nl); /* every line ends in LF */
		n = (size_t)(nl - line);
		if (n > 998)
			fail_msg("line of %zu bytes: %.60s", n, line);
		for (const char *p = line; p < nl; p++)
			if ((unsigned char)*p < 0x20 && *p != '\t')
				fail_msg("control byte %#x in: %.*s", *p,
				    (int)n, line);
		if (n >= 2 && line[0] == '-' && line[1] == '-') {
			if (n != strlen(delim) || memcmp(line, delim, n) != 0)
				fail_msg("stray delimiter: %.*s", (int)n, line);
			delimiters++;
		}
	}
	assert_int_equal(delimiters, 3);
}

/* Checks that every line of each header block (the message's, each
 * part's, each delivery-status block) is "Name: ..." with a name we write,
 * or a continuation that starts with white space. */
static void
check_header_blocks(const char *h)
{
	static const char *const names[] = { "From", "To", "Subject", "Date",
		"Message-ID", "Auto-Submitted", "MIME-Version", "Content-Type",
		"Content-Transfer-Encoding", "Content-Description",
		"Original-Envelope-Id", "Reporting-MTA", "Received-From-MTA",
		"Arrival-Date", "X-Mailwright-Queue-ID", "Original-Recipient",
		"Final-Recipient", "Action", "Status", "Remote-MTA",
		"Diagnostic-Code", "Last-Attempt-Date", "Will-Retry-Until" };
	const char *ds = strstr(h, "delivery-status\n");
	const char *starts[8], *body, *end;
	size_t nstarts = 0, i, k;
	const char *p;

	starts[nstarts++] = h;
	/* each part's header starts after a delimiter */
	for (p = strstr(h, "\n--"); p != NULL; p = strstr(p + 1, "\n--"))
		if (nstarts < MW_NELEM(starts))
			starts[nstarts++] = strchr(p + 1, '\n') + 1;
	/* the delivery-status blocks, after its part header */
	assert_non_null(ds);
	body = strstr(ds, "\n\n") + 2;
	end = strstr(body, "\n--");
	assert_non_null(end);
	starts[nstarts++] = body;
	for (p = strstr(body, "\n\n"); p != NULL && p + 1 < end;
	     p = strstr(p + 2, "\n\n"))
		if (nstarts < MW_NELEM(starts))
			starts[nstarts++] = p + 2;
	for (i = 0; i < nstarts; i++) {
		for (p = starts[i]; *p != '\n' && *p != '\0';
		     p = strchr(p, '\n') + 1) {
			if (*p == ' ' || *p == '\t')
				continue;
			for (k = 0; k < MW_NELEM(names); k++)
				if (strncmp(p, names[k], strlen(names[k])) ==
				        0 &&
				    p[strlen(names[k])] == ':')
					break;
			if (k == MW_NELEM(names))
				fail_msg("not a header line: %.60s", p);
		}
	}
}

#define EVIL "\r\nX-Injected: yes\n\n--" BOUNDARY "\nContent-Type: text/html\r"

/* Values from the network cannot add header lines, parts or blank lines:
 * CR, LF and the other control bytes become '?'. */
static void
test_bounce_dsn_hostile_values_cannot_inject(void **state)
{
	struct dsn_rcpt rc = rcpt_failed;
	struct dsn_report r;
	char *h;

	rc.final_rcpt = "bob@x" EVIL;
	rc.orig_rcpt = "orig@x" EVIL;
	rc.orig_type = "rfc822" EVIL;
	rc.status = "5.1.1" EVIL;
	rc.remote_mta = "mx" EVIL;
	rc.diag = "550 5.1.1 no such user" EVIL "\x01\x7f\x1b[2J\t";
	rc.reason = "host said" EVIL;
	r = report(&rc, 1);
	r.reporting_mta = "mail" EVIL;
	r.postmaster = "MAILER-DAEMON" EVIL;
	r.to = "alice@x" EVIL;
	r.queue_id = "QID" EVIL;
	r.envid = "env" EVIL;
	r.received_from = "client" EVIL;
	r.message_id = "<id@x>" EVIL;
	r.mail_name = "mw" EVIL;
	h = head(&r);
	check_lines(h, BOUNDARY);
	check_header_blocks(h);
	assert_null(strstr(h, "\nX-Injected"));
	assert_null(strstr(h, "\r"));
	assert_null(strstr(h, "text/html\n"));
	assert_non_null(strstr(h,
	    "Diagnostic-Code: smtp; 550 5.1.1 no such "
	    "user??X-Injected:"));
	assert_non_null(strstr(h, "\nTo: alice@x??X-Injected:"));
	free(h);
}

/* Long values fold at spaces near 78 columns (RFC 5322 2.2.3), and
 * unfolding gives the value back; a word longer than a line is split so
 * that no line passes 998; a value is cut at 4096 bytes. */
static void
test_bounce_dsn_long_values_fold(void **state)
{
	struct dsn_rcpt rc = rcpt_failed;
	struct dsn_report r = report(&rc, 1);
	char *diag = malloc(6001), *h, *field, *unfolded, *p, *q;
	size_t i, n;

	assert_non_null(diag);
	/* words of 9 letters and a space */
	for (i = 0; i < 3000; i++)
		diag[i] = i % 10 == 9 ? ' ' : (char)('a' + i % 10);
	diag[2999] = 'z';
	diag[3000] = '\0';
	rc.diag = diag;
	rc.reason = diag;
	h = head(&r);
	check_lines(h, BOUNDARY);
	check_header_blocks(h);
	field = strstr(h, "Diagnostic-Code: ");
	assert_non_null(field);
	/* the field: up to the next line that is no continuation */
	for (p = field;; p = q + 1) {
		q = strchr(p, '\n');
		if ((size_t)(q - p) > 78)
			fail_msg("folded line of %zu: %.*s", (size_t)(q - p),
			    (int)(q - p), p);
		if (q[1] != ' ')
			break;
	}
	n = (size_t)(q - field);
	unfolded = malloc(n + 1);
	assert_non_null(unfolded);
	for (i = 0, q = unfolded; i < n; i++)
		if (field[i] != '\n')
			*q++ = field[i];
	*q = '\0';
	assert_string_equal(unfolded + strlen("Diagnostic-Code: smtp; "), diag);
	free(unfolded);
	free(h);
	/* one long word: split below 998, and cut at 4096 bytes */
	memset(diag, 'w', 6000);
	diag[6000] = '\0';
	h = head(&r);
	check_lines(h, BOUNDARY);
	check_header_blocks(h);
	field = strstr(h, "Diagnostic-Code: ");
	for (n = 0, p = field + strlen("Diagnostic-Code: smtp; "); *p == 'w' ||
	     (*p == '\n' && p[1] == ' ') || (*p == ' ' && p[-1] == '\n');
	     p++)
		n += *p == 'w';
	assert_int_equal(n, 4096 - strlen("smtp; "));
	free(h);
	free(diag);
}

/* RFC 6533: an SMTPUTF8 original gets message/global-* parts and keeps
 * UTF-8; otherwise UTF-8 becomes '?' and a UTF-8 address is written as
 * utf-8-addr-xtext. */
static void
test_bounce_dsn_smtputf8(void **state)
{
	struct dsn_rcpt rc = rcpt_failed;
	struct dsn_report r = report(&rc, 1);
	char *h;

	rc.final_rcpt = "j\xc3\xb6rg@example.org";
	rc.orig_rcpt = "J\xc3\xb6rg+x@example.org";
	rc.orig_type = "utf-8";
	rc.diag = "550 5.1.1 <j\xc3\xb6rg@example.org> unknown \xff";
	rc.reason = rc.diag;
	r.smtputf8 = true;
	h = head(&r);
	check_lines(h, BOUNDARY);
	assert_non_null(strstr(h, "report-type=global-delivery-status;\n"));
	assert_non_null(strstr(h,
	    "\nContent-Transfer-Encoding: 8bit\n\n"
	    "This is a MIME"));
	assert_non_null(strstr(h,
	    "Content-Type: text/plain; charset=utf-8\n"
	    "Content-Transfer-Encoding: 8bit\n"));
	assert_non_null(strstr(h,
	    "Content-Type: message/global-delivery-"
	    "status\nContent-Transfer-Encoding: 8bit\n"));
	assert_non_null(strstr(h,
	    "Original-Recipient: utf-8; "
	    "J\xc3\xb6rg+x@example.org\n"));
	assert_non_null(strstr(h,
	    "Final-Recipient: utf-8; "
	    "j\xc3\xb6rg@example.org\n"));
	assert_non_null(strstr(h,
	    "smtp; 550 5.1.1 <j\xc3\xb6rg@example.org> "
	    "unknown ?\n"));
	assert_non_null(strstr(h,
	    "\n<j\xc3\xb6rg@example.org> (expanded from "
	    "<J\xc3\xb6rg+x@example.org>): 550"));
	assert_true(strstr(h,
	                "Content-Type: message/global\n"
	                "Content-Transfer-Encoding: 8bit\n\n") != NULL &&
	    strcmp(strstr(h, "Content-Type: message/global\n"),
	        "Content-Type: message/global\n"
	        "Content-Transfer-Encoding: 8bit\n\n") == 0);
	free(h);
	r.full = false;
	h = head(&r);
	assert_non_null(strstr(h,
	    "Content-Type: message/global-headers\n"
	    "Content-Transfer-Encoding: 8bit\n\n"));
	free(h);
	/* the same addresses in a 7-bit report */
	r.smtputf8 = false;
	h = head(&r);
	check_lines(h, BOUNDARY);
	for (const char *p = h; *p != '\0'; p++)
		assert_true((unsigned char)*p < 0x80);
	assert_non_null(strstr(h, "report-type=delivery-status;\n"));
	assert_non_null(strstr(h,
	    "Original-Recipient: utf-8; "
	    "J\\x{F6}rg\\x{2B}x@example.org\n"));
	assert_non_null(strstr(h,
	    "Final-Recipient: utf-8; "
	    "j\\x{F6}rg@example.org\n"));
	assert_non_null(strstr(h, "\n<j??rg@example.org> (expanded from "));
	assert_non_null(strstr(h, "Content-Type: text/rfc822-headers\n\n"));
	free(h);
}

/* The returned message's encoding: 8bit when it carries 8-bit data, in
 * the part and the multipart around it (RFC 2045 6.4). */
static void
test_bounce_dsn_body_8bit(void **state)
{
	struct dsn_report r = report(&rcpt_failed, 1);
	char *h;

	r.body_8bit = true;
	h = head(&r);
	assert_non_null(strstr(h, "\"\nContent-Transfer-Encoding: 8bit\n\n"));
	assert_non_null(strstr(h,
	    "Content-Type: message/rfc822\n"
	    "Content-Transfer-Encoding: 8bit\n\n"));
	assert_non_null(strstr(h, "charset=us-ascii\n\n"));
	free(h);
	r.full = false;
	h = head(&r);
	assert_non_null(strstr(h,
	    "Content-Description: Undelivered Message "
	    "Headers\nContent-Type: text/rfc822-headers\n"
	    "Content-Transfer-Encoding: 8bit\n\n"));
	free(h);
}

/* What is not given is not written. */
static void
test_bounce_dsn_optional_fields_absent(void **state)
{
	struct dsn_rcpt rc = { .final_rcpt = "bob@example.org",
		.action = DSN_ACTION_FAILED };
	struct dsn_report r = report(&rc, 1);
	char *h;

	r.envid = NULL;
	r.received_from = NULL;
	r.arrival = 0;
	r.mail_name = NULL;
	h = head(&r);
	check_lines(h, BOUNDARY);
	check_header_blocks(h);
	assert_false(has_field(h, "Original-Envelope-Id"));
	assert_false(has_field(h, "Received-From-MTA"));
	assert_false(has_field(h, "Arrival-Date"));
	assert_false(has_field(h, "Original-Recipient"));
	assert_false(has_field(h, "Remote-MTA"));
	assert_false(has_field(h, "Diagnostic-Code"));
	assert_false(has_field(h, "Last-Attempt-Date"));
	assert_false(has_field(h, "Will-Retry-Until"));
	/* RFC 3464 2.3.4: Status is required; one follows the action */
	assert_non_null(strstr(h, "\nStatus: 5.0.0\n"));
	assert_non_null(strstr(h, "\n<bob@example.org>: failed\n"));
	assert_non_null(strstr(h, "                   The mail system\n"));
	free(h);
}

/* The whole head fits at max and max+1; at max-1 (and any less) it fails
 * with ENOBUFS and what was in the buffer stays as it was. */
static void
test_bounce_dsn_head_limits_at_edges(void **state)
{
	struct dsn_report r = report(&rcpt_failed, 1);
	size_t need = sizeof(golden_failure) - 1, max;
	struct buf out;

	for (max = 3; max <= need + 3 + 1; max++) {
		buf_init(&out, max);
		assert_int_equal(buf_append_str(&out, "x: "), 0);
		errno = 0;
		if (max < need + 3) {
			assert_int_equal(bounce_dsn_head(&r, &out), -1);
			assert_int_equal(errno, ENOBUFS);
			assert_string_equal(out.data, "x: ");
		} else {
			assert_int_equal(bounce_dsn_head(&r, &out), 0);
			assert_string_equal(out.data + 3, golden_failure);
		}
		buf_free(&out);
	}
	/* the tail: "\n--" BOUNDARY "--\n" */
	need = strlen(BOUNDARY) + 6;
	for (max = need - 1; max <= need + 1; max++) {
		buf_init(&out, max);
		assert_int_equal(
		    bounce_dsn_tail(&r, &out), max < need ? -1 : 0);
		assert_int_equal(out.len, max < need ? 0 : need);
		buf_free(&out);
	}
}

/* No recipient, or a boundary RFC 2046 5.1.1 does not allow: EINVAL. */
static void
test_bounce_dsn_head_einval(void **state)
{
	static const struct {
		const char *boundary;
		bool ok;
	} cases[] = {
		{ NULL, false },
		{ "", false },
		{ "x", true },
		{ "a'()+_,-./:=? b", true },
		{ "trailing space ", false },
		{ "quote\"", false },
		{ "semi;colon", false },
		{ "new\nline", false },
		{ "8bit\xc3\xa9", false },
		{ "0123456789012345678901234567890123456789012345678901234567890123456789",
		    true },
		{ "0123456789012345678901234567890123456789012345678901234567890123456789x",
		    false },
	};
	struct dsn_report r = report(&rcpt_failed, 1);
	struct buf out;
	size_t i;

	buf_init(&out, 1 << 20);
	for (i = 0; i < MW_NELEM(cases); i++) {
		r.boundary = cases[i].boundary;
		errno = 0;
		if (bounce_dsn_head(&r, &out) != (cases[i].ok ? 0 : -1))
			fail_msg("boundary \"%s\"", cases[i].boundary);
		if (!cases[i].ok) {
			assert_int_equal(errno, EINVAL);
			assert_int_equal(out.len, 0);
		}
		buf_reset(&out);
	}
	r = report(&rcpt_failed, 0);
	assert_int_equal(bounce_dsn_head(&r, &out), -1);
	assert_int_equal(errno, EINVAL);
	buf_free(&out);
}

struct date_case {
	uint64_t t;
	const char *s;
};

// clang-format off
static const struct date_case date_cases[] = {
	{ 0, "Thu, 01 Jan 1970 00:00:00 +0000" },
	{ 68256, "Thu, 01 Jan 1970 18:57:36 +0000" },
	{ 951782400, "Tue, 29 Feb 2000 00:00:00 +0000" },
	{ 951868799, "Tue, 29 Feb 2000 23:59:59 +0000" },
	{ 1709164800, "Thu, 29 Feb 2024 00:00:00 +0000" },
	{ 1764761539, "Wed, 03 Dec 2025 11:32:19 +0000" },
	{ 4102444800, "Fri, 01 Jan 2100 00:00:00 +0000" },
	{ 4107542400, "Mon, 01 Mar 2100 00:00:00 +0000" },
	{ 253402300799, "Fri, 31 Dec 9999 23:59:59 +0000" },
	{ 253402300800, "Sat, 01 Jan 10000 00:00:00 +0000" },
};
// clang-format on

static void
test_bounce_dsn_date_table(void **state)
{
	struct buf out;
	size_t i;

	for (i = 0; i < MW_NELEM(date_cases); i++) {
		buf_init(&out, 64);
		assert_int_equal(bounce_dsn_date(date_cases[i].t, &out), 0);
		assert_string_equal(out.data, date_cases[i].s);
		buf_free(&out);
	}
	/* any t formats, and the buffer's max holds */
	buf_init(&out, 64);
	assert_int_equal(bounce_dsn_date(UINT64_MAX, &out), 0);
	assert_int_equal(out.data[3], ',');
	assert_string_equal(out.data + out.len - 6, " +0000");
	buf_free(&out);
	buf_init(&out, 30);
	assert_int_equal(bounce_dsn_date(0, &out), -1);
	assert_int_equal(out.len, 0);
	buf_free(&out);
	buf_init(&out, 31);
	assert_int_equal(bounce_dsn_date(0, &out), 0);
	buf_free(&out);
}

/* Against the C library over 1970..2514, in steps that hit every
 * day of the week, month and leap rule. */
static void
test_bounce_dsn_date_matches_gmtime(void **state)
{
	char want[64];
	struct buf out;
	struct tm tm;
	uint64_t t;
	time_t tt;

	buf_init(&out, 64);
	for (t = 0; t < (uint64_t)1 << 34; t += 86400 * 37 + 3607) {
		tt = (time_t)t;
		assert_non_null(gmtime_r(&tt, &tm));
		assert_true(strftime(want, sizeof(want),
		                "%a, %d %b %Y %H:%M:%S +0000", &tm) > 0);
		buf_reset(&out);
		assert_int_equal(bounce_dsn_date(t, &out), 0);
		if (strcmp(out.data, want) != 0)
			fail_msg(
			    "%ju: %s, want %s", (uintmax_t)t, out.data, want);
	}
	buf_free(&out);
}

struct hlen_case {
	const char *name;
	const char *in;
	size_t n;
	size_t len;
};

// clang-format off
static const struct hlen_case hlen_cases[] = {
	{ "header and body", S("From: a\nTo: b\n\nbody\n"), 15 },
	{ "folded header", S("Subject: a\n b\n\nbody"), 15 },
	{ "empty header section", S("\nbody\n"), 1 },
	{ "no body", S("From: a\n\n"), 9 },
	{ "no blank line", S("From: a\nTo: b\n"), 14 },
	{ "no line end", S("From: a"), 7 },
	{ "empty", S(""), 0 },
	{ "CRLF blank line", S("From: a\r\n\r\nbody"), 11 },
	{ "LF then CRLF", S("From: a\n\r\nbody"), 10 },
	{ "blank line of spaces is a header line", S("A: b\n \nC: d\n\nx"), 13 },
	{ "lone CR", S("From: a\n\rX\n\nbody"), 12 },
	{ "CR at the very end", S("From: a\n\r"), 9 },
};
// clang-format on

static void
test_bounce_dsn_header_len_table(void **state)
{
	size_t i, got;

	for (i = 0; i < MW_NELEM(hlen_cases); i++) {
		const struct hlen_case *c = &hlen_cases[i];
		char *in = malloc(c->n > 0 ? c->n : 1); /* exact size */

		assert_non_null(in);
		memcpy(in, c->in, c->n);
		got = bounce_dsn_header_len(in, c->n);
		if (got != c->len)
			fail_msg("%s: %zu, want %zu", c->name, got, c->len);
		free(in);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bounce_dsn_head_failure_whole),
		cmocka_unit_test(test_bounce_dsn_status_fields_in_order),
		cmocka_unit_test(test_bounce_dsn_kinds_table),
		cmocka_unit_test(test_bounce_dsn_hostile_values_cannot_inject),
		cmocka_unit_test(test_bounce_dsn_long_values_fold),
		cmocka_unit_test(test_bounce_dsn_smtputf8),
		cmocka_unit_test(test_bounce_dsn_body_8bit),
		cmocka_unit_test(test_bounce_dsn_optional_fields_absent),
		cmocka_unit_test(test_bounce_dsn_head_limits_at_edges),
		cmocka_unit_test(test_bounce_dsn_head_einval),
		cmocka_unit_test(test_bounce_dsn_date_table),
		cmocka_unit_test(test_bounce_dsn_date_matches_gmtime),
		cmocka_unit_test(test_bounce_dsn_header_len_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
