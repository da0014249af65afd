/*
 * What the restriction files share inside src/policy: the table of
 * restriction names (restrict.c), one evaluation in progress, the reply
 * builder (restrict.c), the checks that need no table (restrict_check.c)
 * and the access-table checks (restrict_access.c).
 */
#ifndef POLICY_RESTRICT_PRIVATE_H
#define POLICY_RESTRICT_PRIVATE_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/mw.h"
#include "policy/restrict.h"

struct maptable;

enum restrict_id {
	RESTRICT_ID_PERMIT,
	RESTRICT_ID_REJECT_ALL,
	RESTRICT_ID_DEFER_ALL,
	RESTRICT_ID_PERMIT_MYNETWORKS,
	RESTRICT_ID_PERMIT_SASL_AUTHENTICATED,
	RESTRICT_ID_REJECT_UNAUTH_DESTINATION,
	RESTRICT_ID_DEFER_UNAUTH_DESTINATION,
	RESTRICT_ID_PERMIT_AUTH_DESTINATION,
	RESTRICT_ID_REJECT_UNLISTED_RECIPIENT,
	RESTRICT_ID_REJECT_UNLISTED_SENDER,
	RESTRICT_ID_REJECT_NON_FQDN_HELO_HOSTNAME,
	RESTRICT_ID_REJECT_INVALID_HELO_HOSTNAME,
	RESTRICT_ID_REJECT_NON_FQDN_SENDER,
	RESTRICT_ID_REJECT_NON_FQDN_RECIPIENT,
	RESTRICT_ID_REJECT_SENDER_LOGIN_MISMATCH,
	RESTRICT_ID_REJECT_AUTH_SENDER_LOGIN_MISMATCH,
	RESTRICT_ID_REJECT_KNOWN_SENDER_LOGIN_MISMATCH,
	RESTRICT_ID_REJECT_UNAUTH_SENDER_LOGIN_MISMATCH,
	RESTRICT_ID_CHECK_CLIENT_ACCESS,
	RESTRICT_ID_CHECK_HELO_ACCESS,
	RESTRICT_ID_CHECK_SENDER_ACCESS,
	RESTRICT_ID_CHECK_RECIPIENT_ACCESS,
	RESTRICT_ID_REJECT_UNKNOWN_SENDER_DOMAIN,
	RESTRICT_ID_REJECT_UNKNOWN_RECIPIENT_DOMAIN,
	RESTRICT_ID_REJECT_UNKNOWN_HELO_HOSTNAME,
	RESTRICT_ID_DEFER_IF_PERMIT,
	RESTRICT_ID_REJECT_UNAUTH_PIPELINING,
	RESTRICT_ID_WARN_IF_REJECT,
	RESTRICT_ID_REFUSED, /* a Postfix name we do not implement */
};

#define RESTRICT_DEF_TABLE 0x1 /* the next item is its table */
#define RESTRICT_DEF_DNS   0x2 /* looks names up in DNS */

struct restrict_def {
	const char *name;
	enum restrict_id id;
	unsigned flags;
	const char *why; /* RESTRICT_ID_REFUSED: why, for the error */
};

/* The definition of name (any case), or NULL. */
const struct restrict_def *restrict_def_find(const char *name);

struct restrict_item {
	const struct restrict_def *def;
	struct maptable *table; /* RESTRICT_DEF_TABLE */
	char *label;            /* "reject" or "check_helo_access pcre:/x" */
};

/* The reply classes of Postfix (SMTPD_NAME_*). */
#define RESTRICT_CLASS_CLIENT    "Client host"
#define RESTRICT_CLASS_HELO      "Helo command"
#define RESTRICT_CLASS_SENDER    "Sender address"
#define RESTRICT_CLASS_RECIPIENT "Recipient address"
#define RESTRICT_CLASS_DATA      "Data command"

/* One evaluation of a list. */
struct restrict_eval {
	const struct restrict_ctx *ctx;
	struct restrict_reply *out;
	char addr[INET6_ADDRSTRLEN]; /* the client's address, "" if none */
	struct buf namaddr;          /* "name[addr]" */
	const char *label;           /* the restriction being evaluated */
};

/*
 * Fills ev->out with code, enh (its class digit made to match code) and
 * the formatted text (cut at RESTRICT_TEXT_MAX, control and non-ASCII
 * bytes replaced) and returns verdict.
 */
enum restrict_verdict restrict_reply_set(struct restrict_eval *ev,
    enum restrict_verdict verdict, int code, const char *enh, const char *fmt,
    ...) MW_PRINTF(5, 6);
/*
 * Postfix's DEFER_IF_PERMIT: keeps the reply (formatted as by
 * restrict_reply_set) as the command's answer in case nothing later
 * rejects, unless one is kept already, and returns DUNNO.
 */
enum restrict_verdict restrict_defer_if_permit(struct restrict_eval *ev,
    int code, const char *enh, const char *fmt, ...) MW_PRINTF(4, 5);
/* 451 4.3.0 "<name>: Temporary lookup failure" (Postfix
 * reject_dict_retry). */
enum restrict_verdict restrict_reply_tempfail(
    struct restrict_eval *ev, const char *reply_name);

/*
 * A restriction that needs no table. reply_name and reply_class are what
 * permit/reject/defer speak of (the list's, or an access table's when the
 * restriction is an access table's value).
 */
enum restrict_verdict restrict_check_simple(struct restrict_eval *ev,
    enum restrict_id id, const char *reply_name, const char *reply_class);

/* reject_unknown_sender_domain, reject_unknown_recipient_domain,
 * reject_unknown_helo_hostname (restrict_dns.c). */
enum restrict_verdict restrict_check_dns(struct restrict_eval *ev,
    enum restrict_id id, const char *reply_name, const char *reply_class);

/* check_client/helo/sender/recipient_access with item's table. */
enum restrict_verdict restrict_check_access(
    struct restrict_eval *ev, const struct restrict_item *item);

/*
 * An address taken apart for table lookups (access(5), Postfix's
 * mail_addr_find). restrict_addr_split() returns 0, or -1 when addr does
 * not parse (then only the whole address can be looked up).
 */
struct restrict_addr {
	char *local;  /* as written, quotes kept */
	char *base;   /* local without its extension; NULL when it has none */
	char *domain; /* lowercased, no trailing dot; "" when there is none */
};
int restrict_addr_split(
    const char *addr, const char *delimiters, struct restrict_addr *out);
void restrict_addr_free(struct restrict_addr *a);

/*
 * The decision of reject_unauth_destination about recipient: YES when it
 * is delivered here (its domain is local; a domainless "postmaster"),
 * NO when it would be relayed, TEMPFAIL when is_local_domain failed.
 */
enum restrict_answer restrict_rcpt_is_local(
    const struct restrict_ctx *ctx, const char *recipient);

#endif
