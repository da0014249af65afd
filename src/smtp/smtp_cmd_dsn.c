/*
 * The DSN parameters of MAIL and RCPT (RFC 3461 4.1-4.4) as the session
 * keeps them: the values checked by smtp_dsn_param.c, a 501 5.5.4 reply
 * for one that does not parse. smtp_cmd.c calls these before a
 * transaction or recipient is accepted.
 */
#include <stdlib.h>

#include "lib/buf.h"
#include "lib/xalloc.h"
#include "queue/queue_file.h"
#include "smtp/smtp_dsn_param.h"
#include "smtp/smtp_parse.h"
#include "smtp/smtp_session_private.h"

/* A parameter value as a string (the parsers take NUL-terminated text). */
static char *
smtp_slice_dup(struct smtp_slice v)
{
	return xstrndup(v.p, v.n);
}

/* RFC 3461 4.3, 4.4: RET and ENVID of MAIL. -1 after a 501 reply. */
int
smtp_mail_dsn(struct smtp_session *s, const struct smtp_mail_params *params,
    int *ret_out, char **envid_out)
{
	const char *why = NULL;
	struct buf b;
	char *v;
	int r;

	*ret_out = 0;
	*envid_out = NULL;
	if (params->ret.n > 0) {
		v = smtp_slice_dup(params->ret);
		r = dsn_parse_ret(v, ret_out);
		free(v);
		if (r == -1) {
			smtp_reply(s, 501, "5.5.4", "Bad RET parameter syntax");
			smtp_session_error(s);
			return -1;
		}
		*ret_out =
		    *ret_out == 1 ? QUEUE_DSN_RET_FULL : QUEUE_DSN_RET_HDRS;
	}
	if (params->envid.n > 0) {
		buf_init(&b, 512);
		v = smtp_slice_dup(params->envid);
		r = dsn_parse_envid(v, &b, &why);
		free(v);
		if (r == -1) {
			buf_free(&b);
			smtp_reply(s, 501, "5.5.4", "Bad ENVID parameter: %s",
			    why != NULL ? why : "syntax");
			smtp_session_error(s);
			return -1;
		}
		*envid_out = xstrdup(buf_cstr(&b));
		buf_free(&b);
	}
	return 0;
}

/* RFC 3461 4.1, 4.2: NOTIFY and ORCPT of RCPT. -1 after a 501 reply. */
int
smtp_rcpt_dsn(struct smtp_session *s, const struct smtp_rcpt_params *params,
    unsigned char *notify_out, char **orcpt_out)
{
	const char *why = NULL;
	struct buf type, addr;
	unsigned bits = 0;
	char *v;
	int r;

	*notify_out = 0;
	*orcpt_out = NULL;
	if (params->notify.n > 0) {
		v = smtp_slice_dup(params->notify);
		r = dsn_parse_notify(v, &bits);
		free(v);
		if (r == -1) {
			smtp_reply(
			    s, 501, "5.5.4", "Bad NOTIFY parameter syntax");
			smtp_session_error(s);
			return -1;
		}
		*notify_out = (unsigned char)(((bits & DSN_NOTIFY_NEVER)
		                                      ? QUEUE_DSN_NOTIFY_NEVER
		                                      : 0) |
		    ((bits & DSN_NOTIFY_SUCCESS) ? QUEUE_DSN_NOTIFY_SUCCESS
		                                 : 0) |
		    ((bits & DSN_NOTIFY_FAILURE) ? QUEUE_DSN_NOTIFY_FAILURE
		                                 : 0) |
		    ((bits & DSN_NOTIFY_DELAY) ? QUEUE_DSN_NOTIFY_DELAY : 0));
	}
	if (params->orcpt.n > 0) {
		buf_init(&type, 64);
		buf_init(&addr, 1024);
		v = smtp_slice_dup(params->orcpt);
		r = dsn_parse_orcpt(v, &type, &addr, &why);
		free(v);
		if (r == 0)
			*orcpt_out = xasprintf(
			    "%s;%s", buf_cstr(&type), buf_cstr(&addr));
		buf_free(&type);
		buf_free(&addr);
		if (r == -1) {
			smtp_reply(s, 501, "5.5.4", "Bad ORCPT parameter: %s",
			    why != NULL ? why : "syntax");
			smtp_session_error(s);
			return -1;
		}
	}
	return 0;
}
