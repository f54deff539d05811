"""smtpd DATA: SMTP smuggling (only <CRLF>.<CRLF> ends the data, bare CR
or LF refuses the message), dot-stuffing, 8-bit bodies, the line and
message size limits, the mail-loop check, and a queue that cannot commit
(451 4.3.0, nothing left behind).  Issue 3, docs/smtpd.8."""
import os
import stat
import subprocess

import pytest

import smtp_helpers as sh
from conftest import fresh_instance, needs_root, wait_for

SENDER = "sender@elsewhere.example"


@pytest.fixture(scope="module")
def srv():
    """One instance for the tests that need the default config, without
    delivery agents (accepted mail stays in the spool to be read)."""
    yield from sh.module_instance(deliver=False)


@pytest.fixture
def inst(srv):
    """The shared instance: a test compares the spool with what was in it
    when the test began (before=), never with an empty one."""
    return srv


@pytest.fixture
def own_inst():
    """An instance of its own, for a test that needs another config."""
    yield from fresh_instance()


def incoming(inst):
    try:
        return sorted(os.listdir(os.path.join(inst.spool, "incoming")))
    except FileNotFoundError:
        return []


def assert_nothing_queued(inst, before):
    """No committed message besides those in before (the spool ids when
    the test began, or later), and (once the queue has handled the ABORT)
    nothing in incoming/."""
    assert sh.spool_ids(inst) == sorted(before), sh.spool_ids(inst)
    assert wait_for(lambda: incoming(inst) == [], 5), incoming(inst)


def open_data(c, sender=SENDER, rcpt=sh.USER, mail_params=""):
    """EHLO, MAIL, RCPT, DATA -> 354 on a raw client."""
    c.ehlo()
    code, text = c.cmd("MAIL FROM:<%s>%s" % (sender, mail_params))
    assert code == 250, (code, text)
    code, text = c.cmd("RCPT TO:<%s>" % rcpt)
    assert code == 250, (code, text)
    code, text = c.cmd("DATA")
    assert code == 354, (code, text)


def send_raw(inst, data, **kw):
    """One transaction whose DATA bytes are sent exactly as given (the
    caller adds the stuffing and the final <CRLF>.<CRLF>); returns the
    reply after it."""
    with sh.SMTPClient(inst, "smtp") as c:
        open_data(c, **kw)
        c.send(data)
        answer = c.reply()
        assert c.cmd("NOOP") == (250, "2.0.0 Ok")     # the session goes on
    return answer


def stuff(body):
    """Dot-stuff body (CRLF lines) and add the end of data."""
    lines = body.split(b"\r\n")
    assert lines[-1] == b"", "body must end with CRLF"
    return b"\r\n".join(b"." + l if l.startswith(b".") else l for l in lines) + b".\r\n"


def strip_received(msg):
    """The stored message without the Received: field smtpd put first."""
    assert msg.startswith(b"Received: "), msg[:100]
    pos = msg.index(b"\r\n") + 2
    while msg[pos:pos + 1] in (b" ", b"\t"):
        pos = msg.index(b"\r\n", pos) + 2
    return msg[pos:]


def stored(inst, answer):
    """The stored message (without our Received:) for a 250 answer."""
    code, text = answer
    assert code == 250, answer
    qid = sh.queue_id(text)
    sh.wait_spool(inst, qid)
    return strip_received(sh.spool_msg(inst, qid))


# ---- SMTP smuggling ---------------------------------------------------------

SMUGGLED = (b"MAIL FROM:<evil@elsewhere.example>\r\n"
            b"RCPT TO:<alice@example.test>\r\n"
            b"DATA\r\n"
            b"From: evil@elsewhere.example\r\n"
            b"Subject: smuggled\r\n"
            b"\r\n"
            b"smuggled\r\n")


@pytest.mark.parametrize("fake_end", [
    b"\n.\n", b"\r\n.\n", b"\n.\r\n", b"\r.\r\n", b"\r\n.\r", b"\r.\r",
    b"\n.\r", b"\r.\n", b"\n..\n", b"\r\n.\n\r\n",
], ids=lambda b: b.decode().replace("\r", "CR").replace("\n", "LF"))
def test_smuggling_fake_end_of_data(inst, fake_end):
    before = sh.spool_ids(inst)
    first = b"From: a@elsewhere.example\r\nSubject: carrier\r\n\r\ncarrier text"
    with sh.SMTPClient(inst, "smtp") as c:
        open_data(c)
        # everything up to (not including) the real end: no reply may come,
        # or the fake end ended the data and the MAIL etc. were commands
        c.send(first + fake_end + SMUGGLED)
        with pytest.raises(sh.SMTPTimeout):
            c.reply(timeout=0.4)
        c.send(b".\r\n")
        code, text = c.reply()
        assert (code, text[:5]) == (554, "5.6.0"), (code, text)
        # exactly one reply: the next one answers our NOOP
        assert c.cmd("NOOP") == (250, "2.0.0 Ok")
        assert c.buf == b""
    assert_nothing_queued(inst, before)


@pytest.mark.parametrize("body", [
    b"Subject: lf\r\n\r\nline one\nline two\r\n",
    b"Subject: lf\nTo: x@example.test\r\n\r\nbody\r\n",
    b"Subject: cr\r\n\r\nline one\rline two\r\n",
    b"Subject: lf\r\n\r\nlast line ends in bare LF\n",
], ids=["lf-body", "lf-header", "cr-body", "lf-last"])
def test_bare_cr_or_lf_refused(inst, body):
    before = sh.spool_ids(inst)
    code, text = send_raw(inst, body + b"\r\n.\r\n")
    assert (code, text[:5]) == (554, "5.6.0"), (code, text)
    assert_nothing_queued(inst, before)


def test_only_crlf_dot_crlf_ends_data(inst):
    """The real end, even split over many packets, ends the data; a
    following transaction in the same session works."""
    before = sh.spool_ids(inst)
    body = b"Subject: split\r\n\r\ntext\r\n"
    with sh.SMTPClient(inst, "smtp") as c:
        open_data(c)
        c.send(body)
        for piece in (b".", b"\r"):
            c.send(piece)
            with pytest.raises(sh.SMTPTimeout):
                c.reply(timeout=0.2)
        c.send(b"\n")
        answer1 = c.reply()
        # a line that is just a dot followed by text is data, not the end
        code, text = c.cmd("MAIL FROM:<%s>" % SENDER)
        assert code == 250, (code, text)
        assert c.cmd("RCPT TO:<%s>" % sh.USER)[0] == 250
        assert c.cmd("DATA")[0] == 354
        c.send(b"Subject: dots\r\n\r\n. \r\n.x\r\n")
        with pytest.raises(sh.SMTPTimeout):
            c.reply(timeout=0.3)
        c.send(b".\r\n")
        answer2 = c.reply()
    assert stored(inst, answer1) == body
    assert stored(inst, answer2) == b"Subject: dots\r\n\r\n \r\nx\r\n"
    assert len(sh.spool_ids(inst)) == len(before) + 2


# ---- what is stored ---------------------------------------------------------

def test_dot_stuffing_removed_and_lines_intact(inst):
    body = (b"Subject: dots\r\n"
            b"\r\n"
            b".\r\n"
            b"..\r\n"
            b".hidden line\r\n"
            b"..two dots\r\n"
            b" .space first\r\n"
            b"middle . dot\r\n"
            b"...\r\n"
            b"\r\n"
            b"trailing spaces   \r\n"
            b"\ttab\r\n")
    wire = stuff(body)
    assert wire.count(b"\r\n..\r\n") == 1      # the "." line went out stuffed
    answer = send_raw(inst, wire)
    assert stored(inst, answer) == body


def test_8bit_body_stored_intact(inst):
    octets = bytes(b for b in range(0x80, 0x100))
    body = (b"Subject: =?utf-8?q?=C3=A9t=C3=A9?=\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n"
            b"Content-Transfer-Encoding: 8bit\r\n"
            b"\r\n" +
            "Grüße, été, 日本語\r\n".encode() +
            octets[:64] + b"\r\n" + octets[64:] + b"\r\n" +
            b"\x01\x02\x7f control octets\r\n")
    answer = send_raw(inst, stuff(body), mail_params=" BODY=8BITMIME")
    assert stored(inst, answer) == body
    env = sh.spool_env(inst, sh.queue_id(answer[1]))
    assert env.get("body") == "8bitmime", env


# ---- limits -------------------------------------------------------------------

def test_data_line_of_1001_octets_refused(inst):
    head = b"Subject: long line\r\n\r\n"
    # 998 octets + CRLF = 1000: the limit, accepted
    ok = head + b"a" * 998 + b"\r\n"
    assert stored(inst, send_raw(inst, stuff(ok))) == ok
    ids = sh.spool_ids(inst)
    # 999 + CRLF = 1001: refused after the end of data, nothing queued
    code, text = send_raw(inst, stuff(head + b"b" * 999 + b"\r\nshort line\r\n"))
    assert (code, text[:5]) == (552, "5.3.4"), (code, text)
    assert_nothing_queued(inst, ids)
    # a much longer one (several reads) in the header
    code, text = send_raw(inst, stuff(b"X-Long: " + b"c" * 20000 + b"\r\n\r\nbody\r\n"))
    assert (code, text[:5]) == (552, "5.3.4"), (code, text)
    assert_nothing_queued(inst, ids)


def message_of(size):
    """A message of exactly size octets (CRLF lines of at most 80)."""
    head = b"Subject: size\r\n\r\n"
    left = size - len(head)
    assert left >= 2
    lines = []
    while left > 0:
        take = min(80, left)
        if left - take == 1:
            take -= 1           # the last line needs room for its CRLF
        lines.append(b"x" * (take - 2) + b"\r\n")
        left -= take
    body = head + b"".join(lines)
    assert len(body) == size
    return body


def test_message_size_limit_exact(own_inst):
    inst = own_inst     # a config of its own
    limit = 20000
    sh.boot(inst, deliver=False, limits__message_size=str(limit))
    with sh.SMTPClient(inst, "smtp") as c:
        ext = c.ehlo()
        assert "SIZE %d" % limit in ext, ext
        code, text = c.cmd("MAIL FROM:<%s> SIZE=%d" % (SENDER, limit + 1))
        assert (code, text[:5]) == (552, "5.3.4"), (code, text)
        assert c.cmd("MAIL FROM:<%s> SIZE=%d" % (SENDER, limit))[0] == 250
    exact = message_of(limit)
    assert stored(inst, send_raw(inst, stuff(exact))) == exact
    ids = sh.spool_ids(inst)
    code, text = send_raw(inst, stuff(message_of(limit + 1)))
    assert (code, text[:5]) == (552, "5.3.4"), (code, text)
    assert_nothing_queued(inst, ids)
    # far over the limit: still read to the end, refused, nothing queued
    code, text = send_raw(inst, stuff(message_of(10 * limit)))
    assert (code, text[:5]) == (552, "5.3.4"), (code, text)
    assert_nothing_queued(inst, ids)


def test_too_many_received_headers_is_a_loop(inst):
    hop = b"Received: from a.example by b.example with ESMTP id x; Tue, 1 Oct 2024 10:00:00 +0000\r\n"
    body = b"Subject: loop\r\n\r\nbody\r\n"
    ok = hop * 50 + body
    assert stored(inst, send_raw(inst, stuff(ok))) == ok
    ids = sh.spool_ids(inst)
    code, text = send_raw(inst, stuff(hop * 51 + body))
    assert (code, text[:5]) == (554, "5.4.6"), (code, text)
    assert_nothing_queued(inst, ids)
    # Received: lines in the body are not hops
    in_body = body + hop * 60
    assert stored(inst, send_raw(inst, stuff(in_body))) == in_body


# ---- the queue cannot commit ------------------------------------------------

def tree_attrs(top):
    """[(relative dir, uid, gid, mode)] of top and every directory below."""
    out = []
    for dirpath, dirnames, _ in os.walk(top):
        st = os.lstat(dirpath)
        out.append((os.path.relpath(dirpath, top), st.st_uid, st.st_gid,
                    stat.S_IMODE(st.st_mode)))
    return out


@pytest.fixture
def small_spool(own_inst):
    """inst with a 256 KiB tmpfs mounted over its (empty) spool, with the
    installed directories recreated; unmounted at the end, always."""
    inst = own_inst     # its spool is mounted over: not the shared one
    attrs = tree_attrs(inst.spool)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700",
                        "postern-test-spool", inst.spool], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    try:
        for rel, uid, gid, mode in attrs:
            path = os.path.normpath(os.path.join(inst.spool, rel))
            os.makedirs(path, exist_ok=True)
            os.chown(path, uid, gid)
            os.chmod(path, mode)
        yield inst
    finally:
        inst.stop()     # the queue is chrooted in the mount: stop it first
        r = subprocess.run(["umount", inst.spool], capture_output=True, text=True)
        if r.returncode != 0:
            subprocess.run(["umount", "-l", inst.spool], capture_output=True)


@needs_root
def test_commit_failure_451_and_nothing_left(small_spool):
    inst = small_spool
    sh.boot(inst, deliver=False)
    assert inst.running("queue"), inst.status()
    # the mount is what the queue uses (its root is the spool)
    assert os.readlink("/proc/%d/root" % inst.pid("queue")) == inst.spool
    small = b"Subject: small\r\n\r\nfits\r\n"
    first = stored(inst, send_raw(inst, stuff(small)))
    assert first == small
    ids = sh.spool_ids(inst)
    big = message_of(400 * 1024)    # > the tmpfs, < limits.message_size
    code, text = send_raw(inst, stuff(big))
    assert (code, text[:5]) == (451, "4.3.0"), (code, text)
    assert_nothing_queued(inst, ids)
    for kind in ("msg", "env"):
        files = [os.path.join(d, f) for d, _, fs in os.walk(os.path.join(inst.spool, kind))
                 for f in fs]
        assert len(files) == len(ids), files
    # the space came back: the next message is queued
    assert stored(inst, send_raw(inst, stuff(small))) == small
    assert len(sh.spool_ids(inst)) == len(ids) + 1
