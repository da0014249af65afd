/*
 * Editing a configuration file's text in place, as postconf -e and -X do
 * (Postfix's postconf_edit.c): the definitions of the edited names are
 * replaced or removed with their continuation lines; every other byte of
 * the file is kept. Pure: reading, validating and the atomic write are
 * cli_conf.c's job.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "lib/buf.h"
#include "lib/conf_parse.h"
#include "lib/xalloc.h"

static bool
conf_edit_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static bool
conf_edit_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_';
}

/* The last edit of the n-byte name, or -1: a later edit wins. */
static ssize_t
conf_edit_find(
    const struct conf_edit *edits, size_t nedits, const char *name, size_t n)
{
	size_t k;

	for (k = nedits; k > 0; k--)
		if (strncmp(edits[k - 1].name, name, n) == 0 &&
		    edits[k - 1].name[n] == '\0')
			return (ssize_t)(k - 1);
	return -1;
}

static int
conf_edit_write(struct buf *out, const struct conf_edit *e)
{
	return buf_printf(out, "%s = %s\n", e->name, e->value);
}

int
conf_edit_text(const char *data, size_t len, const struct conf_edit *edits,
    size_t nedits, struct buf *out, struct buf *warn)
{
	const char *line, *nl;
	size_t pos = 0, n, full, i, j, *found;
	bool skipping = false;
	ssize_t k;
	int ret = -1;

	found = xcalloc(nedits + 1, sizeof(*found));
	while (pos < len) {
		line = data + pos;
		nl = memchr(line, '\n', len - pos);
		n = nl != NULL ? (size_t)(nl - line) : len - pos;
		full = n + (nl != NULL);
		pos += full;
		for (i = 0; i < n && conf_edit_space(line[i]); i++)
			;
		if (i == n || line[i] == '#' || (i > 0 && !skipping)) {
			/* blank, comment, or continuation of a kept line */
			if (buf_append(out, line, full) == -1)
				goto out;
			continue;
		}
		if (i > 0)
			continue; /* continuation of a replaced definition */
		for (j = 0; j < n && conf_edit_name_char(line[j]); j++)
			;
		k = j > 0 ? conf_edit_find(edits, nedits, line, j) : -1;
		skipping = k != -1;
		if (k == -1) {
			if (buf_append(out, line, full) == -1)
				goto out;
			continue;
		}
		if (found[k]++ == 1)
			(void)!buf_printf(warn, "multiple entries for \"%s\"\n",
			    edits[k].name);
		if (edits[k].value != NULL &&
		    conf_edit_write(out, &edits[k]) == -1)
			goto out;
	}
	for (k = 0; k < (ssize_t)nedits; k++) {
		if (edits[k].value == NULL || found[k] != 0 ||
		    conf_edit_find(edits, nedits, edits[k].name,
		        strlen(edits[k].name)) != k)
			continue;
		if (out->len > 0 && out->data[out->len - 1] != '\n' &&
		    buf_append_char(out, '\n') == -1)
			goto out;
		if (conf_edit_write(out, &edits[k]) == -1)
			goto out;
	}
	ret = 0;
out:
	free(found);
	return ret;
}
