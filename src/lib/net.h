/*
 * Listening sockets: parsing listener specifications ("127.0.0.1:2525",
 * "[::1]:2525", "*:25", "localhost:25") and binding them. The master binds;
 * services inherit the descriptors.
 */
#ifndef LIB_NET_H
#define LIB_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "lib/mw.h"

struct buf;

enum listener_kind {
	LISTENER_SMTP,       /* smtpd_listen: MX, port 25 */
	LISTENER_SUBMISSION, /* submission_listen: 587, STARTTLS */
	LISTENER_SMTPS,      /* smtps_listen: 465, implicit TLS */
	LISTENER_IMAP,
	LISTENER_IMAPS,
	LISTENER_POP3,
	LISTENER_POP3S,
};

struct listener {
	enum listener_kind kind;
	char *spec; /* as configured, e.g. "127.0.0.1:2525" */
	int fd;     /* non-blocking, listening, close-on-exec */
};

/* The configuration parameter name of a kind ("smtpd_listen", ...). */
const char *listener_kind_param(enum listener_kind kind);
/* The service name for logs ("smtp", "submission", ...). */
const char *listener_kind_name(enum listener_kind kind);

/*
 * Parses "host:port" / "[v6]:port" into a socket address. 0 or -1 with a
 * one-line reason in err.
 */
int net_parse_hostport(const char *spec, struct sockaddr_storage *ss_out,
    socklen_t *len_out, struct buf *err) MW_MUST_CHECK;
/* Binds and listens on spec; 0 or -1 with "spec: reason" in err. */
int net_listen(const char *spec, int backlog, int *fd_out,
    struct buf *err) MW_MUST_CHECK;
/* Formats an address as "1.2.3.4" / "::1" into out (at least 64 bytes). */
void net_addr_str(const struct sockaddr *sa, char *out, size_t outsz);
/* Port of an address, host order. */
unsigned net_addr_port(const struct sockaddr *sa);

#endif
