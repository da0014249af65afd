/*
 * IMAP flag lists and dates (see imap_flags.h).
 */
#include "imap/imap_flags.h"

#include <time.h>

#include "imap/imap_command.h"
#include "lib/buf.h"
#include "store/store.h"

int
imap_flags_append(struct buf *out, uint32_t flags, uint32_t keywords,
    const char *const *names, size_t nnames, bool recent)
{
	/* Dovecot's order, which clients and tests have come to expect */
	static const struct {
		uint32_t bit;
		const char *name;
	} sys[] = {
		{ STORE_FLAG_ANSWERED, "\\Answered" },
		{ STORE_FLAG_FLAGGED, "\\Flagged" },
		{ STORE_FLAG_DELETED, "\\Deleted" },
		{ STORE_FLAG_SEEN, "\\Seen" },
		{ STORE_FLAG_DRAFT, "\\Draft" },
	};
	size_t len = out->len, i;
	bool first = true;

	if (buf_append_char(out, '(') == -1)
		return -1;
	for (i = 0; i < sizeof(sys) / sizeof(sys[0]); i++) {
		if (!(flags & sys[i].bit))
			continue;
		if ((!first && buf_append_char(out, ' ') == -1) ||
		    buf_append_str(out, sys[i].name) == -1)
			goto fail;
		first = false;
	}
	if (recent) {
		if ((!first && buf_append_char(out, ' ') == -1) ||
		    buf_append_str(out, "\\Recent") == -1)
			goto fail;
		first = false;
	}
	for (i = 0; i < nnames && i < 32; i++) {
		if (!(keywords & (1u << i)) || names[i] == NULL)
			continue;
		if ((!first && buf_append_char(out, ' ') == -1) ||
		    buf_append_str(out, names[i]) == -1)
			goto fail;
		first = false;
	}
	if (buf_append_char(out, ')') == -1)
		goto fail;
	return 0;
fail:
	buf_truncate(out, len);
	return -1;
}

int
imap_date_time_append(struct buf *out, int64_t t)
{
	static const char mon[12][4] = { "Jan", "Feb", "Mar", "Apr", "May",
		"Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t tt = (time_t)t;
	struct tm tm;
	long off;

	if (localtime_r(&tt, &tm) == NULL) {
		tt = 0;
		(void)gmtime_r(&tt, &tm);
	}
	off = tm.tm_gmtoff / 60;
	return buf_printf(out, "\"%02d-%s-%04d %02d:%02d:%02d %c%02ld%02ld\"",
	    tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, off < 0 ? '-' : '+', (off < 0 ? -off : off) / 60,
	    (off < 0 ? -off : off) % 60);
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
