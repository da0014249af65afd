/*
 * IMAP subscriptions (RFC 9051 6.3.7, 6.3.8) in the file Dovecot keeps
 * them in, <maildir>/subscriptions, so that a Maildir moves between the
 * two servers with its subscriptions. Dovecot 2.3 writes version 2: the
 * header "V\t2\n\n", then one name a line, its levels in modified UTF-7
 * (as on disk, mailbox_list_utf8 = no) separated by tabs, each level
 * tab-escaped (\001 followed by 1, t, r or n for \001, tab, CR and LF).
 * Version 1 (no header) has the names as on disk, "." between levels; we
 * read it and write version 2.
 *
 * Changes are read-modify-write of the whole file, replaced atomically
 * inside a write transaction of the index, which serialises mailwright's
 * processes (Dovecot itself takes a dotlock we do not: running both on
 * one Maildir at once may lose a subscription, never the file).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "store/store.h"
#include "store/store_folder_name.h"
#include "store/store_private.h"

#define SUBS_FILE   "subscriptions"
#define SUBS_HEADER "V\t2\n\n"
/* Far more than anyone subscribes to; a bound for a damaged file. */
#define SUBS_FILE_MAX ((size_t)16 * 1024 * 1024)

/* The IMAP name of one line (line[0..len), version v) appended to out:
 * 0, or -1 when it does not map to a name. */
static int
subs_line_name(const char *line, size_t len, int v, struct buf *out)
{
	struct buf disk, name;
	const char *why;
	size_t i;
	int ret = -1;

	if (len == 5 && memcmp(line, "INBOX", 5) == 0)
		return buf_append(out, "INBOX", 5);
	buf_init(&disk, STORE_FOLDER_DISK_MAX + 1);
	buf_init(&name, 4 * STORE_FOLDER_DISK_MAX);
	/* either version as the directory entry, ".a.b" */
	if (buf_append_char(&disk, '.') == -1)
		goto out;
	for (i = 0; i < len; i++) {
		char c = line[i];

		if (v == 2 && c == '\t')
			c = '.';
		else if (v == 2 && c == '\001' && i + 1 < len) {
			/* an escaped byte: none of them can be in a name */
			goto out;
		} else if (v == 2 && c == '.')
			goto out; /* a "." inside a level */
		if (buf_append_char(&disk, c) == -1)
			goto out;
	}
	if (store_folder_name_from_disk(disk.data, disk.len, &name, &why) == -1)
		goto out;
	ret = buf_append(out, name.data, name.len);
out:
	buf_free(&disk);
	buf_free(&name);
	return ret;
}

/* The version-2 line of canonical name, appended to out. */
static int
subs_name_line(const char *name, struct buf *out)
{
	struct buf disk;
	const char *why;
	size_t i;
	int ret = -1;

	if (strcmp(name, "INBOX") == 0)
		return buf_append(out, "INBOX", 5);
	buf_init(&disk, STORE_FOLDER_DISK_MAX + 1);
	if (store_folder_name_to_disk(name, strlen(name), &disk, &why) == -1)
		goto out;
	/* ".a.b" to "a\tb": modified UTF-7 has no byte to tab-escape */
	for (i = 1; i < disk.len; i++)
		if (buf_append_char(
		        out, disk.data[i] == '.' ? '\t' : disk.data[i]) == -1)
			goto out;
	ret = 0;
out:
	buf_free(&disk);
	return ret;
}

/* Reads the file: its lines in *data, the version in *v. */
static int
subs_read(struct store *st, struct buf *data, int *v, struct buf *err)
{
	char *path = xasprintf("%s/" SUBS_FILE, st->maildir);
	int r = fs_read_file(path, data), saved = errno;

	free(path);
	*v = 1;
	if (r == -1 && saved != ENOENT) {
		store_seterr(
		    err, "%s/" SUBS_FILE ": %s", st->maildir, strerror(saved));
		errno = saved;
		return -1;
	}
	if (data->len >= 5 && memcmp(data->data, SUBS_HEADER, 5) == 0) {
		*v = 2;
		memmove(data->data, data->data + 5, data->len - 5);
		buf_truncate(data, data->len - 5);
	}
	return 0;
}

/* Calls fn for each line of data: the raw line and its name ("" when it
 * maps to none). */
typedef void subs_line_fn(void *, const char *, size_t, const char *);

static void
subs_each(const struct buf *data, int v, subs_line_fn *fn, void *arg)
{
	const char *p = data->data, *e = p + data->len, *nl;
	struct buf name;

	buf_init(&name, 4 * STORE_FOLDER_DISK_MAX);
	while (p != NULL && p < e) {
		nl = memchr(p, '\n', (size_t)(e - p));
		if (nl == NULL)
			nl = e;
		buf_reset(&name);
		if (nl > p &&
		    subs_line_name(p, (size_t)(nl - p), v, &name) == 0)
			fn(arg, p, (size_t)(nl - p), buf_cstr(&name));
		else if (nl > p)
			fn(arg, p, (size_t)(nl - p), "");
		p = nl + 1;
	}
	buf_free(&name);
}

static void
subs_collect(void *arg, const char *line, size_t len, const char *name)
{
	struct store_folder_list *l = arg;
	size_t i;

	(void)line;
	(void)len;
	if (name[0] == '\0' || l->n >= 100000)
		return;
	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i].name, name) == 0)
			return;
	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	memset(&l->v[l->n], 0, sizeof(l->v[l->n]));
	l->v[l->n++].name = xstrdup(name);
}

int
store_folder_subscriptions(
    struct store *st, struct store_folder_list *out, struct buf *err)
{
	struct buf data;
	int v;

	out->v = NULL;
	out->n = 0;
	buf_init(&data, SUBS_FILE_MAX);
	if (subs_read(st, &data, &v, err) == -1) {
		buf_free(&data);
		return -1;
	}
	subs_each(&data, v, subs_collect, out);
	buf_free(&data);
	return 0;
}

struct subs_edit {
	const char *name; /* canonical */
	bool on, found;
	int v;
	struct buf *out;
	int failed;
};

static void
subs_keep(void *arg, const char *line, size_t len, const char *name)
{
	struct subs_edit *ed = arg;

	if (strcmp(name, ed->name) == 0) {
		if (ed->found || !ed->on)
			return; /* dropped (and duplicates with it) */
		ed->found = true;
	}
	/* other lines stay as they were (Dovecot does the same); a
	 * version-1 line is written again as version 2 */
	if (ed->v == 1 && name[0] != '\0') {
		if (subs_name_line(name, ed->out) == -1)
			ed->failed = 1;
	} else if (buf_append(ed->out, line, len) == -1)
		ed->failed = 1;
	if (buf_append_char(ed->out, '\n') == -1)
		ed->failed = 1;
}

int
store_folder_subscribe(
    struct store *st, const char *name, bool on, struct buf *err)
{
	struct subs_edit ed = { 0 };
	struct buf data, out, canon;
	const char *why;
	char *path = NULL;
	int ret = -1, saved;

	buf_init(&data, SUBS_FILE_MAX);
	buf_init(&out, SUBS_FILE_MAX + 4096);
	buf_init(&canon, 4 * STORE_FOLDER_DISK_MAX);
	if (store_folder_name_canon(name, strlen(name), &canon, &why) == -1 ||
	    store_folder_name_to_disk(name, strlen(name), &data, &why) == -1) {
		store_seterr(err, "bad folder name: %s", why);
		errno = EINVAL;
		goto out;
	}
	buf_reset(&data);
	if (store_begin(st, err) == -1)
		goto out;
	if (subs_read(st, &data, &ed.v, err) == -1)
		goto out;
	ed.name = buf_cstr(&canon);
	ed.on = on;
	ed.out = &out;
	if (buf_append_str(&out, SUBS_HEADER) == -1)
		goto nobufs;
	subs_each(&data, ed.v, subs_keep, &ed);
	if (on && !ed.found &&
	    (subs_name_line(ed.name, &out) == -1 ||
	        buf_append_char(&out, '\n') == -1))
		goto nobufs;
	if (ed.failed)
		goto nobufs;
	path = xasprintf("%s/" SUBS_FILE, st->maildir);
	if (fs_atomic_write(path, out.data, out.len, 0600) == -1) {
		store_seterr(err, "%s: %s", path, strerror(errno));
		goto out;
	}
	store_rollback(st); /* nothing written to the index */
	ret = 0;
	goto out;
nobufs:
	store_seterr(err, "%s/" SUBS_FILE ": too long", st->maildir);
	errno = ENOBUFS;
out:
	saved = errno;
	if (ret == -1)
		store_rollback(st);
	free(path);
	buf_free(&data);
	buf_free(&out);
	buf_free(&canon);
	errno = saved;
	return ret;
}
