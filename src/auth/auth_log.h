/*
 * The log line of a login that did not happen, in Dovecot's shape, so
 * that fail2ban's dovecot filter (filter.d/dovecot.conf) and admins'
 * greps work on it:
 *   <Disconnected|Aborted login>[: reason] (auth failed, N attempts in S
 *   secs): user=<...>, method=..., rip=...
 * The POP3 and IMAP servers share it.
 */
#ifndef AUTH_AUTH_LOG_H
#define AUTH_AUTH_LOG_H

#include <stdbool.h>
#include <stdint.h>

struct buf;

/*
 * Appends the line up to "user=<...>, " (and "method=..., " after failed
 * attempts) to line; the caller adds its "rip=..., lip=..." tail. how is
 * why the connection ended: NULL, "Connection closed" or "Logged out"
 * (then "Disconnected"), "Aborted login", or a reason shown after
 * "Disconnected: ". tried_user and method may be NULL.
 */
void auth_log_no_login(struct buf *line, const char *how, unsigned attempts,
    uint64_t secs, const char *tried_user, const char *method,
    bool plaintext_refused);

#endif
