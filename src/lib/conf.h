/*
 * The configuration: one typed struct filled from a main.cf-syntax file.
 * Every parameter is declared once, in conf_params.c (name, type, default,
 * bounds, field, one-line help); that table drives parsing, validation,
 * `mailwright conf` and docs/configuration.md. Code reads the typed fields,
 * never a parameter by name at run time.
 */
#ifndef LIB_CONF_H
#define LIB_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/mw.h"

struct buf;
struct conf_limits;

/* A parsed list value: items split on commas and white space. */
struct conf_list {
	char **items;
	size_t n;
};

struct conf {
	char *config_file; /* the file this was loaded from (absolute) */

	/* identity */
	char *myhostname;
	char *mydomain;
	char *myorigin;
	char *mail_name;
	struct conf_list mydestination;
	struct conf_list mynetworks;
	char *inet_protocols; /* "all", "ipv4", "ipv6" */

	/* paths and processes */
	char *queue_directory;
	char *mail_directory; /* Maildirs live in <this>/<domain>/<local>/Maildir */
	char *mail_special_use_folders; /* store_defaults_parse() syntax */
	char *accounts_database;
	char *mail_owner;
	char *maillog_file; /* empty: stderr */
	struct conf_list alias_maps;
	struct conf_list alias_database;
	uint64_t smtpd_processes;
	uint64_t smtpd_worker_threads;
	uint64_t queue_delivery_threads;

	/* listeners: lists of address:port, empty to disable */
	struct conf_list smtpd_listen;
	struct conf_list submission_listen;
	struct conf_list smtps_listen;
	struct conf_list imap_listen;
	struct conf_list imaps_listen;
	struct conf_list pop3_listen;
	struct conf_list pop3s_listen;

	/* TLS material written by init (used by the TLS issue) */
	char *smtpd_tls_cert_file;
	char *smtpd_tls_key_file;
	char *smtpd_tls_security_level;      /* port 25: none, may, encrypt */
	char *submission_tls_security_level; /* submission listener */
	char *smtpd_tls_mandatory_protocols; /* ">=TLSv1.2" */
	char *tls_high_cipherlist;           /* OpenSSL cipher list (TLS 1.2) */
	bool smtpd_tls_auth_only;
	uint64_t smtpd_tls_session_cache_timeout;
	char *tls_server_sni_maps; /* "" or a file: domain key cert */
	bool smtpd_tls_received_header;

	/* SMTP AUTH */
	bool smtpd_sasl_auth_enable;      /* the MX listener */
	bool submission_sasl_auth_enable; /* submission and smtps */
	bool smtpd_sasl_authenticated_header;
	struct conf_list smtpd_sasl_mechanisms;
	uint64_t smtpd_auth_failure_limit;  /* failures per window, then ban */
	uint64_t smtpd_auth_failure_window; /* seconds */
	uint64_t smtpd_auth_ban_time;       /* seconds */
	uint64_t smtpd_auth_failure_delay;  /* seconds, doubles per failure */
	uint64_t smtpd_auth_cache_size;     /* verified credentials kept */

	/* restrictions (Postfix's names and semantics) */
	struct conf_list smtpd_client_restrictions;
	struct conf_list smtpd_helo_restrictions;
	struct conf_list smtpd_sender_restrictions;
	struct conf_list smtpd_relay_restrictions;
	struct conf_list smtpd_recipient_restrictions;
	struct conf_list smtpd_data_restrictions;
	struct conf_list submission_relay_restrictions;
	bool smtpd_delay_reject;
	struct conf_list smtpd_sender_login_maps;
	uint64_t unknown_address_reject_code;
	uint64_t unknown_hostname_reject_code;

	/* DNS */
	struct conf_list dns_servers;
	uint64_t dns_timeout; /* seconds */
	char *dns_trust_anchor_file; /* DNSSEC; "": no validation */

	/* addresses */
	char *recipient_delimiter; /* set of delimiter characters; "" = off */
	char *postmaster_recipient; /* "" = <mail_directory>/<domain>/postmaster */

	/* SMTP server */
	char *smtpd_banner;
	uint64_t message_size_limit;
	uint64_t header_size_limit; /* one header, as sendmail reads it */
	uint64_t smtpd_recipient_limit;
	uint64_t smtpd_timeout; /* seconds */
	uint64_t smtpd_line_limit;
	uint64_t smtpd_client_connection_count_limit;
	uint64_t smtpd_connection_limit; /* per smtpd process, all clients */
	uint64_t smtpd_hard_error_limit;
	bool smtpd_reject_bare_newline; /* no: normalise bare LF */

	/* POP3 server */
	uint64_t pop3_processes;
	uint64_t pop3_worker_threads;
	uint64_t pop3_idle_timeout;  /* seconds, after login */
	uint64_t pop3_login_timeout; /* seconds, before login */
	uint64_t pop3_line_limit;
	uint64_t pop3_hard_error_limit;
	uint64_t pop3_client_connection_count_limit;
	uint64_t pop3_connection_limit;
	uint64_t pop3_max_userip_connections;
	bool pop3_disable_plaintext_auth;
	struct conf_list pop3_plaintext_auth_networks;
	struct conf_list pop3_sasl_mechanisms;
	bool pop3_lock_session;

	/* IMAP server */
	uint64_t imap_processes;
	uint64_t imap_worker_threads;
	uint64_t imap_idle_timeout;  /* seconds, after login */
	uint64_t imap_login_timeout; /* seconds, before login */
	uint64_t imap_line_limit;
	uint64_t imap_literal_limit;
	uint64_t imap_append_limit; /* 0: message_size_limit */
	uint64_t imap_hard_error_limit;
	uint64_t imap_client_connection_count_limit;
	uint64_t imap_connection_limit;
	uint64_t imap_max_userip_connections;
	bool imap_disable_plaintext_auth;
	struct conf_list imap_plaintext_auth_networks;
	struct conf_list imap_sasl_mechanisms;
	char *imap_hierarchy_separator;

	/* queue and delivery */
	uint64_t queue_run_delay;
	uint64_t minimal_backoff_time;
	uint64_t maximal_backoff_time;
	uint64_t maximal_queue_lifetime;
	uint64_t alias_expansion_limit;
	uint64_t qmgr_message_active_limit;
	uint64_t bounce_queue_lifetime;
	uint64_t delay_warning_time; /* 0: no delay warnings */
	char *bounce_notice_recipient_2; /* 2bounce_notice_recipient */
	char *bounce_sender_name;        /* "MAILER-DAEMON" */

	/* routing (Postfix's names and semantics) */
	struct conf_list relay_domains;
	struct conf_list transport_maps;
	char *relayhost;         /* "" or [host]:port / host:port / host */
	char *default_transport; /* "smtp" */

	/* SMTP client */
	char *smtp_helo_name;
	char *smtp_bind_address;  /* "" or an IPv4 address */
	char *smtp_bind_address6; /* "" or an IPv6 address */
	uint64_t smtp_tcp_port;   /* the port of MX hosts (25) */
	char *smtp_address_preference; /* any, ipv4, ipv6 */
	char *smtp_tls_security_level; /* none, may, encrypt, dane, ... */
	char *smtp_tls_CAfile;
	struct conf_list smtp_tls_policy_maps;
	char *smtp_tls_mandatory_protocols;
	uint64_t smtp_connect_timeout;
	uint64_t smtp_helo_timeout;
	uint64_t smtp_starttls_timeout;
	uint64_t smtp_mail_timeout;
	uint64_t smtp_rcpt_timeout;
	uint64_t smtp_data_init_timeout;
	uint64_t smtp_data_xfer_timeout;
	uint64_t smtp_data_done_timeout;
	uint64_t smtp_rset_timeout;
	uint64_t smtp_quit_timeout;
	uint64_t smtp_line_length_limit; /* of a reply line we read */
	uint64_t smtp_destination_concurrency_limit;
	uint64_t smtp_initial_destination_concurrency;
	uint64_t smtp_destination_recipient_limit;
	uint64_t default_process_limit; /* outbound connections, all together */
	uint64_t smtp_connection_reuse_count_limit; /* 0: unlimited */
	uint64_t smtp_connection_reuse_time_limit;
	uint64_t smtp_connection_cache_time_limit;
	uint64_t smtp_mx_address_limit;
	bool smtp_skip_5xx_greeting;
	bool smtp_use_chunking;
	bool smtp_sasl_auth_enable;
	struct conf_list smtp_sasl_password_maps;
	bool smtp_sasl_tls_only;
};

/* Types of the table rows. */
enum conf_type {
	CONF_STRING,
	CONF_UINT,
	CONF_SIZE,     /* a byte count */
	CONF_TIME,     /* seconds; accepts s/m/h/d/w suffixes */
	CONF_BOOL,
	CONF_LIST,
};

struct conf_param {
	const char *name;
	enum conf_type type;
	const char *defval; /* NULL: computed at load time */
	uint64_t min, max; /* for CONF_UINT/SIZE/TIME */
	size_t offset;     /* of the field in struct conf */
	const char *help;  /* one line */
};

/* The table, in the order docs print it; NULL-name terminated. */
extern const struct conf_param conf_params[];

/* Looks a parameter up by name; NULL when unknown. */
const struct conf_param *conf_param_find(const char *name);
/* The known name nearest to name (edit distance), for "did you mean";
 * NULL when no name is close enough to be a typo of it. */
const char *conf_param_nearest(const char *name);
/* "string", "number", "size", "time", "yes/no" or "list". */
const char *conf_type_name(enum conf_type type);
/* The default as documented: defval, or a phrase for a computed default. */
const char *conf_param_default_doc(const struct conf_param *p);
/* Formats seconds with the largest exact unit ("4000s", "5m", "5d"). */
void conf_time_str(uint64_t secs, char *out, size_t outsz);
/* Appends the Markdown reference (docs/configuration.md) to out; 0 or -1. */
int conf_docs_markdown(struct buf *out) MW_MUST_CHECK;

/*
 * Loads path into a new struct conf with defaults for unset parameters,
 * $name expansion and validation. Unknown names are warned about (on
 * stderr, with the nearest known name), not fatal. On error returns NULL
 * and writes one line "file:line: parameter: what is wrong" into err.
 */
struct conf *conf_load(const char *path, struct buf *err);
/*
 * conf_load() over len bytes in memory, with label standing for the file
 * name in messages and limits lim (NULL: conf_limits_default). Warnings
 * (unknown names, unknown $x) are appended to warn, one per line, without
 * a "warning:" prefix. config_file is set to "".
 */
struct conf *conf_load_data(const char *label, const char *data, size_t len,
    const struct conf_limits *lim, struct buf *err, struct buf *warn);
/* A struct conf holding only the defaults (expanded). */
struct conf *conf_defaults(void);
void conf_free(struct conf **c);

/* The default configuration file: $MAILWRIGHT_CONFIG or /etc/mailwright/mailwright.cf. */
const char *conf_default_path(void);

/* True when s is an element of list (ASCII case-insensitive). */
bool conf_list_has(const struct conf_list *l, const char *s);

#endif
