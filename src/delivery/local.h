/*
 * The local delivery agent: delivers one envelope recipient of one queued
 * message. It expands the recipient (resolve.h) and writes a copy with
 * "Return-Path:" and "Delivered-To:" prepended into the Maildir of every
 * mailbox destination, exactly once across crashes (maildir.h). Remote
 * destinations stay deferred until outbound delivery exists (#3); unknown
 * users are dropped with a "bounced" log line (bounce messages come with
 * #3). It logs one Postfix-shaped line per outcome. Blocks on the file
 * system and the accounts database: runs on a worker thread.
 */
#ifndef DELIVERY_LOCAL_H
#define DELIVERY_LOCAL_H

#include <stdbool.h>
#include <stddef.h>

struct buf;
struct queue_file;
struct resolve_list;
struct resolver;

enum local_status {
	LOCAL_SENT,     /* every destination has its copy: recipient done */
	LOCAL_BOUNCED,  /* permanent failure: recipient done, nothing kept */
	LOCAL_DEFERRED, /* try again later; the message stays queued */
};

/* One delivery. Pointers are borrowed for the call. */
struct local_request {
	struct resolver *resolver;
	const struct queue_file *qf;
	size_t rcpt;          /* index into the envelope recipients */
	const char *hostname; /* for Maildir file names: myhostname */
	bool retry;           /* not the first attempt: an earlier copy may
	                         have been moved to cur/ */
	double t_queued;      /* when the queue manager took the message */
	double t_started;     /* when delivery to this recipient began */
	const char *address;  /* NULL: expand the envelope recipient; else
	                         expand this address instead (transport
	                         local: for a domain that is not local) */
	size_t dest_base;     /* added to the destination index of Maildir
	                         file names (0: none; an address given here
	                         needs its own range) */
};

/*
 * Delivers req->rcpt to its local mailboxes. Returns the status of those;
 * for LOCAL_DEFERRED and LOCAL_BOUNCED the reason (for the queue's state
 * file and bounces) replaces the contents of reason when reason is not
 * NULL. Destinations outside (an alias that forwards, a non-local
 * recipient) are appended to remote_out for the SMTP client, not
 * delivered or logged here; with remote_out NULL they are deferred.
 */
enum local_status local_deliver(const struct local_request *req,
    struct buf *reason, struct resolve_list *remote_out);

#endif
