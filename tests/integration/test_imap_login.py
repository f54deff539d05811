"""imap-login (issue 7 item 1): the greeting and CAPABILITY, the plaintext
policy (imap.plaintext_auth = no here: LOGINDISABLED and [PRIVACYREQUIRED]
before TLS), STARTTLS (RFC 3501 6.2.1, RFC 2595) and IMAPS, LOGIN with
quoted strings and literals (synchronising and LITERAL+), AUTHENTICATE
PLAIN with SASL-IR (RFC 4959) and continuation, "*" cancel, ID, NOOP,
LOGOUT, failed logins delayed by auth.fail_delay, three per connection,
auth.max_failures per client address shared with POP3, hostile input
answered with a precise BAD, the idle timeout, master's per-address cap,
and the confinement of imap-login from /proc.

A successful login is handed to the real imap mail process, which answers
the handed-over tag; pipelined commands reach it in order through the
handoff's input and the TLS proxy.  A missing mail program gets
BYE [UNAVAILABLE]."""
import base64
import imaplib
import os
import select
import time

import pytest

import imap_helpers as ih
import pop3_helpers as ph
from conftest import needs_root, proc_status, wait_for
from imap_helpers import IMAPClient
from smtp_helpers import PASSWORD, USER
from test_smtpd_privsep import assert_holds_none_of, assert_unprivileged

pytestmark = needs_root

FAIL_DELAY = 1.0        # auth.fail_delay
MAX_FAILURES = 3        # auth.max_failures
IDLE = 6                # imap.timeout (seconds)
PER_IP = 4              # imap.max_sessions_per_ip


@pytest.fixture(scope="module")
def srv():
    gen = ih.imap_instance(imap__plaintext_auth="no", auth__max_failures=str(MAX_FAILURES),
                           auth__fail_delay="%ds" % FAIL_DELAY, imap__timeout="%ds" % IDLE,
                           imap__max_sessions_per_ip=str(PER_IP))
    i = next(gen)
    try:
        yield i
    finally:
        gen.close()


@pytest.fixture
def inst(srv):
    ih.wait_no_sessions(srv)
    yield srv
    ih.close_all()


def tls(inst, listener="imaps", source=None, timeout=30):
    """A raw client in TLS: IMAPS, or imap after STARTTLS."""
    c = IMAPClient(inst, listener, source=source, timeout=timeout)
    assert c.greeting.startswith("* OK"), c.greeting
    if listener == "imap":
        c.starttls()
    return c


def logged_in(line, tag, listener="imaps"):
    """The mail process's answer to a handed-over login (the listener and
    the TLS proxy are checked from /proc in test_imap_privsep.py)."""
    assert line.startswith("%s OK [CAPABILITY IMAP4rev1 " % tag) and \
        line.endswith("] Logged in"), line


def login(tag, user=USER, password=PASSWORD):
    """A LOGIN command line with quoted strings (the password has spaces)."""
    return '%s LOGIN "%s" "%s"' % (tag, user, password)


def plain(user=USER, password=PASSWORD):
    return base64.b64encode(("\0%s\0%s" % (user, password)).encode()).decode()


def timed(c, line):
    t = time.monotonic()
    r = c.cmd(line)
    return r, time.monotonic() - t


# ---- greeting, CAPABILITY, plaintext policy ------------------------------------

def test_greeting_and_capability_before_and_after_starttls(inst):
    with IMAPClient(inst) as c:
        assert c.greeting.startswith("* OK [CAPABILITY IMAP4rev1 ") and \
            c.greeting.endswith("] postern ready."), c.greeting
        caps = c.caps()
        assert "IMAP4rev1" in caps and "STARTTLS" in caps and "LOGINDISABLED" in caps, caps
        assert "SASL-IR" in caps and "ID" in caps and "LITERAL+" in caps, caps
        assert not [x for x in caps if x.startswith("AUTH=")], caps
        c.starttls()
        caps = c.caps()
        assert "AUTH=PLAIN" in caps, caps
        assert "STARTTLS" not in caps and "LOGINDISABLED" not in caps, caps
        assert c.last("s1 STARTTLS").startswith("s1 BAD"), "TLS is on already"
        assert c.last("n1 NOOP") == "n1 OK NOOP completed."


def test_capability_on_imaps(inst):
    with tls(inst) as c:
        assert "[CAPABILITY " in c.greeting and "AUTH=PLAIN" in c.greeting, c.greeting
        caps = c.caps()
        assert "AUTH=PLAIN" in caps and "STARTTLS" not in caps, caps
        assert c.last("s1 STARTTLS").startswith("s1 BAD")


def test_imaplib_sees_logindisabled(inst):
    m = ih.imap(inst)
    assert "LOGINDISABLED" in m.capabilities and "STARTTLS" in m.capabilities
    with pytest.raises(imaplib.IMAP4.error) as e:
        m.login(USER, PASSWORD)
    assert "PRIVACYREQUIRED" in str(e.value), e.value
    assert m.logout()[0] == "BYE"


def test_plaintext_credentials_refused_before_tls(inst):
    """LOGIN and AUTHENTICATE PLAIN in clear get NO [PRIVACYREQUIRED]
    without asking auth (no "+" either); they are not failed logins."""
    src = ph.fresh_source()
    for _ in range(2):
        with IMAPClient(inst, source=src) as c:
            for line in (login("a"), "b AUTHENTICATE PLAIN " + plain(),
                         "c AUTHENTICATE PLAIN"):
                r = c.cmd(line)
                assert len(r) == 1 and r[0].startswith(line[0] + " NO [PRIVACYREQUIRED]"), r
            assert c.last("d NOOP").startswith("d OK")
    with tls(inst, "imap", source=src) as c:
        logged_in(c.last(login("e")), "e", "imap")


# ---- logging in ----------------------------------------------------------------

def test_starttls_then_login_with_imaplib(inst):
    m = ih.imap(inst, starttls=True)
    assert "AUTH=PLAIN" in m.capabilities and "LOGINDISABLED" not in m.capabilities
    typ, data = m.login(USER, PASSWORD)
    assert typ == "OK" and data[0].startswith(b"[CAPABILITY IMAP4rev1 "), (typ, data)


def test_imaps_with_imaplib(inst):
    m = ih.imap(inst, "imaps")
    typ, data = m.login(USER, PASSWORD)
    assert typ == "OK" and data[0].endswith(b"] Logged in"), (typ, data)


def test_authenticate_with_imaplib_continuation(inst):
    m = ih.imap(inst, "imaps")
    typ, data = m.authenticate("PLAIN", lambda _: ("\0%s\0%s" % (USER, PASSWORD)).encode())
    assert typ == "OK" and data[0].startswith(b"[CAPABILITY IMAP4rev1 "), (typ, data)


@pytest.mark.parametrize("listener", ["imap", "imaps"])
def test_authenticate_sasl_ir_and_continuation(inst, listener):
    with tls(inst, listener) as c:
        logged_in(c.last("a1 AUTHENTICATE PLAIN " + plain()), "a1", listener)
    with tls(inst, listener) as c:
        c.send("a2 authenticate plain\r\n")
        assert c.line() == "+ "
        c.send(plain() + "\r\n")
        logged_in(c.line(), "a2", listener)


def test_authenticate_cancel_and_bad_responses(inst):
    src = ph.fresh_source()
    with tls(inst, source=src) as c:
        c.send("a AUTHENTICATE PLAIN\r\n")
        assert c.line() == "+ "
        c.send("*\r\n")
        assert c.line() == "a BAD Authentication cancelled"
        c.send("b AUTHENTICATE PLAIN\r\n")
        assert c.line() == "+ "
        c.send("not base64!\r\n")
        assert c.line() == "b BAD Invalid PLAIN response"
        assert c.last("c AUTHENTICATE PLAIN =") == "c BAD Invalid PLAIN response"
        assert c.last("d AUTHENTICATE CRAM-MD5").startswith("d NO ")
        assert c.last("e AUTHENTICATE PLAIN " + base64.b64encode(
            ("bob\0%s\0%s" % (USER, PASSWORD)).encode()).decode()).startswith("e BAD")
        # none of these was a failed login: the session goes on
        logged_in(c.last("f AUTHENTICATE PLAIN " + plain()), "f")


def test_login_with_literals(inst):
    """Synchronising literals get "+", LITERAL+ ones do not; the password
    may hold anything but NUL, CR and LF."""
    with tls(inst) as c:
        c.send("a LOGIN {%d}\r\n" % len(USER))
        assert c.line().startswith("+ ")
        c.send("%s {%d}\r\n" % (USER, len(PASSWORD)))
        assert c.line().startswith("+ ")
        c.send(PASSWORD + "\r\n")
        logged_in(c.line(), "a")
    with tls(inst) as c:
        c.send("b LOGIN {%d+}\r\n%s {%d+}\r\n%s\r\n" % (len(USER), USER, len(PASSWORD), PASSWORD))
        logged_in(c.line(), "b")
    with tls(inst) as c:
        logged_in(c.last('c LOGIN "%s" "%s"' % (USER, PASSWORD)), "c")


@pytest.mark.parametrize("listener", ["imap", "imaps"])
def test_pipelined_input_is_handed_over(inst, listener):
    """Commands behind LOGIN in one write reach the mail process in order,
    through the handoff's input and the TLS proxy, exactly once."""
    with tls(inst, listener) as c:
        c.send(login("a") + "\r\nb NOOP\r\n" +
               "".join("n%d NOOP\r\n" % i for i in range(2000)) + "z LOGOUT\r\n")
        logged_in(c.line(), "a", listener)
        assert c.line() == "b OK NOOP completed"
        for i in range(2000):
            assert c.line() == "n%d OK NOOP completed" % i
        assert c.line() == "* BYE Logging out"
        assert c.line() == "z OK LOGOUT completed"
        assert c.closed(20)


def test_plain_handoff_with_the_loopback_policy(inst):
    """imap.plaintext_auth = loopback (the default) lets a 127/8 client log
    in without TLS: the TCP socket itself goes to the mail process with the
    tag and the pipelined input, and imap-login is gone.  (imap-login reads
    the config at each connection: no reload needed.)"""
    inst.configure(imap__plaintext_auth="loopback")
    try:
        with IMAPClient(inst) as c:
            assert "AUTH=PLAIN" in c.greeting and "LOGINDISABLED" not in c.greeting, c.greeting
            c.send(login("p1") + "\r\np2 NOOP\r\np3 LOGOUT\r\n")
            logged_in(c.line(), "p1", "imap")
            assert c.line() == "p2 OK NOOP completed"
            assert c.line() == "* BYE Logging out"
            assert c.line() == "p3 OK LOGOUT completed"
            assert c.closed(10)
    finally:
        inst.configure(imap__plaintext_auth="no")
    with IMAPClient(inst) as c:
        assert "LOGINDISABLED" in c.greeting, c.greeting


# ---- commands that need no credentials ---------------------------------------

def test_noop_id_logout(inst):
    with IMAPClient(inst) as c:
        assert c.cmd("a NOOP") == ["a OK NOOP completed."]
        r = c.cmd("b ID NIL")
        assert r == ['* ID ("name" "postern")', "b OK ID completed."], r
        r = c.cmd('c ID ("name" "test-client" "version" "1.0")')
        assert r[-1] == "c OK ID completed.", r
        r = c.cmd("d LOGOUT")
        assert r == ["* BYE Logging out", "d OK Logout completed."], r
        assert c.closed(10)


def test_commands_of_later_states_are_refused(inst):
    with IMAPClient(inst) as c:
        assert c.last("a ENABLE CONDSTORE") == "a BAD ENABLE not allowed before authentication"
        assert c.last("b SELECT INBOX") == "b BAD SELECT not allowed before authentication"
        assert c.last("c UID FETCH 1:* FLAGS").startswith("c BAD")
        assert c.last("d NOOP").startswith("d OK")


def test_plaintext_pipelined_after_starttls_is_not_executed(inst):
    """RFC 2595 3.1 / CVE-2011-0411: commands sent in clear behind
    STARTTLS are discarded, never run inside TLS."""
    with IMAPClient(inst) as c:
        c.send("s STARTTLS\r\nx CAPABILITY\r\ny LOGOUT\r\n")
        assert c.line() == "s OK Begin TLS negotiation now."
        assert not c.buf, "answer to injected commands in clear: %r" % bytes(c.buf)
        c.sock = ih.insecure_context().wrap_socket(c.sock, server_hostname=ih.TLS_NAME)
        assert c.cmd("n NOOP") == ["n OK NOOP completed."]


def test_junk_instead_of_tls_handshake(inst):
    with IMAPClient(inst) as c:
        assert c.last("s STARTTLS").startswith("s OK")
        c.send(b"a LOGIN x y\r\n" + os.urandom(2000))
        assert c.closed(20)
    with IMAPClient(inst, "imap", address=(inst.addr, inst.ports["imaps"]), greet=False) as c:
        c.send(login("a") + "\r\n")
        assert c.closed(20)
        assert b"OK" not in c.buf, bytes(c.buf)
    with tls(inst) as c:
        assert c.last("a NOOP").startswith("a OK")


# ---- hostile input ---------------------------------------------------------------

def test_hostile_input_gets_precise_bad(inst):
    with tls(inst) as c:
        assert c.last(b"a NO\0OP") == "a BAD Unknown command"
        assert c.last(b"b LOGIN \"al\0ice\" x") == "b BAD Invalid string"
        assert c.last(b"c " + b"X" * (1 << 20)) == "c BAD Command line too long"
        assert c.last('d ID ("name" "x"') == "d BAD Missing argument"
        c.send(b"\xff\xfe junk \x80\r\n")
        assert c.line() == "* BAD Invalid tag"
        # announced but never sent: no "+", a BAD, the next command works
        assert c.cmd("e LOGIN {4294967295}") == ["e BAD Literal too big"]
        assert c.cmd("f LOGIN {99999999999}") == ["f BAD Invalid literal"]
        assert c.last("g NOOP") == "g OK NOOP completed."
        # a non-synchronising literal over the limit is read and dropped
        c.send(b"h LOGIN {9000+}\r\n" + b"x" * 9000 + b" y\r\n")
        assert c.line() == "h BAD Literal too big"
        assert c.last("i NOOP") == "i OK NOOP completed."
        assert c.last("j LOGIN") == "j BAD Missing argument"


def test_huge_non_synchronising_literal_ends_the_session(inst):
    with tls(inst) as c:
        c.send("a LOGIN {4294967295+}\r\n")
        assert c.line() == "a BAD Literal too big"
        assert c.line() == "* BYE Literal too large"
        assert c.closed(10)


def test_too_many_bad_commands(inst):
    with IMAPClient(inst) as c:
        for i in range(9):
            assert c.last("b%d FOO" % i) == "b%d BAD Unknown command" % i
        c.send("b9 FOO\r\n")
        assert c.line() == "* BYE Too many invalid commands"
        assert c.closed(10)


# ---- failed logins --------------------------------------------------------------

def test_wrong_password_is_delayed(inst):
    src = ph.fresh_source()
    with tls(inst, source=src) as c:
        r, took = timed(c, login("a", password="wrong"))
        assert r == ["a NO [AUTHENTICATIONFAILED] Authentication failed."], r
        assert took >= FAIL_DELAY - 0.05, took
        r, took = timed(c, "b AUTHENTICATE PLAIN " + plain(password="wrong"))
        assert r == ["b NO [AUTHENTICATIONFAILED] Authentication failed."], r
        assert took >= FAIL_DELAY - 0.05, took
        logged_in(c.last(login("c")), "c")


def test_unknown_user_answers_like_wrong_password(inst):
    with tls(inst, source=ph.fresh_source()) as c:
        r, took = timed(c, login("a", user="nobody@example.test"))
        assert r == ["a NO [AUTHENTICATIONFAILED] Authentication failed."], r
        assert took >= FAIL_DELAY - 0.05, took


def test_three_failures_bye_then_the_address_is_limited_for_pop3_too(inst):
    src, other = ph.fresh_source(), ph.fresh_source()
    with tls(inst, source=src) as c:
        for i in range(2):
            assert c.last(login("a%d" % i, password="wrong")).startswith(
                "a%d NO [AUTHENTICATIONFAILED]" % i)
        r = c.cmd(login("a2", password="wrong"))
        assert r == ["* BYE Too many authentication failures",
                     "a2 NO [AUTHENTICATIONFAILED] Authentication failed."], r
        assert c.closed(10)
    # auth.max_failures reached for src: the right password is refused too
    with tls(inst, "imap", source=src) as c:
        r = c.cmd(login("b"))
        assert r[-1].startswith("b NO [AUTHENTICATIONFAILED]") and r[0].startswith("* BYE"), r
        assert c.closed(10)
    # the limit is auth's, per address, whatever the service
    with ph.POP3Client(inst, "pop3", source=src) as p:
        p.ok("USER " + USER)
        assert p.cmd("PASS " + PASSWORD).startswith("-ERR [AUTH]")
        assert p.closed(10)
    with tls(inst, source=other) as c:
        logged_in(c.last(login("c")), "c")


# ---- the mail program missing, the session caps ---------------------------------

def test_missing_mail_program_is_unavailable(inst):
    """A verified login whose mail program is not installed: BYE
    [UNAVAILABLE] and a tagged NO, master logs it and keeps serving."""
    ih.remove_imap(inst)
    try:
        with tls(inst) as c:
            r = c.cmd(login("a"))
            assert r == ["* BYE [UNAVAILABLE] Cannot open the mailbox now, try again later",
                         "a NO [UNAVAILABLE] Login failed temporarily."], r
            assert c.closed(10)
        assert wait_for(lambda: "imap is not installed" in inst.log(), 10), inst.log()[-2000:]
        m = ih.imap(inst, "imaps")
        with pytest.raises(imaplib.IMAP4.abort):
            m.login(USER, PASSWORD)
        assert inst.running("master") or inst.pid("master")
    finally:
        ih.install_imap(inst)
    with tls(inst) as c:
        logged_in(c.last(login("b")), "b")


def sessions_line(inst):
    r = inst.postern("status", timeout=15)
    assert r.returncode == 0, r.stderr
    for line in r.stdout.splitlines():
        if line.startswith("sessions "):
            return dict(f.split("=") for f in line.split()[1:])
    raise AssertionError("no sessions line in:\n" + r.stdout)


def test_sessions_per_ip_and_status(inst):
    """imap.max_sessions_per_ip: one more connection from the address gets
    "* BYE [UNAVAILABLE]" from master; another address does not; postern
    status counts imap and imaps."""
    src = ph.fresh_source()
    held = [IMAPClient(inst, "imap", source=src) for _ in range(PER_IP - 1)]
    held.append(tls(inst, "imaps", source=src))
    assert wait_for(lambda: sessions_line(inst).get("imap") == str(PER_IP - 1) and
                    sessions_line(inst).get("imaps") == "1", 10), sessions_line(inst)
    with IMAPClient(inst, "imap", source=src, greet=False) as c:
        assert c.line().startswith("* BYE [UNAVAILABLE]")
        assert c.closed(10)
    with IMAPClient(inst, "imap", source=ph.fresh_source()) as c:
        assert c.greeting.startswith("* OK")
    for c in held:
        c.close()
    assert wait_for(lambda: sessions_line(inst).get("imap") == "0" and
                    sessions_line(inst).get("imaps") == "0", 15), sessions_line(inst)


# ---- time ---------------------------------------------------------------------------

@pytest.mark.parametrize("listener", ["imap", "imaps"])
def test_idle_client_is_logged_out(inst, listener):
    with IMAPClient(inst, listener, timeout=60) as c:
        t = time.monotonic()
        assert c.line(timeout=60) == "* BYE Disconnected for inactivity"
        assert time.monotonic() - t >= IDLE - 0.5      # not before imap.timeout
        assert c.closed(10)


def noop_until_bye(c):
    """NOOP every 0.5 s (within imap.timeout) until the server says BYE;
    the lines read.  Never writes after the BYE: reads it if it is there."""
    lines = []

    def ended():
        if c.buf or select.select([c.sock], [], [], 0)[0]:
            lines.append(c.line())
            return True
        lines.extend(c.cmd("n NOOP"))
        if lines[-1].startswith("* BYE"):
            return True
        time.sleep(0.5)
        return False
    assert wait_for(ended, 40), lines[-3:]
    return lines


def test_busy_client_is_logged_out_at_the_session_limit(inst):
    """A client that keeps busy before login still gets BYE at
    imap.session_timeout.  imap-login reads the config at each connection,
    so the key is set for this test only."""
    inst.configure(imap__session_timeout="4s")
    try:
        with IMAPClient(inst, timeout=60) as c:
            t = time.monotonic()
            lines = noop_until_bye(c)
            assert lines[-1] == "* BYE Session time limit exceeded", lines[-3:]
            assert time.monotonic() - t >= 3.5
            assert c.closed(10)
    finally:
        inst.configure(imap__session_timeout=None)


@pytest.mark.parametrize("idle", [False, True])
def test_logged_in_client_is_logged_out(inst, idle):
    """The imap mail process ends a session that stays silent for
    imap.timeout, in IDLE too (RFC 2177: clients re-IDLE within 29 min)."""
    with tls(inst, timeout=60) as c:
        logged_in(c.last(login("a")), "a")
        assert c.last("b SELECT INBOX").startswith("b OK")
        if idle:
            c.send("c IDLE\r\n")
            assert c.line().startswith("+ ")
        t = time.monotonic()
        assert c.line(timeout=60) == "* BYE Autologout; idle for too long"
        assert time.monotonic() - t >= IDLE - 0.5      # not before imap.timeout
        assert c.closed(10)


def test_busy_session_ends_at_the_session_limit(inst):
    """After login too, the mail process ends a busy session at
    imap.session_timeout."""
    inst.configure(imap__session_timeout="4s")
    try:
        with tls(inst, timeout=60) as c:
            logged_in(c.last(login("a")), "a")
            t = time.monotonic()
            lines = noop_until_bye(c)
            assert lines[-1] == "* BYE Session time limit exceeded", lines[-3:]
            assert time.monotonic() - t >= 3.5
            assert c.closed(10)
    finally:
        inst.configure(imap__session_timeout=None)


# ---- confinement --------------------------------------------------------------

def test_login_process_is_confined(inst):
    with tls(inst, "imap") as c:
        assert c.caps()
        pids = ih.imap_pids(inst, "imap-login")
        assert len(pids) == 1, pids
        pid = pids[0]
        assert int(proc_status(pid)["PPid"]) == inst.pid("master")
        assert_unprivileged(inst, pid, "login", ("login", "authc", "tls"),
                            os.path.join(inst.runtime, "empty"))
        forbidden = [inst.spool, inst.mail, os.path.realpath(inst.key), inst.key,
                     os.path.join(inst.etc, "users.cdb"), os.path.join(inst.etc, "users")]
        fds = assert_holds_none_of(pid, forbidden, "imap-login")
        assert fds[0][0] == fds[1][0] and fds[0][0].startswith("socket:"), fds
        assert fds[2][0].startswith("pipe:"), fds
        assert 3 in fds and fds[3][0].startswith("socket:"), fds   # channel to master
        assert ih.imap_pids(inst, "imap") == []
