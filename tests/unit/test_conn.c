/* Unit tests of src/lib/conn.c that need no TLS peer: the session id, the
 * monotonic clock and the bounded drain before close (over loopback TCP,
 * since MSG_TRUNC discarding is a tcp(7) feature). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
/* cmocka.h needs the headers above first */
// clang-format off
#include <cmocka.h>
// clang-format on

#include "lib/conn.h"

static void
test_conn_session_id_is_12_base64_chars(void **state)
{
	char a[20], b[20];
	size_t i;

	(void)state;
	memset(a, 'x', sizeof(a));
	conn_session_id(a, sizeof(a));
	conn_session_id(b, sizeof(b));
	assert_int_equal(strlen(a), 12);
	assert_int_equal(strlen(b), 12);
	for (i = 0; i < 12; i++)
		assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		                       "abcdefghijklmnopqrstuvwxyz0123456789+/",
		    a[i]));
	/* 72 random bits: two in a row are never the same */
	assert_string_not_equal(a, b);
}

static void
test_conn_now_sec_does_not_go_back(void **state)
{
	uint64_t t0 = conn_now_sec(), t1 = conn_now_sec();

	(void)state;
	assert_true(t1 >= t0);
}

/* A connected loopback pair: *rd reads what *wr writes. */
static void
tcp_pair(int *rd, int *wr)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int l;

	l = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(l >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(l, 1), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&sin, &len), 0);
	*wr = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(*wr >= 0);
	assert_int_equal(connect(*wr, (struct sockaddr *)&sin, sizeof(sin)), 0);
	*rd = accept(l, NULL, NULL);
	assert_true(*rd >= 0);
	(void)close(l);
}

/* Sends n bytes on wr and waits until rd has all of them queued. */
static void
send_and_wait(int rd, int wr, size_t n)
{
	char data[4096], peek[4096];
	struct pollfd p = { .fd = rd, .events = POLLIN };
	int queued = 0, tries;

	assert_true(n <= sizeof(data));
	memset(data, 'a', n);
	assert_int_equal(send(wr, data, n, 0), (ssize_t)n);
	for (tries = 0; tries < 200 && (size_t)queued < n; tries++) {
		(void)poll(&p, 1, 10);
		queued =
		    (int)recv(rd, peek, sizeof(peek), MSG_PEEK | MSG_DONTWAIT);
	}
	assert_int_equal(queued, (int)n);
}

static size_t
recv_all(int fd)
{
	char buf[4096];
	ssize_t n;
	size_t total = 0;

	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		total += (size_t)n;
	return total;
}

static void
test_conn_drain_socket_stops_at_max(void **state)
{
	int rd, wr;

	(void)state;
	tcp_pair(&rd, &wr);
	send_and_wait(rd, wr, 1000);
	conn_drain_socket(rd, 300);
	assert_int_equal(recv_all(rd), 700);
	(void)close(rd);
	(void)close(wr);
}

static void
test_conn_drain_socket_takes_all_under_max(void **state)
{
	int rd, wr;

	(void)state;
	tcp_pair(&rd, &wr);
	send_and_wait(rd, wr, 1000);
	conn_drain_socket(rd, 256 * 1024);
	assert_int_equal(recv_all(rd), 0);
	/* nothing queued: returns at once (MSG_DONTWAIT) */
	conn_drain_socket(rd, 256 * 1024);
	(void)close(rd);
	(void)close(wr);
}

static void
test_conn_tls_ready_plain_is_ready(void **state)
{
	(void)state;
	assert_true(conn_tls_ready(NULL, false));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conn_session_id_is_12_base64_chars),
		cmocka_unit_test(test_conn_now_sec_does_not_go_back),
		cmocka_unit_test(test_conn_drain_socket_stops_at_max),
		cmocka_unit_test(test_conn_drain_socket_takes_all_under_max),
		cmocka_unit_test(test_conn_tls_ready_plain_is_ready),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
