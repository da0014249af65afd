/*
 * Case folding and substring matching for SEARCH (see imap_search_eval.h).
 * Text is folded one character at a time (our table, never longer in
 * UTF-8 than the original), then searched for the folded needle with
 * memmem(); since UTF-8 synchronises itself, a byte match of a valid
 * needle is a character match. A matcher keeps the last n - 1 bytes it
 * saw so that a needle cut by a chunk boundary is still found.
 */
#include <stdlib.h>
#include <string.h>

#include "imap/imap_search_private.h"
#include "lib/xalloc.h"

static inline unsigned char
ascii_lower(unsigned char c)
{
	return (unsigned char)((unsigned)(c - 'A') < 26u ? c + 32 : c);
}

/*
 * The lower-case form of cp for matching: Latin-1, Latin Extended-A, the
 * regular pairs of Latin Extended-B, Latin Extended Additional, Greek
 * (final sigma as sigma), Cyrillic, Armenian and fullwidth Latin. Each
 * result is no longer in UTF-8 than cp.
 */
static uint32_t
search_fold_cp(uint32_t cp)
{
	if (cp < 0x80)
		return ascii_lower((unsigned char)cp);
	if (cp < 0x100)
		return (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) ? cp + 32 : cp;
	if (cp < 0x180) {
		if (cp == 0x130)
			return 'i'; /* İ */
		if (cp == 0x178)
			return 0xFF; /* Ÿ */
		if (cp == 0x17F)
			return 's'; /* long s */
		if ((cp < 0x138 || (cp >= 0x14A && cp < 0x178)) &&
		    (cp & 1) == 0)
			return cp + 1;
		if (((cp >= 0x139 && cp < 0x149) ||
		        (cp >= 0x179 && cp < 0x17F)) &&
		    (cp & 1) == 1)
			return cp + 1;
		return cp;
	}
	if (cp < 0x250) {
		if (cp >= 0x1CD && cp <= 0x1DC && (cp & 1) == 1)
			return cp + 1;
		if (((cp >= 0x1DE && cp <= 0x1EF) ||
		        (cp >= 0x1F8 && cp <= 0x21F) ||
		        (cp >= 0x222 && cp <= 0x233)) &&
		    (cp & 1) == 0)
			return cp + 1;
		return cp;
	}
	if (cp >= 0x370 && cp < 0x400) {
		if (cp == 0x386)
			return 0x3AC;
		if (cp >= 0x388 && cp <= 0x38A)
			return cp + 37;
		if (cp == 0x38C)
			return 0x3CC;
		if (cp == 0x38E || cp == 0x38F)
			return cp + 63;
		if (cp >= 0x391 && cp <= 0x3AB && cp != 0x3A2)
			return cp + 32;
		if (cp == 0x3C2)
			return 0x3C3; /* final sigma */
		return cp;
	}
	if (cp >= 0x400 && cp < 0x530) {
		if (cp < 0x410)
			return cp + 80;
		if (cp < 0x430)
			return cp + 32;
		if (((cp >= 0x460 && cp < 0x482) ||
		        (cp >= 0x48A && cp < 0x4C0) ||
		        (cp >= 0x4D0 && cp < 0x530)) &&
		    (cp & 1) == 0)
			return cp + 1;
		if (cp == 0x4C0)
			return 0x4CF;
		if (cp >= 0x4C1 && cp < 0x4CF && (cp & 1) == 1)
			return cp + 1;
		return cp;
	}
	if (cp >= 0x531 && cp <= 0x556)
		return cp + 48;
	if (cp >= 0x1E00 && cp < 0x1F00) {
		if (cp == 0x1E9E)
			return 0xDF; /* capital sharp s */
		if ((cp < 0x1E96 || cp >= 0x1EA0) && (cp & 1) == 0)
			return cp + 1;
		return cp;
	}
	if (cp >= 0xFF21 && cp <= 0xFF3A)
		return cp + 32;
	return cp;
}

static size_t
utf8_put(uint32_t cp, char *o)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	o[0] = (char)(0xE0 | cp >> 12);
	o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
	o[2] = (char)(0x80 | (cp & 0x3F));
	return 3; /* nothing folds to a 4-byte character */
}

/*
 * Folds s[0..n) into o (room for n bytes); *k_out is what was written.
 * Returns the bytes consumed: all of them, except an incomplete character
 * at the end when more is true (at most 3 bytes, for the next call).
 * Invalid sequences are copied as they are.
 */
static size_t
fold_bytes(const unsigned char *s, size_t n, bool more, char *o, size_t *k_out)
{
	size_t i = 0, k = 0, len, j;
	uint32_t cp, f, min;
	unsigned char c;

	while (i < n) {
		c = s[i];
		if (c < 0x80) {
			o[k++] = (char)ascii_lower(c);
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			len = 2, cp = c & 0x1F, min = 0x80;
		} else if (c >= 0xE0 && c <= 0xEF) {
			len = 3, cp = c & 0x0F, min = 0x800;
		} else if (c >= 0xF0 && c <= 0xF4) {
			len = 4, cp = c & 0x07, min = 0x10000;
		} else {
			o[k++] = (char)c;
			i++;
			continue;
		}
		for (j = 1; j < len && i + j < n && (s[i + j] & 0xC0) == 0x80;
		     j++)
			cp = cp << 6 | (s[i + j] & 0x3F);
		if (j < len) {
			if (i + j == n && more)
				break; /* the rest comes in the next call */
			o[k++] = (char)c;
			i++;
			continue;
		}
		f = cp >= min ? search_fold_cp(cp) : cp;
		if (f == cp) {
			memcpy(o + k, s + i, len);
			k += len;
		} else
			k += utf8_put(f, o + k);
		i += len;
	}
	*k_out = k;
	return i;
}

static void
fold_reserve(struct imap_search_prog *p, size_t n)
{
	if (n <= p->fold_cap)
		return;
	p->fold_cap = n < 4096 ? 4096 : n;
	free(p->fold);
	p->fold = xmalloc(p->fold_cap);
}

size_t
search_fold_into(struct imap_search_prog *p, const char *s, size_t n)
{
	size_t k;

	fold_reserve(p, n);
	(void)fold_bytes((const unsigned char *)s, n, false, p->fold, &k);
	return k;
}

size_t
search_fold_stream(struct imap_search_prog *p, struct search_fold_carry *fc,
    const char *s, size_t n, bool more)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t k = 0, k2, need, used;

	if (u == NULL)
		u = (const unsigned char *)"";
	fold_reserve(p, n + sizeof(fc->b));
	if (fc->n > 0) {
		need = fc->b[0] >= 0xF0 ? 4 : fc->b[0] >= 0xE0 ? 3 : 2;
		while (fc->n < need && n > 0 && (*u & 0xC0) == 0x80) {
			fc->b[fc->n++] = *u++;
			n--;
		}
		if (fc->n < need && n == 0 && more)
			return 0; /* still cut */
		(void)fold_bytes(fc->b, fc->n, false, p->fold, &k);
		fc->n = 0;
	}
	used = fold_bytes(u, n, more, p->fold + k, &k2);
	MW_ASSERT(n - used < sizeof(fc->b));
	if (n > used)
		memcpy(fc->b, u + used, n - used);
	fc->n = n - used;
	return k + k2;
}

void
search_fold_str(const char *s, size_t n, char **dst, size_t *len_out)
{
	size_t k;

	*dst = xmalloc(n + 1);
	(void)fold_bytes((const unsigned char *)s, n, false, *dst, &k);
	(*dst)[k] = '\0';
	*len_out = k;
}

void
search_matcher_init(struct search_matcher *m, char *s, size_t n)
{
	m->needle = s;
	m->n = n;
	m->win = xmalloc(2 * n + 1);
	m->tail_n = 0;
}

void
search_matcher_free(struct search_matcher *m)
{
	free(m->needle);
	free(m->win);
	memset(m, 0, sizeof(*m));
}

void
search_matcher_reset(struct search_matcher *m)
{
	m->tail_n = 0;
}

bool
search_matcher_feed(struct search_matcher *m, const char *s, size_t n)
{
	size_t k, keep, total;

	if (m->n == 0)
		return true;
	if (n == 0)
		return false;
	keep = m->n - 1;
	k = n < keep ? n : keep;
	if (m->tail_n > 0) {
		/* a match across the cut: the tail, then the new head */
		memcpy(m->win + m->tail_n, s, k);
		if (memmem(m->win, m->tail_n + k, m->needle, m->n) != NULL)
			return true;
	}
	if (n >= m->n && memmem(s, n, m->needle, m->n) != NULL)
		return true;
	if (n >= keep) {
		memcpy(m->win, s + n - keep, keep);
		m->tail_n = keep;
		return false;
	}
	if (m->tail_n == 0)
		memcpy(m->win, s, n);
	total = m->tail_n + n;
	if (total > keep) {
		memmove(m->win, m->win + total - keep, keep);
		total = keep;
	}
	m->tail_n = total;
	return false;
}
