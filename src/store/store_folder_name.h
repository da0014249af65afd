/*
 * Folder names of the mail store: the IMAP name the store API takes
 * (UTF-8, "/" between hierarchy levels) and the directory Maildir++ keeps
 * the folder in, as Dovecot writes it with its default
 * mailbox_list_utf8 = no: "<maildir>/.<level>.<level>", each level in
 * modified UTF-7 (RFC 3501 5.1.3), "." between levels. INBOX is the
 * Maildir itself; its children are ".INBOX.<level>". A pure mapping: no
 * I/O, so that it can be fuzzed (tests/fuzz/fuzz_store_folder_name.c).
 *
 * Names that would escape or confuse that layout are refused, with a
 * reason: an empty level (leading, trailing or double "/"), "." or ".."
 * or any "." inside a level (Maildir++ uses "." between levels, so it
 * cannot be written; Dovecot refuses it the same way with "/" as the
 * separator), control characters, the LIST wildcards "*" and "%" (RFC
 * 9051 6.3.9 gives them a meaning in patterns; Dovecot refuses them in
 * names), invalid UTF-8, and names whose directory would be longer than
 * NAME_MAX. "inbox" in any case as the first level is INBOX.
 */
#ifndef STORE_STORE_FOLDER_NAME_H
#define STORE_STORE_FOLDER_NAME_H

#include <stddef.h>

#include "lib/mw.h"

struct buf;

/* The longest directory entry, "." and the levels included (NAME_MAX). */
#define STORE_FOLDER_DISK_MAX 255
/* The hierarchy separator of the store API (and of imapd's LIST). */
#define STORE_FOLDER_SEP '/'

/*
 * Appends the canonical form of the IMAP name name[0..len) to out: the
 * same name, with a first level of "inbox" in any case written "INBOX".
 * 0, or -1 with errno EINVAL and a static reason in *why_out (ENOBUFS
 * past out's ceiling); out is unchanged on error.
 */
int store_folder_name_canon(const char *name, size_t len, struct buf *out,
    const char **why_out) MW_MUST_CHECK;

/*
 * Appends the directory entry of the folder name[0..len) to out: "" for
 * INBOX (the Maildir itself), else ".<mutf7>[.<mutf7>...]". 0, or -1 as
 * store_folder_name_canon.
 */
int store_folder_name_to_disk(const char *name, size_t len, struct buf *out,
    const char **why_out) MW_MUST_CHECK;

/*
 * Appends the IMAP name of the directory entry ent[0..len) to out. 0, or
 * -1 with EINVAL and a reason when the entry is not a folder this layout
 * writes ("." and "..", "..x", ".x.", not canonical modified UTF-7,
 * ".INBOX" itself, ".inbox.x" not spelt "INBOX", a level the API would
 * refuse). For every entry that maps, store_folder_name_to_disk() of the
 * result gives the entry back.
 */
int store_folder_name_from_disk(const char *ent, size_t len, struct buf *out,
    const char **why_out) MW_MUST_CHECK;

#endif
