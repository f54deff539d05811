"""POP3 login side: the plaintext policy (pop3.plaintext_auth = no here),
STLS (RFC 2595) and POP3S, failed logins (RFC 3206 [AUTH]) delayed by
auth.fail_delay, three per connection, auth.max_failures per client
address, [IN-USE] (RFC 2449), and the idle and session time limits on an
instance of their own."""
import os
import poplib
import ssl
import threading
import time

import pytest

import pop3_helpers as ph
from conftest import needs_root, wait_for
from pop3_helpers import BOB, POP3Client, PASSWORD, USER, put
from smtp_helpers import insecure_context

pytestmark = needs_root

FAIL_DELAY = 1.0        # conftest's auth.fail_delay
MAX_FAILURES = 3


@pytest.fixture(scope="module")
def srv():
    yield from ph.pop3_instance(users={BOB: PASSWORD}, pop3__plaintext_auth="no",
                                auth__max_failures=str(MAX_FAILURES),
                                auth__fail_delay="%ds" % FAIL_DELAY)


@pytest.fixture
def inst(srv):
    ph.wait_no_sessions(srv)
    ph.clear_mailbox(srv)
    yield srv
    ph.close_all()


def tls_client(inst, listener="pop3s", source=None, timeout=30):
    """A raw client over TLS: POP3S, or pop3 after STLS."""
    c = POP3Client(inst, listener, source=source, timeout=timeout)
    assert c.greeting.startswith("+OK"), c.greeting
    if listener == "pop3":
        c.stls()
    return c


def cap_names(caps):
    return [l.split(" ")[0].upper() for l in caps]


def timed(c, line):
    t = time.monotonic()
    r = c.cmd(line)
    return r, time.monotonic() - t


# ---- plaintext policy and STLS -----------------------------------------------

def test_capa_before_and_after_stls(inst):
    with POP3Client(inst) as c:
        caps = c.capa()
        names = cap_names(caps)
        assert "STLS" in names, caps
        # no way to send a password in clear is offered (RFC 2595 4)
        assert "USER" not in names and "SASL" not in names, caps
        c.stls()
        caps = c.capa()
        names = cap_names(caps)
        assert "USER" in names and "STLS" not in names, caps
        sasl = [l for l in caps if l.upper().startswith("SASL ")]
        assert sasl and "PLAIN" in sasl[0].upper().split()[1:], caps
        assert c.cmd("STLS").startswith("-ERR")          # TLS is on already
        c.login()
        assert "TOP" in cap_names(c.capa())
        c.ok("QUIT")


def test_capa_on_pop3s(inst):
    with tls_client(inst) as c:
        names = cap_names(c.capa())
        assert "USER" in names and "SASL" in names and "STLS" not in names, names
        assert c.cmd("STLS").startswith("-ERR")


def test_plaintext_refused_before_tls(inst):
    """USER/PASS and AUTH PLAIN in clear are refused without asking auth:
    no answer is +OK, and the refusals are not failed logins (the address
    is not limited by them)."""
    src = ph.fresh_source()
    for _ in range(2):
        with POP3Client(inst, source=src) as c:
            r = c.cmd("USER " + USER)
            if r.startswith("+OK"):
                r = c.cmd("PASS " + PASSWORD)
            assert r.startswith("-ERR"), r
            r = c.cmd("AUTH PLAIN " + ph.sasl_plain())
            assert r.startswith("-ERR"), r
            r = c.cmd("AUTH PLAIN")
            assert r.startswith("-ERR"), r      # no "+" continuation either
            assert c.cmd("STAT").startswith("-ERR")
    # more refusals than auth.max_failures; the address may still log in
    with tls_client(inst, "pop3", source=src) as c:
        c.login()
        assert c.cmd("STAT").startswith("+OK")
        c.ok("QUIT")


def test_stls_then_login_with_poplib(inst):
    data = ph.message("over stls", "secret\r\n")
    put(inst, data)
    p = ph.pop(inst, stls=True)
    assert p.stat() == (1, len(data))
    resp, lines, octets = p.retr(1)
    assert b"\r\n".join(lines) + b"\r\n" == data
    p.dele(1)
    assert p.quit().startswith(b"+OK")
    assert ph.files(inst) == {"new": [], "cur": []}


def test_pop3s_with_poplib(inst):
    data = ph.message("over pop3s", "secret\r\n")
    name = put(inst, data)
    p = ph.pop(inst, "pop3s")
    assert p.stat() == (1, len(data))
    assert p.uidl(1).split()[2].decode() == name
    resp, lines, octets = p.retr(1)
    assert b"\r\n".join(lines) + b"\r\n" == data and octets == len(data)
    assert p.quit().startswith(b"+OK")
    assert ph.files(inst) == {"new": [], "cur": [name + ":2,S"]}


@pytest.mark.parametrize("listener", ["pop3", "pop3s"])
def test_auth_plain_over_tls(inst, listener):
    put(inst, ph.message())
    with tls_client(inst, listener) as c:
        r = c.cmd("AUTH PLAIN")
        assert r == "+" or r.startswith("+ "), r
        assert c.cmd(ph.sasl_plain()).startswith("+OK")
        assert ph.stat_of(c.ok("STAT"))[0] == 1
        c.ok("QUIT")
    with tls_client(inst, listener) as c:
        assert c.cmd("AUTH PLAIN " + ph.sasl_plain()).startswith("+OK")
        c.ok("QUIT")


@pytest.mark.parametrize("listener", ["pop3", "pop3s"])
def test_pipelined_login_over_tls(inst, listener):
    """USER, PASS, STAT, LIST, QUIT in one TLS write: the login process
    hands what follows PASS to the mail process through its proxy."""
    data = ph.message("pipelined")
    put(inst, data)
    with tls_client(inst, listener) as c:
        c.send("USER %s\r\nPASS %s\r\nSTAT\r\nLIST\r\nQUIT\r\n" % (USER, PASSWORD))
        assert c.line().startswith("+OK")
        assert c.line().startswith("+OK")
        assert ph.stat_of(c.line()) == (1, len(data))
        assert c.line().startswith("+OK")
        assert ph.scan_list(c.multi()) == {1: len(data)}
        assert c.line().startswith("+OK")
        assert c.closed(10)


def test_pipelined_flood_over_tls(inst):
    """20 KB of NOOPs behind PASS in TLS: the handoff input plus the proxy
    deliver every one exactly once."""
    put(inst, ph.message())
    n = 4000
    with tls_client(inst) as c:
        c.send("USER %s\r\nPASS %s\r\n" % (USER, PASSWORD) + "NOOP\r\n" * n + "STAT\r\n")
        assert c.line().startswith("+OK")
        assert c.line().startswith("+OK")
        for i in range(n):
            r = c.line()
            assert r.startswith("+OK"), (i, r)
        assert ph.stat_of(c.line())[0] == 1
        c.ok("QUIT")


def test_plaintext_pipelined_after_stls_is_not_executed(inst):
    """RFC 2595 / CVE-2011-0411 style injection: commands sent in clear
    behind STLS must be thrown away, not run inside the TLS session."""
    put(inst, ph.message())
    with POP3Client(inst) as c:
        c.send("STLS\r\nUSER %s\r\n" % USER)
        r = c.line()
        assert r.startswith("+OK"), r
        assert not c.buf, "answer to the injected USER in clear: %r" % bytes(c.buf)
        try:
            c.sock = insecure_context().wrap_socket(c.sock, server_hostname=ph.TLS_NAME)
        except (ssl.SSLError, OSError):
            return          # refusing the connection is also safe
        # had USER run, this PASS would log in
        try:
            r = c.cmd("PASS " + PASSWORD)
        except ph.POP3Error as e:
            assert e.closed, e
            return
        assert r.startswith("-ERR"), r


def test_stls_with_junk_instead_of_handshake(inst):
    """After STLS +OK, a client that sends garbage instead of a ClientHello
    is dropped; the listener keeps serving."""
    with POP3Client(inst) as c:
        assert c.cmd("STLS").startswith("+OK")
        c.send(b"USER alice\r\n" + os.urandom(2000))
        assert c.closed(20)
    with tls_client(inst, "pop3") as c:
        c.login()
        c.ok("QUIT")


def test_plaintext_on_the_pop3s_port(inst):
    """A client speaking POP3 in clear to pop3s is dropped (no answer in
    clear); the listener keeps serving."""
    with POP3Client(inst, "pop3", address=(inst.addr, inst.ports["pop3s"]),
                    greet=False) as c:
        c.send("USER %s\r\nPASS %s\r\nSTAT\r\n" % (USER, PASSWORD))
        assert c.closed(20)
        assert b"+OK" not in c.buf, bytes(c.buf)
    with tls_client(inst) as c:
        c.login()
        c.ok("QUIT")


@pytest.mark.parametrize("listener", ["pop3", "pop3s"])
def test_malformed_input_before_login_over_tls(inst, listener):
    with tls_client(inst, listener) as c:
        for line in (b"NO\0OP", b"\xff\xfe\x00junk", os.urandom(64).replace(b"\n", b"").replace(b"\r", b""),
                     b"X" * (1 << 20), b"USER " + b"a" * 5000):
            r = c.cmd(line)
            assert r.startswith("-ERR"), (line[:30], r)
            assert c.capa()
        c.login()
        c.ok("QUIT")


# ---- failed logins --------------------------------------------------------------

def test_wrong_password_is_delayed(inst):
    src = ph.fresh_source()
    with tls_client(inst, source=src) as c:
        c.ok("USER " + USER)
        r, took = timed(c, "PASS wrong password")
        assert r.startswith("-ERR [AUTH]"), r
        assert took >= FAIL_DELAY - 0.05, took
        r, took = timed(c, "AUTH PLAIN " + ph.sasl_plain(password="wrong"))
        assert r.startswith("-ERR [AUTH]"), r
        assert took >= FAIL_DELAY - 0.05, took
        # two failures: the third try may still succeed
        c.login()
        assert c.cmd("STAT").startswith("+OK")
        c.ok("QUIT")


def test_unknown_user_answers_like_wrong_password(inst):
    src = ph.fresh_source()
    with tls_client(inst, source=src) as c:
        c.ok("USER nobody@example.test")        # no user enumeration here
        r, took = timed(c, "PASS " + PASSWORD)
        assert r.startswith("-ERR [AUTH]"), r
        assert took >= FAIL_DELAY - 0.05, took


def test_three_failures_close_the_connection_then_the_address_is_limited(inst):
    src, other = ph.fresh_source(), ph.fresh_source()
    with tls_client(inst, source=src) as c:
        for i in range(3):
            c.ok("USER " + USER)
            r = c.cmd("PASS wrong %d" % i)
            assert r.startswith("-ERR [AUTH]"), (i, r)
        assert c.closed(10), "open after three failed logins"
    # auth.max_failures (3) reached for src: even the right password is
    # refused, and the connection ends
    for listener in ("pop3s", "pop3"):
        with tls_client(inst, listener, source=src) as c:
            c.ok("USER " + USER)
            r = c.cmd("PASS " + PASSWORD)
            assert r.startswith("-ERR"), r
            assert c.closed(10), "open after a refusal over the limit"
    # another address is not affected
    with tls_client(inst, source=other) as c:
        c.login()
        assert c.cmd("STAT").startswith("+OK")
        c.ok("QUIT")
    assert ph.files(inst) == {"new": [], "cur": []}


# ---- exclusive access ---------------------------------------------------------

def test_second_session_gets_in_use(inst):
    put(inst, ph.message())
    a = ph.pop(inst, "pop3s")
    assert a.stat()[0] == 1
    a.dele(1)
    with pytest.raises(poplib.error_proto) as e:
        ph.pop(inst, "pop3s")
    assert e.value.args[0].startswith(b"-ERR [IN-USE]"), e.value.args
    with tls_client(inst, "pop3") as c:                # raw, AUTH PLAIN too
        r = c.cmd("AUTH PLAIN " + ph.sasl_plain())
        assert r.startswith("-ERR [IN-USE]"), r
        assert c.closed(10)       # the mail process cannot go back to AUTHORIZATION
    b = ph.pop(inst, "pop3s", user=BOB)                # another mailbox is free
    assert b.stat() == (0, 0)
    b.quit()
    # the holder is undisturbed and its DELE still applies
    assert a.stat()[0] == 0
    assert a.quit().startswith(b"+OK")
    assert ph.files(inst) == {"new": [], "cur": []}
    ph.wait_no_sessions(inst)
    put(inst, ph.message("after"))
    p = ph.pop(inst, "pop3s")
    assert p.stat()[0] == 1
    p.quit()


def test_in_use_is_not_a_failed_login(inst):
    """[IN-USE] refusals do not count against the address."""
    src = ph.fresh_source()
    a = ph.pop(inst, "pop3s")
    for _ in range(MAX_FAILURES + 1):
        with tls_client(inst, source=src) as c:
            c.ok("USER " + USER)
            r = c.cmd("PASS " + PASSWORD)
            assert r.startswith("-ERR [IN-USE]"), r
    a.quit()
    ph.wait_no_sessions(inst)
    with tls_client(inst, source=src) as c:
        c.login()
        c.ok("QUIT")


# ---- time limits (an instance of their own) ------------------------------------

@pytest.fixture(scope="module")
def slow():
    yield from ph.pop3_instance(pop3__timeout="2s", pop3__session_timeout="4s")


@pytest.fixture
def short(slow):
    ph.wait_no_sessions(slow)
    ph.clear_mailbox(slow)
    yield slow
    ph.close_all()


@pytest.mark.parametrize("listener", ["pop3", "pop3s"])
def test_idle_before_login_is_disconnected(short, listener):
    with POP3Client(short, listener, timeout=30) as c:
        t = time.monotonic()
        assert c.closed(30), "idle connection still open"
        assert time.monotonic() - t >= 1.5      # not before pop3.timeout
    ph.wait_no_sessions(short)


def test_silent_client_on_pop3s_is_disconnected(short):
    """No TLS handshake at all: the login process does not wait forever."""
    with POP3Client(short, "pop3", address=(short.addr, short.ports["pop3s"]),
                    greet=False, timeout=30) as c:
        assert c.closed(30), "a silent pop3s client is still connected"
    ph.wait_no_sessions(short)


@pytest.mark.parametrize("listener", ["pop3", "pop3s"])
def test_idle_session_is_disconnected_and_deletes_nothing(short, listener):
    names = [put(short, ph.message("m%d" % i)) for i in range(2)]
    with POP3Client(short, listener, timeout=30) as c:
        c.login()
        assert c.ok("DELE 1")
        c.retr(2)
        t = time.monotonic()
        assert c.closed(30), "idle session still open"
        assert time.monotonic() - t >= 1.5      # not before pop3.timeout
    ph.wait_no_sessions(short)
    assert ph.files(short) == {"new": names, "cur": []}


def test_busy_session_ends_at_session_timeout(short):
    """A client that keeps the session busy (NOOP every 0.5 s, well within
    pop3.timeout) is still disconnected after pop3.session_timeout; its
    DELE is not applied."""
    name = put(short, ph.message())
    with POP3Client(short, timeout=30) as c:
        c.login()
        assert c.ok("DELE 1")
        t = time.monotonic()

        def ended():
            try:
                r = c.cmd("NOOP")
            except (ph.POP3Error, OSError):
                return True
            if not r.startswith("+OK"):
                return c.closed(10)
            time.sleep(0.5)
            return False
        assert wait_for(ended, 40), "session still open after 40 s"
        assert time.monotonic() - t >= 2      # the session began before t
    ph.wait_no_sessions(short)
    assert ph.files(short) == {"new": [name], "cur": []}


@pytest.mark.parametrize("listener", ["pop3", "pop3s"])
def test_client_that_never_reads_is_dropped_with_bounded_memory(short, listener):
    """A client pipelines megabytes of LIST and never reads an answer: the
    processes do not buffer without bound (the writes block), and the
    session ends by the time limits, deleting nothing."""
    name = put(short, ph.message("x" * 1000))
    c = POP3Client(short, listener, timeout=60)
    c.login()
    assert c.ok("DELE 1")
    pids = ph.pop3_pids(short, "pop3") + ph.pop3_pids(short, "pop3-login")
    assert pids
    limit = (64 if ph.has_asan(pids[0]) else 16) * 1024
    flood = b"LIST\r\n" * (1 << 20)              # 6 MB of commands
    err = []

    def writer():
        try:
            c.sock.sendall(flood)
        except OSError as e:
            err.append(e)
    t = threading.Thread(target=writer, daemon=True)
    t.start()
    peak = {}

    def gone():
        for p in pids:
            hwm = ph.vm_kb(p, "VmHWM")
            if hwm is not None:
                peak[p] = max(peak.get(p, 0), hwm)
        return all(ph.proc_status(p) is None for p in pids)
    assert wait_for(gone, 60, interval=0.1), "the session never ended"
    c.close()
    t.join(30)
    for p, hwm in peak.items():
        assert hwm < limit, (p, hwm)
    ph.wait_no_sessions(short)
    assert ph.files(short) == {"new": [name], "cur": []}
