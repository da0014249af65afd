/*
 * Recipient resolution (see resolve.h): local domains, users, aliases
 * from accounts.db and alias_maps, extensions, postmaster, and recursive
 * alias expansion into Maildirs and outside addresses. The stores live in
 * accounts.c and aliases_db.c; this file only decides.
 *
 * Rules, and where they come from:
 * - A domain is local when it is in mydestination or in accounts.db.
 * - Lookups fold case (local parts too, as every MTA does) and try the
 *   full local part first, then the one without its recipient_delimiter
 *   extension (Postfix).
 * - For one key, an accounts.db alias (a full address) wins over an
 *   alias_maps name (a local part of any local domain), which wins over a
 *   user: an alias may forward a user's mail, and "bob: bob, bob@other"
 *   keeps a copy (the self reference is delivered, not expanded).
 * - A target without a domain gets the domain of the alias that holds it.
 *   Postfix appends $myorigin instead; with several hosted domains the
 *   alias's own domain is what an administrator means.
 * - postmaster at every local domain, and a bare "postmaster", always
 *   exist (RFC 5321 4.5.1): without a user or alias they go to
 *   postmaster_recipient, or else to <mail_directory>/<domain>/postmaster.
 * - Nesting deeper than 20 or more than alias_expansion_limit results are
 *   temporary failures, so that the mail waits in the queue until the
 *   administrator fixes the aliases (Postfix defers in the same cases).
 * - A loop (an address reached again below itself) ends as a delivery to
 *   that address if it is a user, else it is dropped with a warning. A
 *   target that names no user is dropped with a warning too; only when
 *   nothing deliverable remains does the recipient bounce.
 */
#include "delivery/resolve.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "auth/accounts.h"
#include "delivery/aliases_db.h"
#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/mailaddr.h"
#include "lib/parse.h"
#include "lib/xalloc.h"

/* Postfix's default virtual_alias_recursion_limit is 1000; ours is the
 * depth the brief for this module fixes, ample for human-made aliases. */
#define RESOLVE_DEPTH_MAX 20
/* When alias_expansion_limit is 0: Postfix's virtual_alias_expansion_limit */
#define RESOLVE_EXPANSION_DEFAULT 1000

struct resolver {
	const struct conf *conf;
	struct accounts *acc;
	struct aliases_db **maps;
	size_t nmaps;
};

/* The state of one resolver_expand call. */
struct resolve_expand {
	struct resolver *r;
	struct resolve_list *out;
	size_t base;  /* out->n when the expansion started */
	size_t limit; /* most destinations this expansion may add */
	struct buf *err;
	char **path; /* the addresses being expanded, outermost first */
	size_t npath;
	char **done; /* addresses expanded completely */
	size_t ndone, capdone;
	bool failed; /* a temporary failure: reason in err */
};

static void resolve_seterr(struct buf *err, const char *fmt, ...)
    MW_PRINTF(2, 3);

static void
resolve_seterr(struct buf *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	buf_reset(err);
	va_start(ap, fmt);
	if (buf_vprintf(err, fmt, ap) == -1)
		buf_reset(err);
	va_end(ap);
}

static bool
resolve_str_set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

struct resolver *
resolver_new(const struct conf *conf, struct buf *err)
{
	struct resolver *r;
	size_t i;
	char *path;

	if (!resolve_str_set(conf->accounts_database) ||
	    !resolve_str_set(conf->mail_directory)) {
		resolve_seterr(err,
		    "accounts_database and mail_directory "
		    "must be set");
		errno = EINVAL;
		return NULL;
	}
	r = xcalloc(1, sizeof(*r));
	r->conf = conf;
	r->acc = accounts_open(conf->accounts_database, true, err);
	if (r->acc == NULL)
		goto fail;
	r->maps = xcalloc(conf->alias_maps.n, sizeof(*r->maps));
	for (i = 0; i < conf->alias_maps.n; i++) {
		path = aliases_db_map_path(conf->alias_maps.items[i], err);
		if (path == NULL)
			goto fail;
		r->maps[r->nmaps++] = aliases_db_open(path);
		free(path);
	}
	return r;
fail:
	resolver_free(&r);
	return NULL;
}

void
resolver_free(struct resolver **rp)
{
	struct resolver *r = *rp;
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nmaps; i++)
		aliases_db_free(&r->maps[i]);
	free(r->maps);
	accounts_close(&r->acc);
	free(r);
	*rp = NULL;
}

/* a and b equal, ignoring ASCII case and one trailing dot on either. */
static bool
resolve_domain_eq(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);

	if (na > 0 && a[na - 1] == '.')
		na--;
	if (nb > 0 && b[nb - 1] == '.')
		nb--;
	return na == nb && ascii_eq_n(a, b, na);
}

/* domain must be lowercased without a trailing dot. */
static enum resolve_status
resolve_domain_local(struct resolver *r, const char *domain, struct buf *err)
{
	const struct conf_list *l = &r->conf->mydestination;
	size_t i;

	if (domain[0] == '\0')
		return RESOLVE_NOT_LOCAL;
	for (i = 0; i < l->n; i++)
		if (resolve_domain_eq(l->items[i], domain))
			return RESOLVE_LOCAL_OK;
	switch (accounts_domain_exists(r->acc, domain, err)) {
	case ACCOUNTS_OK:
		return RESOLVE_LOCAL_OK;
	case ACCOUNTS_NOTFOUND:
		return RESOLVE_NOT_LOCAL;
	default:
		return RESOLVE_TEMPFAIL;
	}
}

enum resolve_status
resolver_domain_status(struct resolver *r, const char *domain)
{
	enum resolve_status st;
	struct buf err;
	char *d = xstrdup(domain);
	size_t n = strlen(d);

	if (n > 0 && d[n - 1] == '.')
		d[n - 1] = '\0';
	ascii_lower(d);
	buf_init(&err, 1024);
	st = resolve_domain_local(r, d, &err);
	if (st == RESOLVE_TEMPFAIL)
		log_warn("%s", buf_cstr(&err));
	buf_free(&err);
	free(d);
	return st;
}

/* The domain of a bare local part ("postmaster"): Postfix qualifies it
 * with $myorigin. */
const char *
resolver_origin(const struct resolver *r)
{
	const struct conf *c = r->conf;

	if (resolve_str_set(c->myorigin))
		return c->myorigin;
	if (resolve_str_set(c->myhostname))
		return c->myhostname;
	if (resolve_str_set(c->mydomain))
		return c->mydomain;
	return "localhost";
}

/*
 * Splits address into a lowercased local part and domain (qualified with
 * resolver_origin when bare; no trailing dot). *quoted_out: the local part
 * needs quotes (so it can never be a user). 0, or -1 when address cannot
 * even be split.
 */
static int
resolve_parse(const struct resolver *r, const char *address, char **local_out,
    char **domain_out, bool *quoted_out)
{
	char *norm, *local, *domain;
	size_t n;
	bool valid;

	norm = mailaddr_normalize(address);
	valid = norm != NULL;
	if (mailaddr_split(valid ? norm : address, &local, &domain) == -1) {
		free(norm);
		return -1;
	}
	free(norm);
	/* an invalid local part is treated as one that needs quoting */
	*quoted_out = !valid || local[0] == '"';
	if (domain[0] == '\0') {
		free(domain);
		domain = xstrdup(resolver_origin(r));
	}
	n = strlen(domain);
	if (n > 1 && domain[n - 1] == '.')
		domain[n - 1] = '\0';
	ascii_lower(local);
	ascii_lower(domain);
	*local_out = local;
	*domain_out = domain;
	return 0;
}

/* The local part without its extension (a new string). */
static char *
resolve_strip(const struct resolver *r, const char *local)
{
	return mailaddr_strip_extension(local,
	    r->conf->recipient_delimiter != NULL ? r->conf->recipient_delimiter
	                                         : "",
	    NULL);
}

/* Is local@domain a user? 1 yes, 0 no, -1 lookup failure (err). */
static int
resolve_is_user(
    struct resolver *r, const char *local, const char *domain, struct buf *err)
{
	char *key = xasprintf("%s@%s", local, domain);
	int rc;

	rc = accounts_user_get(r->acc, key, NULL, err);
	free(key);
	if (rc == ACCOUNTS_OK)
		return 1;
	return rc == ACCOUNTS_NOTFOUND ? 0 : -1;
}

/*
 * The alias targets of local@domain: accounts.db first, then each map.
 * 1 found (targets in *t, *n), 0 none, -1 lookup failure (err).
 */
static int
resolve_alias(struct resolver *r, const char *local, const char *domain,
    char ***t, size_t *n, struct buf *err)
{
	struct buf out;
	char *key = xasprintf("%s@%s", local, domain), *p, *nl;
	size_t i, cap = 0;
	int rc, ret = -1;

	*t = NULL;
	*n = 0;
	buf_init(&out, (size_t)1 << 20);
	rc = accounts_alias_get(r->acc, key, &out, err);
	if (rc == ACCOUNTS_OK) {
		for (p = out.data; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
			if (*n == cap) {
				cap = cap ? cap * 2 : 4;
				*t = xreallocarray(*t, cap, sizeof(**t));
			}
			(*t)[(*n)++] = xstrndup(p, (size_t)(nl - p));
		}
		ret = 1;
		goto out;
	}
	if (rc != ACCOUNTS_NOTFOUND)
		goto out;
	for (i = 0; i < r->nmaps; i++) {
		rc = aliases_db_lookup(r->maps[i], local, t, n, err);
		if (rc != 1) {
			ret = rc == 0 ? 1 : -1;
			goto out;
		}
	}
	ret = 0;
out:
	buf_free(&out);
	free(key);
	return ret;
}

enum resolve_status
resolver_check(struct resolver *r, const char *address)
{
	enum resolve_status st = RESOLVE_UNKNOWN_USER;
	char *local = NULL, *domain = NULL, *stripped = NULL, **t = NULL;
	const char *try[2];
	struct buf err;
	size_t n = 0, i;
	bool quoted;
	int rc;

	buf_init(&err, 1024);
	/* RFC 5321 4.5.1: the bare "postmaster" is always accepted */
	if (ascii_eq(address, "postmaster")) {
		st = RESOLVE_LOCAL_OK;
		goto out;
	}
	if (resolve_parse(r, address, &local, &domain, &quoted) == -1)
		goto out;
	st = resolve_domain_local(r, domain, &err);
	if (st != RESOLVE_LOCAL_OK || quoted) {
		if (st == RESOLVE_LOCAL_OK)
			st = RESOLVE_UNKNOWN_USER;
		goto out;
	}
	stripped = resolve_strip(r, local);
	try[0] = local;
	try[1] = strcmp(stripped, local) != 0 ? stripped : NULL;
	st = RESOLVE_UNKNOWN_USER;
	for (i = 0; i < 2 && try[i] != NULL; i++) {
		/* RFC 5321 4.5.1: postmaster exists at every local domain */
		if (strcmp(try[i], "postmaster") == 0) {
			st = RESOLVE_LOCAL_OK;
			break;
		}
		rc = resolve_is_user(r, try[i], domain, &err);
		if (rc == 0) {
			rc = resolve_alias(r, try[i], domain, &t, &n, &err);
			aliases_db_targets_free(t, n);
		}
		if (rc == -1) {
			st = RESOLVE_TEMPFAIL;
			break;
		}
		if (rc == 1) {
			st = RESOLVE_LOCAL_OK;
			break;
		}
	}
out:
	if (st == RESOLVE_TEMPFAIL)
		log_warn("%s", buf_cstr(&err));
	buf_free(&err);
	free(local);
	free(domain);
	free(stripped);
	return st;
}

static bool
resolve_in(char *const *v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

/* Appends a destination unless an equal one is already there. 1 when
 * added, 0 when it was there. */
static int
resolve_list_push(struct resolve_list *l, enum resolve_kind kind,
    const char *address, const char *maildir)
{
	struct resolve_dest *d;
	size_t i;

	for (i = 0; i < l->n; i++) {
		d = &l->v[i];
		if (d->kind != kind)
			continue;
		if (kind == RESOLVE_MAILBOX ? strcmp(d->maildir, maildir) == 0
		                            : strcmp(d->address, address) == 0)
			return 0;
	}
	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	d = &l->v[l->n++];
	d->kind = kind;
	d->address = xstrdup(address);
	d->maildir = maildir != NULL ? xstrdup(maildir) : NULL;
	return 1;
}

/* resolve_list_push within alias_expansion_limit: 0, or -1 (x->failed). */
static int
resolve_add(struct resolve_expand *x, enum resolve_kind kind,
    const char *address, const char *maildir)
{
	if (resolve_list_push(x->out, kind, address, maildir) == 0)
		return 0;
	if (x->out->n - x->base > x->limit) {
		resolve_seterr(x->err,
		    "alias expansion of <%s> gives more "
		    "than %zu destinations (alias_expansion_limit)",
		    log_sanitize_str(x->path[0]), x->limit);
		x->failed = true;
		return -1;
	}
	return 0;
}

/* Delivers to the Maildir of local@domain: 0, -1 on failure (x->failed),
 * or 1 when the names cannot be path components (no such user). */
static int
resolve_add_mailbox(
    struct resolve_expand *x, const char *local, const char *domain)
{
	char *addr, *maildir;
	int ret;

	maildir =
	    resolve_maildir_path(x->r->conf->mail_directory, local, domain);
	if (maildir == NULL)
		return 1;
	addr = xasprintf("%s@%s", local, domain);
	ret = resolve_add(x, RESOLVE_MAILBOX, addr, maildir);
	free(addr);
	free(maildir);
	return ret;
}

static int resolve_expand_target(struct resolve_expand *x, const char *target,
    const char *alias_domain, size_t depth);

/* The first of the two lookups of local (then its stripped form) that
 * finds anything. kinds: 1 alias (targets in *t), 2 user; 0 none. */
static int
resolve_lookup(struct resolve_expand *x, const char *local,
    const char *stripped, const char *domain, char ***t, size_t *n,
    const char **found_out)
{
	const char *try[2] = { local,
		strcmp(stripped, local) != 0 ? stripped : NULL };
	size_t i;
	int rc;

	for (i = 0; i < 2 && try[i] != NULL; i++) {
		rc = resolve_alias(x->r, try[i], domain, t, n, x->err);
		if (rc == 0) {
			rc = resolve_is_user(x->r, try[i], domain, x->err);
			if (rc == 1)
				rc = 2;
		}
		if (rc == -1) {
			x->failed = true;
			return -1;
		}
		if (rc > 0) {
			*found_out = try[i];
			return rc;
		}
	}
	return 0;
}

/* Expands local@domain (a local domain, local lowercased and unquoted).
 * 0 done (perhaps with drops), 1 unknown user, -1 failed. */
static int
resolve_expand_local(struct resolve_expand *x, const char *local,
    const char *domain, size_t depth)
{
	char *key = xasprintf("%s@%s", local, domain), *stripped, **t = NULL;
	const char *found = NULL;
	size_t n = 0, i;
	int rc, ret = -1;

	stripped = resolve_strip(x->r, local);
	if (depth > RESOLVE_DEPTH_MAX) {
		resolve_seterr(x->err,
		    "alias expansion of <%s> is nested "
		    "deeper than %d at <%s>",
		    log_sanitize_str(x->path[0]), RESOLVE_DEPTH_MAX,
		    log_sanitize_str(key));
		x->failed = true;
		goto out;
	}
	if (resolve_in(x->path, x->npath, key)) {
		/* a loop: deliver to the address itself if it is a user */
		found = local;
		rc = resolve_is_user(x->r, local, domain, x->err);
		if (rc == 0 && strcmp(stripped, local) != 0) {
			found = stripped;
			rc = resolve_is_user(x->r, stripped, domain, x->err);
		}
		if (rc == -1) {
			x->failed = true;
			goto out;
		}
		if (rc == 1)
			ret = resolve_add_mailbox(x, found, domain);
		else {
			log_warn("alias expansion of <%s>: <%s> loops and is "
			         "no user: dropped",
			    log_sanitize_str(x->path[0]),
			    log_sanitize_str(key));
			ret = 0;
		}
		goto out;
	}
	if (resolve_in(x->done, x->ndone, key)) {
		ret = 0; /* reached twice without a loop: its results are in */
		goto out;
	}
	rc = resolve_lookup(x, local, stripped, domain, &t, &n, &found);
	if (rc == -1)
		goto out;
	x->path = xreallocarray(x->path, x->npath + 1, sizeof(*x->path));
	x->path[x->npath++] = key;
	ret = 0;
	if (rc == 1) {
		for (i = 0; i < n && ret == 0; i++)
			ret = resolve_expand_target(x, t[i], domain, depth + 1);
	} else if (rc == 2)
		ret = resolve_add_mailbox(x, found, domain);
	else if (strcmp(stripped, "postmaster") == 0) {
		/* RFC 5321 4.5.1: postmaster must work without any setup */
		if (resolve_str_set(x->r->conf->postmaster_recipient))
			ret = resolve_expand_target(x,
			    x->r->conf->postmaster_recipient, domain,
			    depth + 1);
		else
			ret = resolve_add_mailbox(x, "postmaster", domain);
	} else
		ret = 1;
	x->npath--;
	if (ret != -1) {
		if (x->ndone == x->capdone) {
			x->capdone = x->capdone ? x->capdone * 2 : 8;
			x->done = xreallocarray(
			    x->done, x->capdone, sizeof(*x->done));
		}
		x->done[x->ndone++] = key;
		key = NULL;
	}
out:
	aliases_db_targets_free(t, n);
	free(key); /* NULL when it moved to x->done */
	free(stripped);
	return ret;
}

/*
 * Expands one alias target. A target without a domain gets alias_domain.
 * Targets that name nothing deliverable are dropped with a warning: one
 * bad line in an alias must not bounce the mail for the other targets.
 * 0 or -1 (x->failed).
 */
static int
resolve_expand_target(struct resolve_expand *x, const char *target,
    const char *alias_domain, size_t depth)
{
	char *local = NULL, *domain = NULL, *norm = NULL, *q = NULL;
	enum resolve_status st;
	bool quoted;
	int ret = -1, rc;

	if (mailaddr_split(target, &local, &domain) == 0) {
		q = domain[0] == '\0' ? xasprintf("%s@%s", target, alias_domain)
		                      : xstrdup(target);
		free(local);
		free(domain);
		local = domain = NULL;
	}
	if (q == NULL ||
	    resolve_parse(x->r, q, &local, &domain, &quoted) == -1) {
		log_warn("alias expansion of <%s>: target <%s> is not an "
		         "address: dropped",
		    log_sanitize_str(x->path[0]), log_sanitize_str(target));
		ret = 0;
		goto out;
	}
	st = resolve_domain_local(x->r, domain, x->err);
	if (st == RESOLVE_TEMPFAIL) {
		x->failed = true;
		goto out;
	}
	if (st == RESOLVE_NOT_LOCAL) {
		/* keep the remote local part's case (RFC 5321 2.4) */
		norm = mailaddr_normalize(q);
		ret = resolve_add(
		    x, RESOLVE_REMOTE, norm != NULL ? norm : q, NULL);
		goto out;
	}
	rc = quoted ? 1 : resolve_expand_local(x, local, domain, depth);
	if (rc == 1) {
		log_warn("alias expansion of <%s>: target <%s@%s> is no user: "
		         "dropped",
		    log_sanitize_str(x->path[0]), log_sanitize_str(local),
		    log_sanitize_str(domain));
		rc = 0;
	}
	ret = rc;
out:
	free(local);
	free(domain);
	free(norm);
	free(q);
	return ret;
}

static void
resolve_list_truncate(struct resolve_list *l, size_t n)
{
	while (l->n > n) {
		l->n--;
		free(l->v[l->n].address);
		free(l->v[l->n].maildir);
	}
}

enum resolve_status
resolver_expand(struct resolver *r, const char *address,
    struct resolve_list *out, struct buf *err)
{
	struct resolve_expand x;
	enum resolve_status st;
	char *local = NULL, *domain = NULL, *norm = NULL;
	bool quoted;
	size_t i;
	int rc;

	memset(&x, 0, sizeof(x));
	x.r = r;
	x.out = out;
	x.base = out->n;
	x.err = err;
	x.limit = r->conf->alias_expansion_limit > 0
	    ? (size_t)r->conf->alias_expansion_limit
	    : RESOLVE_EXPANSION_DEFAULT;
	if (resolve_parse(r, address, &local, &domain, &quoted) == -1) {
		resolve_seterr(
		    err, "<%s> is not an address", log_sanitize_str(address));
		st = RESOLVE_UNKNOWN_USER;
		goto out;
	}
	st = resolve_domain_local(r, domain, err);
	/* the bare "postmaster" is ours even when myorigin is not local */
	if (st == RESOLVE_NOT_LOCAL && ascii_eq(address, "postmaster"))
		st = RESOLVE_LOCAL_OK;
	if (st == RESOLVE_TEMPFAIL)
		goto out;
	if (st == RESOLVE_NOT_LOCAL) {
		norm = mailaddr_normalize(address);
		(void)resolve_list_push(
		    out, RESOLVE_REMOTE, norm != NULL ? norm : address, NULL);
		goto out;
	}
	if (quoted) {
		resolve_seterr(err, "<%s>: no such user (a quoted local part)",
		    log_sanitize_str(address));
		st = RESOLVE_UNKNOWN_USER;
		goto out;
	}
	rc = resolve_expand_local(&x, local, domain, 0);
	if (rc == -1 || x.failed)
		st = RESOLVE_TEMPFAIL;
	else if (rc == 1) {
		resolve_seterr(err, "<%s@%s>: no such user",
		    log_sanitize_str(local), log_sanitize_str(domain));
		st = RESOLVE_UNKNOWN_USER;
	} else if (out->n == x.base) {
		resolve_seterr(err,
		    "<%s@%s>: its aliases lead to no mailbox "
		    "or address",
		    log_sanitize_str(local), log_sanitize_str(domain));
		st = RESOLVE_UNKNOWN_USER;
	} else
		st = RESOLVE_LOCAL_OK;
	if (st != RESOLVE_LOCAL_OK)
		resolve_list_truncate(out, x.base);
out:
	for (i = 0; i < x.ndone; i++)
		free(x.done[i]);
	free(x.done);
	free(x.path);
	free(local);
	free(domain);
	free(norm);
	return st;
}

void
resolve_list_free(struct resolve_list *l)
{
	resolve_list_truncate(l, 0);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

char *
resolve_maildir_path(
    const char *mail_directory, const char *local, const char *domain)
{
	char *l, *d, *ret = NULL;

	l = xstrdup(local);
	d = xstrdup(domain);
	ascii_lower(l);
	ascii_lower(d);
	if (fs_component_ok(l) && fs_component_ok(d))
		ret = xasprintf("%s/%s/%s/Maildir", mail_directory, d, l);
	else
		errno = EINVAL;
	free(l);
	free(d);
	return ret;
}

char *
resolve_user_maildir(const char *mail_directory, const char *address)
{
	const char *at = strrchr(address, '@');
	char *local, *ret;

	if (at == NULL || at == address || at[1] == '\0') {
		errno = EINVAL;
		return NULL;
	}
	local = xstrndup(address, (size_t)(at - address));
	ret = resolve_maildir_path(mail_directory, local, at + 1);
	free(local);
	return ret;
}
