"""IMAP cases of `make bench` (issue #10), driven from cases.py:

  imap10k  a 10,000-message mailbox of realistic messages (text/plain,
           multipart/alternative, multipart/mixed with an attachment),
           the first session after the files were placed (cold: the
           server indexes) and the next five (warm: the median run of
           each step): connect + LOGIN + SELECT;
           UID FETCH 1:* (FLAGS INTERNALDATE RFC822.SIZE ENVELOPE); the
           same with BODYSTRUCTURE; FETCH 1:* BODY.PEEK[]; UID SEARCH
           HEADER Message-ID, UID SEARCH FROM, UID SEARCH TEXT; the wall
           time of each and the server's CPU;
  imap100k 100,000 small messages: connect + LOGIN + SELECT + UID FETCH
           1:* (FLAGS), cold and warm;
  ilogin   logins per second from 10 parallel clients (LOGIN, SELECT
           INBOX, LOGOUT), server CPU per login;
  iidle    PSS per idle logged-in IMAP connection (LOGIN + SELECT INBOX,
           1,000 open); iidles the same over IMAPS (implicit TLS); iidlew
           the same plain connections, each in IDLE (RFC 2177).

The mailbox is filled as pop3.py fills it: Maildir files written straight
into new/ (the same bytes for both servers, named as a delivery agent names
them), after one untimed login to the empty mailbox so that the server's
per-user setup is not in the cold figures. Every result is checked (the
number of messages, of FETCH responses and of bytes, the UIDs a SEARCH
found), so that a server that answers wrongly cannot look fast."""

import base64
import os
import random
import socket
import ssl
import threading
import time

import proctree
from mail_client import ClientError, MailClient, as_bytes
from pop3 import log, prepare_mailbox, user_pw

SELECT_CMD = "SELECT INBOX"
ENVELOPE = "UID FETCH 1:* (FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)"
BODYSTRUCTURE = ("UID FETCH 1:* (FLAGS INTERNALDATE RFC822.SIZE ENVELOPE "
                 "BODYSTRUCTURE)")
BODY = "FETCH 1:* BODY.PEEK[]"
FLAGS = "UID FETCH 1:* (FLAGS)"
# The needles: one message each, found by the searches
NEEDLE_FROM = "quentin.needleman@needle.example"
NEEDLE_WORD = "zyzzogetonique"
# The messages' dates start here (2026-01-01 UTC), not from the clock: both
# servers get the same bytes
BASE_TIME = 1767225600


def imap_ports():
    return (int(os.environ.get("MT_IMAP_PORT") or 0),
            int(os.environ.get("MT_IMAPS_PORT") or 0))


class ImapError(RuntimeError):
    pass


class Imap:
    """A minimal blocking IMAP client (imaplib reads line by line and
    slices every literal, which would measure imaplib). Received bytes are
    scanned in place: a response is a line, and when the line ends in a
    literal announcement {n}, the n bytes after it and the next line, and
    so on (RFC 9051 4.3); it is found by offsets into the buffer, which is
    compacted between responses now and then. Only the lines a caller asks
    for are copied out."""

    def __init__(self, host, port, tls=False, timeout=300):
        s = socket.create_connection((host, port), timeout=timeout)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            s = ctx.wrap_socket(s)
        self.s = s
        self.buf = bytearray()
        self.pos = 0
        self.tagn = 0
        start, end, _ = self.response()
        if not self.buf.startswith(b"* OK", start):
            raise ImapError(f"greeting: {bytes(self.buf[start:end])[:200]!r}")

    def _fill(self):
        d = self.s.recv(1 << 20)
        if not d:
            raise ImapError("connection closed by the server")
        self.buf += d

    def response(self):
        """Reads the next response; returns (start, end, literal bytes):
        the response is buf[start:end] (without its last CRLF)."""
        buf = self.buf
        if self.pos > 1 << 20:
            del buf[:self.pos]
            self.pos = 0
        start = p = self.pos
        lit = 0
        while True:  # p: the start of a line of the response
            i = buf.find(b"\r\n", p)
            while i == -1:
                q = max(p, len(buf) - 1)
                self._fill()
                i = buf.find(b"\r\n", q)
            if i > p and buf[i - 1] == 0x7d:  # "}"
                j = buf.rfind(b"{", p, i)
                num = bytes(buf[j + 1:i - 1]) if j != -1 else b""
                if num.endswith(b"+"):
                    num = num[:-1]
                if num.isdigit():
                    n = int(num)
                    p = i + 2 + n
                    while len(buf) < p:
                        self._fill()
                    lit += n
                    continue
            self.pos = i + 2
            return start, i, lit

    def send(self, text):
        self.tagn += 1
        tag = b"a%d" % self.tagn
        self.s.sendall(tag + b" " + text.encode() + b"\r\n")
        return tag

    def wait(self, tag, keep=(), check=None, cont=False, bye=False,
             keep_fetch=False):
        """Reads responses up to the tagged one for tag. Returns (FETCH
        responses, literal bytes, the untagged responses starting with one
        of keep, as bytes). check: a bytes string every FETCH response must
        contain. cont: return at a continuation request (IDLE). bye: BYE
        is expected (LOGOUT). keep_fetch: keep the FETCH responses too,
        with their literals."""
        buf = self.buf
        tl = tag + b" "
        fetches = lits = 0
        kept = []
        while True:
            start, end, lit = self.response()
            if buf.startswith(b"* ", start):
                if buf.find(b" FETCH ", start, start + 24) != -1:
                    fetches += 1
                    lits += lit
                    if keep_fetch:
                        kept.append(bytes(buf[start:end]))
                    if check is not None and \
                            buf.find(check, start, end) == -1:
                        raise ImapError(f"{tag.decode()}: a FETCH response "
                                        f"without {check.decode()}: "
                                        f"{bytes(buf[start:end])[:200]!r}")
                    continue
                for k in keep:
                    if buf.startswith(k, start):
                        kept.append(bytes(buf[start:end]))
                        break
                if buf.startswith(b"* BYE", start) and not bye:
                    raise ImapError(bytes(buf[start:end])[:200].decode(
                        errors="replace"))
                continue
            if buf.startswith(b"+", start):
                if cont:
                    return fetches, lits, kept
                raise ImapError(f"{tag.decode()}: unexpected continuation")
            if buf.startswith(tl, start):
                if not buf.startswith(b"OK", start + len(tl)):
                    raise ImapError(bytes(buf[start:end])[:200].decode(
                        errors="replace"))
                return fetches, lits, kept
            raise ImapError(f"unexpected: {bytes(buf[start:end])[:200]!r}")

    def cmd(self, text, keep=(), check=None, keep_fetch=False):
        return self.wait(self.send(text), keep, check,
                         keep_fetch=keep_fetch)

    def login(self, user, pw):
        self.cmd(f'LOGIN "{user}" "{pw}"')

    def select(self, mbox="INBOX"):
        """SELECT; returns EXISTS."""
        _, _, kept = self.cmd(f"SELECT {mbox}", keep=(b"* ",))
        for ln in kept:
            w = ln.split()
            if len(w) == 3 and w[2] == b"EXISTS":
                return int(w[1])
        raise ImapError("SELECT: no EXISTS")

    def search(self, text):
        """UID SEARCH ...; returns the UIDs found, sorted."""
        _, _, kept = self.cmd(text, keep=(b"* SEARCH",))
        uids = []
        for ln in kept:
            uids += [int(x) for x in ln.split()[2:]]
        return sorted(uids)

    def idle(self):
        """IDLE until the server's continuation request (RFC 2177)."""
        self.wait(self.send("IDLE"), cont=True)

    def logout(self, strict=False):
        """LOGOUT (strict: its answer checked), then close."""
        try:
            self.wait(self.send("LOGOUT"), bye=True)
        except (OSError, ImapError):
            if strict:
                self.s.close()
                raise
        except (OSError, ImapError):
            pass
        self.s.close()

    def close(self):
        self.s.close()


class ImapC(Imap):
    """Imap over mail-bench-client (mail_client.py): the timed steps
    of imap10k and imap100k. mc: a MailClient started beforehand."""

    def __init__(self, mc, host, port):
        self.mc = mc
        try:
            g = mc.req("connect", host, port)["greeting"]
        except ClientError as e:
            raise ImapError(str(e)) from None
        if not g.startswith("* OK"):
            raise ImapError(f"greeting: {g[:200]!r}")

    def cmd(self, text, keep=(), check=None, keep_fetch=False):
        try:
            r = self.mc.req("imap", check.decode() if check else "",
                            "|".join(k.decode() for k in keep),
                            "f" if keep_fetch else "-", text)
        except ClientError as e:
            raise ImapError(str(e)) from None
        return r["fetches"], r["lits"], [as_bytes(k) for k in r["kept"]]

    def idle(self):
        raise ImapError("IDLE: not in mail-bench-client")

    def logout(self, strict=False):
        try:
            self.mc.req("imap", "", "", "b", "LOGOUT")
        except ClientError:
            if strict:
                self.close()
                raise
        self.close()

    def close(self):
        self.mc.req("close")


# ---- the messages ---------------------------------------------------------

WORDS = ("the of and to in is that for it as with was on be by this are "
         "from at or have an not which but all were when we there can "
         "more if out so said what up its about into than them only "
         "other new some could time these two may then first any like "
         "now my such make over our even most after also made many "
         "report meeting budget quarter schedule review draft project "
         "customer invoice shipment release server network update "
         "proposal contract summary agenda minutes deadline feedback "
         "design testing deploy support account payment order travel "
         "conference team office question answer thanks regards please "
         "attached below following monday tuesday friday morning week").split()
FIRST = ("Anna Bernd Chloé Daniel Emma Felix Greta Hugo Ines Jonas Katja "
         "Lars Marta Niels Olga Paul Rosa Sven Tereza Ulrich Vera Yusuf "
         "Zoë Åsa Jürgen Łukasz Søren Mateo Priya Kenji").split()
LAST = ("Müller Schmidt Dubois Rossi García Nowak Novák Jensen Kowalski "
        "Fischer Weber Martin Bernard Costa Silva Andersson Virtanen "
        "Papadopoulos Yilmaz Tanaka Smith Jones Brown Wilson").split()
DOMAINS = ("example.org example.net mail.example.com corp.example "
           "lists.example.org partner.example").split()
DAYS = "Mon Tue Wed Thu Fri Sat Sun".split()
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def _chunks(s, n=16):
    """s in pieces of n characters: encoded-words of at most 75 bytes
    (RFC 2047 2), never splitting a character."""
    return [s[i:i + n] for i in range(0, len(s), n)]


def _q_word(s):
    """RFC 2047 Q-encoding of s (UTF-8), as encoded-words separated by
    spaces (which a decoder drops between encoded-words, RFC 2047 6.2)."""
    words = []
    for piece in _chunks(s):
        out = []
        for b in piece.encode():
            c = chr(b)
            if c == " ":
                out.append("_")
            elif c.isalnum() and b < 128:
                out.append(c)
            else:
                out.append(f"={b:02X}")
        words.append(f"=?UTF-8?Q?{''.join(out)}?=")
    return " ".join(words)


def _b_word(s):
    return " ".join(f"=?UTF-8?B?{base64.b64encode(p.encode()).decode()}?="
                    for p in _chunks(s))


def _name(rng, s):
    """A display name, RFC 2047-encoded when it is not ASCII."""
    if s.isascii():
        return f'"{s}"'
    return _q_word(s) if rng.random() < 0.5 else _b_word(s)


def _addr(rng):
    f, la = rng.choice(FIRST), rng.choice(LAST)
    local = (f + "." + la).lower().encode("ascii", "ignore").decode()
    return f"{f} {la}", f"{local}@{rng.choice(DOMAINS)}"


def _text(rng, size, extra=None):
    """Lines of words, about size bytes, LF-terminated; extra is one more
    word somewhere in it."""
    words, n = [], 0
    while n < size:
        w = rng.choice(WORDS)
        words.append(w)
        n += len(w) + 1
    if extra:
        words.insert(rng.randrange(len(words)), extra)
    lines, cur = [], []
    width = 0
    for w in words:
        if width + len(w) > 72:
            lines.append(" ".join(cur))
            cur, width = [], 0
        cur.append(w)
        width += len(w) + 1
    lines.append(" ".join(cur))
    return "\n".join(lines) + "\n"


def make_message(rng, i, when, kind=None, size=None, sender=None,
                 word=None):
    """Message i (str, LF line ends): kind "plain", "alt" or "mixed" (None:
    60/25/15 at random); size: the text part's size (None: by kind)."""
    if kind is None:
        r = rng.random()
        kind = "plain" if r < 0.60 else "alt" if r < 0.85 else "mixed"
    name, addr = sender or _addr(rng)
    tm = time.gmtime(when)
    date = (f"{DAYS[tm.tm_wday]}, {tm.tm_mday} {MONTHS[tm.tm_mon - 1]} "
            f"{tm.tm_year} {tm.tm_hour:02d}:{tm.tm_min:02d}:"
            f"{tm.tm_sec:02d} +0000")
    subj = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 8)))
    subj = subj[0].upper() + subj[1:]
    r = rng.random()
    if r < 0.12:
        subj = _q_word(f"Re: {subj} — {rng.choice(LAST)}")
    elif r < 0.20:
        subj = _b_word(f"{subj} ({rng.choice(FIRST)})")
    elif r < 0.40:
        subj = "Re: " + subj
    mid = f"<{when:x}.{i}.{rng.getrandbits(32):08x}@{addr.split('@')[1]}>"
    h = [f"Return-Path: <{addr}>",
         f"Received: from mx.{addr.split('@')[1]} (mx.{addr.split('@')[1]} "
         f"[192.0.2.{1 + i % 250}])\n\tby mx.example.test with ESMTPS id "
         f"{rng.getrandbits(48):012X}\n\tfor <user1@example.test>; {date}",
         f"From: {_name(rng, name)} <{addr}>",
         "To: user1@example.test"]
    if rng.random() < 0.3:
        cc = [_addr(rng) for _ in range(rng.randint(1, 3))]
        h.append("Cc: " + ",\n\t".join(f"{_name(rng, n)} <{a}>"
                                       for n, a in cc))
    h += [f"Subject: {subj}", f"Date: {date}", f"Message-ID: {mid}",
          "MIME-Version: 1.0"]
    if kind == "plain":
        body = _text(rng, size or rng.randint(1000, 2800), word)
        h.append("Content-Type: text/plain; charset=utf-8")
        h.append("Content-Transfer-Encoding: 7bit")
    else:
        bnd = f"=_bench_{rng.getrandbits(40):010x}"
        txt = _text(rng, size or rng.randint(600, 1100), word)
        parts = [("Content-Type: text/plain; charset=utf-8\n"
                  "Content-Transfer-Encoding: 7bit\n\n" + txt)]
        if kind == "alt":
            html = "".join(f"<p>{ln}</p>\n" for ln in txt.splitlines())
            parts.append("Content-Type: text/html; charset=utf-8\n"
                         "Content-Transfer-Encoding: 7bit\n\n"
                         f"<html><body>\n{html}</body></html>\n")
            h.append(f'Content-Type: multipart/alternative; boundary="{bnd}"')
        else:
            blob = rng.randbytes(rng.randint(400, 1000))
            b64 = base64.encodebytes(blob).decode()
            fn = f"{rng.choice(WORDS)}-{i}.pdf"
            parts.append(f'Content-Type: application/pdf; name="{fn}"\n'
                         "Content-Transfer-Encoding: base64\n"
                         f'Content-Disposition: attachment; filename="{fn}"'
                         f"\n\n{b64}")
            h.append(f'Content-Type: multipart/mixed; boundary="{bnd}"')
        body = "This is a multi-part message in MIME format.\n\n" + "".join(
            f"--{bnd}\n{p}\n" for p in parts) + f"--{bnd}--\n"
    return "\n".join(h) + "\n\n" + body, mid


def place(newdir, messages):
    """Writes the (bytes) messages into newdir as pop3.fill_maildir does:
    through tmp/, owned as newdir is, named time.M<n>P<pid>.bench,S=,W=
    with times one second apart in the order given. Returns (count, the
    sum of their sizes with CRLF line ends)."""
    st = os.stat(newdir)
    tmpdir = os.path.join(os.path.dirname(newdir), "tmp")
    n = crlf = 0
    for t, body in messages:
        vsize = len(body) + body.count(b"\n")
        name = f"{t}.M{n}P{os.getpid()}.bench,S={len(body)},W={vsize}"
        tp = os.path.join(tmpdir, name)
        with open(tp, "wb") as f:
            f.write(body)
        os.chown(tp, st.st_uid, st.st_gid)
        os.utime(tp, (t, t))
        os.rename(tp, os.path.join(newdir, name))
        n += 1
        crlf += vsize
    return n, crlf


def mailbox_10k(count, seed=10):
    """(messages, needles): the generator of (time, bytes) of the 10k case
    and {search: Message-ID} of the messages the searches must find."""
    rng = random.Random(seed)
    base = BASE_TIME
    k_mid, k_from, k_word = count // 2, count // 3, (2 * count) // 3
    needles = {}

    def gen():
        for i in range(count):
            when = base + i * 60 + rng.randint(0, 59)
            sender = ("Quentin Needleman", NEEDLE_FROM) if i == k_from \
                else None
            word = NEEDLE_WORD if i == k_word else None
            kind = "plain" if i in (k_from, k_word) else None
            msg, mid = make_message(rng, i, when, kind, sender=sender,
                                    word=word)
            if i == k_mid:
                needles["mid"] = mid
            if i == k_from:
                needles["from"] = mid
            if i == k_word:
                needles["text"] = mid
            yield when, msg.encode()
    return gen(), needles


def mailbox_small(count, seed=100):
    rng = random.Random(seed)
    base = BASE_TIME - 86400 * 100

    def gen():
        for i in range(count):
            when = base + i * 60
            msg, _ = make_message(rng, i, when, "plain",
                                  size=rng.randint(250, 650))
            yield when, msg.encode()
    return gen()


# ---- the cases ------------------------------------------------------------

def connect_login_select(t, port, tls=False, mc=None):
    """A session after connect, greeting, LOGIN and SELECT INBOX;
    returns (client, EXISTS). mc: a MailClient to use (plain only)."""
    u, pw = user_pw(t)
    c = ImapC(mc, t.host, port) if mc is not None else Imap(t.host, port,
                                                              tls)
    try:
        c.login(u, pw)
        return c, c.select()
    except BaseException:
        c.close()
        raise


def empty_login(t, port, send_local, tag):
    """user1's Maildir created by an SMTP delivery, then one untimed
    session, so that the server's per-user setup (index directories, its
    database) is done before the mailbox fills. Returns (new/, the
    messages it holds: 1 unless the server was not started afresh)."""
    newdir = prepare_mailbox(t, 0, send_local, tag)
    c, n = connect_login_select(t, port)
    c.logout()
    return newdir, n


def small_mailbox(t, port, send_local, tag):
    """user1's mailbox with 10 messages placed (and the one delivered);
    returns the messages SELECT sees."""
    prepare_mailbox(t, 10, send_local, tag)
    c, n = connect_login_select(t, port)
    c.logout()
    if n < 11:
        raise ImapError(f"SELECT: {n} messages, expected at least 11")
    return n


def verify_uid(c, uid, mid, what):
    """That message uid is the one whose Message-ID is mid."""
    _, _, kept = c.cmd(f"UID FETCH {uid} (BODY.PEEK[HEADER.FIELDS "
                       f"(MESSAGE-ID)])", keep_fetch=True)
    if len(kept) != 1 or mid.encode() not in kept[0]:
        raise ImapError(f"{what}: UID {uid} is not the message {mid}")


class Steps:
    """Timed steps of a session into out: wall time and server CPU (a
    proctree walk before and after, outside the timed part) of each. A
    step whose command fails, or whose check(result) raises, is recorded
    as {"error": ...} and the session goes on with the next step; the
    first error is in self.error."""

    def __init__(self, t, out):
        self.t, self.out = t, out
        self.cpu_total = 0.0
        self.error = None

    def run(self, name, fn, check=None):
        cpu0 = proctree.tree_cpu_seconds(self.t.pids)
        try:
            t0 = time.monotonic()
            r = fn()
            dt = time.monotonic() - t0
            cpu = proctree.tree_cpu_seconds(self.t.pids) - cpu0
            self.cpu_total += cpu
            if check is not None:
                check(r)
        except (ImapError, OSError) as e:
            self.error = self.error or f"{name}: {e}"
            self.out[name] = {"error": str(e)}
            return None
        self.out[name] = {"seconds": dt, "cpu_seconds": cpu}
        return r


def session_10k(t, port, n_expect, crlf_min, needles, out):
    """One session of the 10k case, its steps into out; returns the first
    error or None."""
    mc = MailClient()
    try:
        return _session_10k(t, port, n_expect, crlf_min, needles, out, mc)
    finally:
        mc.close()


def _session_10k(t, port, n_expect, crlf_min, needles, out, mc):
    st = Steps(t, out)
    box = {}

    def login():
        box["c"], box["n"] = connect_login_select(t, port, mc=mc)

    def count(what):
        def check(r):
            if r[0] != n_expect:
                raise ImapError(f"{what}: {r[0]} FETCH responses of "
                                f"{n_expect}")
        return check

    def body_check(r):
        f, nbytes, _ = r
        if f != n_expect or not crlf_min <= nbytes <= crlf_min + 65536:
            raise ImapError(f"BODY.PEEK[]: {f} responses of {n_expect}, "
                            f"{nbytes} bytes (the messages placed: "
                            f"{crlf_min})")

    def found(cmd, mid):
        def check(uids):
            if len(uids) != 1:
                raise ImapError(f"{cmd}: found {uids[:10]}, expected one")
            verify_uid(c, uids[0], mid, cmd)
        return check

    def selected(_):
        if box["n"] != n_expect:
            raise ImapError(f"SELECT: {box['n']} messages, expected "
                            f"{n_expect}")

    st.run("login_select", login, selected)
    if "c" not in box:
        return st.error
    c = box["c"]
    try:
        for name, cmd, what in (("envelope", ENVELOPE, b"ENVELOPE"),
                                ("bodystructure", BODYSTRUCTURE,
                                 b"BODYSTRUCTURE")):
            st.run(name, lambda: c.cmd(cmd, check=what), count(name))
        r = st.run("body", lambda: c.cmd(BODY, check=b"BODY[]"), body_check)
        if r is not None:
            b = out["body"]
            b["bytes"] = r[1]
            b["mb_per_s"] = r[1] / 1e6 / b["seconds"]
        for name, cmd, key in (
                ("search_mid",
                 f'UID SEARCH HEADER Message-ID "{needles["mid"]}"', "mid"),
                ("search_from", f"UID SEARCH FROM {NEEDLE_FROM}", "from"),
                ("search_text", f"UID SEARCH TEXT {NEEDLE_WORD}", "text")):
            st.run(name, lambda: c.search(cmd), found(cmd, needles[key]))
    finally:
        c.logout()
    out["cpu_seconds"] = st.cpu_total
    return st.error


def _fmt_steps(s):
    return ", ".join(f"{k} {v['seconds'] * 1000:.0f} ms" if "seconds" in v
                     else f"{k} failed"
                     for k, v in s.items() if isinstance(v, dict))


WARM_RUNS = 5


def warm_10k(t, port, n_expect, crlf_min, needles):
    """WARM_RUNS warm sessions of the 10k case; each step's figures are
    those of its median run (the steps are short: one run is noisy).
    Returns (the steps, the first error or None)."""
    runs, err = [], None
    for _ in range(WARM_RUNS):
        out = {}
        e = session_10k(t, port, n_expect, crlf_min, needles, out)
        err = err or e
        runs.append(out)
    res = {"runs": WARM_RUNS}
    for name, v in runs[0].items():
        if not isinstance(v, dict):
            continue
        ok = sorted((r[name] for r in runs if "seconds" in r.get(name, {})),
                    key=lambda x: x["seconds"])
        res[name] = ok[len(ok) // 2] if ok else v
        res[name]["runs_s"] = [x["seconds"] for x in ok]
    res["cpu_seconds"] = sorted(r.get("cpu_seconds", 0)
                                for r in runs)[len(runs) // 2]
    return res, err


def run_imap10k(t, count, send_local, wait_quiet):
    port, _ = imap_ports()
    res = {"id": "imap10k", "messages": count, "error": None}
    try:
        if not port:
            raise RuntimeError("no IMAP port (MT_IMAP_PORT)")
        newdir, n0 = empty_login(t, port, send_local, "imap10k")
        if n0 != 1:
            # the searches look for one message, BODY[] counts the bytes
            raise ImapError(f"user1's INBOX holds {n0} messages: imap10k "
                            f"needs a server started afresh (run.sh)")
        gen, needles = mailbox_10k(count)
        n, crlf = place(newdir, gen)
        res["bytes_placed"] = crlf
        res["avg_size"] = crlf / n
        log(f"imap10k: {n} messages placed, {crlf / n:.0f} bytes each on "
            f"average (CRLF)")
        errors = []
        for when in ("cold", "warm"):
            if when == "warm":
                # the mailbox unchanged since (a directory changed within
                # the last 2 s is rescanned, by mailwright as by Dovecot)
                time.sleep(3)
            other = wait_quiet(t, f"imap10k {when}")
            if when == "cold":
                res[when] = {}
                err = session_10k(t, port, n0 + n, crlf, needles,
                                  res[when])
            else:
                res[when], err = warm_10k(t, port, n0 + n, crlf, needles)
            res[when]["other_cpus_before"] = other
            log(f"imap10k {when}: {_fmt_steps(res[when])}; server CPU "
                f"{res[when].get('cpu_seconds', 0):.2f} s")
            if err:
                errors.append(f"{when}: {err}")
        res["cpu_seconds"] = sum(res[w].get("cpu_seconds", 0)
                                 for w in ("cold", "warm"))
        res["seconds"] = sum(v.get("seconds", 0) for v in res["warm"].values()
                             if isinstance(v, dict))
        if errors:
            raise ImapError("; ".join(errors))
    except (RuntimeError, OSError) as e:
        res["error"] = str(e)
        log(f"imap10k: {e}")
    return res


def session_flags(t, port, n_expect):
    """One session of the 100k case: LOGIN + SELECT, UID FETCH 1:*
    (FLAGS)."""
    mc = MailClient()
    try:
        return _session_flags(t, port, n_expect, mc)
    finally:
        mc.close()


def _session_flags(t, port, n_expect, mc):
    out = {}
    st = Steps(t, out)
    box = {}

    def login():
        box["c"], box["n"] = connect_login_select(t, port, mc=mc)

    def selected(_):
        if box["n"] != n_expect:
            raise ImapError(f"SELECT: {box['n']} messages, expected "
                            f"{n_expect}")

    def count(r):
        if r[0] != n_expect:
            raise ImapError(f"FLAGS: {r[0]} FETCH responses of {n_expect}")

    st.run("login_select", login, selected)
    if "c" in box:
        st.run("flags", lambda: box["c"].cmd(FLAGS, check=b"FLAGS"), count)
        box["c"].logout()
    if st.error:
        raise ImapError(st.error)
    out["seconds"] = out["login_select"]["seconds"] + out["flags"]["seconds"]
    out["cpu_seconds"] = st.cpu_total
    return out


def run_imap100k(t, count, send_local, wait_quiet):
    port, _ = imap_ports()
    res = {"id": "imap100k", "messages": count, "error": None}
    try:
        if not port:
            raise RuntimeError("no IMAP port (MT_IMAP_PORT)")
        newdir, n0 = empty_login(t, port, send_local, "imap100k")
        n, crlf = place(newdir, mailbox_small(count))
        res["avg_size"] = crlf / n
        log(f"imap100k: {n} messages placed, {crlf / n:.0f} bytes each")
        other = wait_quiet(t, "imap100k cold")
        res["cold"] = session_flags(t, port, n0 + n)
        res["cold"]["other_cpus_before"] = other
        time.sleep(3)
        res["other_cpus_before_warm"] = wait_quiet(t, "imap100k warm")
        warm = sorted((session_flags(t, port, n0 + n) for _ in range(5)),
                      key=lambda s: s["seconds"])
        res["warm"] = warm[2]
        res["warm_runs_s"] = [w["seconds"] for w in warm]
        res["cold_s"], res["warm_s"] = res["cold"]["seconds"], \
            res["warm"]["seconds"]
        log(f"imap100k: cold {_fmt_steps(res['cold'])}; warm (median of "
            f"5) {_fmt_steps(res['warm'])}")
    except (RuntimeError, OSError) as e:
        res["error"] = str(e)
        log(f"imap100k: {e}")
    return res


def run_ilogin(t, count, clients, send_local, wait_quiet):
    port, _ = imap_ports()
    res = {"id": "ilogin", "logins": count, "clients": clients,
           "error": None}
    try:
        if not port:
            raise RuntimeError("no IMAP port (MT_IMAP_PORT)")
        n0 = small_mailbox(t, port, send_local, "ilogin")

        def one():
            c, n = connect_login_select(t, port)
            if n != n0:
                raise ImapError(f"SELECT: {n} messages, expected {n0}")
            c.logout(strict=True)

        for _ in range(20):
            one()  # warm-up
        res["other_cpus_before"] = wait_quiet(t, "ilogin")
        errors = []
        left = [count]
        lock = threading.Lock()

        def worker():
            while True:
                with lock:
                    if left[0] == 0 or errors:
                        return
                    left[0] -= 1
                try:
                    one()
                except (RuntimeError, OSError) as e:
                    errors.append(str(e))
                    return

        cpu0 = proctree.tree_cpu_seconds(t.pids)
        t0 = time.monotonic()
        th = [threading.Thread(target=worker) for _ in range(clients)]
        for x in th:
            x.start()
        for x in th:
            x.join()
        dt = time.monotonic() - t0
        time.sleep(0.5)  # logouts finishing
        cpu = proctree.tree_cpu_seconds(t.pids) - cpu0
        if errors:
            raise RuntimeError(errors[0])
        res.update({"seconds": dt, "logins_per_s": count / dt,
                    "cpu_ms_per_login": cpu * 1000 / count})
        log(f"ilogin: {count} logins by {clients} clients in {dt:.2f} s "
            f"({count / dt:.1f}/s), server CPU {cpu * 1000 / count:.2f} "
            f"ms per login")
    except (RuntimeError, OSError) as e:
        res["error"] = str(e)
        log(f"ilogin: {e}")
    return res


def open_imap_sessions(t, n, tls, idle, n0):
    """n sessions after LOGIN + SELECT INBOX (and IDLE), opened by 50
    threads; all of them or an error."""
    port = imap_ports()[1 if tls else 0]
    if not port:
        raise RuntimeError("no IMAP%s port" % ("S" if tls else ""))
    out, errors = [], []
    lock = threading.Lock()

    def worker(k):
        for _ in range(k):
            try:
                c, exists = connect_login_select(t, port, tls)
                if exists != n0:
                    raise ImapError(f"SELECT: {exists} messages, "
                                    f"expected {n0}")
                if idle:
                    c.idle()
            except (RuntimeError, OSError) as e:
                errors.append(str(e))
                return
            with lock:
                out.append(c)

    per = [n // 50 + (1 if i < n % 50 else 0) for i in range(50)]
    th = [threading.Thread(target=worker, args=(k,)) for k in per if k]
    for x in th:
        x.start()
    for x in th:
        x.join()
    if errors:
        for c in out:
            c.s.close()
        raise RuntimeError(errors[0])
    return out


def run_iidle(t, cid, n, send_local):
    tls, idle = cid == "iidles", cid == "iidlew"
    res = {"id": cid, "sessions": n, "error": None}
    sessions = []
    try:
        n0 = small_mailbox(t, imap_ports()[0], send_local, cid)
        before, procs0 = proctree.tree_pss_kib(t.pids)
        sessions = open_imap_sessions(t, n, tls, idle, n0)
        time.sleep(2.0)
        after, procs1 = proctree.tree_pss_kib(t.pids)
        res.update({"pss_before_kib": before, "pss_after_kib": after,
                    "procs_before": procs0, "procs_after": procs1,
                    "kib_per_session": (after - before) / n})
        log(f"{cid}: {n} sessions: PSS {before} -> {after} KiB "
            f"({res['kib_per_session']:.1f} KiB/session), processes "
            f"{procs0} -> {procs1}")
    except (RuntimeError, OSError) as e:
        res["error"] = str(e)
        log(f"{cid}: {e}")
    finally:
        for c in sessions:
            c.s.close()
    return res
