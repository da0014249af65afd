/*
 * Recipient resolution: is an address ours, does it exist, and where does
 * it go. Combines mydestination, the domains of accounts.db, users,
 * aliases (accounts.db and alias_maps files), recipient_delimiter and the
 * always-accepted postmaster (RFC 5321 4.5.1). Alias expansion is
 * recursive with loop detection and a size limit.
 *
 * Lookups may block (SQLite, file reads): call from a worker thread. A
 * resolver is thread-safe.
 */
#ifndef DELIVERY_RESOLVE_H
#define DELIVERY_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>

struct buf;
struct conf;
struct resolver;

enum resolve_status {
	RESOLVE_LOCAL_OK,     /* a local domain and the recipient exists */
	RESOLVE_UNKNOWN_USER, /* a local domain, no such user: 550 5.1.1 */
	RESOLVE_NOT_LOCAL,    /* not one of our domains: relay decision */
	RESOLVE_TEMPFAIL,     /* lookup failed: 451 4.3.0 */
};

enum resolve_kind {
	RESOLVE_MAILBOX, /* deliver into maildir */
	RESOLVE_REMOTE,  /* an outside address: queue for outbound delivery */
};

/* One final destination of an expansion. */
struct resolve_dest {
	enum resolve_kind kind;
	char *address; /* the final address (lowercased domain) */
	char *maildir; /* RESOLVE_MAILBOX: absolute path of the Maildir/ */
};

struct resolve_list {
	struct resolve_dest *v;
	size_t n;
};

/* Opens the accounts database and alias_maps named in conf (borrowed; must
 * outlive the resolver). NULL with a one-line reason in err. */
struct resolver *resolver_new(const struct conf *conf, struct buf *err);
void resolver_free(struct resolver **r);

/* True when domain (any case, trailing dot allowed) is local. */
enum resolve_status resolver_domain_status(
    struct resolver *r, const char *domain);
/* The domain that qualifies a bare local part: $myorigin, else
 * $myhostname, $mydomain or "localhost". */
const char *resolver_origin(const struct resolver *r);
/* For RCPT TO: the status of one address (local@domain). */
enum resolve_status resolver_check(struct resolver *r, const char *address);
/*
 * For delivery: expands address into final destinations appended to out
 * (duplicates removed). Returns RESOLVE_LOCAL_OK (out filled; remote
 * destinations included), RESOLVE_UNKNOWN_USER (bounce), RESOLVE_NOT_LOCAL
 * (out holds the address itself as RESOLVE_REMOTE) or RESOLVE_TEMPFAIL;
 * reason in err for the log.
 */
enum resolve_status resolver_expand(struct resolver *r, const char *address,
    struct resolve_list *out, struct buf *err);
void resolve_list_free(struct resolve_list *l);

/*
 * The Maildir of a local user: "<mail_directory>/<domain>/<local>/Maildir"
 * with local and domain lowercased, as delivery writes it (the index
 * lives beside it, see store/store.h). address is "local@domain" (split
 * at the last '@'). A malloc'd path, or NULL with errno EINVAL when a
 * part is empty or cannot be one path component ('/', leading '.').
 */
char *resolve_user_maildir(const char *mail_directory, const char *address);
/* The same from the parts (already lowercased by the caller or not). */
char *resolve_maildir_path(
    const char *mail_directory, const char *local, const char *domain);

#endif
