/*
 * check_client_access, check_helo_access, check_sender_access and
 * check_recipient_access: which keys are looked up in what order, and
 * what the value found means (access(5), Postfix smtpd_check.c).
 *
 * Lookup orders, first found wins; partial keys only in tables of fixed
 * strings (hash:, texthash:), pattern tables see the whole key only:
 *   client:  its name, then the parent domains ("mx.a.example",
 *            "a.example", "example"), then its address and the shorter
 *            networks ("192.0.2.7", "192.0.2", "192.0", "192"; IPv6 cut
 *            at ':'); a client without a name is "unknown"
 *   helo:    the name and its parent domains
 *   address: "user+ext@domain", "user@domain", "domain" and its parents,
 *            "user+ext@", "user@"; the null sender is "<>"
 * Parent domains are searched as Postfix does by default
 * (parent_domain_matches_subdomains includes smtpd_access_maps): the
 * entry "example.org" also matches "mx.example.org".
 *
 * Values: OK, RELAY or all digits permit; REJECT [text], DEFER [text],
 * "4NN text" and "5NN text" refuse (with an optional RFC 3463 code first
 * in the text); DUNNO stops the search without a decision; WARN and INFO
 * log; anything else is a list of restrictions that need no table
 * ("permit_mynetworks, reject"). Actions we cannot carry out yet (HOLD,
 * DISCARD, FILTER, REDIRECT, BCC, PREPEND, DEFER_IF_*) answer 451 4.3.5
 * "Server configuration error" with a warning rather than being ignored,
 * as Postfix answers an access table it cannot use.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "lib/xalloc.h"
#include "policy/maptable.h"
#include "policy/restrict_private.h"

/* A value as long as an access table line may be (maptable line_max). */
#define RESTRICT_VALUE_MAX (64 * 1024)

/* One access check in progress. */
struct restrict_access {
	struct restrict_eval *ev;
	const struct restrict_item *item;
	const char *rname, *rclass;
	bool found;
	struct buf value;
};

/* Postfix's smtpd_dsn_fix() table: the sender and recipient variants
 * of X.1.Y codes. */
// clang-format off
static const struct {
	char detail;
	const char *sender, *recipient;
} restrict_dsn_map[] = {
	{ '1', "4.1.7", "4.1.1" },
	{ '2', "4.1.8", "4.1.2" },
	{ '3', "4.1.7", "4.1.3" },
	{ '4', "4.1.7", "4.1.4" },
	{ '5', "4.1.0", "4.1.5" },
	{ '6', "4.1.7", "4.1.6" },
	{ '7', "4.1.7", "4.1.3" },
	{ '8', "4.1.8", "4.1.2" },
};
// clang-format on

static size_t
restrict_digits(const char *p)
{
	size_t n = 0;

	while (p[n] >= '0' && p[n] <= '9')
		n++;
	return n;
}

/*
 * Postfix dsn_split(): when text starts with an RFC 3463 code (class 2, 4
 * or 5, then 1-3 and 1-3 digits) followed by white space or the end, that
 * code replaces def. Writes the code to enh and returns the text after it.
 */
static const char *
restrict_dsn_split(const char *text, const char *def, char *enh, size_t size)
{
	size_t a, b;

	(void)snprintf(enh, size, "%s", def);
	if ((text[0] != '2' && text[0] != '4' && text[0] != '5') ||
	    text[1] != '.')
		return text;
	a = restrict_digits(text + 2);
	if (a < 1 || a > 3 || text[2 + a] != '.')
		return text;
	b = restrict_digits(text + 3 + a);
	if (b < 1 || b > 3)
		return text;
	if (text[3 + a + b] != '\0' &&
	    !(text[3 + a + b] == ' ' || text[3 + a + b] == '\t'))
		return text;
	(void)snprintf(enh, size, "%.*s", (int)(3 + a + b), text);
	text += 3 + a + b;
	while (*text == ' ' || *text == '\t')
		text++;
	return text;
}

/*
 * Postfix smtpd_dsn_fix(): an address code (X.1.Y) in an access value is
 * made to fit what is being refused, so one table serves all checks.
 */
static void
restrict_dsn_fix(char *enh, size_t size, const char *rclass)
{
	const char *fix = "4.1.0";
	size_t i;
	char cls = enh[0];
	bool sender = strcmp(rclass, RESTRICT_CLASS_SENDER) == 0;

	if (strncmp(enh + 1, ".1.", 3) != 0)
		return;
	if (!sender && strcmp(rclass, RESTRICT_CLASS_RECIPIENT) != 0)
		fix = "4.0.0";
	else
		for (i = 0; i < MW_NELEM(restrict_dsn_map); i++)
			if (enh[4] == restrict_dsn_map[i].detail &&
			    enh[5] == '\0') {
				fix = sender ? restrict_dsn_map[i].sender
				             : restrict_dsn_map[i].recipient;
				break;
			}
	(void)snprintf(enh, size, "%c%s", cls, fix + 1);
}

static enum restrict_verdict
restrict_access_refuse(struct restrict_access *a, enum restrict_verdict v,
    int code, const char *def_enh, const char *text)
{
	char enh[16];

	text = restrict_dsn_split(text, def_enh, enh, sizeof(enh));
	restrict_dsn_fix(enh, sizeof(enh), a->rclass);
	return restrict_reply_set(a->ev, v, code, enh, "<%s>: %s rejected: %s",
	    a->rname, a->rclass, text[0] != '\0' ? text : "Access denied");
}

/* Postfix's answer to a table it cannot use. */
static enum restrict_verdict
restrict_access_config_error(struct restrict_access *a)
{
	return restrict_reply_set(a->ev, RESTRICT_DEFER, 451, "4.3.5",
	    "<%s>: %s rejected: Server configuration error", a->rname,
	    a->rclass);
}

/* WARN and INFO: one log line in Postfix's shape (log_whatsup). */
static void
restrict_access_log(
    struct restrict_access *a, const char *what, const char *text)
{
	static const char *const cmds[] = { "CONNECT", "HELO", "MAIL", "RCPT",
		"DATA" };
	const struct restrict_ctx *ctx = a->ev->ctx;

	log_info("NOQUEUE: %s: %s from %s: %s; from=<%s> to=<%s> helo=<%s>",
	    what, (size_t)ctx->stage < MW_NELEM(cmds) ? cmds[ctx->stage] : "?",
	    log_sanitize_str(buf_cstr(&a->ev->namaddr)), log_sanitize_str(text),
	    log_sanitize_str(ctx->sender != NULL ? ctx->sender : ""),
	    log_sanitize_str(ctx->recipient != NULL ? ctx->recipient : ""),
	    log_sanitize_str(ctx->helo != NULL ? ctx->helo : ""));
}

/* A value that names restrictions ("permit_mynetworks, reject"). */
static enum restrict_verdict
restrict_access_list(struct restrict_access *a, const char *value)
{
	const struct restrict_def *def;
	enum restrict_verdict v = RESTRICT_DUNNO;
	const char *p = value;
	char *word;
	size_t k;
	bool any = false;

	while (v == RESTRICT_DUNNO && *(p += strspn(p, ", \t")) != '\0') {
		k = strcspn(p, ", \t");
		word = xstrndup(p, k);
		p += k;
		any = true;
		def = restrict_def_find(word);
		if (def != NULL && (def->flags & RESTRICT_DEF_DNS) != 0 &&
		    a->ev->ctx->mailhost == NULL) {
			/* the server has a resolver only when a list names
			 * a DNS restriction */
			log_warn("%s: value \"%s\": \"%s\" needs DNS: name "
			         "it in a restriction list too",
			    a->item->label, log_sanitize_str(value),
			    log_sanitize_str(word));
			v = restrict_access_config_error(a);
		} else if (def == NULL || def->id == RESTRICT_ID_REFUSED ||
		    (def->flags & RESTRICT_DEF_TABLE) != 0) {
			log_warn("%s: value \"%s\": \"%s\" is not an action "
			         "or a restriction without a table",
			    a->item->label, log_sanitize_str(value),
			    log_sanitize_str(word));
			v = restrict_access_config_error(a);
		} else
			v = restrict_check_simple(
			    a->ev, def->id, a->rname, a->rclass);
		free(word);
	}
	/* Postfix: an empty value meant OK in the dark ages */
	return any ? v : RESTRICT_PERMIT;
}

/* What the value found means (Postfix check_table_result). */
static enum restrict_verdict
restrict_access_action(struct restrict_access *a, const char *value)
{
	static const char *const unsupported[] = { "HOLD", "DISCARD", "FILTER",
		"REDIRECT", "BCC", "PREPEND", "DEFER_IF_REJECT", "HANGUP" };
	size_t len = strcspn(value, " \t"), i;
	const char *text = value + len;
	char def[8];

	while (*text == ' ' || *text == '\t')
		text++;
#define RESTRICT_IS(word) (len == strlen(word) && ascii_eq_n(value, word, len))
	if (RESTRICT_IS("DUNNO"))
		return RESTRICT_DUNNO;
	if (RESTRICT_IS("REJECT"))
		return restrict_access_refuse(
		    a, RESTRICT_REJECT, 554, "5.7.1", text);
	if (RESTRICT_IS("DEFER"))
		return restrict_access_refuse(
		    a, RESTRICT_DEFER, 450, "4.7.1", text);
	if (RESTRICT_IS("DEFER_IF_PERMIT")) {
		/* access(5): 450 4.7.1 unless nothing later rejects */
		char enh[16];
		const char *t = restrict_dsn_split(text, "4.7.1", enh,
		    sizeof(enh));

		restrict_dsn_fix(enh, sizeof(enh), a->rclass);
		return restrict_defer_if_permit(a->ev, 450, enh,
		    "<%s>: %s rejected: %s", a->rname, a->rclass,
		    t[0] != '\0' ? t : "Access denied");
	}
	if (RESTRICT_IS("WARN") || RESTRICT_IS("INFO")) {
		restrict_access_log(
		    a, RESTRICT_IS("WARN") ? "warn" : "info", text);
		return RESTRICT_DUNNO;
	}
	for (i = 0; i < MW_NELEM(unsupported); i++)
		if (RESTRICT_IS(unsupported[i])) {
			log_warn("%s: action %s is not supported yet",
			    a->item->label, unsupported[i]);
			return restrict_access_config_error(a);
		}
	/* "an all-numerical result is treated as OK" (access(5)) */
	if (restrict_digits(value) == strlen(value))
		return RESTRICT_PERMIT;
	if (len == 3 && *text != '\0' && (value[0] == '4' || value[0] == '5') &&
	    restrict_digits(value) == 3) {
		(void)snprintf(def, sizeof(def), "%c.7.1", value[0]);
		/* access(5): 421 and 521 also close the connection */
		a->ev->out->disconnect = ascii_eq_n(value + 1, "21", 2);
		return restrict_access_refuse(a,
		    value[0] == '4' ? RESTRICT_DEFER : RESTRICT_REJECT,
		    (value[0] - '0') * 100 + (value[1] - '0') * 10 +
		        (value[2] - '0'),
		    def, text);
	}
	if (RESTRICT_IS("OK") || RESTRICT_IS("RELAY"))
		return RESTRICT_PERMIT;
#undef RESTRICT_IS
	return restrict_access_list(a, value);
}

/* Looks key up; a->found tells whether the search is over. */
static enum restrict_verdict
restrict_access_get(struct restrict_access *a, const char *key, bool partial)
{
	struct maptable *t = a->item->table;
	struct buf err;
	int rc;

	if (partial && !maptable_is_fixed(t))
		return RESTRICT_DUNNO;
	buf_init(&err, 4096);
	rc = maptable_lookup(t, key, &a->value, &err);
	if (rc == -1)
		log_warn("%s: %s", a->item->def->name, buf_cstr(&err));
	buf_free(&err);
	if (rc == 1)
		return RESTRICT_DUNNO;
	a->found = true;
	if (rc == -1)
		return restrict_access_config_error(a);
	return restrict_access_action(a, buf_cstr(&a->value));
}

/* Postfix check_domain_access(): name, then its parent domains. The
 * domain of an address is itself a partial key (partial). */
static enum restrict_verdict
restrict_access_domain(
    struct restrict_access *a, const char *domain, bool partial)
{
	enum restrict_verdict v;
	const char *name, *next;
	bool addr = domain[0] == '[' ||
	    strspn(domain, "0123456789.") == strlen(domain) ||
	    strchr(domain, ':') != NULL;

	for (name = domain; *name != '\0'; name = next) {
		v = restrict_access_get(a, name, partial || name != domain);
		if (a->found)
			return v;
		/* no subdomain magic for numerical hostnames */
		if (addr || (next = strchr(name + 1, '.')) == NULL)
			break;
		next++;
	}
	return RESTRICT_DUNNO;
}

/* Postfix check_addr_access(): the address, then shorter networks. */
static enum restrict_verdict
restrict_access_addr(struct restrict_access *a, const char *address)
{
	enum restrict_verdict v;
	char *key = xstrdup(address), *cut;
	char delim = strchr(key, ':') != NULL ? ':' : '.';
	bool partial = false;

	v = RESTRICT_DUNNO;
	do {
		v = restrict_access_get(a, key, partial);
		if (a->found)
			break;
		partial = true;
		cut = strrchr(key, delim);
		if (cut != NULL)
			*cut = '\0';
	} while (cut != NULL && key[0] != '\0');
	free(key);
	return v;
}

/* Postfix check_mail_access() with mail_addr_find_strategy(). */
static enum restrict_verdict
restrict_access_mail(struct restrict_access *a, const char *addr)
{
	const struct restrict_ctx *ctx = a->ev->ctx;
	enum restrict_verdict v = RESTRICT_DUNNO;
	struct restrict_addr ad;
	char *keys[4];
	size_t n = 0, i;
	bool routed;

	if (restrict_addr_split(addr, ctx->recipient_delimiter, &ad) == -1) {
		v = restrict_access_get(a, addr, false);
		return v == RESTRICT_PERMIT &&
		        strcmp(a->rclass, RESTRICT_CLASS_RECIPIENT) == 0
		    ? RESTRICT_DUNNO
		    : v;
	}
	/* a routing character in a recipient's local part is "too
	 * suspicious for returning an OK result" (Postfix) */
	routed = strcmp(a->rclass, RESTRICT_CLASS_RECIPIENT) == 0 &&
	    strpbrk(ad.local, "%!@") != NULL;
	keys[n++] = ad.domain[0] != '\0'
	    ? xasprintf("%s@%s", ad.local, ad.domain)
	    : xstrdup(ad.local);
	if (ad.base != NULL)
		keys[n++] = ad.domain[0] != '\0'
		    ? xasprintf("%s@%s", ad.base, ad.domain)
		    : xstrdup(ad.base);
	for (i = 0; i < n && !a->found; i++)
		v = restrict_access_get(a, keys[i], i > 0);
	if (!a->found && ad.domain[0] != '\0')
		v = restrict_access_domain(a, ad.domain, true);
	for (i = 0; i < n; i++)
		free(keys[i]);
	n = 0;
	keys[n++] = xasprintf("%s@", ad.local);
	if (ad.base != NULL)
		keys[n++] = xasprintf("%s@", ad.base);
	for (i = 0; i < n && !a->found; i++)
		v = restrict_access_get(a, keys[i], true);
	for (i = 0; i < n; i++)
		free(keys[i]);
	restrict_addr_free(&ad);
	return routed && v == RESTRICT_PERMIT ? RESTRICT_DUNNO : v;
}

enum restrict_verdict
restrict_check_access(
    struct restrict_eval *ev, const struct restrict_item *item)
{
	const struct restrict_ctx *ctx = ev->ctx;
	struct restrict_access a;
	enum restrict_verdict v = RESTRICT_DUNNO;

	memset(&a, 0, sizeof(a));
	a.ev = ev;
	a.item = item;
	buf_init(&a.value, RESTRICT_VALUE_MAX);
	switch (item->def->id) {
	case RESTRICT_ID_CHECK_CLIENT_ACCESS:
		a.rname = buf_cstr(&ev->namaddr);
		a.rclass = RESTRICT_CLASS_CLIENT;
		v = restrict_access_domain(&a,
		    ctx->client_name != NULL ? ctx->client_name : "unknown",
		    false);
		if (!a.found && ev->addr[0] != '\0')
			v = restrict_access_addr(&a, ev->addr);
		break;
	case RESTRICT_ID_CHECK_HELO_ACCESS:
		if (ctx->helo == NULL || ctx->helo[0] == '\0')
			break;
		a.rname = ctx->helo;
		a.rclass = RESTRICT_CLASS_HELO;
		v = restrict_access_domain(&a, ctx->helo, false);
		break;
	case RESTRICT_ID_CHECK_SENDER_ACCESS:
		if (ctx->sender == NULL)
			break;
		a.rname = ctx->sender;
		a.rclass = RESTRICT_CLASS_SENDER;
		/* smtpd_null_access_lookup_key: the null sender is "<>" */
		if (ctx->sender[0] == '\0')
			v = restrict_access_get(&a, "<>", false);
		else
			v = restrict_access_mail(&a, ctx->sender);
		break;
	case RESTRICT_ID_CHECK_RECIPIENT_ACCESS:
		if (ctx->recipient == NULL)
			break;
		a.rname = ctx->recipient;
		a.rclass = RESTRICT_CLASS_RECIPIENT;
		v = restrict_access_mail(&a, ctx->recipient);
		break;
	default:
		log_panic("restrict_check_access: restriction %d has no table",
		    (int)item->def->id);
	}
	buf_free(&a.value);
	return v;
}
