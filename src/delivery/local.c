/*
 * The local delivery agent (see local.h): recipient expansion, the
 * Return-Path/Delivered-To prefix, Maildir delivery, and the delivery log
 * lines in Postfix's shape:
 *
 *	ID: to=<a@x>, orig_to=<b@x>, relay=local, delay=0.02,
 *	    delays=0.01/0/0/0.01, dsn=2.0.0, status=sent (delivered to maildir)
 *
 * delays=a/b/c/d as Postfix: a = before the queue manager took the message,
 * b = in the queue manager (waiting for a delivery thread and for the
 * message's earlier recipients), c = recipient lookup, d = writing.
 */
#include "delivery/local.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "delivery/delivery_log.h"
#include "delivery/resolve.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "queue/queue_file.h"
#include "store/maildir.h"

#define LOCAL_PREFIX_MAX ((size_t)64 * 1024)

/* What happened to one destination, for the log line. */
struct local_outcome {
	const char *to;     /* final address */
	const char *relay;  /* "local" or "none" */
	const char *dsn;    /* RFC 3463 code */
	const char *status; /* "sent", "deferred", "bounced" */
	const char *text;   /* the parenthesised explanation */
};

static double
local_now(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
local_log(const struct local_request *req, const struct local_outcome *o,
    double t_resolved, double t_done)
{
	const struct queue_env *env = queue_file_env(req->qf);
	struct delivery_log l = {
		.id = env->id,
		.to = o->to,
		.orig_to = env->rcpts[req->rcpt],
		.relay = o->relay,
		.dsn = o->dsn,
		.status = o->status,
		.text = o->text,
		.arrival = (double)env->arrival + (double)env->arrival_usec / 1e6,
		.t_queued = req->t_queued,
		.t_started = req->t_started,
		.t_conn = t_resolved,
		.t_done = t_done,
	};

	delivery_log_line(&l);
}

/* Appends "name: <addr>\n" (or without the brackets, as Postfix writes
 * Delivered-To:); bytes that could end or fold the header line become '?'
 * (the SMTP parser never accepts them; this is defence). */
static int
local_header(struct buf *out, const char *name, const char *addr, bool brackets)
{
	const char *p;

	if (buf_printf(out, "%s: %s", name, brackets ? "<" : "") == -1)
		return -1;
	for (p = addr; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (buf_append_char(out, c < 0x20 || c == 0x7f ? '?' : *p) ==
		    -1)
			return -1;
	}
	return buf_append_str(out, brackets ? ">\n" : "\n");
}

/* RFC 3463 codes for a failed Maildir write. */
static const char *
local_errno_dsn(int e)
{
	switch (e) {
	case EDQUOT:
		return "4.2.2"; /* mailbox full */
	case ENOSPC:
		return "4.3.1"; /* mail system full */
	default:
		return "4.2.0"; /* other mailbox status */
	}
}

/* Delivers into one Maildir; logs; returns LOCAL_SENT or LOCAL_DEFERRED. */
static enum local_status
local_deliver_maildir(const struct local_request *req,
    const struct resolve_dest *dest, size_t dest_index, double t_resolved,
    struct buf *reason)
{
	const struct queue_env *env = queue_file_env(req->qf);
	struct local_outcome o = { dest->address, "local", "2.0.0", "sent",
		"delivered to maildir" };
	struct maildir_msg m;
	struct buf name, prefix, why;
	enum local_status st = LOCAL_DEFERRED;
	bool existed = false;

	buf_init(&name, 1024);
	buf_init(&prefix, LOCAL_PREFIX_MAX);
	buf_init(&why, 1024);
	if (maildir_name(&name, env->arrival, env->arrival_usec, env->id,
	        req->rcpt, dest_index, req->hostname) == -1 ||
	    local_header(&prefix, "Return-Path", env->sender, true) == -1 ||
	    local_header(&prefix, "Delivered-To", dest->address, false) == -1) {
		(void)!buf_printf(&why, "cannot build the maildir file: %m");
		o.dsn = "4.3.0";
		goto out;
	}
	memset(&m, 0, sizeof(m));
	m.maildir = dest->maildir;
	m.name = buf_cstr(&name);
	m.prefix = prefix.data;
	m.prefix_len = prefix.len;
	m.src_fd = queue_file_fd(req->qf);
	m.src_off = queue_file_body_offset(req->qf);
	m.src_len = queue_file_body_size(req->qf);
	m.check_cur = req->retry;
	if (maildir_ensure(dest->maildir) == -1) {
		o.dsn = local_errno_dsn(errno);
		(void)!buf_printf(
		    &why, "cannot create maildir %s: %m", dest->maildir);
		goto out;
	}
	if (maildir_deliver(&m, &existed) == -1) {
		o.dsn = local_errno_dsn(errno);
		(void)!buf_printf(
		    &why, "cannot deliver to maildir %s: %m", dest->maildir);
		goto out;
	}
	/* Said in the log so that counting "sent" lines stays honest. */
	if (existed)
		o.text = "delivered to maildir; copy from an earlier attempt";
	st = LOCAL_SENT;
out:
	if (st == LOCAL_DEFERRED) {
		o.status = "deferred";
		o.text = buf_cstr(&why);
		if (reason != NULL) {
			buf_reset(reason);
			(void)!buf_append_str(reason, buf_cstr(&why));
		}
	}
	local_log(req, &o, t_resolved, local_now());
	buf_free(&why);
	buf_free(&prefix);
	buf_free(&name);
	return st;
}

static void
local_set_reason(struct buf *reason, const char *text)
{
	if (reason != NULL) {
		buf_reset(reason);
		(void)!buf_append_str(reason, text);
	}
}

/* Appends a copy of the remote destination d to out. */
static void
local_remote_push(struct resolve_list *out, const struct resolve_dest *d)
{
	out->v = xreallocarray(out->v, out->n + 1, sizeof(*out->v));
	out->v[out->n].kind = RESOLVE_REMOTE;
	out->v[out->n].address = xstrdup(d->address);
	out->v[out->n].maildir = NULL;
	out->n++;
}

enum local_status
local_deliver(const struct local_request *req, struct buf *reason,
    struct resolve_list *remote_out)
{
	const struct queue_env *env = queue_file_env(req->qf);
	const char *rcpt =
	    req->address != NULL ? req->address : env->rcpts[req->rcpt];
	struct resolve_list list = { NULL, 0 };
	struct local_outcome o = { rcpt, "local", "4.3.0", "deferred", "" };
	enum local_status st = LOCAL_SENT;
	enum resolve_status rs;
	struct buf err;
	double t_resolved;
	size_t i;

	buf_init(&err, 1024);
	rs = resolver_expand(req->resolver, rcpt, &list, &err);
	t_resolved = local_now();
	switch (rs) {
	case RESOLVE_LOCAL_OK:
	case RESOLVE_NOT_LOCAL:
		break;
	case RESOLVE_UNKNOWN_USER:
		/* smtpd rejects unknown users at RCPT; this one was deleted
		 * since. Returning the message comes with bounces (#3). */
		o.dsn = "5.1.1";
		o.status = "bounced";
		o.text = "unknown user";
		local_set_reason(reason, err.len > 0 ? buf_cstr(&err)
		                                     : "unknown user");
		local_log(req, &o, t_resolved, local_now());
		st = LOCAL_BOUNCED;
		goto out;
	case RESOLVE_TEMPFAIL:
	default:
		if (err.len == 0)
			(void)!buf_append_str(&err, "recipient lookup failed");
		o.text = buf_cstr(&err);
		local_set_reason(reason, o.text);
		local_log(req, &o, t_resolved, local_now());
		st = LOCAL_DEFERRED;
		goto out;
	}
	if (list.n == 0) {
		/* An alias that expands to nothing: the mail is discarded on
		 * the administrator's instruction. */
		o.dsn = "2.0.0";
		o.status = "sent";
		o.text = "discarded: alias expands to nothing";
		local_log(req, &o, t_resolved, local_now());
		goto out;
	}
	for (i = 0; i < list.n; i++) {
		const struct resolve_dest *d = &list.v[i];
		size_t di = list.n > 1 || req->dest_base > 0
		    ? req->dest_base + i
		    : MAILDIR_NO_DEST;

		if (d->kind == RESOLVE_MAILBOX && d->maildir != NULL) {
			if (local_deliver_maildir(req, d, di, t_resolved,
			        reason) == LOCAL_DEFERRED)
				st = LOCAL_DEFERRED;
			continue;
		}
		if (d->kind == RESOLVE_REMOTE && remote_out != NULL) {
			/* the queue manager sends it (qmgr_remote.c) */
			local_remote_push(remote_out, d);
			continue;
		}
		o.to = d->address;
		o.dsn = "4.3.0";
		o.status = "deferred";
		o.relay = "local";
		o.text = d->kind == RESOLVE_REMOTE
		    ? "no outbound delivery for this address"
		    : "recipient lookup gave no maildir";
		local_set_reason(reason, o.text);
		local_log(req, &o, t_resolved, local_now());
		st = LOCAL_DEFERRED;
	}
out:
	resolve_list_free(&list);
	buf_free(&err);
	return st;
}
