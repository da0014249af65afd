/*
 * Restriction lists (see restrict.h): the names we know, parsing and
 * checking a list at start-up, the evaluation loop and the reply builder.
 * The restrictions themselves live in restrict_check.c (no table) and
 * restrict_access.c (check_*_access).
 *
 * Reply codes are Postfix's defaults (postconf(5)): reject_code 554,
 * defer_code 450, relay_domains_reject_code 554,
 * unknown_local_recipient_reject_code 550, non_fqdn_reject_code 504,
 * invalid_hostname_reject_code 501, access_map_reject_code 554 and
 * access_map_defer_code 450.
 */
#include "policy/restrict.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "lib/xalloc.h"
#include "policy/maptable.h"
#include "policy/restrict_private.h"

#define RESTRICT_NOT_YET   "is not supported yet"
/* DNS lists and lookups beyond reject_unknown_*: not yet either */
#define RESTRICT_NEEDS_DNS RESTRICT_NOT_YET

// clang-format off
static const struct restrict_def restrict_defs[] = {
	{ "permit",                    RESTRICT_ID_PERMIT,                 0, NULL },
	{ "reject",                    RESTRICT_ID_REJECT_ALL,                0, NULL },
	{ "defer",                     RESTRICT_ID_DEFER_ALL,                 0, NULL },
	{ "permit_mynetworks",         RESTRICT_ID_PERMIT_MYNETWORKS,         0, NULL },
	{ "permit_sasl_authenticated", RESTRICT_ID_PERMIT_SASL_AUTHENTICATED, 0, NULL },
	{ "reject_unauth_destination", RESTRICT_ID_REJECT_UNAUTH_DESTINATION, 0, NULL },
	{ "defer_unauth_destination",  RESTRICT_ID_DEFER_UNAUTH_DESTINATION,  0, NULL },
	{ "permit_auth_destination",   RESTRICT_ID_PERMIT_AUTH_DESTINATION,   0, NULL },
	{ "reject_unlisted_recipient", RESTRICT_ID_REJECT_UNLISTED_RECIPIENT, 0, NULL },
	{ "reject_unlisted_sender",    RESTRICT_ID_REJECT_UNLISTED_SENDER,    0, NULL },
	{ "reject_non_fqdn_helo_hostname", RESTRICT_ID_REJECT_NON_FQDN_HELO_HOSTNAME, 0, NULL },
	{ "reject_non_fqdn_hostname",  RESTRICT_ID_REJECT_NON_FQDN_HELO_HOSTNAME, 0, NULL },
	{ "reject_invalid_helo_hostname", RESTRICT_ID_REJECT_INVALID_HELO_HOSTNAME, 0, NULL },
	{ "reject_invalid_hostname",   RESTRICT_ID_REJECT_INVALID_HELO_HOSTNAME, 0, NULL },
	{ "reject_non_fqdn_sender",    RESTRICT_ID_REJECT_NON_FQDN_SENDER,    0, NULL },
	{ "reject_non_fqdn_recipient", RESTRICT_ID_REJECT_NON_FQDN_RECIPIENT, 0, NULL },
	{ "reject_sender_login_mismatch", RESTRICT_ID_REJECT_SENDER_LOGIN_MISMATCH, 0, NULL },
	{ "reject_authenticated_sender_login_mismatch", RESTRICT_ID_REJECT_AUTH_SENDER_LOGIN_MISMATCH, 0, NULL },
	{ "reject_known_sender_login_mismatch", RESTRICT_ID_REJECT_KNOWN_SENDER_LOGIN_MISMATCH, 0, NULL },
	{ "reject_unauthenticated_sender_login_mismatch", RESTRICT_ID_REJECT_UNAUTH_SENDER_LOGIN_MISMATCH, 0, NULL },
	{ "check_client_access",       RESTRICT_ID_CHECK_CLIENT_ACCESS,    RESTRICT_DEF_TABLE, NULL },
	{ "check_helo_access",         RESTRICT_ID_CHECK_HELO_ACCESS,      RESTRICT_DEF_TABLE, NULL },
	{ "check_sender_access",       RESTRICT_ID_CHECK_SENDER_ACCESS,    RESTRICT_DEF_TABLE, NULL },
	{ "check_recipient_access",    RESTRICT_ID_CHECK_RECIPIENT_ACCESS, RESTRICT_DEF_TABLE, NULL },
	{ "reject_unknown_sender_domain",    RESTRICT_ID_REJECT_UNKNOWN_SENDER_DOMAIN,    RESTRICT_DEF_DNS, NULL },
	{ "reject_unknown_recipient_domain", RESTRICT_ID_REJECT_UNKNOWN_RECIPIENT_DOMAIN, RESTRICT_DEF_DNS, NULL },
	{ "reject_unknown_helo_hostname",    RESTRICT_ID_REJECT_UNKNOWN_HELO_HOSTNAME,    RESTRICT_DEF_DNS, NULL },
	{ "reject_unknown_hostname",         RESTRICT_ID_REJECT_UNKNOWN_HELO_HOSTNAME,    RESTRICT_DEF_DNS, NULL },
	{ "defer_if_permit",                 RESTRICT_ID_DEFER_IF_PERMIT,                 0, NULL },
	{ "reject_unauth_pipelining",        RESTRICT_ID_REJECT_UNAUTH_PIPELINING,        0, NULL },
	{ "warn_if_reject",                  RESTRICT_ID_WARN_IF_REJECT,                  0, NULL },
	/* Postfix's, refused at start-up rather than silently ignored */
	{ "reject_unknown_client_hostname",  RESTRICT_ID_REFUSED, 0, RESTRICT_NEEDS_DNS },
	{ "reject_unknown_client",           RESTRICT_ID_REFUSED, 0, RESTRICT_NEEDS_DNS },
	{ "reject_unknown_reverse_client_hostname", RESTRICT_ID_REFUSED, 0, RESTRICT_NEEDS_DNS },
	{ "reject_unknown_forward_client_hostname", RESTRICT_ID_REFUSED, 0, RESTRICT_NEEDS_DNS },
	{ "reject_unverified_sender",        RESTRICT_ID_REFUSED, 0, RESTRICT_NEEDS_DNS },
	{ "reject_unverified_recipient",     RESTRICT_ID_REFUSED, 0, RESTRICT_NEEDS_DNS },
	{ "reject_rbl_client",               RESTRICT_ID_REFUSED, 0, RESTRICT_NEEDS_DNS },
	{ "reject_rhsbl_client",             RESTRICT_ID_REFUSED, 0, RESTRICT_NEEDS_DNS },
	{ "reject_rhsbl_reverse_client",     RESTRICT_ID_REFUSED, 0, RESTRICT_NEEDS_DNS },
	{ "reject_rhsbl_helo",               RESTRICT_ID_REFUSED, 0, RESTRICT_NEEDS_DNS },
	{ "reject_rhsbl_sender",             RESTRICT_ID_REFUSED, 0, RESTRICT_NEEDS_DNS },
	{ "reject_rhsbl_recipient",          RESTRICT_ID_REFUSED, 0, RESTRICT_NEEDS_DNS },
	{ "permit_dnswl_client",             RESTRICT_ID_REFUSED, 0, RESTRICT_NEEDS_DNS },
	{ "permit_rhswl_client",             RESTRICT_ID_REFUSED, 0, RESTRICT_NEEDS_DNS },
	{ "permit_mx_backup",                RESTRICT_ID_REFUSED, 0, RESTRICT_NEEDS_DNS },
	{ "check_client_mx_access",          RESTRICT_ID_REFUSED, 0, RESTRICT_NEEDS_DNS },
	{ "check_client_ns_access",          RESTRICT_ID_REFUSED, 0, RESTRICT_NEEDS_DNS },
	{ "check_client_a_access",           RESTRICT_ID_REFUSED, 0, RESTRICT_NEEDS_DNS },
	{ "check_helo_mx_access",            RESTRICT_ID_REFUSED, 0, RESTRICT_NEEDS_DNS },
	{ "check_helo_ns_access",            RESTRICT_ID_REFUSED, 0, RESTRICT_NEEDS_DNS },
	{ "check_helo_a_access",             RESTRICT_ID_REFUSED, 0, RESTRICT_NEEDS_DNS },
	{ "check_sender_mx_access",          RESTRICT_ID_REFUSED, 0, RESTRICT_NEEDS_DNS },
	{ "check_sender_ns_access",          RESTRICT_ID_REFUSED, 0, RESTRICT_NEEDS_DNS },
	{ "check_sender_a_access",           RESTRICT_ID_REFUSED, 0, RESTRICT_NEEDS_DNS },
	{ "check_recipient_mx_access",       RESTRICT_ID_REFUSED, 0, RESTRICT_NEEDS_DNS },
	{ "check_recipient_ns_access",       RESTRICT_ID_REFUSED, 0, RESTRICT_NEEDS_DNS },
	{ "check_recipient_a_access",        RESTRICT_ID_REFUSED, 0, RESTRICT_NEEDS_DNS },
	{ "check_policy_service",            RESTRICT_ID_REFUSED, 0, RESTRICT_NOT_YET },
	{ "check_sasl_access",               RESTRICT_ID_REFUSED, 0, RESTRICT_NOT_YET },
	{ "check_ccert_access",              RESTRICT_ID_REFUSED, 0, RESTRICT_NOT_YET },
	{ "permit_tls_clientcerts",          RESTRICT_ID_REFUSED, 0, RESTRICT_NOT_YET },
	{ "permit_tls_all_clientcerts",      RESTRICT_ID_REFUSED, 0, RESTRICT_NOT_YET },
	{ "reject_multi_recipient_bounce",   RESTRICT_ID_REFUSED, 0, RESTRICT_NOT_YET },
	{ "reject_plaintext_session",        RESTRICT_ID_REFUSED, 0, RESTRICT_NOT_YET },
	{ "defer_if_reject",                 RESTRICT_ID_REFUSED, 0, RESTRICT_NOT_YET },
	{ "sleep",                           RESTRICT_ID_REFUSED, 0, RESTRICT_NOT_YET },
};
// clang-format on

/* Which lists speak of what, by the end of the parameter's name. */
enum restrict_kind {
	RESTRICT_KIND_CLIENT,
	RESTRICT_KIND_HELO,
	RESTRICT_KIND_SENDER,
	RESTRICT_KIND_RECIPIENT,
	RESTRICT_KIND_DATA,
};

// clang-format off
static const struct {
	const char *suffix;
	enum restrict_kind kind;
} restrict_kinds[] = {
	{ "client_restrictions",    RESTRICT_KIND_CLIENT },
	{ "helo_restrictions",      RESTRICT_KIND_HELO },
	{ "sender_restrictions",    RESTRICT_KIND_SENDER },
	{ "relay_restrictions",     RESTRICT_KIND_RECIPIENT },
	{ "recipient_restrictions", RESTRICT_KIND_RECIPIENT },
	{ "data_restrictions",      RESTRICT_KIND_DATA },
};
// clang-format on

struct restrict_list {
	char *param;
	enum restrict_kind kind;
	struct restrict_item *v;
	size_t n;
};

const struct restrict_def *
restrict_def_find(const char *name)
{
	size_t i;

	for (i = 0; i < MW_NELEM(restrict_defs); i++)
		if (ascii_eq(name, restrict_defs[i].name))
			return &restrict_defs[i];
	return NULL;
}

/* Levenshtein distance of two short strings (ASCII case-insensitive);
 * SIZE_MAX when either is too long to be a typo of a name. */
static size_t
restrict_distance(const char *a, const char *b)
{
	size_t row[65], la = strlen(a), lb = strlen(b), i, j, diag, up, best;

	if (la > 64 || lb > 64)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		diag = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			up = row[j];
			best = diag + !ascii_eq_n(a + i - 1, b + j - 1, 1);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* The known name nearest to name, or NULL when none is close. */
static const char *
restrict_def_nearest(const char *name)
{
	size_t i, d, best = SIZE_MAX, limit = strlen(name) / 5;
	const char *near = NULL;

	if (limit < 2)
		limit = 2;
	for (i = 0; i < MW_NELEM(restrict_defs); i++) {
		d = restrict_distance(name, restrict_defs[i].name);
		if (d < best) {
			best = d;
			near = restrict_defs[i].name;
		}
	}
	return best <= limit && best < strlen(name) ? near : NULL;
}

void
restrict_reply_init(struct restrict_reply *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->text, RESTRICT_TEXT_MAX);
	buf_init(&r->dip_text, RESTRICT_TEXT_MAX);
	buf_init(&r->warnings, RESTRICT_WARNINGS_MAX);
}

void
restrict_reply_free(struct restrict_reply *r)
{
	buf_free(&r->text);
	buf_free(&r->dip_text);
	buf_free(&r->warnings);
}

void
restrict_reply_begin(struct restrict_reply *r)
{
	r->dip_code = 0;
	r->dip_enh[0] = '\0';
	buf_reset(&r->dip_text);
	r->dip_restriction = NULL;
	buf_reset(&r->warnings);
}

enum restrict_verdict
restrict_reply_end(struct restrict_reply *r, enum restrict_verdict v)
{
	if ((v != RESTRICT_DUNNO && v != RESTRICT_PERMIT) || r->dip_code == 0)
		return v;
	r->code = r->dip_code;
	memcpy(r->enh, r->dip_enh, sizeof(r->enh));
	buf_reset(&r->text);
	MW_ASSERT(buf_append(&r->text, r->dip_text.data != NULL
	                                   ? r->dip_text.data
	                                   : "",
	              r->dip_text.len) == 0);
	r->restriction = r->dip_restriction;
	r->disconnect = false;
	return RESTRICT_DEFER;
}

static enum restrict_verdict
restrict_reply_vset(struct restrict_eval *ev, enum restrict_verdict verdict,
    int code, const char *enh, const char *fmt, va_list ap)
{
	struct restrict_reply *out = ev->out;
	struct buf tmp;
	size_t i, n;

	MW_ASSERT(code >= 400 && code <= 599);
	out->code = code;
	(void)snprintf(out->enh, sizeof(out->enh), "%s", enh);
	/* RFC 3463 2: the class digit says what the reply code says */
	out->enh[0] = (char)('0' + code / 100);
	buf_init(&tmp, 4 * RESTRICT_TEXT_MAX);
	if (buf_vprintf(&tmp, fmt, ap) == -1)
		buf_reset(&tmp);
	n = tmp.len < RESTRICT_TEXT_MAX ? tmp.len : RESTRICT_TEXT_MAX;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)tmp.data[i];

		/* a reply is one line of ASCII text (RFC 5321 4.2): nothing
		 * may end it early, and client bytes stay 7-bit */
		if (c < 0x20 || c >= 0x7f)
			tmp.data[i] = '?';
	}
	buf_reset(&out->text);
	MW_ASSERT(
	    buf_append(&out->text, tmp.data != NULL ? tmp.data : "", n) == 0);
	buf_free(&tmp);
	return verdict;
}

enum restrict_verdict
restrict_reply_set(struct restrict_eval *ev, enum restrict_verdict verdict,
    int code, const char *enh, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verdict = restrict_reply_vset(ev, verdict, code, enh, fmt, ap);
	va_end(ap);
	return verdict;
}

enum restrict_verdict
restrict_defer_if_permit(struct restrict_eval *ev, int code, const char *enh,
    const char *fmt, ...)
{
	struct restrict_reply *out = ev->out;
	struct buf keep;
	va_list ap;

	if (out->dip_code != 0)
		return RESTRICT_DUNNO; /* the first one stands */
	va_start(ap, fmt);
	(void)restrict_reply_vset(ev, RESTRICT_DEFER, code, enh, fmt, ap);
	va_end(ap);
	out->dip_code = out->code;
	memcpy(out->dip_enh, out->enh, sizeof(out->dip_enh));
	keep = out->dip_text; /* swap: the reply text becomes the kept one */
	out->dip_text = out->text;
	out->text = keep;
	buf_reset(&out->text);
	out->dip_restriction = ev->label;
	out->code = 0;
	out->enh[0] = '\0';
	return RESTRICT_DUNNO;
}

enum restrict_verdict
restrict_reply_tempfail(struct restrict_eval *ev, const char *reply_name)
{
	return restrict_reply_set(ev, RESTRICT_DEFER, 451, "4.3.0",
	    "<%s>: Temporary lookup failure", reply_name);
}

static void
restrict_item_free(struct restrict_item *it)
{
	maptable_free(&it->table);
	free(it->label);
}

void
restrict_list_free(struct restrict_list **lp)
{
	struct restrict_list *l = *lp;
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
		restrict_item_free(&l->v[i]);
	free(l->v);
	free(l->param);
	free(l);
	*lp = NULL;
}

/* Fills it from items[*i] (and its table); moves *i past them. 0 or -1. */
static int
restrict_item_parse(const char *param, const struct conf_list *items, size_t *i,
    struct restrict_item *it, struct buf *err)
{
	const char *name = items->items[*i], *near, *spec;
	struct buf terr;

	it->def = restrict_def_find(name);
	if (it->def == NULL) {
		near = restrict_def_nearest(name);
		(void)!buf_printf(err, "%s: unknown restriction \"%s\"", param,
		    log_sanitize_str(name));
		if (near != NULL)
			(void)!buf_printf(err, " (did you mean \"%s\"?)", near);
		return -1;
	}
	if (it->def->id == RESTRICT_ID_REFUSED) {
		(void)!buf_printf(err, "%s: %s %s (remove it for now)", param,
		    it->def->name, it->def->why);
		return -1;
	}
	(*i)++;
	if ((it->def->flags & RESTRICT_DEF_TABLE) == 0) {
		it->label = xstrdup(it->def->name);
		return 0;
	}
	spec = *i < items->n ? items->items[*i] : NULL;
	/* Postfix's is_map_command(): the next word must be type:name */
	if (spec == NULL || strchr(spec, ':') == NULL) {
		(void)!buf_printf(err,
		    "%s: %s needs a table after it, as in \"%s "
		    "hash:/etc/mailwright/access\"%s%s%s",
		    param, it->def->name, it->def->name,
		    spec != NULL ? " (not \"" : "",
		    spec != NULL ? log_sanitize_str(spec) : "",
		    spec != NULL ? "\")" : "");
		return -1;
	}
	buf_init(&terr, 4096);
	it->table = maptable_open(spec, &terr);
	if (it->table == NULL) {
		(void)!buf_printf(err, "%s: %s %s: %s", param, it->def->name,
		    log_sanitize_str(spec), buf_cstr(&terr));
		buf_free(&terr);
		return -1;
	}
	buf_free(&terr);
	(*i)++;
	it->label = xasprintf("%s %s", it->def->name, maptable_spec(it->table));
	return 0;
}

struct restrict_list *
restrict_list_new(
    const char *param_name, const struct conf_list *items, struct buf *err)
{
	struct restrict_list *l;
	size_t i, k, plen = strlen(param_name), slen;

	buf_reset(err);
	for (k = 0; k < MW_NELEM(restrict_kinds); k++) {
		slen = strlen(restrict_kinds[k].suffix);
		if (plen >= slen &&
		    strcmp(param_name + plen - slen,
		        restrict_kinds[k].suffix) == 0)
			break;
	}
	if (k == MW_NELEM(restrict_kinds)) {
		(void)!buf_printf(
		    err, "%s: not a restriction list", param_name);
		return NULL;
	}
	l = xcalloc(1, sizeof(*l));
	l->param = xstrdup(param_name);
	l->kind = restrict_kinds[k].kind;
	l->v = xcalloc(items->n > 0 ? items->n : 1, sizeof(*l->v));
	for (i = 0; i < items->n;) {
		if (restrict_item_parse(
		        param_name, items, &i, &l->v[l->n], err) == -1) {
			restrict_item_free(&l->v[l->n]);
			restrict_list_free(&l);
			return NULL;
		}
		l->n++;
	}
	return l;
}

bool
restrict_list_empty(const struct restrict_list *l)
{
	return l->n == 0;
}

bool
restrict_list_needs_dns(const struct restrict_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].def->flags & RESTRICT_DEF_DNS)
			return true;
	return false;
}

bool
restrict_list_guards_relay(const struct restrict_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		switch (l->v[i].def->id) {
		case RESTRICT_ID_REJECT_ALL:
		case RESTRICT_ID_DEFER_ALL:
		case RESTRICT_ID_REJECT_UNAUTH_DESTINATION:
		case RESTRICT_ID_DEFER_UNAUTH_DESTINATION:
			return true;
		default:
			break;
		}
	return false;
}

/* The client's address as Postfix writes it: IPv4-mapped as IPv4. */
static void
restrict_addr_str(const struct sockaddr *sa, char *out, size_t size)
{
	const struct sockaddr_in6 *s6;

	out[0] = '\0';
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET) {
		if (inet_ntop(AF_INET,
		        &((const struct sockaddr_in *)(const void *)sa)
		             ->sin_addr,
		        out, (socklen_t)size) == NULL)
			out[0] = '\0';
		return;
	}
	if (sa->sa_family != AF_INET6)
		return;
	s6 = (const struct sockaddr_in6 *)(const void *)sa;
	if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		if (inet_ntop(AF_INET, s6->sin6_addr.s6_addr + 12, out,
		        (socklen_t)size) == NULL)
			out[0] = '\0';
	} else if (inet_ntop(AF_INET6, &s6->sin6_addr, out, (socklen_t)size) ==
	    NULL)
		out[0] = '\0';
}

enum restrict_verdict
restrict_list_eval(const struct restrict_list *l,
    const struct restrict_ctx *ctx, struct restrict_reply *out)
{
	struct restrict_eval ev;
	const struct restrict_item *it;
	const char *rname = "", *rclass = RESTRICT_CLASS_RECIPIENT;
	enum restrict_verdict v = RESTRICT_DUNNO;
	bool warn = false; /* the previous item was warn_if_reject */
	size_t i;

	out->code = 0;
	out->enh[0] = '\0';
	buf_reset(&out->text);
	out->disconnect = false;
	out->restriction = NULL;
	memset(&ev, 0, sizeof(ev));
	ev.ctx = ctx;
	ev.out = out;
	restrict_addr_str(ctx->client_addr, ev.addr, sizeof(ev.addr));
	/* 1024: a name of at most 255 octets and an address, with room */
	buf_init(&ev.namaddr, 1024);
	if (buf_printf(&ev.namaddr, "%s[%s]",
	        ctx->client_name != NULL ? ctx->client_name : "unknown",
	        ev.addr) == -1)
		buf_reset(&ev.namaddr);
	switch (l->kind) {
	case RESTRICT_KIND_CLIENT:
		rname = buf_cstr(&ev.namaddr);
		rclass = RESTRICT_CLASS_CLIENT;
		break;
	case RESTRICT_KIND_HELO:
		rname = ctx->helo != NULL ? ctx->helo : "";
		rclass = RESTRICT_CLASS_HELO;
		break;
	case RESTRICT_KIND_SENDER:
		rname = ctx->sender != NULL ? ctx->sender : "";
		rclass = RESTRICT_CLASS_SENDER;
		break;
	case RESTRICT_KIND_RECIPIENT:
		rname = ctx->recipient != NULL ? ctx->recipient : "";
		rclass = RESTRICT_CLASS_RECIPIENT;
		break;
	case RESTRICT_KIND_DATA:
		rname = "DATA";
		rclass = RESTRICT_CLASS_DATA;
		break;
	}
	for (i = 0; i < l->n && v == RESTRICT_DUNNO; i++) {
		it = &l->v[i];
		if (it->def->id == RESTRICT_ID_WARN_IF_REJECT) {
			warn = true;
			continue;
		}
		ev.label = it->label;
		if (it->def->flags & RESTRICT_DEF_TABLE)
			v = restrict_check_access(&ev, it);
		else
			v = restrict_check_simple(
			    &ev, it->def->id, rname, rclass);
		if (warn && (v == RESTRICT_REJECT || v == RESTRICT_DEFER)) {
			/* Postfix: log "reject_warning" and go on */
			(void)!buf_printf(&out->warnings, "%d %s %s\n",
			    out->code, out->enh, buf_cstr(&out->text));
			out->code = 0;
			out->enh[0] = '\0';
			buf_reset(&out->text);
			out->disconnect = false;
			v = RESTRICT_DUNNO;
		}
		warn = false;
		if (v != RESTRICT_DUNNO)
			out->restriction = it->label;
	}
	if (v == RESTRICT_DUNNO || v == RESTRICT_PERMIT) {
		out->code = 0;
		out->enh[0] = '\0';
		buf_reset(&out->text);
	}
	buf_free(&ev.namaddr);
	return v;
}
