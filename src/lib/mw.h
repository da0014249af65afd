/*
 * Project-wide macros: attributes and assertions that stay on in release
 * builds. Everything else lives in its own module.
 */
#ifndef MW_H
#define MW_H

#define MW_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define MW_MUST_CHECK	__attribute__((warn_unused_result))
#define MW_NORETURN	__attribute__((noreturn))
#define MW_NELEM(a)	(sizeof(a) / sizeof((a)[0]))
/* The release, as in project() of meson.build; logged by the master. */
#define MW_VERSION	"0.1.0"

/* A broken invariant is a bug: log it and abort with a core. */
#define MW_ASSERT(c)                                                        \
	do {                                                                \
		if (!(c))                                                   \
			log_panic("assertion failed: %s (%s:%d)", #c,       \
			    __FILE__, __LINE__);                            \
	} while (0)

void log_panic(const char *fmt, ...) MW_PRINTF(1, 2) MW_NORETURN;

#endif
