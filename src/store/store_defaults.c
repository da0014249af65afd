/*
 * The special-use folders every user gets (RFC 6154): the
 * mail_special_use_folders syntax, and creating them in a Maildir that
 * has no folder yet (a new user, or one made before folders existed).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "store/store.h"
#include "store/store_folder_name.h"
#include "store/store_private.h"

/* A bound on the list (RFC 6154 knows seven attributes). */
#define DEFAULTS_MAX 64

void
store_defaults_free(struct store_defaults *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		free(d->v[i].name);
	free(d->v);
	d->v = NULL;
	d->n = 0;
}

static bool
defaults_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int
store_defaults_parse(
    const char *spec, struct store_defaults *out, struct buf *err)
{
	struct store_defaults d = { 0 };
	const char *p = spec, *e, *eq, *ne, *as, *why;
	struct buf canon;
	uint32_t use;
	size_t i;

	out->v = NULL;
	out->n = 0;
	buf_init(&canon, 4 * STORE_FOLDER_DISK_MAX);
	for (; *p != '\0'; p = *e == ',' ? e + 1 : e) {
		e = strchrnul(p, ',');
		while (p < e && defaults_space(*p))
			p++;
		ne = e;
		while (ne > p && defaults_space(ne[-1]))
			ne--;
		if (ne == p) { /* empty entries (",,", a trailing ",") */
			if (*e == '\0')
				break;
			continue;
		}
		for (eq = ne; eq > p && eq[-1] != '='; eq--)
			;
		if (eq == p) {
			store_seterr(err,
			    "\"%.*s\": expected NAME=\\Attribute (e.g. "
			    "Sent=\\Sent)",
			    (int)(ne - p), p);
			goto fail;
		}
		as = eq; /* the attribute, after optional space */
		while (as < ne && defaults_space(*as))
			as++;
		eq--; /* the '=' */
		while (eq > p && defaults_space(eq[-1]))
			eq--;
		use = store_special_use_of(as, (size_t)(ne - as));
		if (use == 0) {
			store_seterr(err,
			    "\"%.*s\": unknown special-use attribute (RFC "
			    "6154: \\All \\Archive \\Drafts \\Flagged \\Junk "
			    "\\Sent \\Trash)",
			    (int)(ne - as), as);
			goto fail;
		}
		buf_reset(&canon);
		if (store_folder_name_canon(
		        p, (size_t)(eq - p), &canon, &why) == -1) {
			store_seterr(err, "\"%.*s\": bad folder name: %s",
			    (int)(eq - p), p, why);
			goto fail;
		}
		if (strcmp(buf_cstr(&canon), "INBOX") == 0) {
			store_seterr(err,
			    "INBOX cannot be a special-use "
			    "folder");
			goto fail;
		}
		for (i = 0; i < d.n; i++)
			if (strcmp(d.v[i].name, buf_cstr(&canon)) == 0 ||
			    d.v[i].special_use == use) {
				store_seterr(err, "\"%.*s\": %s given twice",
				    (int)(ne - p), p,
				    d.v[i].special_use == use ? "attribute"
				                              : "folder");
				goto fail;
			}
		if (d.n >= DEFAULTS_MAX) {
			store_seterr(err, "more than %d folders", DEFAULTS_MAX);
			goto fail;
		}
		d.v = xreallocarray(d.v, d.n + 1, sizeof(*d.v));
		memset(&d.v[d.n], 0, sizeof(d.v[d.n]));
		d.v[d.n].name = xstrdup(buf_cstr(&canon));
		d.v[d.n].special_use = use;
		d.n++;
		if (*e == '\0')
			break;
	}
	buf_free(&canon);
	*out = d;
	return 0;
fail:
	buf_free(&canon);
	store_defaults_free(&d);
	errno = EINVAL;
	return -1;
}

int
store_create_defaults(
    struct store *st, const struct store_defaults *d, struct buf *err)
{
	bool any = false;
	size_t i;

	if (d == NULL || d->n == 0)
		return 0;
	if (store_folder_any(st, &any, err) == -1)
		return -1;
	if (any)
		return 0;
	for (i = 0; i < d->n; i++)
		if (store_folder_create(
		        st, d->v[i].name, d->v[i].special_use, err) == -1 &&
		    errno != EEXIST) /* another session was quicker */
			return -1;
	log_debug("%s: created the special-use folders", st->maildir);
	return 1;
}

int
store_open_defaults(const char *maildir, const struct store_defaults *d,
    struct store **st_out, struct buf *err)
{
	if (store_open(maildir, st_out, err) == -1)
		return -1;
	/* the folders are a convenience: a failure is logged, and the
	 * user still gets their mail */
	if (store_create_defaults(*st_out, d, err) == -1)
		log_warn("%s: cannot create the special-use folders: %s",
		    maildir, err != NULL ? buf_cstr(err) : strerror(errno));
	return 0;
}
