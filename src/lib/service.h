/*
 * What every network service process does the same way around its event
 * loop: accept on the listeners the master handed it (close-on-exec,
 * TCP_NODELAY), log accept errors, and stop gracefully on SIGTERM/SIGINT:
 * listeners off, then the loop ends when the sessions are gone or after a
 * grace period. smtpd, pop3d and imapd use it.
 */
#ifndef LIB_SERVICE_H
#define LIB_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "lib/net.h"

struct event_base;
struct service;

/* A new connection fd from sa, on a listener of kind. */
typedef void service_accept_fn(void *arg, enum listener_kind kind, int fd,
    const struct sockaddr *sa, socklen_t salen);
/* Whether the service serves listeners of kind. */
typedef bool service_kind_fn(enum listener_kind kind);

/*
 * Listens on those of ls[0..nls) that want() takes, calling accept() for
 * each connection, and arms SIGTERM and SIGINT for a graceful stop; exits
 * the process (log_fatal) when a listener cannot be set up. *nsessions
 * (the caller's count of open sessions) is read while stopping.
 */
struct service *service_new(struct event_base *base, struct listener *ls,
    size_t nls, service_kind_fn *want, service_accept_fn *accept, void *arg,
    const size_t *nsessions, unsigned grace_seconds);
/* Whether a stop has begun (new connections are then refused). */
bool service_stopping(const struct service *sv);
void service_free(struct service **sv);

#endif
