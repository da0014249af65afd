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

struct buf;

/*
 * Checks what smtpd will build from conf at start (TLS material,
 * restriction lists and their tables), so that the master can refuse a
 * bad configuration with one line in err instead of a service that keeps
 * dying. 0 or -1.
 */
int smtpd_config_check(const struct conf *conf, struct buf *err);

/* Runs until SIGTERM (then finishes sessions up to a deadline); returns
 * the process exit status. ls[i].fd are listening sockets. */
int smtpd_main(const struct conf *conf, struct listener *ls, size_t nls);

#endif
