/*
 * `mailwright conf`: the postconf of mailwright. Prints parameters (all,
 * those set in the file with -n, the defaults with -d, expanded with -x,
 * values only with -h), edits the file in place (-e name=value, -X name),
 * and prints the Markdown reference (--docs). Loading and editing the text
 * are lib/conf*.c's; this file only chooses, prints and writes.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/conf_parse.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/xalloc.h"

#define CLI_CONF_DEFAULTS 0x01 /* -d */
#define CLI_CONF_NONDEF   0x02 /* -n */
#define CLI_CONF_EXPAND   0x04 /* -x */
#define CLI_CONF_VALUES   0x08 /* -h */
#define CLI_CONF_EDIT     0x10 /* -e */
#define CLI_CONF_REMOVE   0x20 /* -X */

static void
cli_conf_usage(FILE *f)
{
	fprintf(f,
	    "usage: mailwright conf [-d | -n] [-h] [-x] [NAME...]\n"
	    "       mailwright conf [-e] NAME=VALUE...\n"
	    "       mailwright conf -X NAME...\n"
	    "       mailwright conf --docs\n"
	    "\n"
	    "  (none)  every parameter's value in effect, sorted by name\n"
	    "  -n      only the parameters set in the file\n"
	    "  -d      the default values\n"
	    "  -x      expand $name in the values printed\n"
	    "  -h      print values only, without \"name = \"\n"
	    "  -e      set parameters in the file (in place, atomically)\n"
	    "  -X      remove parameters from the file\n"
	    "  --docs  print the configuration reference (Markdown)\n");
}

static void
cli_conf_warn_unknown(const char *name)
{
	const char *near = conf_param_nearest(name);

	if (near != NULL)
		fprintf(stderr,
		    "mailwright: warning: unknown parameter \"%s\" (did you mean \"%s\"?)\n",
		    log_sanitize_str(name), near);
	else
		fprintf(stderr,
		    "mailwright: warning: unknown parameter \"%s\"\n",
		    log_sanitize_str(name));
}

static int
cli_conf_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Everything a query needs: the file's definitions over the defaults. */
struct cli_conf_query {
	int flags;
	struct conf_file file;
	struct conf_env *env;
	char *load_err; /* the load's error, printed once; NULL if none */
};

static void
cli_conf_print(struct cli_conf_query *q, const char *name)
{
	const char *v = NULL;
	struct buf err, warn;

	buf_init(&err, 4096);
	buf_init(&warn, 64 * 1024);
	if (q->flags & CLI_CONF_EXPAND) {
		v = conf_env_expand(q->env, name, &err, &warn);
		/* a failed expansion was reported by the load, or now */
		if (v == NULL &&
		    (q->load_err == NULL ||
		        strcmp(q->load_err, buf_cstr(&err)) != 0))
			fprintf(stderr, "mailwright: %s\n", buf_cstr(&err));
	}
	if (v == NULL)
		v = conf_env_raw(q->env, name);
	if (v == NULL) /* a computed default */
		v = conf_env_expand(q->env, name, &err, &warn);
	if (v == NULL)
		v = "";
	if (q->flags & CLI_CONF_VALUES)
		printf("%s\n", v);
	else
		printf("%s = %s\n", name,
		    v); /* "name = " when empty, as postconf */
	buf_free(&err);
	buf_free(&warn);
}

/* The names to print when none are given, sorted as postconf sorts them. */
static size_t
cli_conf_all_names(const struct cli_conf_query *q, const char ***names_out)
{
	const struct conf_param *p;
	const char **names;
	size_t n = 0, i;

	for (p = conf_params; p->name != NULL; p++)
		n++;
	names = xcalloc(n + q->file.n, sizeof(*names));
	n = 0;
	if (!(q->flags & CLI_CONF_NONDEF))
		for (p = conf_params; p->name != NULL; p++)
			names[n++] = p->name;
	for (i = 0; i < q->file.n; i++) {
		const struct conf_def *d = &q->file.defs[i];

		if (conf_env_line(q->env, d->name) != d->line)
			continue; /* redefined later */
		/* -n: all that the file sets; else also the file's own
		 * parameters that another one uses, as postconf does */
		if ((q->flags & CLI_CONF_NONDEF) ||
		    (conf_param_find(d->name) == NULL &&
		        conf_env_referenced(q->env, d->name)))
			names[n++] = d->name;
	}
	qsort(names, n, sizeof(*names), cli_conf_cmp);
	*names_out = names;
	return n;
}

static int
cli_conf_query(const struct cli_ctx *ctx, int flags, int argc, char **argv)
{
	struct cli_conf_query q = { flags, { NULL, 0, 0 }, NULL, NULL };
	const struct conf_limits *lim = &conf_limits_default;
	struct buf data, err, warn;
	const char **names = NULL;
	struct conf *c = NULL;
	size_t n, i;
	int ret = 1, unknown = 0;

	buf_init(&err, 4096);
	buf_init(&warn, BUF_MAX_DEFAULT);
	buf_init(&data, 0);
	if (!(flags & CLI_CONF_DEFAULTS)) {
		if (conf_read_file(ctx->config_path, lim, &data, &err) == -1 ||
		    conf_parse(ctx->config_path, buf_cstr(&data), data.len, lim,
		        &q.file, &err) == -1) {
			fprintf(stderr, "mailwright: %s\n", buf_cstr(&err));
			goto out;
		}
	}
	q.env = conf_env_build(ctx->config_path, &q.file, lim);
	/* check it all, as a start would; report, but print anyway */
	c = conf_from_env(q.env, &q.file, &err, &warn);
	conf_print_warnings(&warn);
	if (c == NULL) {
		fprintf(stderr, "mailwright: %s\n", buf_cstr(&err));
		q.load_err = xstrdup(buf_cstr(&err));
	}
	if (argc == 0) {
		n = cli_conf_all_names(&q, &names);
		for (i = 0; i < n; i++)
			cli_conf_print(&q, names[i]);
	}
	for (i = 0; i < (size_t)argc; i++) {
		const char *name = argv[i];

		if (conf_param_find(name) == NULL &&
		    ((flags & CLI_CONF_DEFAULTS) ||
		        conf_env_line(q.env, name) == 0)) {
			cli_conf_warn_unknown(name);
			unknown++;
			continue;
		}
		if ((flags & CLI_CONF_NONDEF) &&
		    conf_env_line(q.env, name) == 0)
			continue; /* -n NAME: only when the file sets it */
		cli_conf_print(&q, name);
	}
	ret = c == NULL || unknown > 0 ? 1 : 0;
out:
	if (fflush(stdout) == EOF) {
		fprintf(stderr, "mailwright: cannot write output: %s\n",
		    strerror(errno));
		ret = 1;
	}
	free(names);
	free(q.load_err);
	conf_free(&c);
	conf_env_free(&q.env);
	conf_file_free(&q.file);
	buf_free(&data);
	buf_free(&warn);
	buf_free(&err);
	return ret;
}

static char *
cli_conf_trim(const char *s, size_t n)
{
	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return xstrndup(s, n);
}

/* Turns "name=value" (or "name = value") into e; -1 after a message. */
static int
cli_conf_edit_arg(const char *arg, bool remove, struct conf_edit *e)
{
	const char *eq = strchr(arg, '=');
	char *name;

	e->value = NULL;
	if (remove) {
		e->name = xstrdup(arg);
	} else if (eq == NULL) {
		fprintf(stderr, "mailwright: \"%s\": expected NAME=VALUE\n",
		    log_sanitize_str(arg));
		return -1;
	} else {
		e->name = cli_conf_trim(arg, (size_t)(eq - arg));
		e->value = cli_conf_trim(eq + 1, strlen(eq + 1));
	}
	name = (char *)e->name;
	if (!conf_name_ok(name, strlen(name))) {
		fprintf(stderr,
		    "mailwright: \"%s\": bad parameter name (letters, digits and _ only)\n",
		    log_sanitize_str(name));
		return -1;
	}
	if (e->value != NULL && strpbrk(e->value, "\r\n") != NULL) {
		fprintf(stderr,
		    "mailwright: %s: a value cannot hold a line break\n", name);
		return -1;
	}
	if (conf_param_find(name) == NULL && !remove)
		cli_conf_warn_unknown(name);
	return 0;
}

/* The error after "label:line: " (or "label: "), to compare two loads. */
static const char *
cli_conf_err_tail(const char *err, const char *label)
{
	size_t n = strlen(label);

	if (strncmp(err, label, n) != 0 || err[n] != ':')
		return err;
	err += n + 1;
	err += strspn(err, "0123456789");
	if (*err == ':')
		err++;
	return err + strspn(err, " ");
}

/* True when the error tail is about one of the edited names. */
static bool
cli_conf_edited(const struct conf_edit *edits, size_t n, const char *tail)
{
	size_t i, len;

	for (i = 0; i < n; i++) {
		len = strlen(edits[i].name);
		if (strncmp(tail, edits[i].name, len) == 0 && tail[len] == ':')
			return true;
	}
	return false;
}

/* Loads text as the file would be; NULL when fine, else the error. */
static char *
cli_conf_check(const char *path, const struct buf *text)
{
	struct buf err, warn;
	struct conf *c;
	char *ret = NULL;

	buf_init(&err, 4096);
	buf_init(&warn, BUF_MAX_DEFAULT); /* the query prints those */
	c = conf_load_data(path, buf_cstr(text), text->len, NULL, &err, &warn);
	if (c == NULL)
		ret = buf_steal(&err);
	conf_free(&c);
	buf_free(&err);
	buf_free(&warn);
	return ret;
}

/*
 * Replaces path with text, keeping the old file's mode exactly (no umask)
 * and, when root edits it, its owner: mail_owner must still read it.
 */
static int
cli_conf_write(const char *path, const struct buf *text, const struct stat *st)
{
	mode_t old = umask(0);
	int r, saved;

	r = fs_atomic_write(path, text->data, text->len, st->st_mode & 07777);
	saved = errno;
	(void)umask(old);
	if (r == 0 && geteuid() == 0 && (st->st_uid != 0 || st->st_gid != 0) &&
	    chown(path, st->st_uid, st->st_gid) == -1)
		fprintf(stderr, "mailwright: warning: cannot chown %s: %s\n",
		    path, strerror(errno));
	errno = saved;
	return r;
}

static int
cli_conf_edit(const struct cli_ctx *ctx, int flags, int argc, char **argv)
{
	const char *path = ctx->config_path;
	struct conf_edit *edits;
	struct buf data, text, err, warn;
	char *new_err = NULL, *old_err = NULL, *real = NULL;
	struct stat st;
	size_t i;
	int ret = 1;

	edits = xcalloc((size_t)argc + 1, sizeof(*edits));
	buf_init(&text, BUF_MAX_DEFAULT);
	buf_init(&err, 4096);
	buf_init(&warn, 64 * 1024);
	buf_init(&data, 0);
	if (argc == 0) {
		cli_conf_usage(stderr);
		ret = 2;
		goto out;
	}
	for (i = 0; i < (size_t)argc; i++)
		if (cli_conf_edit_arg(
		        argv[i], flags & CLI_CONF_REMOVE, &edits[i]) == -1)
			goto out;
	if (conf_read_file(path, &conf_limits_default, &data, &err) == -1) {
		fprintf(stderr, "mailwright: %s\n", buf_cstr(&err));
		goto out;
	}
	if (conf_edit_text(buf_cstr(&data), data.len, edits, (size_t)argc,
	        &text, &warn) == -1) {
		fprintf(
		    stderr, "mailwright: %s: edited file too large\n", path);
		goto out;
	}
	for (i = 0; i < warn.len; i += strcspn(warn.data + i, "\n") + 1)
		fprintf(stderr, "mailwright: warning: %s: %.*s\n", path,
		    (int)strcspn(warn.data + i, "\n"), warn.data + i);
	/*
	 * Refuse an edit that breaks the file; one that leaves an older
	 * error as it was (same message) may go through, or nobody could
	 * fix a broken file with -e.
	 */
	if ((new_err = cli_conf_check(path, &text)) != NULL) {
		old_err = cli_conf_check(path, &data);
		if (old_err == NULL ||
		    strcmp(cli_conf_err_tail(old_err, path),
		        cli_conf_err_tail(new_err, path)) != 0) {
			/* the would-be line number means nothing to the
			 * user when the error is about their own edit */
			fprintf(stderr, "mailwright: %s (%s not changed)\n",
			    cli_conf_edited(edits, (size_t)argc,
			        cli_conf_err_tail(new_err, path))
			        ? cli_conf_err_tail(new_err, path)
			        : new_err,
			    path);
			goto out;
		}
		fprintf(stderr, "mailwright: warning: %s\n", new_err);
	}
	if (text.len == data.len &&
	    memcmp(buf_cstr(&text), buf_cstr(&data), data.len) == 0) {
		ret = 0; /* nothing to change: leave the file and its mtime */
		goto out;
	}
	/* write through a symbolic link, not over it */
	if ((real = realpath(path, NULL)) == NULL || stat(real, &st) == -1 ||
	    cli_conf_write(real, &text, &st) == -1) {
		fprintf(stderr, "mailwright: cannot write %s: %s\n", path,
		    strerror(errno));
		goto out;
	}
	ret = 0;
out:
	for (i = 0; i < (size_t)argc; i++) {
		free((char *)edits[i].name);
		free((char *)edits[i].value);
	}
	free(edits);
	free(real);
	free(new_err);
	free(old_err);
	buf_free(&data);
	buf_free(&text);
	buf_free(&err);
	buf_free(&warn);
	return ret;
}

static int
cli_conf_docs(void)
{
	struct buf out;
	int ret = 1;

	buf_init(&out, BUF_MAX_DEFAULT);
	if (conf_docs_markdown(&out) == -1 ||
	    fwrite(out.data, 1, out.len, stdout) != out.len ||
	    fflush(stdout) == EOF)
		fprintf(stderr, "mailwright: cannot write the reference: %s\n",
		    strerror(errno));
	else
		ret = 0;
	buf_free(&out);
	return ret;
}

int
cli_conf(const struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "docs", no_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	int ch, flags = 0, i;

	optind = 0; /* glibc: start afresh */
	while (
	    (ch = getopt_long(argc, argv, "+dehnxX", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			flags |= CLI_CONF_DEFAULTS;
			break;
		case 'e':
			flags |= CLI_CONF_EDIT;
			break;
		case 'h':
			flags |= CLI_CONF_VALUES;
			break;
		case 'n':
			flags |= CLI_CONF_NONDEF;
			break;
		case 'x':
			flags |= CLI_CONF_EXPAND;
			break;
		case 'X':
			flags |= CLI_CONF_REMOVE;
			break;
		case 'D':
			return cli_conf_docs();
		case 'H':
			cli_conf_usage(stdout);
			return 0;
		default:
			cli_conf_usage(stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	/* postconf: an argument with '=' means -e */
	for (i = 0; i < argc && !(flags & CLI_CONF_REMOVE); i++)
		if (strchr(argv[i], '=') != NULL)
			flags |= CLI_CONF_EDIT;
	if ((flags & CLI_CONF_EDIT) && (flags & CLI_CONF_REMOVE)) {
		fprintf(stderr, "mailwright: -e and -X do not go together\n");
		return 2;
	}
	if ((flags & (CLI_CONF_EDIT | CLI_CONF_REMOVE)) &&
	    (flags & ~(CLI_CONF_EDIT | CLI_CONF_REMOVE))) {
		fprintf(stderr,
		    "mailwright: -d, -n, -x and -h only go with queries\n");
		return 2;
	}
	if ((flags & CLI_CONF_DEFAULTS) && (flags & CLI_CONF_NONDEF)) {
		fprintf(stderr, "mailwright: -d and -n do not go together\n");
		return 2;
	}
	if (flags & (CLI_CONF_EDIT | CLI_CONF_REMOVE))
		return cli_conf_edit(ctx, flags, argc, argv);
	return cli_conf_query(ctx, flags, argc, argv);
}
