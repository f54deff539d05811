"""Helpers for the POP3 integration tests (test_pop3*.py).

pop3_instance() is a module-scoped instance (smtp_helpers.boot: domain
example.test, alice@example.test / PASSWORD) that also waits for the pop3
listener; the mailbox is paths.mail/example.test/LOCAL (a Maildir owned by
PREFIXvmail).  put() writes a message file straight into new/ or cur/ with
exact bytes (through tmp/, chowned to PREFIXvmail, mode 0600), named
SECS.M<usec>P<pid>Q<n>.testhost so the session's numbering (delivery time
order) is the order of put() calls.  wire()/stuff() compute what RETR must
send for stored bytes.  POP3Client is a raw client over a socket (optional
source address, implicit TLS, STLS) that reads status lines and multi-line
bodies as sent; pop() gives a poplib client.  pop3_pids() finds the pop3
and pop3-login processes of an instance from /proc.  big_message() and
server_send_queue() are for the slow-reader memory test; run_fetchmail()
polls the instance with Debian's fetchmail and an MDA writing one file per
message.
"""
import base64
import hashlib
import itertools
import os
import poplib
import pwd
import random
import re
import shutil
import socket
import subprocess
import time

from conftest import Instance, all_pids, proc_cmdline, proc_status, teardown_instance, wait_for
from smtp_helpers import DOMAIN, PASSWORD, USER, boot, insecure_context

BOB = "bob@example.test"
TLS_NAME = "mail.example.test"


# ---- instances --------------------------------------------------------------

def pop3_instance(users=None, **config):
    """Generator for a module-scoped fixture: an instance booted with
    boot() (users {addr: password} added besides alice), alice's Maildir
    made, both POP3 listeners greeting.
        @pytest.fixture(scope="module")
        def srv():
            yield from pop3_instance(pop3__plaintext_auth="no")"""
    i = Instance()
    try:
        i.install()
        start_pop3(i, users=users, **config)
        yield i
    finally:
        teardown_instance(i)


def start_pop3(inst, users=None, **config):
    """boot() inst for POP3: make the users' Maildirs, wait for the
    listeners.  Returns inst."""
    boot(inst, users=users, **config)
    for u in [USER] + list(users or {}):
        make_mailbox(inst, u)
    wait_pop3(inst, "pop3")
    wait_pop3(inst, "pop3s")
    return inst


def wait_pop3(inst, listener="pop3", timeout=15):
    """Wait until listener greets with +OK."""
    def ok():
        try:
            with POP3Client(inst, listener, timeout=5) as c:
                return c.greeting.startswith("+OK")
        except (OSError, POP3Error):
            return False
    assert wait_for(ok, timeout, interval=0.1), \
        "%s listener not answering:\n%s" % (listener, inst.log()[-3000:])


# ---- client source addresses --------------------------------------------------

_sources = set()


def fresh_source():
    """A 127.x address no test of this run has connected from: failed logins
    are counted per client address (auth.max_failures), so a test that
    fails logins on purpose uses its own."""
    rng = random.Random(os.getpid() ^ time.monotonic_ns())
    while True:
        a = "127.%d.%d.%d" % (rng.randint(16, 250), rng.randint(0, 255), rng.randint(1, 254))
        if a not in _sources:
            _sources.add(a)
            return a


# ---- the Maildir --------------------------------------------------------------

def mailbox(inst, user=USER):
    """paths.mail/DOMAIN/LOCAL."""
    local, _, domain = user.partition("@")
    return os.path.join(inst.mail, domain or DOMAIN, local)


def vmail(inst):
    return pwd.getpwnam(inst.aprefix + "vmail")


def _own(inst, path, mode):
    pw = vmail(inst)
    os.chown(path, pw.pw_uid, pw.pw_gid)
    os.chmod(path, mode)


def make_mailbox(inst, user=USER):
    """Create the user's Maildir (and its domain dir) as the local agent
    would: PREFIXvmail, mode 0700."""
    box = mailbox(inst, user)
    for d in (os.path.dirname(box), box, box + "/cur", box + "/new", box + "/tmp"):
        if not os.path.isdir(d):
            os.mkdir(d)
            _own(inst, d, 0o700)
    return box


def clear_mailbox(inst, user=USER):
    """Remove every message file of new/ and cur/."""
    box = mailbox(inst, user)
    for sub in ("new", "cur"):
        for n in os.listdir(os.path.join(box, sub)):
            p = os.path.join(box, sub, n)
            if os.path.isdir(p):
                shutil.rmtree(p)
            else:
                os.unlink(p)


_seq = itertools.count(1)
_T0 = 1700000000


def unique_name():
    """A fresh Maildir unique name, later in delivery order than the last."""
    n = next(_seq)
    return "%d.M%06dP%dQ%d.testhost" % (_T0 + n, n % 1000000, os.getpid(), n)


def put(inst, data, sub="new", flags=None, user=USER, name=None):
    """Store data (bytes) as one message file in sub ("new" or "cur"), with
    info ":2,FLAGS" when flags is not None.  Returns the unique name (the
    file name without the info)."""
    if isinstance(data, str):
        data = data.encode()
    box = mailbox(inst, user)
    base = name or unique_name()
    fname = base if flags is None else "%s:2,%s" % (base, flags)
    tmp = os.path.join(box, "tmp", base)
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    _own(inst, tmp, 0o600)
    os.rename(tmp, os.path.join(box, sub, fname))
    return base


def files(inst, user=USER):
    """{"new": sorted names, "cur": sorted names} of the Maildir."""
    box = mailbox(inst, user)
    return {sub: sorted(n for n in os.listdir(os.path.join(box, sub)) if not n.startswith("."))
            for sub in ("new", "cur")}


def base_of(fname):
    """The unique name: the file name before ":2,"."""
    return fname.split(":2,", 1)[0]


def message(subject="test", body="hello\r\n", eol="\r\n"):
    """A small message (bytes): From, To, Subject, a blank line, body."""
    text = ("From: sender@example.org%sTo: %s%sSubject: %s%s%s" %
            (eol, USER, eol, subject, eol, eol)) + body
    return text.encode()


def wire(data):
    """The octets RETR sends for stored data, before dot-stuffing: bare LF
    becomes CRLF, a last line without a line end gets one."""
    out = re.sub(rb"(?<!\r)\n", b"\r\n", data)
    if out and not out.endswith(b"\r\n"):
        out += b"\r\n"
    return out


def stuff(w):
    """Dot-stuff wire octets (RFC 1939 3)."""
    return re.sub(rb"(?m)^\.", b"..", w)


def unstuff(raw):
    """Undo the byte-stuffing of a multi-line body."""
    return re.sub(rb"(?m)^\.", b"", raw)


def sasl_plain(user=USER, password=PASSWORD, authzid=""):
    return base64.b64encode(("%s\0%s\0%s" % (authzid, user, password)).encode()).decode()


def sha256(b):
    return hashlib.sha256(b).hexdigest()


# ---- a raw POP3 client --------------------------------------------------------

class POP3Error(Exception):
    """Timeout or a closed connection: .closed tells which."""
    def __init__(self, msg, closed):
        Exception.__init__(self, msg)
        self.closed = closed


_clients = []       # every client made, for close_all()


def close_all():
    """Close every client a test made (a failed assertion must not leave a
    session holding the mailbox for the next test)."""
    while _clients:
        c = _clients.pop()
        try:
            c.close()
        except (OSError, AttributeError):
            pass


class POP3Client:
    """c = POP3Client(inst, "pop3", source="127.9.1.1") connects and reads
    the greeting line into c.greeting; c.cmd("STAT") sends a line (CRLF
    added) and returns the status line (str, latin-1, CRLF stripped);
    c.multi() reads a multi-line body as sent (bytes, still dot-stuffed,
    without the terminating ".\\r\\n"); c.lines() the same split into
    unstuffed lines.  Raises POP3Error on timeout or EOF."""

    def __init__(self, inst=None, listener="pop3", source=None, timeout=10,
                 address=None, greet=True, tls_context=None):
        self.address = address or (inst.addr, inst.ports[listener])
        self.timeout = timeout
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        if source:
            self.sock.bind((source, 0))
        self.sock.connect(self.address)
        if tls_context is not None or listener == "pop3s":
            self.sock = (tls_context or insecure_context()).wrap_socket(
                self.sock, server_hostname=TLS_NAME)
        self.buf = bytearray()
        _clients.append(self)
        self.greeting = self.line() if greet else None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("latin-1")
        self.sock.sendall(data)

    def _fill(self, deadline, size=262144):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise POP3Error("timeout; have %r" % bytes(self.buf[:200]), False)
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(size)
        except socket.timeout:
            raise POP3Error("timeout; have %r" % bytes(self.buf[:200]), False)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            raise POP3Error("connection closed; have %r" % bytes(self.buf[:200]), True)
        self.buf += chunk

    def rawline(self, timeout=None):
        """One line as bytes, CRLF stripped."""
        deadline = time.monotonic() + (timeout or self.timeout)
        start = 0
        while True:
            i = self.buf.find(b"\r\n", start)
            if i >= 0:
                line = bytes(self.buf[:i])
                del self.buf[:i + 2]
                return line
            start = max(0, len(self.buf) - 1)
            self._fill(deadline)

    def line(self, timeout=None):
        return self.rawline(timeout).decode("latin-1")

    def read_exact(self, n, timeout=None):
        """Exactly n octets (an IMAP literal)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while len(self.buf) < n:
            self._fill(deadline)
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def cmd(self, line, timeout=None):
        if isinstance(line, str):
            line = line.encode("latin-1")
        self.send(line + b"\r\n")
        try:
            return self.line(timeout)
        except POP3Error as e:
            raise POP3Error("after %r: %s" % (line[:60], e), e.closed) from None

    def ok(self, line, timeout=None):
        """cmd() that must answer +OK; returns the status line."""
        r = self.cmd(line, timeout)
        assert r.startswith("+OK"), (line, r)
        return r

    def multi(self, timeout=None):
        """The body of a multi-line response, as sent (dot-stuffed), up to
        and without the terminating ".\\r\\n"."""
        deadline = time.monotonic() + (timeout or self.timeout)
        start = 0
        while True:
            if self.buf[:3] == b".\r\n":
                del self.buf[:3]
                return b""
            i = self.buf.find(b"\r\n.\r\n", start)
            if i >= 0:
                body = bytes(self.buf[:i + 2])
                del self.buf[:i + 5]
                return body
            start = max(0, len(self.buf) - 4)
            self._fill(deadline)

    def lines(self, timeout=None):
        """A multi-line body as a list of unstuffed lines (bytes)."""
        body = self.multi(timeout)
        return [unstuff(l) for l in body.split(b"\r\n")[:-1]] if body else []

    def long(self, line, timeout=None):
        """A command answered +OK and a multi-line body: (status, body)."""
        st = self.ok(line, timeout)
        return st, self.multi(timeout)

    def login(self, user=USER, password=PASSWORD):
        """USER/PASS, both must answer +OK; returns PASS's status line."""
        self.ok("USER " + user)
        return self.ok("PASS " + password)

    def capa(self):
        """CAPA: the capability lines (str)."""
        st, body = self.long("CAPA")
        return [l.decode("latin-1") for l in body.split(b"\r\n") if l]

    def stls(self, context=None):
        r = self.cmd("STLS")
        assert r.startswith("+OK"), r
        assert not self.buf, "data after the STLS answer: %r" % bytes(self.buf)
        self.sock = (context or insecure_context()).wrap_socket(
            self.sock, server_hostname=TLS_NAME)

    def retr(self, n, timeout=None):
        """RETR n: (status, unstuffed message octets)."""
        st, body = self.long("RETR %d" % n, timeout)
        return st, unstuff(body)

    def closed(self, timeout=None):
        """True if the server closes the connection within timeout (bytes
        left are kept in self.buf)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        try:
            while True:
                self._fill(deadline)
        except POP3Error as e:
            return e.closed
        except OSError:
            return True


def stat_of(status):
    """(count, octets) of a "+OK n m" STAT line."""
    m = re.match(r"^\+OK (\d+) (\d+)", status)
    assert m, status
    return int(m.group(1)), int(m.group(2))


def scan_list(body):
    """{n: size} of a LIST body."""
    out = {}
    for l in body.split(b"\r\n"):
        if l:
            n, s = l.split(b" ")[:2]
            out[int(n)] = int(s)
    return out


def uidl_map(body):
    """{n: uid} of a UIDL body."""
    out = {}
    for l in body.split(b"\r\n"):
        if l:
            n, u = l.split(b" ", 1)
            out[int(n)] = u.decode("latin-1")
    return out


# ---- poplib -------------------------------------------------------------------

def pop(inst, listener="pop3", stls=False, login=True, user=USER, password=PASSWORD,
        timeout=10):
    """A poplib client: POP3 (after STLS if stls) or POP3_SSL on pop3s;
    logged in with USER/PASS if login."""
    if listener == "pop3s":
        p = poplib.POP3_SSL(inst.addr, inst.ports["pop3s"], timeout=timeout,
                            context=insecure_context())
    else:
        p = poplib.POP3(inst.addr, inst.ports["pop3"], timeout=timeout)
        if stls:
            p.stls(insecure_context())
    _clients.append(p)
    if login:
        p.user(user)
        p.pass_(password)
    return p


# ---- processes ------------------------------------------------------------------

def pop3_pids(inst, name="pop3"):
    """Pids of the instance's processes running program name ("pop3",
    "pop3-login"): found by the program's base name and the instance's
    config path on the command line."""
    marker = inst.conf.encode()
    out = []
    for pid in all_pids():
        cl = proc_cmdline(pid)
        if cl and os.path.basename(cl[0]) == name.encode() and marker in cl:
            out.append(pid)
    return out


def wait_no_sessions(inst, timeout=15):
    """Wait until no pop3 or pop3-login process of inst runs (the previous
    test's sessions are over and have dropped their mailbox locks)."""
    ok = wait_for(lambda: not pop3_pids(inst, "pop3") and not pop3_pids(inst, "pop3-login"),
                  timeout)
    assert ok, "POP3 processes still running: pop3 %s pop3-login %s\n%s" % (
        pop3_pids(inst, "pop3"), pop3_pids(inst, "pop3-login"), inst.log()[-2000:])


def the_pid(inst, name="pop3", timeout=10):
    """The one process of program name (waits for it to be the only one)."""
    got = wait_for(lambda: len(pop3_pids(inst, name)) == 1 and pop3_pids(inst, name), timeout)
    assert got, "want one %s process, have %s" % (name, pop3_pids(inst, name))
    return got[0]


def vm_kb(pid, key):
    """VmHWM / VmRSS ... of pid in kB (None once it is gone, or a zombie
    without memory)."""
    st = proc_status(pid)
    if st is None or key not in st:
        return None
    return int(st[key].split()[0])


def has_asan(pid):
    """True if pid runs with AddressSanitizer (its memory use is inflated)."""
    try:
        with open("/proc/%d/maps" % pid) as f:
            return "libasan" in f.read()
    except OSError:
        return False


# ---- big messages and slow readers ----------------------------------------------

def big_message(size):
    """A CRLF message of about size octets with some dot lines."""
    line = b"%s\r\n" % (b"0123456789abcdef" * 4)
    n = size // len(line)
    lines = [line] * n
    for i in range(0, n, 1000):
        lines[i] = b".dot line %d\r\n" % i
    return b"From: big@example.org\r\nSubject: big\r\n\r\n" + b"".join(lines)


def steady(pred, n=5, interval=0.1):
    """pred() true n times in a row, interval seconds apart."""
    for i in range(n):
        if not pred():
            return False
        if i < n - 1:
            time.sleep(interval)
    return True


def server_send_queue(inst, client):
    """Octets queued in the server's send buffer of our TCP connection
    (/proc/net/tcp tx_queue), or None."""
    def hexaddr(host, port):
        return "%08X:%04X" % (int.from_bytes(socket.inet_aton(host), "little"), port)
    local = hexaddr(*client.address)
    remote = hexaddr(*client.sock.getsockname())
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] == local and fields[2] == remote:
                return int(fields[4].split(":")[0], 16)
    return None


# ---- fetchmail ----------------------------------------------------------------

MDA = """#!/bin/sh
# one file per message, as fetchmail hands it over
exec cat > "$(mktemp %s/msg.XXXXXXXX)"
"""


def run_fetchmail(inst, tmp, mode, keep):
    """Poll alice's INBOX with fetchmail over mode ("plain": no TLS, "stls",
    "pop3s"); each message lands as a file in tmp/out.  Returns the
    completed process."""
    out = os.path.join(tmp, "out")
    os.makedirs(out, exist_ok=True)
    mda = os.path.join(tmp, "mda.sh")
    with open(mda, "w") as f:
        f.write(MDA % out)
    os.chmod(mda, 0o755)
    tls = {"plain": "sslproto '' no sslcertck",
           "stls": "sslproto 'TLS1.2+' no sslcertck",
           "pop3s": "ssl sslproto 'TLS1.2+' no sslcertck"}[mode]
    port = inst.ports["pop3s" if mode == "pop3s" else "pop3"]
    rc = os.path.join(tmp, "fetchmailrc")
    with open(rc, "w") as f:
        f.write('set no syslog\nset invisible\nset no bouncemail\n'
                'poll "%s" with protocol POP3 service %d auth password timeout 30\n'
                '  user "%s" there with password "%s" is "root" here\n'
                '  options fetchall %s no rewrite %s\n'
                '  mda "%s"\n' % (inst.addr, port, USER, PASSWORD,
                                   "keep" if keep else "no keep", tls, mda))
    os.chmod(rc, 0o600)
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": tmp, "FETCHMAILHOME": tmp,
           "FETCHMAILUSER": "root", "LANG": "C"}
    # as root fetchmail's lock is /var/run/fetchmail.pid: one per test
    return subprocess.run(["fetchmail", "-f", rc, "-v", "--nosyslog",
                           "--pidfile", os.path.join(tmp, "fetchmail.pid")],
                          capture_output=True, text=True, env=env, timeout=120)


def fetched(tmp):
    out = os.path.join(tmp, "out")
    res = []
    for n in sorted(os.listdir(out)):
        with open(os.path.join(out, n), "rb") as f:
            res.append(f.read())
    return sorted(res)
