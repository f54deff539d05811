"""POP3 protocol (RFC 1939, 2449, 5034) with poplib, raw sockets and
fetchmail, on one instance with the default pop3.plaintext_auth (loopback:
the tests' 127.x clients may log in without TLS).  Messages are written
straight into alice's Maildir (exact bytes) or delivered over SMTP.

What is checked: every command in AUTHORIZATION and TRANSACTION, good and
bad; LIST/STAT sizes equal the octets RETR sends; byte-stuffing; LF-only
files sent with CRLF; TOP; UIDL stable across sessions, flag changes and
new/ -> cur/; the session's fixed view; seen marking and deletion only at
QUIT ([SYS/TEMP] when that fails); dropped connections change nothing;
RSET; hostile input (NULs, 1 MB lines, junk, odd Maildir entries, user
names); SMTP delivery during a session; fetchmail end to end.  The 20 MB
bounded-memory test is in test_pop3_privsep.py (it reads /proc)."""
import os
import re
import shutil
import time

import pytest

import pop3_helpers as ph
from conftest import needs_root, wait_for
from pop3_helpers import BOB, POP3Client, PASSWORD, USER, put, wire
from smtp_helpers import SMTPClient

pytestmark = needs_root


LONG_USER = "long@example.test"
LONG_PASSWORD = "p" * 150 + " with spaces " + "q" * 150


@pytest.fixture(scope="module")
def srv():
    # failed logins are timed in test_pop3_login.py; here they need not wait
    yield from ph.pop3_instance(users={BOB: PASSWORD, LONG_USER: LONG_PASSWORD},
                                auth__fail_delay="0s")


@pytest.fixture
def inst(srv):
    """srv with no POP3 session left over and an empty INBOX for alice."""
    ph.wait_no_sessions(srv)
    ph.clear_mailbox(srv)
    yield srv
    ph.close_all()


def session(inst, **kw):
    """A raw client, logged in as alice with USER/PASS."""
    c = POP3Client(inst, **kw)
    assert c.greeting.startswith("+OK"), c.greeting
    c.login()
    return c


def quit_ok(c):
    """QUIT answered +OK (the UPDATE state is done), then EOF."""
    r = c.cmd("QUIT")
    assert r.startswith("+OK"), r
    assert c.closed(10), "connection open after QUIT"
    c.close()


# ---- AUTHORIZATION ------------------------------------------------------------

def test_greeting_and_capa_before_login(inst):
    with POP3Client(inst) as c:
        assert re.match(r"^\+OK( |$)", c.greeting), c.greeting
        caps = c.capa()
        names = [l.split(" ")[0].upper() for l in caps]
        for want in ("USER", "SASL", "STLS", "TOP", "UIDL", "RESP-CODES",
                     "AUTH-RESP-CODE"):
            assert want in names, (want, caps)
        sasl = [l for l in caps if l.upper().startswith("SASL ")][0]
        assert "PLAIN" in sasl.upper().split()[1:], sasl
        # CAPA does not end the AUTHORIZATION state or the connection
        assert c.cmd("STAT").startswith("-ERR")
        c.login()
        assert c.cmd("STAT").startswith("+OK")


def test_capa_after_login(inst):
    put(inst, ph.message())
    with session(inst) as c:
        caps = c.capa()
        names = [l.split(" ")[0].upper() for l in caps]
        assert "TOP" in names and "UIDL" in names, caps
        # RFC 2449 5: "Capabilities available in the AUTHORIZATION state
        # MUST be announced in both states" (6.2 USER, 6.3 SASL: "both")
        assert "USER" in names and "SASL" in names, caps
        assert c.cmd("STAT").startswith("+OK 1 ")
        quit_ok(c)


def test_poplib_user_pass_on_loopback(inst):
    """pop3.plaintext_auth = loopback (the default) lets a 127.x client log
    in without TLS."""
    data = ph.message("poplib", "one\r\ntwo\r\n")
    put(inst, data)
    p = ph.pop(inst, login=False)
    assert p.getwelcome().startswith(b"+OK")
    assert p.user(USER).startswith(b"+OK")
    assert p.pass_(PASSWORD).startswith(b"+OK")
    assert p.stat() == (1, len(data))
    resp, lines, octets = p.retr(1)
    assert resp.startswith(b"+OK") and b"\r\n".join(lines) + b"\r\n" == data
    assert octets == len(data)
    assert p.quit().startswith(b"+OK")


def test_auth_plain_initial_response(inst):
    put(inst, ph.message())
    with POP3Client(inst) as c:
        r = c.cmd("AUTH PLAIN " + ph.sasl_plain())
        assert r.startswith("+OK"), r
        assert ph.stat_of(c.ok("STAT"))[0] == 1
        quit_ok(c)


def test_auth_plain_continuation(inst):
    put(inst, ph.message())
    with POP3Client(inst) as c:
        r = c.cmd("auth plain")           # keywords are case-insensitive
        assert r == "+" or r.startswith("+ "), r
        r = c.cmd(ph.sasl_plain())
        assert r.startswith("+OK"), r
        assert ph.stat_of(c.ok("STAT"))[0] == 1
        quit_ok(c)


def test_auth_plain_continuation_longer_than_a_command_line(inst):
    """RFC 5034 4: the 255-octet line limit is not for SASL responses; a
    300-octet password works with AUTH PLAIN (and not with PASS)."""
    with POP3Client(inst, source=ph.fresh_source()) as c:
        r = c.cmd("AUTH PLAIN")
        assert r == "+" or r.startswith("+ "), r
        b64 = ph.sasl_plain(LONG_USER, LONG_PASSWORD)
        assert len(b64) > 400
        r = c.cmd(b64)
        assert r.startswith("+OK"), r
        quit_ok(c)


def test_auth_plain_with_own_authzid(inst):
    with POP3Client(inst) as c:
        r = c.cmd("AUTH PLAIN " + ph.sasl_plain(authzid=USER))
        assert r.startswith("+OK"), r
        quit_ok(c)


@pytest.mark.parametrize("steps", [
    ["AUTH PLAIN", "*"],                                  # cancelled (RFC 5034 4)
    ["AUTH PLAIN", "%%%not base64%%%"],
    ["AUTH PLAIN !!!!"],
    ["AUTH PLAIN ="],                                     # empty response
    ["AUTH PLAIN " + ph.sasl_plain(authzid=BOB)],         # no proxy authorization
    ["AUTH PLAIN " + ph.sasl_plain(user="")],
    ["AUTH CRAM-MD5"],
    ["AUTH PLAIN " + "QUFB" * 1000],                       # over-long line
], ids=["cancel", "bad-b64-cont", "bad-b64-ir", "empty", "authzid", "no-authcid",
        "mechanism", "too-long"])
def test_auth_refused_forms(inst, steps):
    with POP3Client(inst, source=ph.fresh_source()) as c:
        for s in steps[:-1]:
            r = c.cmd(s)
            assert r == "+" or r.startswith("+ "), (s, r)
        r = c.cmd(steps[-1])
        assert r.startswith("-ERR"), (steps, r)
        # still in AUTHORIZATION, still serving
        assert c.cmd("STAT").startswith("-ERR")
        assert c.capa()
        c.login()
        assert c.cmd("STAT").startswith("+OK")
        quit_ok(c)


def test_user_before_stls_is_forgotten(inst):
    """RFC 2595 4: STLS starts the AUTHORIZATION over; a USER sent in clear
    must not pair with a PASS sent in TLS."""
    with POP3Client(inst) as c:
        c.ok("USER " + USER)
        c.stls()
        r = c.cmd("PASS " + PASSWORD)
        assert r.startswith("-ERR"), r
        c.login()
        quit_ok(c)


def test_wrong_password_plain(inst):
    with POP3Client(inst, source=ph.fresh_source()) as c:
        c.ok("USER " + USER)
        r = c.cmd("PASS not the password", timeout=30)
        assert r.startswith("-ERR [AUTH]"), r
        c.ok("USER " + USER)               # a new USER/PASS round may follow
        c.ok("PASS " + PASSWORD)
        quit_ok(c)


@pytest.mark.parametrize("user", [
    "../../../etc/passwd@example.test", "alice@example.test/../bob", "alice/@example.test",
    "a" * 250 + "@example.test", "alice@example.test\xff", "%2e%2e@example.test",
    "alice", "@example.test", "alice@",
])
def test_hostile_user_names_refused(inst, user):
    with POP3Client(inst, source=ph.fresh_source(), timeout=30) as c:
        r = c.cmd("USER " + user)
        if r.startswith("+OK"):
            r = c.cmd("PASS " + PASSWORD)
        assert r.startswith("-ERR"), (user, r)
        r = c.cmd("AUTH PLAIN " + ph.sasl_plain(user=user))
        assert r.startswith("-ERR"), (user, r)
        c.login()
        quit_ok(c)


@pytest.mark.parametrize("line", [
    "STAT", "LIST", "LIST 1", "RETR 1", "DELE 1", "NOOP", "RSET", "TOP 1 0", "UIDL",
    "PASS " + PASSWORD, "XYZZY", "APOP alice 0123456789abcdef0123456789abcdef",
    "USER", "", " ", "USER\tx",
])
def test_authorization_state_refuses(inst, line):
    with POP3Client(inst) as c:
        r = c.cmd(line)
        assert r.startswith("-ERR"), (line, r)
        c.login()
        quit_ok(c)


def test_pipelined_login_and_commands(inst):
    """USER, PASS, STAT, LIST, UIDL, QUIT in one write: the PASS answer comes
    from the mail process, which also runs what was pipelined after it."""
    data = ph.message("pipelined")
    name = put(inst, data)
    with POP3Client(inst) as c:
        c.send("USER %s\r\nPASS %s\r\nSTAT\r\nLIST\r\nUIDL\r\nQUIT\r\n" % (USER, PASSWORD))
        assert c.line().startswith("+OK")
        assert c.line().startswith("+OK")
        assert ph.stat_of(c.line()) == (1, len(data))
        assert c.line().startswith("+OK")
        assert ph.scan_list(c.multi()) == {1: len(data)}
        assert c.line().startswith("+OK")
        assert ph.uidl_map(c.multi()) == {1: name}
        assert c.line().startswith("+OK")
        assert c.closed(10)


def test_pipelined_flood_through_the_handoff(inst):
    """20 KB of NOOPs pipelined behind PASS (more than the login process
    passes on at handoff): every one answered once, in order."""
    put(inst, ph.message())
    n = 4000
    with POP3Client(inst, timeout=30) as c:
        c.send("USER %s\r\nPASS %s\r\n" % (USER, PASSWORD) + "NOOP\r\n" * n + "STAT\r\n")
        assert c.line().startswith("+OK")
        assert c.line().startswith("+OK")
        for i in range(n):
            r = c.line()
            assert r.startswith("+OK"), (i, r)
        assert ph.stat_of(c.line())[0] == 1
        quit_ok(c)


def test_pipelined_after_a_failed_login(inst):
    """Lines pipelined behind a refused PASS are kept: the next USER/PASS
    succeeds and what follows it reaches the mail process."""
    put(inst, ph.message())
    with POP3Client(inst, source=ph.fresh_source()) as c:
        c.send("USER %s\r\nPASS wrong\r\nUSER %s\r\nPASS %s\r\nSTAT\r\n" %
               (USER, USER, PASSWORD))
        assert c.line().startswith("+OK")
        assert c.line().startswith("-ERR [AUTH]")
        assert c.line().startswith("+OK")
        assert c.line().startswith("+OK")
        assert ph.stat_of(c.line())[0] == 1
        quit_ok(c)


@pytest.mark.parametrize("listener", ["pop3", "pop3s"])
def test_partial_line_across_the_handoff(inst, listener):
    """The first half of a command sent with PASS, the rest after the
    answer: the mail process joins them (nothing lost at the handoff)."""
    name = put(inst, ph.message("one"))
    keep = put(inst, ph.message("two"))
    with POP3Client(inst, listener, timeout=5) as c:
        c.send("USER %s\r\nPASS %s\r\nDE" % (USER, PASSWORD))
        assert c.line().startswith("+OK")
        assert c.line().startswith("+OK")
        c.send("LE 1\r\n")
        assert c.line().startswith("+OK"), "DELE split across the handoff"
        assert ph.stat_of(c.ok("STAT"))[0] == 1
        quit_ok(c)
    assert ph.files(inst) == {"new": [keep], "cur": []} and name


@pytest.mark.parametrize("listener", ["pop3", "pop3s"])
@pytest.mark.parametrize("state", ["authorization", "transaction"])
def test_partial_line_after_a_command(inst, listener, state):
    """A write that ends in the middle of the next command ("NOOP\\r\\nST"):
    the complete command is answered at once, not held back until the
    rest of the line arrives (the client is waiting for that answer)."""
    put(inst, ph.message())
    with POP3Client(inst, listener, timeout=5) as c:
        if state == "transaction":
            c.login()
            c.send("NOOP\r\nST")
        else:
            c.send("CAPA\r\nUS")
        r = c.line()
        assert r.startswith("+OK"), r
        if state == "transaction":
            c.send("AT\r\n")
            assert ph.stat_of(c.line())[0] == 1
        else:
            c.multi()
            c.send("ER %s\r\n" % USER)
            assert c.line().startswith("+OK")
            c.ok("PASS " + PASSWORD)
        quit_ok(c)


def test_pipelined_auth_plain(inst):
    put(inst, ph.message())
    with POP3Client(inst) as c:
        c.send("AUTH PLAIN %s\r\nNOOP\r\nSTAT\r\n" % ph.sasl_plain())
        assert c.line().startswith("+OK")
        assert c.line().startswith("+OK")
        assert ph.stat_of(c.line())[0] == 1
        quit_ok(c)


def test_quit_in_authorization(inst):
    put(inst, ph.message())
    before = ph.files(inst)
    with POP3Client(inst) as c:
        c.ok("USER " + USER)
        quit_ok(c)
    assert ph.files(inst) == before


# ---- TRANSACTION ----------------------------------------------------------------

MESSAGES = [
    ph.message("crlf", "line one\r\nline two\r\n"),
    ph.message("lf only", "line one\nline two\n", eol="\n"),
    ph.message("no final newline", "last line without end"),
    ph.message("dots", ".\r\n..\r\n.x\r\n...\r\nmiddle . dot\r\n.\r\n"),
    ph.message("lf dots", ".\n..\n.x\nend\n", eol="\n"),
    ph.message("bare cr", "a\rb\r\nc\n"),
    b"Subject: only a header, no body\r\n",
    b"\r\n\r\n",
    b"Subject: 8 bit\r\n\r\nNUL \x00 and \xff\xfe and \x1b[0m\r\n",
    b"Subject: long line\r\n\r\n" + b"y" * 100000 + b"\r\n.\r\n",
]


def test_stat_list_sizes_equal_retr_octets(inst):
    names = [put(inst, m) for m in MESSAGES]
    with session(inst) as c:
        count, total = ph.stat_of(c.ok("STAT"))
        assert count == len(MESSAGES)
        st, body = c.long("LIST")
        sizes = ph.scan_list(body)
        assert sorted(sizes) == list(range(1, len(MESSAGES) + 1)), body
        assert sum(sizes.values()) == total
        for n, data in enumerate(MESSAGES, 1):
            r = c.ok("LIST %d" % n)
            assert r.split()[1:3] == [str(n), str(sizes[n])], r
            st, raw = c.long("RETR %d" % n)
            # what crossed the wire: CRLF only, stuffed
            assert re.search(rb"(?<!\r)\n", raw) is None, (n, raw)
            assert raw == ph.stuff(wire(data)), (n, raw, data)
            assert len(ph.unstuff(raw)) == sizes[n], (n, sizes[n], raw)
        quit_ok(c)
    # RETR then QUIT: seen, in cur/
    assert ph.files(inst) == {"new": [], "cur": sorted(n + ":2,S" for n in names)}


def test_size_in_the_name_is_not_trusted(inst):
    """",S=" in a Maildir name is the file size at best; LIST tells the
    octets RETR sends."""
    data = ph.message("lying name", "x\n" * 50, eol="\n")
    put(inst, data, name="%d.M1P1Q1.host,S=3" % (ph._T0 + 800000))
    with session(inst) as c:
        assert c.ok("LIST 1").split()[2] == str(len(wire(data)))
        assert c.retr(1)[1] == wire(data)
        quit_ok(c)


def test_hostile_maildir_entries_are_skipped(inst):
    """Symlinks (to the TLS key, or to a real message), a FIFO, a directory
    and dot files in new/ and cur/ are not messages; a FIFO must not hang
    the session."""
    box = ph.mailbox(inst)
    real = put(inst, ph.message("real"))
    other = put(inst, ph.message("target"), sub="cur", flags="S")
    vm = ph.vmail(inst)
    entries = []

    def own(p):
        os.lchown(p, vm.pw_uid, vm.pw_gid)
        entries.append(p)
    for sub, n, make in (
            ("new", ph.unique_name(), lambda p: os.symlink(inst.key, p)),
            ("new", ph.unique_name(), lambda p: os.symlink("../cur/%s:2,S" % other, p)),
            ("cur", ph.unique_name() + ":2,S", lambda p: os.symlink("/etc/passwd", p)),
            ("new", ph.unique_name(), lambda p: os.mkfifo(p, 0o600)),
            ("new", ph.unique_name(), lambda p: os.mkdir(p, 0o700)),
            ("new", "." + ph.unique_name(), lambda p: open(p, "w").close())):
        p = os.path.join(box, sub, n)
        make(p)
        own(p)
    with session(inst, timeout=20) as c:
        assert ph.stat_of(c.ok("STAT"))[0] == 2
        assert ph.uidl_map(c.long("UIDL")[1]) == {1: real, 2: other}
        assert c.retr(1)[1] == ph.message("real")
        assert c.retr(2)[1] == ph.message("target")
        assert c.cmd("RETR 3").startswith("-ERR")
        quit_ok(c)
    for p in entries:
        assert os.path.lexists(p), p


def test_commit_failure_answers_sys_temp(inst):
    """QUIT cannot apply a DELE (new/ not writable): -ERR [SYS/TEMP]
    (RFC 3206) and the message stays."""
    name = put(inst, ph.message())
    new = os.path.join(ph.mailbox(inst), "new")
    with session(inst) as c:
        assert c.ok("DELE 1")
        os.chmod(new, 0o500)
        try:
            r = c.cmd("QUIT")
        finally:
            os.chmod(new, 0o700)
        assert r.startswith("-ERR [SYS/TEMP]"), r
    ph.wait_no_sessions(inst)
    assert ph.files(inst) == {"new": [name], "cur": []}


def test_dot_stuffing_round_trip_with_poplib(inst):
    body_lines = [b".", b"..", b".x", b"...", b"x.", b"", b". .", b"end"]
    data = ph.message("dots", "") + b"\r\n".join(body_lines) + b"\r\n"
    put(inst, data)
    p = ph.pop(inst)
    resp, lines, octets = p.retr(1)
    assert lines[-len(body_lines):] == body_lines
    assert b"\r\n".join(lines) + b"\r\n" == data
    assert octets == len(data)
    resp, lines, octets = p.top(1, 2)
    assert lines[-3:] == [b"", b".", b".."], lines
    p.quit()


def test_lf_only_file_sent_with_crlf(inst):
    data = b"From: a@example.org\nSubject: lf\n\nbody 1\n.\nbody 2"
    put(inst, data)
    with session(inst) as c:
        size = int(c.ok("LIST 1").split()[2])
        st, raw = c.long("RETR 1")
        assert raw == b"From: a@example.org\r\nSubject: lf\r\n\r\nbody 1\r\n..\r\nbody 2\r\n"
        assert size == len(raw) - 1          # the one stuffing dot
        quit_ok(c)


def test_top(inst):
    header = b"From: a@example.org\r\nTo: alice@example.test\r\nSubject: top\r\n"
    body = b"".join(b"body line %d\r\n" % i for i in range(1, 6))
    put(inst, header + b"\r\n" + body)
    lf = (header + b"\r\n" + body).replace(b"\r\n", b"\n")
    put(inst, lf)
    put(inst, header + b"\r\n.hidden\r\n..two\r\nthree\r\n")
    put(inst, b"Subject: no body\r\n")
    put(inst, b"Subject: lf\n\n.\nsecond")
    with session(inst) as c:
        assert c.long("TOP 1 0")[1] == header + b"\r\n"
        assert c.long("TOP 1 3")[1] == header + b"\r\n" + b"".join(
            b"body line %d\r\n" % i for i in range(1, 4))
        assert c.long("TOP 1 5")[1] == header + b"\r\n" + body
        assert c.long("TOP 1 2147483647")[1] == header + b"\r\n" + body
        assert c.long("top 2 1")[1] == header + b"\r\nbody line 1\r\n"
        assert c.long("TOP 3 2")[1] == header + b"\r\n..hidden\r\n...two\r\n"
        assert c.long("TOP 4 0")[1] == b"Subject: no body\r\n"
        assert c.long("TOP 5 1")[1] == b"Subject: lf\r\n\r\n..\r\n"
        for bad in ("TOP 1", "TOP", "TOP 6 0", "TOP 0 0", "TOP 1 -1", "TOP x 1",
                    "TOP 1 x", "TOP 1 0 0", "TOP 1 2147483648",
                    "TOP 99999999999999999999 0"):
            r = c.cmd(bad)
            assert r.startswith("-ERR"), (bad, r)
        assert c.ok("NOOP")
        quit_ok(c)
    # TOP is no retrieval: nothing marked seen
    assert len(ph.files(inst)["new"]) == 5 and ph.files(inst)["cur"] == []


def test_uidl_and_list(inst):
    names = [put(inst, ph.message("m%d" % i)) for i in range(3)]
    with session(inst) as c:
        st, body = c.long("UIDL")
        uids = ph.uidl_map(body)
        assert uids == {1: names[0], 2: names[1], 3: names[2]}
        for n, u in uids.items():
            assert 1 <= len(u) <= 70 and all(0x21 <= ord(ch) <= 0x7e for ch in u), u
            assert c.ok("UIDL %d" % n).split()[1:3] == [str(n), u]
        assert ph.stat_of(c.ok("STAT"))[0] == 3
        assert c.ok("list 1").split()[1] == "1"        # case-insensitive
        assert c.ok("RETR 001")                        # leading zeros are fine
        c.multi()
        quit_ok(c)
    assert len(ph.files(inst)["new"]) == 2 and len(ph.files(inst)["cur"]) == 1


# The servers end a session after too many bad commands (pop3-login after
# 10, pop3 after 20): a test sends at most this many per session.
LOGIN_BAD_OK = 8
POP3_BAD_OK = 16
BAD_TRANSACTION = [
    "UIDL 0", "UIDL 4", "UIDL x", "UIDL 1 2", "UIDL -1",
    "LIST 0", "LIST 4", "LIST x", "LIST 1 2", "LIST +1",
    "RETR", "RETR 0", "RETR 4", "RETR 1 2", "RETR one", "RETR 4294967297",
    "DELE", "DELE 0", "DELE 4", "DELE x",
    "NOOP x", "STAT x", "RSET x", "QUIT x",
    "USER " + USER, "PASS " + PASSWORD, "AUTH PLAIN " + ph.sasl_plain(),
    "STLS", "APOP a b", "XYZZY", "", " ", "CAPA x",
]


@pytest.mark.parametrize("part", range(0, len(BAD_TRANSACTION), POP3_BAD_OK))
def test_bad_commands_in_transaction(inst, part):
    names = [put(inst, ph.message("m%d" % i)) for i in range(3)]
    with session(inst) as c:
        for bad in BAD_TRANSACTION[part:part + POP3_BAD_OK]:
            r = c.cmd(bad)
            assert r.startswith("-ERR"), (bad, r)
        assert ph.stat_of(c.ok("STAT"))[0] == 3
        quit_ok(c)
    assert ph.files(inst) == {"new": names, "cur": []}


def test_too_many_errors_end_the_session_without_update(inst):
    """A client sending only junk is disconnected after a bounded number of
    -ERR answers; what it DELE'd before is not deleted."""
    put(inst, ph.message())
    with session(inst) as c:
        assert c.ok("DELE 1")
        answered = 0
        try:
            for _ in range(200):
                r = c.cmd("XYZZY")
                assert r.startswith("-ERR"), r
                answered += 1
        except ph.POP3Error as e:
            assert e.closed, e
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert 5 <= answered < 200, answered
    ph.wait_no_sessions(inst)
    assert len(ph.files(inst)["new"]) == 1


def test_too_many_errors_before_login(inst):
    with POP3Client(inst) as c:
        answered = 0
        try:
            for _ in range(200):
                r = c.cmd("XYZZY")
                assert r.startswith("-ERR"), r
                answered += 1
        except ph.POP3Error as e:
            assert e.closed, e
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert 3 <= answered < 200, answered


def test_uidl_stable_across_sessions_flags_and_moves(inst):
    a = put(inst, ph.message("a"))                       # new/
    b = put(inst, ph.message("b"), sub="cur", flags="S")   # read
    c_ = put(inst, ph.message("c"))                      # new/, will be RETR'd
    box = ph.mailbox(inst)

    def uidls():
        with session(inst) as c:
            m = ph.uidl_map(c.long("UIDL")[1])
            quit_ok(c)
        return m
    first = uidls()
    assert first == {1: a, 2: b, 3: c_}
    # an IMAP client flags b; a is moved to cur/ as "seen by an MUA"
    os.rename(os.path.join(box, "cur", b + ":2,S"), os.path.join(box, "cur", b + ":2,FS"))
    os.rename(os.path.join(box, "new", a), os.path.join(box, "cur", a + ":2,"))
    assert uidls() == first
    # RETR moves c to cur/c:2,S at QUIT
    with session(inst) as c:
        c.long("RETR 3")
        quit_ok(c)
    assert ph.files(inst)["cur"] == sorted([a + ":2,", b + ":2,FS", c_ + ":2,S"])
    assert uidls() == first


def test_uidl_of_names_unfit_for_uidl(inst):
    """A unique name that is not 1..70 printable octets still gets a UIDL
    that is: stable, distinct, 1..70 octets of 0x21..0x7E (RFC 1939 7)."""
    long_name = "%d.M1P1Q1.%s" % (ph._T0 + 900000, "h" * 100)
    spaced = "%d.M1P1Q2.test host" % (ph._T0 + 900001)
    eight_bit = "%d.M1P1Q3.h\u00f6st" % (ph._T0 + 900002)
    for n in (long_name, spaced, eight_bit):
        put(inst, ph.message(), name=n)

    def uidls():
        with session(inst) as c:
            m = ph.uidl_map(c.long("UIDL")[1])
            quit_ok(c)
        return m
    first = uidls()
    assert len(first) == 3 and len(set(first.values())) == 3, first
    for u in first.values():
        assert 1 <= len(u) <= 70 and all(0x21 <= ord(ch) <= 0x7e for ch in u), first
    assert uidls() == first


def test_retr_marks_seen_at_quit(inst):
    a = put(inst, ph.message("new one"))
    b = put(inst, ph.message("flagged"), sub="cur", flags="F")
    c_ = put(inst, ph.message("untouched"))
    with session(inst) as c:
        c.retr(1)
        c.retr(2)
        quit_ok(c)
    assert ph.files(inst) == {"new": [c_], "cur": sorted([a + ":2,S", b + ":2,FS"])}
    # stored bytes unchanged by the move
    with open(os.path.join(ph.mailbox(inst), "cur", a + ":2,S"), "rb") as f:
        assert f.read() == ph.message("new one")


def test_dele_quit_removes(inst):
    names = [put(inst, ph.message("m%d" % i)) for i in range(3)]
    sizes = [len(ph.message("m%d" % i)) for i in range(3)]
    with session(inst) as c:
        assert c.ok("DELE 2")
        for bad in ("DELE 2", "RETR 2", "LIST 2", "TOP 2 0", "UIDL 2"):
            assert c.cmd(bad).startswith("-ERR"), bad
        assert ph.stat_of(c.ok("STAT")) == (2, sizes[0] + sizes[2])
        assert ph.scan_list(c.long("LIST")[1]) == {1: sizes[0], 3: sizes[2]}
        assert ph.uidl_map(c.long("UIDL")[1]) == {1: names[0], 3: names[2]}
        quit_ok(c)
    # gone by the time QUIT was answered
    assert ph.files(inst) == {"new": [names[0], names[2]], "cur": []}
    with session(inst) as c:
        assert ph.stat_of(c.ok("STAT")) == (2, sizes[0] + sizes[2])
        assert ph.uidl_map(c.long("UIDL")[1]) == {1: names[0], 2: names[2]}
        quit_ok(c)


def test_dropped_connection_changes_nothing(inst):
    names = [put(inst, ph.message("m%d" % i)) for i in range(3)]
    c = session(inst)
    assert c.ok("DELE 1")
    c.retr(2)
    assert c.ok("DELE 3")
    c.close()                             # no QUIT
    ph.wait_no_sessions(inst)
    assert ph.files(inst) == {"new": names, "cur": []}
    with session(inst) as c:
        assert ph.stat_of(c.ok("STAT"))[0] == 3
        quit_ok(c)


def test_rset_undoes_dele(inst):
    names = [put(inst, ph.message("m%d" % i)) for i in range(3)]
    with session(inst) as c:
        full = ph.stat_of(c.ok("STAT"))
        assert c.ok("DELE 1") and c.ok("DELE 3")
        assert ph.stat_of(c.ok("STAT"))[0] == 1
        c.ok("RSET")
        assert ph.stat_of(c.ok("STAT")) == full
        assert c.retr(1)[0]
        assert c.ok("DELE 2")
        quit_ok(c)
    assert ph.files(inst) == {"new": [names[2]], "cur": [names[0] + ":2,S"]}


def test_noop(inst):
    with session(inst) as c:
        assert c.cmd("NOOP").startswith("+OK")
        assert c.cmd("noop").startswith("+OK")
        quit_ok(c)


def test_session_view_is_fixed(inst):
    box = ph.mailbox(inst)
    a = put(inst, ph.message("a"))
    b = put(inst, ph.message("b"), sub="cur", flags="S")
    gone = put(inst, ph.message("gone"))
    with session(inst) as c:
        assert ph.stat_of(c.ok("STAT"))[0] == 3
        late = put(inst, ph.message("late"))
        # an IMAP session flags b and expunges "gone" meanwhile
        os.rename(os.path.join(box, "cur", b + ":2,S"), os.path.join(box, "cur", b + ":2,ST"))
        os.unlink(os.path.join(box, "new", gone))
        assert ph.stat_of(c.ok("STAT"))[0] == 3
        assert sorted(ph.scan_list(c.long("LIST")[1])) == [1, 2, 3]
        assert c.cmd("RETR 4").startswith("-ERR")
        assert c.cmd("LIST 4").startswith("-ERR")
        assert late not in ph.uidl_map(c.long("UIDL")[1]).values()
        assert c.retr(2)[1] == ph.message("b")        # found under its new name
        assert c.cmd("RETR 3").startswith("-ERR")     # removed by someone else
        assert c.ok("NOOP")
        assert c.retr(1)[1] == ph.message("a")
        quit_ok(c)
    assert ph.files(inst) == {"new": [late], "cur": sorted([a + ":2,S", b + ":2,ST"])}
    with session(inst) as c:
        assert ph.uidl_map(c.long("UIDL")[1]) == {1: a, 2: b, 3: late}
        quit_ok(c)


def test_mailboxes_are_separate(inst):
    ph.clear_mailbox(inst, BOB)
    put(inst, ph.message("for alice"))
    put(inst, ph.message("for bob"), user=BOB)
    put(inst, ph.message("for bob 2"), user=BOB)
    with session(inst) as a, POP3Client(inst) as b:
        b.login(BOB, PASSWORD)            # at the same time: one lock each
        assert ph.stat_of(a.ok("STAT"))[0] == 1
        assert ph.stat_of(b.ok("STAT"))[0] == 2
        assert b.retr(1)[1] == ph.message("for bob")
        quit_ok(a)
        quit_ok(b)


# ---- hostile input ---------------------------------------------------------------

JUNK = [
    b"NO\0OP",
    b"\0\0\0\0",
    b"STAT\0",
    b"RETR 1\0DELE 1",
    b"\xff\xfe\xfd STAT",
    b"ST\xc3\xa4T",
    b"DELE \xd9\xa1",                        # an Arabic-Indic digit one
    bytes(range(1, 256)).replace(b"\r", b"").replace(b"\n", b""),
    b"\x1b[2J\x07",
    b"A" * 300,
    b"DELE 1 " + b"x" * 5000,
]


@pytest.mark.parametrize("state", ["authorization", "transaction"])
def test_malformed_lines_answered_and_session_goes_on(inst, state):
    """NULs, 8-bit and control octets, binary junk, over-long lines (1 MB):
    each answered by exactly one -ERR, after which the session still
    answers (CAPA before login, NOOP after) and nothing changed."""
    data = ph.message("keep me")
    put(inst, data)
    rnd = bytes(b for b in os.urandom(8192) if b not in (10, 13))
    lines = JUNK + [rnd, b"X" * (1 << 20)]
    per = LOGIN_BAD_OK if state == "authorization" else POP3_BAD_OK
    for part in range(0, len(lines), per):
        with POP3Client(inst, timeout=30) as c:
            if state == "transaction":
                c.login()
            for line in lines[part:part + per]:
                r = c.cmd(line)
                assert r.startswith("-ERR"), (line[:40], r)
                # exactly one answer per line: nothing left over
                if state == "transaction":
                    r = c.cmd("NOOP")
                    assert r.startswith("+OK"), (line[:40], r)
                else:
                    assert c.capa(), line[:40]
            if state == "authorization":
                c.login()
            assert ph.stat_of(c.ok("STAT")) == (1, len(data))
            quit_ok(c)
    assert len(ph.files(inst)["new"]) == 1


def test_binary_flood_without_line_ends(inst):
    """4 MB of junk without CR LF, then a line end: one -ERR, then service."""
    with session(inst, timeout=30) as c:
        junk = bytes(b for b in os.urandom(1 << 22) if b not in (10, 13))
        c.send(junk + b"\r\n")
        r = c.line(timeout=30)
        assert r.startswith("-ERR"), r
        assert c.cmd("NOOP").startswith("+OK")
        quit_ok(c)


def test_client_gone_in_the_middle_of_retr(inst):
    """The client reads part of a 4 MB RETR and disconnects: the session
    ends (no process left writing), the message is not marked seen."""
    data = ph.big_message(4 << 20)
    name = put(inst, data)
    c = session(inst, timeout=30)
    c.send(b"RETR 1\r\n")
    c._fill(time.monotonic() + 30)
    assert c.buf.startswith(b"+OK")
    c.close()
    ph.wait_no_sessions(inst)
    assert ph.files(inst) == {"new": [name], "cur": []}


# ---- delivered over SMTP ------------------------------------------------------

def test_smtp_delivery_then_pop3(inst):
    """Delivered over SMTP by the local agent while a POP3 session holds the
    mailbox: delivery is not blocked, the session does not see it, the next
    one retrieves it byte-exact."""
    body = "Subject: over smtp\r\n\r\nhello from SMTP\r\n.leading dot\r\n"
    held = session(inst)
    assert ph.stat_of(held.ok("STAT")) == (0, 0)
    with SMTPClient(inst, "smtp") as s:
        code, text = s.send_message("sender@example.org", [USER], body)
        assert code == 250, (code, text)
    box = ph.mailbox(inst)
    assert wait_for(lambda: ph.files(inst)["new"], 60), inst.log()[-3000:]
    assert ph.stat_of(held.ok("STAT")) == (0, 0)
    quit_ok(held)
    name = ph.files(inst)["new"][0]
    with open(os.path.join(box, "new", name), "rb") as f:
        stored = f.read()
    assert os.stat(os.path.join(box, "new", name)).st_uid == ph.vmail(inst).pw_uid
    p = ph.pop(inst)
    count, size = p.stat()
    assert (count, size) == (1, len(wire(stored)))
    resp, lines, octets = p.retr(1)
    got = b"\r\n".join(lines) + b"\r\n"
    assert got == wire(stored) and octets == size
    assert got.endswith(b"hello from SMTP\r\n.leading dot\r\n")
    assert p.uidl(1).split()[2].decode() == ph.base_of(name)
    p.dele(1)
    p.quit()
    assert ph.files(inst) == {"new": [], "cur": []}


# ---- fetchmail ----------------------------------------------------------------

@pytest.mark.skipif(shutil.which("fetchmail") is None,
                    reason="fetchmail not installed (tests/deps.sh installs it)")
@pytest.mark.parametrize("mode,keep", [("plain", False), ("stls", True), ("pop3s", False)])
def test_fetchmail(inst, tmp_path, mode, keep):
    msgs = [ph.message("fetch 1", "hello\r\n"),
            ph.message("fetch 2", ".\r\n..\r\n.x\r\nlast\r\n"),
            ph.message("fetch 3", "lf only\nbody\n", eol="\n")]
    for m in msgs:
        put(inst, m)
    tmp = str(tmp_path)
    r = ph.run_fetchmail(inst, tmp, mode, keep)
    assert r.returncode == 0, (r.returncode, r.stdout[-3000:], r.stderr[-3000:],
                               inst.log()[-2000:])
    talk = r.stdout + r.stderr
    assert ("POP3> STLS" in talk) == (mode == "stls"), talk[-3000:]
    # fetchmail hands messages to an MDA with LF line ends
    want = sorted(wire(m).replace(b"\r\n", b"\n") for m in msgs)
    assert ph.fetched(tmp) == want, (ph.fetched(tmp), r.stderr[-2000:])
    ph.wait_no_sessions(inst)
    left = ph.files(inst)
    if keep:
        assert left["new"] == [] and len(left["cur"]) == 3, left
        assert all(n.endswith(":2,S") for n in left["cur"]), left
    else:
        assert left == {"new": [], "cur": []}, (left, r.stderr[-2000:])
