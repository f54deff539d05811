"""bench_imap_client.py: the mailbox and the client of bench_imap.py (the
IMAP part of `make bench`): the generated messages every user's INBOX
holds, the Maildirs made of them, the 4 KiB message the clients APPEND,
and a small IMAP client over a socket that reads literals by their octet
count and keeps EXISTS from the untagged responses.
"""
import base64
import os
import random
import re
import socket
import time

TIMEOUT = 120           # per response (a cold FETCH 1:* of 10,000 can be slow)
APPEND_SIZE = 4096


# ---- the mailbox --------------------------------------------------------------

WORDS = ["budget", "meeting", "invoice", "holiday", "release", "report",
         "lunch", "deadline", "contract", "server", "backup", "review"]
NAMES = ["Alice Martin", "Bob Nguyen", "Carla Rossi", "Dmitri Ivanov",
         "Eve Okafor", "Frank Miller", "Grace Hopper", "Heidi Schmidt",
         "Ivan Petrov", "Judy Chen", "Karl Weber", "Lena Berg"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
          "Oct", "Nov", "Dec"]
SEARCH_KEYS = ["UNSEEN", 'FROM "petrov"', 'SUBJECT "invoice"', "SINCE 1-Nov-2026"]
T0 = 1767225600          # 2026-01-01 00:00:00 UTC


def _filler(n, seed):
    """n octets of LF-ended text lines."""
    rng = random.Random(seed)
    out, size = [], 0
    while size < n:
        line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 11))) + "\n"
        out.append(line)
        size += len(line)
    return "".join(out)[:max(n - 1, 0)] + "\n"


def message(i):
    """(content bytes, internal date as a Unix time) of message i: one of
    four shapes (plain, plain with encoded words and quoted-printable,
    multipart/alternative, multipart/mixed with a base64 attachment),
    1 to 8 KiB, LF line ends."""
    t = T0 + (i * 2851) % (334 * 86400)     # spread over Jan..Nov 2026
    tm = time.gmtime(t)
    date = "%s, %02d %s %d %02d:%02d:%02d +0000" % (
        ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[tm.tm_wday], tm.tm_mday,
        MONTHS[tm.tm_mon - 1], tm.tm_year, tm.tm_hour, tm.tm_min, tm.tm_sec)
    name = NAMES[i % len(NAMES)]
    addr = name.split()[1].lower()
    subject = "%s %s #%d" % (WORDS[i % len(WORDS)].capitalize(), WORDS[(i // 12) % 12], i)
    size = 1024 + (i * 7919) % (7 * 1024)
    shape = i % 4
    head = ("Return-Path: <%s@corp.example>\n"
            "Received: from mx.corp.example ([192.0.2.%d])\n"
            "\tby mail.example.test with ESMTP id b%05d; %s\n"
            "From: %s <%s@corp.example>\n"
            "To: Reader <reader@example.test>\n" % (addr, i % 250 + 1, i, date, name, addr))
    if i % 7 == 0:
        head += "Cc: Team <team@corp.example>, %s@example.org\n" % addr
    if shape == 1:
        head += "Subject: =?UTF-8?B?w4ll?= %s\n" % subject
    else:
        head += "Subject: %s\n" % subject
    head += ("Date: %s\nMessage-ID: <b%05d.%d@corp.example>\nMIME-Version: 1.0\n"
             % (date, i, t))
    if i % 5 == 0 and i > 0:
        head += "In-Reply-To: <b%05d.%d@corp.example>\n" % (i - 1, t)
    if shape in (0, 1):
        enc = "quoted-printable" if shape == 1 else "7bit"
        head += "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: %s\n\n" % enc
        text = head + _filler(max(size - len(head), 64), i)
    elif shape == 2:
        b = "alt-%05d" % i
        part = _filler(max((size - len(head)) // 2 - 120, 64), i)
        text = (head + 'Content-Type: multipart/alternative; boundary="%s"\n\n'
                "--%s\nContent-Type: text/plain; charset=us-ascii\n\n%s"
                "--%s\nContent-Type: text/html; charset=us-ascii\n\n<p>%s</p>\n"
                "--%s--\n" % (b, b, part, b, part.replace("\n", "<br>\n"), b))
    else:
        b = "mix-%05d" % i
        raw = random.Random(i).randbytes(max((size - len(head)) // 2, 48))
        att = base64.encodebytes(raw).decode()
        text = (head + 'Content-Type: multipart/mixed; boundary="%s"\n\n'
                "--%s\nContent-Type: text/plain; charset=us-ascii\n\n%s"
                "--%s\nContent-Type: application/octet-stream; name=\"d%d.bin\"\n"
                "Content-Disposition: attachment; filename=\"d%d.bin\"\n"
                "Content-Transfer-Encoding: base64\n\n%s--%s--\n"
                % (b, b, _filler(300, i), b, i, i, att, b))
    return text.encode(), t


def template(count):
    """[(maildir file name in cur/, content, mtime)]; every third message
    \\Seen, as a local agent would name them."""
    out = []
    for i in range(count):
        data, t = message(i)
        flags = "S" if i % 3 == 0 else ""
        name = "%d.M%06dP4343Q%d.bench.example.test,S=%d:2,%s" % (
            t, i, i + 1, len(data), flags)
        out.append((name, data, t))
    return out


def fill_maildirs(paths, msgs, uid, gid):
    """The same Maildir at each of paths: files written once under the
    first, hard-linked into the others (one owner, so one inode is fine;
    a server renames its own link when flags change)."""
    first = None
    for path in paths:
        for d in (path, path + "/new", path + "/cur", path + "/tmp"):
            os.makedirs(d, mode=0o700, exist_ok=True)
            os.chown(d, uid, gid)
        for name, data, t in msgs:
            f = os.path.join(path, "cur", name)
            if first is None:
                with open(f, "wb") as fh:
                    fh.write(data)
                os.chmod(f, 0o600)
                os.chown(f, uid, gid)
                os.utime(f, (t, t))
            else:
                os.link(os.path.join(first, "cur", name), f)
        first = first or path


def append_message(k):
    body = _filler(APPEND_SIZE, 10 ** 6 + k)
    head = ("From: Bench <bench@example.test>\r\nTo: Reader <reader@example.test>\r\n"
            "Subject: appended %d\r\nDate: Fri, 04 Dec 2026 23:00:00 +0000\r\n"
            "Message-ID: <append.%d@example.test>\r\n\r\n" % (k, k))
    data = (head + body.replace("\n", "\r\n")).encode()
    return data[:APPEND_SIZE - 2] + b"\r\n"


# ---- a small IMAP client ---------------------------------------------------------

LITERAL_RE = re.compile(rb"\{(\d+)\+?\}\r\n$")
UNTAGGED_NUM_RE = re.compile(rb"^\* (\d+) (EXISTS|EXPUNGE|FETCH)")
APPENDUID_RE = re.compile(rb"\[APPENDUID \d+ (\d+)\]")


class IMAPError(Exception):
    pass


class Client:
    """One connection.  cmd() sends a tagged command and reads every
    response up to its tagged answer, literals read by their octet count;
    it keeps exists from EXISTS/EXPUNGE, counts FETCH lines."""

    def __init__(self, addr, port, source=None, timeout=TIMEOUT):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            if source:
                self.sock.bind((source, 0))
            self.sock.settimeout(timeout)
            self.sock.connect((addr, port))
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            self.sock.close()
            raise
        self.f = self.sock.makefile("rb", buffering=1 << 16)
        self.n = 0
        self.exists = 0
        self.fetches = 0
        self.greeting = self.line()
        if not self.greeting.startswith(b"* OK"):
            raise IMAPError("greeting %r" % self.greeting[:100])

    def close(self):
        try:
            self.f.close()
        finally:
            self.sock.close()

    def line(self):
        """One response line, literals inlined."""
        parts = []
        while True:
            ln = self.f.readline()
            if not ln.endswith(b"\n"):
                raise IMAPError("connection closed%s" % (
                    " after %r" % parts[0][:80] if parts else ""))
            parts.append(ln)
            if ln.endswith(b"}\r\n"):
                m = LITERAL_RE.search(ln)
                if m:
                    n = int(m.group(1))
                    lit = self.f.read(n)
                    if len(lit) != n:
                        raise IMAPError("connection closed in a literal")
                    parts.append(lit)
                    continue
            return parts[0] if len(parts) == 1 else b"".join(parts)

    def _untagged(self, ln):
        m = UNTAGGED_NUM_RE.match(ln)
        if m:
            w = m.group(2)
            if w == b"FETCH":
                self.fetches += 1
            elif w == b"EXISTS":
                self.exists = int(m.group(1))
            else:
                self.exists -= 1

    def send(self, text):
        self.sock.sendall(text if isinstance(text, bytes) else text.encode())

    def tagged(self, tag, keep=False):
        """(tagged line, [untagged lines] if keep)."""
        kept = []
        while True:
            ln = self.line()
            if ln.startswith(tag):
                if not ln.startswith(tag + b"OK"):
                    raise IMAPError("%r" % ln[:200])
                return ln, kept
            if ln.startswith(b"* "):
                self._untagged(ln)
                if keep:
                    kept.append(ln)

    def cmd(self, text, keep=False):
        self.n += 1
        tag = b"a%d " % self.n
        self.send(tag + text.encode() + b"\r\n")
        return self.tagged(tag, keep)

    def append(self, mailbox, data, flags="(\\Seen)"):
        """APPEND with a synchronising literal; returns the APPENDUID uid
        or None."""
        self.n += 1
        tag = b"a%d " % self.n
        self.send(tag + b"APPEND %s %s {%d}\r\n" % (mailbox.encode(), flags.encode(), len(data)))
        while True:
            ln = self.line()
            if ln.startswith(b"+"):
                break
            if ln.startswith(tag):
                raise IMAPError("APPEND: %r" % ln[:200])
            self._untagged(ln)
        self.send(data + b"\r\n")
        ln, _ = self.tagged(tag)
        m = APPENDUID_RE.search(ln)
        return int(m.group(1)) if m else None

    def login(self, login, password):
        self.cmd('LOGIN "%s" "%s"' % (login, password))

    def select(self):
        self.fetches = 0
        self.cmd("SELECT INBOX")
        return self.exists

    def idle(self):
        """Start IDLE: returns after the "+" continuation."""
        self.n += 1
        self.idle_tag = b"a%d " % self.n
        self.send(self.idle_tag + b"IDLE\r\n")
        while True:
            ln = self.line()
            if ln.startswith(b"+"):
                return
            if ln.startswith(self.idle_tag):
                raise IMAPError("IDLE: %r" % ln[:200])
            self._untagged(ln)

    def wait_exists(self):
        """Read untagged lines in IDLE until an EXISTS; returns its count."""
        while True:
            ln = self.line()
            m = UNTAGGED_NUM_RE.match(ln)
            if m and m.group(2) == b"EXISTS":
                self.exists = int(m.group(1))
                return self.exists
            if not ln.startswith(b"* ") or ln.startswith(b"* BYE"):
                raise IMAPError("in IDLE: %r" % ln[:200])

    def done(self):
        self.send(b"DONE\r\n")
        self.tagged(self.idle_tag)
