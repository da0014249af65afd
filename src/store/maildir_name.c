/*
 * Maildir file names: parsing into base, Maildir++ size fields and info,
 * and building names with new flags (see maildir_name.h).
 */
#include "store/maildir_name.h"

#include <errno.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/parse.h"
#include "store/store.h"

/* maildir(5): the system flags, in the ASCII order they are written. */
static const struct {
	char letter;
	uint32_t flag;
} maildir_flags[] = {
	{ 'D', STORE_FLAG_DRAFT },
	{ 'F', STORE_FLAG_FLAGGED },
	{ 'P', STORE_FLAG_PASSED },
	{ 'R', STORE_FLAG_ANSWERED },
	{ 'S', STORE_FLAG_SEEN },
	{ 'T', STORE_FLAG_DELETED },
};

char
maildir_flag_letter(uint32_t flag)
{
	size_t i;

	for (i = 0; i < MW_NELEM(maildir_flags); i++)
		if (maildir_flags[i].flag == flag)
			return maildir_flags[i].letter;
	return 0;
}

static void
letters_set(uint64_t l[2], unsigned char c)
{
	l[c / 64] |= (uint64_t)1 << (c % 64);
}

static bool
letters_has(const uint64_t l[2], unsigned char c)
{
	return (l[c / 64] >> (c % 64)) & 1;
}

/* One ",X=<digits>" field; sets the size when it is S or W. */
static void
maildir_fname_field(const char *p, size_t n, struct maildir_fname *f)
{
	uint64_t v;

	if (n < 3 || p[1] != '=')
		return;
	if (parse_uint_n(p + 2, n - 2, 0, UINT64_MAX - 1, &v) == -1)
		return;
	if (p[0] == 'S' && !f->has_psize) {
		f->has_psize = true;
		f->psize = v;
	} else if (p[0] == 'W' && !f->has_vsize) {
		f->has_vsize = true;
		f->vsize = v;
	}
}

int
maildir_fname_parse(const char *name, size_t len, struct maildir_fname *f)
{
	const char *colon, *p, *e;
	size_t i;

	memset(f, 0, sizeof(*f));
	if (len == 0 || len > MAILDIR_NAME_MAX || name[0] == '.' ||
	    memchr(name, '/', len) != NULL || memchr(name, '\0', len) != NULL) {
		errno = EINVAL;
		return -1;
	}
	colon = memchr(name, ':', len);
	f->prefix_len = colon != NULL ? (size_t)(colon - name) : len;
	f->base = name;
	p = memchr(name, ',', f->prefix_len);
	f->base_len = p != NULL ? (size_t)(p - name) : f->prefix_len;
	if (f->base_len == 0) {
		errno = EINVAL;
		return -1;
	}
	/* Maildir++ fields: ",S=<n>", ",W=<n>", others ignored */
	while (p != NULL) {
		p++;
		e = memchr(p, ',', f->prefix_len - (size_t)(p - name));
		maildir_fname_field(
		    p, (size_t)((e != NULL ? e : name + f->prefix_len) - p), f);
		p = e;
	}
	if (colon == NULL)
		return 0;
	f->has_info = true;
	p = colon + 1;
	e = name + len;
	/* maildir(5): "2," then the flags; "1," (experimental) has none */
	if (e - p < 2 || p[0] != '2' || p[1] != ',')
		return 0;
	f->info2 = true;
	for (p += 2; p < e; p++) {
		unsigned char c = (unsigned char)*p;

		if (c < 0x21 || c > 0x7e)
			continue;
		letters_set(f->letters, c);
		if (c >= 'a' && c <= 'z')
			f->keywords |= 1u << (c - 'a');
		for (i = 0; i < MW_NELEM(maildir_flags); i++)
			if (maildir_flags[i].letter == (char)c)
				f->flags |= maildir_flags[i].flag;
	}
	return 0;
}

/* ":2," and the letters of l in ASCII order. */
static int
maildir_fname_info(struct buf *out, const uint64_t l[2])
{
	unsigned c;

	if (buf_append_str(out, ":2,") == -1)
		return -1;
	for (c = 0x21; c <= 0x7e; c++)
		if (letters_has(l, (unsigned char)c) &&
		    buf_append_char(out, (char)c) == -1)
			return -1;
	return 0;
}

/* The letters of flags and keywords, added to l. */
static void
maildir_fname_letters(uint64_t l[2], uint32_t flags, uint32_t keywords)
{
	size_t i;

	for (i = 0; i < MW_NELEM(maildir_flags); i++)
		if (flags & maildir_flags[i].flag)
			letters_set(l, (unsigned char)maildir_flags[i].letter);
	for (i = 0; i < STORE_MAX_KEYWORDS; i++)
		if (keywords & (1u << i))
			letters_set(l, (unsigned char)('a' + i));
}

/* Common end of the builders: the length limit, all or nothing. */
static int
maildir_fname_finish(struct buf *out, size_t start, int r)
{
	if (r == 0 && out->len - start > MAILDIR_NAME_MAX) {
		errno = EINVAL;
		r = -1;
	}
	if (r == -1)
		buf_truncate(out, start);
	return r;
}

int
maildir_fname_with_flags(struct buf *out, const char *name,
    const struct maildir_fname *f, uint32_t flags, uint32_t keywords)
{
	uint64_t l[2] = { 0, 0 };
	size_t start = out->len, i;
	int r;

	if (f->info2) {
		/* keep the letters we do not know (other programs' flags) */
		l[0] = f->letters[0];
		l[1] = f->letters[1];
		for (i = 0; i < MW_NELEM(maildir_flags); i++)
			l[(unsigned char)maildir_flags[i].letter / 64] &= ~(
			    (uint64_t)1
			    << ((unsigned char)maildir_flags[i].letter % 64));
		for (i = 'a'; i <= 'z'; i++)
			l[i / 64] &= ~((uint64_t)1 << (i % 64));
	}
	maildir_fname_letters(l, flags, keywords);
	r = buf_append(out, name, f->prefix_len);
	if (r == 0)
		r = maildir_fname_info(out, l);
	return maildir_fname_finish(out, start, r);
}

int
maildir_fname_build(struct buf *out, const char *base, uint64_t psize,
    uint64_t vsize, uint32_t flags, uint32_t keywords)
{
	uint64_t l[2] = { 0, 0 };
	size_t start = out->len;
	int r;

	if (base[0] == '\0' || base[0] == '.' || strpbrk(base, "/:,") != NULL) {
		errno = EINVAL;
		return -1;
	}
	maildir_fname_letters(l, flags, keywords);
	r = buf_append_str(out, base);
	if (r == 0 && psize != UINT64_MAX)
		r = buf_printf(out, ",S=%llu", (unsigned long long)psize);
	if (r == 0 && vsize != UINT64_MAX)
		r = buf_printf(out, ",W=%llu", (unsigned long long)vsize);
	if (r == 0)
		r = maildir_fname_info(out, l);
	return maildir_fname_finish(out, start, r);
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int
maildir_base_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i = 0, j = 0, si, sj, ni, nj;
	int c;

	while (i < alen && j < blen) {
		if (is_digit(a[i]) && is_digit(b[j])) {
			/* a number: skip leading zeros, then longer is
			 * bigger, then digit by digit */
			for (; i < alen && a[i] == '0'; i++)
				;
			for (; j < blen && b[j] == '0'; j++)
				;
			for (si = i; i < alen && is_digit(a[i]); i++)
				;
			for (sj = j; j < blen && is_digit(b[j]); j++)
				;
			ni = i - si;
			nj = j - sj;
			if (ni != nj)
				return ni < nj ? -1 : 1;
			if ((c = memcmp(a + si, b + sj, ni)) != 0)
				return c;
			continue;
		}
		if (a[i] != b[j])
			return (unsigned char)a[i] < (unsigned char)b[j] ? -1
			                                                 : 1;
		i++;
		j++;
	}
	if (i < alen || j < blen)
		return i < alen ? 1 : -1;
	/* equal as numbers ("01" and "1"): a total order still */
	c = memcmp(a, b, alen < blen ? alen : blen);
	if (c != 0)
		return c;
	return alen == blen ? 0 : alen < blen ? -1 : 1;
}
