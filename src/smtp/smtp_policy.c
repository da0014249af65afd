/*
 * Restriction lists in the SMTP server (Postfix semantics, lists in
 * src/policy/restrict.c): built once per process, evaluated on worker
 * threads. With smtpd_delay_reject (the default) the client, HELO and
 * sender lists are evaluated at RCPT TO together with the relay and
 * recipient lists; without it they are evaluated at MAIL FROM (a client
 * or HELO rejection then answers MAIL, which is where Postfix's delayed
 * mode reports it too). The submission and smtps listeners use
 * submission_relay_restrictions in place of smtpd_relay_restrictions.
 */
#include <stdlib.h>
#include <string.h>

#include "auth/accounts.h"
#include "delivery/resolve.h"
#include "delivery/route.h"
#include "dns/dns.h"
#include "lib/conf.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "policy/restrict.h"
#include "smtp/smtp_session_private.h"

struct smtp_policy {
	struct restrict_list *client, *helo, *sender, *relay, *submission_relay,
	    *recipient, *data;
	struct restrict_login_maps *login_maps;
};

int
smtp_policy_init(struct smtpd *srv, struct buf *err)
{
	const struct conf *c = srv->conf;
	struct smtp_policy *p = xcalloc(1, sizeof(*p));

	srv->policy = p;
	if ((p->client = restrict_list_new("smtpd_client_restrictions",
		 &c->smtpd_client_restrictions, err)) == NULL ||
	    (p->helo = restrict_list_new("smtpd_helo_restrictions",
		 &c->smtpd_helo_restrictions, err)) == NULL ||
	    (p->sender = restrict_list_new("smtpd_sender_restrictions",
		 &c->smtpd_sender_restrictions, err)) == NULL ||
	    (p->relay = restrict_list_new("smtpd_relay_restrictions",
		 &c->smtpd_relay_restrictions, err)) == NULL ||
	    (p->submission_relay = restrict_list_new(
		 "submission_relay_restrictions",
		 &c->submission_relay_restrictions, err)) == NULL ||
	    (p->recipient = restrict_list_new("smtpd_recipient_restrictions",
		 &c->smtpd_recipient_restrictions, err)) == NULL ||
	    (p->data = restrict_list_new("smtpd_data_restrictions",
		 &c->smtpd_data_restrictions, err)) == NULL ||
	    (p->login_maps = restrict_login_maps_new(
		 &c->smtpd_sender_login_maps, err)) == NULL)
		return -1;
	/* Postfix refuses to run as an open relay; so do we. */
	if (!restrict_list_guards_relay(p->relay) &&
	    !restrict_list_guards_relay(p->recipient)) {
		(void)!buf_printf(err, "%s: smtpd_relay_restrictions: neither it "
				       "nor smtpd_recipient_restrictions has "
				       "reject_unauth_destination or reject: "
				       "that is an open relay",
		    c->config_file);
		return -1;
	}
	return 0;
}

void
smtp_policy_free(struct smtpd *srv)
{
	struct smtp_policy *p = srv->policy;

	if (p == NULL)
		return;
	restrict_list_free(&p->client);
	restrict_list_free(&p->helo);
	restrict_list_free(&p->sender);
	restrict_list_free(&p->relay);
	restrict_list_free(&p->submission_relay);
	restrict_list_free(&p->recipient);
	restrict_list_free(&p->data);
	restrict_login_maps_free(&p->login_maps);
	free(p);
	srv->policy = NULL;
}

static enum restrict_answer
policy_is_local_domain(void *arg, const char *domain)
{
	struct smtpd *srv = arg;

	switch (resolver_domain_status(srv->resolver, domain)) {
	case RESOLVE_NOT_LOCAL:
		return RESTRICT_ANSWER_NO;
	case RESOLVE_TEMPFAIL:
		return RESTRICT_ANSWER_TEMPFAIL;
	default:
		return RESTRICT_ANSWER_YES;
	}
}

static enum restrict_answer
policy_is_relay_domain(void *arg, const char *domain)
{
	struct smtpd *srv = arg;

	switch (router_is_relay_domain(srv->router, domain)) {
	case ROUTE_YES:
		return RESTRICT_ANSWER_YES;
	case ROUTE_TEMPFAIL:
		return RESTRICT_ANSWER_TEMPFAIL;
	default:
		return RESTRICT_ANSWER_NO;
	}
}

static enum restrict_answer
policy_is_listed_recipient(void *arg, const char *address)
{
	struct smtpd *srv = arg;

	switch (resolver_check(srv->resolver, address)) {
	case RESOLVE_UNKNOWN_USER:
		return RESTRICT_ANSWER_NO;
	case RESOLVE_TEMPFAIL:
		return RESTRICT_ANSWER_TEMPFAIL;
	default:
		return RESTRICT_ANSWER_YES;
	}
}

/* reject_sender_login_mismatch: a user owns their own address and the
 * aliases of accounts.db that point at it. */
static enum restrict_answer
policy_sender_owners(void *arg, const char *sender, struct buf *logins)
{
	struct smtpd *srv = arg;
	struct buf err, targets;
	enum restrict_answer ans = RESTRICT_ANSWER_NO;
	int r;

	buf_init(&err, 512);
	buf_init(&targets, 64 * 1024);
	r = accounts_user_get(srv->accounts, sender, NULL, &err);
	if (r == ACCOUNTS_ERROR)
		goto tempfail;
	if (r == ACCOUNTS_OK) {
		(void)!buf_printf(logins, "%s ", sender);
		ans = RESTRICT_ANSWER_YES;
	}
	r = accounts_alias_get(srv->accounts, sender, &targets, &err);
	if (r == ACCOUNTS_ERROR)
		goto tempfail;
	if (r == ACCOUNTS_OK && targets.len > 0) {
		for (size_t i = 0; i < targets.len; i++)
			if (targets.data[i] == '\n')
				targets.data[i] = ' ';
		(void)!buf_append_str(logins, targets.data);
		ans = RESTRICT_ANSWER_YES;
	}
	goto out;
tempfail:
	log_warn("sender login lookup for %s: %s", log_sanitize_str(sender),
	    buf_cstr(&err));
	ans = RESTRICT_ANSWER_TEMPFAIL;
out:
	buf_free(&err);
	buf_free(&targets);
	return ans;
}

static enum dns_mailhost
policy_mailhost(void *arg, const char *domain, bool host)
{
	struct smtpd *srv = arg;

	return dns_mailhost_lookup(srv->dns, domain, host);
}

bool
smtp_policy_needs_dns(const struct smtpd *srv)
{
	const struct smtp_policy *p = srv->policy;

	return restrict_list_needs_dns(p->client) ||
	    restrict_list_needs_dns(p->helo) ||
	    restrict_list_needs_dns(p->sender) ||
	    restrict_list_needs_dns(p->relay) ||
	    restrict_list_needs_dns(p->submission_relay) ||
	    restrict_list_needs_dns(p->recipient) ||
	    restrict_list_needs_dns(p->data);
}

int
smtp_policy_eval(struct smtp_session *s, int stage, const char *sender,
    const char *recipient, struct restrict_reply *out)
{
	const struct smtp_policy *p = s->srv->policy;
	const struct restrict_list *lists[5];
	struct restrict_ctx ctx;
	enum restrict_verdict v;
	size_t n = 0, i;
	bool delay = s->srv->conf->smtpd_delay_reject;
	bool submission = s->kind == LISTENER_SUBMISSION ||
	    s->kind == LISTENER_SMTPS;

	switch (stage) {
	case RESTRICT_STAGE_SENDER:
		if (!delay) {
			lists[n++] = p->client;
			lists[n++] = p->helo;
			lists[n++] = p->sender;
		}
		break;
	case RESTRICT_STAGE_RECIPIENT:
		if (delay) {
			lists[n++] = p->client;
			lists[n++] = p->helo;
			lists[n++] = p->sender;
		}
		lists[n++] = submission ? p->submission_relay : p->relay;
		lists[n++] = p->recipient;
		break;
	case RESTRICT_STAGE_DATA:
		lists[n++] = p->data;
		break;
	default:
		break;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.stage = (enum restrict_stage)stage;
	ctx.client_addr = (const struct sockaddr *)&s->peer;
	ctx.client_name = strcmp(s->name, "unknown") == 0 ? NULL : s->name;
	ctx.helo = s->helo;
	ctx.sender = sender;
	ctx.recipient = recipient;
	ctx.sasl_username = s->sasl_username;
	ctx.in_mynetworks = s->in_mynetworks;
	ctx.ill_pipelining = s->ill_pipelining;
	ctx.recipient_delimiter = s->srv->conf->recipient_delimiter;
	ctx.sender_login_maps = p->login_maps;
	ctx.is_local_domain = policy_is_local_domain;
	ctx.is_relay_domain =
	    s->srv->router != NULL ? policy_is_relay_domain : NULL;
	ctx.is_listed_recipient = policy_is_listed_recipient;
	ctx.sender_owners = policy_sender_owners;
	if (s->srv->dns != NULL)
		ctx.mailhost = policy_mailhost;
	ctx.unknown_address_code =
	    (int)s->srv->conf->unknown_address_reject_code;
	ctx.unknown_hostname_code =
	    (int)s->srv->conf->unknown_hostname_reject_code;
	ctx.arg = s->srv;
	restrict_reply_begin(out);
	for (i = 0; i < n; i++) {
		v = restrict_list_eval(lists[i], &ctx, out);
		if (v == RESTRICT_REJECT || v == RESTRICT_DEFER)
			return v;
	}
	return restrict_reply_end(out, RESTRICT_DUNNO);
}

bool
smtp_policy_needed(const struct smtp_session *s, int stage)
{
	const struct smtp_policy *p = s->srv->policy;

	switch (stage) {
	case RESTRICT_STAGE_SENDER:
		return !s->srv->conf->smtpd_delay_reject &&
		    !(restrict_list_empty(p->client) &&
			restrict_list_empty(p->helo) &&
			restrict_list_empty(p->sender));
	case RESTRICT_STAGE_DATA:
		return !restrict_list_empty(p->data);
	default:
		return true;
	}
}
