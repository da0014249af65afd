/*
 * Unit tests of lib/net: listener specification parsing (numeric forms
 * only, so that no test depends on the resolver), binding, and the error
 * lines the master prints.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
/* cmocka.h needs setjmp.h, stdarg.h and stddef.h first. */
// clang-format off
#include <cmocka.h>
// clang-format on

#include "lib/buf.h"
#include "lib/net.h"

struct parse_case {
	const char *label;
	const char *spec;
	int ok;           /* 1: parses */
	int family;       /* when ok */
	const char *addr; /* when ok, as net_addr_str prints it */
	unsigned port;    /* when ok */
	const char *why;  /* when not ok: a piece of the error */
};

// clang-format off
static const struct parse_case parse_cases[] = {
	{ "ipv4",              "127.0.0.1:2525",  1, AF_INET,  "127.0.0.1", 2525, NULL },
	{ "ipv4 any star",     "*:25",            1, AF_INET,  "0.0.0.0",   25,   NULL },
	{ "ipv4 any zeros",    "0.0.0.0:25",      1, AF_INET,  "0.0.0.0",   25,   NULL },
	{ "ipv6 loopback",     "[::1]:587",       1, AF_INET6, "::1",       587,  NULL },
	{ "ipv6 any",          "[::]:465",        1, AF_INET6, "::",        465,  NULL },
	{ "port min",          "127.0.0.1:1",     1, AF_INET,  "127.0.0.1", 1,    NULL },
	{ "port max-1",        "127.0.0.1:65534", 1, AF_INET,  "127.0.0.1", 65534, NULL },
	{ "port max",          "127.0.0.1:65535", 1, AF_INET,  "127.0.0.1", 65535, NULL },
	{ "port max+1",        "127.0.0.1:65536", 0, 0, NULL, 0, "1..65535" },
	{ "port zero",         "127.0.0.1:0",     0, 0, NULL, 0, "1..65535" },
	{ "port empty",        "127.0.0.1:",      0, 0, NULL, 0, "1..65535" },
	{ "port name",         "127.0.0.1:smtp",  0, 0, NULL, 0, "1..65535" },
	{ "port signed",       "127.0.0.1:+25",   0, 0, NULL, 0, "1..65535" },
	{ "port trailing",     "127.0.0.1:25 ",   0, 0, NULL, 0, "1..65535" },
	{ "no port",           "127.0.0.1",       0, 0, NULL, 0, "host:port" },
	{ "empty",             "",                0, 0, NULL, 0, "empty" },
	{ "no host",           ":25",             0, 0, NULL, 0, "missing host" },
	{ "empty brackets",    "[]:25",           0, 0, NULL, 0, "missing host" },
	{ "v6 unbracketed",    "::1:25",          0, 0, NULL, 0, "brackets" },
	{ "v6 no close",       "[::1:25",         0, 0, NULL, 0, "\"]\"" },
	{ "v6 no port",        "[::1]",           0, 0, NULL, 0, ":port" },
	{ "v6 junk after",     "[::1]x:25",       0, 0, NULL, 0, ":port" },
	{ "v4 in brackets",    "[127.0.0.1]:25",  0, 0, NULL, 0, "not an IPv6" },
	{ "space in host",     "127.0.0 .1:25",   0, 0, NULL, 0, "white space" },
	{ "control in host",   "127.0.0\x01.1:25", 0, 0, NULL, 0, "control" },
};
// clang-format on

static void
test_net_parse_table(void **state)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct buf err;
	char addr[64];
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];

		buf_init(&err, 1024);
		errno = 0;
		r = net_parse_hostport(c->spec, &ss, &len, &err);
		if (c->ok) {
			if (r != 0)
				fail_msg("%s: %s", c->label, buf_cstr(&err));
			assert_int_equal(ss.ss_family, c->family);
			net_addr_str(
			    (struct sockaddr *)&ss, addr, sizeof(addr));
			assert_string_equal(addr, c->addr);
			assert_int_equal(
			    net_addr_port((struct sockaddr *)&ss), c->port);
		} else {
			if (r != -1)
				fail_msg("%s: parsed", c->label);
			assert_int_equal(errno, EINVAL);
			if (strstr(buf_cstr(&err), c->why) == NULL)
				fail_msg("%s: \"%s\" lacks \"%s\"", c->label,
				    buf_cstr(&err), c->why);
			/* One line, starting with the spec. */
			assert_null(strchr(buf_cstr(&err), '\n'));
			if (c->spec[0] != '\0' && strchr(c->spec, 1) == NULL)
				assert_memory_equal(
				    buf_cstr(&err), c->spec, strlen(c->spec));
		}
		buf_free(&err);
	}
}

/* Builds "[" + n x 'a' + "]:25" and parses it (numeric: no resolver). */
static void
parse_long_host(size_t n, struct buf *err)
{
	char spec[NI_MAXHOST + 16];
	struct sockaddr_storage ss;
	socklen_t len;

	assert_true(n + 6 <= sizeof(spec));
	spec[0] = '[';
	memset(spec + 1, 'a', n);
	memcpy(spec + 1 + n, "]:25", 5);
	assert_int_equal(net_parse_hostport(spec, &ss, &len, err), -1);
}

static void
test_net_parse_host_length_limit(void **state)
{
	/* The host buffer holds NI_MAXHOST - 1 bytes and a NUL. */
	static const struct {
		size_t n;
		const char *why;
	} rows[] = {
		{ NI_MAXHOST - 2, "not an IPv6 address" },
		{ NI_MAXHOST - 1, "not an IPv6 address" },
		{ NI_MAXHOST, "too long" },
	};
	struct buf err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		buf_init(&err, 4096);
		parse_long_host(rows[i].n, &err);
		if (strstr(buf_cstr(&err), rows[i].why) == NULL)
			fail_msg("%zu: \"%.40s...\" lacks \"%s\"", rows[i].n,
			    buf_cstr(&err), rows[i].why);
		buf_free(&err);
	}
}

/* A port nobody listens on right now. */
static unsigned
free_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	return ntohs(sin.sin_port);
}

static void
test_net_listen_flags_and_accepts(void **state)
{
	struct sockaddr_in sin;
	char spec[64];
	struct buf err;
	unsigned port = free_port();
	int fd, c, on = 0;
	socklen_t len = sizeof(on);

	(void)state;
	(void)snprintf(spec, sizeof(spec), "127.0.0.1:%u", port);
	buf_init(&err, 1024);
	assert_int_equal(net_listen(spec, 16, &fd, &err), 0);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(
	    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len), 0);
	assert_int_equal(on, 1);
	assert_int_equal(
	    getsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, &len), 0);
	assert_int_equal(on, 1);

	c = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(c, (struct sockaddr *)&sin, sizeof(sin)), 0);
	close(c);
	close(fd);
	buf_free(&err);
}

static void
test_net_listen_in_use_is_one_line_error(void **state)
{
	char spec[64], want[128];
	struct buf err;
	unsigned port = free_port();
	int fd, fd2;

	(void)state;
	(void)snprintf(spec, sizeof(spec), "127.0.0.1:%u", port);
	buf_init(&err, 1024);
	assert_int_equal(net_listen(spec, 16, &fd, &err), 0);
	assert_int_equal(net_listen(spec, 16, &fd2, &err), -1);
	assert_int_equal(errno, EADDRINUSE);
	assert_int_equal(fd2, -1);
	(void)snprintf(want, sizeof(want),
	    "127.0.0.1:%u: cannot bind: Address already in use", port);
	assert_string_equal(buf_cstr(&err), want);
	close(fd);
	buf_free(&err);
}

static void
test_net_listen_v6_is_v6only(void **state)
{
	char spec[64];
	struct buf err;
	int fd, on = 0;
	socklen_t len = sizeof(on);

	(void)state;
	(void)snprintf(spec, sizeof(spec), "[::1]:%u", free_port());
	buf_init(&err, 1024);
	if (net_listen(spec, 16, &fd, &err) == -1) {
		/* No IPv6 on this host: nothing to check. */
		buf_free(&err);
		skip();
	}
	assert_int_equal(
	    getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, &len), 0);
	assert_int_equal(on, 1);
	close(fd);
	buf_free(&err);
}

static void
test_net_listen_localhost_binds_loopback(void **state)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char spec[64], addr[64];
	struct buf err;
	unsigned port = free_port();
	int fd;

	(void)state;
	(void)snprintf(spec, sizeof(spec), "localhost:%u", port);
	buf_init(&err, 1024);
	if (net_listen(spec, 16, &fd, &err) == -1)
		fail_msg("%s", buf_cstr(&err));
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	net_addr_str((struct sockaddr *)&ss, addr, sizeof(addr));
	assert_true(strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0);
	assert_int_equal(net_addr_port((struct sockaddr *)&ss), port);
	close(fd);
	buf_free(&err);
}

static void
test_net_listen_bad_spec_keeps_syntax_error(void **state)
{
	struct buf err;
	int fd = 7;

	(void)state;
	buf_init(&err, 1024);
	assert_int_equal(net_listen("127.0.0.1:99999", 16, &fd, &err), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(fd, -1);
	assert_string_equal(buf_cstr(&err),
	    "127.0.0.1:99999: the port must be a number 1..65535");
	buf_free(&err);
}

static void
test_net_addr_str_v4_mapped_prints_v4(void **state)
{
	struct sockaddr_in6 sin6;
	char out[64];

	(void)state;
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(25);
	assert_int_equal(
	    inet_pton(AF_INET6, "::ffff:192.0.2.7", &sin6.sin6_addr), 1);
	net_addr_str((struct sockaddr *)&sin6, out, sizeof(out));
	assert_string_equal(out, "192.0.2.7");
	assert_int_equal(net_addr_port((struct sockaddr *)&sin6), 25);
}

static void
test_net_listener_kind_names(void **state)
{
	(void)state;
	assert_string_equal(listener_kind_param(LISTENER_SMTP), "smtpd_listen");
	assert_string_equal(
	    listener_kind_param(LISTENER_POP3S), "pop3s_listen");
	assert_string_equal(
	    listener_kind_name(LISTENER_SUBMISSION), "submission");
	assert_string_equal(listener_kind_name(LISTENER_IMAPS), "imaps");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_net_parse_table),
		cmocka_unit_test(test_net_parse_host_length_limit),
		cmocka_unit_test(test_net_listen_flags_and_accepts),
		cmocka_unit_test(test_net_listen_in_use_is_one_line_error),
		cmocka_unit_test(test_net_listen_v6_is_v6only),
		cmocka_unit_test(test_net_listen_localhost_binds_loopback),
		cmocka_unit_test(test_net_listen_bad_spec_keeps_syntax_error),
		cmocka_unit_test(test_net_addr_str_v4_mapped_prints_v4),
		cmocka_unit_test(test_net_listener_kind_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
