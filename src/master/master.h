/*
 * The master process: loads the configuration, binds the listeners, drops
 * to mail_owner, forks the services (smtpd x smtpd_processes, queue x 1),
 * restarts those that die, re-reads the configuration on SIGHUP and stops
 * everything on SIGTERM or SIGINT. `mailwright serve` runs it.
 */
#ifndef MASTER_MASTER_H
#define MASTER_MASTER_H

/*
 * Runs the mail system in the foreground until SIGTERM or SIGINT; returns
 * the process exit status: 0 after a clean stop, 1 when it cannot start
 * (after one line "mailwright: what is wrong" on stderr, or conf_load()'s
 * "file:line: parameter: what is wrong").
 */
int master_main(const char *config_path);

#endif
