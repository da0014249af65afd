/*
 * The DATA and BDAT body decoders: pure state machines that turn the bytes
 * a client sends into the stored message. Stored form: lines end in LF
 * (the Maildir convention); the queue and remote delivery add CR back.
 *
 * DATA (RFC 5321 4.1.1.4, 4.5.2): dot-unstuffing; ONLY <CRLF>.<CRLF> ends
 * the data, where the first CRLF is the end of the previous line, or the
 * "." line is the first line. A bare LF is a line end for storage purposes
 * (normalised) or, with reject_bare_lf, an error reported at the end; it
 * never ends the data, and neither does a bare CR, so no second message
 * can be smuggled (CVE-2023-51766: "\n.\n", "\n.\r\n", "\r\n.\n",
 * "\r.\r\n", "\r\n.\r", "\r.\r" all stay content). A bare CR is content.
 *
 * BDAT (RFC 3030): no dot handling; CRLF becomes LF, everything else is
 * content. Chunks may split a CRLF; the decoder keeps that state.
 */
#ifndef SMTP_SMTP_DATA_H
#define SMTP_SMTP_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;

struct smtp_data {
	int state;           /* private */
	bool reject_bare_lf; /* input: report bare LF as an error */
	bool saw_bare_lf;    /* output: a bare LF was seen */
	bool saw_bare_cr;    /* output: a bare CR was seen */
	bool saw_8bit;       /* output: an octet >= 0x80 was seen */
	bool saw_nul;        /* output: a NUL octet was seen */
	uint64_t size;       /* output: stored bytes so far */
};

enum smtp_data_status {
	SMTP_DATA_MORE, /* all input consumed, need more */
	SMTP_DATA_DONE, /* end of data seen; *used tells where it ended */
};

/* Starts decoding a DATA body. reject_bare_lf is only carried for the
 * caller: the decoder behaves the same and sets saw_bare_lf either way. */
void smtp_data_init(struct smtp_data *d, bool reject_bare_lf);
/*
 * Decodes in[0..n) into out (appending stored bytes) and sets *used to the
 * number of input bytes consumed. Returns:
 *  SMTP_DATA_MORE: all n bytes consumed; the end is still to come.
 *  SMTP_DATA_DONE: the end was seen; *used counts the bytes up to and
 *    including "<CRLF>.<CRLF>"; in[*used..n) are the client's next
 *    commands. Once DONE, every call returns DONE with *used = 0.
 *  -1 (errno ENOBUFS): out reached out->max. out holds every byte that
 *    fit, *used counts the input bytes decoded so far, and in[*used..n)
 *    was not consumed. The state stays consistent: empty out (write it to
 *    disk, or drop it and answer 552 at the end) and call again with
 *    in + *used, n - *used, until DONE. out->max must be at least 1 so
 *    that each call makes progress.
 * One call stores at most n + 1 bytes (a CR held back from the previous
 * call), so an out with that much room never fails.
 * The flags and size describe the consumed input and the stored bytes.
 */
int smtp_data_feed(struct smtp_data *d, const char *in, size_t n,
    struct buf *out, size_t *used);

/* Starts decoding BDAT chunks. */
void smtp_bdat_init(struct smtp_data *d);
/*
 * Decodes bytes of a chunk (always all n consumed; a chunk may be fed in
 * several calls). last: this is the end of the final chunk (flushes a
 * pending CR as content); afterwards only smtp_bdat_init may follow.
 * Returns 0, or -1 (errno ENOBUFS) when out reached out->max: out holds
 * what fit, the rest of in was decoded (flags, CR state) but not stored,
 * so the message is incomplete and the caller answers 552. One call stores
 * at most n + 1 bytes, so an out with that much room never fails.
 */
int smtp_bdat_feed(struct smtp_data *d, const char *in, size_t n, bool last,
    struct buf *out);

#endif
