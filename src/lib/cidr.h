/*
 * Address lists like mynetworks: "127.0.0.0/8, [::1]/128, 192.0.2.7".
 * Parsing happens once at start; matching is a linear scan of the
 * (short) list with no allocation.
 */
#ifndef LIB_CIDR_H
#define LIB_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "lib/mw.h"

struct buf;
struct conf_list;

struct cidr_list;

/* Parses every item; NULL with "ITEM: what is wrong" in err. */
struct cidr_list *cidr_list_new(const struct conf_list *items,
    struct buf *err);
void cidr_list_free(struct cidr_list **l);
/* True when sa (AF_INET or AF_INET6; v4-mapped v6 counts as v4) matches. */
bool cidr_list_match(const struct cidr_list *l, const struct sockaddr *sa);

#endif
