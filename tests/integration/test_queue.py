"""queue: the spool owner.  Messages from smtpd (smtplib) land in msg/ and
env/ with a valid envelope; the process runs as its account chrooted in the
spool; the start-up sweep; strict re-validation on its sockets; a commit
that fails (full file system) leaves nothing; and the crash-safety test:
kill -9 the queue while 50 clients send, then check every acknowledged
message."""
import os
import re
import signal
import smtplib
import subprocess
import threading
import time

import pytest

from conftest import IS_ROOT, needs_root, proc_status, wait_for
from ipc_client import (IPC_ERROR, IPC_OK, IPC_QUEUE_BEGIN, IPC_QUEUE_DATA,
                        IPC_QUEUE_END, IPC_QUEUE_LIST, Client)
from spool_util import (ENV_ID, parse_envelope, queued, read_queued,
                        spool_files, start_with_queue)

USER = "alice@example.test"
QUEUED_AS = re.compile(r"queued as ([A-Za-z0-9_.-]+)")


def smtp_send(inst, body, rcpt=USER, sender="someone@example.org", timeout=60):
    """(code, text) of the reply to DATA."""
    s = smtplib.SMTP(inst.addr, inst.ports["smtp"], timeout=timeout)
    try:
        s.ehlo("client.example.org")
        code, text = s.mail(sender)
        assert code == 250, (code, text)
        code, text = s.rcpt(rcpt)
        assert code == 250, (code, text)
        code, text = s.data(body)
        return code, text.decode(errors="replace")
    finally:
        try:
            s.quit()
        except (smtplib.SMTPException, OSError):
            pass


@pytest.fixture
def q(inst):
    inst.add_user(USER, "pw-alice-1")
    start_with_queue(inst)
    return inst


def envelope_text(sender="a@example.org", rcpts=("b@example.test",), extra=""):
    text = "postern-envelope 1\nid new\narrival 0\nsender %s\n%s" % (sender, extra)
    text += "".join("rcpt %s state=pending attempts=0 next=0\n" % r for r in rcpts)
    return text + "end\n"


def test_smtp_message_committed(q):
    code, text = smtp_send(q, "Subject: t\r\n\r\nhello queue\r\n")
    assert code == 250, (code, text)
    qid = QUEUED_AS.search(text).group(1)
    assert ENV_ID.match(qid)
    data, env = read_queued(q, qid)
    assert data.endswith(b"\r\nhello queue\r\n")
    assert env["sender"] == "someone@example.org"
    assert [a for a, _ in env["rcpt"]] == [USER]
    assert env["client-addr"].startswith("127.") and env["client-helo"] == "client.example.org"
    assert abs(int(env["arrival"]) - time.time()) < 120
    assert os.listdir(os.path.join(q.spool, "incoming")) == []
    # the log goes through master's pipe: it may land after the 250
    line = re.compile(r"queue\[\d+\]: %s: from=<someone@example.org>, size=%d, nrcpt=1, "
                      r"client=127\.[0-9.]+, helo=client\.example\.org" % (qid, len(data)))
    assert wait_for(lambda: line.search(q.log()), 10), q.log()


@needs_root
def test_queue_process_uid_and_chroot(q):
    import pwd
    pid = q.pid("queue")
    st = proc_status(pid)
    uid = pwd.getpwnam(q.aprefix + "queue").pw_uid
    assert st["Uid"].split() == [str(uid)] * 4, st["Uid"]
    assert os.readlink("/proc/%d/root" % pid) == os.path.realpath(q.spool)
    for sub in ("incoming", "msg", "env", "bounce"):
        s = os.stat(os.path.join(q.spool, sub))
        assert s.st_uid == uid and s.st_mode & 0o777 == 0o700


def test_startup_sweep(q):
    code, text = smtp_send(q, "Subject: keep\r\n\r\nkeep me\r\n")
    assert code == 250
    keep = QUEUED_AS.search(text).group(1)
    q.stop()
    junk = {"incoming/0000000000000AAAAAAAA.msg": b"half", "incoming/zz.env": b"x",
            "msg/7F/0000000000001BBBBBBBB": b"no envelope",
            "env/80/0000000000002CCCCCCCC": b"postern-envelope 1\n"}
    owner = os.stat(q.spool)
    for rel, data in junk.items():
        path = os.path.join(q.spool, rel)
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        os.chown(os.path.dirname(path), owner.st_uid, owner.st_gid)
        with open(path, "wb") as f:
            f.write(data)
        os.chown(path, owner.st_uid, owner.st_gid)
    start_with_queue(q)
    for rel in junk:
        assert not os.path.exists(os.path.join(q.spool, rel)), rel
    assert list(queued(q)) == [keep]
    log = q.log()
    assert "removed incoming/0000000000000AAAAAAAA.msg" in log
    assert "removed msg/7F/0000000000001BBBBBBBB (message without envelope)" in log


def test_envelope_revalidated(q):
    sock = os.path.join(q.runtime, "queue.sock")
    submit = os.path.join(q.runtime, "submit.sock")
    with Client(sock) as c:
        t, f = c.call(IPC_QUEUE_BEGIN, {"envelope": envelope_text(sender="not an address")})
        assert t == IPC_ERROR, f
        t, f = c.call(IPC_QUEUE_BEGIN, {"envelope": envelope_text(rcpts=("nodomain",))})
        assert t == IPC_ERROR, f
        bad = envelope_text().replace("state=pending attempts=0", "state=sent attempts=0")
        t, f = c.call(IPC_QUEUE_BEGIN, {"envelope": bad})
        assert t == IPC_ERROR, f
        # the connection stays usable; the queue chooses id and arrival
        t, f = c.call(IPC_QUEUE_BEGIN, {"envelope": envelope_text().replace(
            "arrival 0", "arrival 12345")})
        assert t == IPC_OK and ENV_ID.match(f["id"].decode()), f
        c.send(IPC_QUEUE_DATA, {"data": b"Subject: raw\r\n\r\nx\r\n"})
        t, f2 = c.call(IPC_QUEUE_END)
        assert t == IPC_OK and f2["id"] == f["id"]
        _, env = read_queued(q, f["id"].decode())
        assert env["arrival"] != "12345" and env["id"] == f["id"].decode()
    with Client(submit) as c:       # local submitters cannot claim a client
        t, f = c.call(IPC_QUEUE_BEGIN, {"envelope": envelope_text(
            extra="client-addr 192.0.2.1\n")})
        assert t == IPC_ERROR, f
    with Client(sock) as c:         # mailq's request is for submit.sock only
        c.send(IPC_QUEUE_LIST)
        assert c.recv() is None
    with Client(sock) as c:         # DATA without BEGIN: closed
        c.send(IPC_QUEUE_DATA, {"data": b"x"})
        assert c.recv() is None
    with Client(sock) as c:         # disconnect mid-message: nothing kept
        t, f = c.call(IPC_QUEUE_BEGIN, {"envelope": envelope_text()})
        assert t == IPC_OK
        c.send(IPC_QUEUE_DATA, {"data": b"partial"})
    assert wait_for(lambda: os.listdir(os.path.join(q.spool, "incoming")) == [], 5)
    assert len(queued(q)) == 1
    assert q.running("queue")


def test_size_limit_enforced_by_queue(q):
    with Client(os.path.join(q.runtime, "queue.sock")) as c:
        t, f = c.call(IPC_QUEUE_BEGIN, {"envelope": envelope_text()})
        assert t == IPC_OK
        chunk = b"x" * 60000
        for _ in range((35 * 1024 * 1024 + 64 * 1024) // 60000 + 2):
            c.send(IPC_QUEUE_DATA, {"data": chunk})
        t, f = c.call(IPC_QUEUE_END)
        assert t == IPC_ERROR and b"too big" in f["error"], (t, f)
    assert queued(q) == {}
    assert os.listdir(os.path.join(q.spool, "incoming")) == []


@needs_root
def test_commit_failure_leaves_nothing(inst):
    """A full file system: the queue answers an error, smtpd says 451, and
    no file of the message is left anywhere in the spool."""
    import pwd
    inst.add_user(USER, "pw-alice-1")
    inst.configure({"limits.message_size": "8M"})
    acct = pwd.getpwnam(inst.aprefix + "queue")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs",
                        inst.spool], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip("cannot mount a tmpfs: " + r.stderr)
    try:
        os.chown(inst.spool, acct.pw_uid, acct.pw_gid)
        start_with_queue(inst)
        big = "Subject: big\r\n\r\n" + ("z" * 998 + "\r\n") * 2200     # ~2.2 MB
        code, text = smtp_send(inst, big)
        assert code == 451 and "4.3.0" in text, (code, text)
        assert queued(inst) == {}
        assert spool_files(inst, "incoming") == {}
        assert "cannot write message" in inst.log() or "not queued" in inst.log()
        code, text = smtp_send(inst, "Subject: small\r\n\r\nfits\r\n")
        assert code == 250, (code, text)
        assert len(queued(inst)) == 1
    finally:
        inst.stop()
        subprocess.run(["umount", inst.spool])


def test_crash_safety_kill_queue(q):
    """50 concurrent SMTP clients; the queue is killed (SIGKILL) twice while
    they send.  Every message that got 250 must be in the spool, complete,
    with a parseable envelope; nothing is left in incoming/; no message file
    is without its envelope."""
    nthreads, per_thread = 50, 8
    acked, lock = {}, threading.Lock()
    errors = []

    def worker(n):
        for i in range(per_thread):
            marker = "END-OF-MESSAGE-%d-%d" % (n, i)
            body = ("Subject: crash %d/%d\r\n\r\n" % (n, i) + "line of text\r\n" * 200 +
                    marker + "\r\n")
            try:
                code, text = smtp_send(q, body, timeout=60)
            except (smtplib.SMTPException, OSError, AssertionError):
                continue
            if code == 250:
                m = QUEUED_AS.search(text)
                if m is None:
                    errors.append(text)
                    continue
                with lock:
                    acked[m.group(1)] = marker

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(nthreads)]
    for t in threads:
        t.start()
    kills = 0
    for goal in (40, 150):
        wait_for(lambda: len(acked) >= goal, 120, interval=0.01)
        pid = q.pid("queue")
        assert pid
        os.kill(pid, signal.SIGKILL)
        kills += 1
        assert wait_for(lambda: q.pid("queue") not in (None, pid) and q.running("queue"), 30), \
            "queue not restarted"
    for t in threads:
        t.join(300)
    assert not errors, errors[:3]
    assert kills == 2 and len(acked) >= 150, len(acked)
    # the queue restarted: settle, then check the spool as the scheduler would
    assert wait_for(lambda: spool_files(q, "incoming") == {}, 10), spool_files(q, "incoming")
    spool = queued(q)
    missing = [i for i in acked if i not in spool]
    assert not missing, "acknowledged but lost: %s" % missing[:5]
    for qid, (mpath, epath) in spool.items():
        with open(epath) as f:
            env = parse_envelope(f.read())
        assert env["id"] == qid and [a for a, _ in env["rcpt"]] == [USER]
        with open(mpath, "rb") as f:
            data = f.read()
        assert re.search(rb"END-OF-MESSAGE-\d+-\d+\r\n\Z", data), (qid, data[-60:])
        if qid in acked:
            assert data.endswith(acked[qid].encode() + b"\r\n")
    assert "killed by signal 9" in q.log()
    print("acknowledged %d, in spool %d, swept at restart: %d" % (
        len(acked), len(spool), q.log().count("(unfinished message)")))
