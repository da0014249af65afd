/*
 * The IMAP command handlers by group, as imap_cmd.c dispatches them.
 * Each answers the command (tagged reply) itself, now or from a job.
 */
#ifndef IMAP_IMAP_CMD_H
#define IMAP_IMAP_CMD_H

struct imap_command;
struct imap_session;

/* imap_cmd_mailbox.c: SELECT/EXAMINE, CREATE, DELETE, RENAME,
 * SUBSCRIBE/UNSUBSCRIBE, NAMESPACE, STATUS */
void imap_cmd_select(struct imap_session *s, const struct imap_command *c);
void imap_cmd_create(struct imap_session *s, const struct imap_command *c);
void imap_cmd_delete(struct imap_session *s, const struct imap_command *c);
void imap_cmd_rename(struct imap_session *s, const struct imap_command *c);
void imap_cmd_subscribe(struct imap_session *s, const struct imap_command *c);
void imap_cmd_namespace(struct imap_session *s, const struct imap_command *c);
void imap_cmd_status(struct imap_session *s, const struct imap_command *c);
/* imap_cmd_list.c: LIST (RFC 5258, 5819, 6154), LSUB */
void imap_cmd_list(struct imap_session *s, const struct imap_command *c);
/* imap_cmd_append.c */
void imap_cmd_append(struct imap_session *s, const struct imap_command *c);
/* imap_cmd_idle.c */
void imap_cmd_idle(struct imap_session *s, const struct imap_command *c);
/* imap_cmd_select.c: the selected state: NOOP/CHECK, CLOSE/UNSELECT,
 * EXPUNGE, UID EXPUNGE, STORE, COPY, MOVE */
void imap_cmd_sync(struct imap_session *s, const struct imap_command *c);
void imap_cmd_close(struct imap_session *s, const struct imap_command *c);
void imap_cmd_expunge(struct imap_session *s, const struct imap_command *c);
void imap_cmd_store(struct imap_session *s, const struct imap_command *c);
void imap_cmd_copy(struct imap_session *s, const struct imap_command *c);
/* imap_cmd_fetch.c */
void imap_cmd_fetch(struct imap_session *s, const struct imap_command *c);
/* imap_cmd_search.c */
void imap_cmd_search(struct imap_session *s, const struct imap_command *c);

#endif
