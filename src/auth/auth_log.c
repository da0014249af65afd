/*
 * Dovecot-shaped lines for logins that did not happen (see auth_log.h).
 */
#include "auth/auth_log.h"

#include <string.h>

#include "lib/buf.h"
#include "lib/log.h"

void
auth_log_no_login(struct buf *line, const char *how, unsigned attempts,
    uint64_t secs, const char *tried_user, const char *method,
    bool plaintext_refused)
{
	/* filter.d/dovecot.conf:
	 * ^(?:Aborted login|Disconnected)(?::(?: [^ \(]+)+)?
	 *   \((?:auth failed, \d+ attempts(?: in \d+ secs)?|tried to use
	 *   (?:disabled|disallowed) \S+ auth)\):(?: user=<[^>]*>,)?
	 *   (?: method=\S+,)? rip=<HOST>... */
	if (how != NULL && strcmp(how, "Aborted login") == 0)
		(void)!buf_append_str(line, "Aborted login");
	else if (how == NULL || strcmp(how, "Connection closed") == 0 ||
	    strcmp(how, "Logged out") == 0)
		(void)!buf_append_str(line, "Disconnected");
	else
		(void)!buf_printf(line, "Disconnected: %s", how);
	if (attempts > 0)
		(void)!buf_printf(line,
		    " (auth failed, %u attempts in %llu secs): user=<%s>, "
		    "method=%s, ",
		    attempts, (unsigned long long)secs,
		    tried_user != NULL ? log_sanitize_str(tried_user) : "",
		    method != NULL ? method : "PLAIN");
	else if (plaintext_refused)
		(void)!buf_append_str(line,
		    " (tried to use disallowed plaintext auth): user=<>, ");
	else
		(void)!buf_printf(line,
		    " (no auth attempts in %llu secs): user=<>, ",
		    (unsigned long long)secs);
}
