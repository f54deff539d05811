"""Helpers for the IMAP integration tests (test_imap*.py).

imap_instance() is a module-scoped instance (smtp_helpers.boot: domain
example.test, alice@example.test / PASSWORD) listening on imap and imaps
(conftest PORTS), waiting until both greet.  IMAPClient is a raw client
over a socket (optional source address, implicit TLS, STARTTLS) that reads
lines as sent; cmd() sends a tagged command and returns every line up to
its tagged answer.  imap() gives an imaplib client.  remove_imap() takes
the imap mail program away, install_imap() puts the built one back.
"""
import imaplib
import os
import shutil

import pop3_helpers as ph
from conftest import BUILD, Instance, all_pids, proc_cmdline, teardown_instance, wait_for
from pop3_helpers import POP3Client, POP3Error
from smtp_helpers import boot, insecure_context

HERE = os.path.dirname(os.path.abspath(__file__))
TLS_NAME = ph.TLS_NAME


def imap_instance(users=None, **config):
    """Generator for a module-scoped fixture: an instance booted with boot()
    with listen.imap and listen.imaps on the instance's address."""
    i = Instance()
    try:
        i.install()
        keys = {"listen.imap": "%s:%d" % (i.addr, i.ports["imap"]),
                "listen.imaps": "%s:%d" % (i.addr, i.ports["imaps"])}
        keys.update({k.replace("__", "."): v for k, v in config.items()})
        boot(i, users=users, **{k.replace(".", "__"): v for k, v in keys.items()})
        wait_imap(i, "imap")
        wait_imap(i, "imaps")
        yield i
    finally:
        teardown_instance(i)


def wait_imap(inst, listener="imap", timeout=15):
    def ok():
        try:
            with IMAPClient(inst, listener, timeout=5) as c:
                return c.greeting.startswith("* OK")
        except (OSError, POP3Error):
            return False
    assert wait_for(ok, timeout, interval=0.1), \
        "%s listener not answering:\n%s" % (listener, inst.log()[-3000:])


def mail_program(inst):
    return os.path.join(inst.libexec, "imap")


def install_imap(inst):
    """Put the built imap program back in place (as install.sh does)."""
    path = mail_program(inst)
    tmp = path + ".tmp"
    shutil.copyfile(os.path.join(BUILD, "imap"), tmp)
    os.chmod(tmp, 0o755)
    os.replace(tmp, path)


def remove_imap(inst):
    try:
        os.remove(mail_program(inst))
    except FileNotFoundError:
        pass


class IMAPClient(POP3Client):
    """c = IMAPClient(inst, "imap") connects and reads the greeting into
    c.greeting; c.cmd("a1 NOOP") sends a line (CRLF added) and returns the
    lines (str) up to and including the one tagged a1 (or a BYE when the
    server closes)."""

    def __init__(self, inst=None, listener="imap", source=None, timeout=10,
                 address=None, greet=True):
        POP3Client.__init__(self, inst, listener, source=source, timeout=timeout,
                            address=address, greet=greet,
                            tls_context=insecure_context() if listener == "imaps" else None)

    def tagged(self, tag, timeout=None):
        """Lines up to the one starting with tag; at EOF after a BYE, the
        lines so far."""
        out = []
        while True:
            try:
                line = self.line(timeout)
            except POP3Error as e:
                if e.closed and any(l.startswith("* BYE") for l in out):
                    return out
                raise POP3Error("%s; lines %r" % (e, out), e.closed) from None
            out.append(line)
            if line.startswith(tag + " "):
                return out

    def cmd(self, line, timeout=None):
        if isinstance(line, str):
            line = line.encode("latin-1")
        self.send(line + b"\r\n")
        tag = line.split(b" ", 1)[0].decode("latin-1")
        return self.tagged(tag, timeout)

    def last(self, line, timeout=None):
        """cmd() and its last line (the tagged answer)."""
        return self.cmd(line, timeout)[-1]

    def caps(self):
        lines = self.cmd("c0 CAPABILITY")
        assert lines[-1].startswith("c0 OK"), lines
        caps = [l for l in lines if l.startswith("* CAPABILITY ")]
        assert len(caps) == 1, lines
        return caps[0].split()[2:]

    def starttls(self):
        r = self.cmd("s0 STARTTLS")
        assert r[-1].startswith("s0 OK"), r
        assert not self.buf, "data after the STARTTLS answer: %r" % bytes(self.buf)
        self.sock = insecure_context().wrap_socket(self.sock, server_hostname=TLS_NAME)


def imap(inst, listener="imap", starttls=False, timeout=10):
    """An imaplib client: IMAP4 (after STARTTLS if starttls) or IMAP4_SSL."""
    if listener == "imaps":
        m = imaplib.IMAP4_SSL(inst.addr, inst.ports["imaps"], ssl_context=insecure_context(),
                              timeout=timeout)
    else:
        m = imaplib.IMAP4(inst.addr, inst.ports["imap"], timeout=timeout)
        if starttls:
            m.starttls(insecure_context())
    _imaps.append(m)
    return m


_imaps = []     # imaplib clients made, for close_all()


def close_all():
    """Close every raw and imaplib client a test made."""
    ph.close_all()
    while _imaps:
        m = _imaps.pop()
        try:
            m.shutdown()
        except (OSError, imaplib.IMAP4.error):
            pass


def imap_pids(inst, name="imap-login"):
    """Pids of inst's processes running program name; a script (the fake
    imap) shows its interpreter first and its path second."""
    marker = inst.conf.encode()
    out = []
    for pid in all_pids():
        cl = proc_cmdline(pid)
        if marker in cl and name.encode() in [os.path.basename(a) for a in cl[:2]]:
            out.append(pid)
    return out


def wait_no_sessions(inst, timeout=15):
    ok = wait_for(lambda: not imap_pids(inst, "imap-login") and not imap_pids(inst, "imap"),
                  timeout)
    assert ok, "imap sessions still running: %s %s" % (
        imap_pids(inst, "imap-login"), imap_pids(inst, "imap"))
