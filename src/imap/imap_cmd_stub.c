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
STUB(imap_cmd_fetch)
STUB(imap_cmd_search)
