/*
 * The sendmail command line (see sendmail_args.h): getopt(3)-shaped
 * parsing without getopt's global state, so that it is a pure function the
 * tests and the fuzzer can call over and over.
 */
#include "cli/sendmail_args.h"

#include <string.h>

#include "lib/parse.h"

/* -o values that are accepted (Postfix ignores all but -oi). */
static const char *const sendmail_o_ignored[] = {
	"m",
	"em",
	"ee",
	"ep",
	"eq",
	"ew",
	"di",
	"db",
	"dq",
	"7",
	"8",
};

static const char *
sendmail_basename(const char *p)
{
	const char *s = strrchr(p, '/');

	return s != NULL ? s + 1 : p;
}

static int
sendmail_args_fail(const char **why_out, const char **arg_out, const char *why,
    const char *arg)
{
	*why_out = why;
	*arg_out = arg;
	return -1;
}

/* "-q" alone, "-qR site", "-qSsite", or an interval like "-q30m". */
static int
sendmail_args_q(const char *v, int *i, int argc, char *const *argv,
    struct sendmail_opts *out, const char **why_out, const char **arg_out)
{
	size_t k;

	out->mode = SENDMAIL_MODE_FLUSH;
	if (*v == '\0')
		return 0;
	if (*v == 'R' || *v == 'S') {
		if (v[1] != '\0')
			out->site = v + 1;
		else if (*i + 1 < argc)
			out->site = argv[++*i];
		else
			return sendmail_args_fail(why_out, arg_out,
			    "option -q needs a site after R or S", argv[*i]);
		if (out->site[0] == '\0')
			return sendmail_args_fail(
			    why_out, arg_out, "empty site", argv[*i]);
		return 0;
	}
	for (k = 0; v[k] >= '0' && v[k] <= '9'; k++)
		;
	if (k > 0 &&
	    (v[k] == '\0' ||
	        (strchr("smhdw", v[k]) != NULL && v[k + 1] == '\0')))
		return 0;
	return sendmail_args_fail(why_out, arg_out,
	    "bad -q value (use -q, -qR SITE or -qS SITE)", argv[*i]);
}

/* The value of an option that takes one: the option letter at arg[j]. */
static int
sendmail_args_value(const char *arg, size_t j, int *i, int argc,
    char *const *argv, const char **v_out)
{
	if (arg[j + 1] != '\0') {
		*v_out = arg + j + 1;
		return 0;
	}
	if (*i + 1 >= argc)
		return -1;
	*v_out = argv[++*i];
	return 0;
}

static int
sendmail_args_o(const char *v, struct sendmail_opts *out)
{
	size_t k;

	if (strcmp(v, "i") == 0) {
		out->ignore_dots = true;
		return 0;
	}
	for (k = 0;
	     k < sizeof(sendmail_o_ignored) / sizeof(sendmail_o_ignored[0]);
	     k++)
		if (strcmp(v, sendmail_o_ignored[k]) == 0)
			return 0;
	return -1;
}

static int
sendmail_args_b(const char *v, struct sendmail_opts *out)
{
	if (v[0] == '\0' || v[1] != '\0')
		return -1;
	switch (v[0]) {
	case 'm':
		out->mode = SENDMAIL_MODE_DELIVER;
		return 0;
	case 'p':
		out->mode = SENDMAIL_MODE_MAILQ;
		return 0;
	case 's':
		out->mode = SENDMAIL_MODE_SMTP;
		return 0;
	case 'i':
		out->mode = SENDMAIL_MODE_NEWALIASES;
		return 0;
	default:
		return -1;
	}
}

int
sendmail_args_parse(int argc, char *const *argv, struct sendmail_opts *out,
    const char **why_out, const char **arg_out)
{
	const char *prog = argc > 0 && argv[0] != NULL
	    ? sendmail_basename(argv[0])
	    : "sendmail";
	int i;

	memset(out, 0, sizeof(*out));
	*why_out = NULL;
	*arg_out = NULL;
	if (strcmp(prog, "mailq") == 0)
		out->mode = SENDMAIL_MODE_MAILQ;
	else if (strcmp(prog, "newaliases") == 0)
		out->mode = SENDMAIL_MODE_NEWALIASES;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		size_t j;

		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (a[0] != '-' || a[1] == '\0')
			break; /* the first recipient */
		for (j = 1; a[j] != '\0'; j++) {
			char c = a[j];

			switch (c) {
			case 't':
				out->extract = true;
				continue;
			case 'i':
				out->ignore_dots = true;
				continue;
			case 'v':
				out->verbose = true;
				continue;
			case 'm': /* "me too": the sender is always included */
			case 'n': /* no aliasing: Postfix ignores it too */
				continue;
			case 'I':
				out->mode = SENDMAIL_MODE_NEWALIASES;
				continue;
			case 'q':
				if (sendmail_args_q(a + j + 1, &i, argc, argv,
				        out, why_out, arg_out) == -1)
					return -1;
				break;
			case 'f':
			case 'r':
			case 'F':
			case 'o':
			case 'b':
			case 'B':
			case 'N':
			case 'h':
			case 'C':
				if (sendmail_args_value(
				        a, j, &i, argc, argv, &v) == -1)
					return sendmail_args_fail(why_out,
					    arg_out, "option needs a value", a);
				if (c == 'f' || c == 'r')
					out->sender = v;
				else if (c == 'F')
					out->fullname = v;
				else if (c == 'C')
					out->config = v;
				else if (c == 'o' &&
				    sendmail_args_o(v, out) == -1)
					return sendmail_args_fail(why_out,
					    arg_out, "unsupported -o option",
					    a);
				else if (c == 'b' &&
				    sendmail_args_b(v, out) == -1)
					return sendmail_args_fail(why_out,
					    arg_out,
					    "unsupported mode (use -bm, -bp, "
					    "-bs or -bi)",
					    a);
				else if (c == 'B' && !ascii_eq(v, "7BIT") &&
				    !ascii_eq(v, "8BITMIME"))
					return sendmail_args_fail(why_out,
					    arg_out,
					    "-B takes 7BIT or 8BITMIME", a);
				else if ((c == 'N' || c == 'h' || c == 'C') &&
				    v[0] == '\0')
					return sendmail_args_fail(why_out,
					    arg_out, "option needs a value", a);
				break;
			default:
				return sendmail_args_fail(
				    why_out, arg_out, "unknown option", a);
			}
			break; /* the option took the rest of the argument */
		}
	}
	out->rcpts = argv + (i < argc ? i : argc);
	out->nrcpt = i < argc ? (size_t)(argc - i) : 0;
	return 0;
}
