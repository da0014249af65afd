/* TEMPORARY (this session): commands not wired yet. */
#include "imap/imap_cmd.h"
#include "imap/imap_session_private.h"

#define STUB(fn)                                                               \
	void fn(struct imap_session *s, const struct imap_command *c)          \
	{                                                                      \
		(void)c;                                                       \
		imap_tagged(s, "NO", "[CANNOT] Not yet.");                     \
	}
STUB(imap_cmd_idle)

void
imap_idle_line(struct imap_session *s, struct imap_slice line)
{
	(void)s;
	(void)line;
}
void
imap_idle_stop_watch(struct imap_session *s)
{
	(void)s;
}
