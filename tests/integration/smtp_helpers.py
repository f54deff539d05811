"""Helpers for the smtpd integration tests (test_smtpd_*.py).

boot() starts an instance set up for mail (domain example.test, user
alice@example.test with password PASSWORD); SMTPClient is a raw SMTP client
over a socket (optionally bound to a chosen 127.x source address) that reads
whole multi-line replies; smtp()/submission()/smtps() make smtplib clients;
the spool_* functions read the queue's spool (env/XX/ID and msg/XX/ID, see
DESIGN.md and common/envelope.c for the envelope's text form).
"""
import glob
import os
import re
import socket
import smtplib
import ssl
import time

import pytest

from conftest import Instance, teardown_instance, wait_for

DOMAIN = "example.test"
USER = "alice@example.test"
PASSWORD = "correct horse battery staple"
REPLY_RE = re.compile(rb"^(\d{3})([ -])(.*)$")


def addr_of(inst, listener="smtp"):
    """(host, port) of a listener: "smtp", "submission" or "smtps"."""
    return inst.addr, inst.ports[listener]


def has_queue():
    """True when the build holds the queue program (DATA can get 250)."""
    from conftest import BUILD
    return os.path.exists(os.path.join(BUILD, "queue"))


def boot(inst, users=None, deliver=True, **config):
    """Configure inst for mail (domains example.test plus config, "__" for
    "."), add alice@example.test (and users: {addr: password}), start it,
    wait until auth (and queue, when built) run and the smtp listener
    greets.  deliver=False: without the local and remote delivery agents
    (their programs are removed), so accepted mail stays in the spool for
    the test to read.
    Returns inst."""
    keys = {"domains": DOMAIN}
    keys.update({k.replace("__", "."): v for k, v in config.items()})
    inst.configure(keys)
    inst.add_user(USER, PASSWORD)
    for a, p in (users or {}).items():
        inst.add_user(a, p)
    for agent in ("local", "remote"):
        prog = os.path.join(inst.libexec, agent)
        if not deliver and os.path.exists(prog):
            os.remove(prog)
    inst.start()
    if has_queue():
        inst.wait_ready(service="queue")
    wait_listening(inst)
    return inst


def module_instance(users=None, **config):
    """Generator for a module-scoped fixture: an Instance booted with
    boot(), torn down like conftest's inst fixture.  Use as
        @pytest.fixture(scope="module")
        def srv():
            yield from module_instance(smtpd__max_errors="5")"""
    i = Instance()
    try:
        i.install()
        boot(i, users=users, **config)
        yield i
    finally:
        teardown_instance(i)


def wait_listening(inst, listener="smtp", timeout=15):
    """Wait until the listener accepts and greets with 220."""
    def ok():
        try:
            with SMTPClient(inst, listener, timeout=5) as c:
                return c.greeting[0] == 220
        except (OSError, SMTPTimeout, SMTPClosed):
            return False
    assert wait_for(ok, timeout, interval=0.1), \
        "%s listener not answering:\n%s" % (listener, inst.log()[-3000:])


class SMTPTimeout(Exception):
    pass


class SMTPClosed(Exception):
    pass


class SMTPClient:
    """A raw SMTP client.  c = SMTPClient(inst, "smtp", source="127.9.1.1")
    connects and reads the greeting into c.greeting; c.cmd("EHLO x") sends
    a line (CRLF added) and returns (code, text) of one reply, text being
    the lines' texts joined with "\\n" (for EHLO: c.cmd(..)[1].split("\\n")).
    c.send(bytes) writes raw bytes; c.reply() reads one reply; c.replies(n)
    reads n.  A closed connection raises SMTPClosed, a silent server
    SMTPTimeout."""

    def __init__(self, inst=None, listener="smtp", source=None, timeout=10,
                 address=None, greet=True, tls_context=None):
        self.address = address or addr_of(inst, listener)
        self.timeout = timeout
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        if source:
            self.sock.bind((source, 0))
        self.sock.connect(self.address)
        if tls_context is not None or listener == "smtps":
            self.sock = (tls_context or insecure_context()).wrap_socket(
                self.sock, server_hostname="mail.example.test")
        self.buf = b""
        self.greeting = self.reply() if greet else None

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
            data = data.encode()
        self.sock.sendall(data)

    def _fill(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise SMTPTimeout("no complete reply; have %r" % self.buf[:200])
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            raise SMTPTimeout("no complete reply; have %r" % self.buf[:200])
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            raise SMTPClosed("connection closed; have %r" % self.buf[:200])
        self.buf += chunk

    def readline(self, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while b"\r\n" not in self.buf:
            self._fill(deadline)
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def reply(self, timeout=None):
        """One reply: (code, text); multi-line texts joined with "\\n"."""
        deadline = time.monotonic() + (timeout or self.timeout)
        code, lines = None, []
        while True:
            while b"\r\n" not in self.buf:
                self._fill(deadline)
            line, _, self.buf = self.buf.partition(b"\r\n")
            m = REPLY_RE.match(line)
            assert m, "malformed reply line %r" % line
            if code is not None:
                assert int(m.group(1)) == code, "code changed in a multi-line reply"
            code = int(m.group(1))
            lines.append(m.group(3).decode("utf-8", "replace"))
            if m.group(2) == b" ":
                return code, "\n".join(lines)

    def replies(self, n, timeout=None):
        return [self.reply(timeout) for _ in range(n)]

    def cmd(self, line, timeout=None):
        self.send(line.encode() + b"\r\n" if isinstance(line, str) else line + b"\r\n")
        return self.reply(timeout)

    def ehlo(self, name="client.example.org"):
        """EHLO; returns the list of extension lines (without the first)."""
        code, text = self.cmd("EHLO " + name)
        assert code == 250, (code, text)
        return text.split("\n")[1:]

    def closed(self, timeout=None):
        """True if the server closes the connection (EOF) within timeout;
        any bytes left are kept in self.buf."""
        deadline = time.monotonic() + (timeout or self.timeout)
        try:
            while True:
                self._fill(deadline)
        except SMTPClosed:
            return True
        except (SMTPTimeout, OSError):
            return False

    def starttls(self, context=None):
        code, text = self.cmd("STARTTLS")
        assert code == 220, (code, text)
        self.sock = (context or insecure_context()).wrap_socket(
            self.sock, server_hostname="mail.example.test")
        self.buf = b""

    def send_message(self, sender, rcpts, body, ehlo=True):
        """EHLO (optionally), MAIL, RCPT..., DATA with body (str/bytes,
        dot-stuffed here, CRLF line ends expected) and returns the reply
        after the final dot."""
        if ehlo:
            self.ehlo()
        code, text = self.cmd("MAIL FROM:<%s>" % sender)
        assert code == 250, (code, text)
        for r in rcpts:
            code, text = self.cmd("RCPT TO:<%s>" % r)
            assert code == 250, (r, code, text)
        code, text = self.cmd("DATA")
        assert code == 354, (code, text)
        if isinstance(body, str):
            body = body.encode()
        body = re.sub(rb"(?m)^\.", b"..", body)
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        self.send(body + b".\r\n")
        return self.reply()


def insecure_context():
    """A client TLS context that does not verify the (self-signed) cert."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


# ---- smtplib ------------------------------------------------------------

def smtp(inst, listener="smtp", source=None, timeout=10):
    """smtplib.SMTP connected to a plain listener (optionally from source)."""
    host, port = addr_of(inst, listener)
    return smtplib.SMTP(host, port, timeout=timeout,
                        source_address=(source, 0) if source else None,
                        local_hostname="client.example.org")


def submission(inst, login=True, user=USER, password=PASSWORD, timeout=10):
    """smtplib.SMTP on the submission port, after STARTTLS (+ AUTH if login)."""
    s = smtp(inst, "submission", timeout=timeout)
    s.ehlo()
    s.starttls(context=insecure_context())
    s.ehlo()
    if login:
        s.login(user, password)
    return s


def smtps(inst, login=True, user=USER, password=PASSWORD, timeout=10):
    """smtplib.SMTP_SSL on the smtps port (+ AUTH if login)."""
    host, port = addr_of(inst, "smtps")
    s = smtplib.SMTP_SSL(host, port, timeout=timeout, context=insecure_context(),
                         local_hostname="client.example.org")
    s.ehlo()
    if login:
        s.login(user, password)
    return s


# ---- the spool ------------------------------------------------------------

def queue_id(reply_text):
    """The queue id from a 250 reply text ("2.0.0 Ok: queued as ID")."""
    if isinstance(reply_text, bytes):
        reply_text = reply_text.decode()
    m = re.search(r"queued as ([A-Za-z0-9_.-]+)", reply_text)
    assert m, "no queue id in %r" % reply_text
    return m.group(1)


def spool_ids(inst):
    """Ids of committed messages (files spool/env/XX/ID), sorted."""
    return sorted(os.path.basename(p)
                  for p in glob.glob(os.path.join(inst.spool, "env", "*", "*"))
                  if not os.path.basename(p).startswith("."))


def _spool_path(inst, kind, qid):
    hits = [p for p in glob.glob(os.path.join(inst.spool, kind, "*", glob.escape(qid)))]
    assert hits, "no %s file for %s under %s" % (kind, qid, inst.spool)
    return hits[0]


def spool_msg(inst, qid):
    """The stored message (bytes) of queue id qid."""
    with open(_spool_path(inst, "msg", qid), "rb") as f:
        return f.read()


def spool_env_text(inst, qid):
    with open(_spool_path(inst, "env", qid), "rb") as f:
        return f.read().decode("ascii")


def spool_env(inst, qid):
    """The envelope of qid as a dict: scalar fields (id, arrival, sender,
    envid, ret, body, smtputf8, client-addr, client-helo, auth-id,
    protocol) as str, and "rcpt": a list of dicts (addr, state, attempts,
    next, notify, orcpt, status).  Values %XX-decoded (UTF-8 as str)."""
    env = {"rcpt": []}
    for line in spool_env_text(inst, qid).splitlines():
        if line in ("end", "") or line.startswith("postern-envelope"):
            continue
        key, _, val = line.partition(" ")
        if key == "rcpt":
            parts = val.split(" ")
            r = {"addr": _unesc_utf8(parts[0])}
            for p in parts[1:]:
                k, _, v = p.partition("=")
                r[k] = _unesc_utf8(v)
            env["rcpt"].append(r)
        else:
            env[key] = _unesc_utf8(val)
    return env


def _unesc_utf8(s):
    raw = re.sub(rb"%([0-9A-F]{2})", lambda m: bytes([int(m.group(1), 16)]),
                 s.encode("ascii"))
    return raw.decode("utf-8", "replace")


def wait_spool(inst, qid, timeout=10):
    """Wait until qid's envelope is in the spool; returns the envelope dict."""
    assert wait_for(lambda: qid in spool_ids(inst), timeout), \
        "%s not in spool; have %s" % (qid, spool_ids(inst))
    return spool_env(inst, qid)


def smtpd_pids(inst):
    """Pids of running per-connection smtpd processes of this instance."""
    from conftest import proc_cmdline, all_pids
    marker = inst.conf.encode()
    out = []
    for pid in all_pids():
        cl = proc_cmdline(pid)
        if cl and os.path.basename(cl[0]) == b"smtpd" and marker in cl:
            out.append(pid)
    return out
