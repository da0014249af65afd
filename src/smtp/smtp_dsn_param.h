/*
 * The values of the DSN parameters of MAIL and RCPT (RFC 3461 4.1-4.4),
 * turned into what the queue stores: NOTIFY flags, RET, the decoded ENVID
 * and ORCPT. smtp_parse.c has already split the command; these functions
 * read one value each (a NUL-terminated string). Whether a parameter is
 * allowed at all, and what an unknown ORCPT address type means, is the
 * caller's decision. Pure functions, no globals.
 */
#ifndef SMTP_SMTP_DSN_PARAM_H
#define SMTP_SMTP_DSN_PARAM_H

struct buf;

enum {
	DSN_NOTIFY_NEVER = 1,
	DSN_NOTIFY_SUCCESS = 2,
	DSN_NOTIFY_FAILURE = 4,
	DSN_NOTIFY_DELAY = 8,
};

/*
 * RFC 3461 4.1: NOTIFY=NEVER, or a comma list of SUCCESS, FAILURE and
 * DELAY (case-insensitive; repeating one is harmless). NEVER combined with
 * others, an empty list or element is an error. 0 with *out set, or -1
 * (EINVAL) with *out untouched.
 */
int dsn_parse_notify(const char *v, unsigned *out);

/* RFC 3461 4.3: RET=FULL or HDRS (case-insensitive): *out 1 = FULL, 2 =
 * HDRS. 0, or -1 (EINVAL) with *out untouched. */
int dsn_parse_ret(const char *v, int *out);

/*
 * RFC 3461 4.4: ENVID=xtext, 1 to 100 characters as sent (encoded),
 * printable US-ASCII (SP to '~') once decoded. Appends the decoded value to
 * out. 0, or -1 with nothing appended and a reason (a static string) in
 * *errstr_out; errno EINVAL, or ENOBUFS past out->max.
 */
int dsn_parse_envid(const char *v, struct buf *out, const char **errstr_out);

/*
 * RFC 3461 4.2: ORCPT=addr-type ";" xtext. addr-type is an atom (RFC 5322
 * 3.2.3 atext), case-insensitive, appended lower-cased to type_out. The
 * address, at most 500 characters as sent, is decoded and appended to
 * addr_out:
 *  - "utf-8" (RFC 6533 3): utf-8-addr-xtext or utf-8-addr-unitext: ASCII
 *    except controls, SP, '\', '+' and '=' as it is, well-formed UTF-8 as
 *    it is, "\x{HEX}" as the UTF-8 of that code point (1-6 hex digits,
 *    either case, as Postfix's uxtext_unquote()). A decoded control
 *    character, a surrogate or a code point past U+10FFFF is an error.
 *  - any other type: xtext (see xtext_decode()), and the result must be
 *    printable US-ASCII (SP to '~'; RFC 3461 4.2).
 * 0, or -1 with nothing appended to either buffer and a reason (a static
 * string) in *errstr_out; errno EINVAL, or ENOBUFS past a buffer's max.
 */
int dsn_parse_orcpt(const char *v, struct buf *type_out, struct buf *addr_out,
    const char **errstr_out);

#endif
