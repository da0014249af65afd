/*
 * The accept loop and graceful stop shared by the network services (see
 * service.h).
 */
#include "lib/service.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>

#include "lib/log.h"
#include "lib/xalloc.h"

struct service_listener {
	struct service *sv;
	enum listener_kind kind;
	struct evconnlistener *lev;
};

struct service {
	struct event_base *base;
	struct service_listener *l;
	size_t nl;
	service_accept_fn *accept;
	void *arg;
	const size_t *nsessions;
	unsigned grace_ticks, ticks;
	bool stopping;
	struct event *ev_term, *ev_int, *tick;
};

static void
service_on_accept(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct service_listener *l = arg;
	int one = 1;

	(void)lev;
	(void)evutil_make_socket_closeonexec(fd);
	/* Replies leave whole from the output buffer; Nagle would hold the
	 * second TLS record of a flight (tickets, then a reply) for the
	 * client's delayed ACK, 40 ms a round. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	l->sv->accept(l->sv->arg, l->kind, fd, sa, (socklen_t)salen);
}

static void
service_on_accept_error(struct evconnlistener *lev, void *arg)
{
	int e = EVUTIL_SOCKET_ERROR();

	(void)lev;
	(void)arg;
	/* EMFILE and friends: log and go on; libevent retries. */
	errno = e;
	log_warn("accept: %m");
}

static void
service_on_stop_tick(evutil_socket_t fd, short what, void *arg)
{
	struct service *sv = arg;

	(void)fd;
	(void)what;
	if (*sv->nsessions == 0 || ++sv->ticks > sv->grace_ticks)
		event_base_loopexit(sv->base, NULL);
}

static void
service_on_sigterm(evutil_socket_t sig, short what, void *arg)
{
	struct service *sv = arg;
	struct timeval tv = { 0, 100000 };
	size_t i;

	(void)sig;
	(void)what;
	if (sv->stopping)
		return;
	sv->stopping = true;
	for (i = 0; i < sv->nl; i++)
		evconnlistener_disable(sv->l[i].lev);
	sv->tick = event_new(sv->base, -1, EV_PERSIST, service_on_stop_tick, sv);
	if (sv->tick == NULL)
		log_fatal("cannot create an event: out of memory");
	(void)event_add(sv->tick, &tv);
}

struct service *
service_new(struct event_base *base, struct listener *ls, size_t nls,
    service_kind_fn *want, service_accept_fn *accept, void *arg,
    const size_t *nsessions, unsigned grace_seconds)
{
	struct service *sv = xcalloc(1, sizeof(*sv));
	size_t i;

	sv->base = base;
	sv->accept = accept;
	sv->arg = arg;
	sv->nsessions = nsessions;
	sv->grace_ticks = grace_seconds * 10;
	sv->l = xcalloc(nls ? nls : 1, sizeof(*sv->l));
	for (i = 0; i < nls; i++) {
		struct service_listener *l = &sv->l[sv->nl];

		if (!want(ls[i].kind))
			continue;
		l->sv = sv;
		l->kind = ls[i].kind;
		l->lev = evconnlistener_new(base, service_on_accept, l,
		    LEV_OPT_CLOSE_ON_EXEC, -1, ls[i].fd);
		if (l->lev == NULL)
			log_fatal("cannot listen on %s", ls[i].spec);
		evconnlistener_set_error_cb(l->lev, service_on_accept_error);
		sv->nl++;
	}
	sv->ev_term = evsignal_new(base, SIGTERM, service_on_sigterm, sv);
	sv->ev_int = evsignal_new(base, SIGINT, service_on_sigterm, sv);
	if (sv->ev_term == NULL || sv->ev_int == NULL)
		log_fatal("cannot create an event: out of memory");
	(void)event_add(sv->ev_term, NULL);
	(void)event_add(sv->ev_int, NULL);
	return sv;
}

bool
service_stopping(const struct service *sv)
{
	return sv->stopping;
}

void
service_free(struct service **svp)
{
	struct service *sv = *svp;
	size_t i;

	if (sv == NULL)
		return;
	for (i = 0; i < sv->nl; i++)
		evconnlistener_free(sv->l[i].lev);
	if (sv->tick != NULL)
		event_free(sv->tick);
	event_free(sv->ev_term);
	event_free(sv->ev_int);
	free(sv->l);
	free(sv);
	*svp = NULL;
}
