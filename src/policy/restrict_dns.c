/*
 * The restrictions that look names up in DNS, with Postfix's semantics
 * and texts (smtpd_check.c reject_unknown_address, reject_unknown_mailhost
 * and reject_unknown_hostname): reject_unknown_sender_domain,
 * reject_unknown_recipient_domain and reject_unknown_helo_hostname. A
 * temporary DNS failure defers only if nothing else rejects (Postfix's
 * unknown_address_tempfail_action = defer_if_permit).
 */
#include <stdlib.h>
#include <string.h>

#include "lib/mailaddr.h"
#include "lib/parse.h"
#include "policy/restrict_private.h"

/* What DNS is not asked about: no domain, or an address literal.
 * Internationalised names are (the resolver takes their A-labels). */
static bool
restrict_dns_skip(const char *domain)
{
	return domain[0] == '\0' || domain[0] == '[';
}

/* reject_unknown_sender_domain and reject_unknown_recipient_domain. */
static enum restrict_verdict
restrict_check_unknown_domain(struct restrict_eval *ev, const char *addr,
    const char *reply_class, bool sender)
{
	const struct restrict_ctx *ctx = ev->ctx;
	struct restrict_addr a;
	enum restrict_verdict v = RESTRICT_DUNNO;
	enum restrict_answer local = RESTRICT_ANSWER_NO;
	int code = ctx->unknown_address_code > 0 ? ctx->unknown_address_code
	                                         : 450;
	const char *enh = sender ? "4.1.8" : "4.1.2";

	if (addr == NULL || addr[0] == '\0' || ctx->mailhost == NULL)
		return RESTRICT_DUNNO;
	if (restrict_addr_split(addr, NULL, &a) == -1)
		return RESTRICT_DUNNO; /* reject_non_fqdn_* speak of those */
	if (restrict_dns_skip(a.domain))
		goto out;
	/* mail for our own domains needs no DNS (Postfix: final
	 * destination) */
	if (ctx->is_local_domain != NULL)
		local = ctx->is_local_domain(ctx->arg, a.domain);
	if (local == RESTRICT_ANSWER_TEMPFAIL) {
		v = restrict_reply_tempfail(ev, addr);
		goto out;
	}
	if (local == RESTRICT_ANSWER_YES)
		goto out;
	switch (ctx->mailhost(ctx->arg, a.domain, false)) {
	case DNS_MAILHOST_FOUND:
		break;
	case DNS_MAILHOST_NOTFOUND:
		v = restrict_reply_set(ev, code >= 500 ? RESTRICT_REJECT
		                                       : RESTRICT_DEFER,
		    code, enh, "<%s>: %s rejected: Domain not found", addr,
		    reply_class);
		break;
	case DNS_MAILHOST_INVALID:
		v = restrict_reply_set(ev, code >= 500 ? RESTRICT_REJECT
		                                       : RESTRICT_DEFER,
		    code, enh, "<%s>: %s rejected: Malformed DNS server reply",
		    addr, reply_class);
		break;
	case DNS_MAILHOST_NULLMX:
		/* RFC 7505 4.2 (sender) and 4.1 (recipient) */
		v = restrict_reply_set(ev, RESTRICT_REJECT, sender ? 550 : 556,
		    sender ? "5.7.27" : "5.1.10",
		    "<%s>: %s rejected: Domain %s does not accept mail "
		    "(nullMX)",
		    addr, reply_class, a.domain);
		break;
	case DNS_MAILHOST_TEMPFAIL:
		v = restrict_defer_if_permit(ev, 450, enh,
		    "<%s>: %s rejected: Domain not found", addr, reply_class);
		break;
	}
out:
	restrict_addr_free(&a);
	return v;
}

/* reject_unknown_helo_hostname: the HELO name has no A, AAAA or MX
 * record. Address literals are left to reject_invalid_helo_hostname. */
static enum restrict_verdict
restrict_check_unknown_helo(struct restrict_eval *ev)
{
	const struct restrict_ctx *ctx = ev->ctx;
	const char *helo = ctx->helo;
	int code = ctx->unknown_hostname_code > 0 ? ctx->unknown_hostname_code
	                                          : 450;
	enum restrict_verdict rv = code >= 500 ? RESTRICT_REJECT
	                                       : RESTRICT_DEFER;

	if (helo == NULL || ctx->mailhost == NULL || restrict_dns_skip(helo))
		return RESTRICT_DUNNO;
	switch (ctx->mailhost(ctx->arg, helo, true)) {
	case DNS_MAILHOST_FOUND:
	case DNS_MAILHOST_NULLMX: /* the name exists */
		return RESTRICT_DUNNO;
	case DNS_MAILHOST_NOTFOUND:
		return restrict_reply_set(ev, rv, code, "4.7.1",
		    "<%s>: %s rejected: Host not found", helo,
		    RESTRICT_CLASS_HELO);
	case DNS_MAILHOST_INVALID:
		return restrict_reply_set(ev, rv, code, "4.7.1",
		    "<%s>: %s rejected: Malformed DNS server reply", helo,
		    RESTRICT_CLASS_HELO);
	case DNS_MAILHOST_TEMPFAIL:
		break;
	}
	return restrict_defer_if_permit(ev, 450, "4.7.1",
	    "<%s>: %s rejected: Host not found", helo, RESTRICT_CLASS_HELO);
}

enum restrict_verdict
restrict_check_dns(struct restrict_eval *ev, enum restrict_id id,
    const char *reply_name, const char *reply_class)
{
	switch (id) {
	case RESTRICT_ID_REJECT_UNKNOWN_SENDER_DOMAIN:
		return restrict_check_unknown_domain(
		    ev, ev->ctx->sender, RESTRICT_CLASS_SENDER, true);
	case RESTRICT_ID_REJECT_UNKNOWN_RECIPIENT_DOMAIN:
		return restrict_check_unknown_domain(
		    ev, ev->ctx->recipient, RESTRICT_CLASS_RECIPIENT, false);
	case RESTRICT_ID_REJECT_UNKNOWN_HELO_HOSTNAME:
		return restrict_check_unknown_helo(ev);
	default:
		break;
	}
	return RESTRICT_DUNNO;
}
