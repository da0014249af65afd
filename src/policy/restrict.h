/*
 * SMTP restriction lists with Postfix's names, evaluation and reply texts
 * (postconf(5) smtpd_*_restrictions, SMTPD_ACCESS_README, access(5)):
 * smtpd_client_restrictions, smtpd_helo_restrictions,
 * smtpd_sender_restrictions, smtpd_relay_restrictions,
 * smtpd_recipient_restrictions and smtpd_data_restrictions are each a
 * list of restrictions tried in order until one decides (PERMIT, REJECT
 * or DEFER); a list that decides nothing leaves the answer to the next
 * list (DUNNO). Which lists run when (smtpd_delay_reject) is the SMTP
 * server's business.
 *
 * A list is parsed and checked once at start-up (unknown names, missing
 * tables: one line of error). Evaluation is pure apart from table lookups
 * and the caller's callbacks, both of which may block: run it on a worker
 * thread. A list is read-only after restrict_list_new(): any number of
 * threads may evaluate it at once.
 */
#ifndef POLICY_RESTRICT_H
#define POLICY_RESTRICT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "dns/dns.h"
#include "lib/buf.h"
#include "lib/mw.h"

struct conf_list;
struct restrict_list;
struct restrict_login_maps;

/* The SMTP command being answered; names it in WARN/INFO log lines. */
enum restrict_stage {
	RESTRICT_STAGE_CLIENT, /* the connection (CONNECT) */
	RESTRICT_STAGE_HELO,
	RESTRICT_STAGE_SENDER,    /* MAIL */
	RESTRICT_STAGE_RECIPIENT, /* RCPT */
	RESTRICT_STAGE_DATA,      /* DATA or BDAT */
};

enum restrict_verdict {
	RESTRICT_DUNNO,  /* nothing decided: go on with the next list */
	RESTRICT_PERMIT, /* accepted by this list */
	RESTRICT_REJECT, /* 5xx in the reply */
	RESTRICT_DEFER,  /* 4xx in the reply */
};

/* What a callback answers; TEMPFAIL makes the restriction reply 451. */
enum restrict_answer {
	RESTRICT_ANSWER_NO,
	RESTRICT_ANSWER_YES,
	RESTRICT_ANSWER_TEMPFAIL,
};

/*
 * YES when mail for domain is delivered here (the domain is lowercase,
 * without a trailing dot; an address literal comes as "[192.0.2.1]" or
 * "[ipv6:2001:db8::1]").
 */
typedef enum restrict_answer restrict_is_local_domain_fn(
    void *arg, const char *domain);
/* YES when domain is one of relay_domains: mail for it is accepted from
 * anyone and relayed (reject_unauth_destination lets it pass). */
typedef enum restrict_answer restrict_is_relay_domain_fn(
    void *arg, const char *domain);
/* YES when address (at a local domain, normalised: mailaddr_normalize)
 * has a mailbox or an alias, NO when the user is unknown. */
typedef enum restrict_answer restrict_is_listed_recipient_fn(
    void *arg, const char *address);
/* YES with the login names that own sender appended to logins_out
 * (separated by commas or white space), NO when nobody owns it. */
typedef enum restrict_answer restrict_sender_owners_fn(
    void *arg, const char *sender, struct buf *logins_out);
/* domain in DNS as a mail host (dns_mailhost_lookup: its MX first, or
 * its addresses first when host is true); may block up to dns_timeout. */
typedef enum dns_mailhost restrict_mailhost_fn(
    void *arg, const char *domain, bool host);

/*
 * What a restriction may look at. Strings are borrowed; NULL means "not
 * known (yet)", and restrictions about it then decide nothing, as in
 * Postfix (reject_non_fqdn_sender in smtpd_client_restrictions without
 * smtpd_delay_reject, say).
 */
struct restrict_ctx {
	enum restrict_stage stage;
	const struct sockaddr *client_addr; /* AF_INET or AF_INET6 */
	const char *client_name;            /* verified name; NULL: "unknown" */
	const char *helo;                   /* HELO/EHLO argument */
	const char *sender;        /* MAIL FROM, no <>; "" is the null sender */
	const char *recipient;     /* RCPT TO, no <> */
	const char *sasl_username; /* NULL unless authenticated */
	bool in_mynetworks;        /* the client matches mynetworks */
	bool ill_pipelining; /* commands sent ahead where RFC 2920 forbids */
	const char *recipient_delimiter; /* NULL or "": no extensions */
	/* smtpd_sender_login_maps (NULL: none), asked before sender_owners */
	const struct restrict_login_maps *sender_login_maps;
	/* each may be NULL: no local domains / no recipient checks / nobody
	 * owns addresses */
	restrict_is_local_domain_fn *is_local_domain;
	restrict_is_relay_domain_fn *is_relay_domain;
	restrict_is_listed_recipient_fn *is_listed_recipient;
	restrict_sender_owners_fn *sender_owners;
	/* NULL: restrictions that need DNS decide nothing */
	restrict_mailhost_fn *mailhost;
	int unknown_address_code;  /* 0: 450 */
	int unknown_hostname_code; /* 0: 450 */
	void *arg; /* passed to the callbacks */
};

/* The most warn_if_reject warnings kept for one command, in bytes. */
#define RESTRICT_WARNINGS_MAX (16 * 512)

/* The longest reply text: RFC 5321 4.5.3.1.5 allows 512 octets a reply
 * line, code, enhanced code and CRLF included. */
#define RESTRICT_TEXT_MAX 480

struct restrict_reply {
	int code;        /* 4xx/5xx for REJECT and DEFER, else 0 */
	char enh[16];    /* RFC 3463 code: "5.7.1"; "" when code is 0 */
	struct buf text; /* "<x@y>: Relay access denied"; control and
	                    non-ASCII bytes replaced by '?', at most
	                    RESTRICT_TEXT_MAX */
	bool disconnect; /* 421/521 from an access table: close after */
	/* the restriction that decided, e.g. "reject_unauth_destination"
	 * or "check_client_access hash:/etc/x"; borrowed from the list */
	const char *restriction;
	/* A deferral waiting for the end of the command (Postfix's
	 * defer_if_permit): if no later restriction rejects or defers,
	 * restrict_reply_end() answers with it. dip_code 0: none. Kept
	 * across the lists of one command. */
	int dip_code;
	char dip_enh[16];
	struct buf dip_text;
	const char *dip_restriction;
	/* What warn_if_reject turned into warnings during the command: one
	 * line each, "450 4.1.8 <x@y>: Sender address rejected: ...\n", for
	 * the caller's "reject_warning" log lines. Kept across the lists of
	 * one command, like the deferral above. */
	struct buf warnings;
};

void restrict_reply_init(struct restrict_reply *r);
void restrict_reply_free(struct restrict_reply *r);
/* Forgets a waiting deferral: call before the first list of a command. */
void restrict_reply_begin(struct restrict_reply *r);
/*
 * v is the verdict after the last list of a command: when it is DUNNO or
 * PERMIT and a deferral waits, the reply becomes that deferral and DEFER
 * is returned; otherwise v.
 */
enum restrict_verdict restrict_reply_end(
    struct restrict_reply *r, enum restrict_verdict v);

/*
 * Parses items, the value of param_name (which also decides the reply
 * class of a plain reject: "Client host", "Helo command", "Sender
 * address", "Recipient address" or "Data command"; the name must end in
 * client_, helo_, sender_, relay_, recipient_ or data_restrictions).
 * check_*_access takes the next item as its table ("type:name") and opens
 * it. Returns the list, or NULL with one line in err:
 * `smtpd_relay_restrictions: unknown restriction "permit_mynetwork" (did
 * you mean "permit_mynetworks"?)`. Postfix restrictions we lack
 * (reject_rbl_client, ...) are refused with a message saying so.
 */
struct restrict_list *restrict_list_new(
    const char *param_name, const struct conf_list *items, struct buf *err);
void restrict_list_free(struct restrict_list **l);
/* True when the list has no restrictions. */
bool restrict_list_empty(const struct restrict_list *l);
/*
 * Postfix's start-up check for relay control: true when the list holds
 * reject_unauth_destination, defer_unauth_destination, reject or defer. A
 * server whose smtpd_relay_restrictions and smtpd_recipient_restrictions
 * both lack one is an open relay.
 */
bool restrict_list_guards_relay(const struct restrict_list *l);
/* True when the list has a restriction that looks names up in DNS
 * (reject_unknown_sender_domain, ...): the caller must then give
 * restrict_ctx a mailhost callback. */
bool restrict_list_needs_dns(const struct restrict_list *l);

/*
 * Evaluates l. out must have been initialised with restrict_reply_init();
 * it is overwritten. Returns DUNNO or PERMIT (out->code 0), or REJECT or
 * DEFER with the reply in out. Lookup failures and broken tables answer
 * DEFER 451 (4.3.0 "Temporary lookup failure", 4.3.5 "Server
 * configuration error") and log a warning.
 */
enum restrict_verdict restrict_list_eval(const struct restrict_list *l,
    const struct restrict_ctx *ctx, struct restrict_reply *out);

/*
 * smtpd_sender_login_maps: the tables (specs as in maptable_open) that say
 * which logins own which sender addresses ("user@domain  login1, login2").
 * A sender is looked up as "user+ext@domain", "user@domain", then
 * "user+ext" and "user" when its domain is local, then "@domain"
 * (Postfix's mail_addr_find). Returns the maps (maybe empty) or NULL with
 * one line in err.
 */
struct restrict_login_maps *restrict_login_maps_new(
    const struct conf_list *specs, struct buf *err);
void restrict_login_maps_free(struct restrict_login_maps **m);

#endif
