/*
 * The Postfix-shaped delivery log line (see delivery_log.h).
 */
#include "delivery/delivery_log.h"

#include <stdio.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/log.h"

const char *
delivery_fmt_secs(char *out, unsigned long outsz, double v)
{
	size_t n;

	if (!(v > 0.005))
		v = 0;
	(void)snprintf(out, outsz, "%.2f", v);
	n = strlen(out);
	while (n > 0 && out[n - 1] == '0')
		out[--n] = '\0';
	if (n > 0 && out[n - 1] == '.')
		out[--n] = '\0';
	return out;
}

void
delivery_log_line(const struct delivery_log *l)
{
	char d[32], a[32], b[32], c[32], e[32];
	struct buf line;

	/* One event, one line: built first, logged once. */
	buf_init(&line, 4096);
	if (buf_printf(&line, "%s: to=<%s>", l->id, log_sanitize_str(l->to)) ==
	        -1 ||
	    (l->orig_to != NULL && strcmp(l->to, l->orig_to) != 0 &&
	        buf_printf(&line, ", orig_to=<%s>",
	            log_sanitize_str(l->orig_to)) == -1) ||
	    buf_printf(&line, ", relay=%s, delay=%s, delays=%s/%s/%s/",
	        log_sanitize_str(l->relay),
	        delivery_fmt_secs(d, sizeof(d), l->t_done - l->arrival),
	        delivery_fmt_secs(a, sizeof(a), l->t_queued - l->arrival),
	        delivery_fmt_secs(b, sizeof(b), l->t_started - l->t_queued),
	        delivery_fmt_secs(c, sizeof(c), l->t_conn - l->t_started)) ==
	        -1 ||
	    buf_printf(&line, "%s, dsn=%s, status=%s (%s)",
	        delivery_fmt_secs(e, sizeof(e), l->t_done - l->t_conn), l->dsn,
	        l->status, log_sanitize_str(l->text)) == -1)
		log_info("%s: to=<%s>, status=%s", l->id,
		    log_sanitize_str(l->to), l->status);
	else
		log_info("%s", buf_cstr(&line));
	buf_free(&line);
}
