/* Unit tests of src/delivery/resolve.c: a hand-built struct conf, a real
 * accounts.db and a real aliases file in a temporary directory. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
/* cmocka.h needs the headers above first */
// clang-format off
#include <cmocka.h>
// clang-format on

#include "auth/accounts.h"
#include "delivery/resolve.h"
#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/fs.h"
#include "lib/xalloc.h"

struct fixture {
	char dir[64];
	struct conf conf;
	char *mydest[2];
	char *maps[1];
	struct resolver *r;
	struct buf err;
};

/* Chains "nN_0: nN_1", ..., "nN_{N-1}: bob" put bob at depth N. */
static void
append_chain(struct buf *b, int n)
{
	int i;

	for (i = 0; i < n - 1; i++)
		assert_int_equal(
		    buf_printf(b, "n%d_%d: n%d_%d\n", n, i, n, i + 1), 0);
	assert_int_equal(
	    buf_printf(b, "n%d_%d: bob@example.org\n", n, n - 1), 0);
}

static const char aliases_text[] =
    "# test aliases\n"
    "root: bob@example.org\n"
    "admins: root, alice\n"
    "team: admins,\n"
    "  carol@example.com\n"
    "loop1: loop2\n"
    "loop2: loop1\n"
    "dups: bob@example.org, bob, root, BOB@EXAMPLE.ORG\n"
    "partial: nobody, bob\n"
    "ext: Mixed.Case@Remote.EXAMPLE, other@remote.example\n"
    "three: a1@remote.example, a2@remote.example, a3@remote.example\n"
    "four: three, a4@remote.example\n"
    "two: a1@remote.example, a2@remote.example\n"
    "slash: a/b\n"
    "diamond: d1, d2\n"
    "d1: d3\n"
    "d2: d3\n"
    "d3: carol@example.com\n";

static void
write_file(const char *path, const char *text)
{
	assert_int_equal(fs_atomic_write(path, text, strlen(text), 0644), 0);
}

static void
add_user(struct accounts *a, const char *addr)
{
	struct buf err;

	buf_init(&err, 1024);
	assert_int_equal(
	    accounts_user_add(a, addr, "{PLAIN}x", &err), ACCOUNTS_OK);
	buf_free(&err);
}

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct accounts *a;
	struct buf text;
	char *p;
	const char *self[] = { "alice@example.org", "alice@remote.example" };
	const char *sales[] = { "bob@example.org", "alice@example.org",
		"ext@remote.example" };

	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/test_resolve.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	buf_init(&f->err, 4096);
	f->conf.myhostname = xstrdup("mail.example.net");
	f->conf.mydomain = xstrdup("example.net");
	f->mydest[0] = xstrdup("localhost");
	f->mydest[1] = xstrdup("mail.example.net.");
	f->conf.mydestination.items = f->mydest;
	f->conf.mydestination.n = 2;
	f->conf.mail_directory = xasprintf("%s/mail", f->dir);
	f->conf.accounts_database = xasprintf("%s/accounts.db", f->dir);
	f->maps[0] = xasprintf("hash:%s/aliases", f->dir);
	f->conf.alias_maps.items = f->maps;
	f->conf.alias_maps.n = 1;
	f->conf.recipient_delimiter = xstrdup("+");
	f->conf.postmaster_recipient = xstrdup("");
	f->conf.alias_expansion_limit = 1000;

	a = accounts_open(f->conf.accounts_database, true, &f->err);
	assert_non_null(a);
	assert_int_equal(accounts_domain_add(a, "example.org", &f->err), 0);
	assert_int_equal(accounts_domain_add(a, "example.com", &f->err), 0);
	add_user(a, "bob@example.org");
	add_user(a, "Alice@example.org");
	add_user(a, "carol@example.com");
	assert_int_equal(
	    accounts_alias_add(a, "alice@example.org", self, 2, &f->err), 0);
	assert_int_equal(
	    accounts_alias_add(a, "sales@example.org", sales, 3, &f->err), 0);
	accounts_close(&a);

	buf_init(&text, 1 << 20);
	assert_int_equal(buf_append_str(&text, aliases_text), 0);
	append_chain(&text, 19);
	append_chain(&text, 20);
	append_chain(&text, 21);
	p = xasprintf("%s/aliases", f->dir);
	write_file(p, buf_cstr(&text));
	free(p);
	buf_free(&text);

	f->r = resolver_new(&f->conf, &f->err);
	assert_non_null(f->r);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	resolver_free(&f->r);
	(void)fs_rm_rf(f->dir);
	free(f->conf.myhostname);
	free(f->conf.mydomain);
	free(f->mydest[0]);
	free(f->mydest[1]);
	free(f->conf.mail_directory);
	free(f->conf.accounts_database);
	free(f->maps[0]);
	free(f->conf.recipient_delimiter);
	free(f->conf.postmaster_recipient);
	buf_free(&f->err);
	free(f);
	return 0;
}

static void
test_resolve_domain_status(void **state)
{
	struct fixture *f = *state;
	// clang-format off
	static const struct {
		const char *domain;
		enum resolve_status want;
	} cases[] = {
		{ "localhost", RESOLVE_LOCAL_OK },
		{ "LOCALHOST.", RESOLVE_LOCAL_OK },
		{ "mail.example.net", RESOLVE_LOCAL_OK },
		{ "Mail.Example.Net.", RESOLVE_LOCAL_OK },
		{ "example.org", RESOLVE_LOCAL_OK },
		{ "EXAMPLE.ORG.", RESOLVE_LOCAL_OK },
		{ "example.com", RESOLVE_LOCAL_OK },
		{ "remote.example", RESOLVE_NOT_LOCAL },
		{ "sub.example.org", RESOLVE_NOT_LOCAL },
		{ "", RESOLVE_NOT_LOCAL },
	};
	// clang-format on
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (resolver_domain_status(f->r, cases[i].domain) !=
		    cases[i].want)
			fail_msg("domain \"%s\"", cases[i].domain);
}

// clang-format off
static const struct {
	const char *addr;
	enum resolve_status want;
} check_cases[] = {
	{ "bob@example.org", RESOLVE_LOCAL_OK },
	{ "BOB@Example.ORG", RESOLVE_LOCAL_OK },
	{ "bob@example.org.", RESOLVE_LOCAL_OK },
	{ "\"bob\"@example.org", RESOLVE_LOCAL_OK },
	{ "bob+tag@example.org", RESOLVE_LOCAL_OK },
	{ "bob+@example.org", RESOLVE_LOCAL_OK },
	{ "alice@example.org", RESOLVE_LOCAL_OK },
	{ "nobody@example.org", RESOLVE_UNKNOWN_USER },
	{ "nobody+bob@example.org", RESOLVE_UNKNOWN_USER },
	{ "+bob@example.org", RESOLVE_UNKNOWN_USER },
	{ "bob@example.com", RESOLVE_UNKNOWN_USER },
	{ "carol@example.com", RESOLVE_LOCAL_OK },
	{ "sales@example.org", RESOLVE_LOCAL_OK },
	{ "SALES+q@example.org", RESOLVE_LOCAL_OK },
	{ "sales@example.com", RESOLVE_UNKNOWN_USER },
	/* alias_maps names apply to every local domain */
	{ "root@example.org", RESOLVE_LOCAL_OK },
	{ "root@example.com", RESOLVE_LOCAL_OK },
	{ "root@localhost", RESOLVE_LOCAL_OK },
	{ "Root+cron@localhost", RESOLVE_LOCAL_OK },
	{ "bob@localhost", RESOLVE_UNKNOWN_USER },
	/* RFC 5321 4.5.1 */
	{ "postmaster@example.org", RESOLVE_LOCAL_OK },
	{ "PostMaster@example.com", RESOLVE_LOCAL_OK },
	{ "postmaster@localhost", RESOLVE_LOCAL_OK },
	{ "postmaster+x@localhost", RESOLVE_LOCAL_OK },
	{ "postmaster", RESOLVE_LOCAL_OK },
	{ "POSTMASTER", RESOLVE_LOCAL_OK },
	{ "postmaster@remote.example", RESOLVE_NOT_LOCAL },
	{ "bob@remote.example", RESOLVE_NOT_LOCAL },
	/* quoted local parts are never users */
	{ "\"bob@example.org\"@example.org", RESOLVE_UNKNOWN_USER },
	{ "\"b o b\"@example.org", RESOLVE_UNKNOWN_USER },
	{ "\"x@y\"@remote.example", RESOLVE_NOT_LOCAL },
	/* a bare name is qualified with myorigin/myhostname (local here) */
	{ "root", RESOLVE_LOCAL_OK },
	{ "nobody", RESOLVE_UNKNOWN_USER },
	{ "a/b@example.org", RESOLVE_UNKNOWN_USER },
	{ "", RESOLVE_UNKNOWN_USER },
};
// clang-format on

static void
test_resolve_check_table(void **state)
{
	struct fixture *f = *state;
	enum resolve_status st;
	size_t i;

	for (i = 0; i < sizeof(check_cases) / sizeof(check_cases[0]); i++) {
		st = resolver_check(f->r, check_cases[i].addr);
		if (st != check_cases[i].want)
			fail_msg("check \"%s\": got %d, want %d",
			    check_cases[i].addr, st, check_cases[i].want);
	}
}

/* Renders a resolve_list as "M address maildir-under-mail/" or "R address"
 * lines, in order. */
static char *
render(const struct fixture *f, const struct resolve_list *l)
{
	struct buf b;
	size_t i, skip = strlen(f->conf.mail_directory) + 1;

	buf_init(&b, 1 << 20);
	for (i = 0; i < l->n; i++) {
		if (l->v[i].kind == RESOLVE_MAILBOX) {
			assert_memory_equal(
			    l->v[i].maildir, f->conf.mail_directory, skip - 1);
			assert_int_equal(
			    buf_printf(&b, "M %s %s\n", l->v[i].address,
			        l->v[i].maildir + skip),
			    0);
		} else {
			assert_null(l->v[i].maildir);
			assert_int_equal(
			    buf_printf(&b, "R %s\n", l->v[i].address), 0);
		}
	}
	return buf_steal(&b);
}

struct expand_case {
	const char *addr;
	enum resolve_status want;
	const char *dests;
};

// clang-format off
static const struct expand_case expand_cases[] = {
	{ "bob@example.org", RESOLVE_LOCAL_OK,
	  "M bob@example.org example.org/bob/Maildir\n" },
	{ "Bob+Tag@EXAMPLE.org.", RESOLVE_LOCAL_OK,
	  "M bob@example.org example.org/bob/Maildir\n" },
	/* accounts.db alias that keeps a copy: the self reference is the
	 * user's mailbox */
	{ "alice@example.org", RESOLVE_LOCAL_OK,
	  "M alice@example.org example.org/alice/Maildir\n"
	  "R alice@remote.example\n" },
	{ "sales@example.org", RESOLVE_LOCAL_OK,
	  "M bob@example.org example.org/bob/Maildir\n"
	  "M alice@example.org example.org/alice/Maildir\n"
	  "R alice@remote.example\n"
	  "R ext@remote.example\n" },
	{ "sales+x@example.org", RESOLVE_LOCAL_OK,
	  "M bob@example.org example.org/bob/Maildir\n"
	  "M alice@example.org example.org/alice/Maildir\n"
	  "R alice@remote.example\n"
	  "R ext@remote.example\n" },
	/* alias_maps: bare targets take the alias's domain */
	{ "team@example.org", RESOLVE_LOCAL_OK,
	  "M bob@example.org example.org/bob/Maildir\n"
	  "M alice@example.org example.org/alice/Maildir\n"
	  "R alice@remote.example\n"
	  "M carol@example.com example.com/carol/Maildir\n" },
	{ "root@localhost", RESOLVE_LOCAL_OK,
	  "M bob@example.org example.org/bob/Maildir\n" },
	{ "dups@example.org", RESOLVE_LOCAL_OK,
	  "M bob@example.org example.org/bob/Maildir\n" },
	{ "partial@example.org", RESOLVE_LOCAL_OK,
	  "M bob@example.org example.org/bob/Maildir\n" },
	{ "diamond@example.com", RESOLVE_LOCAL_OK,
	  "M carol@example.com example.com/carol/Maildir\n" },
	{ "ext@example.org", RESOLVE_LOCAL_OK,
	  "R Mixed.Case@remote.example\nR other@remote.example\n" },
	{ "loop1@example.org", RESOLVE_UNKNOWN_USER, "" },
	{ "slash@example.org", RESOLVE_UNKNOWN_USER, "" },
	{ "nobody@example.org", RESOLVE_UNKNOWN_USER, "" },
	{ "\"a@b\"@example.org", RESOLVE_UNKNOWN_USER, "" },
	{ "postmaster@example.org", RESOLVE_LOCAL_OK,
	  "M postmaster@example.org example.org/postmaster/Maildir\n" },
	{ "postmaster@localhost", RESOLVE_LOCAL_OK,
	  "M postmaster@localhost localhost/postmaster/Maildir\n" },
	{ "postmaster", RESOLVE_LOCAL_OK,
	  "M postmaster@mail.example.net mail.example.net/postmaster/Maildir\n" },
	{ "X@Remote.Example", RESOLVE_NOT_LOCAL, "R X@remote.example\n" },
	/* RESOLVE_DEPTH_MAX = 20: bob at depth 19, 20 and 21 */
	{ "n19_0@example.org", RESOLVE_LOCAL_OK,
	  "M bob@example.org example.org/bob/Maildir\n" },
	{ "n20_0@example.org", RESOLVE_LOCAL_OK,
	  "M bob@example.org example.org/bob/Maildir\n" },
	{ "n21_0@example.org", RESOLVE_TEMPFAIL, "" },
};
// clang-format on

static void
test_resolve_expand_table(void **state)
{
	struct fixture *f = *state;
	struct resolve_list l = { NULL, 0 };
	enum resolve_status st;
	size_t i;
	char *got;

	for (i = 0; i < sizeof(expand_cases) / sizeof(expand_cases[0]); i++) {
		const struct expand_case *c = &expand_cases[i];

		buf_reset(&f->err);
		st = resolver_expand(f->r, c->addr, &l, &f->err);
		got = render(f, &l);
		if (st != c->want || strcmp(got, c->dests) != 0)
			fail_msg("expand \"%s\": got %d\n%s(%s), want %d\n%s",
			    c->addr, st, got, buf_cstr(&f->err), c->want,
			    c->dests);
		if (st != RESOLVE_LOCAL_OK && st != RESOLVE_NOT_LOCAL)
			assert_true(f->err.len > 0);
		free(got);
		resolve_list_free(&l);
	}
}

static void
test_resolve_expand_appends_to_list(void **state)
{
	struct fixture *f = *state;
	struct resolve_list l = { NULL, 0 };
	char *got;

	assert_int_equal(resolver_expand(f->r, "root@localhost", &l, &f->err),
	    RESOLVE_LOCAL_OK);
	assert_int_equal(
	    resolver_expand(f->r, "carol@example.com", &l, &f->err),
	    RESOLVE_LOCAL_OK);
	/* a failure leaves what was there */
	assert_int_equal(
	    resolver_expand(f->r, "nobody@example.com", &l, &f->err),
	    RESOLVE_UNKNOWN_USER);
	got = render(f, &l);
	assert_string_equal(got,
	    "M bob@example.org example.org/bob/Maildir\n"
	    "M carol@example.com example.com/carol/Maildir\n");
	free(got);
	resolve_list_free(&l);
}

static void
test_resolve_expansion_limit_boundaries(void **state)
{
	struct fixture *f = *state;
	struct resolve_list l = { NULL, 0 };

	f->conf.alias_expansion_limit = 3;
	assert_int_equal(resolver_expand(f->r, "two@example.org", &l, &f->err),
	    RESOLVE_LOCAL_OK);
	assert_int_equal(l.n, 2);
	resolve_list_free(&l);
	assert_int_equal(
	    resolver_expand(f->r, "three@example.org", &l, &f->err),
	    RESOLVE_LOCAL_OK);
	assert_int_equal(l.n, 3);
	resolve_list_free(&l);
	assert_int_equal(resolver_expand(f->r, "four@example.org", &l, &f->err),
	    RESOLVE_TEMPFAIL);
	assert_int_equal(l.n, 0);
	assert_non_null(strstr(buf_cstr(&f->err), "alias_expansion_limit"));
	resolve_list_free(&l);
}

static void
test_resolve_postmaster_recipient(void **state)
{
	struct fixture *f = *state;
	struct resolve_list l = { NULL, 0 };
	char *got;

	free(f->conf.postmaster_recipient);
	f->conf.postmaster_recipient = xstrdup("root");
	assert_int_equal(
	    resolver_expand(f->r, "postmaster@example.com", &l, &f->err),
	    RESOLVE_LOCAL_OK);
	got = render(f, &l);
	assert_string_equal(got, "M bob@example.org example.org/bob/Maildir\n");
	free(got);
	resolve_list_free(&l);

	free(f->conf.postmaster_recipient);
	f->conf.postmaster_recipient = xstrdup("admin@remote.example");
	assert_int_equal(
	    resolver_expand(f->r, "postmaster@localhost", &l, &f->err),
	    RESOLVE_LOCAL_OK);
	got = render(f, &l);
	assert_string_equal(got, "R admin@remote.example\n");
	free(got);
	resolve_list_free(&l);
}

static void
test_resolve_delimiter_off(void **state)
{
	struct fixture *f = *state;

	f->conf.recipient_delimiter[0] = '\0';
	assert_int_equal(
	    resolver_check(f->r, "bob+tag@example.org"), RESOLVE_UNKNOWN_USER);
	assert_int_equal(
	    resolver_check(f->r, "bob@example.org"), RESOLVE_LOCAL_OK);
}

static void
test_resolve_broken_aliases_file_is_tempfail(void **state)
{
	struct fixture *f = *state;
	struct resolver *r;
	struct resolve_list l = { NULL, 0 };
	char *p = xasprintf("%s/aliases", f->dir);

	write_file(p, "root: |/bin/sh\n");
	r = resolver_new(&f->conf, &f->err);
	assert_non_null(r);
	/* users are found before the aliases file is needed */
	assert_int_equal(
	    resolver_check(r, "bob@example.org"), RESOLVE_LOCAL_OK);
	assert_int_equal(
	    resolver_check(r, "nobody@example.org"), RESOLVE_TEMPFAIL);
	assert_int_equal(resolver_expand(r, "nobody@example.org", &l, &f->err),
	    RESOLVE_TEMPFAIL);
	assert_non_null(strstr(buf_cstr(&f->err), "aliases:1:"));
	resolver_free(&r);
	free(p);
}

static void
test_resolve_missing_aliases_file_is_fine(void **state)
{
	struct fixture *f = *state;
	struct resolver *r;
	char *p = xasprintf("%s/aliases", f->dir);

	assert_int_equal(unlink(p), 0);
	r = resolver_new(&f->conf, &f->err);
	assert_non_null(r);
	assert_int_equal(
	    resolver_check(r, "root@example.org"), RESOLVE_UNKNOWN_USER);
	assert_int_equal(
	    resolver_check(r, "bob@example.org"), RESOLVE_LOCAL_OK);
	resolver_free(&r);
	free(p);
}

static void
test_resolve_unsupported_map_type_fails(void **state)
{
	struct fixture *f = *state;
	struct resolver *r;
	char *saved = f->maps[0];

	f->maps[0] = xstrdup("regexp:/etc/aliases.re");
	r = resolver_new(&f->conf, &f->err);
	assert_null(r);
	assert_non_null(strstr(buf_cstr(&f->err), "only hash:PATH"));
	free(f->maps[0]);
	f->maps[0] = saved;
}

struct worker {
	struct resolver *r;
	int failures;
};

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	struct resolve_list l = { NULL, 0 };
	struct buf err;
	int i;

	buf_init(&err, 4096);
	for (i = 0; i < 100; i++) {
		if (resolver_check(w->r, "root@localhost") != RESOLVE_LOCAL_OK)
			w->failures++;
		if (resolver_expand(w->r, "team@example.org", &l, &err) !=
		        RESOLVE_LOCAL_OK ||
		    l.n != 4)
			w->failures++;
		resolve_list_free(&l);
	}
	buf_free(&err);
	return NULL;
}

static void
test_resolve_threads_share_one_resolver(void **state)
{
	struct fixture *f = *state;
	struct worker w[4];
	pthread_t t[4];
	size_t i;

	for (i = 0; i < 4; i++) {
		w[i].r = f->r;
		w[i].failures = 0;
		assert_int_equal(
		    pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(w[i].failures, 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(n) cmocka_unit_test_setup_teardown(n, setup, teardown)
		T(test_resolve_domain_status),
		T(test_resolve_check_table),
		T(test_resolve_expand_table),
		T(test_resolve_expand_appends_to_list),
		T(test_resolve_expansion_limit_boundaries),
		T(test_resolve_postmaster_recipient),
		T(test_resolve_delimiter_off),
		T(test_resolve_broken_aliases_file_is_tempfail),
		T(test_resolve_missing_aliases_file_is_fine),
		T(test_resolve_unsupported_map_type_fails),
		T(test_resolve_threads_share_one_resolver),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
