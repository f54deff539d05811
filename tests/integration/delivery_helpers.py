"""Helpers for the delivery tests (test_delivery*.py, test_bounce.py,
test_quota.py, test_diskfull.py): boot an instance with the local agent,
send with smtplib, read Maildirs (paths.mail/DOMAIN/USER/, Maildir++
folders as .NAME/), wait for N files or an empty queue, strip the trace
headers the local agent adds, and parse RFC 3464 reports with Python's
email package.
"""
import email
import email.policy
import os
import pwd
import re
import smtplib

from conftest import BUILD, wait_for
from smtp_helpers import DOMAIN, boot, queue_id, smtp, spool_env, spool_ids

# Headers the delivery path puts above the message the client sent: the
# local agent's Return-Path: and Delivered-To: (one more Delivered-To: per
# alias hop), smtpd's Received:.
TRACE_HEADERS = ("return-path", "delivered-to", "received")
PW = "pw-delivery-test-1"


def has_local():
    """True when the build holds the local delivery agent."""
    return os.path.exists(os.path.join(BUILD, "local"))


def boot_delivery(inst, users=(), aliases=None, quotas=None, **config):
    """boot() (domain example.test, alice@example.test) plus users (local
    parts or addresses, password PW; quotas: {addr: "1K"} adds them with
    -q), an aliases map, then waits until the local agent runs."""
    keys = {}
    for a in users:
        addr = a if "@" in a else "%s@%s" % (a, DOMAIN)
        q = (quotas or {}).get(addr)
        args = ["user", "add"] + (["-q", q] if q else []) + [addr]
        r = inst.postern(*args, input=PW + "\n")
        assert r.returncode == 0, (args, r.stdout, r.stderr)
    if aliases is not None:
        write_aliases(inst, aliases)
    keys.update(config)
    boot(inst, **keys)
    inst.wait_ready(service="local")
    return inst


def write_aliases(inst, aliases):
    """Write etc/postern/aliases ({address: [targets]}; bare local parts get
    @example.test) and compile it with `postern map` into paths.maps."""
    def full(a):
        if "@" in a or a[:1] in ("|", "/", "~", ".", ":", '"'):
            return a        # an address, or a hostile target kept as written
        return "%s@%s" % (a, DOMAIN)
    lines = ["# written by the delivery tests"]
    for k, targets in aliases.items():
        lines.append("%s %s" % (full(k), ", ".join(full(t) for t in targets)))
    maps = config_value(inst, "paths.maps")
    assert maps == inst.etc, (maps, inst.etc)
    src = os.path.join(maps, "aliases")
    with open(src, "w") as f:
        f.write("\n".join(lines) + "\n")
    r = inst.postern("map", src)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert os.path.exists(src + ".cdb")


def config_value(inst, key):
    """The last value of key in the instance's postern.conf (None if unset)."""
    val = None
    with open(inst.conf) as f:
        for line in f:
            k, sep, v = line.split("#", 1)[0].partition("=")
            if sep and k.strip() == key:
                val = v.strip()
    return val


# ---- sending ----------------------------------------------------------------

def message(subject="test", body="hello\r\n", headers=()):
    """A CRLF message (bytes) with From/To/Subject/Message-ID and extra
    headers [(name, value)]."""
    h = [("From", "sender@example.org"), ("To", "rcpt@example.test"),
         ("Subject", subject)] + list(headers)
    text = "".join("%s: %s\r\n" % kv for kv in h) + "\r\n" + body
    return text.encode() if isinstance(text, str) else text


def send(inst, sender, rcpts, data, mail_options=(), rcpt_options=(),
         listener="smtp", login=False):
    """One SMTP transaction with smtplib; asserts 250 for MAIL, each RCPT
    and DATA; returns the queue id.  data: bytes with CRLF line ends (sent
    as is; smtplib only dot-stuffs)."""
    if listener == "submission":
        from smtp_helpers import submission
        s = submission(inst, login=login)
    else:
        s = smtp(inst, listener)
        s.ehlo()
    try:
        code, text = s.mail(sender, list(mail_options))
        assert code == 250, ("MAIL", code, text)
        for r in rcpts:
            code, text = s.rcpt(r, list(rcpt_options))
            assert code == 250, ("RCPT", r, code, text)
        code, text = s.data(data)
        assert code == 250, ("DATA", code, text)
        return queue_id(text)
    finally:
        try:
            s.quit()
        except (smtplib.SMTPException, OSError):
            pass


# ---- Maildirs ---------------------------------------------------------------

def vmail(inst):
    """pwd entry of the instance's PREFIXvmail account."""
    return pwd.getpwnam(inst.aprefix + "vmail")


def maildir(inst, user, folder=None, domain=DOMAIN):
    """paths.mail/DOMAIN/USER[/.FOLDER] (user: local part or address)."""
    local = user.split("@")[0]
    p = os.path.join(inst.mail, domain, local)
    return os.path.join(p, "." + folder) if folder else p


def maildir_files(path, sub="new"):
    """Sorted paths of the message files in path/sub (dot files skipped)."""
    d = os.path.join(path, sub)
    try:
        names = os.listdir(d)
    except FileNotFoundError:
        return []
    return sorted(os.path.join(d, n) for n in names if not n.startswith("."))


def wait_files(inst, user, n, folder=None, timeout=60, sub="new"):
    """Wait until the mailbox holds at least n files in new/; returns them.
    Fails with the queue listing and log tail when they do not come."""
    path = maildir(inst, user, folder)
    got = wait_for(lambda: len(maildir_files(path, sub)) >= n and maildir_files(path, sub),
                   timeout, interval=0.05)
    assert got and len(got) >= n, "%s: %d of %d messages after %ss\nqueue: %s\nlog:\n%s" % (
        path, len(maildir_files(path, sub)), n, timeout, queue_listing(inst),
        inst.log()[-4000:])
    return got


def read(path):
    with open(path, "rb") as f:
        return f.read()


def split_trace(data):
    """(trace header lines, rest): the leading header fields named in
    TRACE_HEADERS (with their continuation lines) and the bytes after them."""
    trace, pos = [], 0
    while True:
        end = data.find(b"\n", pos)
        if end < 0:
            break
        line = data[pos:end + 1]
        name = line.split(b":", 1)[0].strip().lower().decode("latin-1")
        if line[:1] in (b" ", b"\t") and trace:
            trace[-1] += line
        elif b":" in line and name in TRACE_HEADERS:
            trace.append(line)
        else:
            break
        pos = end + 1
    return trace, data[pos:]


def trace_values(trace, name):
    """Values of the trace header lines called name (unfolded, stripped)."""
    out = []
    for line in trace:
        n, _, v = line.decode("utf-8", "replace").partition(":")
        if n.strip().lower() == name.lower():
            out.append(re.sub(r"\s+", " ", v).strip())
    return out


# ---- the queue --------------------------------------------------------------

def queue_listing(inst):
    r = inst.postern("queue", timeout=20)
    return (r.stdout + r.stderr).strip()


def wait_queue_empty(inst, timeout=60):
    """Wait until no envelope is left in the spool (every recipient final,
    every bounce delivered or dropped)."""
    ok = wait_for(lambda: not spool_ids(inst), timeout, interval=0.1)
    assert ok, "queue not empty after %ss: %s\n%s\nlog:\n%s" % (
        timeout, spool_ids(inst), queue_listing(inst), inst.log()[-4000:])


def wait_rcpt_state(inst, qid, addr, state, timeout=30):
    """Wait until recipient addr of qid has state (pending, deferred, ...)
    in the envelope; returns the recipient's dict."""
    def get():
        if qid not in spool_ids(inst):
            return None
        try:
            env = spool_env(inst, qid)
        except (AssertionError, FileNotFoundError, ValueError):
            return None     # replaced under us: try again
        for r in env["rcpt"]:
            if r["addr"] == addr and r.get("state") == state:
                return r
        return None
    r = wait_for(get, timeout, interval=0.05)
    assert r, "%s: %s never %s\n%s\nlog:\n%s" % (qid, addr, state, queue_listing(inst),
                                                  inst.log()[-4000:])
    return r


def wait_log(inst, pattern, timeout=30):
    """Wait until a log line matches the regex pattern; returns the match."""
    rx = re.compile(pattern)
    m = wait_for(lambda: rx.search(inst.log()), timeout, interval=0.05)
    assert m, "no log line matching %r after %ss:\n%s" % (pattern, timeout,
                                                          inst.log()[-4000:])
    return m


# ---- delivery status notifications (RFC 3464) --------------------------------

class DSN:
    """A parsed report: msg (the whole EmailMessage), text (the human part),
    per_message (dict of the first block of message/delivery-status, names
    lower-cased), recipients (a list of such dicts), original (the third
    part or None) and raw (the stored bytes)."""

    def __init__(self, raw):
        self.raw = raw
        trace, rest = split_trace(raw)
        self.trace = trace
        self.msg = email.message_from_bytes(rest, policy=email.policy.default)
        m = self.msg
        assert m.get_content_type() == "multipart/report", m.get_content_type()
        assert m.get_param("report-type") == "delivery-status", m["Content-Type"]
        parts = list(m.iter_parts())
        assert 2 <= len(parts) <= 3, [p.get_content_type() for p in parts]
        self.parts = parts
        assert parts[0].get_content_type() == "text/plain", parts[0].get_content_type()
        self.text = parts[0].get_content()
        assert parts[1].get_content_type() == "message/delivery-status", \
            parts[1].get_content_type()
        blocks = parts[1].get_payload()
        assert isinstance(blocks, list) and len(blocks) >= 2, blocks
        self.per_message = _fields(blocks[0])
        self.recipients = [_fields(b) for b in blocks[1:]]
        self.original = parts[2] if len(parts) == 3 else None

    def recipient(self, addr):
        """The per-recipient block whose Final-Recipient is rfc822;addr."""
        for r in self.recipients:
            if address_of(r.get("final-recipient", "")) == addr.lower():
                return r
        raise AssertionError("no block for %s in %s" % (addr, self.recipients))

    def original_bytes(self):
        """The returned original: the message (message/rfc822) or its
        header (text/rfc822-headers), as bytes."""
        o = self.original
        assert o is not None, "no original in the report"
        if o.get_content_type() == "message/rfc822":
            inner = o.get_payload()
            inner = inner[0] if isinstance(inner, list) else inner
            return inner.as_bytes(policy=email.policy.compat32.clone(linesep="\r\n"))
        return o.get_payload(decode=True) or o.get_payload().encode()


def _fields(block):
    out = {}
    for k, v in block.items():
        out.setdefault(k.lower(), re.sub(r"\s+", " ", str(v)).strip())
    return out


def address_of(field):
    """"rfc822; a@b" -> "a@b" (lower case); other values unchanged."""
    t, sep, a = field.partition(";")
    return a.strip().lower() if sep and t.strip().lower() == "rfc822" else field.strip().lower()


def delivery_instance(users=(), aliases=None, quotas=None, **config):
    """Generator for a module-scoped fixture: an Instance set up with
    boot_delivery(), torn down like conftest's inst fixture:
        @pytest.fixture(scope="module")
        def srv():
            yield from delivery_instance(users=["bob"])"""
    import pytest
    from conftest import Instance
    i = Instance()
    try:
        i.install()
        boot_delivery(i, users=users, aliases=aliases, quotas=quotas, **config)
        yield i
    finally:
        i.stop()
        bad = i.sanitizer_report()
        tail = i.log().splitlines()[-80:]
        if tail:
            print("---- instance log (last 80 lines) ----\n" + "\n".join(tail))
        i.destroy()
        if bad:
            pytest.fail("sanitizer report in the instance log:\n" + "\n".join(bad[:20]))
