/*
 * Shared between the files of src/queue only: the poke datagram layout and
 * the address of the queue manager's socket.
 */
#ifndef QUEUE_QUEUE_PRIVATE_H
#define QUEUE_QUEUE_PRIVATE_H

#include <sys/socket.h>
#include <sys/un.h>

/* A poke is "MWQP", one version byte, then the queue ID (no NUL). The
 * receiver checks the size, magic and version before it reads the ID. */
#define QUEUE_POKE_MAGIC   "MWQP"
#define QUEUE_POKE_VERSION 1
#define QUEUE_POKE_HDR     5
/* A flush request: "MWQF", the version byte, then an optional domain. */
#define QUEUE_FLUSH_MAGIC "MWQF"
/* A requeue request: "MWQR", the version byte, then the queue ID. */
#define QUEUE_REQUEUE_MAGIC "MWQR"

/*
 * Fills sun_out with <queue_dir>/qmgr.sock. When that path does not fit in
 * sun_path, opens queue_dir (O_PATH) into *dirfd_out and names the socket
 * through /proc/self/fd/N/ instead; the caller closes *dirfd_out when it
 * is not -1, after bind() or sendto(). 0 or -1 with errno.
 */
int queue_sock_addr(const char *queue_dir, struct sockaddr_un *sun_out,
    socklen_t *len_out, int *dirfd_out);

#endif
