/*
 * The restrictions that need no access table (see restrict.h): permit,
 * reject, defer, permit_mynetworks, permit_sasl_authenticated, relay
 * control, unknown local users, HELO and address syntax, and who may use
 * which sender address. Texts and codes are Postfix's (smtpd_check.c).
 *
 * Relay control decides on the domain after the last '@' outside quotes,
 * and on nothing else: a local part is never routed here (no percent
 * hack, no bang paths, no source routes), so "user%other@local",
 * "other!user@local" and "\"user@other\"@local" are mail for a local user
 * (who is then unknown), while "@local:user@other", "user@other." and
 * "user@[192.0.2.1]" are mail for other hosts unless the resolver says
 * their domain is ours.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/log.h"
#include "lib/mailaddr.h"
#include "lib/parse.h"
#include "lib/xalloc.h"
#include "policy/maptable.h"
#include "policy/restrict_private.h"

/* RFC 1035 2.3.4 (Postfix VALID_LABEL_LEN, VALID_HOSTNAME_LEN) */
#define RESTRICT_LABEL_MAX    63
#define RESTRICT_HOSTNAME_MAX 255
/* The owners of one address, as a lookup answers them. */
#define RESTRICT_LOGINS_MAX (64 * 1024)

struct restrict_login_maps {
	struct maptable **v;
	size_t n;
};

/*
 * Postfix valid_hostname(): labels of letters, digits, '_' and inner '-',
 * 1..63 octets, at most 255 in all, not all digits (that is an address).
 * With utf8, octets >= 0x80 count as letters (the SMTP parser has checked
 * the UTF-8 of SMTPUTF8 addresses).
 */
static bool
restrict_hostname_valid(const char *name, bool utf8)
{
	size_t len = strlen(name), label = 0, i;
	bool numeric = true;

	if (len == 0 || len > RESTRICT_HOSTNAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    c == '_' || (utf8 && c >= 0x80)) {
			numeric = false;
			label++;
		} else if (c >= '0' && c <= '9')
			label++;
		else if (c == '.') {
			if (label == 0 || i + 1 == len)
				return false;
			label = 0;
			continue;
		} else if (c == '-') {
			numeric = false;
			label++;
			if (label == 1 || i + 1 == len || name[i + 1] == '.')
				return false;
		} else
			return false;
		if (label > RESTRICT_LABEL_MAX)
			return false;
	}
	return !numeric;
}

/* Postfix valid_hostaddr(): a bare IPv4 or IPv6 address. */
static bool
restrict_hostaddr_valid(const char *s)
{
	unsigned char a[16];

	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

/* Postfix valid_mailhost_addr() of a "[...]" HELO: "[192.0.2.1]" or
 * "[IPv6:2001:db8::1]" (RFC 5321 4.1.3). */
static bool
restrict_literal_valid(const char *s)
{
	unsigned char a[16];
	size_t len = strlen(s);
	char *in;
	bool ok;

	if (len < 3 || s[0] != '[' || s[len - 1] != ']')
		return false;
	in = xstrndup(s + 1, len - 2);
	if (ascii_eq_n(in, "IPv6:", 5) && strlen(in) > 5)
		ok = inet_pton(AF_INET6, in + 5, a) == 1;
	else
		ok = inet_pton(AF_INET, in, a) == 1;
	free(in);
	return ok;
}

/* Postfix dup_if_truncate(): drops one trailing dot, not of "..". */
static char *
restrict_truncate_dot(const char *name)
{
	size_t len = strlen(name);

	if (len > 1 && name[len - 1] == '.' && name[len - 2] != '.')
		return xstrndup(name, len - 1);
	return xstrdup(name);
}

int
restrict_addr_split(
    const char *addr, const char *delimiters, struct restrict_addr *out)
{
	size_t n;

	memset(out, 0, sizeof(*out));
	if (mailaddr_split(addr, &out->local, &out->domain) == -1)
		return -1;
	n = strlen(out->domain);
	/* a fully qualified "example.org." names "example.org" */
	if (n > 1 && out->domain[n - 1] == '.' && out->domain[0] != '[')
		out->domain[n - 1] = '\0';
	ascii_lower(out->domain);
	out->base = mailaddr_strip_extension(out->local, delimiters, NULL);
	if (strcmp(out->base, out->local) == 0) {
		free(out->base);
		out->base = NULL;
	}
	return 0;
}

void
restrict_addr_free(struct restrict_addr *a)
{
	free(a->local);
	free(a->base);
	free(a->domain);
	memset(a, 0, sizeof(*a));
}

enum restrict_answer
restrict_rcpt_is_local(const struct restrict_ctx *ctx, const char *recipient)
{
	struct restrict_addr a;
	enum restrict_answer ans = RESTRICT_ANSWER_NO;

	if (restrict_addr_split(recipient, NULL, &a) == -1)
		return RESTRICT_ANSWER_NO; /* what does not parse is not ours */
	if (a.domain[0] == '\0') {
		/* RFC 5321 4.5.1: "Postmaster" without a domain is ours */
		if (ascii_eq(a.local, "postmaster"))
			ans = RESTRICT_ANSWER_YES;
	} else if (ctx->is_local_domain != NULL)
		ans = ctx->is_local_domain(ctx->arg, a.domain);
	restrict_addr_free(&a);
	return ans;
}

/* reject/defer_unauth_destination, permit_auth_destination. */
static enum restrict_verdict
restrict_check_destination(struct restrict_eval *ev, enum restrict_id id)
{
	const char *rcpt = ev->ctx->recipient;

	if (rcpt == NULL)
		return RESTRICT_DUNNO;
	switch (restrict_rcpt_is_local(ev->ctx, rcpt)) {
	case RESTRICT_ANSWER_YES:
		return id == RESTRICT_ID_PERMIT_AUTH_DESTINATION
		    ? RESTRICT_PERMIT
		    : RESTRICT_DUNNO;
	case RESTRICT_ANSWER_TEMPFAIL:
		return restrict_reply_tempfail(ev, rcpt);
	case RESTRICT_ANSWER_NO:
		break;
	}
	/* Postfix: relay_domains are authorized destinations too */
	if (ev->ctx->is_relay_domain != NULL) {
		const char *at = strrchr(rcpt, '@');
		char *dom = at != NULL ? xstrdup(at + 1) : NULL;
		enum restrict_answer rel = RESTRICT_ANSWER_NO;

		if (dom != NULL && dom[0] != '\0') {
			ascii_lower(dom);
			rel = ev->ctx->is_relay_domain(ev->ctx->arg, dom);
		}
		free(dom);
		if (rel == RESTRICT_ANSWER_TEMPFAIL)
			return restrict_reply_tempfail(ev, rcpt);
		if (rel == RESTRICT_ANSWER_YES)
			return id == RESTRICT_ID_PERMIT_AUTH_DESTINATION
			    ? RESTRICT_PERMIT
			    : RESTRICT_DUNNO;
	}
	if (id == RESTRICT_ID_REJECT_UNAUTH_DESTINATION)
		return restrict_reply_set(ev, RESTRICT_REJECT, 554, "5.7.1",
		    "<%s>: Relay access denied", rcpt);
	if (id == RESTRICT_ID_DEFER_UNAUTH_DESTINATION)
		return restrict_reply_set(ev, RESTRICT_DEFER, 450, "4.7.1",
		    "<%s>: Relay access denied", rcpt);
	return RESTRICT_DUNNO;
}

/* reject_unlisted_recipient and reject_unlisted_sender (Postfix
 * check_rcpt_maps with local_recipient_maps). */
static enum restrict_verdict
restrict_check_unlisted(struct restrict_eval *ev, const char *addr,
    const char *reply_class, const char *enh)
{
	const struct restrict_ctx *ctx = ev->ctx;
	enum restrict_answer ans;
	char *key;

	if (addr == NULL || addr[0] == '\0' || ctx->is_listed_recipient == NULL)
		return RESTRICT_DUNNO;
	ans = restrict_rcpt_is_local(ctx, addr);
	if (ans == RESTRICT_ANSWER_TEMPFAIL)
		return restrict_reply_tempfail(ev, addr);
	if (ans == RESTRICT_ANSWER_NO)
		return RESTRICT_DUNNO; /* not ours to know */
	key = mailaddr_normalize(addr);
	ans = ctx->is_listed_recipient(ctx->arg, key != NULL ? key : addr);
	free(key);
	if (ans == RESTRICT_ANSWER_TEMPFAIL)
		return restrict_reply_tempfail(ev, addr);
	if (ans == RESTRICT_ANSWER_YES)
		return RESTRICT_DUNNO;
	return restrict_reply_set(ev, RESTRICT_REJECT, 550, enh,
	    "<%s>: %s rejected: User unknown in local recipient table", addr,
	    reply_class);
}

/* reject_invalid_helo_hostname and reject_non_fqdn_helo_hostname. */
static enum restrict_verdict
restrict_check_helo(struct restrict_eval *ev, enum restrict_id id)
{
	const char *helo = ev->ctx->helo;
	enum restrict_verdict v = RESTRICT_DUNNO;
	char *name;

	if (helo == NULL)
		return RESTRICT_DUNNO;
	if (helo[0] == '[') {
		if (!restrict_literal_valid(helo))
			v = restrict_reply_set(ev, RESTRICT_REJECT, 501,
			    "5.5.2", "<%s>: %s rejected: invalid ip address",
			    helo, RESTRICT_CLASS_HELO);
		return v;
	}
	name = restrict_truncate_dot(helo);
	if (id == RESTRICT_ID_REJECT_INVALID_HELO_HOSTNAME) {
		if (!restrict_hostname_valid(name, false) &&
		    !restrict_hostaddr_valid(name))
			v = restrict_reply_set(ev, RESTRICT_REJECT, 501,
			    "5.5.2", "<%s>: %s rejected: Invalid name", helo,
			    RESTRICT_CLASS_HELO);
	} else if (!restrict_hostname_valid(name, false) ||
	    strchr(name, '.') == NULL)
		v = restrict_reply_set(ev, RESTRICT_REJECT, 504, "5.5.2",
		    "<%s>: %s rejected: need fully-qualified hostname", helo,
		    RESTRICT_CLASS_HELO);
	free(name);
	return v;
}

/* reject_non_fqdn_sender and reject_non_fqdn_recipient (Postfix
 * reject_non_fqdn_address). */
static enum restrict_verdict
restrict_check_fqdn_address(
    struct restrict_eval *ev, const char *addr, const char *reply_class)
{
	enum restrict_verdict v = RESTRICT_DUNNO;
	char *local = NULL, *domain = NULL, *name = NULL;
	size_t n;
	bool bad;

	if (addr == NULL || addr[0] == '\0')
		return RESTRICT_DUNNO;
	if (mailaddr_split(addr, &local, &domain) == -1)
		bad = true;
	else {
		n = strlen(domain);
		if (n > 0 && domain[0] == '[' && domain[n - 1] == ']')
			bad = false; /* an address literal is qualified */
		else {
			name = restrict_truncate_dot(domain);
			bad = !restrict_hostname_valid(name, true) ||
			    strchr(name, '.') == NULL;
		}
	}
	free(local);
	free(domain);
	if (bad)
		v = restrict_reply_set(ev, RESTRICT_REJECT, 504, "5.5.2",
		    "<%s>: %s rejected: need fully-qualified address", addr,
		    reply_class);
	free(name);
	return v;
}

/* True when user is one of logins (separated by commas or white space),
 * ASCII case-insensitively (Postfix strcasecmp_utf8). */
static bool
restrict_login_listed(const char *logins, const char *user)
{
	size_t n = strlen(user), k;
	const char *p = logins;

	while (*p != '\0') {
		p += strspn(p, ", \t");
		k = strcspn(p, ", \t");
		if (k == n && k > 0 && ascii_eq_n(p, user, n))
			return true;
		p += k;
	}
	return false;
}

/* Looks key up in every login map, in order; the answer of the first
 * that has it. */
static enum restrict_answer
restrict_login_maps_get(const struct restrict_login_maps *m, const char *key,
    bool partial, struct buf *logins_out)
{
	struct buf err;
	size_t i;
	int rc;

	for (i = 0; i < m->n; i++) {
		if (partial && !maptable_is_fixed(m->v[i]))
			continue; /* pattern tables see the whole key only */
		buf_init(&err, 4096);
		rc = maptable_lookup(m->v[i], key, logins_out, &err);
		if (rc == -1)
			log_warn("smtpd_sender_login_maps: %s", buf_cstr(&err));
		buf_free(&err);
		if (rc == 0)
			return RESTRICT_ANSWER_YES;
		if (rc == -1)
			return RESTRICT_ANSWER_TEMPFAIL;
	}
	return RESTRICT_ANSWER_NO;
}

/* Postfix mail_addr_find(): user+ext@domain, user@domain, user+ext and
 * user when the domain is local, @domain. */
static enum restrict_answer
restrict_login_maps_find(
    const struct restrict_ctx *ctx, const char *sender, struct buf *logins_out)
{
	const struct restrict_login_maps *m = ctx->sender_login_maps;
	enum restrict_answer ans, local;
	struct restrict_addr a;
	char *keys[5];
	size_t n = 0, i;

	if (restrict_addr_split(sender, ctx->recipient_delimiter, &a) == -1)
		return restrict_login_maps_get(m, sender, false, logins_out);
	keys[n++] = a.domain[0] != '\0' ? xasprintf("%s@%s", a.local, a.domain)
	                                : xstrdup(a.local);
	if (a.base != NULL && a.domain[0] != '\0')
		keys[n++] = xasprintf("%s@%s", a.base, a.domain);
	local = a.domain[0] == '\0' || ctx->is_local_domain == NULL
	    ? RESTRICT_ANSWER_NO
	    : ctx->is_local_domain(ctx->arg, a.domain);
	if (local == RESTRICT_ANSWER_YES) {
		keys[n++] = xstrdup(a.local);
		if (a.base != NULL)
			keys[n++] = xstrdup(a.base);
	}
	if (a.domain[0] != '\0')
		keys[n++] = xasprintf("@%s", a.domain);
	ans = local == RESTRICT_ANSWER_TEMPFAIL ? RESTRICT_ANSWER_TEMPFAIL
	                                        : RESTRICT_ANSWER_NO;
	for (i = 0; i < n && ans == RESTRICT_ANSWER_NO; i++)
		ans = restrict_login_maps_get(m, keys[i], i > 0, logins_out);
	for (i = 0; i < n; i++)
		free(keys[i]);
	restrict_addr_free(&a);
	return ans;
}

/* The logins that own sender: smtpd_sender_login_maps, then the
 * caller's sender_owners. */
static enum restrict_answer
restrict_sender_owners(
    const struct restrict_ctx *ctx, const char *sender, struct buf *logins_out)
{
	enum restrict_answer ans = RESTRICT_ANSWER_NO;

	if (ctx->sender_login_maps != NULL && ctx->sender_login_maps->n > 0)
		ans = restrict_login_maps_find(ctx, sender, logins_out);
	if (ans == RESTRICT_ANSWER_NO && ctx->sender_owners != NULL) {
		buf_reset(logins_out);
		ans = ctx->sender_owners(ctx->arg, sender, logins_out);
	}
	return ans;
}

/* The sender_login_mismatch family (Postfix
 * reject_auth_sender_login_mismatch and
 * reject_unauth_sender_login_mismatch). */
static enum restrict_verdict
restrict_check_login(struct restrict_eval *ev, enum restrict_id id)
{
	const struct restrict_ctx *ctx = ev->ctx;
	const char *sender = ctx->sender, *user = ctx->sasl_username;
	enum restrict_verdict v = RESTRICT_DUNNO;
	enum restrict_answer ans;
	struct buf logins;

	if (sender == NULL || sender[0] == '\0')
		return RESTRICT_DUNNO;
	if (user != NULL &&
	    id == RESTRICT_ID_REJECT_UNAUTH_SENDER_LOGIN_MISMATCH)
		return RESTRICT_DUNNO;
	if (user == NULL && id == RESTRICT_ID_REJECT_AUTH_SENDER_LOGIN_MISMATCH)
		return RESTRICT_DUNNO;
	buf_init(&logins, RESTRICT_LOGINS_MAX);
	ans = restrict_sender_owners(ctx, sender, &logins);
	if (ans == RESTRICT_ANSWER_TEMPFAIL)
		v = restrict_reply_tempfail(ev, sender);
	else if (user == NULL) {
		if (ans == RESTRICT_ANSWER_YES)
			v = restrict_reply_set(ev, RESTRICT_REJECT, 553,
			    "5.7.1", "<%s>: %s rejected: not logged in", sender,
			    RESTRICT_CLASS_SENDER);
	} else if (ans == RESTRICT_ANSWER_YES
	        ? !restrict_login_listed(buf_cstr(&logins), user)
	        : id != RESTRICT_ID_REJECT_KNOWN_SENDER_LOGIN_MISMATCH)
		v = restrict_reply_set(ev, RESTRICT_REJECT, 553, "5.7.1",
		    "<%s>: %s rejected: not owned by user %s", sender,
		    RESTRICT_CLASS_SENDER, user);
	buf_free(&logins);
	return v;
}

enum restrict_verdict
restrict_check_simple(struct restrict_eval *ev, enum restrict_id id,
    const char *reply_name, const char *reply_class)
{
	const struct restrict_ctx *ctx = ev->ctx;

	switch (id) {
	case RESTRICT_ID_PERMIT:
		return RESTRICT_PERMIT;
	case RESTRICT_ID_REJECT_ALL:
		return restrict_reply_set(ev, RESTRICT_REJECT, 554, "5.7.1",
		    "<%s>: %s rejected: Access denied", reply_name,
		    reply_class);
	case RESTRICT_ID_DEFER_ALL:
		return restrict_reply_set(ev, RESTRICT_DEFER, 450, "4.3.2",
		    "<%s>: %s rejected: Try again later", reply_name,
		    reply_class);
	case RESTRICT_ID_PERMIT_MYNETWORKS:
		return ctx->in_mynetworks ? RESTRICT_PERMIT : RESTRICT_DUNNO;
	case RESTRICT_ID_PERMIT_SASL_AUTHENTICATED:
		return ctx->sasl_username != NULL ? RESTRICT_PERMIT
		                                  : RESTRICT_DUNNO;
	case RESTRICT_ID_REJECT_UNAUTH_DESTINATION:
	case RESTRICT_ID_DEFER_UNAUTH_DESTINATION:
	case RESTRICT_ID_PERMIT_AUTH_DESTINATION:
		return restrict_check_destination(ev, id);
	case RESTRICT_ID_REJECT_UNLISTED_RECIPIENT:
		return restrict_check_unlisted(
		    ev, ctx->recipient, RESTRICT_CLASS_RECIPIENT, "5.1.1");
	case RESTRICT_ID_REJECT_UNLISTED_SENDER:
		return restrict_check_unlisted(
		    ev, ctx->sender, RESTRICT_CLASS_SENDER, "5.1.0");
	case RESTRICT_ID_REJECT_NON_FQDN_HELO_HOSTNAME:
	case RESTRICT_ID_REJECT_INVALID_HELO_HOSTNAME:
		return restrict_check_helo(ev, id);
	case RESTRICT_ID_REJECT_NON_FQDN_SENDER:
		return restrict_check_fqdn_address(
		    ev, ctx->sender, RESTRICT_CLASS_SENDER);
	case RESTRICT_ID_REJECT_NON_FQDN_RECIPIENT:
		return restrict_check_fqdn_address(
		    ev, ctx->recipient, RESTRICT_CLASS_RECIPIENT);
	case RESTRICT_ID_REJECT_SENDER_LOGIN_MISMATCH:
	case RESTRICT_ID_REJECT_AUTH_SENDER_LOGIN_MISMATCH:
	case RESTRICT_ID_REJECT_KNOWN_SENDER_LOGIN_MISMATCH:
	case RESTRICT_ID_REJECT_UNAUTH_SENDER_LOGIN_MISMATCH:
		return restrict_check_login(ev, id);
	case RESTRICT_ID_REJECT_UNKNOWN_SENDER_DOMAIN:
	case RESTRICT_ID_REJECT_UNKNOWN_RECIPIENT_DOMAIN:
	case RESTRICT_ID_REJECT_UNKNOWN_HELO_HOSTNAME:
		return restrict_check_dns(ev, id, reply_name, reply_class);
	case RESTRICT_ID_WARN_IF_REJECT:
		return RESTRICT_DUNNO; /* restrict_list_eval's business */
	case RESTRICT_ID_REJECT_UNAUTH_PIPELINING:
		if (!ctx->ill_pipelining)
			return RESTRICT_DUNNO;
		return restrict_reply_set(ev, RESTRICT_REJECT, 503, "5.5.0",
		    "<%s>: %s rejected: Improper use of SMTP command "
		    "pipelining",
		    reply_name, reply_class);
	case RESTRICT_ID_DEFER_IF_PERMIT:
		/* Postfix defer_code 450 */
		return restrict_defer_if_permit(ev, 450, "4.7.1",
		    "<%s>: %s rejected: defer_if_permit requested",
		    reply_name, reply_class);
	case RESTRICT_ID_CHECK_CLIENT_ACCESS:
	case RESTRICT_ID_CHECK_HELO_ACCESS:
	case RESTRICT_ID_CHECK_SENDER_ACCESS:
	case RESTRICT_ID_CHECK_RECIPIENT_ACCESS:
	case RESTRICT_ID_REFUSED:
		break;
	}
	log_panic(
	    "restrict_check_simple: restriction %d needs a table", (int)id);
}

struct restrict_login_maps *
restrict_login_maps_new(const struct conf_list *specs, struct buf *err)
{
	struct restrict_login_maps *m = xcalloc(1, sizeof(*m));
	struct buf terr;
	size_t i;

	m->v = xcalloc(specs->n > 0 ? specs->n : 1, sizeof(*m->v));
	buf_init(&terr, 4096);
	for (i = 0; i < specs->n; i++) {
		m->v[i] = maptable_open(specs->items[i], &terr);
		if (m->v[i] == NULL) {
			buf_reset(err);
			(void)!buf_printf(err, "smtpd_sender_login_maps: %s",
			    buf_cstr(&terr));
			restrict_login_maps_free(&m);
			break;
		}
		m->n++;
	}
	buf_free(&terr);
	return m;
}

void
restrict_login_maps_free(struct restrict_login_maps **mp)
{
	struct restrict_login_maps *m = *mp;
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->n; i++)
		maptable_free(&m->v[i]);
	free(m->v);
	free(m);
	*mp = NULL;
}
