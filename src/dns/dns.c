/*
 * DNS through libunbound (see dns.h). libunbound's asynchronous mode
 * answers on a descriptor (ub_fd) that one background thread of ours
 * polls, calling ub_process(), which runs the callbacks; a caller of
 * dns_query() waits on a condition variable for its callback, or gives up
 * at the deadline and cancels the query.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <idn2.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unbound.h>
#include <unistd.h>

#include "dns/dns.h"
#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/log.h"
#include "lib/xalloc.h"

struct dns_resolver {
	struct ub_ctx *ctx;
	unsigned timeout_ms;
	pthread_t thread;
	int wake[2]; /* written to stop the thread */
};

/* A query in flight, on its caller's stack. */
struct dns_wait {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	int err;
	struct ub_result *res;
};

static void *
dns_thread(void *arg)
{
	struct dns_resolver *r = arg;
	struct pollfd p[2];
	int e;

	p[0].fd = ub_fd(r->ctx);
	p[0].events = POLLIN;
	p[1].fd = r->wake[0];
	p[1].events = POLLIN;
	for (;;) {
		if (poll(p, 2, -1) == -1) {
			if (errno != EINTR)
				log_fatal("dns: poll: %m");
			continue;
		}
		if (p[1].revents != 0)
			break;
		if (p[0].revents != 0 && (e = ub_process(r->ctx)) != 0)
			log_warn("dns: %s", ub_strerror(e));
	}
	return NULL;
}

/* "192.0.2.1", "192.0.2.1:5353", "[2001:db8::1]:53", "2001:db8::1" as
 * libunbound's "address@port". Numeric only: a name would need DNS to
 * find DNS (and getaddrinfo here could block). */
static int
dns_server_spec(const char *spec, struct buf *out, struct buf *err)
{
	unsigned char bin[16];
	char addr[INET6_ADDRSTRLEN];
	const char *a = spec, *port = NULL, *colon = strchr(spec, ':');
	size_t alen = strlen(spec);
	unsigned long p = 53;
	char *end;

	buf_reset(out);
	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');

		if (close == NULL || close[1] != ':')
			goto bad;
		a = spec + 1;
		alen = (size_t)(close - a);
		port = close + 2;
	} else if (colon != NULL && strchr(colon + 1, ':') == NULL) {
		alen = (size_t)(colon - spec); /* IPv4 with a port */
		port = colon + 1;
	}
	if (alen == 0 || alen >= sizeof(addr))
		goto bad;
	memcpy(addr, a, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, bin) != 1 &&
	    (spec[0] != '[' && colon == NULL
	            ? true
	            : inet_pton(AF_INET6, addr, bin) != 1))
		goto bad;
	if (port != NULL) {
		if (*port < '0' || *port > '9')
			goto bad;
		errno = 0;
		p = strtoul(port, &end, 10);
		if (errno != 0 || *end != '\0' || p == 0 || p > 65535)
			goto bad;
	}
	return buf_printf(out, "%s@%lu", addr, p);
bad:
	(void)!buf_printf(err,
	    "dns_servers: \"%s\" is not an IP address with an optional port "
	    "(write 192.0.2.1, 192.0.2.1:53 or [2001:db8::1]:53)",
	    log_sanitize_str(spec));
	return -1;
}

int
dns_servers_check(const struct conf_list *servers, struct buf *err)
{
	struct buf fwd;
	size_t i;
	int rc = 0;

	buf_reset(err);
	buf_init(&fwd, 128);
	for (i = 0; i < servers->n && rc == 0; i++)
		rc = dns_server_spec(servers->items[i], &fwd, err);
	buf_free(&fwd);
	return rc;
}

/* The trust anchors (RFC 4033 3.1): the default file only when it is
 * there, any other file must be readable now (a typo is a configuration
 * error at startup, not a failure of every later lookup). */
static int
dns_trust_anchor(struct ub_ctx *ctx, const char *file, struct buf *err)
{
	int fd, e;

	if (file == NULL || file[0] == '\0')
		return 0;
	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT &&
		    strcmp(file, DNS_TRUST_ANCHOR_DEFAULT) == 0)
			return 0;
		(void)!buf_printf(err, "dns_trust_anchor_file: %s: %s",
		    log_sanitize_str(file), strerror(errno));
		return -1;
	}
	(void)close(fd);
	if ((e = ub_ctx_add_ta_file(ctx, file)) != 0) {
		(void)!buf_printf(err, "dns_trust_anchor_file: %s: %s",
		    log_sanitize_str(file), ub_strerror(e));
		return -1;
	}
	return 0;
}

struct dns_resolver *
dns_resolver_new(const struct conf_list *servers, unsigned timeout_ms,
    const char *trust_anchor, struct buf *err)
{
	struct dns_resolver *r = xcalloc(1, sizeof(*r));
	struct buf fwd;
	sigset_t all, old;
	size_t i;
	int e;

	buf_reset(err);
	r->timeout_ms = timeout_ms;
	r->wake[0] = r->wake[1] = -1;
	if ((r->ctx = ub_ctx_create()) == NULL) {
		(void)!buf_printf(err, "dns: cannot create a libunbound context");
		goto fail;
	}
	/* threads, not a forked process; a forwarder on loopback (a local
	 * cache such as systemd-resolved, or a test's server) is allowed */
	if ((e = ub_ctx_async(r->ctx, 1)) != 0 ||
	    (e = ub_ctx_set_option(r->ctx, "do-not-query-localhost:", "no")) !=
	        0 ||
	    /* libunbound answers "test." itself (RFC 6761 6.2) unless told
	     * not to; test domains served by the configured name servers
	     * are how laboratories and test suites work */
	    (e = ub_ctx_set_option(
	         r->ctx, "local-zone:", "test. transparent")) != 0 ||
	    /* and the root zone proves that "test." does not exist: below
	     * it, only trust anchors of its own make answers secure */
	    (e = ub_ctx_set_option(r->ctx, "domain-insecure:", "test.")) != 0) {
		(void)!buf_printf(err, "dns: %s", ub_strerror(e));
		goto fail;
	}
	if (dns_trust_anchor(r->ctx, trust_anchor, err) == -1)
		goto fail;
	buf_init(&fwd, 128);
	for (i = 0; i < servers->n; i++) {
		if (dns_server_spec(servers->items[i], &fwd, err) == -1 ||
		    (e = ub_ctx_set_fwd(r->ctx, buf_cstr(&fwd))) != 0) {
			if (err->len == 0)
				(void)!buf_printf(err, "dns_servers: %s: %s",
				    log_sanitize_str(servers->items[i]),
				    ub_strerror(e));
			buf_free(&fwd);
			goto fail;
		}
	}
	buf_free(&fwd);
	/* without a resolv.conf, libunbound recurses from the root itself */
	if (servers->n == 0 && (e = ub_ctx_resolvconf(r->ctx, NULL)) != 0)
		log_info("dns: /etc/resolv.conf: %s: resolving from the root",
		    ub_strerror(e));
	if (pipe2(r->wake, O_CLOEXEC) == -1) {
		(void)!buf_printf(err, "dns: pipe: %s", strerror(errno));
		goto fail;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(&r->thread, NULL, dns_thread, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0) {
		(void)!buf_printf(err, "dns: pthread_create: %s", strerror(e));
		goto fail;
	}
	return r;
fail:
	if (r->wake[0] != -1) {
		close(r->wake[0]);
		close(r->wake[1]);
	}
	if (r->ctx != NULL)
		ub_ctx_delete(r->ctx);
	free(r);
	return NULL;
}

void
dns_resolver_free(struct dns_resolver **rp)
{
	struct dns_resolver *r = *rp;

	if (r == NULL)
		return;
	(void)!write(r->wake[1], "x", 1);
	pthread_join(r->thread, NULL);
	close(r->wake[0]);
	close(r->wake[1]);
	ub_ctx_delete(r->ctx);
	free(r);
	*rp = NULL;
}

static void
dns_done(void *arg, int err, struct ub_result *res)
{
	struct dns_wait *w = arg;

	pthread_mutex_lock(&w->mu);
	w->err = err;
	w->res = res;
	w->done = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

/* A name libunbound may be asked about: RFC 1035 2.3.4 lengths, no
 * empty label, no bytes that cannot be in a host name's wire form. */
static bool
dns_name_ok(const char *name)
{
	size_t len = strlen(name), label = 0, i;

	if (len == 0 || len > 253 || name[0] == '.')
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (c <= ' ' || c >= 0x7f || c == '\\' || ++label > 63)
			return false;
	}
	return true;
}

/* Waits for w until deadline; false on timeout. Holds w->mu. */
static bool
dns_wait_until(struct dns_wait *w, const struct timespec *deadline)
{
	while (!w->done)
		if (pthread_cond_timedwait(&w->cv, &w->mu, deadline) ==
		    ETIMEDOUT)
			return w->done;
	return true;
}

void
dns_query(struct dns_resolver *r, const char *name, int rrtype,
    struct dns_answer *out)
{
	struct dns_wait w;
	pthread_condattr_t ca;
	struct timespec deadline;
	struct ub_result *res;
	int id, e;

	memset(out, 0, sizeof(*out));
	out->status = DNS_TEMPFAIL;
	if (!dns_name_ok(name)) {
		out->status = DNS_INVALID;
		return;
	}
	memset(&w, 0, sizeof(w));
	pthread_mutex_init(&w.mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w.cv, &ca);
	pthread_condattr_destroy(&ca);
	e = ub_resolve_async(r->ctx, name, rrtype, 1, &w, dns_done, &id);
	if (e != 0) {
		log_warn("dns: %s: %s", log_sanitize_str(name), ub_strerror(e));
		if (e == UB_SYNTAX)
			out->status = DNS_INVALID;
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += r->timeout_ms / 1000;
	deadline.tv_nsec += (long)(r->timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w.mu);
	if (!dns_wait_until(&w, &deadline)) {
		pthread_mutex_unlock(&w.mu);
		/* cancelled: the callback will never run; otherwise it is
		 * running or about to, and must be waited for */
		if (ub_cancel(r->ctx, id) == 0) {
			log_warn("dns: %s: no answer within %u ms",
			    log_sanitize_str(name), r->timeout_ms);
			goto out;
		}
		pthread_mutex_lock(&w.mu);
		while (!w.done)
			pthread_cond_wait(&w.cv, &w.mu);
	}
	pthread_mutex_unlock(&w.mu);
	if (w.err != 0) {
		log_warn("dns: %s: %s", log_sanitize_str(name),
		    ub_strerror(w.err));
		goto out;
	}
	res = w.res;
	out->priv = res;
	if (res->bogus) {
		/* RFC 4035 5.5: a bogus answer is not to be used; an attack
		 * or a broken signer, for an admin to look at */
		log_warn("dns: %s: DNSSEC validation failed: %s",
		    log_sanitize_str(name),
		    log_sanitize_str(
		        res->why_bogus != NULL ? res->why_bogus : "bogus"));
		goto out;
	}
	out->secure = res->secure != 0;
	switch (res->rcode) {
	case 0: /* NOERROR */
		out->status = res->havedata ? DNS_OK : DNS_NODATA;
		break;
	case 3: /* NXDOMAIN */
		out->status = DNS_NXDOMAIN;
		break;
	default: /* SERVFAIL, REFUSED, ...: RFC 1035 4.1.1 */
		out->status = DNS_TEMPFAIL;
		break;
	}
	if (out->status == DNS_OK) {
		while (res->data[out->n] != NULL)
			out->n++;
		out->data = (const unsigned char *const *)res->data;
		out->len = res->len;
	}
out:
	pthread_cond_destroy(&w.cv);
	pthread_mutex_destroy(&w.mu);
}

void
dns_answer_free(struct dns_answer *a)
{
	if (a->priv != NULL)
		ub_resolve_free(a->priv);
	memset(a, 0, sizeof(*a));
}

/* MX rdata (RFC 1035 3.3.9): a 16-bit preference, then the exchange as a
 * wire-form name. */
enum dns_mailhost
dns_mx_classify(const struct dns_answer *a)
{
	bool host = false, null = false;
	size_t i, off;

	for (i = 0; i < a->n; i++) {
		const unsigned char *d = a->data[i];
		size_t len = a->len[i] < 0 ? 0 : (size_t)a->len[i];

		if (len < 3)
			return DNS_MAILHOST_INVALID;
		for (off = 2; off < len && d[off] != 0; off += 1 + d[off])
			if (d[off] > 63)
				return DNS_MAILHOST_INVALID;
		if (off != len - 1)
			return DNS_MAILHOST_INVALID;
		if (len == 3)
			null = true;
		else
			host = true;
	}
	return host ? DNS_MAILHOST_FOUND
	            : null ? DNS_MAILHOST_NULLMX : DNS_MAILHOST_INVALID;
}

char *
dns_name_to_ascii(const char *name)
{
	const unsigned char *p;
	char *out = NULL, *copy;

	for (p = (const unsigned char *)name; *p != '\0' && *p < 0x80; p++)
		;
	if (*p == '\0')
		return xstrdup(name);
	/* RFC 5890/5891 via IDNA2008 with UTS #46 mapping (lowercasing and
	 * the like), as browsers and Postfix's midna_domain do */
	if (idn2_to_ascii_8z(name, &out, IDN2_NONTRANSITIONAL) != IDN2_OK)
		return NULL;
	copy = xstrdup(out);
	idn2_free(out);
	return copy;
}

enum dns_mailhost
dns_mailhost_lookup(
    struct dns_resolver *r, const char *domain, bool address_first)
{
	static const int mx_first[] = { DNS_TYPE_MX, DNS_TYPE_A,
		DNS_TYPE_AAAA };
	static const int addr_first[] = { DNS_TYPE_A, DNS_TYPE_AAAA,
		DNS_TYPE_MX };
	const int *types = address_first ? addr_first : mx_first;
	struct dns_answer a;
	enum dns_mailhost m = DNS_MAILHOST_NOTFOUND;
	bool tempfail = false;
	char *name = dns_name_to_ascii(domain);
	size_t i;

	if (name == NULL)
		return DNS_MAILHOST_NOTFOUND; /* no such name can exist */
	for (i = 0; i < 3; i++) {
		dns_query(r, name, types[i], &a);
		switch (a.status) {
		case DNS_OK:
			m = types[i] == DNS_TYPE_MX ? dns_mx_classify(&a)
			                            : DNS_MAILHOST_FOUND;
			dns_answer_free(&a);
			goto out;
		case DNS_NXDOMAIN:
		case DNS_INVALID: /* a name that cannot exist */
			dns_answer_free(&a);
			goto done;
		case DNS_TEMPFAIL:
			tempfail = true;
			break;
		case DNS_NODATA:
			break;
		}
		dns_answer_free(&a);
	}
done:
	m = tempfail ? DNS_MAILHOST_TEMPFAIL : DNS_MAILHOST_NOTFOUND;
out:
	free(name);
	return m;
}

const char *
dns_mailhost_str(enum dns_mailhost m)
{
	switch (m) {
	case DNS_MAILHOST_FOUND:
		return "found";
	case DNS_MAILHOST_NOTFOUND:
		return "not found";
	case DNS_MAILHOST_NULLMX:
		return "null MX";
	case DNS_MAILHOST_INVALID:
		return "malformed";
	case DNS_MAILHOST_TEMPFAIL:
		break;
	}
	return "temporary failure";
}
