/*
 * Password checks on the worker pool (see auth_check.h).
 */
#include "auth/auth_check.h"

#include <stdlib.h>
#include <string.h>

#include "auth/auth_verify.h"
#include "lib/worker.h"
#include "lib/xalloc.h"

static void
auth_check_run(void *arg)
{
	struct auth_check *c = arg;

	if (c->scram)
		c->ret = auth_lookup_scram(c->v, c->user, &c->stored, &c->err);
	else
		c->ret = auth_verify(c->v, c->user, c->password, &c->err);
}

static void
auth_check_done(void *arg)
{
	struct auth_check *c = arg;

	c->done(c);
	if (c->password != NULL) {
		explicit_bzero(c->password, strlen(c->password));
		free(c->password);
	}
	free(c->user);
	buf_wipe(&c->stored);
	buf_free(&c->stored);
	buf_free(&c->err);
	free(c);
}

void
auth_check_submit(struct worker_pool *wp, struct auth_verifier *v,
    const char *user, const char *password, unsigned kind,
    void (*done)(struct auth_check *c), void *arg)
{
	struct auth_check *c = xcalloc(1, sizeof(*c));

	c->arg = arg;
	c->kind = kind;
	c->v = v;
	c->user = xstrdup(user);
	c->password = password != NULL ? xstrdup(password) : NULL;
	c->scram = password == NULL;
	c->done = done;
	buf_init(&c->stored, 4096);
	buf_init(&c->err, 512);
	worker_submit(wp, auth_check_run, auth_check_done, c);
}
