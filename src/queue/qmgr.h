/*
 * The queue service: picks up committed messages (pokes on qmgr.sock and
 * directory scans), resolves recipients, delivers local ones into Maildir
 * exactly once, keeps the rest deferred with retries, and recovers what a
 * crash left behind.
 */
#ifndef QUEUE_QMGR_H
#define QUEUE_QMGR_H

struct conf;

/* Runs the queue service until SIGTERM; the process exit status. */
int qmgr_main(const struct conf *conf);

#endif
