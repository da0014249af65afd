/*
 * Starting an SMTP session on an accepted connection (the rest of the
 * session API is private to src/smtp/).
 */
#ifndef SMTP_SMTP_SESSION_H
#define SMTP_SMTP_SESSION_H

#include <sys/socket.h>

#include "lib/net.h"

struct smtpd;

/* Takes ownership of fd; sends the greeting (or a 421 refusal). */
void smtp_session_new(struct smtpd *srv, enum listener_kind kind, int fd,
    const struct sockaddr *sa, socklen_t salen);

#endif
