/*
 * LIST (RFC 9051 6.3.9, RFC 3501 6.3.8) with LIST-EXTENDED (RFC 5258),
 * LIST-STATUS (RFC 5819) and SPECIAL-USE (RFC 6154 5), and LSUB (RFC 3501
 * 6.3.9, which IMAP4rev2 dropped; still answered, as Dovecot does).
 *
 * One job per command: its first run reads the folders (and the
 * subscriptions when they are asked about), matches every name in the
 * client's form against reference + pattern (imap_list_match.h) and
 * keeps what is to be listed, in order; then each run writes LIST lines
 * (and STATUS lines, RFC 5819) until IMAP_JOB_OUT_CHUNK and asks to run
 * again, so that 10,000 folders list in bounded pieces.
 *
 * What is sent follows Dovecot 2.3 where the RFCs leave a choice:
 * reference and pattern are joined as they are; plain LIST sends
 * \HasChildren/\HasNoChildren and the special-use attributes; extended
 * LIST sends special-use attributes when asked (RFC 6154 5.2) and
 * \NonExistent for levels that are no mailbox (RFC 5258 3.4); parents
 * that only lead to matching subscriptions (RFC 5258 3.5 RECURSIVEMATCH,
 * LSUB's "%" rule) come when the subscribed name itself does not match.
 * Unlike Dovecot, extended LIST always sends the children attributes
 * (RFC 9051 6.3.9: CHILDREN is implied in IMAP4rev2).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "imap/imap_cmd.h"
#include "imap/imap_job.h"
#include "imap/imap_list_match.h"
#include "imap/imap_mailbox.h"
#include "imap/imap_session_private.h"
#include "imap/imap_string.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "store/store.h"
#include "store/store_folder_name.h"

/* A client's form of one name: levels of NAME_MAX, mUTF-7 of UTF-8. */
#define LIST_NAME_MAX (64 * 1024)
/* STATUS reads the index: at most this many per run (RFC 5819). */
#define LIST_STATUS_PER_RUN 256

/* What a listed name is */
enum {
	LIST_A_SUBSCRIBED = 1 << 0,
	LIST_A_NOSELECT = 1 << 1,  /* no mailbox: a level, or not there */
	LIST_A_CHILDREN = 1 << 2,  /* folders exist below it */
	LIST_A_CHILDINFO = 1 << 3, /* subscriptions below it (RFC 5258) */
	LIST_A_PARENT = 1 << 4,    /* only above a subscribed name (LSUB) */
};

struct list_item {
	const char *name; /* the store's form; points into the ctx */
	uint32_t use;     /* enum store_special_use */
	unsigned attrs;
};

struct list_ctx {
	bool ready;
	bool lsub, ext;
	unsigned sel, ret, status;
	struct store_folder_list folders, subs; /* both sorted by name */
	struct imap_list_pattern **pats;
	size_t npats;
	struct list_item *items;
	size_t nitems, cap, pos;
	char **owned; /* parents' names */
	size_t nowned, owned_cap;
	struct buf client; /* scratch: a name in the client's form */
};

static void
list_ctx_free(struct imap_job *j)
{
	struct list_ctx *x = j->ctx;
	size_t i;

	if (x == NULL)
		return;
	store_folder_list_free(&x->folders);
	store_folder_list_free(&x->subs);
	for (i = 0; i < x->npats; i++)
		imap_list_pattern_free(&x->pats[i]);
	free(x->pats);
	free(x->items);
	for (i = 0; i < x->nowned; i++)
		free(x->owned[i]);
	free(x->owned);
	buf_free(&x->client);
	free(x);
	j->ctx = NULL;
}

/* INBOX first (as store_folder_list gives it), then byte order */
static int
list_name_cmp(const char *a, const char *b)
{
	bool ia = strcmp(a, "INBOX") == 0, ib = strcmp(b, "INBOX") == 0;

	if (ia || ib)
		return ib - ia;
	return strcmp(a, b);
}

static int
list_folder_cmp(const void *a, const void *b)
{
	return list_name_cmp(((const struct store_folder *)a)->name,
	    ((const struct store_folder *)b)->name);
}

static int
list_item_cmp(const void *a, const void *b)
{
	const struct list_item *x = a, *y = b;
	int c = list_name_cmp(x->name, y->name);

	/* the same name twice: a subscribed one before a parent */
	return c != 0
	    ? c
	    : (int)(x->attrs & LIST_A_PARENT) - (int)(y->attrs & LIST_A_PARENT);
}

/* The first index whose name is >= name in l (sorted by list_name_cmp) */
static size_t
list_lower_bound(const struct store_folder_list *l, const char *name)
{
	size_t lo = 0, hi = l->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (list_name_cmp(l->v[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static const struct store_folder *
list_find(const struct store_folder_list *l, const char *name)
{
	size_t i = list_lower_bound(l, name);

	return i < l->n && strcmp(l->v[i].name, name) == 0 ? &l->v[i] : NULL;
}

/* Whether l has a name below name ("name/..."). */
static bool
list_has_below(const struct store_folder_list *l, const char *name)
{
	size_t n = strlen(name), i;
	char *key = xmalloc(n + 2);
	bool ret;

	memcpy(key, name, n);
	key[n] = STORE_FOLDER_SEP;
	key[n + 1] = '\0';
	i = list_lower_bound(l, key);
	ret = i < l->n && strncmp(l->v[i].name, key, n + 1) == 0;
	free(key);
	return ret;
}

/* Whether the store name matches one of the patterns; *below_out: a
 * name below it could. */
static bool
list_match(struct imap_job *j, const char *name, bool *below_out)
{
	struct list_ctx *x = j->ctx;
	bool m = false, below, any_below = false;
	size_t i;

	buf_reset(&x->client);
	if (imap_mbox_to_client(j->s, name, &x->client) == -1) {
		*below_out = false;
		return false;
	}
	for (i = 0; i < x->npats; i++) {
		if (imap_list_pattern_match(x->pats[i], buf_cstr(&x->client),
		        x->client.len, &below))
			m = true;
		any_below |= below;
	}
	*below_out = any_below;
	return m;
}

static void
list_push(struct list_ctx *x, const char *name, uint32_t use, unsigned attrs)
{
	if (x->nitems == x->cap) {
		x->cap = x->cap ? 2 * x->cap : 64;
		x->items = xreallocarray(x->items, x->cap, sizeof(*x->items));
	}
	x->items[x->nitems].name = name;
	x->items[x->nitems].use = use;
	x->items[x->nitems].attrs = attrs;
	x->nitems++;
}

/* The attributes a folder (or none: NULL) gives a name. */
static unsigned
list_folder_attrs(const struct store_folder *f)
{
	if (f == NULL)
		return LIST_A_NOSELECT;
	return (f->noselect ? LIST_A_NOSELECT : 0) |
	    (f->has_children ? LIST_A_CHILDREN : 0);
}

/* LIST without SUBSCRIBED: the folders that match. */
static void
list_select_folders(struct imap_job *j)
{
	struct list_ctx *x = j->ctx;
	const struct store_folder *f;
	unsigned attrs;
	size_t i;
	bool below;

	for (i = 0; i < x->folders.n; i++) {
		f = &x->folders.v[i];
		/* RFC 6154 5.1: only the special-use mailboxes */
		if ((x->sel & IMAP_LIST_SEL_SPECIAL_USE) && f->special_use == 0)
			continue;
		if (!list_match(j, f->name, &below))
			continue;
		attrs = list_folder_attrs(f);
		if ((x->ret & IMAP_LIST_RET_SUBSCRIBED) &&
		    list_find(&x->subs, f->name) != NULL)
			attrs |= LIST_A_SUBSCRIBED;
		list_push(x, f->name, f->special_use, attrs);
	}
}

/*
 * LSUB, LIST (SUBSCRIBED): the subscribed names that match, whether they
 * exist or not (RFC 5258 3.1 \NonExistent). With RECURSIVEMATCH (and for
 * LSUB, RFC 3501 6.3.9), also the parents that match while the
 * subscribed name below them does not, once each.
 */
static void
list_select_subscribed(struct imap_job *j)
{
	struct list_ctx *x = j->ctx;
	bool recursive = x->lsub || (x->sel & IMAP_LIST_SEL_RECURSIVEMATCH);
	const struct store_folder *f;
	unsigned attrs;
	size_t i, k;
	char *parent, *slash;
	bool below;

	for (i = 0; i < x->subs.n; i++) {
		const char *name = x->subs.v[i].name;

		f = list_find(&x->folders, name);
		if ((x->sel & IMAP_LIST_SEL_SPECIAL_USE) &&
		    (f == NULL || f->special_use == 0))
			continue;
		if (list_match(j, name, &below)) {
			attrs = LIST_A_SUBSCRIBED | list_folder_attrs(f);
			if (recursive && list_has_below(&x->subs, name))
				attrs |= LIST_A_CHILDINFO;
			list_push(
			    x, name, f != NULL ? f->special_use : 0, attrs);
			continue;
		}
		if (!recursive || (x->sel & IMAP_LIST_SEL_SPECIAL_USE))
			continue;
		parent = xstrdup(name);
		while ((slash = strrchr(parent, STORE_FOLDER_SEP)) != NULL) {
			*slash = '\0';
			if (list_find(&x->subs, parent) != NULL ||
			    !list_match(j, parent, &below))
				continue;
			/* kept once: duplicates go after sorting */
			if (x->nowned == x->owned_cap) {
				x->owned_cap =
				    x->owned_cap ? 2 * x->owned_cap : 16;
				x->owned = xreallocarray(
				    x->owned, x->owned_cap, sizeof(char *));
			}
			x->owned[x->nowned] = xstrdup(parent);
			f = list_find(&x->folders, parent);
			list_push(x, x->owned[x->nowned++],
			    f != NULL ? f->special_use : 0,
			    LIST_A_PARENT | LIST_A_CHILDINFO |
			        list_folder_attrs(f));
		}
		free(parent);
	}
	qsort(x->items, x->nitems, sizeof(*x->items), list_item_cmp);
	for (i = k = 0; i < x->nitems; i++)
		if (k == 0 || strcmp(x->items[k - 1].name, x->items[i].name))
			x->items[k++] = x->items[i];
	x->nitems = k;
}

/* RFC 9051 6.3.9: LIST ref "" asks for the separator and the root of the
 * reference: up to its first separator (Dovecot), or "". */
static void
list_root(struct imap_job *j)
{
	struct imap_session *s = j->s;
	const struct imap_slice *ref = &s->cmd->u.list.ref.name;
	const char *sep = memchr(ref->p != NULL ? ref->p : "", s->srv->sep,
	    ref->p != NULL ? ref->n : 0);
	size_t n = sep != NULL ? (size_t)(sep - ref->p) + 1 : 0;

	(void)!buf_printf(&j->out, "* LIST (\\Noselect) \"%c\" ", s->srv->sep);
	(void)!imap_string_append(&j->out, n > 0 ? ref->p : "", n, s->utf8);
	(void)!buf_append_str(&j->out, "\r\n");
	imap_job_tagged(j, "OK", "List completed.");
}

/* The first run: reads the store, matches, keeps the items. 0 or -1
 * (answered). */
static int
list_prepare(struct imap_job *j)
{
	struct imap_session *s = j->s;
	const struct imap_command *c = s->cmd;
	struct list_ctx *x = j->ctx;
	struct buf pat;
	size_t i, k;

	if (store_folder_list(s->store, &x->folders, &j->err) == -1) {
		imap_job_store_error(j, x->lsub ? "LSUB" : "LIST");
		return -1;
	}
	qsort(
	    x->folders.v, x->folders.n, sizeof(*x->folders.v), list_folder_cmp);
	if (x->lsub || (x->sel & IMAP_LIST_SEL_SUBSCRIBED) ||
	    (x->ret & IMAP_LIST_RET_SUBSCRIBED)) {
		if (store_folder_subscriptions(s->store, &x->subs, &j->err) ==
		    -1) {
			imap_job_store_error(j, x->lsub ? "LSUB" : "LIST");
			return -1;
		}
		qsort(
		    x->subs.v, x->subs.n, sizeof(*x->subs.v), list_folder_cmp);
		for (i = k = 0; i < x->subs.n; i++) {
			if (k > 0 &&
			    strcmp(x->subs.v[k - 1].name, x->subs.v[i].name) ==
			        0) {
				free(x->subs.v[i].name);
				continue;
			}
			x->subs.v[k++] = x->subs.v[i];
		}
		x->subs.n = k;
	}
	/* RFC 9051 6.3.9: the reference and the pattern, joined as sent
	 * (Dovecot: LIST "a" ".b" is "a.b") */
	x->npats = c->u.list.npatterns;
	x->pats = xcalloc(x->npats, sizeof(*x->pats));
	for (i = 0; i < x->npats; i++) {
		const struct imap_slice *ref = &c->u.list.ref.name,
		                        *p = &c->u.list.patterns[i];

		/* both lie in the command, which the reader bounded */
		buf_init(&pat, ref->n + p->n + 1);
		if (buf_append(&pat, ref->p, ref->n) == -1 ||
		    buf_append(&pat, p->p, p->n) == -1)
			MW_ASSERT(!"LIST pattern within its bound");
		x->pats[i] =
		    imap_list_pattern_new(buf_cstr(&pat), pat.len, s->srv->sep);
		buf_free(&pat);
	}
	if (x->lsub || (x->sel & IMAP_LIST_SEL_SUBSCRIBED))
		list_select_subscribed(j);
	else
		list_select_folders(j);
	return 0;
}

static void
list_attr(struct buf *out, bool *first, const char *a)
{
	if (!*first)
		(void)!buf_append_char(out, ' ');
	*first = false;
	(void)!buf_append_str(out, a);
}

/* One "* LIST" or "* LSUB" line for an item. */
static void
list_line(struct imap_job *j, const struct list_item *it)
{
	struct imap_session *s = j->s;
	struct list_ctx *x = j->ctx;
	bool first = true, use;
	uint32_t bit;

	(void)!buf_append_str(&j->out, x->lsub ? "* LSUB (" : "* LIST (");
	if (x->lsub) {
		/* RFC 3501 6.3.9: a level above a subscribed name */
		if (it->attrs & LIST_A_PARENT)
			list_attr(&j->out, &first, "\\Noselect");
		goto name;
	}
	/* Dovecot's order: subscription, existence, children, use */
	if ((it->attrs & LIST_A_SUBSCRIBED) &&
	    (x->ret & IMAP_LIST_RET_SUBSCRIBED))
		list_attr(&j->out, &first, "\\Subscribed");
	if (it->attrs & LIST_A_NOSELECT)
		/* RFC 5258 3.4: \NonExistent implies \Noselect; a client of
		 * plain LIST may not know it */
		list_attr(
		    &j->out, &first, x->ext ? "\\NonExistent" : "\\Noselect");
	list_attr(&j->out, &first,
	    (it->attrs & LIST_A_CHILDREN) ? "\\HasChildren"
	                                  : "\\HasNoChildren");
	/* RFC 6154 5.2: asked for; Dovecot also sends them in plain LIST */
	use = !x->ext || (x->ret & IMAP_LIST_RET_SPECIAL_USE) ||
	    (x->sel & IMAP_LIST_SEL_SPECIAL_USE);
	for (bit = 1; use && bit <= STORE_USE_MASK; bit <<= 1)
		if ((it->use & bit) && store_special_use_name(bit) != NULL)
			list_attr(&j->out, &first, store_special_use_name(bit));
name:
	(void)!buf_printf(&j->out, ") \"%c\" ", s->srv->sep);
	(void)!imap_mbox_append(s, it->name, &j->out);
	/* RFC 5258 3.5 */
	if (!x->lsub && (x->sel & IMAP_LIST_SEL_RECURSIVEMATCH) &&
	    (it->attrs & LIST_A_CHILDINFO))
		(void)!buf_append_str(
		    &j->out, " (\"CHILDINFO\" (\"SUBSCRIBED\"))");
	(void)!buf_append_str(&j->out, "\r\n");
}

/* RFC 5819: "* STATUS" after the LIST line of a mailbox; none for names
 * that are no mailbox, and none when the folder went away meanwhile.
 * true when it read the index. */
static bool
list_status(struct imap_job *j, const struct list_item *it)
{
	struct imap_session *s = j->s;
	struct list_ctx *x = j->ctx;
	struct store_folder_status st;

	if (x->lsub || !(x->ret & IMAP_LIST_RET_STATUS) ||
	    (it->attrs & LIST_A_NOSELECT))
		return false;
	buf_reset(&j->err);
	if (store_folder_status(s->store, it->name, &st, &j->err) == -1) {
		if (errno != ENOENT)
			log_warn("imap(%s): LIST STATUS %s: %s",
			    log_sanitize_str(s->username),
			    log_sanitize_str(it->name), buf_cstr(&j->err));
		return true;
	}
	(void)!buf_append_str(&j->out, "* STATUS ");
	(void)!imap_mbox_append(s, it->name, &j->out);
	(void)!buf_append_char(&j->out, ' ');
	imap_status_items(s, x->status, &st, &j->out);
	(void)!buf_append_str(&j->out, "\r\n");
	return true;
}

static void
imap_list_run(struct imap_job *j)
{
	struct imap_session *s = j->s;
	struct list_ctx *x = j->ctx;
	size_t nstatus = 0;

	if (!x->ready) {
		x->ready = true;
		if (!x->lsub && !x->ext && s->cmd->u.list.npatterns == 1 &&
		    s->cmd->u.list.patterns[0].n == 0) {
			list_root(j);
			return;
		}
		if (list_prepare(j) == -1)
			return;
	}
	while (x->pos < x->nitems) {
		if (j->out.len >= IMAP_JOB_OUT_CHUNK ||
		    nstatus >= LIST_STATUS_PER_RUN) {
			j->more = true; /* the rest once this has been read */
			return;
		}
		list_line(j, &x->items[x->pos]);
		if (list_status(j, &x->items[x->pos]))
			nstatus++;
		x->pos++;
	}
	imap_job_tagged(j, "OK", "%s completed.", x->lsub ? "Lsub" : "List");
	store_shrink(s->store);
}

void
imap_cmd_list(struct imap_session *s, const struct imap_command *c)
{
	struct list_ctx *x = xcalloc(1, sizeof(*x));
	struct imap_job *j;

	x->lsub = c->id == IMAP_CMD_LSUB;
	x->ext = c->u.list.extended;
	x->sel = c->u.list.select;
	x->ret = c->u.list.ret;
	x->status = c->u.list.status;
	/* RFC 5258 3.1: SUBSCRIBED selects and returns \Subscribed */
	if (x->sel & IMAP_LIST_SEL_SUBSCRIBED)
		x->ret |= IMAP_LIST_RET_SUBSCRIBED;
	buf_init(&x->client, LIST_NAME_MAX);
	j = imap_job_new(s, imap_list_run, x);
	j->free = list_ctx_free;
	imap_job_submit(j);
}
