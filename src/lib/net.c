/*
 * Listening sockets (see net.h): parsing "host:port", "[v6]:port", "*:port"
 * and "name:port" specifications, and binding them for the master.
 *
 * Forms accepted:
 *   127.0.0.1:2525      an IPv4 address
 *   [::1]:2525          an IPv6 address, always in brackets
 *   *:25, 0.0.0.0:25    every IPv4 address ("[::]:25" for every IPv6 one:
 *                       IPv6 sockets are IPV6_V6ONLY, list both for both)
 *   localhost:25        a name, resolved with getaddrinfo() when bound
 * The port is a number 1..65535: no service names, no port 0.
 *
 * A name may resolve to several addresses (localhost is often 127.0.0.1
 * and ::1). net_listen() returns one socket, so it binds the first address
 * that works, in getaddrinfo()'s order; list the addresses one by one to
 * listen on all of them.
 */
#include "lib/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/parse.h"

// clang-format off
static const struct {
	const char *param;
	const char *name;
} listener_kinds[] = {
	[LISTENER_SMTP]       = { "smtpd_listen",      "smtp" },
	[LISTENER_SUBMISSION] = { "submission_listen", "submission" },
	[LISTENER_SMTPS]      = { "smtps_listen",      "smtps" },
	[LISTENER_IMAP]       = { "imap_listen",       "imap" },
	[LISTENER_IMAPS]      = { "imaps_listen",      "imaps" },
	[LISTENER_POP3]       = { "pop3_listen",       "pop3" },
	[LISTENER_POP3S]      = { "pop3s_listen",      "pop3s" },
};
// clang-format on

const char *
listener_kind_param(enum listener_kind kind)
{
	MW_ASSERT((size_t)kind < MW_NELEM(listener_kinds));
	return listener_kinds[kind].param;
}

const char *
listener_kind_name(enum listener_kind kind)
{
	MW_ASSERT((size_t)kind < MW_NELEM(listener_kinds));
	return listener_kinds[kind].name;
}

/* A specification taken apart, nothing resolved yet. */
struct net_spec {
	char host[NI_MAXHOST];
	char port[8];
	bool bracketed; /* "[...]:port": an IPv6 literal */
	bool any;       /* "*:port": every IPv4 address */
};

/*
 * Splits spec into host and port without resolving anything. 0, or -1
 * with the reason in *why.
 */
static int
net_spec_split(const char *spec, struct net_spec *ns, const char **why)
{
	const char *host, *colon, *end;
	uint64_t port;
	size_t hostlen, i;

	memset(ns, 0, sizeof(*ns));
	if (*spec == '\0') {
		*why = "empty address (expected host:port)";
		return -1;
	}
	if (*spec == '[') {
		host = spec + 1;
		end = strchr(host, ']');
		if (end == NULL) {
			*why = "missing \"]\" after the IPv6 address";
			return -1;
		}
		if (end[1] != ':') {
			*why = "expected \":port\" after \"]\"";
			return -1;
		}
		colon = end + 1;
		hostlen = (size_t)(end - host);
		ns->bracketed = true;
	} else {
		colon = strrchr(spec, ':');
		if (colon == NULL) {
			*why = "expected host:port";
			return -1;
		}
		host = spec;
		hostlen = (size_t)(colon - spec);
		if (memchr(host, ':', hostlen) != NULL) {
			*why = "an IPv6 address needs brackets, as in [::1]:25";
			return -1;
		}
	}
	if (hostlen == 0) {
		*why = "missing host (use *:port for every address)";
		return -1;
	}
	if (hostlen >= sizeof(ns->host)) {
		*why = "host name too long";
		return -1;
	}
	for (i = 0; i < hostlen; i++)
		if ((unsigned char)host[i] <= ' ' ||
		    (unsigned char)host[i] >= 0x7f) {
			*why = "white space or a control byte in the host";
			return -1;
		}
	memcpy(ns->host, host, hostlen);
	ns->host[hostlen] = '\0';
	if (parse_uint(colon + 1, 1, 65535, &port) == -1) {
		*why = "the port must be a number 1..65535";
		return -1;
	}
	(void)snprintf(ns->port, sizeof(ns->port), "%u", (unsigned)port);
	ns->any = !ns->bracketed && strcmp(ns->host, "*") == 0;
	return 0;
}

/*
 * Splits and resolves spec into a list of addresses to bind (the caller
 * frees *res_out with freeaddrinfo). 0, or -1 with "spec: reason" in err
 * and errno EINVAL (syntax) or EADDRNOTAVAIL (no address).
 */
static int
net_resolve(const char *spec, struct addrinfo **res_out, struct buf *err)
{
	struct addrinfo hints;
	struct net_spec ns;
	const char *why;
	int r;

	*res_out = NULL;
	if (net_spec_split(spec, &ns, &why) == -1) {
		(void)!buf_printf(err, "%s: %s", log_sanitize_str(spec), why);
		errno = EINVAL;
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if (ns.any) {
		hints.ai_family = AF_INET; /* AI_PASSIVE + NULL host: 0.0.0.0 */
	} else if (ns.bracketed) {
		hints.ai_family = AF_INET6;
		hints.ai_flags |= AI_NUMERICHOST;
	} else {
		hints.ai_family = AF_UNSPEC;
	}
	r = getaddrinfo(ns.any ? NULL : ns.host, ns.port, &hints, res_out);
	if (r != 0) {
		if (r == EAI_SYSTEM)
			(void)!buf_printf(err, "%s: cannot resolve host: %m",
			    log_sanitize_str(spec));
		else
			(void)!buf_printf(err, "%s: cannot resolve host: %s",
			    log_sanitize_str(spec),
			    ns.bracketed ? "not an IPv6 address"
			                 : gai_strerror(r));
		*res_out = NULL;
		errno = ns.bracketed ? EINVAL : EADDRNOTAVAIL;
		return -1;
	}
	return 0;
}

int
net_parse_hostport(const char *spec, struct sockaddr_storage *ss_out,
    socklen_t *len_out, struct buf *err)
{
	struct addrinfo *res;

	if (net_resolve(spec, &res, err) == -1)
		return -1;
	/* getaddrinfo() never returns a longer address than it can hold. */
	MW_ASSERT(res->ai_addrlen <= sizeof(*ss_out));
	memset(ss_out, 0, sizeof(*ss_out));
	memcpy(ss_out, res->ai_addr, res->ai_addrlen);
	*len_out = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/*
 * Binds and listens on one address. Returns the descriptor, or -1 with
 * errno set and *step naming the call that failed.
 */
static int
net_listen_one(const struct addrinfo *ai, int backlog, const char **step)
{
	int fd, on = 1, saved;

	*step = "create socket";
	fd = socket(ai->ai_family,
	    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd == -1)
		return -1;
	*step = "set socket options";
	/* Restarts must not wait for TIME_WAIT connections of the last run. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
		goto fail;
	/* "[::]:25" means IPv6 only; "*:25" is the IPv4 side (RFC 3493
	 * 5.3 leaves the default to the system: say it). */
	if (ai->ai_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) == -1)
		goto fail;
	*step = "bind";
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1)
		goto fail;
	*step = "listen";
	if (listen(fd, backlog) == -1)
		goto fail;
	return fd;
fail:
	saved = errno;
	(void)close(fd);
	errno = saved;
	return -1;
}

int
net_listen(const char *spec, int backlog, int *fd_out, struct buf *err)
{
	struct addrinfo *res, *ai;
	const char *step, *first_step = NULL;
	int fd = -1, first_errno = 0;

	*fd_out = -1;
	if (net_resolve(spec, &res, err) == -1)
		return -1;
	/* The first address that works (see the top of this file). */
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = net_listen_one(ai, backlog, &step);
		if (fd != -1)
			break;
		if (first_step == NULL) {
			first_step = step;
			first_errno = errno;
		}
	}
	freeaddrinfo(res);
	if (fd == -1) {
		errno = first_errno;
		(void)!buf_printf(err, "%s: cannot %s: %m",
		    log_sanitize_str(spec), first_step);
		errno = first_errno;
		return -1;
	}
	*fd_out = fd;
	return 0;
}

void
net_addr_str(const struct sockaddr *sa, char *out, size_t outsz)
{
	const struct sockaddr_in6 *sin6;
	const struct sockaddr_in *sin;
	struct in_addr v4;

	if (outsz == 0)
		return;
	switch (sa->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)(const void *)sa;
		if (inet_ntop(AF_INET, &sin->sin_addr, out, (socklen_t)outsz) ==
		    NULL)
			out[0] = '\0';
		return;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		/* An IPv4 client on a dual-stack socket: log it as IPv4, as
		 * Postfix does, so that greps and access maps match. */
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			memcpy(&v4, &sin6->sin6_addr.s6_addr[12], sizeof(v4));
			if (inet_ntop(AF_INET, &v4, out, (socklen_t)outsz) ==
			    NULL)
				out[0] = '\0';
			return;
		}
		if (inet_ntop(AF_INET6, &sin6->sin6_addr, out,
		        (socklen_t)outsz) == NULL)
			out[0] = '\0';
		return;
	case AF_UNIX:
		(void)snprintf(out, outsz, "unix");
		return;
	default:
		(void)snprintf(out, outsz, "unknown");
		return;
	}
}

unsigned
net_addr_port(const struct sockaddr *sa)
{
	switch (sa->sa_family) {
	case AF_INET:
		return ntohs(
		    ((const struct sockaddr_in *)(const void *)sa)->sin_port);
	case AF_INET6:
		return ntohs(
		    ((const struct sockaddr_in6 *)(const void *)sa)->sin6_port);
	default:
		return 0;
	}
}
