/*
 * The $name expander of the configuration (Postfix's mac_expand): a hash
 * table of variables, each expanded at most once and remembered, with loop
 * detection and bounds on nesting and on the bytes produced, so that no
 * file, however hostile, costs more than the limits allow. Knows nothing of
 * the parameter table except to suggest a near name for an unknown $x.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/conf_parse.h"
#include "lib/log.h"
#include "lib/xalloc.h"

enum conf_var_state {
	CONF_VAR_NEW,
	CONF_VAR_BUSY, /* being expanded: meeting it again is a loop */
	CONF_VAR_DONE,
};

struct conf_var {
	char *name;
	char *raw; /* NULL when computed */
	conf_compute_fn *compute;
	size_t line; /* 0: a default */
	char *expanded;
	enum conf_var_state state;
	bool referenced;
};

struct conf_env {
	char *label;
	struct conf_limits lim;
	struct conf_var *vars;
	size_t n, cap;
	size_t *slots; /* open addressing: index + 1, 0 when free */
	size_t nslots; /* a power of two, at least twice n */
	size_t *stack; /* indexes of the variables being expanded */
	size_t depth;  /* of stack */
	size_t nest;   /* variables and conditional texts being expanded */
	size_t total;  /* bytes of all expanded values */
};

static size_t
conf_hash(const char *s, size_t n)
{
	uint64_t h = 14695981039346656037ULL; /* FNV-1a */
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return (size_t)h;
}

/* The slot of name (n bytes): holds its index + 1, or 0 when absent. */
static size_t *
conf_env_slot(const struct conf_env *env, const char *name, size_t n)
{
	size_t mask = env->nslots - 1, i = conf_hash(name, n) & mask;
	const char *v;

	for (;; i = (i + 1) & mask) {
		if (env->slots[i] == 0)
			return &env->slots[i];
		v = env->vars[env->slots[i] - 1].name;
		if (strncmp(v, name, n) == 0 && v[n] == '\0')
			return &env->slots[i];
	}
}

static struct conf_var *
conf_env_find(const struct conf_env *env, const char *name, size_t n)
{
	size_t *slot = conf_env_slot(env, name, n);

	return *slot != 0 ? &env->vars[*slot - 1] : NULL;
}

static void
conf_env_grow(struct conf_env *env)
{
	size_t i, *old = env->slots, oldn = env->nslots;

	env->nslots *= 2;
	env->slots = xcalloc(env->nslots, sizeof(*env->slots));
	for (i = 0; i < oldn; i++) {
		if (old[i] == 0)
			continue;
		const char *name = env->vars[old[i] - 1].name;
		*conf_env_slot(env, name, strlen(name)) = old[i];
	}
	free(old);
}

struct conf_env *
conf_env_new(const char *label, const struct conf_limits *lim)
{
	struct conf_env *env = xcalloc(1, sizeof(*env));

	env->label = xstrdup(label);
	env->lim = *lim;
	env->nslots = 128;
	env->slots = xcalloc(env->nslots, sizeof(*env->slots));
	env->stack = xcalloc(lim->depth_max + 1, sizeof(*env->stack));
	return env;
}

void
conf_env_free(struct conf_env **envp)
{
	struct conf_env *env = *envp;
	size_t i;

	if (env == NULL)
		return;
	for (i = 0; i < env->n; i++) {
		free(env->vars[i].name);
		free(env->vars[i].raw);
		free(env->vars[i].expanded);
	}
	free(env->vars);
	free(env->slots);
	free(env->stack);
	free(env->label);
	free(env);
	*envp = NULL;
}

/* Finds or creates name's variable and clears it. */
static struct conf_var *
conf_env_put(struct conf_env *env, const char *name)
{
	size_t *slot, n = strlen(name);
	struct conf_var *v;

	if (2 * (env->n + 1) > env->nslots)
		conf_env_grow(env);
	slot = conf_env_slot(env, name, n);
	if (*slot != 0) {
		v = &env->vars[*slot - 1];
		free(v->raw);
		free(v->expanded);
	} else {
		if (env->n == env->cap) {
			env->cap = env->cap ? env->cap * 2 : 64;
			env->vars = xreallocarray(
			    env->vars, env->cap, sizeof(*env->vars));
		}
		v = &env->vars[env->n++];
		v->name = xstrndup(name, n);
		*slot = env->n;
	}
	v->raw = NULL;
	v->compute = NULL;
	v->line = 0;
	v->expanded = NULL;
	v->state = CONF_VAR_NEW;
	v->referenced = false;
	return v;
}

void
conf_env_set(
    struct conf_env *env, const char *name, const char *raw, size_t line)
{
	struct conf_var *v = conf_env_put(env, name);

	v->raw = xstrdup(raw);
	v->line = line;
}

void
conf_env_set_computed(
    struct conf_env *env, const char *name, conf_compute_fn *fn)
{
	conf_env_put(env, name)->compute = fn;
}

bool
conf_env_has(const struct conf_env *env, const char *name)
{
	return conf_env_find(env, name, strlen(name)) != NULL;
}

const char *
conf_env_label(const struct conf_env *env)
{
	return env->label;
}

size_t
conf_env_line(const struct conf_env *env, const char *name)
{
	const struct conf_var *v = conf_env_find(env, name, strlen(name));

	return v != NULL ? v->line : 0;
}

const char *
conf_env_raw(const struct conf_env *env, const char *name)
{
	const struct conf_var *v = conf_env_find(env, name, strlen(name));

	return v != NULL ? v->raw : NULL;
}

bool
conf_env_referenced(const struct conf_env *env, const char *name)
{
	const struct conf_var *v = conf_env_find(env, name, strlen(name));

	return v != NULL && v->referenced;
}

/*
 * Appends "label:line: name: " for the innermost variable being expanded
 * that comes from the file (a default's text is not the user's to fix),
 * then the message.
 */
static void MW_PRINTF(3, 4) conf_env_msg(
    const struct conf_env *env, struct buf *to, const char *fmt, ...)
{
	const struct conf_var *v = NULL;
	va_list ap;
	size_t i;

	for (i = env->depth; i > 0 && v == NULL; i--)
		if (env->vars[env->stack[i - 1]].line != 0)
			v = &env->vars[env->stack[i - 1]];
	if (v == NULL && env->depth > 0)
		v = &env->vars[env->stack[env->depth - 1]];
	if (v == NULL)
		(void)!buf_printf(to, "%s: ", env->label);
	else if (v->line == 0)
		(void)!buf_printf(to, "%s: %s: ", env->label, v->name);
	else
		(void)!buf_printf(
		    to, "%s:%zu: %s: ", env->label, v->line, v->name);
	va_start(ap, fmt);
	(void)!buf_vprintf(to, fmt, ap);
	va_end(ap);
}

static int conf_expand_text(struct conf_env *env, const char *s, size_t n,
    struct buf *out, struct buf *err, struct buf *warn);

static int
conf_env_enter(struct conf_env *env, struct buf *err)
{
	if (env->nest >= env->lim.depth_max) {
		conf_env_msg(env, err,
		    "expansion nested more than %zu levels deep",
		    env->lim.depth_max);
		return -1;
	}
	env->nest++;
	return 0;
}

static const char *
conf_env_expand_var(
    struct conf_env *env, size_t idx, struct buf *err, struct buf *warn)
{
	struct conf_var *v = &env->vars[idx];
	struct buf out;
	int r;

	if (v->state == CONF_VAR_DONE)
		return v->expanded;
	MW_ASSERT(v->state == CONF_VAR_NEW);
	if (conf_env_enter(env, err) == -1)
		return NULL;
	buf_init(&out, env->lim.value_max);
	v->state = CONF_VAR_BUSY;
	env->stack[env->depth++] = idx;
	if (v->compute != NULL)
		r = v->compute(env, &out, err, warn);
	else
		r = conf_expand_text(
		    env, v->raw, strlen(v->raw), &out, err, warn);
	if (r == 0 && out.len > env->lim.expand_max - env->total) {
		conf_env_msg(env, err,
		    "expansion produces more than %zu bytes in all",
		    env->lim.expand_max);
		r = -1;
	}
	env->depth--;
	env->nest--;
	v = &env->vars[idx];
	if (r == -1) {
		v->state = CONF_VAR_NEW;
		buf_free(&out);
		return NULL;
	}
	env->total += out.len;
	v->expanded = buf_steal(&out);
	v->state = CONF_VAR_DONE;
	return v->expanded;
}

/* Expands $name (n bytes at name) into out. */
static int
conf_expand_ref(struct conf_env *env, const char *name, size_t n,
    struct buf *out, struct buf *err, struct buf *warn, const char **val_out)
{
	struct conf_var *v = conf_env_find(env, name, n);
	const char *near, *val;
	char *s;

	if (v == NULL) {
		s = xstrndup(name, n);
		near = conf_param_nearest(s);
		if (near != NULL)
			conf_env_msg(env, warn,
			    "unknown parameter $%s expands to empty (did you mean $%s?)\n",
			    log_sanitize_str(s), near);
		else
			conf_env_msg(env, warn,
			    "unknown parameter $%s expands to empty\n",
			    log_sanitize_str(s));
		free(s);
		*val_out = "";
		return 0;
	}
	v->referenced = true;
	if (v->state == CONF_VAR_BUSY) {
		conf_env_msg(env, err, "recursive expansion of $%s", v->name);
		return -1;
	}
	val = conf_env_expand_var(env, (size_t)(v - env->vars), err, warn);
	if (val == NULL)
		return -1;
	*val_out = val;
	if (out != NULL && buf_append_str(out, val) == -1) {
		conf_env_msg(env, err, "expanded value longer than %zu bytes",
		    env->lim.value_max);
		return -1;
	}
	return 0;
}

/* The index of the bracket closing the one before s[i], or n. */
static size_t
conf_match_close(const char *s, size_t i, size_t n, char open, char close)
{
	size_t level = 1;

	for (; i < n; i++) {
		if (s[i] == open)
			level++;
		else if (s[i] == close && --level == 0)
			return i;
	}
	return n;
}

static bool
conf_is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_';
}

/* ${name}, $(name), ${name?text}, ${name:text}; *i is at the bracket. */
static int
conf_expand_braced(struct conf_env *env, const char *s, size_t n, size_t *i,
    struct buf *out, struct buf *err, struct buf *warn)
{
	char open = s[*i], close = open == '{' ? '}' : ')';
	size_t start = *i + 1, j = start, end;
	const char *val;
	int r;

	while (j < n && conf_is_name_char(s[j]))
		j++;
	if (j == start) {
		conf_env_msg(env, err, "\"$%c\" not followed by a name", open);
		return -1;
	}
	if (j < n && s[j] == close) {
		*i = j + 1;
		return conf_expand_ref(
		    env, s + start, j - start, out, err, warn, &val);
	}
	if (j == n || (s[j] != '?' && s[j] != ':')) {
		if (j == n || conf_match_close(s, j, n, open, close) == n)
			conf_env_msg(env, err, "unterminated \"$%c%s\"", open,
			    log_sanitize(s + start, j - start));
		else
			conf_env_msg(env, err,
			    "bad character '%s' after \"$%c%s\"",
			    log_sanitize(s + j, 1), open,
			    log_sanitize(s + start, j - start));
		return -1;
	}
	end = conf_match_close(s, j + 1, n, open, close);
	if (end == n) {
		conf_env_msg(env, err, "unterminated \"$%c%s\"", open,
		    log_sanitize(s + start, j - start));
		return -1;
	}
	*i = end + 1;
	if (conf_expand_ref(env, s + start, j - start, NULL, err, warn, &val) ==
	    -1)
		return -1;
	/* Postfix: ${name?text} when name is non-empty, ${name:text} when
	 * it is empty */
	if ((s[j] == '?') != (*val != '\0'))
		return 0;
	if (conf_env_enter(env, err) == -1)
		return -1;
	r = conf_expand_text(env, s + j + 1, end - j - 1, out, err, warn);
	env->nest--;
	return r;
}

static int
conf_expand_text(struct conf_env *env, const char *s, size_t n, struct buf *out,
    struct buf *err, struct buf *warn)
{
	const char *dollar, *val;
	size_t i = 0, j;

	while (i < n) {
		dollar = memchr(s + i, '$', n - i);
		j = dollar != NULL ? (size_t)(dollar - s) : n;
		if (buf_append(out, s + i, j - i) == -1)
			goto too_long;
		if (j == n)
			break;
		i = j + 1;
		if (i < n && s[i] == '$') {
			if (buf_append_char(out, '$') == -1)
				goto too_long;
			i++;
		} else if (i < n && (s[i] == '{' || s[i] == '(')) {
			if (conf_expand_braced(env, s, n, &i, out, err, warn) ==
			    -1)
				return -1;
		} else if (i < n && conf_is_name_char(s[i])) {
			for (j = i; j < n && conf_is_name_char(s[j]); j++)
				;
			if (conf_expand_ref(
			        env, s + i, j - i, out, err, warn, &val) == -1)
				return -1;
			i = j;
		} else {
			conf_env_msg(env, err,
			    "\"$\" not followed by a name (write \"$$\" for a literal \"$\")");
			return -1;
		}
	}
	return 0;
too_long:
	conf_env_msg(env, err, "expanded value longer than %zu bytes",
	    env->lim.value_max);
	return -1;
}

const char *
conf_env_expand(
    struct conf_env *env, const char *name, struct buf *err, struct buf *warn)
{
	struct conf_var *v = conf_env_find(env, name, strlen(name));

	if (v == NULL)
		return "";
	if (v->state == CONF_VAR_BUSY) {
		/* reached through a computed value (mydomain from myhostname)
		 */
		v->referenced = true;
		conf_env_msg(env, err, "recursive expansion of $%s", v->name);
		return NULL;
	}
	return conf_env_expand_var(env, (size_t)(v - env->vars), err, warn);
}
