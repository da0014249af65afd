/*
 * FLAGS lists and INTERNALDATE date-times (see imap_flags.h).
 */
#include "imap/imap_flags.h"

#include <errno.h>
#include <time.h>

#include "imap/imap_command.h"
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

uint32_t
imap_flags_to_store(unsigned sys)
{
	uint32_t f = 0;

	if (sys & IMAP_FLAG_ANSWERED)
		f |= STORE_FLAG_ANSWERED;
	if (sys & IMAP_FLAG_FLAGGED)
		f |= STORE_FLAG_FLAGGED;
	if (sys & IMAP_FLAG_DELETED)
		f |= STORE_FLAG_DELETED;
	if (sys & IMAP_FLAG_SEEN)
		f |= STORE_FLAG_SEEN;
	if (sys & IMAP_FLAG_DRAFT)
		f |= STORE_FLAG_DRAFT;
	return f;
}

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar
 * (H. Hinnant's days_from_civil). */
static int64_t
imap_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int64_t
imap_date_time_epoch(const struct imap_date_time *dt)
{
	int64_t days =
	    imap_days_from_civil(dt->date.year, dt->date.mon, dt->date.day);

	return days * 86400 + dt->hour * 3600 + dt->min * 60 + dt->sec -
	    (int64_t)dt->zone * 60;
}
