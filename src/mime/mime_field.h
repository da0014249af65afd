/*
 * MIME header field values: the lexical pieces of RFC 5322 3.2 and RFC
 * 2045 5.1 (comments, tokens, quoted-strings), and the parsers of
 * Content-Type, Content-Transfer-Encoding, Content-Disposition (RFC 2183)
 * and Content-Language (RFC 3282) into a part of a mime_tree, with RFC
 * 2231 parameter continuations and charsets. Values are given unfolded or
 * not (CR and LF count as white space); they may hold 8-bit bytes. Lenient
 * as mail readers are: what does not parse is skipped, never an error.
 */
#ifndef MIME_MIME_FIELD_H
#define MIME_MIME_FIELD_H

#include <stdbool.h>
#include <stddef.h>

#include "mime/mime_tree.h"

/* ASCII case-insensitive: are p[0..n) and the C string s equal? */
bool mime_ieq(const char *p, size_t n, const char *s);
/* RFC 2045 5.1 token character. */
bool mime_tchar(unsigned char c);
/* Skips white space (CR and LF included) and RFC 5322 3.2.2 comments,
 * nested, with quoted-pairs; an unclosed comment runs to the end. */
size_t mime_skip_cfws(const char *p, size_t i, size_t n);
size_t mime_skip_token(const char *p, size_t i, size_t n);
/* RFC 5322 2.2: does the line p[0..n) start a field ("name:")? White
 * space before the colon is allowed (RFC 5322 4.5.3); the name's length
 * goes to *name_len_out (if not NULL). */
bool mime_field_is(const char *p, size_t n, size_t *name_len_out);

/* RFC 2045 6.1: one token, comments around it allowed. */
enum mime_cte mime_cte_parse(const char *p, size_t n);

/*
 * Content-Type (RFC 2045 5.1): sets part->type, ->subtype and ->params
 * (at most param_max of them), or leaves them NULL if the value does not
 * parse (RFC 2045 5.2: then it is text/plain).
 */
void mime_field_ctype(struct mime_tree *t, struct mime_part *part,
    const char *p, size_t n, size_t param_max);
/* Content-Disposition (RFC 2183 2): ->disposition and ->disp_params. */
void mime_field_disposition(struct mime_tree *t, struct mime_part *part,
    const char *p, size_t n, size_t param_max);
/* Content-Language (RFC 3282 2): a list of tags, at most param_max. */
void mime_field_language(struct mime_tree *t, struct mime_part *part,
    const char *p, size_t n, size_t param_max);

/*
 * The parameters p[i..n), each ";" attribute "=" value, into an array in
 * t's arena (at most max; *n_out gets the count). RFC 2231 3: sections
 * name*0, name*1... are joined in order; RFC 2231 4: an extended value
 * charset'language'%XX is decoded and converted to UTF-8 and the name
 * loses its "*". Sections that are not numbered 0..k are kept apart.
 */
struct mime_param *mime_params_parse(struct mime_tree *t, const char *p,
    size_t i, size_t n, size_t max, size_t *n_out);

#endif
