/*
 * Loading the configuration: reads the file, parses it (conf_parse.c),
 * lays its definitions over the table's defaults (conf_params.c), expands
 * $name (conf_expand.c), converts every value to its field of struct conf
 * and checks it. A bad value stops the load with one line
 * "file:line: parameter: what is wrong"; unknown names only warn.
 */
#include "lib/conf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/conf_parse.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "lib/xalloc.h"
#include "store/store.h"

#define CONF_DEFAULT_PATH "/etc/mailwright/mailwright.cf"

/* Letters, digits, '-', '_' and dots between labels; 253 bytes at most. */
static bool
conf_hostname_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > 253 || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '.' && s[i + 1] == '.')
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		        c == '.'))
			return false;
	}
	return true;
}

/*
 * The default of myhostname: the system's host name, made fully qualified
 * with ".localdomain" when it has no dot (as Postfix does without DNS).
 */
static char *
conf_system_hostname(void)
{
	char host[256];

	if (gethostname(host, sizeof(host)) == -1)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	if (!conf_hostname_ok(host))
		return xstrdup("localhost.localdomain");
	if (strchr(host, '.') == NULL)
		return xasprintf("%s.localdomain", host);
	return xstrdup(host);
}

/* Postfix: mydomain defaults to $myhostname minus its first label. */
static int
conf_compute_mydomain(
    struct conf_env *env, struct buf *out, struct buf *err, struct buf *warn)
{
	const char *host, *dot;

	host = conf_env_expand(env, "myhostname", err, warn);
	if (host == NULL)
		return -1;
	dot = strchr(host, '.');
	if (buf_append_str(
	        out, dot != NULL && dot[1] != '\0' ? dot + 1 : "localdomain") ==
	    -1) {
		(void)!buf_printf(
		    err, "%s: mydomain: value too long", conf_env_label(env));
		return -1;
	}
	return 0;
}

struct conf_env *
conf_env_build(
    const char *label, const struct conf_file *f, const struct conf_limits *lim)
{
	const struct conf_param *p;
	struct conf_env *env;
	char *host;
	size_t i;

	env = conf_env_new(label, lim);
	for (p = conf_params; p->name != NULL; p++)
		if (p->defval != NULL)
			conf_env_set(env, p->name, p->defval, 0);
	host = conf_system_hostname(); /* conf_hostname_ok: no '$' in it */
	conf_env_set(env, "myhostname", host, 0);
	free(host);
	conf_env_set_computed(env, "mydomain", conf_compute_mydomain);
	for (i = 0; f != NULL && i < f->n; i++)
		conf_env_set(
		    env, f->defs[i].name, f->defs[i].value, f->defs[i].line);
	return env;
}

/* Splits on commas and white space; empty items are dropped. */
static void
conf_list_split(const char *v, struct conf_list *l)
{
	static const char sep[] = ", \t\r\n\f\v";
	size_t n, cap = 0;

	l->items = NULL;
	l->n = 0;
	for (;;) {
		v += strspn(v, sep);
		if (*v == '\0')
			break;
		n = strcspn(v, sep);
		if (l->n == cap) {
			cap = cap ? cap * 2 : 4;
			l->items = xreallocarray(l->items, cap, sizeof(char *));
		}
		l->items[l->n++] = xstrndup(v, n);
		v += n;
	}
}

static void
conf_list_free(struct conf_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

/* Converts the expanded value v into p's field of c; -1 with why set. */
static int
conf_value_set(
    struct conf *c, const struct conf_param *p, const char *v, struct buf *why)
{
	void *field = (char *)c + p->offset;
	char lo[32], hi[32];
	uint64_t u;
	int r;

	switch (p->type) {
	case CONF_STRING:
		*(char **)field = xstrdup(v);
		return 0;
	case CONF_LIST:
		conf_list_split(v, field);
		return 0;
	case CONF_BOOL:
		if (parse_bool(v, field) == 0)
			return 0;
		(void)!buf_printf(
		    why, "\"%s\" is not yes or no", log_sanitize_str(v));
		return -1;
	case CONF_TIME:
		if (parse_duration(v, p->min, p->max, &u) == 0) {
			*(uint64_t *)field = u;
			return 0;
		}
		conf_time_str(p->min, lo, sizeof(lo));
		conf_time_str(p->max, hi, sizeof(hi));
		if (errno == ERANGE &&
		    parse_duration(v, 0, UINT64_MAX, &u) == 0)
			(void)!buf_printf(why, "%s is out of range (%s..%s)",
			    log_sanitize_str(v), lo, hi);
		else
			(void)!buf_printf(why,
			    "\"%s\" is not a time like 300s, 5m, 1h, 5d or 1w (%s..%s)",
			    log_sanitize_str(v), lo, hi);
		return -1;
	case CONF_UINT:
	case CONF_SIZE:
		r = parse_uint(v, p->min, p->max, &u);
		if (r == 0) {
			*(uint64_t *)field = u;
			return 0;
		}
		if (errno == ERANGE && v[strspn(v, "0123456789")] == '\0')
			(void)!buf_printf(why,
			    "%s is out of range (%llu..%llu)",
			    log_sanitize_str(v), (unsigned long long)p->min,
			    (unsigned long long)p->max);
		else
			(void)!buf_printf(why,
			    "\"%s\" is not a number%s (%llu..%llu)",
			    log_sanitize_str(v),
			    p->type == CONF_SIZE ? " of bytes" : "",
			    (unsigned long long)p->min,
			    (unsigned long long)p->max);
		return -1;
	}
	log_panic("conf: %s has no type", p->name);
}

static int
conf_check_hostname(void *field, struct buf *why)
{
	const char *v = *(char **)field;

	if (conf_hostname_ok(v))
		return 0;
	(void)!buf_printf(
	    why, "\"%s\" is not a host name", log_sanitize_str(v));
	return -1;
}

static int
conf_check_nonempty(void *field, struct buf *why)
{
	if (**(char **)field != '\0')
		return 0;
	(void)!buf_printf(why, "must not be empty");
	return -1;
}

/* IMAP hierarchy separator: Maildir++ allows "." or "/" (Dovecot). */
static int
conf_check_separator(void *field, struct buf *why)
{
	const char *v = *(char **)field;

	if (strcmp(v, ".") == 0 || strcmp(v, "/") == 0)
		return 0;
	(void)!buf_printf(why, "must be . or /");
	return -1;
}

/* RFC 6154 folders: store/store.h parses them (one parser for both). */
static int
conf_check_special_use(void *field, struct buf *why)
{
	struct store_defaults d;

	if (store_defaults_parse(*(char **)field, &d, why) == -1)
		return -1;
	store_defaults_free(&d);
	return 0;
}

static int
conf_check_path_or_empty(void *field, struct buf *why)
{
	const char *v = *(char **)field;

	/* a daemon's working directory is no place to resolve paths in */
	if (*v == '\0' || *v == '/')
		return 0;
	(void)!buf_printf(
	    why, "\"%s\" is not an absolute path", log_sanitize_str(v));
	return -1;
}

static int
conf_check_path(void *field, struct buf *why)
{
	if (conf_check_nonempty(field, why) == -1)
		return -1;
	return conf_check_path_or_empty(field, why);
}

static int
conf_check_user(void *field, struct buf *why)
{
	const char *v = *(char **)field;

	if (*v != '\0' && *v != '-' && strpbrk(v, ":/, \t") == NULL)
		return 0;
	(void)!buf_printf(
	    why, "\"%s\" is not a user name", log_sanitize_str(v));
	return -1;
}

/* Postfix's inet_protocols: all, ipv4, ipv6 or both; stored as one word. */
static int
conf_check_inet_protocols(void *field, struct buf *why)
{
	char **v = field;
	struct conf_list l;
	bool v4 = false, v6 = false, ok = true;
	size_t i;

	conf_list_split(*v, &l);
	for (i = 0; i < l.n; i++) {
		if (ascii_eq(l.items[i], "all"))
			v4 = v6 = true;
		else if (ascii_eq(l.items[i], "ipv4"))
			v4 = true;
		else if (ascii_eq(l.items[i], "ipv6"))
			v6 = true;
		else
			ok = false;
	}
	conf_list_free(&l);
	if (!ok || (!v4 && !v6)) {
		(void)!buf_printf(why, "\"%s\" is not all, ipv4 or ipv6",
		    log_sanitize_str(*v));
		return -1;
	}
	free(*v);
	*v = xstrdup(v4 && v6 ? "all" : v4 ? "ipv4" : "ipv6");
	return 0;
}

/* host:port, [v6]:port or *:port, port 1..65535 */
static bool
conf_hostport_ok(const char *s)
{
	const char *port, *close;
	uint64_t u;

	if (s[0] == '[') {
		close = strchr(s, ']');
		if (close == NULL || close == s + 1 || close[1] != ':')
			return false;
		port = close + 2;
	} else {
		port = strrchr(s, ':');
		if (port == NULL || port == s ||
		    memchr(s, ':', (size_t)(port - s)) != NULL)
			return false;
		port++;
	}
	return parse_uint(port, 1, 65535, &u) == 0;
}

static int
conf_check_listen(void *field, struct buf *why)
{
	const struct conf_list *l = field;
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!conf_hostport_ok(l->items[i])) {
			(void)!buf_printf(why,
			    "\"%s\" is not address:port (like 127.0.0.1:25, [::1]:25 or *:25)",
			    log_sanitize_str(l->items[i]));
			return -1;
		}
	return 0;
}

/* none, may or encrypt (Postfix's smtpd_tls_security_level). */
static int
conf_check_tls_level(void *field, struct buf *why)
{
	char **v = field;

	if (strcmp(*v, "none") == 0 || strcmp(*v, "may") == 0 ||
	    strcmp(*v, "encrypt") == 0)
		return 0;
	(void)!buf_printf(why, "\"%s\" is not none, may or encrypt",
	    log_sanitize_str(*v));
	return -1;
}

static int
conf_check_tls_protocols(void *field, struct buf *why)
{
	char **v = field;

	if (strcmp(*v, ">=TLSv1.2") == 0 || strcmp(*v, ">=TLSv1.3") == 0)
		return 0;
	(void)!buf_printf(why, "\"%s\" is not >=TLSv1.2 or >=TLSv1.3",
	    log_sanitize_str(*v));
	return -1;
}

/* Postfix's smtp_tls_security_level values that we implement. */
static int
conf_check_smtp_tls_level(void *field, struct buf *why)
{
	char **v = field;

	if (strcmp(*v, "none") == 0 || strcmp(*v, "may") == 0 ||
	    strcmp(*v, "encrypt") == 0 || strcmp(*v, "dane") == 0 ||
	    strcmp(*v, "dane-only") == 0 || strcmp(*v, "verify") == 0 ||
	    strcmp(*v, "secure") == 0)
		return 0;
	(void)!buf_printf(why,
	    "\"%s\" is not none, may, encrypt, dane, dane-only, verify or "
	    "secure",
	    log_sanitize_str(*v));
	return -1;
}

static int
conf_check_address_preference(void *field, struct buf *why)
{
	char **v = field;

	if (strcmp(*v, "any") == 0 || strcmp(*v, "ipv4") == 0 ||
	    strcmp(*v, "ipv6") == 0)
		return 0;
	(void)!buf_printf(
	    why, "\"%s\" is not any, ipv4 or ipv6", log_sanitize_str(*v));
	return -1;
}

/* An IP address of the given family, or empty. */
static int
conf_check_bind(void *field, struct buf *why, int af)
{
	char **v = field;
	unsigned char bin[16];

	if (**v == '\0' || inet_pton(af, *v, bin) == 1)
		return 0;
	(void)!buf_printf(why, "\"%s\" is not an %s address",
	    log_sanitize_str(*v), af == AF_INET ? "IPv4" : "IPv6");
	return -1;
}

static int
conf_check_bind4(void *field, struct buf *why)
{
	return conf_check_bind(field, why, AF_INET);
}

static int
conf_check_bind6(void *field, struct buf *why)
{
	return conf_check_bind(field, why, AF_INET6);
}

/* Checks beyond the type, by name. */
// clang-format off
static const struct {
	const char *name;
	int (*fn)(void *field, struct buf *why);
} conf_checks[] = {
	{ "myhostname",          conf_check_hostname },
	{ "mydomain",            conf_check_hostname },
	{ "myorigin",            conf_check_hostname },
	{ "mail_name",           conf_check_nonempty },
	{ "inet_protocols",      conf_check_inet_protocols },
	{ "queue_directory",     conf_check_path },
	{ "mail_directory",      conf_check_path },
	{ "mail_special_use_folders", conf_check_special_use },
	{ "accounts_database",   conf_check_path },
	{ "mail_owner",          conf_check_user },
	{ "maillog_file",        conf_check_path_or_empty },
	{ "smtpd_listen",        conf_check_listen },
	{ "submission_listen",   conf_check_listen },
	{ "smtps_listen",        conf_check_listen },
	{ "imap_listen",         conf_check_listen },
	{ "imaps_listen",        conf_check_listen },
	{ "pop3_listen",         conf_check_listen },
	{ "pop3s_listen",        conf_check_listen },
	{ "imap_hierarchy_separator", conf_check_separator },
	{ "smtpd_tls_cert_file", conf_check_path_or_empty },
	{ "smtpd_tls_key_file",  conf_check_path_or_empty },
	{ "smtpd_tls_security_level", conf_check_tls_level },
	{ "submission_tls_security_level", conf_check_tls_level },
	{ "smtpd_tls_mandatory_protocols", conf_check_tls_protocols },
	{ "tls_server_sni_maps", conf_check_path_or_empty },
	{ "smtp_tls_security_level", conf_check_smtp_tls_level },
	{ "smtp_tls_mandatory_protocols", conf_check_tls_protocols },
	{ "smtp_tls_CAfile",     conf_check_path_or_empty },
	{ "smtp_address_preference", conf_check_address_preference },
	{ "smtp_bind_address",   conf_check_bind4 },
	{ "smtp_bind_address6",  conf_check_bind6 },
	{ "smtp_helo_name",      conf_check_hostname },
};
// clang-format on

/* Appends "label:line: " for name, or "label: " for a default. */
static void
conf_where(const struct conf_env *env, const char *name, struct buf *to)
{
	size_t line = conf_env_line(env, name);

	if (line != 0)
		(void)!buf_printf(to, "%s:%zu: ", conf_env_label(env), line);
	else
		(void)!buf_printf(to, "%s: ", conf_env_label(env));
}

static int
conf_param_load(struct conf *c, const struct conf_param *p,
    struct conf_env *env, struct buf *err, struct buf *warn)
{
	struct buf why;
	const char *v;
	size_t i;
	int ret = -1;

	v = conf_env_expand(env, p->name, err, warn);
	if (v == NULL)
		return -1;
	buf_init(&why, 1024);
	if (conf_value_set(c, p, v, &why) == -1)
		goto out;
	for (i = 0; i < MW_NELEM(conf_checks); i++)
		if (strcmp(conf_checks[i].name, p->name) == 0 &&
		    conf_checks[i].fn((char *)c + p->offset, &why) == -1)
			goto out;
	ret = 0;
out:
	if (ret == -1) {
		conf_where(env, p->name, err);
		(void)!buf_printf(err, "%s: %s", p->name, buf_cstr(&why));
	}
	buf_free(&why);
	return ret;
}

/* Names in the file that are neither parameters nor used by one. */
static void
conf_warn_unknown(
    struct conf_env *env, const struct conf_file *f, struct buf *warn)
{
	const struct conf_def *d;
	const char *near;
	size_t i;

	for (i = 0; f != NULL && i < f->n; i++) {
		d = &f->defs[i];
		if (conf_param_find(d->name) != NULL ||
		    conf_env_referenced(env, d->name) ||
		    conf_env_line(env, d->name) != d->line)
			continue; /* known, used by $name, or redefined later */
		near = conf_param_nearest(d->name);
		(void)!buf_printf(warn, "%s:%zu: unknown parameter \"%s\"",
		    conf_env_label(env), d->line, log_sanitize_str(d->name));
		if (near != NULL)
			(void)!buf_printf(
			    warn, " (did you mean \"%s\"?)", near);
		(void)!buf_append_char(warn, '\n');
	}
}

struct conf *
conf_from_env(struct conf_env *env, const struct conf_file *f, struct buf *err,
    struct buf *warn)
{
	const struct conf_param *p;
	struct conf *c = xcalloc(1, sizeof(*c));

	c->config_file = xstrdup("");
	for (p = conf_params; p->name != NULL; p++)
		if (conf_param_load(c, p, env, err, warn) == -1) {
			conf_free(&c);
			return NULL;
		}
	if (c->minimal_backoff_time > c->maximal_backoff_time) {
		conf_where(env, "minimal_backoff_time", warn);
		(void)!buf_printf(warn,
		    "minimal_backoff_time (%llus) is longer than maximal_backoff_time (%llus)\n",
		    (unsigned long long)c->minimal_backoff_time,
		    (unsigned long long)c->maximal_backoff_time);
	}
	conf_warn_unknown(env, f, warn);
	return c;
}

struct conf *
conf_load_data(const char *label, const char *data, size_t len,
    const struct conf_limits *lim, struct buf *err, struct buf *warn)
{
	struct conf_file f = { NULL, 0, 0 };
	struct conf_env *env;
	struct conf *c;

	if (lim == NULL)
		lim = &conf_limits_default;
	if (conf_parse(label, data, len, lim, &f, err) == -1)
		return NULL;
	env = conf_env_build(label, &f, lim);
	c = conf_from_env(env, &f, err, warn);
	conf_env_free(&env);
	conf_file_free(&f);
	return c;
}

int
conf_read_file(const char *path, const struct conf_limits *lim,
    struct buf *data, struct buf *err)
{
	int saved;

	buf_init(data, lim->file_max);
	if (fs_read_file(path, data) == 0)
		return 0;
	saved = errno;
	if (saved == ENOBUFS)
		(void)!buf_printf(
		    err, "%s: larger than %zu bytes", path, lim->file_max);
	else
		(void)!buf_printf(err, "cannot read %s: %s%s", path,
		    strerror(saved),
		    saved == ENOENT
		        ? " (create one with \"mailwright init DIR\" or pass -c FILE)"
		        : "");
	buf_free(data);
	errno = saved;
	return -1;
}

void
conf_print_warnings(const struct buf *warn)
{
	const char *s = buf_cstr(warn), *nl;

	while (*s != '\0') {
		nl = strchr(s, '\n');
		if (nl == NULL)
			nl = s + strlen(s);
		fprintf(
		    stderr, "mailwright: warning: %.*s\n", (int)(nl - s), s);
		s = *nl != '\0' ? nl + 1 : nl;
	}
}

/* path made absolute: the file exists, so realpath() normally works. */
static char *
conf_abs_path(const char *path)
{
	char *p, cwd[PATH_MAX];

	if ((p = realpath(path, NULL)) != NULL)
		return p;
	if (path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		return xstrdup(path);
	return xasprintf("%s/%s", cwd, path);
}

struct conf *
conf_load(const char *path, struct buf *err)
{
	struct buf data, warn;
	struct conf *c = NULL;
	int saved;

	if (conf_read_file(path, &conf_limits_default, &data, err) == -1)
		return NULL;
	buf_init(&warn, BUF_MAX_DEFAULT);
	c = conf_load_data(
	    path, buf_cstr(&data), data.len, &conf_limits_default, err, &warn);
	saved = errno;
	conf_print_warnings(&warn);
	if (c != NULL) {
		free(c->config_file);
		c->config_file = conf_abs_path(path);
	}
	buf_free(&warn);
	buf_free(&data);
	errno = saved;
	return c;
}

struct conf *
conf_defaults(void)
{
	struct buf err, warn;
	struct conf *c;

	buf_init(&err, 4096);
	buf_init(&warn, 4096);
	c = conf_load_data("(defaults)", "", 0, NULL, &err, &warn);
	if (c == NULL) /* the table's defaults are tested: a bug */
		log_panic("conf: defaults: %s", buf_cstr(&err));
	buf_free(&err);
	buf_free(&warn);
	return c;
}

void
conf_free(struct conf **cp)
{
	const struct conf_param *p;
	struct conf *c = *cp;
	void *field;

	if (c == NULL)
		return;
	for (p = conf_params; p->name != NULL; p++) {
		field = (char *)c + p->offset;
		if (p->type == CONF_STRING)
			free(*(char **)field);
		else if (p->type == CONF_LIST)
			conf_list_free(field);
	}
	free(c->config_file);
	free(c);
	*cp = NULL;
}

const char *
conf_default_path(void)
{
	const char *s = getenv("MAILWRIGHT_CONFIG");

	return s != NULL && *s != '\0' ? s : CONF_DEFAULT_PATH;
}

bool
conf_list_has(const struct conf_list *l, const char *s)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (ascii_eq(l->items[i], s))
			return true;
	return false;
}
