/*
 * The AUTH failure penalty box, per client address: each failure adds a
 * growing delay before the 535 reply (as Dovecot's auth_penalty), and a
 * client that fails smtpd_auth_failure_limit times within
 * smtpd_auth_failure_window is refused (421 4.7.0) for
 * smtpd_auth_ban_time. Memory stays bounded: entries expire with their
 * window and ban, and at most AUTH_PENALTY_MAX_ADDRS addresses are
 * tracked (the one that failed longest ago goes first).
 *
 * Time is passed in (monotonic seconds), so that tests are deterministic.
 * Not thread-safe: one instance lives on one service's event loop. The
 * key is any string; callers should pass an IPv6 client's /64 network
 * rather than its address, since one host can use a whole /64.
 */
#ifndef AUTH_AUTH_PENALTY_H
#define AUTH_AUTH_PENALTY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct auth_penalty;

/* Addresses tracked at most: about 10 MB at 100 bytes each. */
#define AUTH_PENALTY_MAX_ADDRS 100000
/* The delay grows to 16 times the base delay, then stays. */
#define AUTH_PENALTY_DELAY_FACTOR_MAX 16

/*
 * A penalty box: limit failures (0: never ban) within window_secs ban an
 * address for ban_secs (0: never ban); base_delay_secs is the delay after
 * a first failure (0: no delay). Free with auth_penalty_free.
 */
struct auth_penalty *auth_penalty_new(uint64_t limit, uint64_t window_secs,
    uint64_t ban_secs, uint64_t base_delay_secs);
/* Frees and sets *p to NULL; NULL is fine. */
void auth_penalty_free(struct auth_penalty **p);

/*
 * Records a failed AUTH from addr at now and returns the delay in
 * milliseconds to wait before answering 535: base x 2^(failures - 1),
 * failures counted within the window, capped at 16 x base. A failure that
 * reaches the limit starts the ban (see auth_penalty_banned).
 */
uint64_t auth_penalty_fail(
    struct auth_penalty *p, const char *addr, uint64_t now);
/* True while addr is banned: it reached the limit inside the window less
 * than ban_secs ago. The caller answers 421 4.7.0 and closes. */
bool auth_penalty_banned(
    struct auth_penalty *p, const char *addr, uint64_t now);
/* A successful AUTH: forgets addr's failures. */
void auth_penalty_success(struct auth_penalty *p, const char *addr);
/* The number of addresses tracked (for tests and statistics). */
size_t auth_penalty_count(const struct auth_penalty *p);

#endif
