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

	/* queue and delivery */
	{ "queue_run_delay", CONF_TIME, "300s", 1, CONF_DAY, CONF_FIELD(queue_run_delay),
	    "How often the queue manager scans the deferred queue." },
	{ "minimal_backoff_time", CONF_TIME, "300s", 1, 7 * CONF_DAY, CONF_FIELD(minimal_backoff_time),
	    "The shortest wait before a deferred message is tried again." },
	{ "maximal_backoff_time", CONF_TIME, "4000s", 1, 7 * CONF_DAY, CONF_FIELD(maximal_backoff_time),
	    "The longest wait before a deferred message is tried again." },
	{ "maximal_queue_lifetime", CONF_TIME, "5d", 0, 100 * CONF_DAY, CONF_FIELD(maximal_queue_lifetime),
	    "How long a deferred message is retried before it bounces; 0: a temporary failure bounces at once." },
	{ "alias_expansion_limit", CONF_UINT, "1000", 1, 100000, CONF_FIELD(alias_expansion_limit),
	    "The most recipients one alias expansion may produce." },

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
