/*
 * maildrop/: where `sendmail` leaves mail for the queue manager, whether
 * or not the server runs (docs/queue.md, "maildrop"). Any local user may
 * create files there (the directory is mode 1733, like /tmp, but not
 * listable); the queue manager's pickup (pickup.c) turns each one into a
 * normal queue file and removes it.
 *
 * A maildrop file is written under a temporary name "t.<32 hex>", fsynced,
 * renamed to its final name (32 hex digits: 128 random bits, unguessable)
 * and the directory synced; only then does sendmail exit 0. Layout, like a
 * queue file:
 *
 *	header   16 bytes  "MWMD", version (u32 BE) = 1, nonce (8 bytes)
 *	message   M bytes  as submitted: LF line ends, Bcc: removed
 *	record    R bytes  text record (below)
 *	trailer  40 bytes  "MWMT", version, nonce, M (u64 BE), R (u64 BE),
 *	                   FNV-1a 64 of header + record + trailer[0..32)
 *
 * The record, each line once and in this order, values %XX-escaped as in
 * the queue envelope:
 *
 *	time 1700000000 123456     when sendmail ran
 *	sender alice@example.org   -f, or the user's address
 *	flags 14                   MAILDROP_F_* bits
 *	fullname Alice%20Example   -F or the user's name; may be empty
 *	nrcpt 1
 *	rcpt bob@example.org       normalised, valid (mailaddr_normalize)
 *	end
 */
#ifndef QUEUE_MAILDROP_H
#define QUEUE_MAILDROP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/mw.h"
#include "queue/queue_file.h"

struct buf;

/* A final name: 32 lower-case hex digits. */
#define MAILDROP_NAME_LEN 32
/* The record is small; this bounds what a hostile file can make a reader
 * allocate (about 100,000 recipients of 40 bytes). */
#define MAILDROP_RECORD_MAX ((size_t)4 * 1024 * 1024)
/* RFC 5321 4.5.3.1.3: a path is at most 256 octets; the sender's local
 * part may be longer here as in smtpd, so allow some room. */
#define MAILDROP_ADDR_MAX     1024
#define MAILDROP_FULLNAME_MAX 256
#define MAILDROP_HEAD_SIZE    16
#define MAILDROP_TAIL_SIZE    40

/* flags */
#define MAILDROP_F_SENDER    0x01 /* the sender was given (-f, MAIL FROM) */
#define MAILDROP_F_ADD_FROM  0x02 /* no From: header: pickup adds one */
#define MAILDROP_F_ADD_DATE  0x04 /* no Date: header */
#define MAILDROP_F_ADD_MSGID 0x08 /* no Message-ID: header */
#define MAILDROP_F_8BIT      0x10 /* the message has octets >= 0x80 */
#define MAILDROP_F_SMTPUTF8  0x20 /* an address is not ASCII */
#define MAILDROP_F_ALL       0x3f

/* A decoded record. Strings are owned by whoever built it. */
struct maildrop_rec {
	uint64_t time, time_usec;
	const char *sender; /* "" for <> */
	unsigned flags;
	const char *fullname;
	const char *const *rcpts;
	size_t nrcpt;
};

/* True when name is a final maildrop name (32 lower-case hex digits). */
bool maildrop_name_valid(const char *name);
/* True for sendmail's temporary names ("t." and 32 hex digits). */
bool maildrop_tmp_name_valid(const char *name);

/*
 * The record: encoding appends to out (0, or -1 with ENOBUFS past
 * out->max); decoding is a pure, strict function over n bytes that returns
 * one allocation (freed with maildrop_rec_free) or NULL with errno EBADMSG
 * and a one-line reason in err. The decoder checks every address with
 * mailaddr_normalize() (an address must be in its normal form), the
 * flags, the lengths, and that nothing follows "end".
 */
int maildrop_rec_encode(
    const struct maildrop_rec *r, struct buf *out) MW_MUST_CHECK;
struct maildrop_rec *maildrop_rec_decode(
    const char *p, size_t n, struct buf *err);
void maildrop_rec_free(struct maildrop_rec **r);

/*
 * A whole maildrop file held in memory (tests, the fuzzer): checks header,
 * trailer, sizes and checksum, and decodes the record. The message is
 * p[MAILDROP_HEAD_SIZE .. +*msg_len_out). msg_max bounds M. NULL with
 * errno EBADMSG (ENOTSUP: an unknown version) and a reason in err.
 */
struct maildrop_rec *maildrop_image_decode(const char *p, size_t n,
    uint64_t msg_max, uint64_t *msg_len_out, struct buf *err);

/*
 * Reads the maildrop file open at fd (size bytes, from fstat): header,
 * trailer and record with pread(), same checks as maildrop_image_decode.
 * The message is at offset MAILDROP_HEAD_SIZE, *msg_len_out bytes. NULL
 * with errno EBADMSG, ENOTSUP or an I/O error, and a reason in err.
 */
struct maildrop_rec *maildrop_file_read(int fd, uint64_t size, uint64_t msg_max,
    uint64_t *msg_len_out, struct buf *err);

/*
 * Writing (sendmail). maildrop_create() makes <queue_dir>/maildrop/t.<hex>
 * (O_EXCL) that reader (mail_owner; (uid_t)-1 when unknown) may read
 * whatever the umask: mode 0600 plus a POSIX ACL entry "user:reader:r"
 * where the file system has ACLs, else mode 0644 (then only the random
 * name in a directory others cannot list keeps other users out; see
 * docs/queue.md). NULL with errno and a reason in err. Writes are
 * buffered.
 */
struct maildrop_msg;
struct maildrop_msg *maildrop_create(
    const char *queue_dir, uid_t reader, struct buf *err);
int maildrop_write(
    struct maildrop_msg *md, const void *p, size_t n) MW_MUST_CHECK;
uint64_t maildrop_size(const struct maildrop_msg *md);
/*
 * Appends the record and trailer, fsyncs, renames the file to its final
 * name and makes the name durable (fsync of maildrop/, or syncfs() when
 * the caller may not read the directory). 0 once the message is durable
 * (also when that last sync failed but the queue manager had taken the
 * file already: it commits before it removes one); -1 with errno and a
 * reason in err, and the file removed. Blocks.
 */
int maildrop_commit(struct maildrop_msg *md, const struct maildrop_rec *r,
    struct buf *err) MW_MUST_CHECK;
/* The final name once committed ("" before). */
const char *maildrop_name(const struct maildrop_msg *md);
/* Frees; an uncommitted file is removed. */
void maildrop_free(struct maildrop_msg **md);

#endif
