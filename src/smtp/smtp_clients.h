/*
 * Connections per client address, for
 * smtpd_client_connection_count_limit (Postfix's anvil, per process).
 */
#ifndef SMTP_SMTP_CLIENTS_H
#define SMTP_SMTP_CLIENTS_H

struct smtp_client_count;

struct smtp_client_count *smtp_clients_new(void);
void smtp_clients_free(struct smtp_client_count **c);
/* Counts a new connection from addr; returns the count including it. */
unsigned smtp_clients_add(struct smtp_client_count *c, const char *addr);
/* Forgets one connection from addr. */
void smtp_clients_del(struct smtp_client_count *c, const char *addr);

#endif
