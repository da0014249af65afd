/*
 * IMAP folder names and their Maildir++ directories (see
 * store_folder_name.h). The modified UTF-7 codec is imap/imap_mutf7.c's;
 * this file only splits levels, checks them and joins them again.
 */
#include "store/store_folder_name.h"

#include <errno.h>
#include <string.h>

#include "imap/imap_mutf7.h"
#include "lib/buf.h"
#include "lib/parse.h"

/* A level of an IMAP name (UTF-8): NULL when fine, else why not. */
static const char *
folder_level_why(const char *p, size_t n)
{
	size_t i;

	if (n == 0)
		return "empty hierarchy level (leading, trailing or double "
		       "\"/\")";
	if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
		return "\".\" and \"..\" are not folder names";
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c < 0x20 || c == 0x7f)
			return "control character in the name";
		if (c == '.')
			return "\".\" cannot be part of a name in Maildir++ "
			       "(it separates levels on disk)";
		if (c == '*' || c == '%')
			return "\"*\" and \"%\" are LIST wildcards";
		if (c == STORE_FOLDER_SEP)
			return "\"/\" inside a level";
	}
	if (!imap_utf8_valid(p, n))
		return "not valid UTF-8";
	return NULL;
}

/* Splits name into levels, checks them, and appends the canonical name
 * to canon and the directory entry to disk (either may be NULL). */
static int
folder_walk(const char *name, size_t len, struct buf *canon, struct buf *disk,
    const char **why_out)
{
	size_t c0 = canon != NULL ? canon->len : 0;
	size_t d0 = disk != NULL ? disk->len : 0, dlen = 0, lvl = 0;
	const char *p = name, *e = name + len, *sep, *why;
	struct buf tmp;
	int ret = -1;

	buf_init(&tmp, 4 * STORE_FOLDER_DISK_MAX);
	if (len == 0) {
		*why_out = "empty folder name";
		goto fail;
	}
	if (memchr(name, '\0', len) != NULL) {
		*why_out = "NUL in the name";
		goto fail;
	}
	for (;; lvl++) {
		size_t n;

		sep = memchr(p, STORE_FOLDER_SEP, (size_t)(e - p));
		n = sep != NULL ? (size_t)(sep - p) : (size_t)(e - p);
		if ((why = folder_level_why(p, n)) != NULL) {
			*why_out = why;
			goto fail;
		}
		/* RFC 9051 5.1: INBOX is case-insensitive, also as the
		 * first level of its children */
		if (lvl == 0 && n == 5 && ascii_eq_n(p, "INBOX", 5)) {
			p = "INBOX";
			if (sep == NULL) { /* INBOX: the Maildir itself */
				if (canon != NULL &&
				    buf_append(canon, "INBOX", 5) == -1)
					goto nobufs;
				ret = 0;
				goto out;
			}
		}
		buf_reset(&tmp);
		if (imap_mutf7_encode(p, n, &tmp) == -1) {
			*why_out = errno == EINVAL ? "not valid UTF-8"
			                           : "the name is too long";
			if (errno == ENOBUFS)
				errno = EINVAL;
			goto fail;
		}
		dlen += 1 + tmp.len;
		if (dlen > STORE_FOLDER_DISK_MAX) {
			*why_out = "the name is too long (its Maildir++ "
			           "directory would pass 255 bytes)";
			errno = EINVAL;
			goto fail;
		}
		if (disk != NULL &&
		    (buf_append_char(disk, '.') == -1 ||
		        buf_append(disk, tmp.data, tmp.len) == -1))
			goto nobufs;
		if (canon != NULL &&
		    ((lvl > 0 &&
		         buf_append_char(canon, STORE_FOLDER_SEP) == -1) ||
		        buf_append(canon, p, n) == -1))
			goto nobufs;
		if (sep == NULL)
			break;
		p = sep + 1;
	}
	ret = 0;
	goto out;
nobufs:
	*why_out = "the name is too long";
	errno = ENOBUFS;
	goto fail;
fail:
	if (errno != ENOBUFS)
		errno = EINVAL;
	if (canon != NULL)
		buf_truncate(canon, c0);
	if (disk != NULL)
		buf_truncate(disk, d0);
out:
	buf_free(&tmp);
	return ret;
}

int
store_folder_name_canon(
    const char *name, size_t len, struct buf *out, const char **why_out)
{
	return folder_walk(name, len, out, NULL, why_out);
}

int
store_folder_name_to_disk(
    const char *name, size_t len, struct buf *out, const char **why_out)
{
	/* INBOX appends nothing: the Maildir itself */
	return folder_walk(name, len, NULL, out, why_out);
}

int
store_folder_name_from_disk(
    const char *ent, size_t len, struct buf *out, const char **why_out)
{
	size_t start = out->len, lvl = 0, n, l0;
	const char *p, *e = ent + len, *dot, *why;
	int ret = -1;

	if (len < 2 || ent[0] != '.' || len > STORE_FOLDER_DISK_MAX) {
		*why_out = "not a Maildir++ folder directory";
		goto fail;
	}
	if (memchr(ent, '\0', len) != NULL || memchr(ent, '/', len) != NULL) {
		*why_out = "NUL or \"/\" in the entry";
		goto fail;
	}
	for (p = ent + 1;; lvl++) {
		dot = memchr(p, '.', (size_t)(e - p));
		n = dot != NULL ? (size_t)(dot - p) : (size_t)(e - p);
		if (n == 0) {
			*why_out = "empty level in the directory name";
			goto fail;
		}
		if (lvl > 0 && buf_append_char(out, STORE_FOLDER_SEP) == -1)
			goto nobufs;
		l0 = out->len;
		if (imap_mutf7_decode(p, n, out) == -1) {
			if (errno == ENOBUFS)
				goto nobufs;
			*why_out = "not canonical modified UTF-7";
			goto fail;
		}
		if ((why = folder_level_why(out->data + l0, out->len - l0)) !=
		    NULL) {
			*why_out = why;
			goto fail;
		}
		if (lvl == 0 && out->len - l0 == 5 &&
		    ascii_eq_n(out->data + l0, "INBOX", 5)) {
			/* one spelling only: INBOX is the Maildir itself and
			 * its children are ".INBOX.x" */
			if (memcmp(out->data + l0, "INBOX", 5) != 0) {
				*why_out = "INBOX spelt in another case";
				goto fail;
			}
			if (dot == NULL) {
				*why_out = "\".INBOX\" would be a second INBOX";
				goto fail;
			}
		}
		if (dot == NULL)
			break;
		p = dot + 1;
	}
	ret = 0;
	goto out;
nobufs:
	*why_out = "the name is too long";
	buf_truncate(out, start);
	errno = ENOBUFS;
	return -1;
fail:
	buf_truncate(out, start);
	errno = EINVAL;
out:
	return ret;
}
