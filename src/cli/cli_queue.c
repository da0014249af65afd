/*
 * `mailwright queue ...` and `mailq`: the administrator's view of the queue
 * (Postfix's postqueue, postsuper and postcat):
 *
 *	queue list [--json]        the queue, in mailq's layout or as JSON
 *	queue show ID              the message as stored, then its envelope
 *	queue delete ID...|ALL     remove messages (postsuper -d)
 *	queue hold ID...|ALL       keep them, do not deliver (postsuper -h)
 *	queue release ID...|ALL    deliver them again (postsuper -H)
 *	queue requeue ID...|ALL    retry now, backoff forgotten (postsuper -r)
 *	queue flush [-d DOMAIN]    retry deferred mail now (postqueue -f / -s)
 *
 * All but flush act on the files in queue_directory (queue/queue_admin.c),
 * so they work whether or not the server runs; run as root they first
 * become mail_owner, so that what they write stays readable by the
 * services.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_accounts_private.h"
#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/mailaddr.h"
#include "queue/maildrop.h"
#include "queue/queue_admin.h"
#include "queue/queue_file.h"

/* mailq's columns: the ID and its status mark, the size, the arrival
 * time, then sender and recipients, as Postfix's showq with our 17-byte
 * IDs; reasons are right-aligned to 78 columns as there. */
#define MAILQ_ID_WIDTH   17
#define MAILQ_ADDR_COL   (MAILQ_ID_WIDTH + 1 + 1 + 8 + 1 + 20 + 1)
#define MAILQ_REASON_END 76

static int
cli_queue_usage(void)
{
	cli_accounts_fail("usage: mailwright queue list [--json] | show ID | "
	                  "delete|hold|release|requeue ID...|ALL | flush [-d "
	                  "DOMAIN]");
	return CLI_EXIT_USAGE;
}

/* "what: why", and how to fix it when the cause is permissions. */
static void
cli_queue_fail(
    const struct conf *conf, const char *what, const char *why, int e)
{
	if (e == EACCES || e == EPERM)
		cli_accounts_fail("%s: %s (run it as root or as mail_owner %s)",
		    what, why, conf->mail_owner);
	else
		cli_accounts_fail("%s: %s", what, why);
}

/* ---- list --------------------------------------------------------------- */

struct mailq_out {
	FILE *f;
	bool json;
	size_t count;
	uint64_t bytes;
};

/* Postfix's printable(): control bytes become '?'. */
static void
mailq_put_printable(FILE *f, const char *s)
{
	for (; *s != '\0'; s++)
		(void)fputc(
		    (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

/* A JSON string (RFC 8259 7): UTF-8 passes, other bytes >= 0x80 become
 * U+FFFD so that the output is always valid. */
static void
mailq_put_json(FILE *f, const char *s)
{
	size_t n = strlen(s), i, k;

	(void)fputc('"', f);
	for (i = 0; i < n; i += k) {
		unsigned char c = (unsigned char)s[i];

		k = 1;
		if (c == '"' || c == '\\')
			(void)fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			(void)fprintf(f, "\\u%04x", c);
		else if (c < 0x80)
			(void)fputc(c, f);
		else if ((k = mailaddr_utf8_len(s + i, n - i)) > 0)
			(void)fwrite(s + i, 1, k, f);
		else {
			(void)fputs("\\ufffd", f);
			k = 1;
		}
	}
	(void)fputc('"', f);
}

static void
mailq_text(struct mailq_out *o, const struct queue_admin_msg *m)
{
	char when[32], mark;
	time_t t = (time_t)m->arrival;
	const char *last = NULL;
	struct tm tm;
	size_t i;
	int pad;

	(void)localtime_r(&t, &tm);
	(void)strftime(when, sizeof(when), "%a %b %e %H:%M:%S", &tm);
	if (o->count == 0)
		(void)fprintf(o->f, "%-*s %8s %-20s %s\n", MAILQ_ID_WIDTH + 1,
		    "-Queue ID-", "--Size--", "----Arrival Time----",
		    "-Sender/Recipient-------");
	else
		(void)fputc('\n', o->f);
	/* '*' active (being or about to be delivered), '!' on hold, none
	 * for a deferred message or one not picked up yet */
	mark = strcmp(m->queue_name, QUEUE_DIR_HOLD) == 0 ? '!'
	    : strcmp(m->queue_name, QUEUE_DIR_ACTIVE) == 0 && !m->deferred
	    ? '*'
	    : ' ';
	(void)fprintf(o->f, "%-*s%c %8llu %-20s ", MAILQ_ID_WIDTH, m->id, mark,
	    (unsigned long long)m->size, when);
	mailq_put_printable(
	    o->f, m->sender[0] != '\0' ? m->sender : "MAILER-DAEMON");
	(void)fputc('\n', o->f);
	for (i = 0; i < m->nrcpt; i++) {
		const char *why = m->rcpts[i].why;

		/* a reason is shown once for a run of recipients with it */
		if (why != NULL && (last == NULL || strcmp(last, why) != 0)) {
			pad = MAILQ_REASON_END - (int)strlen(why);
			(void)fprintf(o->f, "%*s(", pad > 0 ? pad : 0, "");
			mailq_put_printable(o->f, why);
			(void)fputs(")\n", o->f);
		}
		last = why;
		(void)fprintf(o->f, "%*s", MAILQ_ADDR_COL, "");
		mailq_put_printable(o->f, m->rcpts[i].address);
		(void)fputc('\n', o->f);
	}
}

/* One object of postqueue -j's shape. */
static void
mailq_json(struct mailq_out *o, const struct queue_admin_msg *m)
{
	size_t i;

	(void)fputs(o->count == 0 ? "[\n" : ",\n", o->f);
	(void)fputs("{\"queue_name\": ", o->f);
	mailq_put_json(o->f, m->queue_name);
	(void)fputs(", \"queue_id\": ", o->f);
	mailq_put_json(o->f, m->id);
	(void)fprintf(o->f, ", \"arrival_time\": %llu, \"message_size\": %llu",
	    (unsigned long long)m->arrival, (unsigned long long)m->size);
	(void)fputs(", \"sender\": ", o->f);
	mailq_put_json(o->f, m->sender);
	(void)fputs(", \"recipients\": [", o->f);
	for (i = 0; i < m->nrcpt; i++) {
		(void)fputs(
		    i > 0 ? ", {\"address\": " : "{\"address\": ", o->f);
		mailq_put_json(o->f, m->rcpts[i].address);
		if (m->rcpts[i].why != NULL) {
			(void)fputs(", \"delay_reason\": ", o->f);
			mailq_put_json(o->f, m->rcpts[i].why);
		}
		(void)fputc('}', o->f);
	}
	(void)fputs("]}", o->f);
}

static int
mailq_one(void *arg, const struct queue_admin_msg *m)
{
	struct mailq_out *o = arg;

	if (m->error != NULL) {
		(void)fprintf(stderr, "mailq: warning: %s/%s: %s\n",
		    m->queue_name, m->id, m->error);
		return 0;
	}
	if (o->json)
		mailq_json(o, m);
	else
		mailq_text(o, m);
	o->count++;
	o->bytes += m->file_size;
	return 0;
}

/* 0, or an errno value after printing why. */
static int
cli_queue_list_run(const struct conf *conf, bool json)
{
	struct mailq_out o = { stdout, json, 0, 0 };
	struct buf err;
	int e = 0;

	buf_init(&err, 4096);
	if (queue_admin_list(conf->queue_directory, mailq_one, &o, &err) ==
	    -1) {
		e = errno;
		cli_queue_fail(conf, "queue list", buf_cstr(&err), e);
	} else if (json)
		(void)fputs(o.count > 0 ? "\n]\n" : "[]\n", stdout);
	else if (o.count == 0)
		(void)fputs("Mail queue is empty\n", stdout);
	else
		(void)printf("\n-- %llu Kbytes in %zu Request%s.\n",
		    (unsigned long long)(o.bytes / 1024), o.count,
		    o.count == 1 ? "" : "s");
	if (fflush(stdout) == EOF && e == 0)
		e = EIO;
	buf_free(&err);
	return e;
}

/* ---- acting on messages -------------------------------------------------- */

enum cli_queue_op {
	CLI_QUEUE_DELETE,
	CLI_QUEUE_HOLD,
	CLI_QUEUE_RELEASE,
	CLI_QUEUE_REQUEUE,
};

struct cli_queue_opdesc {
	const char *name;
	const char *done_one; /* "ID: ..." */
	const char *done_all; /* "...: N messages" */
	/* the directories ALL takes its messages from */
	const char *from[3];
};

// clang-format off
static const struct cli_queue_opdesc cli_queue_ops[] = {
	[CLI_QUEUE_DELETE]  = { "queue delete",  "removed",            "Deleted",
	    { QUEUE_DIR_ACTIVE, QUEUE_DIR_HOLD, QUEUE_DIR_MAILDROP } },
	[CLI_QUEUE_HOLD]    = { "queue hold",    "placed on hold",     "Placed on hold",
	    { QUEUE_DIR_ACTIVE, NULL, NULL } },
	[CLI_QUEUE_RELEASE] = { "queue release", "released from hold", "Released from hold",
	    { QUEUE_DIR_HOLD, NULL, NULL } },
	[CLI_QUEUE_REQUEUE] = { "queue requeue", "requeued",           "Requeued",
	    { QUEUE_DIR_ACTIVE, NULL, NULL } },
};
// clang-format on

/* requeue: the queue manager does it when it runs (it writes the state
 * files); else this command does, holding qmgr.lock meanwhile. */
static int
cli_queue_requeue_one(
    const struct conf *conf, const char *id, int *lockfd, struct buf *err)
{
	const char *sub = queue_admin_find(conf->queue_directory, id);

	if (sub == NULL || strcmp(sub, QUEUE_DIR_ACTIVE) != 0) {
		buf_reset(err);
		if (sub == NULL && errno == EINVAL)
			(void)!buf_printf(err, "%s is not a queue ID", id);
		else if (sub == NULL)
			(void)!buf_printf(err,
			    "%s: no such message (delivered "
			    "already? mailq lists the queue)",
			    id);
		else
			(void)!buf_printf(err, "%s is in %s/, not queued: %s",
			    id, sub,
			    strcmp(sub, QUEUE_DIR_HOLD) == 0
			        ? "queue release sends it"
			        : "it is picked up when the server runs");
		return -1;
	}
	if (*lockfd == -1 &&
	    (*lockfd = queue_admin_lock(conf->queue_directory)) == -1 &&
	    errno != EWOULDBLOCK) {
		buf_reset(err);
		(void)!buf_printf(err, "cannot open %s/%s: %s",
		    conf->queue_directory, QUEUE_LOCK_FILE, strerror(errno));
		return -1;
	}
	if (*lockfd != -1)
		return queue_admin_requeue_state(
		    conf->queue_directory, id, err);
	if (queue_requeue(conf->queue_directory, id) == -1) {
		buf_reset(err);
		(void)!buf_printf(
		    err, "cannot reach the queue manager: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int
cli_queue_op_one(const struct conf *conf, enum cli_queue_op op, const char *id,
    int *lockfd, struct buf *err)
{
	switch (op) {
	case CLI_QUEUE_DELETE:
		return queue_admin_delete(conf->queue_directory, id, err);
	case CLI_QUEUE_HOLD:
		return queue_admin_hold(conf->queue_directory, id, err);
	case CLI_QUEUE_RELEASE:
		if (queue_admin_release(conf->queue_directory, id, err) == -1)
			return -1;
		queue_poke(conf->queue_directory, id);
		return 0;
	case CLI_QUEUE_REQUEUE:
		return cli_queue_requeue_one(conf, id, lockfd, err);
	}
	return -1;
}

static int
cli_queue_op(
    const struct conf *conf, enum cli_queue_op op, int argc, char **argv)
{
	const struct cli_queue_opdesc *d = &cli_queue_ops[op];
	size_t done = 0, failed = 0, i, k, n;
	char(*ids)[40];
	struct buf err;
	int lockfd = -1, a;

	if (argc < 2)
		return cli_queue_usage();
	if (cli_become_mail_owner(conf) == -1)
		return CLI_EXIT_FAIL;
	buf_init(&err, 4096);
	for (a = 1; a < argc; a++) {
		if (strcmp(argv[a], "ALL") != 0) {
			if (cli_queue_op_one(
			        conf, op, argv[a], &lockfd, &err) == -1) {
				cli_queue_fail(
				    conf, d->name, buf_cstr(&err), errno);
				failed++;
			} else {
				(void)printf("%s: %s\n", argv[a], d->done_one);
				done++;
			}
			continue;
		}
		for (k = 0; k < MW_NELEM(d->from) && d->from[k] != NULL; k++) {
			if (queue_admin_ids(conf->queue_directory, d->from[k],
			        &ids, &n) == -1) {
				int e = errno;

				if (e == ENOENT)
					continue;
				buf_reset(&err);
				(void)!buf_printf(&err, "cannot read %s/%s: %s",
				    conf->queue_directory, d->from[k],
				    strerror(e));
				cli_queue_fail(
				    conf, d->name, buf_cstr(&err), e);
				failed++;
				continue;
			}
			for (i = 0; i < n; i++)
				if (cli_queue_op_one(
				        conf, op, ids[i], &lockfd, &err) == 0)
					done++;
				else if (errno != ENOENT) {
					cli_queue_fail(conf, d->name,
					    buf_cstr(&err), errno);
					failed++;
				}
			free(ids);
		}
	}
	if (op == CLI_QUEUE_REQUEUE && done > 0 && lockfd == -1)
		/* forget dead destinations too, as a flush does */
		(void)!queue_flush(conf->queue_directory, NULL);
	if (op == CLI_QUEUE_REQUEUE && done > 0 && lockfd != -1)
		(void)printf("(the queue manager is not running: delivery "
		             "starts when it does)\n");
	(void)printf(
	    "%s: %zu message%s\n", d->done_all, done, done == 1 ? "" : "s");
	if (lockfd != -1)
		(void)close(lockfd);
	buf_free(&err);
	if (fflush(stdout) == EOF)
		failed++;
	return failed > 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

static int
cli_queue_show(const struct conf *conf, int argc, char **argv)
{
	struct buf err;
	int ret = CLI_EXIT_OK;

	if (argc != 2)
		return cli_queue_usage();
	if (cli_become_mail_owner(conf) == -1)
		return CLI_EXIT_FAIL;
	buf_init(&err, 4096);
	if (queue_admin_show(
	        conf->queue_directory, argv[1], STDOUT_FILENO, &err) == -1) {
		cli_queue_fail(conf, "queue show", buf_cstr(&err), errno);
		ret = CLI_EXIT_FAIL;
	}
	buf_free(&err);
	return ret;
}

static int
cli_queue_flush(const struct conf *conf, int argc, char **argv)
{
	const char *domain = NULL;

	if (argc == 3 && strcmp(argv[1], "-d") == 0)
		domain = argv[2];
	else if (argc != 1)
		return cli_queue_usage();
	if (queue_flush(conf->queue_directory, domain) == -1) {
		cli_accounts_fail("queue flush: cannot reach the queue manager "
		                  "in %s: %s (is `mailwright serve` running?)",
		    conf->queue_directory, strerror(errno));
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}

static int
cli_queue_list(const struct conf *conf, int argc, char **argv)
{
	bool json = false;

	if (argc == 2 &&
	    (strcmp(argv[1], "--json") == 0 || strcmp(argv[1], "-j") == 0))
		json = true;
	else if (argc != 1)
		return cli_queue_usage();
	if (cli_become_mail_owner(conf) == -1)
		return CLI_EXIT_FAIL;
	return cli_queue_list_run(conf, json) == 0 ? CLI_EXIT_OK
	                                           : CLI_EXIT_FAIL;
}

static struct conf *
cli_queue_conf(const struct cli_ctx *ctx)
{
	struct conf *conf;
	struct buf err;

	buf_init(&err, 4096);
	conf = conf_load(ctx->config_path, &err);
	if (conf == NULL)
		cli_accounts_fail("%s", buf_cstr(&err));
	buf_free(&err);
	return conf;
}

int
cli_queue(const struct cli_ctx *ctx, int argc, char **argv)
{
	struct conf *conf;
	int ret;

	if (argc < 2)
		return cli_queue_usage();
	if ((conf = cli_queue_conf(ctx)) == NULL)
		return CLI_EXIT_FAIL;
	if (strcmp(argv[1], "flush") == 0)
		ret = cli_queue_flush(conf, argc - 1, argv + 1);
	else if (strcmp(argv[1], "list") == 0)
		ret = cli_queue_list(conf, argc - 1, argv + 1);
	else if (strcmp(argv[1], "show") == 0)
		ret = cli_queue_show(conf, argc - 1, argv + 1);
	else if (strcmp(argv[1], "delete") == 0)
		ret = cli_queue_op(conf, CLI_QUEUE_DELETE, argc - 1, argv + 1);
	else if (strcmp(argv[1], "hold") == 0)
		ret = cli_queue_op(conf, CLI_QUEUE_HOLD, argc - 1, argv + 1);
	else if (strcmp(argv[1], "release") == 0)
		ret = cli_queue_op(conf, CLI_QUEUE_RELEASE, argc - 1, argv + 1);
	else if (strcmp(argv[1], "requeue") == 0)
		ret = cli_queue_op(conf, CLI_QUEUE_REQUEUE, argc - 1, argv + 1);
	else
		ret = cli_queue_usage();
	conf_free(&conf);
	return ret;
}

int
cli_mailq(const struct cli_ctx *ctx, int argc, char **argv)
{
	struct conf *conf;
	bool json = false;
	int e, i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0 ||
		    strcmp(argv[i], "-j") == 0)
			json = true;
		else if (strcmp(argv[i], "-v") != 0) {
			(void)fprintf(stderr,
			    "mailq: unknown option %s "
			    "(usage: mailq [--json])\n",
			    argv[i]);
			return EX_USAGE;
		}
	}
	if ((conf = cli_queue_conf(ctx)) == NULL)
		return EX_TEMPFAIL;
	if (cli_become_mail_owner(conf) == -1) {
		conf_free(&conf);
		return EX_NOPERM;
	}
	e = cli_queue_list_run(conf, json);
	conf_free(&conf);
	return e == 0 ? EX_OK : e == EACCES ? EX_NOPERM : EX_UNAVAILABLE;
}
