/*
 * The delivery status notification (bounce) builder: a multipart/report
 * (RFC 6522) with a text/plain part in Postfix's words, a
 * message/delivery-status part (RFC 3464) and the original message or its
 * header. The original may be large, so the caller streams it between the
 * head and the tail built here. Line ends are LF (the queue stores LF; the
 * SMTP client turns them into CRLF). Pure functions: the caller picks the
 * recipients to report, the unique Message-ID and boundary, and sends.
 */
#ifndef QUEUE_BOUNCE_DSN_H
#define QUEUE_BOUNCE_DSN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/mw.h"

struct buf;

/* RFC 3464 2.3.3 */
enum dsn_action {
	DSN_ACTION_FAILED,
	DSN_ACTION_DELAYED,
	DSN_ACTION_DELIVERED,
	DSN_ACTION_RELAYED,
	DSN_ACTION_EXPANDED,
};

/* One recipient's report. Every string is borrowed; those marked so may
 * be NULL. */
struct dsn_rcpt {
	const char *final_rcpt; /* address as delivered to ("bob@x") */
	const char *orig_rcpt;  /* ORCPT address or NULL */
	const char *orig_type;  /* ORCPT type ("rfc822") or NULL */
	enum dsn_action action;
	const char *status;     /* "5.1.1"; NULL: 5.0.0, 4.0.0 or 2.0.0 */
	const char *remote_mta; /* "mx.example.org" or NULL */
	/* the remote reply "550 5.1.1 <bob@x>: Recipient address rejected"
	 * or NULL */
	const char *diag;
	/* human text for the first part ("host mx.x[192.0.2.1] said: 550
	 * ..." or "connect to ...: Connection refused"); NULL: diag, or the
	 * action */
	const char *reason;
	uint64_t last_attempt;     /* epoch seconds, 0 = none */
	uint64_t will_retry_until; /* for DELAYED, epoch seconds, 0 = none */
};

struct dsn_report {
	const char *reporting_mta; /* myhostname */
	/* "mailwright": signs the first part; NULL: "The mail system" */
	const char *mail_name;
	const char *postmaster; /* "MAILER-DAEMON@myhostname" for From: */
	/* the envelope sender of the original, the bounce's recipient */
	const char *to;
	const char *queue_id; /* the original's, for X-Mailwright-Queue-ID */
	const char *envid;    /* ENVID or NULL (Original-Envelope-Id) */
	/* "client.example[192.0.2.7]" or NULL (Received-From-MTA: dns; ...) */
	const char *received_from;
	uint64_t arrival;       /* epoch seconds (Arrival-Date), 0 = none */
	uint64_t now;           /* Date: of the report, epoch seconds */
	const char *message_id; /* "<...@host>", unique (the caller's) */
	/* unique, e.g. "<queueid>.<epoch>/<host>": 1..70 RFC 2046 5.1.1
	 * bchars, not ending in a space */
	const char *boundary;
	bool full;      /* RET=FULL: attach message/rfc822; else
	                   text/rfc822-headers */
	bool body_8bit; /* the original carries 8-bit data: 8bit parts */
	/* the original was SMTPUTF8: message/global-delivery-status and
	 * message/global(-headers) (RFC 6533 6), UTF-8 kept in values */
	bool smtputf8;
	const struct dsn_rcpt *rcpts;
	size_t nrcpt;
};

/*
 * Appends everything up to and including the header of the third part
 * (message/rfc822 or text/rfc822-headers, message/global or
 * message/global-headers with smtputf8), ending with the blank line after
 * that part's header; the caller then copies the original (all of it, or
 * bounce_dsn_header_len() bytes of it) and calls bounce_dsn_tail().
 *
 * The kind of report follows the recipients: a failure ("Undelivered Mail
 * Returned to Sender") when one of them FAILED, else a delay warning
 * ("Delayed Mail (still being retried)") when one is DELAYED, else a
 * success report ("Successful Mail Delivery Report"), in Postfix's words,
 * with "<rcpt>: reason" per recipient wrapped at 76 columns. The
 * delivery-status part holds the RFC 3464 2.2 per-message fields in the
 * order of its grammar (Original-Envelope-Id, Reporting-MTA,
 * Received-From-MTA, Arrival-Date, then X-Mailwright-Queue-ID), then per
 * recipient a blank line and the 2.3 fields (Original-Recipient,
 * Final-Recipient, Action, Status, Remote-MTA, Diagnostic-Code,
 * Last-Attempt-Date, Will-Retry-Until).
 *
 * Values come from the network and cannot break the structure: control
 * bytes become '?', so do non-ASCII bytes (or, with smtputf8, bytes that
 * are not well-formed UTF-8), runs of spaces become one, a value is cut at
 * 4096 bytes, and long lines are folded (RFC 5322 2.2.3) near 78 columns
 * and never pass 998.
 *
 * 0, or -1 with nothing appended: ENOBUFS past out->max, EINVAL when
 * there is no recipient or the boundary is not 1..70 RFC 2046 bchars.
 */
int bounce_dsn_head(const struct dsn_report *r, struct buf *out) MW_MUST_CHECK;

/* Appends the closing delimiter "\n--boundary--\n". 0 or -1 (ENOBUFS). */
int bounce_dsn_tail(const struct dsn_report *r, struct buf *out) MW_MUST_CHECK;

/*
 * The length of the header section of the original p[0..n) (LF line
 * ends; a CRLF blank line counts too), including the blank line that ends
 * it, or n when there is none: what the caller copies for
 * text/rfc822-headers.
 */
size_t bounce_dsn_header_len(const char *p, size_t n);

/* Appends t as an RFC 5322 3.3 date in UTC: "Thu, 03 Dec 2026 11:32:19
 * +0000". 0 or -1 (ENOBUFS). */
int bounce_dsn_date(uint64_t t, struct buf *out) MW_MUST_CHECK;

#endif
