/*
 * The parameter table: every configuration parameter, declared once, with
 * its type, default, bounds, field of struct conf and one line of help.
 * Parsing, validation, `mailwright conf` and docs/configuration.md are all
 * driven from here. Also the name lookups and the Markdown reference.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/xalloc.h"

#define CONF_FIELD(f) offsetof(struct conf, f)
#define CONF_KIB      ((uint64_t)1024)
#define CONF_DAY      ((uint64_t)86400)

/*
 * Defaults are Postfix's where the parameter is Postfix's, and say so in
 * the help when they are not. A NULL default is computed at load time.
 */
// clang-format off
const struct conf_param conf_params[] = {
	/* identity */
	{ "myhostname", CONF_STRING, NULL, 0, 0, CONF_FIELD(myhostname),
	    "The fully qualified host name of this mail system: SMTP greeting, HELO, Received: headers." },
	{ "mydomain", CONF_STRING, NULL, 0, 0, CONF_FIELD(mydomain),
	    "The domain of this mail system; the default is $myhostname without its first label, or localdomain." },
	{ "myorigin", CONF_STRING, "$myhostname", 0, 0, CONF_FIELD(myorigin),
	    "The domain appended to addresses of locally posted mail that have no domain." },
	{ "mail_name", CONF_STRING, "mailwright", 0, 0, CONF_FIELD(mail_name),
	    "The name of the mail system, as shown in the SMTP greeting and in bounces." },
	{ "mydestination", CONF_LIST, "$myhostname, localhost.$mydomain, localhost", 0, 0, CONF_FIELD(mydestination),
	    "The domains delivered locally, besides those in the accounts database." },
	{ "mynetworks", CONF_LIST, "", 0, 0, CONF_FIELD(mynetworks),
	    "Trusted client networks (address/prefix) that may relay; empty by default, safer than Postfix's subnet default." },
	{ "inet_protocols", CONF_STRING, "all", 0, 0, CONF_FIELD(inet_protocols),
	    "The IP versions used for outgoing connections and name lookups: all, ipv4 or ipv6." },

	/* paths and processes */
	{ "queue_directory", CONF_STRING, "/var/spool/mailwright", 0, 0, CONF_FIELD(queue_directory),
	    "The directory of the mail queue (absolute path)." },
	{ "mail_directory", CONF_STRING, "/var/mail/mailwright", 0, 0, CONF_FIELD(mail_directory),
	    "The root of the mail store: mailboxes are <this>/<domain>/<user>/Maildir (absolute path)." },
	{ "mail_special_use_folders", CONF_STRING, "Sent=\\Sent, Drafts=\\Drafts, Trash=\\Trash, Junk=\\Junk, Archive=\\Archive", 0, 0, CONF_FIELD(mail_special_use_folders),
	    "The folders a new mailbox gets, with their RFC 6154 special use: NAME=\\Attribute, ... (IMAP names, / between levels; empty: none). Made by user add, and at login for a Maildir without any folder." },
	{ "accounts_database", CONF_STRING, "/var/lib/mailwright/accounts.db", 0, 0, CONF_FIELD(accounts_database),
	    "The SQLite database of domains, users and aliases (absolute path)." },
	{ "mail_owner", CONF_STRING, "mailwright", 0, 0, CONF_FIELD(mail_owner),
	    "The unprivileged user the services run as after the master has bound its listeners." },
	{ "maillog_file", CONF_STRING, "", 0, 0, CONF_FIELD(maillog_file),
	    "The file to log to (absolute path); empty logs to standard error." },
	{ "alias_maps", CONF_LIST, "hash:/etc/mailwright/aliases", 0, 0, CONF_FIELD(alias_maps),
	    "The alias tables consulted by local delivery (type:path, as Postfix's)." },
	{ "alias_database", CONF_LIST, "$alias_maps", 0, 0, CONF_FIELD(alias_database),
	    "The alias tables that newaliases rebuilds." },
	{ "smtpd_processes", CONF_UINT, "1", 1, 64, CONF_FIELD(smtpd_processes),
	    "The number of SMTP server processes (each serves many connections; connection limits count per process)." },
	{ "smtpd_worker_threads", CONF_UINT, "8", 1, 256, CONF_FIELD(smtpd_worker_threads),
	    "The worker threads per SMTP server process for blocking work (fsync, database, password hashing)." },
	{ "queue_delivery_threads", CONF_UINT, "8", 1, 256, CONF_FIELD(queue_delivery_threads),
	    "The number of deliveries the queue manager runs at the same time." },

	/* listeners */
	{ "smtpd_listen", CONF_LIST, "0.0.0.0:25", 0, 0, CONF_FIELD(smtpd_listen),
	    "SMTP (MX) listeners, address:port; empty disables." },
	{ "submission_listen", CONF_LIST, "0.0.0.0:587", 0, 0, CONF_FIELD(submission_listen),
	    "Submission listeners (STARTTLS, AUTH), address:port; empty disables." },
	{ "smtps_listen", CONF_LIST, "0.0.0.0:465", 0, 0, CONF_FIELD(smtps_listen),
	    "Submission listeners with implicit TLS, address:port; empty disables." },
	{ "imap_listen", CONF_LIST, "0.0.0.0:143", 0, 0, CONF_FIELD(imap_listen),
	    "IMAP listeners (STARTTLS), address:port; empty disables." },
	{ "imaps_listen", CONF_LIST, "0.0.0.0:993", 0, 0, CONF_FIELD(imaps_listen),
	    "IMAP listeners with implicit TLS, address:port; empty disables." },
	{ "pop3_listen", CONF_LIST, "0.0.0.0:110", 0, 0, CONF_FIELD(pop3_listen),
	    "POP3 listeners (STARTTLS), address:port; empty disables." },
	{ "pop3s_listen", CONF_LIST, "0.0.0.0:995", 0, 0, CONF_FIELD(pop3s_listen),
	    "POP3 listeners with implicit TLS, address:port; empty disables." },

	/* TLS */
	{ "smtpd_tls_cert_file", CONF_STRING, "", 0, 0, CONF_FIELD(smtpd_tls_cert_file),
	    "The PEM server certificate chain of every TLS service (absolute path); empty: no TLS." },
	{ "smtpd_tls_key_file", CONF_STRING, "", 0, 0, CONF_FIELD(smtpd_tls_key_file),
	    "The PEM private key of smtpd_tls_cert_file (absolute path)." },
	{ "smtpd_tls_security_level", CONF_STRING, "may", 0, 0, CONF_FIELD(smtpd_tls_security_level),
	    "TLS on the smtpd_listen (MX) listener: none, may (offer STARTTLS) or encrypt (require it)." },
	{ "submission_tls_security_level", CONF_STRING, "encrypt", 0, 0, CONF_FIELD(submission_tls_security_level),
	    "TLS on the submission listener: none, may or encrypt (RFC 8314: require it). smtps is always TLS." },
	{ "smtpd_tls_mandatory_protocols", CONF_STRING, ">=TLSv1.2", 0, 0, CONF_FIELD(smtpd_tls_mandatory_protocols),
	    "The TLS versions the server accepts: >=TLSv1.2 or >=TLSv1.3." },
	{ "tls_high_cipherlist", CONF_STRING, "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20:!aNULL:!MD5:!DSS", 0, 0, CONF_FIELD(tls_high_cipherlist),
	    "The OpenSSL cipher list for TLS 1.2 (TLS 1.3 suites are OpenSSL's defaults): forward secrecy and AEAD only." },
	{ "smtpd_tls_auth_only", CONF_BOOL, "yes", 0, 0, CONF_FIELD(smtpd_tls_auth_only),
	    "Offer and accept SMTP AUTH only over TLS (Postfix's default is no; ours is the safe one)." },
	{ "smtpd_tls_session_cache_timeout", CONF_TIME, "3600s", 0, 8 * CONF_DAY, CONF_FIELD(smtpd_tls_session_cache_timeout),
	    "How long TLS sessions may be resumed (session tickets and cache); 0 disables resumption." },
	{ "tls_server_sni_maps", CONF_STRING, "", 0, 0, CONF_FIELD(tls_server_sni_maps),
	    "A file of lines \"domain key-file cert-file\": the certificate chosen by SNI; empty: one certificate." },
	{ "smtpd_tls_received_header", CONF_BOOL, "yes", 0, 0, CONF_FIELD(smtpd_tls_received_header),
	    "Record the TLS version and cipher in the Received: header." },

	/* SMTP AUTH */
	{ "smtpd_sasl_auth_enable", CONF_BOOL, "no", 0, 0, CONF_FIELD(smtpd_sasl_auth_enable),
	    "Offer SMTP AUTH (RFC 4954) on the smtpd_listen (MX) listener; no, as in Postfix: users submit on submission and smtps." },
	{ "submission_sasl_auth_enable", CONF_BOOL, "yes", 0, 0, CONF_FIELD(submission_sasl_auth_enable),
	    "Offer SMTP AUTH with the users of the accounts database on the submission and smtps listeners." },
	{ "smtpd_sasl_authenticated_header", CONF_BOOL, "no", 0, 0, CONF_FIELD(smtpd_sasl_authenticated_header),
	    "Name the authenticated user in the Received: header." },
	{ "smtpd_sasl_mechanisms", CONF_LIST, "PLAIN, LOGIN", 0, 0, CONF_FIELD(smtpd_sasl_mechanisms),
	    "The SASL mechanisms offered: PLAIN, LOGIN, SCRAM-SHA-256 (the last only for users whose stored credentials allow it)." },
	{ "smtpd_auth_failure_limit", CONF_UINT, "10", 1, 100000, CONF_FIELD(smtpd_auth_failure_limit),
	    "Failed AUTH attempts from one client address within smtpd_auth_failure_window before it is refused (421 4.7.0)." },
	{ "smtpd_auth_failure_window", CONF_TIME, "600s", 1, CONF_DAY, CONF_FIELD(smtpd_auth_failure_window),
	    "The window in which failed AUTH attempts are counted." },
	{ "smtpd_auth_ban_time", CONF_TIME, "900s", 0, 7 * CONF_DAY, CONF_FIELD(smtpd_auth_ban_time),
	    "How long a client past smtpd_auth_failure_limit is refused." },
	{ "smtpd_auth_failure_delay", CONF_TIME, "1s", 0, 60, CONF_FIELD(smtpd_auth_failure_delay),
	    "The delay before a 535 reply, doubled for each further failure of the client (at most 16 times this)." },
	{ "smtpd_auth_cache_size", CONF_UINT, "10000", 0, 1000000, CONF_FIELD(smtpd_auth_cache_size),
	    "Verified credentials kept in memory (like Dovecot's auth_cache); a password change or deletion takes effect at once." },

	/* restrictions */
	{ "smtpd_client_restrictions", CONF_LIST, "", 0, 0, CONF_FIELD(smtpd_client_restrictions),
	    "Restrictions applied to the client's address (Postfix semantics)." },
	{ "smtpd_helo_restrictions", CONF_LIST, "", 0, 0, CONF_FIELD(smtpd_helo_restrictions),
	    "Restrictions applied to the HELO/EHLO name." },
	{ "smtpd_sender_restrictions", CONF_LIST, "", 0, 0, CONF_FIELD(smtpd_sender_restrictions),
	    "Restrictions applied to the MAIL FROM address." },
	{ "smtpd_relay_restrictions", CONF_LIST, "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination", 0, 0, CONF_FIELD(smtpd_relay_restrictions),
	    "Relay control, evaluated for each RCPT TO before smtpd_recipient_restrictions (Postfix 2.10+)." },
	{ "smtpd_recipient_restrictions", CONF_LIST, "", 0, 0, CONF_FIELD(smtpd_recipient_restrictions),
	    "Restrictions applied to each RCPT TO address (spam control)." },
	{ "smtpd_data_restrictions", CONF_LIST, "", 0, 0, CONF_FIELD(smtpd_data_restrictions),
	    "Restrictions applied at DATA/BDAT." },
	{ "submission_relay_restrictions", CONF_LIST, "permit_sasl_authenticated, reject", 0, 0, CONF_FIELD(submission_relay_restrictions),
	    "smtpd_relay_restrictions of the submission and smtps listeners: authenticated users only." },
	{ "smtpd_delay_reject", CONF_BOOL, "yes", 0, 0, CONF_FIELD(smtpd_delay_reject),
	    "Evaluate client, HELO and sender restrictions at RCPT TO, as Postfix does by default." },
	{ "smtpd_sender_login_maps", CONF_LIST, "", 0, 0, CONF_FIELD(smtpd_sender_login_maps),
	    "Tables of sender address -> owning logins for reject_sender_login_mismatch; empty: the accounts database (users and their aliases)." },
	{ "unknown_address_reject_code", CONF_UINT, "450", 400, 599, CONF_FIELD(unknown_address_reject_code),
	    "The reply code of reject_unknown_sender_domain and reject_unknown_recipient_domain when the domain is not in DNS (450: ask again later, as Postfix)." },
	{ "unknown_hostname_reject_code", CONF_UINT, "450", 400, 599, CONF_FIELD(unknown_hostname_reject_code),
	    "The reply code of reject_unknown_helo_hostname when the HELO name has no address or MX record in DNS." },

	/* DNS */
	{ "dns_servers", CONF_LIST, "", 0, 0, CONF_FIELD(dns_servers),
	    "The name servers asked, address or address:port ([v6]:port); empty: those of /etc/resolv.conf." },
	{ "dns_timeout", CONF_TIME, "10s", 1, 120, CONF_FIELD(dns_timeout),
	    "How long one DNS lookup may take before it counts as a temporary failure." },
	{ "dns_trust_anchor_file", CONF_STRING, "/usr/share/dns/root.key", 0, 0, CONF_FIELD(dns_trust_anchor_file),
	    "DNSSEC trust anchors (DS or DNSKEY records, zone file format) that answers are validated from, for DANE; ignored when it is the default and missing; empty: no validation." },

	/* addresses */
	{ "recipient_delimiter", CONF_STRING, "+", 0, 0, CONF_FIELD(recipient_delimiter),
	    "The characters that separate a user name from an address extension (user+ext); empty disables." },
	{ "postmaster_recipient", CONF_STRING, "", 0, 0, CONF_FIELD(postmaster_recipient),
	    "Where mail to postmaster goes when no alias says; empty: the postmaster mailbox of each domain." },

	/* SMTP server */
	{ "smtpd_banner", CONF_STRING, "$myhostname ESMTP $mail_name", 0, 0, CONF_FIELD(smtpd_banner),
	    "The text after the 220 code of the SMTP greeting; RFC 5321 4.2 wants the host name first." },
	{ "message_size_limit", CONF_SIZE, "10240000", CONF_KIB, 4 * CONF_KIB * CONF_KIB * CONF_KIB, CONF_FIELD(message_size_limit),
	    "The largest message accepted, in bytes, announced with SIZE (RFC 1870)." },
	{ "header_size_limit", CONF_SIZE, "102400", 1000, 16 * CONF_KIB * CONF_KIB, CONF_FIELD(header_size_limit),
	    "The longest message header sendmail reads whole (folded lines together), in bytes; Postfix's default." },
	{ "smtpd_recipient_limit", CONF_UINT, "1000", 1, 100000, CONF_FIELD(smtpd_recipient_limit),
	    "The most recipients accepted per message; RFC 5321 4.5.3.1.8 asks for at least 100." },
	{ "smtpd_timeout", CONF_TIME, "300s", 1, 3600, CONF_FIELD(smtpd_timeout),
	    "How long the SMTP server waits for a client command or data (RFC 5321 4.5.3.2.7: 5 minutes)." },
	{ "smtpd_line_limit", CONF_SIZE, "2048", 512, 64 * CONF_KIB, CONF_FIELD(smtpd_line_limit),
	    "The longest SMTP command or text line, in bytes; RFC 5321 4.5.3.1.4 requires at least 512." },
	{ "smtpd_client_connection_count_limit", CONF_UINT, "50", 0, 100000, CONF_FIELD(smtpd_client_connection_count_limit),
	    "The most simultaneous connections from one client address (per smtpd process); 0: unlimited." },
	{ "smtpd_connection_limit", CONF_UINT, "5000", 1, 1000000, CONF_FIELD(smtpd_connection_limit),
	    "The most simultaneous connections per SMTP server process, all clients together." },
	{ "smtpd_hard_error_limit", CONF_UINT, "20", 1, 1000, CONF_FIELD(smtpd_hard_error_limit),
	    "The errors a client may cause in one session before it is disconnected." },
	{ "smtpd_reject_bare_newline", CONF_BOOL, "no", 0, 0, CONF_FIELD(smtpd_reject_bare_newline),
	    "Reject a message with a bare LF line ending (yes) instead of reading it as CRLF (no)." },

	/* POP3 server */
	{ "pop3_processes", CONF_UINT, "1", 1, 64, CONF_FIELD(pop3_processes),
	    "The number of POP3 server processes (each serves many connections; connection limits count per process)." },
	{ "pop3_worker_threads", CONF_UINT, "4", 1, 256, CONF_FIELD(pop3_worker_threads),
	    "The worker threads per POP3 server process for blocking work (mail store, password hashing)." },
	{ "pop3_idle_timeout", CONF_TIME, "600s", 1, CONF_DAY, CONF_FIELD(pop3_idle_timeout),
	    "How long a logged-in POP3 client may stay silent (RFC 1939 3: at least 10 minutes)." },
	{ "pop3_login_timeout", CONF_TIME, "60s", 1, 3600, CONF_FIELD(pop3_login_timeout),
	    "How long a POP3 client may stay silent before it has logged in." },
	{ "pop3_line_limit", CONF_SIZE, "1024", 255, 64 * CONF_KIB, CONF_FIELD(pop3_line_limit),
	    "The longest POP3 command line, in bytes (RFC 2449 4: at least 255); AUTH exchanges may reach 12288." },
	{ "pop3_hard_error_limit", CONF_UINT, "20", 1, 1000, CONF_FIELD(pop3_hard_error_limit),
	    "The bad commands a POP3 client may send in one session before it is disconnected." },
	{ "pop3_client_connection_count_limit", CONF_UINT, "50", 0, 100000, CONF_FIELD(pop3_client_connection_count_limit),
	    "The most simultaneous POP3 connections from one client address (per pop3d process); 0: unlimited." },
	{ "pop3_connection_limit", CONF_UINT, "5000", 1, 1000000, CONF_FIELD(pop3_connection_limit),
	    "The most simultaneous connections per POP3 server process, all clients together." },
	{ "pop3_max_userip_connections", CONF_UINT, "10", 0, 100000, CONF_FIELD(pop3_max_userip_connections),
	    "The most simultaneous POP3 sessions of one user from one address (Dovecot's mail_max_userip_connections); 0: unlimited." },
	{ "pop3_disable_plaintext_auth", CONF_BOOL, "yes", 0, 0, CONF_FIELD(pop3_disable_plaintext_auth),
	    "Refuse USER/PASS and AUTH PLAIN/LOGIN before TLS, except from pop3_plaintext_auth_networks (Dovecot's disable_plaintext_auth)." },
	{ "pop3_plaintext_auth_networks", CONF_LIST, "", 0, 0, CONF_FIELD(pop3_plaintext_auth_networks),
	    "Client networks (address/prefix) allowed plaintext POP3 logins without TLS (Dovecot's login_trusted_networks); empty: none, not even loopback." },
	{ "pop3_lock_session", CONF_BOOL, "no", 0, 0, CONF_FIELD(pop3_lock_session),
	    "Allow one POP3 session per maildrop: a second login gets -ERR [IN-USE] (RFC 2449 8.1.1); no: both work, as Dovecot's default." },
	{ "pop3_sasl_mechanisms", CONF_LIST, "PLAIN, LOGIN, SCRAM-SHA-256", 0, 0, CONF_FIELD(pop3_sasl_mechanisms),
	    "The SASL mechanisms POP3 AUTH offers (RFC 5034); the accounts and the failure penalty are SMTP AUTH's." },

	/* IMAP server */
	{ "imap_processes", CONF_UINT, "1", 1, 64, CONF_FIELD(imap_processes),
	    "The number of IMAP server processes (each serves many connections; connection limits count per process)." },
	{ "imap_worker_threads", CONF_UINT, "4", 1, 256, CONF_FIELD(imap_worker_threads),
	    "The worker threads per IMAP server process for blocking work (mail store, password hashing)." },
	{ "imap_idle_timeout", CONF_TIME, "1800s", 1, CONF_DAY, CONF_FIELD(imap_idle_timeout),
	    "How long a logged-in IMAP client may stay silent, IDLE included (RFC 9051 5.4: at least 30 minutes)." },
	{ "imap_login_timeout", CONF_TIME, "60s", 1, 3600, CONF_FIELD(imap_login_timeout),
	    "How long an IMAP client may stay silent before it has logged in." },
	{ "imap_line_limit", CONF_SIZE, "65536", 1024, 16 * CONF_KIB * CONF_KIB, CONF_FIELD(imap_line_limit),
	    "The longest IMAP command line outside its literals, in bytes (Dovecot's imap_max_line_length; RFC 7162 4 asks clients for at most 8192)." },
	{ "imap_literal_limit", CONF_SIZE, "65536", 1024, 16 * CONF_KIB * CONF_KIB, CONF_FIELD(imap_literal_limit),
	    "The largest literal an IMAP command may hold in memory (names, strings, passwords); APPEND messages stream and obey imap_append_limit." },
	{ "imap_append_limit", CONF_SIZE, "0", 0, 4 * CONF_KIB * CONF_KIB * CONF_KIB, CONF_FIELD(imap_append_limit),
	    "The largest message IMAP APPEND takes (RFC 7889 APPENDLIMIT); 0: $message_size_limit." },
	{ "imap_hard_error_limit", CONF_UINT, "50", 1, 1000, CONF_FIELD(imap_hard_error_limit),
	    "The bad commands an IMAP client may send in one session before it is disconnected." },
	{ "imap_client_connection_count_limit", CONF_UINT, "50", 0, 100000, CONF_FIELD(imap_client_connection_count_limit),
	    "The most simultaneous IMAP connections from one client address (per imapd process); 0: unlimited." },
	{ "imap_connection_limit", CONF_UINT, "5000", 1, 1000000, CONF_FIELD(imap_connection_limit),
	    "The most simultaneous connections per IMAP server process, all clients together." },
	{ "imap_max_userip_connections", CONF_UINT, "10", 0, 100000, CONF_FIELD(imap_max_userip_connections),
	    "The most simultaneous IMAP sessions of one user from one address (Dovecot's mail_max_userip_connections); 0: unlimited." },
	{ "imap_disable_plaintext_auth", CONF_BOOL, "yes", 0, 0, CONF_FIELD(imap_disable_plaintext_auth),
	    "Refuse LOGIN and AUTHENTICATE PLAIN/LOGIN before TLS (LOGINDISABLED), except from imap_plaintext_auth_networks (Dovecot's disable_plaintext_auth)." },
	{ "imap_plaintext_auth_networks", CONF_LIST, "", 0, 0, CONF_FIELD(imap_plaintext_auth_networks),
	    "Client networks (address/prefix) allowed plaintext IMAP logins without TLS (Dovecot's login_trusted_networks); empty: none, not even loopback." },
	{ "imap_sasl_mechanisms", CONF_LIST, "PLAIN, LOGIN, SCRAM-SHA-256", 0, 0, CONF_FIELD(imap_sasl_mechanisms),
	    "The SASL mechanisms IMAP AUTHENTICATE offers; the accounts and the failure penalty are SMTP AUTH's." },
	{ "imap_hierarchy_separator", CONF_STRING, ".", 0, 0, CONF_FIELD(imap_hierarchy_separator),
	    "The IMAP hierarchy separator, . or / (Dovecot's Maildir++ default is .); on disk levels are always joined with . (Maildir++)." },

	/* queue and delivery */
	{ "queue_run_delay", CONF_TIME, "300s", 1, CONF_DAY, CONF_FIELD(queue_run_delay),
	    "How often the queue manager scans the deferred queue." },
	{ "minimal_backoff_time", CONF_TIME, "300s", 1, 7 * CONF_DAY, CONF_FIELD(minimal_backoff_time),
	    "The shortest wait before a deferred message is tried again." },
	{ "maximal_backoff_time", CONF_TIME, "4000s", 1, 7 * CONF_DAY, CONF_FIELD(maximal_backoff_time),
	    "The longest wait before a deferred message is tried again." },
	{ "maximal_queue_lifetime", CONF_TIME, "5d", 0, 100 * CONF_DAY, CONF_FIELD(maximal_queue_lifetime),
	    "How long a deferred message is retried before it bounces; 0: a temporary failure bounces at once." },
	{ "qmgr_message_active_limit", CONF_UINT, "10000", 1, 1000000, CONF_FIELD(qmgr_message_active_limit),
	    "The most messages in delivery at once (each holds its queue file open); the rest wait their turn (Postfix's default is 20000)." },
	{ "alias_expansion_limit", CONF_UINT, "1000", 1, 100000, CONF_FIELD(alias_expansion_limit),
	    "The most recipients one alias expansion may produce." },

	{ "bounce_queue_lifetime", CONF_TIME, "5d", 0, 100 * CONF_DAY, CONF_FIELD(bounce_queue_lifetime),
	    "How long a deferred bounce (null sender) is retried before it is given up." },
	{ "delay_warning_time", CONF_TIME, "0h", 0, 100 * CONF_DAY, CONF_FIELD(delay_warning_time),
	    "After how long a deferred message gets one delay warning DSN to its sender; 0 disables (Postfix's default)." },
	{ "2bounce_notice_recipient", CONF_STRING, "postmaster", 0, 0, CONF_FIELD(bounce_notice_recipient_2),
	    "Who gets a bounce that itself cannot be delivered (a double bounce); empty: such bounces are dropped and logged." },
	{ "bounce_sender_name", CONF_STRING, "MAILER-DAEMON", 0, 0, CONF_FIELD(bounce_sender_name),
	    "The local part of the From: address of bounces and other DSNs (From: MAILER-DAEMON@$myhostname)." },

	/* routing */
	{ "relay_domains", CONF_LIST, "", 0, 0, CONF_FIELD(relay_domains),
	    "Domains (and their subdomains; .domain: subdomains only) or type:table lists accepted from anyone and relayed onward." },
	{ "transport_maps", CONF_LIST, "", 0, 0, CONF_FIELD(transport_maps),
	    "Tables of address or domain -> transport:nexthop (transport(5): smtp:[host]:port, local:, error:text; .domain for subdomains)." },
	{ "relayhost", CONF_STRING, "", 0, 0, CONF_FIELD(relayhost),
	    "The smarthost for mail to non-local domains: host or domain (MX lookup), [host] (no MX lookup), with an optional :port." },
	{ "default_transport", CONF_STRING, "smtp", 0, 0, CONF_FIELD(default_transport),
	    "The transport of mail to non-local domains that no table routes: smtp, smtp:nexthop or error:text." },

	/* SMTP client */
	{ "smtp_helo_name", CONF_STRING, "$myhostname", 0, 0, CONF_FIELD(smtp_helo_name),
	    "The name the SMTP client sends in EHLO and HELO." },
	{ "smtp_bind_address", CONF_STRING, "", 0, 0, CONF_FIELD(smtp_bind_address),
	    "The local IPv4 address of outgoing SMTP connections; empty: the system chooses." },
	{ "smtp_bind_address6", CONF_STRING, "", 0, 0, CONF_FIELD(smtp_bind_address6),
	    "The local IPv6 address of outgoing SMTP connections; empty: the system chooses." },
	{ "smtp_tcp_port", CONF_UINT, "25", 1, 65535, CONF_FIELD(smtp_tcp_port),
	    "The port of MX hosts and of nexthops without a port (mailwright's; Postfix takes it from /etc/services)." },
	{ "smtp_address_preference", CONF_STRING, "any", 0, 0, CONF_FIELD(smtp_address_preference),
	    "Which addresses of an MX host are tried first: any, ipv4 or ipv6." },
	{ "smtp_tls_security_level", CONF_STRING, "may", 0, 0, CONF_FIELD(smtp_tls_security_level),
	    "TLS towards other servers: none, may (opportunistic STARTTLS), encrypt, dane (RFC 7672: TLSA records when DNSSEC-signed, else may), dane-only, verify or secure (certificate and name checked)." },
	{ "smtp_tls_CAfile", CONF_STRING, "", 0, 0, CONF_FIELD(smtp_tls_CAfile),
	    "A PEM file of trusted CA certificates for verify and secure; empty: the system store." },
	{ "smtp_tls_policy_maps", CONF_LIST, "", 0, 0, CONF_FIELD(smtp_tls_policy_maps),
	    "Tables of nexthop domain -> TLS level (none, may, encrypt, dane, dane-only, verify, secure), as Postfix's; .domain for subdomains." },
	{ "smtp_tls_mandatory_protocols", CONF_STRING, ">=TLSv1.2", 0, 0, CONF_FIELD(smtp_tls_mandatory_protocols),
	    "The TLS versions the SMTP client accepts: >=TLSv1.2 or >=TLSv1.3." },
	{ "smtp_connect_timeout", CONF_TIME, "30s", 1, 3600, CONF_FIELD(smtp_connect_timeout),
	    "How long the SMTP client waits for a TCP connection to complete." },
	{ "smtp_helo_timeout", CONF_TIME, "300s", 1, 3600, CONF_FIELD(smtp_helo_timeout),
	    "How long the SMTP client waits for the greeting and the EHLO/HELO reply." },
	{ "smtp_starttls_timeout", CONF_TIME, "300s", 1, 3600, CONF_FIELD(smtp_starttls_timeout),
	    "How long the SMTP client waits for the STARTTLS reply and the TLS handshake." },
	{ "smtp_mail_timeout", CONF_TIME, "300s", 1, 3600, CONF_FIELD(smtp_mail_timeout),
	    "How long the SMTP client waits for the MAIL FROM reply." },
	{ "smtp_rcpt_timeout", CONF_TIME, "300s", 1, 3600, CONF_FIELD(smtp_rcpt_timeout),
	    "How long the SMTP client waits for a RCPT TO reply." },
	{ "smtp_data_init_timeout", CONF_TIME, "120s", 1, 3600, CONF_FIELD(smtp_data_init_timeout),
	    "How long the SMTP client waits for the DATA reply (354)." },
	{ "smtp_data_xfer_timeout", CONF_TIME, "180s", 1, 3600, CONF_FIELD(smtp_data_xfer_timeout),
	    "How long the SMTP client may wait for the server to take more message content." },
	{ "smtp_data_done_timeout", CONF_TIME, "600s", 1, 3600, CONF_FIELD(smtp_data_done_timeout),
	    "How long the SMTP client waits for the reply to the end of data (RFC 5321 4.5.3.2.6: 10 minutes)." },
	{ "smtp_rset_timeout", CONF_TIME, "20s", 1, 3600, CONF_FIELD(smtp_rset_timeout),
	    "How long the SMTP client waits for the RSET reply before it reuses a connection." },
	{ "smtp_quit_timeout", CONF_TIME, "300s", 1, 3600, CONF_FIELD(smtp_quit_timeout),
	    "How long the SMTP client waits for the QUIT reply." },
	{ "smtp_line_length_limit", CONF_SIZE, "2048", 512, 64 * CONF_KIB, CONF_FIELD(smtp_line_length_limit),
	    "The longest reply line the SMTP client reads (RFC 5321 4.5.3.1.5: at least 512)." },
	{ "smtp_destination_concurrency_limit", CONF_UINT, "20", 1, 1000, CONF_FIELD(smtp_destination_concurrency_limit),
	    "The most parallel connections to one destination." },
	{ "smtp_initial_destination_concurrency", CONF_UINT, "5", 1, 1000, CONF_FIELD(smtp_initial_destination_concurrency),
	    "The parallel connections to a destination at first; each success allows one more (Postfix's slow start)." },
	{ "smtp_destination_recipient_limit", CONF_UINT, "50", 1, 100000, CONF_FIELD(smtp_destination_recipient_limit),
	    "The most recipients per message delivery (one MAIL transaction) to one destination." },
	{ "default_process_limit", CONF_UINT, "100", 1, 100000, CONF_FIELD(default_process_limit),
	    "The most outgoing SMTP connections at once, all destinations together." },
	{ "smtp_connection_reuse_count_limit", CONF_UINT, "0", 0, 1000000, CONF_FIELD(smtp_connection_reuse_count_limit),
	    "The most messages sent over one connection; 0: no limit but smtp_connection_reuse_time_limit." },
	{ "smtp_connection_reuse_time_limit", CONF_TIME, "300s", 1, 86400, CONF_FIELD(smtp_connection_reuse_time_limit),
	    "How long one connection is reused for further messages to its destination." },
	{ "smtp_connection_cache_time_limit", CONF_TIME, "2s", 0, 300, CONF_FIELD(smtp_connection_cache_time_limit),
	    "How long an idle SMTP connection waits for the next message to its destination before QUIT; 0 disables the cache." },
	{ "smtp_mx_address_limit", CONF_UINT, "5", 0, 1000, CONF_FIELD(smtp_mx_address_limit),
	    "The most MX host addresses tried per delivery; 0: no limit." },
	{ "smtp_use_chunking", CONF_BOOL, "yes", 0, 0, CONF_FIELD(smtp_use_chunking),
	    "Send message content with BDAT (RFC 3030 CHUNKING, no dot-stuffing) when the server offers it (mailwright's)." },
	{ "smtp_skip_5xx_greeting", CONF_BOOL, "yes", 0, 0, CONF_FIELD(smtp_skip_5xx_greeting),
	    "Try the next MX host when one greets with 5xx, instead of bouncing the mail (Postfix's default)." },
	{ "smtp_sasl_auth_enable", CONF_BOOL, "no", 0, 0, CONF_FIELD(smtp_sasl_auth_enable),
	    "Authenticate (SMTP AUTH PLAIN or LOGIN) to servers listed in smtp_sasl_password_maps." },
	{ "smtp_sasl_password_maps", CONF_LIST, "", 0, 0, CONF_FIELD(smtp_sasl_password_maps),
	    "Tables of nexthop ([host]:port, host or domain) -> user:password, as Postfix's." },
	{ "smtp_sasl_tls_only", CONF_BOOL, "yes", 0, 0, CONF_FIELD(smtp_sasl_tls_only),
	    "Send SMTP AUTH credentials only over TLS." },

	{ NULL, CONF_STRING, NULL, 0, 0, 0, NULL },
};
// clang-format on

const struct conf_param *
conf_param_find(const char *name)
{
	const struct conf_param *p;

	for (p = conf_params; p->name != NULL; p++)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

static char
conf_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/*
 * Optimal string alignment distance (Levenshtein plus transpositions),
 * ASCII case-insensitive. Both strings are short: callers skip pairs whose
 * lengths differ by more than the largest distance they accept.
 */
static size_t
conf_distance(const char *a, size_t na, const char *b, size_t nb)
{
	size_t *rows, *prev2, *prev, *cur, *t, i, j, d;

	rows = xcalloc(3 * (nb + 1), sizeof(*rows));
	prev2 = rows;
	prev = prev2 + nb + 1;
	cur = prev + nb + 1;
	for (j = 0; j <= nb; j++)
		prev[j] = j;
	for (i = 1; i <= na; i++) {
		cur[0] = i;
		for (j = 1; j <= nb; j++) {
			size_t cost =
			    conf_lower(a[i - 1]) != conf_lower(b[j - 1]);

			d = prev[j] + 1;
			if (cur[j - 1] + 1 < d)
				d = cur[j - 1] + 1;
			if (prev[j - 1] + cost < d)
				d = prev[j - 1] + cost;
			if (i > 1 && j > 1 &&
			    conf_lower(a[i - 1]) == conf_lower(b[j - 2]) &&
			    conf_lower(a[i - 2]) == conf_lower(b[j - 1]) &&
			    prev2[j - 2] + 1 < d)
				d = prev2[j - 2] + 1;
			cur[j] = d;
		}
		t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	d = prev[nb];
	free(rows);
	return d;
}

const char *
conf_param_nearest(const char *name)
{
	const struct conf_param *p, *best = NULL;
	size_t n = strlen(name), max, d, bestd = SIZE_MAX, pn;

	/* close means a typo or two, more in a longer name */
	max = n / 4;
	if (max < 1)
		max = 1;
	if (max > 3)
		max = 3;
	for (p = conf_params; p->name != NULL; p++) {
		pn = strlen(p->name);
		if (pn > n + max || n > pn + max)
			continue;
		d = conf_distance(name, n, p->name, pn);
		if (d <= max && d < bestd) {
			best = p;
			bestd = d;
		}
	}
	return best != NULL ? best->name : NULL;
}

const char *
conf_type_name(enum conf_type type)
{
	switch (type) {
	case CONF_STRING:
		return "string";
	case CONF_UINT:
		return "number";
	case CONF_SIZE:
		return "size";
	case CONF_TIME:
		return "time";
	case CONF_BOOL:
		return "yes/no";
	case CONF_LIST:
		return "list";
	}
	return "?";
}

void
conf_time_str(uint64_t secs, char *out, size_t outsz)
{
	static const struct {
		uint64_t secs;
		char unit;
	} units[] = { { 604800, 'w' }, { 86400, 'd' }, { 3600, 'h' },
		{ 60, 'm' } };
	size_t i;

	for (i = 0; i < MW_NELEM(units); i++)
		if (secs != 0 && secs % units[i].secs == 0) {
			(void)snprintf(out, outsz, "%llu%c",
			    (unsigned long long)(secs / units[i].secs),
			    units[i].unit);
			return;
		}
	(void)snprintf(out, outsz, "%llus", (unsigned long long)secs);
}

const char *
conf_param_default_doc(const struct conf_param *p)
{
	if (p->defval != NULL)
		return p->defval;
	if (strcmp(p->name, "myhostname") == 0)
		return "(the system's host name)";
	if (strcmp(p->name, "mydomain") == 0)
		return "(myhostname minus its first label)";
	return "(computed)";
}

/* Appends s to a Markdown table cell: '|' would end the cell. */
static int
conf_docs_cell(struct buf *out, const char *s, bool code)
{
	if (code && *s == '\0')
		return buf_append_str(out, " (empty) |");
	if (buf_append_str(out, code ? " `" : " ") == -1)
		return -1;
	for (; *s != '\0'; s++) {
		int r;

		if (*s == '|')
			r = buf_append_str(out, "\\|");
		else if (*s == '<' && !code) /* not an HTML tag */
			r = buf_append_str(out, "&lt;");
		else if (*s == '>' && !code)
			r = buf_append_str(out, "&gt;");
		else
			r = buf_append_char(out, *s);
		if (r == -1)
			return -1;
	}
	return buf_append_str(out, code ? "` |" : " |");
}

int
conf_docs_markdown(struct buf *out)
{
	const struct conf_param *p;
	char lo[32], hi[32];

	if (buf_append_str(out,
	        "# mailwright configuration reference\n"
	        "\n"
	        "<!-- Generated by `mailwright conf --docs` (make docs) from "
	        "src/lib/conf_params.c: edit the table, not this file. -->\n"
	        "\n"
	        "The configuration is one file, `/etc/mailwright/mailwright.cf` "
	        "unless `-c FILE` or `$MAILWRIGHT_CONFIG` names another, in "
	        "Postfix's `main.cf` syntax: each logical line is "
	        "`name = value`, with white space around `=` ignored; a line "
	        "that starts with white space continues the previous one; blank "
	        "lines and lines whose first non-space character is `#` are "
	        "ignored; a later definition of a name overrides an earlier one. "
	        "`$name`, `${name}` and `$(name)` expand to the value of another "
	        "parameter, `${name?text}` to text when name is not empty, "
	        "`${name:text}` to text when it is empty, and `$$` to a literal "
	        "`$`. Lists are split on commas and white space. Times take a "
	        "unit: `s` (the default), `m`, `h`, `d` or `w`. Sizes are in "
	        "bytes. `mailwright conf` shows the values in effect, "
	        "`mailwright conf -d` the defaults, and "
	        "`mailwright conf -e name=value` edits the file.\n"
	        "\n"
	        "| name | type | default | bounds | description |\n"
	        "| --- | --- | --- | --- | --- |\n") == -1)
		return -1;
	for (p = conf_params; p->name != NULL; p++) {
		lo[0] = hi[0] = '\0';
		if (p->type == CONF_TIME) {
			conf_time_str(p->min, lo, sizeof(lo));
			conf_time_str(p->max, hi, sizeof(hi));
		} else if (p->type == CONF_UINT || p->type == CONF_SIZE) {
			(void)snprintf(
			    lo, sizeof(lo), "%llu", (unsigned long long)p->min);
			(void)snprintf(
			    hi, sizeof(hi), "%llu", (unsigned long long)p->max);
		}
		if (buf_printf(out, "| `%s` | %s |", p->name,
		        conf_type_name(p->type)) == -1 ||
		    conf_docs_cell(out, conf_param_default_doc(p),
		        p->defval != NULL) == -1 ||
		    (lo[0] != '\0' ? buf_printf(out, " %s..%s |", lo, hi)
		                   : buf_append_str(out, " |")) == -1 ||
		    conf_docs_cell(out, p->help, false) == -1 ||
		    buf_append_char(out, '\n') == -1)
			return -1;
	}
	return 0;
}
