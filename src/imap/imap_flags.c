/*
 * FLAGS lists and INTERNALDATE date-times (see imap_flags.h).
 */
#include "imap/imap_flags.h"

#include <errno.h>
#include <time.h>

#include "lib/buf.h"
#include "store/store.h"

// clang-format off
static const struct {
	uint32_t flag;
	const char *name;
} flag_names[] = {
	/* Dovecot's imap_write_flags() order */
	{ STORE_FLAG_ANSWERED,	"\\Answered" },
	{ STORE_FLAG_FLAGGED,	"\\Flagged" },
	{ STORE_FLAG_DELETED,	"\\Deleted" },
	{ STORE_FLAG_SEEN,	"\\Seen" },
	{ STORE_FLAG_DRAFT,	"\\Draft" },
};
// clang-format on

int
imap_flags_append(struct buf *out, uint32_t flags, uint32_t keywords,
    const char *const *names, size_t nnames, bool recent)
{
	const char *sep = "";
	size_t i;

	if (buf_append_char(out, '(') == -1)
		return -1;
	for (i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++) {
		if ((flags & flag_names[i].flag) == 0)
			continue;
		if (buf_printf(out, "%s%s", sep, flag_names[i].name) == -1)
			return -1;
		sep = " ";
	}
	if (recent) {
		if (buf_printf(out, "%s\\Recent", sep) == -1)
			return -1;
		sep = " ";
	}
	for (i = 0; i < nnames && i < 32; i++) {
		if ((keywords & (1u << i)) == 0 || names[i] == NULL)
			continue;
		if (buf_printf(out, "%s%s", sep, names[i]) == -1)
			return -1;
		sep = " ";
	}
	return buf_append_char(out, ')');
}

int
imap_date_time_append(struct buf *out, int64_t t)
{
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May",
		"Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;
	time_t tt = (time_t)t;
	long off;
	char sign = '+';

	if ((int64_t)tt != t || localtime_r(&tt, &tm) == NULL ||
	    tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
		errno = EOVERFLOW;
		return -1;
	}
	off = tm.tm_gmtoff / 60;
	if (off < 0) {
		sign = '-';
		off = -off;
	}
	/* RFC 9051 9: date-time = DQUOTE date-day-fixed "-" date-month "-"
	 * date-year SP time SP zone DQUOTE */
	return buf_printf(out, "\"%02d-%s-%04d %02d:%02d:%02d %c%02ld%02ld\"",
	    tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, sign, off / 60, off % 60);
}
