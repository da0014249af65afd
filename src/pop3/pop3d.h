/*
 * The POP3 server service (RFC 1939): accepts connections on the pop3
 * (STLS) and pop3s (implicit TLS) listeners it is handed and runs one
 * session per connection on one event loop.
 */
#ifndef POP3_POP3D_H
#define POP3_POP3D_H

#include <stddef.h>

struct buf;
struct conf;
struct listener;

/* Checks what pop3d builds from conf at start (TLS material, networks),
 * so that the master refuses a bad configuration with one line in err.
 * 0 or -1. */
int pop3d_config_check(const struct conf *conf, struct buf *err);

/* Runs until SIGTERM (then finishes sessions up to a deadline); returns
 * the process exit status. ls[i].fd are listening sockets; those not of
 * the POP3 kinds are ignored. */
int pop3d_main(const struct conf *conf, struct listener *ls, size_t nls);

#endif
