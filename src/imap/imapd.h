/*
 * The IMAP server service (RFC 9051, RFC 3501): accepts connections on the
 * imap (STARTTLS) and imaps (implicit TLS) listeners it is handed and runs
 * one session per connection on one event loop.
 */
#ifndef IMAP_IMAPD_H
#define IMAP_IMAPD_H

#include <stddef.h>

struct buf;
struct conf;
struct listener;

/* Checks what imapd builds from conf at start, so that the master refuses
 * a bad configuration with one line in err. 0 or -1. */
int imapd_config_check(const struct conf *conf, struct buf *err);

/* Runs until SIGTERM (then finishes sessions up to a deadline); returns
 * the process exit status. Listeners not of the IMAP kinds are ignored. */
int imapd_main(const struct conf *conf, struct listener *ls, size_t nls);

#endif
