/*
 * The master's listening sockets: binding the listeners the configuration
 * names, and rebinding on reload only those whose specification changed,
 * so that a reload never refuses a connection on an unchanged address.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/net.h"
#include "lib/xalloc.h"
#include "master/master_private.h"

/* The kinds the master binds. */
static const enum listener_kind master_kinds[] = {
	LISTENER_SMTP,
	LISTENER_SUBMISSION,
	LISTENER_SMTPS,
	LISTENER_IMAP,
	LISTENER_IMAPS,
	LISTENER_POP3,
	LISTENER_POP3S,
};

static const struct conf_list *
master_listen_list(const struct conf *c, enum listener_kind kind)
{
	switch (kind) {
	case LISTENER_SMTP:
		return &c->smtpd_listen;
	case LISTENER_SUBMISSION:
		return &c->submission_listen;
	case LISTENER_SMTPS:
		return &c->smtps_listen;
	case LISTENER_IMAP:
		return &c->imap_listen;
	case LISTENER_IMAPS:
		return &c->imaps_listen;
	case LISTENER_POP3:
		return &c->pop3_listen;
	case LISTENER_POP3S:
		return &c->pop3s_listen;
	}
	log_panic("unknown listener kind %d", (int)kind);
}

/*
 * Turns net_listen()'s "SPEC: cannot bind: reason" into "cannot bind SPEC:
 * reason", the shape admins know; other failures (syntax) keep the
 * parameter name so that they can be found in the file.
 */
static void
master_listen_error(enum listener_kind kind, const char *spec,
    const struct buf *nerr, struct buf *err)
{
	const char *msg = buf_cstr(nerr), *rest;
	size_t speclen = strlen(spec);

	if (strncmp(msg, spec, speclen) == 0 &&
	    strncmp(msg + speclen, ": cannot bind: ", 15) == 0) {
		rest = msg + speclen + 15;
		(void)!buf_printf(err, "cannot bind %s: %s", spec, rest);
		return;
	}
	(void)!buf_printf(err, "%s: %s", listener_kind_param(kind), msg);
}

int
master_listen_open(const struct conf *c, struct listener **ls_inout,
    size_t *n_inout, struct buf *err)
{
	struct listener *old = *ls_inout, *ls = NULL;
	size_t nold = *n_inout, n = 0, cap = 0, k, i, j;
	bool *kept = NULL, *reused = NULL;
	struct buf nerr;
	int ret = -1, saved;

	buf_init(&nerr, 1024);
	kept = xcalloc(nold + 1, sizeof(*kept));
	for (k = 0; k < MW_NELEM(master_kinds); k++) {
		const struct conf_list *l =
		    master_listen_list(c, master_kinds[k]);

		for (i = 0; i < l->n; i++) {
			if (n == cap) {
				cap = cap ? cap * 2 : 8;
				ls = xreallocarray(ls, cap, sizeof(*ls));
				reused =
				    xreallocarray(reused, cap, sizeof(*reused));
			}
			ls[n].kind = master_kinds[k];
			ls[n].spec = xstrdup(l->items[i]);
			ls[n].fd = -1;
			reused[n] = false;
			/* The socket does not know what it serves: a spec
			 * moved to another parameter keeps its socket too. */
			for (j = 0; j < nold; j++)
				if (!kept[j] && old[j].fd != -1 &&
				    strcmp(old[j].spec, ls[n].spec) == 0) {
					kept[j] = true;
					ls[n].fd = old[j].fd;
					reused[n] = true;
					break;
				}
			n++;
			if (ls[n - 1].fd != -1)
				continue;
			buf_reset(&nerr);
			if (net_listen(ls[n - 1].spec, MASTER_LISTEN_BACKLOG,
			        &ls[n - 1].fd, &nerr) == -1) {
				master_listen_error(master_kinds[k],
				    ls[n - 1].spec, &nerr, err);
				goto out;
			}
		}
	}
	/* Commit: the old sockets not carried over are closed here; the
	 * services of the old configuration keep their own copies. */
	for (j = 0; j < nold; j++)
		if (!kept[j] && old[j].fd != -1)
			(void)close(old[j].fd);
	for (j = 0; j < nold; j++)
		free(old[j].spec);
	free(old);
	*ls_inout = ls;
	*n_inout = n;
	ls = NULL;
	n = 0;
	ret = 0;
out:
	saved = errno;
	for (i = 0; i < n; i++) {
		if (!reused[i] && ls[i].fd != -1)
			(void)close(ls[i].fd);
		free(ls[i].spec);
	}
	free(ls);
	free(reused);
	free(kept);
	buf_free(&nerr);
	errno = saved;
	return ret;
}

void
master_listen_close(struct listener **ls, size_t *n)
{
	size_t i;

	if (*ls == NULL)
		return;
	for (i = 0; i < *n; i++) {
		if ((*ls)[i].fd != -1)
			(void)close((*ls)[i].fd);
		free((*ls)[i].spec);
	}
	free(*ls);
	*ls = NULL;
	*n = 0;
}
