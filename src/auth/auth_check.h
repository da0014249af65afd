/*
 * A password check or a SCRAM credentials lookup on the worker pool, for
 * the login code of every server (SMTP AUTH, POP3, IMAP): auth_verify()
 * or auth_lookup_scram() off the event loop, then a callback on it. The
 * password is wiped as soon as the job is freed.
 */
#ifndef AUTH_AUTH_CHECK_H
#define AUTH_AUTH_CHECK_H

#include <stdbool.h>

#include "lib/buf.h"

struct auth_verifier;
struct worker_pool;

struct auth_check {
	void *arg;      /* the caller's (its session) */
	unsigned kind;  /* the caller's: what the check was for */
	char *user;
	bool scram;     /* a SCRAM lookup, not a password check */
	/* the result, when done runs: 0 ok (stored holds SCRAM's
	 * credentials), 1 refused, -1 a temporary failure (err says why) */
	int ret;
	struct buf stored;
	struct buf err;
	/* private */
	struct auth_verifier *v;
	char *password;
	void (*done)(struct auth_check *c);
};

/*
 * Checks user's password (password != NULL) or looks up user's SCRAM
 * credentials (password NULL) with v on a worker of wp, then calls
 * done(c) on the loop; c is freed when done returns.
 */
void auth_check_submit(struct worker_pool *wp, struct auth_verifier *v,
    const char *user, const char *password, unsigned kind,
    void (*done)(struct auth_check *c), void *arg);

#endif
