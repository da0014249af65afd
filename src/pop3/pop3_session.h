/*
 * Starting a POP3 session on an accepted connection (the rest of the
 * session API is private to src/pop3/).
 */
#ifndef POP3_POP3_SESSION_H
#define POP3_POP3_SESSION_H

#include <sys/socket.h>

#include "lib/net.h"

struct pop3d;

/* Takes ownership of fd; sends the greeting (or a refusal). */
void pop3_session_new(struct pop3d *srv, enum listener_kind kind, int fd,
    const struct sockaddr *sa, socklen_t salen);

#endif
