/* TEMPORARY (this session): commands not wired yet. */
#include "imap/imap_cmd.h"
#include "imap/imap_session_private.h"

#define STUB(fn)                                                               \
	void fn(struct imap_session *s, const struct imap_command *c)          \
	{                                                                      \
		(void)c;                                                       \
		imap_tagged(s, "NO", "[CANNOT] Not yet.");                     \
	}
STUB(imap_cmd_list)
STUB(imap_cmd_append)
STUB(imap_cmd_idle)

int
imap_append_literal(struct imap_session *s, const struct imap_literal_info *li)
{
	(void)li;
	imap_reader_literal_refuse(s->reader);
	imap_tagged(s, "NO", "[CANNOT] Not yet.");
	return -1;
}
void
imap_append_data(struct imap_session *s, struct imap_slice chunk, bool last)
{
	(void)s;
	(void)chunk;
	(void)last;
}
void
imap_append_discard(struct imap_session *s)
{
	(void)s;
}
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
