"""sendmail and mailq: local submission through submit.sock into the spool
(envelope and headers), -t/-f/-F/-i, the dot line, exit codes when the
queue is down, setgid use by an ordinary user, the mailq listing."""
import os
import pwd
import re
import stat

import pytest

from conftest import IS_ROOT, needs_root
from spool_util import mailq, queued, read_queued, sendmail, start_with_queue

ME = pwd.getpwuid(os.getuid()).pw_name
HOST = "mail.example.test"


@pytest.fixture
def q(inst):
    start_with_queue(inst)
    return inst


def only_message(inst):
    ids = list(queued(inst))
    assert len(ids) == 1, ids
    return read_queued(inst, ids[0])


def headers(data):
    head = data.split(b"\r\n\r\n", 1)[0].decode()
    return [line.split(":", 1)[0].lower() for line in head.split("\r\n")]


def test_basic_submission_adds_headers(q):
    r = sendmail(q, ["alice@example.test"], "Subject: hi\n\nhello\nworld\n")
    assert r.returncode == 0, r.stderr
    data, env = only_message(q)
    assert env["sender"] == "%s@%s" % (ME, HOST)
    assert [a for a, _ in env["rcpt"]] == ["alice@example.test"]
    assert env["rcpt"][0][1]["state"] == "pending"
    assert env["protocol"] == "local" and env["client-addr"] == "local"
    assert env["auth-id"] == "uid=%d" % os.getuid()
    assert int(env["arrival"]) > 0
    assert b"\n" not in data.replace(b"\r\n", b""), "bare LF stored"
    h = headers(data)
    assert h[0] == "subject"
    for name in ("from", "date", "message-id"):
        assert h.count(name) == 1, h
    assert ("From: %s@%s\r\n" % (ME, HOST)).encode() in data
    assert re.search(rb"Message-ID: <\d{14}\.[0-9A-Z]{16}@mail\.example\.test>\r\n", data)
    assert data.endswith(b"\r\n\r\nhello\r\nworld\r\n")


def test_existing_headers_kept_and_full_name(q):
    msg = ("From: Someone <someone@example.org>\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n"
           "Message-ID: <x@y>\nSubject: s\n\nbody\n")
    r = sendmail(q, ["-F", "Ignored", "bob@example.net"], msg)
    assert r.returncode == 0, r.stderr
    data, _ = only_message(q)
    assert headers(data) == ["from", "date", "message-id", "subject"]
    assert b"Ignored" not in data
    r = sendmail(q, ["-F", 'Jo "Q" Public', "bob@example.net"], "Subject: t\n\nx\n")
    assert r.returncode == 0, r.stderr
    datas = [read_queued(q, i)[0] for i in queued(q)]
    assert any(('From: "Jo \\"Q\\" Public" <%s@%s>\r\n' % (ME, HOST)).encode() in d
               for d in datas), datas


def test_t_extracts_recipients_and_removes_bcc(q):
    msg = ("To: Alice <alice@example.test>, bob@example.net\n"
           "Cc: \"Carol, C.\" <carol@example.org> (comment)\n"
           "Bcc: hidden@example.com,\n  dave\n"
           "Subject: t\n\nsecret Bcc: line in the body stays\n")
    r = sendmail(q, ["-t", "-f", "list-owner@example.org", "-oi", "extra@example.com"], msg)
    assert r.returncode == 0, r.stderr
    data, env = only_message(q)
    assert env["sender"] == "list-owner@example.org"
    assert sorted(a for a, _ in env["rcpt"]) == sorted([
        "alice@example.test", "bob@example.net", "carol@example.org",
        "hidden@example.com", "dave@" + HOST, "extra@example.com"])
    head = data.split(b"\r\n\r\n", 1)[0]
    assert b"hidden" not in head and b"Bcc" not in head and b"dave" not in head
    assert b"secret Bcc: line in the body stays" in data


def test_null_sender_and_unqualified(q):
    r = sendmail(q, ["-f", "<>", "bob"], "Subject: x\n\nx\n")
    assert r.returncode == 0, r.stderr
    _, env = only_message(q)
    assert env["sender"] == ""
    assert env["rcpt"][0][0] == "bob@" + HOST
    r = sendmail(q, ["-f", "<Owner@Example.ORG>", "bob@example.net"], "x\n")
    assert r.returncode == 0, r.stderr
    senders = sorted(read_queued(q, i)[1]["sender"] for i in queued(q))
    assert senders == ["", "Owner@example.org"], senders


def test_dot_line_ends_message_unless_i(q):
    r = sendmail(q, ["a@example.test"], "Subject: 1\n\nbefore\n.\nafter\n")
    assert r.returncode == 0, r.stderr
    data, _ = only_message(q)
    assert data.endswith(b"before\r\n") and b"after" not in data
    for flag in ("-i", "-oi"):
        r = sendmail(q, [flag, "a@example.test"], "Subject: 2\n\nbefore\n.\nafter\n")
        assert r.returncode == 0, r.stderr
    bodies = [read_queued(q, i)[0] for i in queued(q)]
    assert sum(1 for b in bodies if b.endswith(b"before\r\n.\r\nafter\r\n")) == 2


def test_message_without_header(q):
    r = sendmail(q, ["a@example.test"], "just a body line\nsecond\n")
    assert r.returncode == 0, r.stderr
    data, _ = only_message(q)
    head, body = data.split(b"\r\n\r\n", 1)
    assert sorted(headers(data)) == ["date", "from", "message-id"]
    assert body == b"just a body line\r\nsecond\r\n"


def test_usage_and_address_errors(q):
    r = sendmail(q, [], "Subject: x\n\nx\n")
    assert r.returncode == 64 and "message not queued" in r.stderr, r
    r = sendmail(q, ["-bs"], "")
    assert r.returncode == 64, r
    r = sendmail(q, ["bad address@@x"], "Subject: x\n\nx\n")
    assert r.returncode == 65 and "message not queued" in r.stderr, r
    r = sendmail(q, ["-f", "a@@b", "ok@example.test"], "x\n")
    assert r.returncode == 65, r
    r = sendmail(q, ["ok@example.test"], "Subject: " + "x" * 1200 + "\n\nx\n")
    assert r.returncode == 65 and "998" in r.stderr, r
    assert queued(q) == {}


def test_queue_unreachable_tempfail(inst):
    r = sendmail(inst, ["alice@example.test"], "Subject: x\n\nx\n")
    assert r.returncode == 75, r
    assert r.stderr.startswith("sendmail: message not queued:"), r.stderr
    start_with_queue(inst)
    r = sendmail(inst, ["alice@example.test"], "Subject: x\n\nx\n")
    assert r.returncode == 0, r.stderr
    inst.stop()
    r = sendmail(inst, ["alice@example.test"], "Subject: x\n\nx\n")
    assert r.returncode == 75, r


def test_too_big(inst):
    inst.configure({"limits.message_size": "10K"})
    start_with_queue(inst)
    r = sendmail(inst, ["alice@example.test"], "Subject: x\n\n" + ("y" * 80 + "\n") * 200)
    assert r.returncode == 65 and "too big" in r.stderr, r
    assert queued(inst) == {}
    assert os.listdir(os.path.join(inst.spool, "incoming")) == []


@needs_root
def test_setgid_as_ordinary_user(q):
    path = os.path.join(q.prefix, "sbin/sendmail")
    st = os.stat(path)
    assert st.st_mode & stat.S_ISGID and st.st_gid == \
        __import__("grp").getgrnam(q.aprefix + "submit").gr_gid
    r = sendmail(q, ["alice@example.test"], "Subject: nobody\n\nx\n", user="nobody")
    assert r.returncode == 0, r.stderr
    _, env = only_message(q)
    assert env["sender"] == "nobody@" + HOST
    assert env["auth-id"] == "uid=%d" % pwd.getpwnam("nobody").pw_uid
    r = mailq(q, user="nobody")
    assert r.returncode == 0 and "nobody@" + HOST in r.stdout, r
    # without the setgid program the socket is out of reach
    import socket
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = os.fork()
    if pid == 0:
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)
        try:
            s.connect(os.path.join(q.runtime, "submit.sock"))
            os._exit(1)
        except PermissionError:
            os._exit(0)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0


def test_mailq(q):
    r = mailq(q)
    assert r.returncode == 0 and r.stdout.strip() == "Mail queue is empty", r
    for i in range(3):
        r = sendmail(q, ["-f", "s%d@example.org" % i, "r%d@example.net" % i,
                         "x%d@example.net" % i], "Subject: %d\n\nbody\n" % i)
        assert r.returncode == 0, r.stderr
    r = mailq(q)
    assert r.returncode == 0, r.stderr
    for qid in queued(q):
        assert qid in r.stdout
    for i in range(3):
        assert "s%d@example.org" % i in r.stdout
        assert "r%d@example.net" % i in r.stdout and "x%d@example.net" % i in r.stdout
    assert "in 3 Requests." in r.stdout


def test_mailq_queue_down(inst):
    r = mailq(inst)
    assert r.returncode == 75 and "queue unreachable" in r.stderr, r
