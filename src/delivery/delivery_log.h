/*
 * The delivery log line, in Postfix's shape, for local and remote
 * deliveries alike (pflogsumm and fail2ban read these):
 *
 *	ID: to=<a@x>, orig_to=<b@x>, relay=mx.x[192.0.2.1]:25, delay=0.52,
 *	    delays=0.01/0/0.3/0.21, dsn=2.0.0, status=sent (250 2.0.0 Ok)
 *
 * delays=a/b/c/d as Postfix: a = before the queue manager took the
 * message, b = in the queue manager, c = connection setup (or recipient
 * lookup, for local delivery), d = transmission.
 */
#ifndef DELIVERY_DELIVERY_LOG_H
#define DELIVERY_DELIVERY_LOG_H

struct delivery_log {
	const char *id;
	const char *to;      /* final address */
	const char *orig_to; /* the envelope recipient; omitted when = to */
	const char *relay;   /* "local", "none", "host[addr]:port" */
	const char *dsn;     /* RFC 3463 */
	const char *status;  /* sent, deferred, bounced, expired */
	const char *text;    /* the parenthesised explanation */
	double arrival, t_queued, t_started, t_conn, t_done; /* epoch secs */
};

/* Logs one line at info level. */
void delivery_log_line(const struct delivery_log *l);
/* Seconds as Postfix formats them ("0.2", "0", "1.25"). */
const char *delivery_fmt_secs(char *out, unsigned long outsz, double v);

#endif
