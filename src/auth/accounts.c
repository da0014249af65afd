/*
 * The accounts database operations (see accounts.h) and the checks that
 * keep names usable as Maildir path components. The SQLite plumbing is in
 * accounts_sqlite.c; password hashing is password.c's job; deciding what an
 * address means (extensions, postmaster, alias expansion) is resolve.c's.
 * Domains are stored lowercased, local parts as the administrator typed
 * them.
 */
#include "auth/accounts.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/accounts_private.h"
#include "lib/buf.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/mailaddr.h"
#include "lib/parse.h"
#include "lib/xalloc.h"

/* RFC 5321 4.5.3.1.1 and 4.5.3.1.3: local part 64 octets, path 256 */
#define ACCOUNTS_LOCAL_MAX   64
#define ACCOUNTS_ADDRESS_MAX 254

/*
 * A domain we can host: an ASCII DNS name (RFC 5321 4.1.2 Domain, no
 * address literal), since it names a directory under mail_directory and
 * must compare case-insensitively. Internationalised domains go in their
 * A-label form (RFC 5890).
 */
static int
accounts_domain_check(const char *domain, struct buf *err)
{
	bool utf8 = false;
	size_t n = strlen(domain);

	if (n == 0 || domain[0] == '[' ||
	    !mailaddr_domain_valid_n(domain, n, &utf8) ||
	    !fs_component_ok(domain)) {
		accounts_seterr(err, "\"%s\" is not a valid domain name",
		    log_sanitize_str(domain));
		return -1;
	}
	if (utf8) {
		accounts_seterr(err,
		    "domain \"%s\" is not ASCII (use its "
		    "xn-- form)",
		    log_sanitize_str(domain));
		return -1;
	}
	return 0;
}

/*
 * Splits "local@domain" at the last '@'. With check, the local part must be
 * an ASCII Dot-string of at most 64 octets that is also a safe path
 * component (it names the user's directory), and the domain must pass
 * accounts_domain_check. The domain comes back lowercased.
 */
static int
accounts_split(const char *address, bool check, char **local_out,
    char **domain_out, struct buf *err)
{
	const char *at = strrchr(address, '@');
	char *local, *domain;
	bool utf8 = false;
	size_t ln;

	if (at == NULL || at == address || at[1] == '\0') {
		accounts_seterr(err,
		    "\"%s\" is not an address of the form "
		    "user@domain",
		    log_sanitize_str(address));
		return -1;
	}
	ln = (size_t)(at - address);
	local = xstrndup(address, ln);
	domain = xstrdup(at + 1);
	ascii_lower(domain);
	if (check) {
		if (ln > ACCOUNTS_LOCAL_MAX || local[0] == '"' ||
		    !mailaddr_local_valid_n(local, ln, &utf8) || utf8 ||
		    !fs_component_ok(local)) {
			accounts_seterr(err,
			    "\"%s\" is not a valid local part "
			    "(letters, digits and !#$%%&'*+-=?^_`{|}~, dots "
			    "between them, at most %d)",
			    log_sanitize_str(local), ACCOUNTS_LOCAL_MAX);
			goto fail;
		}
		if (accounts_domain_check(domain, err) == -1)
			goto fail;
	}
	*local_out = local;
	*domain_out = domain;
	return 0;
fail:
	free(local);
	free(domain);
	return -1;
}

/* An alias target: an address whose local part may be quoted (it may be
 * somebody else's mailbox) and whose domain is a DNS name. Returns the
 * target with its domain lowercased, or NULL. */
static char *
accounts_target_normalize(const char *target, struct buf *err)
{
	char *t;
	const char *at;

	/* aliases(5) syntax that means a program or a file, not a mailbox:
	 * as a local part it would be legal, and surely not what was meant */
	if (target[0] == '|' || target[0] == '/' ||
	    strncasecmp(target, ":include:", 9) == 0) {
		accounts_seterr(err,
		    "alias target \"%s\": pipes, files and "
		    ":include: are not supported",
		    log_sanitize_str(target));
		return NULL;
	}
	t = mailaddr_normalize(target);
	if (t == NULL || (at = strrchr(t, '@')) == NULL || at == t ||
	    strlen(t) > ACCOUNTS_ADDRESS_MAX || at[1] == '[') {
		accounts_seterr(err,
		    "alias target \"%s\" is not an address "
		    "of the form user@domain",
		    log_sanitize_str(target));
		free(t);
		return NULL;
	}
	return t;
}

int
accounts_domain_add(struct accounts *a, const char *domain, struct buf *err)
{
	char *d = xstrdup(domain);
	int rc, ret = ACCOUNTS_ERROR;

	ascii_lower(d);
	if (accounts_domain_check(d, err) == -1) {
		errno = EINVAL;
		free(d);
		return ACCOUNTS_ERROR;
	}
	accounts_lock(a);
	rc = sqlite3_step(accounts_stmt(a, ACCOUNTS_ST_DOMAIN_ADD, d, NULL));
	sqlite3_reset(a->st[ACCOUNTS_ST_DOMAIN_ADD]);
	if (rc == SQLITE_DONE)
		ret = ACCOUNTS_OK;
	else if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
		accounts_seterr(err, "domain \"%s\" already exists", d);
		ret = ACCOUNTS_EXISTS;
	} else
		accounts_dberr(a, err, "adding a domain");
	accounts_unlock(a);
	free(d);
	return ret;
}

int
accounts_domain_del(struct accounts *a, const char *domain, struct buf *err)
{
	long long users, aliases;
	int ret = ACCOUNTS_ERROR;

	accounts_lock(a);
	if (accounts_exec_stmt(accounts_stmt(a, ACCOUNTS_ST_BEGIN, NULL)) ==
	    -1) {
		accounts_dberr(a, err, "begin");
		goto out;
	}
	ret = accounts_row_exists(a, ACCOUNTS_ST_DOMAIN_GET, domain, err);
	if (ret == ACCOUNTS_NOTFOUND)
		accounts_seterr(err, "domain \"%s\" does not exist",
		    log_sanitize_str(domain));
	if (ret != ACCOUNTS_OK)
		goto rollback;
	ret = ACCOUNTS_ERROR;
	users = accounts_count(
	    accounts_stmt(a, ACCOUNTS_ST_DOMAIN_USERS, domain, NULL));
	aliases = accounts_count(
	    accounts_stmt(a, ACCOUNTS_ST_DOMAIN_ALIASES, domain, NULL));
	if (users < 0 || aliases < 0) {
		accounts_dberr(a, err, "counting users");
		goto rollback;
	}
	if (users > 0 || aliases > 0) {
		accounts_seterr(err,
		    "domain \"%s\" still has %lld user%s and "
		    "%lld alias%s (delete them first; see: mailwright user "
		    "list %s; mailwright alias list)",
		    log_sanitize_str(domain), users, users == 1 ? "" : "s",
		    aliases, aliases == 1 ? "" : "es",
		    log_sanitize_str(domain));
		errno = EBUSY;
		goto rollback;
	}
	if (accounts_exec_stmt(
	        accounts_stmt(a, ACCOUNTS_ST_DOMAIN_DEL, domain, NULL)) == -1) {
		accounts_dberr(a, err, "deleting a domain");
		goto rollback;
	}
	if (accounts_exec_stmt(accounts_stmt(a, ACCOUNTS_ST_COMMIT, NULL)) ==
	    -1) {
		accounts_dberr(a, err, "commit");
		goto rollback;
	}
	ret = ACCOUNTS_OK;
	goto out;
rollback:
	(void)accounts_exec_stmt(accounts_stmt(a, ACCOUNTS_ST_ROLLBACK, NULL));
out:
	accounts_unlock(a);
	return ret;
}

int
accounts_domain_exists(struct accounts *a, const char *domain, struct buf *err)
{
	int ret;

	accounts_lock(a);
	ret = accounts_row_exists(a, ACCOUNTS_ST_DOMAIN_GET, domain, err);
	accounts_unlock(a);
	return ret;
}

int
accounts_domain_list(struct accounts *a, struct buf *out, struct buf *err)
{
	int ret;

	accounts_lock(a);
	ret = accounts_rows(
	    a, accounts_stmt(a, ACCOUNTS_ST_DOMAIN_LIST, NULL), out, err, NULL);
	accounts_unlock(a);
	return ret;
}

int
accounts_user_add(
    struct accounts *a, const char *address, const char *hash, struct buf *err)
{
	char *local = NULL, *domain = NULL, *addr = NULL;
	int rc, ret = ACCOUNTS_ERROR;

	if (accounts_split(address, true, &local, &domain, err) == -1) {
		errno = EINVAL;
		return ACCOUNTS_ERROR;
	}
	addr = xasprintf("%s@%s", local, domain);
	accounts_lock(a);
	rc = sqlite3_step(accounts_stmt(
	    a, ACCOUNTS_ST_USER_ADD, addr, local, domain, hash, NULL));
	sqlite3_reset(a->st[ACCOUNTS_ST_USER_ADD]);
	if (rc == SQLITE_DONE)
		ret = ACCOUNTS_OK;
	else if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
		accounts_seterr(err,
		    "user \"%s\" already exists (change its "
		    "password with: mailwright user passwd %s)",
		    addr, addr);
		ret = ACCOUNTS_EXISTS;
	} else if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
		accounts_seterr(err,
		    "domain \"%s\" does not exist (add it "
		    "with: mailwright domain add %s)",
		    domain, domain);
		ret = ACCOUNTS_NOTFOUND;
	} else
		accounts_dberr(a, err, "adding a user");
	accounts_unlock(a);
	free(addr);
	free(local);
	free(domain);
	return ret;
}

/* Runs a one-row write keyed by address (?1, and value as ?2 unless
 * NULL); NOTFOUND when no row changed. */
static int
accounts_write_one(struct accounts *a, enum accounts_stmt id, const char *what,
    const char *address, const char *value, struct buf *err)
{
	int ret;

	accounts_lock(a);
	if (accounts_exec_stmt(accounts_stmt(a, id, address, value, NULL)) ==
	    -1)
		ret = accounts_dberr(a, err, what);
	else if (sqlite3_changes(a->db) == 0) {
		accounts_seterr(err, "user \"%s\" does not exist",
		    log_sanitize_str(address));
		ret = ACCOUNTS_NOTFOUND;
	} else
		ret = ACCOUNTS_OK;
	accounts_unlock(a);
	return ret;
}

int
accounts_user_del(struct accounts *a, const char *address, struct buf *err)
{
	return accounts_write_one(
	    a, ACCOUNTS_ST_USER_DEL, "deleting a user", address, NULL, err);
}

int
accounts_user_set_password(
    struct accounts *a, const char *address, const char *hash, struct buf *err)
{
	return accounts_write_one(a, ACCOUNTS_ST_USER_PASSWD,
	    "changing a password", address, hash, err);
}

int
accounts_user_get(struct accounts *a, const char *address, struct buf *hash_out,
    struct buf *err)
{
	sqlite3_stmt *st;
	const unsigned char *v;
	int rc, ret;

	accounts_lock(a);
	st = accounts_stmt(a, ACCOUNTS_ST_USER_GET, address, NULL);
	rc = st != NULL ? sqlite3_step(st) : SQLITE_ERROR;
	if (rc == SQLITE_ROW) {
		ret = ACCOUNTS_OK;
		v = sqlite3_column_text(st, 0);
		if (hash_out != NULL && v != NULL &&
		    buf_append_str(hash_out, (const char *)v) == -1) {
			accounts_seterr(err,
			    "accounts database %s: password "
			    "hash too long",
			    a->path);
			ret = ACCOUNTS_ERROR;
		}
	} else if (rc == SQLITE_DONE) {
		accounts_seterr(err, "user \"%s\" does not exist",
		    log_sanitize_str(address));
		ret = ACCOUNTS_NOTFOUND;
	} else
		ret = accounts_dberr(a, err, "looking up a user");
	sqlite3_reset(a->st[ACCOUNTS_ST_USER_GET]);
	accounts_unlock(a);
	return ret;
}

int
accounts_user_list(
    struct accounts *a, const char *domain, struct buf *out, struct buf *err)
{
	sqlite3_stmt *st;
	int ret;

	accounts_lock(a);
	st = domain != NULL
	    ? accounts_stmt(a, ACCOUNTS_ST_USER_LIST_DOMAIN, domain, NULL)
	    : accounts_stmt(a, ACCOUNTS_ST_USER_LIST, NULL);
	ret = accounts_rows(a, st, out, err, NULL);
	accounts_unlock(a);
	return ret;
}

int
accounts_alias_add(struct accounts *a, const char *address,
    const char *const *targets, size_t ntargets, struct buf *err)
{
	char *local = NULL, *domain = NULL, *addr = NULL, **norm;
	size_t i, done = 0;
	int ret = ACCOUNTS_ERROR;

	if (ntargets == 0) {
		accounts_seterr(err, "alias \"%s\" needs at least one target",
		    log_sanitize_str(address));
		errno = EINVAL;
		return ACCOUNTS_ERROR;
	}
	if (accounts_split(address, true, &local, &domain, err) == -1) {
		errno = EINVAL;
		return ACCOUNTS_ERROR;
	}
	addr = xasprintf("%s@%s", local, domain);
	norm = xcalloc(ntargets, sizeof(*norm));
	for (done = 0; done < ntargets; done++) {
		norm[done] = accounts_target_normalize(targets[done], err);
		if (norm[done] == NULL) {
			errno = EINVAL;
			goto out;
		}
	}
	accounts_lock(a);
	if (accounts_exec_stmt(accounts_stmt(a, ACCOUNTS_ST_BEGIN, NULL)) ==
	    -1) {
		accounts_dberr(a, err, "begin");
		goto unlock;
	}
	for (i = 0; i < ntargets; i++) {
		if (accounts_exec_stmt(accounts_stmt(
		        a, ACCOUNTS_ST_ALIAS_ADD, addr, norm[i], NULL)) == -1) {
			accounts_dberr(a, err, "adding an alias");
			(void)accounts_exec_stmt(
			    accounts_stmt(a, ACCOUNTS_ST_ROLLBACK, NULL));
			goto unlock;
		}
	}
	if (accounts_exec_stmt(accounts_stmt(a, ACCOUNTS_ST_COMMIT, NULL)) ==
	    -1) {
		accounts_dberr(a, err, "commit");
		(void)accounts_exec_stmt(
		    accounts_stmt(a, ACCOUNTS_ST_ROLLBACK, NULL));
		goto unlock;
	}
	ret = ACCOUNTS_OK;
unlock:
	accounts_unlock(a);
out:
	for (i = 0; i < done; i++)
		free(norm[i]);
	free(norm);
	free(addr);
	free(local);
	free(domain);
	return ret;
}

int
accounts_alias_del(struct accounts *a, const char *address, struct buf *err)
{
	int ret;

	accounts_lock(a);
	if (accounts_exec_stmt(
	        accounts_stmt(a, ACCOUNTS_ST_ALIAS_DEL, address, NULL)) == -1)
		ret = accounts_dberr(a, err, "deleting an alias");
	else if (sqlite3_changes(a->db) == 0) {
		accounts_seterr(err, "alias \"%s\" does not exist",
		    log_sanitize_str(address));
		ret = ACCOUNTS_NOTFOUND;
	} else
		ret = ACCOUNTS_OK;
	accounts_unlock(a);
	return ret;
}

int
accounts_alias_get(
    struct accounts *a, const char *address, struct buf *out, struct buf *err)
{
	size_t n = 0;
	int ret;

	accounts_lock(a);
	ret = accounts_rows(a,
	    accounts_stmt(a, ACCOUNTS_ST_ALIAS_GET, address, NULL), out, err,
	    &n);
	accounts_unlock(a);
	if (ret == ACCOUNTS_OK && n == 0) {
		accounts_seterr(err, "alias \"%s\" does not exist",
		    log_sanitize_str(address));
		ret = ACCOUNTS_NOTFOUND;
	}
	return ret;
}

int
accounts_alias_list(struct accounts *a, struct buf *out, struct buf *err)
{
	sqlite3_stmt *st;
	const char *addr, *target;
	char *prev = NULL;
	int rc, ret = ACCOUNTS_ERROR;

	accounts_lock(a);
	st = accounts_stmt(a, ACCOUNTS_ST_ALIAS_LIST, NULL);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		addr = (const char *)sqlite3_column_text(st, 0);
		target = (const char *)sqlite3_column_text(st, 1);
		if (addr == NULL || target == NULL)
			continue;
		/* one line per alias: "address: target, target" */
		/* the same alias may be stored in several spellings */
		if (prev != NULL && ascii_eq(prev, addr))
			rc = buf_printf(out, ", %s", target);
		else
			rc = buf_printf(
			    out, "%s%s: %s", prev ? "\n" : "", addr, target);
		if (rc == -1) {
			accounts_seterr(err,
			    "accounts database %s: result "
			    "too large",
			    a->path);
			goto out;
		}
		if (prev == NULL || !ascii_eq(prev, addr)) {
			free(prev);
			prev = xstrdup(addr);
		}
	}
	if (rc != SQLITE_DONE) {
		accounts_dberr(a, err, "listing aliases");
		goto out;
	}
	if (prev != NULL && buf_append_char(out, '\n') == -1) {
		accounts_seterr(
		    err, "accounts database %s: result too large", a->path);
		goto out;
	}
	ret = ACCOUNTS_OK;
out:
	sqlite3_reset(st);
	accounts_unlock(a);
	free(prev);
	return ret;
}
