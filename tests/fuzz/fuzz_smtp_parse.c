/*
 * libFuzzer target for the SMTP command parser: splits the input as one
 * command line, then runs the argument parser its verb calls for (MAIL,
 * RCPT, EHLO/HELO, BDAT) under small limits and checks that every result
 * stays inside the input and respects the limits.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/mailaddr.h"
#include "smtp/smtp_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c))                                                      \
			abort();                                               \
	} while (0)

static const struct smtp_parse_limits fuzz_lim = { 40, 16, 24 };

static void
check_in(struct smtp_slice s, const char *p, size_t n)
{
	if (s.n == 0)
		return;
	CHECK(s.p >= p && s.p + s.n <= p + n);
}

static void
check_err(const struct smtp_parse_err *err, const char *p, size_t n)
{
	size_t i;

	CHECK(err->code == 501 || err->code == 555);
	CHECK(err->enh != NULL && err->text != NULL);
	CHECK(err->detail.n <= 64);
	check_in(err->detail, p, n);
	for (i = 0; i < err->detail.n; i++)
		CHECK(err->detail.p[i] > ' ' && err->detail.p[i] < 0x7f);
}

static void
check_path(const struct smtp_path *path, const char *p, size_t n)
{
	check_in(path->local, p, n);
	check_in(path->domain, p, n);
	if (path->null) {
		CHECK(path->local.n == 0 && path->domain.n == 0);
		return;
	}
	CHECK(path->local.n <= fuzz_lim.local_max);
	CHECK(path->domain.n <= fuzz_lim.domain_max);
	if (path->postmaster) {
		CHECK(path->local.n == 10 && path->domain.n == 0);
		return;
	}
	CHECK(mailaddr_local_valid_n(path->local.p, path->local.n, NULL));
	CHECK(mailaddr_domain_valid_n(path->domain.p, path->domain.n, NULL));
}

static void
fuzz_arg(enum smtp_verb verb, const char *p, size_t n)
{
	struct smtp_mail_params mp;
	struct smtp_rcpt_params rp;
	struct smtp_bdat_args b;
	struct smtp_parse_err err;
	struct smtp_path path;
	struct smtp_slice d;
	size_t i;

	switch (verb) {
	case SMTP_VERB_MAIL:
		if (smtp_parse_mail(p, n, &fuzz_lim, &path, &mp, &err) == -1) {
			check_err(&err, p, n);
			break;
		}
		check_path(&path, p, n);
		CHECK(!path.postmaster);
		check_in(mp.ret, p, n);
		check_in(mp.envid, p, n);
		check_in(mp.auth, p, n);
		CHECK(mp.has_size || mp.size == 0);
		break;
	case SMTP_VERB_RCPT:
		if (smtp_parse_rcpt(p, n, &fuzz_lim, &path, &rp, &err) == -1) {
			check_err(&err, p, n);
			break;
		}
		check_path(&path, p, n);
		CHECK(!path.null);
		check_in(rp.notify, p, n);
		check_in(rp.orcpt, p, n);
		break;
	case SMTP_VERB_EHLO:
	case SMTP_VERB_HELO:
		if (smtp_parse_helo(p, n, verb == SMTP_VERB_EHLO, &d, &err) ==
		    -1) {
			check_err(&err, p, n);
			break;
		}
		CHECK(d.n > 0);
		check_in(d, p, n);
		for (i = 0; i < d.n; i++)
			CHECK(d.p[i] > ' ' && d.p[i] < 0x7f);
		break;
	case SMTP_VERB_BDAT:
		if (smtp_parse_bdat(p, n, &b, &err) == -1)
			check_err(&err, p, n);
		break;
	default:
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum smtp_verb any[] = { SMTP_VERB_MAIL, SMTP_VERB_RCPT,
		SMTP_VERB_EHLO, SMTP_VERB_BDAT };
	const char *line = (const char *)data;
	struct smtp_cmd cmd;

	smtp_parse_command(line, size, &cmd);
	CHECK(cmd.verb_text.p == line && cmd.verb_text.n <= size);
	check_in(cmd.arg, line, size);
	if (cmd.arg.n > 0)
		CHECK(cmd.arg.p[0] != ' ' && cmd.arg.p[cmd.arg.n - 1] != ' ');
	fuzz_arg(cmd.verb, cmd.arg.p, cmd.arg.n);
	/* reach the argument parsers without a verb, too */
	if (cmd.verb == SMTP_VERB_UNKNOWN && size > 0)
		fuzz_arg(any[data[0] % 4], line + 1, size - 1);
	return 0;
}
