/* Strict number, duration and boolean parsing (see parse.h). */
#include <errno.h>
#include <string.h>

#include "lib/parse.h"

int
parse_uint_n(const char *s, size_t n, uint64_t min, uint64_t max,
    uint64_t *v_out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || n > 20) {
		errno = n == 0 ? EINVAL : ERANGE;
		return -1;
	}
	for (i = 0; i < n; i++) {
		unsigned d = (unsigned char)s[i] - '0';
		if (d > 9) {
			errno = EINVAL;
			return -1;
		}
		if (v > (UINT64_MAX - d) / 10) {
			errno = ERANGE;
			return -1;
		}
		v = v * 10 + d;
	}
	if (v < min || v > max) {
		errno = ERANGE;
		return -1;
	}
	*v_out = v;
	return 0;
}

int
parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *v_out)
{
	return parse_uint_n(s, strlen(s), min, max, v_out);
}

int
parse_duration(const char *s, uint64_t min, uint64_t max, uint64_t *secs_out)
{
	size_t n = strlen(s);
	uint64_t mult = 1, v;

	if (n > 0) {
		switch (s[n - 1]) {
		case 's': mult = 1; n--; break;
		case 'm': mult = 60; n--; break;
		case 'h': mult = 3600; n--; break;
		case 'd': mult = 86400; n--; break;
		case 'w': mult = 604800; n--; break;
		default: break;
		}
	}
	if (parse_uint_n(s, n, 0, UINT64_MAX / 604800, &v) == -1)
		return -1;
	v *= mult;
	if (v < min || v > max) {
		errno = ERANGE;
		return -1;
	}
	*secs_out = v;
	return 0;
}

int
parse_bool(const char *s, bool *v_out)
{
	if (ascii_eq(s, "yes") || ascii_eq(s, "true") || strcmp(s, "1") == 0) {
		*v_out = true;
		return 0;
	}
	if (ascii_eq(s, "no") || ascii_eq(s, "false") || strcmp(s, "0") == 0) {
		*v_out = false;
		return 0;
	}
	errno = EINVAL;
	return -1;
}

static char
ascii_tolower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

bool
ascii_eq_n(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ascii_tolower(a[i]) != ascii_tolower(b[i]))
			return false;
	return true;
}

bool
ascii_eq(const char *a, const char *b)
{
	size_t n = strlen(a);

	return n == strlen(b) && ascii_eq_n(a, b, n);
}

void
ascii_lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = ascii_tolower(*s);
}
