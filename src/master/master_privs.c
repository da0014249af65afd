/*
 * The master's privileges. Started as root, it creates the directories the
 * services write, hands them to mail_owner, and then becomes mail_owner
 * for good, as OpenSMTPD and Postfix do: nothing runs as root once the
 * listeners are bound. Started as another user, it only creates the
 * directories and runs as that user.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/conf.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "master/master_private.h"

/* Gives the file or directory at path to uid:gid without following a
 * symbolic link. 0, or -1 with errno. ENOENT is not an error when
 * missing_ok. */
static int
master_chown(const char *path, uid_t uid, gid_t gid, bool missing_ok)
{
	int fd, ret, saved;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd == -1)
		return missing_ok && errno == ENOENT ? 0 : -1;
	ret = fchown(fd, uid, gid);
	saved = errno;
	(void)close(fd);
	errno = saved;
	return ret;
}

/* Creates the directories the services write into. */
static int
master_dirs_create(const struct conf *c, struct buf *err)
{
	const char *dirs[] = { c->queue_directory, c->mail_directory };
	size_t i;

	for (i = 0; i < MW_NELEM(dirs); i++)
		if (fs_mkdir_p(dirs[i], 0700) == -1) {
			(void)!buf_printf(err, "cannot create %s: %m", dirs[i]);
			return -1;
		}
	return 0;
}

/*
 * Hands the service-writable data to mail_owner: the queue and mail
 * directories, and the accounts database with its SQLite WAL files (a
 * reader of a WAL database writes its -shm file). Only the top
 * directories change hands: what is below was made by the services.
 */
static int
master_dirs_chown(const struct conf *c, uid_t uid, gid_t gid, struct buf *err)
{
	const char *suffixes[] = { "", "-wal", "-shm" };
	char path[4096];
	size_t i;

	if (master_chown(c->queue_directory, uid, gid, false) == -1) {
		(void)!buf_printf(
		    err, "cannot chown %s: %m", c->queue_directory);
		return -1;
	}
	if (master_chown(c->mail_directory, uid, gid, false) == -1) {
		(void)!buf_printf(
		    err, "cannot chown %s: %m", c->mail_directory);
		return -1;
	}
	for (i = 0; i < MW_NELEM(suffixes); i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s%s",
		        c->accounts_database, suffixes[i]) >= sizeof(path)) {
			(void)!buf_printf(
			    err, "%s: path too long", c->accounts_database);
			return -1;
		}
		if (master_chown(path, uid, gid, true) == -1) {
			(void)!buf_printf(err, "cannot chown %s: %m", path);
			return -1;
		}
	}
	return 0;
}

/* Becomes uid:gid for good; every failure is fatal to the start. */
static int
master_privs_drop(const char *name, uid_t uid, gid_t gid, struct buf *err)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (setgroups(1, &gid) == -1) {
		(void)!buf_printf(err, "setgroups: %m");
		return -1;
	}
	if (setresgid(gid, gid, gid) == -1) {
		(void)!buf_printf(err, "setresgid %u: %m", (unsigned)gid);
		return -1;
	}
	if (setresuid(uid, uid, uid) == -1) {
		(void)!buf_printf(err, "setresuid %u: %m", (unsigned)uid);
		return -1;
	}
	/* Trust, but verify: all three ids must have changed. */
	if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) == -1 ||
	    ru != uid || eu != uid || su != uid || rg != gid || eg != gid ||
	    sg != gid) {
		(void)!buf_printf(err, "could not drop privileges to %s", name);
		return -1;
	}
	/*
	 * Changing the uid made the process non-dumpable. It holds nothing
	 * mail_owner's services do not hold too (the same sockets), so let
	 * a panic leave a core, as the conventions promise.
	 */
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) == -1) {
		(void)!buf_printf(err, "prctl(PR_SET_DUMPABLE): %m");
		return -1;
	}
	return 0;
}

int
master_privs_setup(const struct conf *c, bool with_privs, struct buf *err)
{
	struct passwd *pw;
	uid_t uid;
	gid_t gid;

	if (master_dirs_create(c, err) == -1)
		return -1;
	if (!with_privs)
		return 0;
	if (geteuid() == 0) {
		errno = 0;
		pw = getpwnam(c->mail_owner);
		if (pw == NULL) {
			if (errno != 0)
				(void)!buf_printf(err,
				    "mail_owner: cannot look up \"%s\": %m",
				    c->mail_owner);
			else
				(void)!buf_printf(err,
				    "mail_owner: no such user \"%s\" (create it or set mail_owner)",
				    c->mail_owner);
			return -1;
		}
		uid = pw->pw_uid;
		gid = pw->pw_gid;
		/* Postfix refuses this too: the services would be root. */
		if (uid == 0 || gid == 0) {
			(void)!buf_printf(err,
			    "mail_owner: \"%s\" has a privileged user or group ID (choose an unprivileged user)",
			    c->mail_owner);
			return -1;
		}
		if (master_dirs_chown(c, uid, gid, err) == -1 ||
		    master_privs_drop(c->mail_owner, uid, gid, err) == -1)
			return -1;
	} else {
		pw = getpwuid(geteuid());
		if (pw == NULL || strcmp(pw->pw_name, c->mail_owner) != 0)
			log_warn(
			    "not started as root: running as %s, not as mail_owner %s",
			    pw != NULL ? pw->pw_name : "(unknown user)",
			    c->mail_owner);
	}
	/* No exec may regain what was given up (set-id binaries). */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		(void)!buf_printf(err, "prctl(PR_SET_NO_NEW_PRIVS): %m");
		return -1;
	}
	return 0;
}
