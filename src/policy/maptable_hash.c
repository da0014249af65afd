/*
 * hash: tables on disk: PATH.db, the compiled form of the text file PATH,
 * as `mailwright map PATH` writes it (Postfix's postmap writes a Berkeley
 * DB; we write SQLite, which we already use). One table
 * map(key PRIMARY KEY, value), keys lowercased, application_id "mwep" and
 * user_version 1 so that another SQLite file (an alias database, say) is
 * recognised as not ours. Writing and reading the file is lib/kvdb.c's
 * job; choosing between PATH.db and PATH is maptable.c's.
 */
#include <stdlib.h>
#include <sys/stat.h>

#include "lib/buf.h"
#include "lib/kvdb.h"
#include "lib/xalloc.h"
#include "policy/maptable_private.h"

static const struct kvdb_format maptable_hashdb_format = {
	.table = "map",
	.key_col = "key",
	.value_col = "value",
	/* 0x6d776570, "mwep" (meant as "mwmp"; kept: files exist) */
	.application_id = 1836541296,
	.version = 1,
	.without_rowid = true,
};

struct maptable_hashdb {
	struct kvdb *kv;
};

int
maptable_hashdb_write(const char *db_path, const struct maptable_text *t,
    const struct stat *sb, struct buf *err)
{
	struct kvdb_entry *v;
	size_t i;
	int ret;

	v = xcalloc(t->n > 0 ? t->n : 1, sizeof(*v));
	for (i = 0; i < t->n; i++) {
		v[i].key = t->v[i].key;
		v[i].value = t->v[i].value;
	}
	/* as postmap: the table is as readable as its source, whatever
	 * the umask, and root compiling a file leaves it to its owner */
	ret = kvdb_write(db_path, &maptable_hashdb_format, v, t->n,
	    sb->st_mode & 0666, sb, err);
	free(v);
	return ret;
}

struct maptable_hashdb *
maptable_hashdb_open(const char *db_path, struct buf *err)
{
	struct maptable_hashdb *h;
	struct kvdb *kv;
	long version;
	int rc;

	rc = kvdb_open(db_path, &maptable_hashdb_format, &kv, &version, err);
	if (rc == 1)
		maptable_seterr(err,
		    "%s is not a table that mailwright map "
		    "wrote: run mailwright map on its text file",
		    db_path);
	if (rc != 0)
		return NULL;
	h = xcalloc(1, sizeof(*h));
	h->kv = kv;
	return h;
}

int
maptable_hashdb_lookup(struct maptable_hashdb *h, const char *key,
    struct buf *value_out, struct buf *err)
{
	return kvdb_lookup(h->kv, key, value_out, err);
}

void
maptable_hashdb_free(struct maptable_hashdb **hp)
{
	struct maptable_hashdb *h = *hp;

	if (h == NULL)
		return;
	kvdb_free(&h->kv);
	free(h);
	*hp = NULL;
}
