/*
 * One IMAP connection (RFC 9051): created by imapd for each accepted
 * socket; it frees itself when the connection ends.
 */
#ifndef IMAP_IMAP_SESSION_H
#define IMAP_IMAP_SESSION_H

#include <sys/socket.h>

#include "lib/net.h"

struct imapd;

void imap_session_new(struct imapd *srv, enum listener_kind kind, int fd,
    const struct sockaddr *sa, socklen_t salen);

#endif
