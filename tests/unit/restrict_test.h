/*
 * What test_restrict.c and test_restrict_access.c share: a small world of
 * local domains, users and address owners behind the restrict_ctx
 * callbacks, and a table-driven runner that builds a list from a row,
 * evaluates it and renders the verdict as one string ("DUNNO", "PERMIT",
 * "REJECT 554 5.7.1 <x@y>: Relay access denied", " [disconnect]" at the
 * end when the reply closes the connection). Included by each test file
 * (static functions: each test is one executable).
 */
#ifndef TESTS_UNIT_RESTRICT_TEST_H
#define TESTS_UNIT_RESTRICT_TEST_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <strings.h>

#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "policy/restrict.h"

/* A row field set to NONE is NULL in the context (NULL: the default). */
static const char NONE[] = "<none>";

/* local.test and example.test are ours; tempfail.test cannot be looked
 * up. Known users (any case): user@, postmaster@, alice@, shared@ at
 * local.test, and a bare postmaster. */
static const char *const world_local_domains[] = { "local.test",
	"example.test" };
static const char *const world_users[] = { "user@local.test",
	"postmaster@local.test", "alice@local.test", "shared@local.test",
	"postmaster" };

struct world {
	char last_domain[256];  /* what is_local_domain was last asked */
	char last_address[256]; /* what is_listed_recipient was asked */
};

static enum restrict_answer
world_is_local_domain(void *arg, const char *domain)
{
	struct world *w = arg;
	size_t i;

	(void)snprintf(w->last_domain, sizeof(w->last_domain), "%s", domain);
	if (strcmp(domain, "tempfail.test") == 0)
		return RESTRICT_ANSWER_TEMPFAIL;
	for (i = 0; i < MW_NELEM(world_local_domains); i++)
		if (strcmp(domain, world_local_domains[i]) == 0)
			return RESTRICT_ANSWER_YES;
	return RESTRICT_ANSWER_NO;
}

static enum restrict_answer
world_is_listed(void *arg, const char *address)
{
	struct world *w = arg;
	size_t i;

	(void)snprintf(w->last_address, sizeof(w->last_address), "%s", address);
	if (strcasecmp(address, "temp@local.test") == 0)
		return RESTRICT_ANSWER_TEMPFAIL;
	for (i = 0; i < MW_NELEM(world_users); i++)
		if (strcasecmp(address, world_users[i]) == 0)
			return RESTRICT_ANSWER_YES;
	return RESTRICT_ANSWER_NO;
}

/* alice@local.test is alice's; shared@local.test is alice's and bob's. */
static enum restrict_answer
world_sender_owners(void *arg, const char *sender, struct buf *logins_out)
{
	(void)arg;
	if (strcasecmp(sender, "temp@local.test") == 0)
		return RESTRICT_ANSWER_TEMPFAIL;
	if (strcasecmp(sender, "alice@local.test") == 0)
		return buf_append_str(logins_out, "alice") == 0
		    ? RESTRICT_ANSWER_YES
		    : RESTRICT_ANSWER_TEMPFAIL;
	if (strcasecmp(sender, "shared@local.test") == 0)
		return buf_append_str(logins_out, "alice, bob") == 0
		    ? RESTRICT_ANSWER_YES
		    : RESTRICT_ANSWER_TEMPFAIL;
	return RESTRICT_ANSWER_NO;
}

/* DNS as world_mailhost sees it: nx.example and nohost.example do not
 * exist, nullmx.example has "MX 0 .", bad.example a malformed MX,
 * fail.example fails; any other name is found. */
static enum dns_mailhost
world_mailhost(void *arg, const char *domain, bool host)
{
	(void)arg;
	(void)host;
	if (strcmp(domain, "nx.example") == 0 ||
	    strcmp(domain, "nohost.example") == 0)
		return DNS_MAILHOST_NOTFOUND;
	if (strcmp(domain, "nullmx.example") == 0)
		return DNS_MAILHOST_NULLMX;
	if (strcmp(domain, "bad.example") == 0)
		return DNS_MAILHOST_INVALID;
	if (strcmp(domain, "fail.example") == 0)
		return DNS_MAILHOST_TEMPFAIL;
	if (strcmp(domain, "local.test") == 0 || domain[0] == '[')
		fail_msg("DNS asked about %s", domain);
	return DNS_MAILHOST_FOUND;
}

struct row {
	const char *label;
	const char *param; /* NULL: smtpd_recipient_restrictions */
	const char *items; /* "@D" stands for the test directory */
	const char *table; /* written to @D/t when not NULL */
	const char *client, *name, *helo, *sender, *rcpt, *sasl;
	int mynet;
	const char *want;
};

static const char *
row_field(const char *v, const char *def)
{
	const char *r = v != NULL ? v : def;

	return r == NONE ? NULL : r;
}

/* Replaces every "@D" in s by dir; malloc'd. */
static char *
subst_dir(const char *s, const char *dir)
{
	struct buf b;
	const char *p;

	buf_init(&b, 1 << 16);
	for (p = s; *p != '\0'; p++) {
		if (p[0] == '@' && p[1] == 'D') {
			assert_int_equal(buf_append_str(&b, dir), 0);
			p++;
		} else
			assert_int_equal(buf_append_char(&b, *p), 0);
	}
	if (b.data == NULL)
		assert_int_equal(buf_append_str(&b, ""), 0);
	return buf_steal(&b);
}

/* Splits s on commas and white space, as main.cf lists are. */
static void
make_list(const char *s, struct conf_list *out)
{
	const char *p = s;
	size_t k;

	out->items = xcalloc(strlen(s) + 1, sizeof(char *));
	out->n = 0;
	while (*(p += strspn(p, ", \t\n")) != '\0') {
		k = strcspn(p, ", \t\n");
		out->items[out->n++] = xstrndup(p, k);
		p += k;
	}
}

static void
free_list(struct conf_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
}

/* Builds a sockaddr from text ("192.0.2.10", "2001:db8::1"). */
static void
make_addr(const char *text, struct sockaddr_storage *ss)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, text, &s4->sin_addr) == 1)
		s4->sin_family = AF_INET;
	else {
		assert_int_equal(inet_pton(AF_INET6, text, &s6->sin6_addr), 1);
		s6->sin6_family = AF_INET6;
	}
}

/* The verdict as one string; malloc'd. */
static char *
render(enum restrict_verdict v, const struct restrict_reply *r)
{
	static const char *const names[] = { "DUNNO", "PERMIT", "REJECT",
		"DEFER" };

	if (v == RESTRICT_DUNNO || v == RESTRICT_PERMIT) {
		assert_int_equal(r->code, 0);
		assert_int_equal(r->text.len, 0);
		return xstrdup(names[v]);
	}
	return xasprintf("%s %d %s %s%s", names[v], r->code, r->enh,
	    buf_cstr(&r->text), r->disconnect ? " [disconnect]" : "");
}

/* Evaluates one row in dir with the optional login maps. */
static char *
run_row(const struct row *row, const char *dir,
    const struct restrict_login_maps *login_maps, struct world *w)
{
	struct sockaddr_storage ss;
	struct restrict_ctx ctx;
	struct restrict_reply reply;
	struct restrict_list *l;
	struct conf_list items;
	struct buf err;
	char *text, *path, *got;
	const char *client;

	if (row->table != NULL) {
		path = xasprintf("%s/t", dir);
		assert_int_equal(
		    fs_atomic_write(path, row->table, strlen(row->table), 0644),
		    0);
		free(path);
	}
	text = subst_dir(row->items, dir);
	make_list(text, &items);
	buf_init(&err, 4096);
	l = restrict_list_new(
	    row->param != NULL ? row->param : "smtpd_recipient_restrictions",
	    &items, &err);
	if (l == NULL)
		fail_msg("%s: %s", row->label, buf_cstr(&err));
	memset(&ctx, 0, sizeof(ctx));
	ctx.stage = RESTRICT_STAGE_RECIPIENT;
	client = row_field(row->client, "192.0.2.10");
	if (client != NULL) {
		make_addr(client, &ss);
		ctx.client_addr = (const struct sockaddr *)&ss;
	}
	ctx.client_name = row_field(row->name, "mx.client.example");
	ctx.helo = row_field(row->helo, "mx.client.example");
	ctx.sender = row_field(row->sender, "s@sender.example");
	ctx.recipient = row_field(row->rcpt, "user@local.test");
	ctx.sasl_username = row_field(row->sasl, NONE);
	ctx.in_mynetworks = row->mynet != 0;
	ctx.recipient_delimiter = "+";
	ctx.sender_login_maps = login_maps;
	ctx.is_local_domain = world_is_local_domain;
	ctx.is_listed_recipient = world_is_listed;
	ctx.sender_owners = world_sender_owners;
	ctx.mailhost = world_mailhost;
	ctx.arg = w;
	restrict_reply_init(&reply);
	restrict_reply_begin(&reply);
	got = render(restrict_reply_end(&reply,
	                 restrict_list_eval(l, &ctx, &reply)),
	    &reply);
	restrict_reply_free(&reply);
	restrict_list_free(&l);
	assert_null(l);
	free_list(&items);
	free(text);
	buf_free(&err);
	return got;
}

static void
run_rows(const struct row *rows, size_t n, const char *dir,
    const struct restrict_login_maps *login_maps)
{
	struct world w;
	size_t i;
	char *got, *want;

	for (i = 0; i < n; i++) {
		memset(&w, 0, sizeof(w));
		got = run_row(&rows[i], dir, login_maps, &w);
		want = subst_dir(rows[i].want, dir);
		if (strcmp(got, want) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", rows[i].label,
			    got, want);
		free(got);
		free(want);
	}
}

struct fixture {
	char dir[64];
};

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/test_restrict.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	(void)fs_rm_rf(f->dir);
	free(f);
	return 0;
}

#endif
