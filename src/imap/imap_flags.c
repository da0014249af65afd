/*
 * FLAGS lists and INTERNALDATE date-times (see imap_flags.h).
 */
#include "imap/imap_flags.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "imap/imap_command.h"
#include "lib/buf.h"
#include "store/store.h"

// clang-format off
static const struct {
	uint32_t flag;
	const char *name; /* with the space before it */
	size_t n;
} flag_names[] = {
	/* Dovecot's imap_write_flags() order */
	{ STORE_FLAG_ANSWERED,	" \\Answered", sizeof(" \\Answered") - 1 },
	{ STORE_FLAG_FLAGGED,	" \\Flagged", sizeof(" \\Flagged") - 1 },
	{ STORE_FLAG_DELETED,	" \\Deleted", sizeof(" \\Deleted") - 1 },
	{ STORE_FLAG_SEEN,	" \\Seen", sizeof(" \\Seen") - 1 },
	{ STORE_FLAG_DRAFT,	" \\Draft", sizeof(" \\Draft") - 1 },
};
// clang-format on

/* Called once per message of a FETCH: no printf. */
int
imap_flags_append(struct buf *out, uint32_t flags, uint32_t keywords,
    const char *const *names, size_t nnames, bool recent)
{
	char tmp[128];
	size_t i, n = 0, start = out->len;

	/* the system flags, each after a space; the first space goes */
	for (i = 0; i < MW_NELEM(flag_names); i++) {
		if ((flags & flag_names[i].flag) == 0)
			continue;
		memcpy(tmp + n, flag_names[i].name, flag_names[i].n);
		n += flag_names[i].n;
	}
	if (recent) {
		memcpy(tmp + n, " \\Recent", sizeof(" \\Recent") - 1);
		n += sizeof(" \\Recent") - 1;
	}
	tmp[0] = '(';
	if (buf_append(out, tmp, n > 0 ? n : 1) == -1)
		return -1;
	for (i = 0; i < nnames && i < 32; i++) {
		if ((keywords & (1u << i)) == 0 || names[i] == NULL)
			continue;
		if ((out->len > start + 1 && buf_append_char(out, ' ') == -1) ||
		    buf_append_str(out, names[i]) == -1)
			goto fail;
	}
	if (buf_append_char(out, ')') == -1)
		goto fail;
	return 0;
fail:
	buf_truncate(out, start);
	return -1;
}

static char *
two_digits(char *p, unsigned v)
{
	p[0] = (char)('0' + v / 10 % 10);
	p[1] = (char)('0' + v % 10);
	return p + 2;
}

/* Called once per message of a FETCH INTERNALDATE: no printf. */
int
imap_date_time_append(struct buf *out, int64_t t)
{
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May",
		"Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;
	time_t tt = (time_t)t;
	long off;
	char b[32], *p = b;
	unsigned year;

	if ((int64_t)tt != t || localtime_r(&tt, &tm) == NULL ||
	    tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
		errno = EOVERFLOW;
		return -1;
	}
	off = tm.tm_gmtoff / 60;
	/* RFC 9051 9: date-time = DQUOTE date-day-fixed "-" date-month "-"
	 * date-year SP time SP zone DQUOTE; the day with a leading zero */
	*p++ = '"';
	p = two_digits(p, (unsigned)tm.tm_mday);
	*p++ = '-';
	memcpy(p, months[tm.tm_mon], 3);
	p += 3;
	*p++ = '-';
	year = (unsigned)(tm.tm_year + 1900);
	p = two_digits(p, year / 100);
	p = two_digits(p, year % 100);
	*p++ = ' ';
	p = two_digits(p, (unsigned)tm.tm_hour);
	*p++ = ':';
	p = two_digits(p, (unsigned)tm.tm_min);
	*p++ = ':';
	p = two_digits(p, (unsigned)tm.tm_sec);
	*p++ = ' ';
	*p++ = off < 0 ? '-' : '+';
	if (off < 0)
		off = -off;
	p = two_digits(p, (unsigned)(off / 60 % 100));
	p = two_digits(p, (unsigned)(off % 60));
	*p++ = '"';
	return buf_append(out, b, (size_t)(p - b));
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
