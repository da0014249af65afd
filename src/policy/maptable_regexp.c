/*
 * regexp: and pcre: tables (Postfix regexp_table(5), pcre_table(5)), both
 * matched with PCRE2: rules "/pattern/flags value", "!/pattern/flags
 * value", "if /pattern/flags" .. "endif" (nesting), tried in file order;
 * the first match wins and "$1", "${1}", "$(1)" in the value take the
 * matched groups ("$$" is a "$"). Any delimiter that is not a letter, a
 * digit, white space or a backslash may replace '/'.
 *
 * Flags toggle: i (case-insensitive, ON by default as in Postfix), m
 * (multi-line); for regexp: also x (POSIX extended syntax, on by default:
 * PCRE2 syntax is a superset, so it changes nothing); for pcre: also s
 * (dotall), x (extended: white space in the pattern is ignored), A
 * (anchored), E (dollar end only), U (ungreedy) and X (no effect with
 * PCRE2). Where Postfix warns and skips a rule (a bad flag, an unmatched
 * delimiter, "$2" with one group, "$1" in a negated rule, no value), we
 * refuse the file with "name:line: ...": a skipped access rule is a rule
 * that silently stops protecting.
 *
 * Matching is bounded (match and depth limits) so that a pathological
 * pattern fails the lookup, temporarily, instead of holding a thread. The
 * compiled rules are read-only after parsing; lookups may run on any
 * number of threads at once (each has its own match data).
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <pcre2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "policy/maptable_private.h"

/*
 * PCRE2's defaults (10000000 matches, no depth limit) let one lookup run
 * for seconds; these stop a runaway pattern in milliseconds and are far
 * above what a real access rule needs.
 */
#define MAPTABLE_RE_MATCH_LIMIT 1000000
#define MAPTABLE_RE_DEPTH_LIMIT 10000

enum maptable_re_kind {
	MAPTABLE_RE_RULE,
	MAPTABLE_RE_IF,
	MAPTABLE_RE_ENDIF,
};

struct maptable_re_rule {
	enum maptable_re_kind kind;
	bool neg;
	pcre2_code *code;
	char *value; /* RULE */
	size_t line;
	size_t skip; /* IF: the index of its endif */
};

struct maptable_regexp {
	bool pcre;
	char *name;
	struct maptable_re_rule *v;
	size_t n, cap;
	size_t nrules;
	uint32_t ovec_max; /* the most capture groups of a rule, plus one */
	pcre2_match_context *mctx;
};

static bool
maptable_re_is_name(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z') || c == '_';
}

/*
 * Finds the reference at v[i] == '$' (Postfix mac_parse(): "$$", "$name",
 * "${name}", "$(name)"). Returns the length of the whole reference and
 * sets *lit_out (for "$$") or *index_out; -1 when it is malformed or not a
 * number.
 */
static int
maptable_re_ref(const char *v, size_t len, size_t i, bool *lit_out,
    unsigned long *index_out)
{
	size_t s, e, end, k;
	unsigned long n = 0;
	char close;

	*lit_out = false;
	if (i + 1 < len && v[i + 1] == '$') {
		*lit_out = true;
		return 2;
	}
	if (i + 1 < len && (v[i + 1] == '{' || v[i + 1] == '(')) {
		close = v[i + 1] == '{' ? '}' : ')';
		s = i + 2;
		for (e = s; e < len && v[e] != close; e++)
			;
		if (e == len)
			return -1;
		end = e + 1;
	} else {
		s = i + 1;
		for (e = s; e < len && maptable_re_is_name(v[e]); e++)
			;
		end = e;
	}
	if (e == s || e - s > 3)
		return -1;
	for (k = s; k < e; k++) {
		if (v[k] < '0' || v[k] > '9')
			return -1;
		n = n * 10 + (unsigned long)(v[k] - '0');
	}
	*index_out = n;
	return (int)(end - i);
}

/* Checks the value's references against ngroups; 0 or -1. */
static int
maptable_re_check_value(const char *v, uint32_t ngroups, bool neg,
    const char *name, size_t line, struct buf *err)
{
	size_t len = strlen(v), i;
	unsigned long idx;
	bool lit;
	int n;

	for (i = 0; i < len; i++) {
		if (v[i] != '$')
			continue;
		n = maptable_re_ref(v, len, i, &lit, &idx);
		if (n == -1) {
			maptable_seterr(err,
			    "%s:%zu: bad replacement \"%.*s\" (use $1, "
			    "${1} or $(1), and $$ for a $)",
			    name, line, maptable_quote_len(len - i), v + i);
			return -1;
		}
		if (!lit && neg) {
			maptable_seterr(err,
			    "%s:%zu: $%lu in the value of a negated "
			    "pattern (nothing was matched)",
			    name, line, idx);
			return -1;
		}
		if (!lit && idx > ngroups) {
			maptable_seterr(err,
			    "%s:%zu: $%lu but the pattern has %u "
			    "group%s",
			    name, line, idx, (unsigned)ngroups,
			    ngroups == 1 ? "" : "s");
			return -1;
		}
		i += (size_t)n - 1;
	}
	return 0;
}

/* PCRE2's message for code, NUL-terminated in msg. */
static void
maptable_re_errmsg(int code, PCRE2_UCHAR *msg, size_t size)
{
	if (pcre2_get_error_message(code, msg, size) < 0)
		(void)snprintf((char *)msg, size, "error %d", code);
}

static struct maptable_re_rule *
maptable_re_add(struct maptable_regexp *re, size_t line)
{
	if (re->n == re->cap) {
		re->cap = re->cap == 0 ? 32 : re->cap * 2;
		re->v = xreallocarray(re->v, re->cap, sizeof(*re->v));
	}
	memset(&re->v[re->n], 0, sizeof(re->v[re->n]));
	re->v[re->n].line = line;
	return &re->v[re->n++];
}

/* Applies the flags s[0..n) to *opts; 0 or -1. */
static int
maptable_re_flags(const struct maptable_regexp *re, const char *s, size_t n,
    uint32_t *opts, const char *name, size_t line, struct buf *err)
{
	const char *allowed = re->pcre ? "imsxAEUX" : "imx";
	size_t i;

	for (i = 0; i < n; i++) {
		if (strchr(allowed, s[i]) == NULL || s[i] == '\0') {
			maptable_seterr(err,
			    "%s:%zu: unknown flag \"%c\" (%s tables "
			    "know %s)",
			    name, line, s[i], re->pcre ? "pcre" : "regexp",
			    allowed);
			return -1;
		}
		switch (s[i]) {
		case 'i':
			*opts ^= PCRE2_CASELESS;
			break;
		case 'm':
			*opts ^= PCRE2_MULTILINE;
			break;
		case 's':
			*opts ^= PCRE2_DOTALL;
			break;
		case 'x':
			if (re->pcre)
				*opts ^= PCRE2_EXTENDED;
			break;
		case 'A':
			*opts ^= PCRE2_ANCHORED;
			break;
		case 'E':
			*opts ^= PCRE2_DOLLAR_ENDONLY;
			break;
		case 'U':
			*opts ^= PCRE2_UNGREEDY;
			break;
		default: /* X: PCRE_EXTRA's checks are PCRE2's default */
			break;
		}
	}
	return 0;
}

/*
 * Parses "[!]/pattern/flags" at s[*pos..len) into rule (compiled) and
 * moves *pos past it. 0 or -1.
 */
static int
maptable_re_pattern(struct maptable_regexp *re, struct maptable_re_rule *rule,
    const char *s, size_t len, size_t *pos, const char *name, size_t line,
    struct buf *err)
{
	size_t p = *pos, q, f, erroff;
	uint32_t opts = PCRE2_CASELESS, groups;
	PCRE2_UCHAR msg[160];
	char d;
	int code;

	if (p < len && s[p] == '!') {
		rule->neg = true;
		p++;
	}
	d = p < len ? s[p] : '\0';
	if (d == '\0' || maptable_re_is_name(d) || maptable_is_ws(d) ||
	    d == '\\') {
		maptable_seterr(err,
		    "%s:%zu: expected /pattern/ (any delimiter "
		    "but a letter, digit, white space or \\)",
		    name, line);
		return -1;
	}
	for (q = p + 1; q < len && s[q] != d; q++)
		if (s[q] == '\\' && q + 1 < len)
			q++;
	if (q >= len) {
		maptable_seterr(
		    err, "%s:%zu: no closing delimiter \"%c\"", name, line, d);
		return -1;
	}
	for (f = q + 1; f < len && !maptable_is_ws(s[f]); f++)
		;
	if (maptable_re_flags(
	        re, s + q + 1, f - q - 1, &opts, name, line, err) == -1)
		return -1;
	rule->code = pcre2_compile(
	    (PCRE2_SPTR)(s + p + 1), q - p - 1, opts, &code, &erroff, NULL);
	if (rule->code == NULL) {
		maptable_re_errmsg(code, msg, sizeof(msg));
		maptable_seterr(err,
		    "%s:%zu: bad pattern \"%.*s\": %s (at "
		    "offset %zu)",
		    name, line, maptable_quote_len(q - p - 1), s + p + 1,
		    (const char *)msg, erroff);
		return -1;
	}
	/* JIT is an optimisation: without it (unsupported CPU, no
	 * executable memory) the interpreter matches the same */
	(void)pcre2_jit_compile(rule->code, PCRE2_JIT_COMPLETE);
	MW_ASSERT(pcre2_pattern_info(
	              rule->code, PCRE2_INFO_CAPTURECOUNT, &groups) == 0);
	if (groups + 1 > re->ovec_max)
		re->ovec_max = groups + 1;
	*pos = f;
	return 0;
}

/* Parses one logical line into re (a maptable_rules_line_fn); 0 or -1. */
static int
maptable_re_line(void *arg, struct maptable_nest *nest, const char *s,
    size_t len, const char *name, size_t line, struct buf *err)
{
	struct maptable_regexp *re = arg;
	struct maptable_re_rule *rule;
	uint32_t groups;
	size_t k, p, open;

	switch (maptable_nest_endif(nest, s, len, &open, name, line, err)) {
	case -1:
		return -1;
	case 1:
		re->v[open].skip = re->n;
		maptable_re_add(re, line)->kind = MAPTABLE_RE_ENDIF;
		return 0;
	}
	k = maptable_keyword(s, "if");
	for (p = k; p < len && maptable_is_ws(s[p]); p++)
		;
	rule = maptable_re_add(re, line);
	if (maptable_re_pattern(re, rule, s, len, &p, name, line, err) == -1)
		return -1;
	for (; p < len && maptable_is_ws(s[p]); p++)
		;
	if (k > 0) {
		rule->kind = MAPTABLE_RE_IF;
		return maptable_nest_if(
		    nest, re->n - 1, p != len, name, line, err);
	}
	if (p == len) {
		maptable_seterr(err,
		    "%s:%zu: expected format: /pattern/ "
		    "whitespace value",
		    name, line);
		return -1;
	}
	MW_ASSERT(pcre2_pattern_info(
	              rule->code, PCRE2_INFO_CAPTURECOUNT, &groups) == 0);
	if (maptable_re_check_value(
	        s + p, groups, rule->neg, name, line, err) == -1)
		return -1;
	rule->kind = MAPTABLE_RE_RULE;
	rule->value = xstrdup(s + p);
	re->nrules++;
	return 0;
}

struct maptable_regexp *
maptable_regexp_parse(bool pcre, const char *data, size_t len, const char *name,
    const struct maptable_limits *lim, struct buf *err)
{
	struct maptable_regexp *re;

	re = xcalloc(1, sizeof(*re));
	re->pcre = pcre;
	re->name = xstrdup(name);
	re->ovec_max = 1;
	re->mctx = pcre2_match_context_create(NULL);
	if (re->mctx == NULL)
		log_panic("pcre2_match_context_create: out of memory");
	(void)pcre2_set_match_limit(re->mctx, MAPTABLE_RE_MATCH_LIMIT);
	(void)pcre2_set_depth_limit(re->mctx, MAPTABLE_RE_DEPTH_LIMIT);
	if (maptable_rules_parse(
	        data, len, name, lim, maptable_re_line, re, err) == -1)
		maptable_regexp_free(&re);
	return re;
}

/* Appends rule's value with the references replaced by the groups of
 * ovec (pairs of offsets into key). 0 or -1 (too long). */
static int
maptable_re_expand(const struct maptable_re_rule *rule, const char *key,
    const PCRE2_SIZE *ovec, uint32_t npairs, struct buf *out)
{
	const char *v = rule->value;
	size_t len = strlen(v), i, start = 0;
	unsigned long idx;
	bool lit;
	int n;

	for (i = 0; i < len; i++) {
		if (v[i] != '$')
			continue;
		if (buf_append(out, v + start, i - start) == -1)
			return -1;
		n = maptable_re_ref(v, len, i, &lit, &idx);
		MW_ASSERT(n > 0); /* checked when parsed */
		if (lit) {
			if (buf_append_char(out, '$') == -1)
				return -1;
		} else if (idx < npairs && ovec[2 * idx] != PCRE2_UNSET &&
		    buf_append(out, key + ovec[2 * idx],
		        ovec[2 * idx + 1] - ovec[2 * idx]) == -1)
			return -1;
		i += (size_t)n - 1;
		start = i + 1;
	}
	return buf_append(out, v + start, len - start);
}

/* 1 match, 0 no match, -1 error (message in err). */
static int
maptable_re_match(const struct maptable_regexp *re,
    const struct maptable_re_rule *rule, const char *key, size_t klen,
    pcre2_match_data *md, struct buf *err)
{
	PCRE2_UCHAR msg[160];
	int rc;

	rc = pcre2_match(rule->code, (PCRE2_SPTR)key, klen, 0, 0, md, re->mctx);
	if (rc >= 0)
		return 1;
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	maptable_re_errmsg(rc, msg, sizeof(msg));
	maptable_seterr(err, "%s:%zu: matching failed: %s", re->name,
	    rule->line, (const char *)msg);
	return -1;
}

int
maptable_regexp_lookup(const struct maptable_regexp *re, const char *key,
    struct buf *value_out, struct buf *err)
{
	const struct maptable_re_rule *rule;
	pcre2_match_data *md;
	size_t i = 0, klen = strlen(key);
	int m, ret = 1;

	md = pcre2_match_data_create(re->ovec_max, NULL);
	if (md == NULL)
		log_panic("pcre2_match_data_create: out of memory");
	while (i < re->n) {
		rule = &re->v[i];
		if (rule->kind == MAPTABLE_RE_ENDIF) {
			i++;
			continue;
		}
		if ((m = maptable_re_match(re, rule, key, klen, md, err)) ==
		    -1) {
			ret = -1;
			break;
		}
		if (rule->kind == MAPTABLE_RE_IF) {
			i = (m == 1) != rule->neg ? i + 1 : rule->skip + 1;
			continue;
		}
		if ((m == 1) == rule->neg) {
			i++;
			continue;
		}
		buf_reset(value_out);
		if (maptable_re_expand(rule, key, pcre2_get_ovector_pointer(md),
		        pcre2_get_ovector_count(md), value_out) == -1) {
			maptable_seterr(err,
			    "%s:%zu: value longer than %zu bytes", re->name,
			    rule->line, value_out->max);
			buf_reset(value_out);
			ret = -1;
			break;
		}
		ret = 0;
		break;
	}
	pcre2_match_data_free(md);
	return ret;
}

size_t
maptable_regexp_count(const struct maptable_regexp *re)
{
	return re->nrules;
}

void
maptable_regexp_free(struct maptable_regexp **rep)
{
	struct maptable_regexp *re = *rep;
	size_t i;

	if (re == NULL)
		return;
	for (i = 0; i < re->n; i++) {
		pcre2_code_free(re->v[i].code);
		free(re->v[i].value);
	}
	free(re->v);
	pcre2_match_context_free(re->mctx);
	free(re->name);
	free(re);
	*rep = NULL;
}
