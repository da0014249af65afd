/*
 * Unit tests of the configuration's values: every type's parsing and
 * bounds, the checks beyond the type, the exact error lines, unknown names
 * and their suggestions, the parameter table and its defaults, the docs,
 * and loading from a file. The text layers are in test_conf.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

// clang-format off
#include <cmocka.h> /* after setjmp.h, stdarg.h and stddef.h */
// clang-format on

#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/conf_parse.h"
#include "lib/fs.h"
#include "lib/xalloc.h"

#include "conf_test.h"

/* ---- types and bounds ---- */

struct value_row {
	const char *text;
	size_t offset;
	uint64_t want;   /* for numbers and booleans */
	const char *err; /* NULL: accepted */
};

#define F(f) offsetof(struct conf, f)

// clang-format off
static const struct value_row value_rows[] = {
	/* CONF_UINT 1..100000 */
	{ "smtpd_recipient_limit = 0", F(smtpd_recipient_limit), 0, LABEL ":1: smtpd_recipient_limit: 0 is out of range (1..100000)" },
	{ "smtpd_recipient_limit = 1", F(smtpd_recipient_limit), 1, NULL },
	{ "smtpd_recipient_limit = 2", F(smtpd_recipient_limit), 2, NULL },
	{ "smtpd_recipient_limit = 99999", F(smtpd_recipient_limit), 99999, NULL },
	{ "smtpd_recipient_limit = 100000", F(smtpd_recipient_limit), 100000, NULL },
	{ "smtpd_recipient_limit = 100001", F(smtpd_recipient_limit), 0, LABEL ":1: smtpd_recipient_limit: 100001 is out of range (1..100000)" },
	{ "smtpd_recipient_limit = 99999999999999999999999", F(smtpd_recipient_limit), 0, LABEL ":1: smtpd_recipient_limit: 99999999999999999999999 is out of range (1..100000)" },
	{ "smtpd_recipient_limit = 10k", F(smtpd_recipient_limit), 0, LABEL ":1: smtpd_recipient_limit: \"10k\" is not a number (1..100000)" },
	{ "smtpd_recipient_limit = -1", F(smtpd_recipient_limit), 0, LABEL ":1: smtpd_recipient_limit: \"-1\" is not a number (1..100000)" },
	{ "smtpd_recipient_limit =", F(smtpd_recipient_limit), 0, LABEL ":1: smtpd_recipient_limit: \"\" is not a number (1..100000)" },
	{ "smtpd_client_connection_count_limit = 0", F(smtpd_client_connection_count_limit), 0, NULL },
	{ "smtpd_processes = 63", F(smtpd_processes), 63, NULL },
	{ "smtpd_processes = 64", F(smtpd_processes), 64, NULL },
	{ "smtpd_processes = 65", F(smtpd_processes), 0, LABEL ":1: smtpd_processes: 65 is out of range (1..64)" },
	/* CONF_SIZE 1024..4G and 512..65536 */
	{ "message_size_limit = 1023", F(message_size_limit), 0, LABEL ":1: message_size_limit: 1023 is out of range (1024..4294967296)" },
	{ "message_size_limit = 1024", F(message_size_limit), 1024, NULL },
	{ "message_size_limit = 4294967295", F(message_size_limit), 4294967295ULL, NULL },
	{ "message_size_limit = 4294967296", F(message_size_limit), 4294967296ULL, NULL },
	{ "message_size_limit = 4294967297", F(message_size_limit), 0, LABEL ":1: message_size_limit: 4294967297 is out of range (1024..4294967296)" },
	{ "message_size_limit = 10M", F(message_size_limit), 0, LABEL ":1: message_size_limit: \"10M\" is not a number of bytes (1024..4294967296)" },
	{ "smtpd_line_limit = 511", F(smtpd_line_limit), 0, LABEL ":1: smtpd_line_limit: 511 is out of range (512..65536)" },
	{ "smtpd_line_limit = 512", F(smtpd_line_limit), 512, NULL },
	{ "smtpd_line_limit = 65535", F(smtpd_line_limit), 65535, NULL },
	{ "smtpd_line_limit = 65536", F(smtpd_line_limit), 65536, NULL },
	{ "smtpd_line_limit = 65537", F(smtpd_line_limit), 0, LABEL ":1: smtpd_line_limit: 65537 is out of range (512..65536)" },
	/* CONF_TIME 1s..1h */
	{ "smtpd_timeout = 0", F(smtpd_timeout), 0, LABEL ":1: smtpd_timeout: 0 is out of range (1s..1h)" },
	{ "smtpd_timeout = 1", F(smtpd_timeout), 1, NULL },
	{ "smtpd_timeout = 300", F(smtpd_timeout), 300, NULL },
	{ "smtpd_timeout = 300s", F(smtpd_timeout), 300, NULL },
	{ "smtpd_timeout = 5m", F(smtpd_timeout), 300, NULL },
	{ "smtpd_timeout = 3599", F(smtpd_timeout), 3599, NULL },
	{ "smtpd_timeout = 1h", F(smtpd_timeout), 3600, NULL },
	{ "smtpd_timeout = 3601s", F(smtpd_timeout), 0, LABEL ":1: smtpd_timeout: 3601s is out of range (1s..1h)" },
	{ "smtpd_timeout = 61m", F(smtpd_timeout), 0, LABEL ":1: smtpd_timeout: 61m is out of range (1s..1h)" },
	{ "smtpd_timeout = 5x", F(smtpd_timeout), 0, LABEL ":1: smtpd_timeout: \"5x\" is not a time like 300s, 5m, 1h, 5d or 1w (1s..1h)" },
	{ "smtpd_timeout = m", F(smtpd_timeout), 0, LABEL ":1: smtpd_timeout: \"m\" is not a time like 300s, 5m, 1h, 5d or 1w (1s..1h)" },
	{ "maximal_queue_lifetime = 0", F(maximal_queue_lifetime), 0, NULL },
	{ "maximal_queue_lifetime = 2w", F(maximal_queue_lifetime), 1209600, NULL },
	{ "maximal_queue_lifetime = 100d", F(maximal_queue_lifetime), 8640000, NULL },
	{ "maximal_queue_lifetime = 8640001", F(maximal_queue_lifetime), 0, LABEL ":1: maximal_queue_lifetime: 8640001 is out of range (0s..100d)" },
	/* CONF_BOOL */
	{ "smtpd_reject_bare_newline = yes", F(smtpd_reject_bare_newline), 1, NULL },
	{ "smtpd_reject_bare_newline = no", F(smtpd_reject_bare_newline), 0, NULL },
	{ "smtpd_reject_bare_newline = maybe", F(smtpd_reject_bare_newline), 0, LABEL ":1: smtpd_reject_bare_newline: \"maybe\" is not yes or no" },
	/* values through $name are checked where they are used */
	{ "n = 10k\nsmtpd_recipient_limit = $n", F(smtpd_recipient_limit), 0, LABEL ":2: smtpd_recipient_limit: \"10k\" is not a number (1..100000)" },
	{ "n = 77\nsmtpd_recipient_limit = ${n}", F(smtpd_recipient_limit), 77, NULL },
};
// clang-format on

static void
test_conf_types_and_bounds(void **state)
{
	struct buf text;
	size_t i;

	buf_init(&text, 4096);
	for (i = 0; i < MW_NELEM(value_rows); i++) {
		const struct value_row *r = &value_rows[i];
		struct buf err, warn;
		struct conf *c;
		uint64_t got;

		buf_reset(&text);
		assert_int_equal(buf_printf(&text, "%s\n", r->text), 0);
		c = load(buf_cstr(&text), &err, &warn);
		if (r->err != NULL) {
			if (c != NULL)
				fail_msg("\"%s\" accepted", r->text);
			if (strcmp(buf_cstr(&err), r->err) != 0)
				fail_msg("\"%s\": got \"%s\"", r->text,
				    buf_cstr(&err));
		} else {
			if (c == NULL)
				fail_msg("\"%s\": %s", r->text, buf_cstr(&err));
			if (r->offset == F(smtpd_reject_bare_newline))
				got = *(bool *)((char *)c + r->offset);
			else
				got = *(uint64_t *)((char *)c + r->offset);
			if (got != r->want)
				fail_msg("\"%s\": got %llu", r->text,
				    (unsigned long long)got);
		}
		conf_free(&c);
		buf_free(&err);
		buf_free(&warn);
	}
	buf_free(&text);
}

static void
test_conf_bad_value_error_names_line_of_definition(void **state)
{
	char *e;

	e = load_error("# mailwright.cf\n\n"
	               "myhostname = mx.example.org\n"
	               "mydestination = $myhostname,\n"
	               "    localhost\n"
	               "\n#\n#\n#\n#\n#\n#\n"
	               "smtpd_recipient_limit = 100\n"
	               "smtpd_recipient_limit = 10k\n"
	               "smtpd_timeout = 5m\n");
	assert_string_equal(e,
	    LABEL
	    ":14: smtpd_recipient_limit: \"10k\" is not a number (1..100000)");
	free(e);
}

struct check_row {
	const char *text;
	const char *err;
};

// clang-format off
static const struct check_row check_rows[] = {
	{ "myhostname = a..b", LABEL ":1: myhostname: \"a..b\" is not a host name" },
	{ "myhostname =", LABEL ":1: myhostname: \"\" is not a host name" },
	{ "myhostname = a b", LABEL ":1: myhostname: \"a b\" is not a host name" },
	{ "myorigin = .example", LABEL ":1: myorigin: \".example\" is not a host name" },
	{ "mail_name =", LABEL ":1: mail_name: must not be empty" },
	{ "inet_protocols = ipv5", LABEL ":1: inet_protocols: \"ipv5\" is not all, ipv4 or ipv6" },
	{ "inet_protocols =", LABEL ":1: inet_protocols: \"\" is not all, ipv4 or ipv6" },
	{ "mail_special_use_folders = Sent=\\Sant", LABEL ":1: mail_special_use_folders: \"\\Sant\": unknown special-use attribute (RFC 6154: \\All \\Archive \\Drafts \\Flagged \\Junk \\Sent \\Trash)" },
	{ "mail_special_use_folders = a.b=\\Sent", LABEL ":1: mail_special_use_folders: \"a.b\": bad folder name: \".\" cannot be part of a name in Maildir++ (it separates levels on disk)" },
	{ "queue_directory = spool", LABEL ":1: queue_directory: \"spool\" is not an absolute path" },
	{ "mail_directory =", LABEL ":1: mail_directory: must not be empty" },
	{ "maillog_file = log", LABEL ":1: maillog_file: \"log\" is not an absolute path" },
	{ "mail_owner = a:b", LABEL ":1: mail_owner: \"a:b\" is not a user name" },
	{ "smtpd_listen = 127.0.0.1", LABEL ":1: smtpd_listen: \"127.0.0.1\" is not address:port (like 127.0.0.1:25, [::1]:25 or *:25)" },
	{ "smtpd_listen = 127.0.0.1:25, ::1:25", LABEL ":1: smtpd_listen: \"::1:25\" is not address:port (like 127.0.0.1:25, [::1]:25 or *:25)" },
	{ "imap_listen = [::1]:0", LABEL ":1: imap_listen: \"[::1]:0\" is not address:port (like 127.0.0.1:25, [::1]:25 or *:25)" },
	{ "pop3_listen = :110", LABEL ":1: pop3_listen: \":110\" is not address:port (like 127.0.0.1:25, [::1]:25 or *:25)" },
	{ "smtps_listen = a:65536", LABEL ":1: smtps_listen: \"a:65536\" is not address:port (like 127.0.0.1:25, [::1]:25 or *:25)" },
};
// clang-format on

static void
test_conf_checks_beyond_type(void **state)
{
	struct buf text;
	size_t i;

	buf_init(&text, 4096);
	for (i = 0; i < MW_NELEM(check_rows); i++) {
		char *e;

		buf_reset(&text);
		assert_int_equal(
		    buf_printf(&text, "%s\n", check_rows[i].text), 0);
		e = load_error(buf_cstr(&text));
		if (strcmp(e, check_rows[i].err) != 0)
			fail_msg("\"%s\": got \"%s\"", check_rows[i].text, e);
		free(e);
	}
	buf_free(&text);
}

static void
test_conf_accepted_special_values(void **state)
{
	struct conf *c;

	c = load_ok(
	    "inet_protocols = ipv6, ipv4\n"
	    "smtpd_listen = 127.0.0.1:2525 [::1]:2525 *:25 localhost:65535\n"
	    "smtpd_tls_cert_file = /etc/ssl/c.pem\n"
	    "maillog_file =\n"
	    "myhostname = Mx-1.example_host.org\n");
	assert_string_equal(c->inet_protocols, "all");
	assert_int_equal(c->smtpd_listen.n, 4);
	assert_string_equal(c->smtpd_tls_cert_file, "/etc/ssl/c.pem");
	assert_string_equal(c->mydomain, "example_host.org");
	conf_free(&c);
	c = load_ok("inet_protocols = IPv4\n");
	assert_string_equal(c->inet_protocols, "ipv4");
	conf_free(&c);
}

/* ---- unknown names ---- */

static void
test_conf_unknown_name_warns_with_suggestion(void **state)
{
	struct buf err, warn;
	struct conf *c;

	c = load("a_user_param = 10.0.0.0/8\n"
	         "mynetworks = $a_user_param\n"
	         "smtpd_recipent_limit = 5\n"
	         "smtpd_recipent_limit = 6\n"
	         "completely_unrelated = 1\n"
	         "MyHostname = x.example\n",
	    &err, &warn);
	assert_non_null(c);
	assert_string_equal(buf_cstr(&warn),
	    LABEL
	    ":4: unknown parameter \"smtpd_recipent_limit\" (did you mean \"smtpd_recipient_limit\"?)\n" LABEL
	    ":5: unknown parameter \"completely_unrelated\"\n" LABEL
	    ":6: unknown parameter \"MyHostname\" (did you mean \"myhostname\"?)\n");
	assert_int_equal(c->smtpd_recipient_limit, 1000);
	assert_string_equal(c->mynetworks.items[0], "10.0.0.0/8");
	conf_free(&c);
	buf_free(&err);
	buf_free(&warn);
}

struct nearest_row {
	const char *name;
	const char *want;
};

// clang-format off
static const struct nearest_row nearest_rows[] = {
	{ "myhostname", "myhostname" },
	{ "myhostnam", "myhostname" },
	{ "mydomian", "mydomain" },
	{ "smtpd_recipent_limit", "smtpd_recipient_limit" },
	{ "SMTPD_TIMEOUT", "smtpd_timeout" },
	{ "message_size_limt", "message_size_limit" },
	{ "x", NULL },
	{ "relay_domain", "relay_domains" },
	{ "virtual_alias_maps", NULL },
	{ "", NULL },
};
// clang-format on

static void
test_conf_param_nearest(void **state)
{
	size_t i;

	for (i = 0; i < MW_NELEM(nearest_rows); i++) {
		const char *got = conf_param_nearest(nearest_rows[i].name);

		if (nearest_rows[i].want == NULL)
			assert_null(got);
		else
			assert_string_equal(got, nearest_rows[i].want);
	}
	assert_non_null(conf_param_find("smtpd_timeout"));
	assert_null(conf_param_find("SMTPD_TIMEOUT"));
}

/* ---- the table and the defaults ---- */

static size_t
field_size(enum conf_type t)
{
	switch (t) {
	case CONF_STRING:
		return sizeof(char *);
	case CONF_LIST:
		return sizeof(struct conf_list);
	case CONF_BOOL:
		return sizeof(bool);
	default:
		return sizeof(uint64_t);
	}
}

static int
cmp_offset(const void *a, const void *b)
{
	const struct conf_param *const *x = a, *const *y = b;

	return (*x)->offset < (*y)->offset ? -1 : (*x)->offset > (*y)->offset;
}

/* Every field of struct conf has exactly one row: no gaps, no overlaps. */
static void
test_conf_table_covers_struct(void **state)
{
	const struct conf_param *rows[256], *p;
	size_t n = 0, i,
	       end = offsetof(struct conf, config_file) + sizeof(char *);

	for (p = conf_params; p->name != NULL; p++) {
		assert_true(n < MW_NELEM(rows));
		rows[n++] = p;
		assert_non_null(p->help);
		assert_true(strlen(p->help) > 10);
		assert_true(p->min <= p->max);
		assert_ptr_equal(conf_param_find(p->name), p);
	}
	qsort(rows, n, sizeof(rows[0]), cmp_offset);
	for (i = 0; i < n; i++) {
		/* only alignment padding between fields */
		assert_true(rows[i]->offset >= end);
		assert_true(rows[i]->offset - end < 8);
		end = rows[i]->offset + field_size(rows[i]->type);
	}
	assert_true(sizeof(struct conf) - end < 8);
}

static void
test_conf_defaults_values(void **state)
{
	static const char *const listen[] = { "0.0.0.0:25" };
	struct conf *c = conf_defaults();
	const struct conf_param *p;
	const char *dot;
	char want[600];

	dot = strchr(c->myhostname, '.');
	assert_non_null(dot);
	assert_string_equal(c->mydomain, dot + 1);
	assert_string_equal(c->myorigin, c->myhostname);
	assert_string_equal(c->mail_name, "mailwright");
	assert_int_equal(c->mydestination.n, 3);
	assert_string_equal(c->mydestination.items[0], c->myhostname);
	(void)snprintf(want, sizeof(want), "localhost.%s", c->mydomain);
	assert_string_equal(c->mydestination.items[1], want);
	assert_string_equal(c->mydestination.items[2], "localhost");
	assert_int_equal(c->mynetworks.n, 0);
	assert_string_equal(c->inet_protocols, "all");
	assert_string_equal(c->queue_directory, "/var/spool/mailwright");
	assert_string_equal(c->mail_directory, "/var/mail/mailwright");
	assert_string_equal(
	    c->accounts_database, "/var/lib/mailwright/accounts.db");
	assert_string_equal(
	    c->alias_database.items[0], "hash:/etc/mailwright/aliases");
	assert_list(&c->smtpd_listen, listen, 1);
	assert_string_equal(c->pop3s_listen.items[0], "0.0.0.0:995");
	(void)snprintf(
	    want, sizeof(want), "%s ESMTP mailwright", c->myhostname);
	assert_string_equal(c->smtpd_banner, want);
	assert_string_equal(c->recipient_delimiter, "+");
	assert_int_equal(c->message_size_limit, 10240000);
	assert_int_equal(c->smtpd_timeout, 300);
	assert_int_equal(c->smtpd_line_limit, 2048);
	assert_false(c->smtpd_reject_bare_newline);
	assert_int_equal(c->maximal_backoff_time, 4000);
	assert_int_equal(c->maximal_queue_lifetime, 5 * 86400);
	assert_string_equal(c->config_file, "");
	conf_free(&c);
	assert_null(c);
	conf_free(&c); /* NULL is fine */
	p = conf_param_find("myhostname");
	assert_string_equal(
	    conf_param_default_doc(p), "(the system's host name)");
}

static void
test_conf_time_str_and_docs(void **state)
{
	char s[32];
	struct buf out;

	conf_time_str(300, s, sizeof(s));
	assert_string_equal(s, "5m");
	conf_time_str(4000, s, sizeof(s));
	assert_string_equal(s, "4000s");
	conf_time_str(0, s, sizeof(s));
	assert_string_equal(s, "0s");
	conf_time_str(8640000, s, sizeof(s));
	assert_string_equal(s, "100d");
	conf_time_str(1209600, s, sizeof(s));
	assert_string_equal(s, "2w");
	buf_init(&out, 1 << 20);
	assert_int_equal(conf_docs_markdown(&out), 0);
	assert_non_null(strstr(
	    buf_cstr(&out), "| `smtpd_timeout` | time | `300s` | 1s..1h |"));
	assert_non_null(
	    strstr(buf_cstr(&out), "| `mynetworks` | list | (empty) | |"));
	buf_free(&out);
}

/* ---- loading a file ---- */

static void
test_conf_load_file_and_errors(void **state)
{
	char dir[] = "/tmp/test_conf.XXXXXX", *path, *missing, *cwd;
	struct buf err;
	struct conf *c;

	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/mailwright.cf", dir);
	missing = xasprintf("%s/nope.cf", dir);
	assert_int_equal(fs_atomic_write(path, "mail_name = x\n", 14, 0640), 0);
	buf_init(&err, 4096);
	cwd = getcwd(NULL, 0);
	assert_int_equal(chdir(dir), 0);
	c = conf_load("mailwright.cf", &err);
	assert_int_equal(chdir(cwd), 0);
	assert_non_null(c);
	assert_string_equal(c->mail_name, "x");
	assert_non_null(strstr(c->config_file, "/mailwright.cf"));
	assert_true(c->config_file[0] == '/');
	conf_free(&c);

	assert_null(conf_load(missing, &err));
	assert_int_equal(errno, ENOENT);
	assert_true(strncmp(buf_cstr(&err), "cannot read ", 12) == 0);
	assert_non_null(strstr(buf_cstr(&err),
	    ": No such file or directory (create one with \"mailwright init DIR\" or pass -c FILE)"));

	assert_int_equal(setenv("MAILWRIGHT_CONFIG", path, 1), 0);
	assert_string_equal(conf_default_path(), path);
	assert_int_equal(unsetenv("MAILWRIGHT_CONFIG"), 0);
	assert_string_equal(
	    conf_default_path(), "/etc/mailwright/mailwright.cf");

	(void)fs_rm_rf(dir);
	buf_free(&err);
	free(path);
	free(missing);
	free(cwd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf_types_and_bounds),
		cmocka_unit_test(
		    test_conf_bad_value_error_names_line_of_definition),
		cmocka_unit_test(test_conf_checks_beyond_type),
		cmocka_unit_test(test_conf_accepted_special_values),
		cmocka_unit_test(test_conf_unknown_name_warns_with_suggestion),
		cmocka_unit_test(test_conf_param_nearest),
		cmocka_unit_test(test_conf_table_covers_struct),
		cmocka_unit_test(test_conf_defaults_values),
		cmocka_unit_test(test_conf_time_str_and_docs),
		cmocka_unit_test(test_conf_load_file_and_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
