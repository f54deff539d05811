"""Local delivery end to end: SMTP (smtplib, swaks) and sendmail in, Maildir
out.  Byte-exact messages, owner and modes, one file per mailbox for several
recipients and duplicate RCPTs, alias fan-out, alias to alias, alias loops,
address extensions (inbox, and the .tag folder when it exists).  One shared
instance; each test uses mailboxes of its own."""
import os
import re
import shutil
import stat
import subprocess

import pytest

from conftest import needs_root
from delivery_helpers import (DSN, boot_delivery, config_value, delivery_instance,
                              has_local, maildir, maildir_files, message, read, send,
                              split_trace, trace_values, vmail, wait_files, wait_log,
                              wait_queue_empty, write_aliases)
from smtp_helpers import DOMAIN, USER
from spool_util import sendmail

pytestmark = [needs_root,
              pytest.mark.skipif(not has_local(), reason="local delivery agent not built")]

USERS = ("big", "m1", "m2", "m3", "dup", "f1", "f2", "f3", "g1", "g2",
         "g3", "h1", "looper", "looper2", "ext", "sm", "sw", "late1", "caseuser")
ALIASES = {
    "team": ["f1", "f2", "f3"],
    "outer": ["inner", "g3", "g1"],         # g1 also reached through inner
    "inner": ["g1", "g2"],
    "loopa": ["loopb"],
    "loopb": ["loopa"],
    "loopc": ["loopd", "h1"],
    "loopd": ["loopc"],
    # a loop the expansion cannot see: each hop is a re-injection to an
    # address with an extension, which resolves to the other alias
    "hopa": ["hopb+x"],
    "hopb": ["hopa+y"],
}


@pytest.fixture(scope="module")
def srv():
    yield from delivery_instance(users=USERS, aliases=ALIASES)


def addr(local):
    return "%s@%s" % (local, DOMAIN)


def tricky_body():
    """A body that catches dot-stuffing, mbox escaping, whitespace trimming
    and line-end rewriting."""
    lines = [
        "first line",
        ".",
        "..two dots",
        ". dot space",
        "From the start of a line (no mbox escaping)",
        ">From already quoted",
        "trailing spaces   ",
        "\ttab first\tand inside",
        "",
        "x" * 998,
        "gr\u00fc\u00dfe, \u65e5\u672c",
        "",
        "",
    ]
    return "\r\n".join(lines) + "\r\n"


def assert_delivered_exactly(path, sent, rcpt, sender):
    """The stored file is sent plus the trace headers at the top."""
    data = read(path)
    trace, rest = split_trace(data)
    assert rest == sent, "stored message differs from what was sent:\n%r\n---\n%r" % (
        rest[:400], sent[:400])
    assert trace_values(trace, "Return-Path") == ["<%s>" % sender], trace
    assert trace_values(trace, "Delivered-To")[:1] == [rcpt], trace
    assert len(trace_values(trace, "Received")) == 1, trace
    assert trace[0].lower().startswith(b"return-path:"), trace


def test_smtp_to_maildir_byte_exact(srv):
    sent = message("byte exact", tricky_body(), headers=[("X-Test", "byte-exact")])
    sender = "sender@example.org"
    qid = send(srv, sender, [USER], sent, mail_options=["BODY=8BITMIME"])
    files = wait_files(srv, USER, 1)
    assert len(files) == 1, files
    # paths.mail/example.test/alice/new/
    assert config_value(srv, "paths.mail") == srv.mail
    assert os.path.dirname(files[0]) == os.path.join(srv.mail, DOMAIN, "alice", "new")
    assert_delivered_exactly(files[0], sent, USER, sender)
    # the Received: is smtpd's, naming the queue id
    trace, _ = split_trace(read(files[0]))
    assert qid in trace_values(trace, "Received")[0], trace
    wait_queue_empty(srv)
    assert maildir_files(maildir(srv, USER), "tmp") == []
    assert maildir_files(maildir(srv, USER), "new") == files
    m = wait_log(srv, r"%s: to=<%s>, (orig_to=<[^>]*>, )?relay=local, delay=[0-9.]+, "
                 r"(delays=[^,]*, )?dsn=2\.\d+\.\d+, status=sent \(" % (qid, re.escape(USER)))
    assert m
    # owner and modes: the file 0600, the Maildir's directories 0700, all
    # owned by PREFIXvmail
    acct = vmail(srv)
    st = os.stat(files[0])
    assert (st.st_uid, st.st_gid) == (acct.pw_uid, acct.pw_gid), (st.st_uid, st.st_gid)
    assert stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
    assert st.st_nlink == 1, "tmp/ link left behind"
    base = maildir(srv, USER)
    for d in (base, os.path.join(base, "new"), os.path.join(base, "cur"),
              os.path.join(base, "tmp"), os.path.dirname(base)):
        st = os.stat(d)
        assert (st.st_uid, st.st_gid) == (acct.pw_uid, acct.pw_gid), (d, st.st_uid)
        assert stat.S_IMODE(st.st_mode) == 0o700, (d, oct(st.st_mode))
    # Maildir name: time.unique.host, no ":2," info on a new/ file
    name = os.path.basename(files[0])
    assert re.fullmatch(r"\d+\.[A-Za-z0-9_.=-]+\.[^/:]+", name), name


def test_large_message_byte_exact(srv):
    """~300 KB: several DATA records into the queue, several reads by the
    agent."""
    body = "".join("%06d %s\r\n" % (i, "abcdefghij" * 7) for i in range(4000))
    sent = message("large", body)
    send(srv, "sender@example.org", [addr("big")], sent)
    files = wait_files(srv, "big", 1)
    assert_delivered_exactly(files[0], sent, addr("big"), "sender@example.org")


def test_multiple_recipients_one_file_each(srv):
    sent = message("three", "to three mailboxes\r\n")
    rcpts = [addr("m1"), addr("m2"), addr("m3"), addr("m1")]      # m1 twice
    send(srv, USER, rcpts, sent)
    for r in ("m1", "m2", "m3"):
        files = wait_files(srv, r, 1)
        assert_delivered_exactly(files[0], sent, addr(r), USER)
    wait_queue_empty(srv)
    for r in ("m1", "m2", "m3"):
        assert len(maildir_files(maildir(srv, r))) == 1, (r, maildir_files(maildir(srv, r)))


def test_duplicate_rcpt_one_file(srv):
    sent = message("dup", "once\r\n")
    send(srv, USER, [addr("dup")] * 3, sent)
    wait_files(srv, "dup", 1)
    wait_queue_empty(srv)
    files = maildir_files(maildir(srv, "dup"))
    assert len(files) == 1, files


def test_recipient_case_insensitive(srv):
    """Domain and local part are matched without regard to case: the
    message lands in paths.mail/example.test/caseuser/."""
    sent = message("case", "upper case recipient\r\n")
    send(srv, "sender@example.org", ["CaseUser@Example.TEST"], sent)
    files = wait_files(srv, "caseuser", 1)
    assert split_trace(read(files[0]))[1] == sent
    assert not os.path.exists(os.path.join(srv.mail, "Example.TEST"))


def test_alias_fanout(srv):
    sent = message("team", "to the team\r\n", headers=[("X-Test", "fanout")])
    qid = send(srv, "sender@example.org", [addr("team")], sent)
    for r in ("f1", "f2", "f3"):
        files = wait_files(srv, r, 1)
        data = read(files[0])
        trace, rest = split_trace(data)
        assert rest == sent, rest[:300]
        dt = trace_values(trace, "Delivered-To")
        # the agent's own for the mailbox, and the re-injection's for the alias
        assert addr(r) in dt and addr("team") in dt, dt
        assert trace_values(trace, "Return-Path") == ["<sender@example.org>"], trace
    wait_queue_empty(srv)
    for r in ("f1", "f2", "f3"):
        assert len(maildir_files(maildir(srv, r))) == 1, r
    wait_log(srv, r"%s: to=<team@example\.test>, relay=local, .*status=sent \(forwarded\)" % qid)


def test_alias_to_alias_deduplicated(srv):
    """outer -> inner, g3, g1; inner -> g1, g2: each of g1, g2, g3 gets one
    copy (the expansion is de-duplicated)."""
    sent = message("nested", "nested aliases\r\n")
    send(srv, "sender@example.org", [addr("outer")], sent)
    for r in ("g1", "g2", "g3"):
        wait_files(srv, r, 1)
    wait_queue_empty(srv)
    for r in ("g1", "g2", "g3"):
        files = maildir_files(maildir(srv, r))
        assert len(files) == 1, (r, files)
        assert split_trace(read(files[0]))[1] == sent


def test_alias_loop_terminates(srv):
    """loopa <-> loopb names no mailbox: the mail does not circulate; the
    queue drains and the sender gets one report, 5.4.6 (issue 4: alias
    loops end in 5.4.6)."""
    sender = addr("looper")
    sent = message("loop", "round and round\r\n")
    send(srv, sender, [addr("loopa")], sent)
    files = wait_files(srv, sender, 1)
    wait_queue_empty(srv, timeout=90)
    files = maildir_files(maildir(srv, "looper"))
    assert len(files) == 1, files
    dsn = DSN(read(files[0]))
    assert [r.get("status") for r in dsn.recipients] == ["5.4.6"], dsn.recipients
    assert dsn.recipients[0]["action"].lower() == "failed", dsn.recipients
    hops = len(re.findall(r"to=<loop[ab]@example\.test>", srv.log()))
    assert hops <= 10, "%d deliveries attempted for the loop" % hops


def test_alias_loop_across_hops_stops_at_100(srv):
    """hopa -> hopb+x, hopb -> hopa+y: every hop is a new queue entry with
    one more Delivered-To:; at 100 of them the agent fails the recipient
    with 5.4.6 and the sender gets one report."""
    sender = addr("looper2")
    sent = message("hop loop", "hop\r\n")
    send(srv, sender, [addr("hopa")], sent)
    files = wait_files(srv, sender, 1, timeout=120)
    wait_queue_empty(srv, timeout=60)
    # the log is relayed by master: wait for the last line of the loop
    wait_log(srv, r"to=<hop[ab]\+[xy]@example\.test>, .*dsn=5\.4\.6, status=bounced")
    files = maildir_files(maildir(srv, "looper2"))
    assert len(files) == 1, files
    dsn = DSN(read(files[0]))
    assert [r.get("status") for r in dsn.recipients] == ["5.4.6"], dsn.recipients
    hops = len(re.findall(r"to=<hop[ab](\+[xy])?@example\.test>, (orig_to=<[^>]*>, )?"
                          r"relay=local, delay=[0-9.]+, dsn=2\.0\.0, status=sent \(forwarded\)",
                          srv.log()))
    assert 90 <= hops <= 101, "%d forwarding hops before the loop was stopped" % hops
    print("hop loop stopped after %d hops: %s" % (hops, dsn.recipients[0]))


def test_alias_loop_with_member_delivers_once(srv):
    """loopc -> loopd, h1; loopd -> loopc: h1 gets exactly one copy."""
    sent = message("loop member", "h1 once\r\n")
    send(srv, addr("looper"), [addr("loopc")], sent)
    wait_files(srv, "h1", 1)
    wait_queue_empty(srv, timeout=90)
    files = maildir_files(maildir(srv, "h1"))
    assert len(files) == 1, files


def test_changed_aliases_map_picked_up(srv):
    """A recompiled aliases map is used without a restart (smtpd and the
    local agent both see the new alias)."""
    write_aliases(srv, dict(ALIASES, latealias=["late1"]))
    sent = message("late alias", "new map\r\n")
    send(srv, "sender@example.org", [addr("latealias")], sent)
    files = wait_files(srv, "late1", 1)
    assert split_trace(read(files[0]))[1] == sent


def make_folder(inst, user, folder):
    """Create the Maildir++ folder .FOLDER (and the Maildir) as vmail."""
    acct = vmail(inst)
    base = maildir(inst, user)
    paths = [os.path.dirname(base), base] + \
        [os.path.join(base, s) for s in ("cur", "new", "tmp")] + \
        [os.path.join(base, "." + folder)] + \
        [os.path.join(base, "." + folder, s) for s in ("cur", "new", "tmp")]
    for p in paths:
        if not os.path.isdir(p):
            os.mkdir(p, 0o700)
            os.chown(p, acct.pw_uid, acct.pw_gid)


def test_extension_to_inbox_and_folder(srv):
    make_folder(srv, "ext", "tag")
    a = message("ext inbox", "no such folder\r\n")
    b = message("ext folder", "into .tag\r\n")
    send(srv, "sender@example.org", ["ext+nofolder@example.test"], a)
    send(srv, "sender@example.org", ["ext+tag@example.test"], b)
    inbox = wait_files(srv, "ext", 1)
    folder = wait_files(srv, "ext", 1, folder="tag")
    wait_queue_empty(srv)
    assert len(maildir_files(maildir(srv, "ext"))) == 1
    assert len(maildir_files(maildir(srv, "ext", "tag"))) == 1
    assert split_trace(read(inbox[0]))[1] == a
    assert split_trace(read(folder[0]))[1] == b
    for f in inbox + folder:
        st = os.stat(f)
        assert st.st_uid == vmail(srv).pw_uid and stat.S_IMODE(st.st_mode) == 0o600


def test_sendmail_to_maildir(srv):
    sent = message("via sendmail", "local submission\r\n")
    # sendmail reads LF or CRLF lines; give it LF and expect CRLF stored
    r = sendmail(srv, ["-f", "root@example.test", "-i", addr("sm")],
                 sent.replace(b"\r\n", b"\n").decode())
    assert r.returncode == 0, (r.stdout, r.stderr)
    files = wait_files(srv, "sm", 1)
    data = read(files[0])
    trace, rest = split_trace(data)
    assert trace_values(trace, "Return-Path") == ["<root@example.test>"], trace
    assert trace_values(trace, "Delivered-To")[:1] == [addr("sm")], trace
    assert b"Subject: via sendmail\r\n" in rest and rest.endswith(b"\r\nlocal submission\r\n")


def test_swaks_to_maildir(srv):
    if shutil.which("swaks") is None:
        pytest.skip("swaks not installed")
    r = subprocess.run(["swaks", "--server", srv.addr, "--port", str(srv.ports["smtp"]),
                        "--helo", "client.example.org", "--from", "swaks@example.org",
                        "--to", addr("sw"), "--header", "Subject: swaks test",
                        "--header", "X-Test: swaks", "--body", "sent by swaks"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    files = wait_files(srv, "sw", 1)
    trace, rest = split_trace(read(files[0]))
    assert trace_values(trace, "Return-Path") == ["<swaks@example.org>"], trace
    assert b"X-Test: swaks\r\n" in rest and b"\r\n\r\nsent by swaks\r\n" in rest, rest


def test_no_extension_folders(inst):
    """local.extension_folders = no: user+tag goes to the inbox even when
    the folder exists."""
    boot_delivery(inst, users=["ext"], local__extension_folders="no")
    make_folder(inst, "ext", "tag")
    sent = message("ext", "inbox please\r\n")
    send(inst, "sender@example.org", ["ext+tag@example.test"], sent)
    files = wait_files(inst, "ext", 1)
    wait_queue_empty(inst)
    assert maildir_files(maildir(inst, "ext", "tag")) == []
    assert split_trace(read(files[0]))[1] == sent
