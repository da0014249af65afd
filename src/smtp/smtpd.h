/*
 * The SMTP server service: accepts connections on the smtp, submission and
 * smtps listeners it is handed and runs one session per connection on one
 * event loop.
 */
#ifndef SMTP_SMTPD_H
#define SMTP_SMTPD_H

#include <stddef.h>

struct conf;
struct listener;

/* Runs until SIGTERM (then finishes sessions up to a deadline); returns
 * the process exit status. ls[i].fd are listening sockets. */
int smtpd_main(const struct conf *conf, struct listener *ls, size_t nls);

#endif
