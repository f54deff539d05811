"""smtpd's limits: command line length, errors per session, per-command
and whole-session timeouts, concurrent sessions (total and per IP, enforced
by master), message size (SIZE= at MAIL, and during DATA/BDAT with nothing
queued), hostile input, and a killed session leaving the listener and the
services alone.
"""
import os
import signal
import time

import pytest

from conftest import wait_for
from smtp_helpers import (SMTPClient, SMTPClosed, boot, module_instance,
                          smtpd_pids, spool_ids)

MAX_SIZE = 10 * 1024


@pytest.fixture(scope="module")
def srv():
    yield from module_instance(smtpd__timeout="2s", smtpd__session_timeout="4s",
                               smtpd__max_errors="4", limits__message_size="10K")


def incoming(inst):
    try:
        return os.listdir(os.path.join(inst.spool, "incoming"))
    except FileNotFoundError:
        return []


def sessions_line(inst):
    r = inst.postern("status", timeout=15)
    return [l for l in r.stdout.splitlines() if l.startswith("sessions")]


def test_command_line_length(srv):
    with SMTPClient(srv) as c:
        c.ehlo()
        line = "NOOP " + "a" * (1000 - 2 - 5)          # 1000 octets with CRLF
        assert c.cmd(line) == (250, "2.0.0 Ok")
        code, text = c.cmd(line + "a")                  # 1001
        assert (code, text.split()[0]) == (500, "5.5.2"), text
        code, text = c.cmd("MAIL FROM:<" + "b" * 2000 + "@example.org>")
        assert (code, text.split()[0]) == (500, "5.5.2"), text
        # the session goes on, nothing of the long line leaked into it
        assert c.cmd("NOOP")[0] == 250
        assert c.cmd("MAIL FROM:<bob@example.org>")[0] == 250


def test_max_errors_closes_the_session(srv):
    with SMTPClient(srv) as c:
        c.ehlo()
        for _ in range(3):
            assert c.cmd("XYZZY")[0] == 500
        code, text = c.cmd("XYZZY")
        assert code == 500
        code, text = c.reply()
        assert (code, text.split()[0]) == (421, "4.7.0"), text
        assert c.closed(3)


def test_command_timeout(srv):
    with SMTPClient(srv) as c:
        c.ehlo()
        t0 = time.monotonic()
        code, text = c.reply(timeout=8)
        took = time.monotonic() - t0
        assert (code, text.split()[0]) == (421, "4.4.2"), text
        assert 1.5 <= took < 4, took
        assert c.closed(3)


def test_session_timeout(srv):
    with SMTPClient(srv) as c:
        t0 = time.monotonic()
        c.ehlo()
        while True:             # busy, never idle for smtpd.timeout
            code, text = c.cmd("NOOP", timeout=8)
            if code != 250:
                break
            assert time.monotonic() - t0 < 8, "session never timed out"
            time.sleep(0.3)
        took = time.monotonic() - t0
        assert (code, text.split()[0]) == (421, "4.4.2"), text
        assert 3.5 <= took < 6, took
        assert c.closed(3)


def test_size_parameter_over_limit(srv):
    with SMTPClient(srv) as c:
        assert "SIZE %d" % MAX_SIZE in c.ehlo()
        code, text = c.cmd("MAIL FROM:<bob@example.org> SIZE=%d" % (MAX_SIZE + 1))
        assert (code, text.split()[0]) == (552, "5.3.4"), text
        code, text = c.cmd("MAIL FROM:<bob@example.org> SIZE=99999999999999999999")
        assert code in (501, 552), text
        assert c.cmd("MAIL FROM:<bob@example.org> SIZE=%d" % MAX_SIZE)[0] == 250


def test_message_over_size_refused_after_the_end(srv):
    before = spool_ids(srv)
    body = b"Subject: big\r\n\r\n" + (b"x" * 70 + b"\r\n") * 200     # ~14K
    with SMTPClient(srv) as c:
        c.ehlo()
        assert c.cmd("MAIL FROM:<bob@example.org>")[0] == 250
        assert c.cmd("RCPT TO:<alice@example.test>")[0] == 250
        code, text = c.cmd("DATA")
        assert code == 354, text
        c.send(body)
        with pytest.raises(Exception) as e:     # no reply before the end
            c.reply(timeout=0.5)
        assert e.type.__name__ == "SMTPTimeout"
        c.send(b".\r\n")
        code, text = c.reply()
        assert (code, text.split()[0]) == (552, "5.3.4"), text
        # BDAT: refused after the chunk
        assert c.cmd("MAIL FROM:<bob@example.org>")[0] == 250
        assert c.cmd("RCPT TO:<alice@example.test>")[0] == 250
        c.send(b"BDAT %d LAST\r\n" % len(body) + body)
        code, text = c.reply()
        assert (code, text.split()[0]) == (552, "5.3.4"), text
        assert c.cmd("NOOP")[0] == 250
    assert spool_ids(srv) == before
    assert wait_for(lambda: not incoming(srv), 5), incoming(srv)


def test_hostile_input(srv):
    other = SMTPClient(srv)
    try:
        other.ehlo()
        with SMTPClient(srv) as c:
            code, text = c.cmd(b"\x00\x00\x00")
            assert code in (500, 501) and text.startswith("5.5."), text
            junk = bytes(b for b in os.urandom(4000) if b not in (10, 13))
            code, text = c.cmd(junk[:900])
            assert code in (500, 501) and text.startswith("5.5."), text
            c.send(b"HELO " + b"y" * (1024 * 1024) + b"\r\n")
            code, text = c.reply()
            assert (code, text.split()[0]) == (500, "5.5.2"), text
            assert c.cmd("NOOP")[0] == 250
        assert other.cmd("NOOP")[0] == 250
        with SMTPClient(srv) as c:
            c.ehlo()
            code, text = c.cmd(b"NOOP\x00" + b"\xff" * 10)
            assert code >= 500, text
            code, text = c.cmd(b"MAIL FROM:<bob\x00@example.org>")
            assert 500 <= code < 600, text
            c.send(b"NOOP\n")                           # bare LF
            code, text = c.reply()
            assert (code, text.split()[0]) == (500, "5.5.2"), text
            assert other.cmd("NOOP")[0] == 250
            assert c.cmd("XYZZY")[0] == 500
            code, text = c.reply()              # max_errors (4) reached
            assert (code, text.split()[0]) == (421, "4.7.0"), text
            assert c.closed(3)
        with SMTPClient(srv) as c:
            c.send(b"\xff\xfe" * 3000 + b"\r\n")
            assert c.reply()[0] in (500, 501)
            assert c.cmd("EHLO ok.example.org")[0] == 250
        assert other.cmd("NOOP")[0] == 250
    finally:
        other.close()


def test_killed_session_leaves_listener_and_services_alone(srv):
    def svc_state():
        return {p["name"]: (p["pid"], p["state"], p.get("restarts"))
                for p in srv.status_list() or []}
    before = svc_state()
    log_start = len(srv.log())
    assert before.get("auth", (0, ""))[1] == "running", before
    for _ in range(5):
        old = set(smtpd_pids(srv))
        c = SMTPClient(srv)
        c.ehlo()
        new = set(smtpd_pids(srv)) - old
        assert len(new) == 1, (old, new)
        pid = new.pop()
        os.kill(pid, signal.SIGKILL)
        assert c.closed(5)
        c.close()
        with SMTPClient(srv) as d:
            assert d.greeting[0] == 220
            assert d.cmd("NOOP")[0] == 250
    assert wait_for(lambda: sessions_line(srv) == ["sessions smtp=0 submission=0 smtps=0 pop3=0 pop3s=0 imap=0 imaps=0"],
                    5), sessions_line(srv)
    assert svc_state() == before
    assert "backoff" not in srv.log()[log_start:]


def test_max_sessions(inst):
    boot(inst, smtpd__max_sessions="3", smtpd__max_sessions_per_ip="2")
    held = []
    try:
        for _ in range(2):
            c = SMTPClient(inst)
            held.append(c)
            assert c.greeting[0] == 220
        # a third from the same address: refused by master
        with SMTPClient(inst) as c:
            code, text = c.greeting
            assert (code, text.split()[0]) == (421, "4.7.0"), text
            assert c.closed(3)
        # another address is still welcome, up to the total
        c = SMTPClient(inst, source="127.9.2.1")
        held.append(c)
        assert c.greeting[0] == 220
        with SMTPClient(inst, source="127.9.2.2") as c:
            code, text = c.greeting
            assert (code, text.split()[0]) == (421, "4.7.0"), text
        # the first sessions still work
        for c in held:
            assert c.cmd("NOOP")[0] == 250
        # a finished session frees its slot
        assert held.pop(0).cmd("QUIT")[0] == 221

        def greeted():
            try:
                with SMTPClient(inst, timeout=3) as c:
                    return c.greeting[0] == 220
            except SMTPClosed:
                return False
        assert wait_for(greeted, 5, interval=0.1)
    finally:
        for c in held:
            c.close()
