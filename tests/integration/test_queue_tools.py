"""The scheduler and `postern queue`: with a real instance, mail for a
remote domain waits (no remote agent exists yet) and is listed, shown, held,
released, flushed and deleted with the postern command; a stand-in remote
agent (a Python process running as PREFIXremote, speaking deliver.sock)
takes jobs and answers defer / fail / sent, and the spool, the listing and
the log follow.  Users other than root are refused."""
import glob
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import Instance, needs_root, teardown_instance, wait_for
from ipc_client import IPC_ERROR, IPC_OK, IPC_QUEUE_LIST, Client, decode, encode
from smtp_helpers import USER, boot, queue_id, spool_env, spool_ids, submission

pytestmark = needs_root

(IPC_DELIVER_HELLO, IPC_DELIVER_JOB, IPC_DELIVER_RESULT, IPC_QUEUE_SHOW,
 IPC_QUEUE_DELETE, IPC_QUEUE_HOLD, IPC_QUEUE_RELEASE, IPC_QUEUE_FLUSH,
 IPC_DELIVER_ORPHAN) = range(13, 22)

REMOTE = "bob@remote.example"
ID_RE = re.compile(r"^([0-9A-Z]{21})[ !]", re.M)

# The stand-in remote agent: HELLO, then for each command line on stdin
# ("VERB X.Y.Z text", or "quit" to disconnect without answering) wait for a
# job, print it as one JSON line (fields, and the first line of the message
# read from the passed descriptor), and answer every recipient with the
# command.  Runs as PREFIXremote (the queue checks SO_PEERCRED).
AGENT = textwrap.dedent("""
    import array, json, socket, struct, sys, os
    sys.path.insert(0, sys.argv[2])
    from ipc_client import encode, decode
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(sys.argv[1])
    s.send(encode(13, [("transport", "remote"), ("slots", "5")]))
    t, f = decode(s.recv(65536))
    print(json.dumps({"hello": t}), flush=True)
    for line in sys.stdin:
        cmd = line.strip()
        fds = array.array("i")
        msg, anc, _flags, _addr = s.recvmsg(65536, socket.CMSG_SPACE(4 * fds.itemsize))
        for level, typ, data in anc:
            fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
        t, f = decode(msg)
        items, pos, body = [], 8, msg[8:]
        pos = 0
        while pos < len(body):
            nul = body.index(b"\\0", pos)
            (n,) = struct.unpack("!I", body[nul + 1:nul + 5])
            items.append((body[pos:nul].decode(), body[nul + 5:nul + 5 + n].decode()))
            pos = nul + 6 + n
        first = os.pread(fds[0], 200, 0).split(b"\\r\\n")[0].decode() if fds else ""
        for fd in fds:
            os.close(fd)
        print(json.dumps({"type": t, "fields": items, "first": first}), flush=True)
        if cmd == "quit":
            break
        rcpts = [v for k, v in items if k == "rcpt"]
        job = [v for k, v in items if k == "job"][0]
        s.send(encode(15, [("job", job)] + [("status", cmd)] * len(rcpts) +
                      [("relay", "mx.remote.example[192.0.2.7]:25")]))
    s.close()
""")


def boot_no_remote(inst, **config):
    """boot() without the real remote agent (deliver/remote): these tests
    play the remote agent themselves, or need remote mail to wait."""
    prog = os.path.join(inst.libexec, "remote")
    if os.path.exists(prog):
        os.remove(prog)
    return boot(inst, **config)


@pytest.fixture(scope="module")
def shared():
    """One instance for the tests that share a config (retries an hour
    apart, no real remote agent)."""
    i = Instance()
    try:
        i.install()
        boot_no_remote(i, queue__retry_min="1h", queue__retry_max="4h")
        yield i
    finally:
        teardown_instance(i)


@pytest.fixture
def srv(shared):
    """The shared instance with an empty queue: whatever an earlier test
    left (a bounce, a held or deferred message) is deleted first, so each
    test sees only its own messages; log lines it looks for name its own
    queue ids, or are looked for after the length the log had at its
    start."""
    r = q(shared, "delete", "all")
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert wait_for(lambda: spool_ids(shared) == [], 30), spool_ids(shared)
    return shared


def send(inst, rcpts, subject="t"):
    s = submission(inst)
    try:
        body = ("From: %s\r\nTo: %s\r\nSubject: %s\r\n\r\nbody\r\n"
                % (USER, ", ".join(rcpts), subject))
        s.mail(USER)
        for r in rcpts:
            code, text = s.rcpt(r)
            assert code == 250, (code, text)
        code, text = s.data(body)
        assert code == 250, (code, text)
        return queue_id(text)
    finally:
        s.quit()


def q(inst, *args):
    return inst.postern("queue", *args)


def listed(inst):
    r = q(inst)
    assert r.returncode == 0, r.stderr
    return r.stdout


def env_lines(inst, qid):
    from smtp_helpers import spool_env_text
    return spool_env_text(inst, qid).splitlines()


def test_list_show_hold_release_delete(srv):
    a = send(srv, [REMOTE], "first")
    b = send(srv, [REMOTE, "carol@remote.example"], "second")
    out = listed(srv)
    assert set(ID_RE.findall(out)) == {a, b}, out
    assert "pending bob@remote.example" in out and "pending carol@remote.example" in out
    assert USER in out and "2 Requests." in out
    # the remote transport has no agent: nothing was attempted
    assert all(r["attempts"] == "0" and r["state"] == "pending"
               for r in spool_env(srv, b)["rcpt"])

    r = q(srv, "show", a)
    assert r.returncode == 0, r.stderr
    assert "*** ENVELOPE ***" in r.stdout and "*** HEADERS ***" in r.stdout
    assert "id " + a in r.stdout and "rcpt bob@remote.example" in r.stdout
    assert "Subject: first" in r.stdout and "body" not in r.stdout.split("*** HEADERS ***")[1]

    r = q(srv, "hold", a)
    assert r.returncode == 0 and "held 1 message" in r.stdout, (r.stdout, r.stderr)
    assert "hold 1" in env_lines(srv, a)          # durable
    assert re.search(r"^%s!.*\(on hold\)" % a, listed(srv), re.M)
    r = q(srv, "hold", a)
    assert r.returncode == 0 and "held 0 messages" in r.stdout
    r = q(srv, "release", "all")
    assert r.returncode == 0 and "released 1 message" in r.stdout
    assert "hold 1" not in env_lines(srv, a)
    assert "(on hold)" not in listed(srv)

    r = q(srv, "delete", a)
    assert r.returncode == 0 and "deleted 1 message" in r.stdout
    assert spool_ids(srv) == [b]
    assert not [p for p in os.popen("find %s/msg -type f" % srv.spool).read().split() if a in p]
    assert a not in listed(srv)
    r = q(srv, "delete", "all")
    assert r.returncode == 0 and "deleted 1 message" in r.stdout
    assert spool_ids(srv) == [] and "Mail queue is empty" in listed(srv)
    assert "%s: deleted by the administrator" % a in srv.log()


def test_errors_and_usage(srv):
    a = send(srv, [REMOTE])
    for bad in ("0000000000000XXXXXXXX", "../../etc/passwd", "all", "x" * 70):
        r = q(srv, "show", bad)
        assert r.returncode == 1 and "no such message" in r.stderr or \
            "postern:" in r.stderr, (bad, r.stdout, r.stderr)
    r = q(srv, "delete", "0000000000000XXXXXXXX")
    assert r.returncode == 1 and "no such message" in r.stderr
    for args in (("bogus",), ("show",), ("delete",), ("hold", "a", "b"), ("list", "x")):
        r = q(srv, *args)
        assert r.returncode == 2 and "usage" in r.stderr, args
    r = srv.postern("flush", "now")
    assert r.returncode == 2
    assert spool_ids(srv) == [a]


def test_not_root_refused(srv):
    a = send(srv, [REMOTE])
    # postern as an ordinary user cannot even reach submit.sock
    r = subprocess.run(["runuser", "-u", "nobody", "--", srv.bin, "-c", srv.conf,
                        "queue", "delete", "all"], capture_output=True, text=True,
                       env=srv.env(), timeout=60)
    assert r.returncode == 1 and "permission denied" in r.stderr, (r.stdout, r.stderr)
    # a client in the submit group (like mailq) is refused by the queue's
    # SO_PEERCRED check for everything but the listing
    sock = os.path.join(srv.runtime, "submit.sock")
    script = textwrap.dedent("""
        import sys
        sys.path.insert(0, sys.argv[2])
        from ipc_client import Client, encode, decode
        out = []
        for t, f in ((17, [("id", "all")]), (18, [("id", sys.argv[3])]),
                     (16, [("id", sys.argv[3])]), (20, []), (10, [])):
            c = Client(sys.argv[1])
            c.send_raw(encode(t, f))
            rt, fields = decode(c.sock.recv(65536))
            out.append("%d %d %s" % (t, rt, fields.get("error", b"").decode()))
            c.sock.close()
        print("\\n".join(out))
    """)
    r = subprocess.run(["runuser", "-u", "nobody", "-g", srv.aprefix + "submit", "--",
                        sys.executable, "-c", script, sock,
                        os.path.dirname(__file__), a],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.split("\n")
    for t in (IPC_QUEUE_DELETE, IPC_QUEUE_HOLD, IPC_QUEUE_SHOW, IPC_QUEUE_FLUSH):
        assert "%d %d permission denied" % (t, IPC_ERROR) in lines, r.stdout
    assert "%d %d " % (IPC_QUEUE_LIST, IPC_OK) in lines, r.stdout
    assert spool_ids(srv) == [a] and "hold 1" not in env_lines(srv, a)


def test_malformed_admin_requests_close(srv):
    a = send(srv, [REMOTE])
    sock = os.path.join(srv.runtime, "submit.sock")
    for t, fields in ((IPC_QUEUE_DELETE, []), (IPC_QUEUE_DELETE, [("id", a), ("id", a)]),
                      (IPC_QUEUE_HOLD, [("x", a)]), (IPC_QUEUE_FLUSH, [("id", a)]),
                      (IPC_QUEUE_SHOW, [("id", a + "\0")]), (IPC_QUEUE_LIST, [("x", "1")])):
        c = Client(sock)
        c.send_raw(encode(t, fields))
        assert c.sock.recv(65536) == b"", (t, fields)      # closed, no answer
        c.sock.close()
    assert spool_ids(srv) == [a]


class Agent:
    """The stand-in remote agent (see AGENT)."""

    def __init__(self, inst):
        path = os.path.join(inst.prefix, "fake_agent.py")
        with open(path, "w") as f:
            f.write(AGENT)
        os.chmod(path, 0o644)
        self.p = subprocess.Popen(
            ["runuser", "-u", inst.aprefix + "remote", "--", sys.executable, path,
             os.path.join(inst.runtime, "deliver.sock"), os.path.dirname(__file__)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        hello = json.loads(self.p.stdout.readline() or "{}")
        assert hello.get("hello") == IPC_OK, (hello, self.p.stderr.read())

    def answer(self, cmd):
        """Wait for the next job, answer it with cmd; returns the job."""
        self.p.stdin.write(cmd + "\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        assert line, self.p.stderr.read()
        job = json.loads(line)
        job["f"] = {}
        for k, v in job["fields"]:
            job["f"].setdefault(k, []).append(v)
        return job

    def close(self):
        if self.p.poll() is None:
            self.p.stdin.close()
            self.p.wait(timeout=30)


def log_has(inst, pattern):
    return wait_for(lambda: re.search(pattern, inst.log(), re.M), 30)


def test_agent_defer_flush_fail(srv):
    qid = send(srv, [REMOTE, "carol@remote.example"])
    ag = Agent(srv)
    try:
        before = int(time.time())
        job = ag.answer("defer 4.4.1 connection timed out")
        after = int(time.time())
        f = job["f"]
        assert job["type"] == IPC_DELIVER_JOB and f["id"] == [qid]
        assert f["rcpt"] == [REMOTE, "carol@remote.example"]     # one job, one domain
        assert f["sender"] == [USER] and len(f["orcpt"]) == 2
        assert job["first"].startswith("Received: ")            # the message itself
        assert log_has(srv, r"%s: to=<%s>, relay=mx\.remote\.example\[192\.0\.2\.7\]:25, "
                       r"delay=[0-9.]+, dsn=4\.4\.1, status=deferred \(connection timed out\)"
                       % (qid, re.escape(REMOTE)))
        # the log line comes first, then the envelope is rewritten
        assert wait_for(lambda: all(r["state"] == "deferred"
                                    for r in spool_env(srv, qid)["rcpt"]), 30)
        env = spool_env(srv, qid)
        for r in env["rcpt"]:
            assert r["state"] == "deferred" and r["attempts"] == "1", r
            assert r["status"] == "4.4.1 connection timed out"
            assert before + 3600 <= int(r["next"]) <= after + 3600    # retry_min
        out = listed(srv)
        assert "deferred bob@remote.example" in out and "(4.4.1 connection timed out)" in out

        # flush: due now, a new job at once
        r = srv.postern("flush")
        assert r.returncode == 0 and "2 deferred recipients due now" in r.stdout, r.stdout
        job = ag.answer("fail 5.1.1 no such user here")
        assert job["f"]["id"] == [qid]
        assert log_has(srv, r"%s: to=<%s>, relay=\S+, delay=[0-9.]+, dsn=5\.1\.1, "
                       r"status=bounced \(no such user here\)" % (qid, re.escape(REMOTE)))
        assert log_has(srv, r"%s: non-delivery notification to <%s>: [0-9A-Z]{21}"
                       % (qid, re.escape(USER)))
        # every recipient final: the original is gone, one bounce was made
        assert wait_for(lambda: qid not in spool_ids(srv), 30)
        bounces = re.findall(r"%s: non-delivery notification to <[^>]*>: ([0-9A-Z]{21})"
                             % qid, srv.log())
        assert len(bounces) == 1
    finally:
        ag.close()


def test_agent_sent_removes_and_hold_blocks(srv):
    qid = send(srv, [REMOTE])
    q(srv, "hold", qid)
    ag = Agent(srv)
    try:
        other = send(srv, ["dave@remote.example"])
        job = ag.answer("sent 2.0.0 250 ok queued")       # the held one is not sent
        assert job["f"]["id"] == [other]
        assert log_has(srv, r"%s: to=<dave@remote\.example>, relay=\S+, delay=[0-9.]+, "
                       r"dsn=2\.0\.0, status=sent \(250 ok queued\)" % other)
        assert wait_for(lambda: other not in spool_ids(srv), 30)
        assert log_has(srv, r"%s: removed" % other)
        r = q(srv, "release", qid)
        assert "released 1 message" in r.stdout
        job = ag.answer("sent 2.0.0 ok")
        assert job["f"]["id"] == [qid]
        assert wait_for(lambda: spool_ids(srv) == [], 30)
    finally:
        ag.close()


def test_agent_gone_defers(srv):
    qid = send(srv, [REMOTE])
    ag = Agent(srv)
    job = ag.answer("quit")                 # takes the job, disconnects
    ag.close()
    assert job["f"]["id"] == [qid]
    assert log_has(srv, r"%s: to=<%s>, relay=none, delay=[0-9.]+, dsn=4\.3\.0, "
                   r"status=deferred \(delivery agent went away\)" % (qid, re.escape(REMOTE)))
    assert wait_for(lambda: spool_env(srv, qid)["rcpt"][0]["state"] == "deferred", 30)
    assert spool_env(srv, qid)["rcpt"][0]["attempts"] == "1"


def test_bad_agents_refused(srv):
    mark = len(srv.log())
    qid = send(srv, [REMOTE])
    sock = os.path.join(srv.runtime, "deliver.sock")
    # root may only be the local agent; a remote HELLO from root is refused
    c = Client(sock)
    c.send_raw(encode(IPC_DELIVER_HELLO, [("transport", "remote"), ("slots", "1")]))
    assert c.sock.recv(65536) == b""
    c.sock.close()
    for fields in ([("transport", "smoke"), ("slots", "1")],
                   [("transport", "local"), ("slots", "0")],
                   [("transport", "local")],
                   [("transport", "local"), ("slots", "1"), ("x", "y")]):
        c = Client(sock)
        c.send_raw(encode(IPC_DELIVER_HELLO, fields))
        assert c.sock.recv(65536) == b"", fields
        c.sock.close()
    # the real one still works
    ag = Agent(srv)
    job = ag.answer("sent 2.0.0 ok")
    assert job["f"]["id"] == [qid]
    ag.close()
    assert wait_for(lambda: qid not in spool_ids(srv), 30)
    log = srv.log()[mark:]
    assert "not uid 0" in log or "not the remote account" in log


# A remote agent that sends the records given as JSON, then prints as JSON
# what the queue answers: up to N records, "eof" when the queue closed.
SCRIPTED_AGENT = textwrap.dedent("""
    import json, socket, sys
    sys.path.insert(0, sys.argv[2])
    from ipc_client import encode, decode
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(sys.argv[1])
    try:
        for t, fields in json.loads(sys.argv[3]):
            s.send(encode(t, [tuple(f) for f in fields]))
    except OSError:
        pass
    s.settimeout(60)
    out = []
    while len(out) < int(sys.argv[4]):
        try:
            pkt = s.recv(65536)
        except ConnectionResetError:
            pkt = b""
        if not pkt:
            out.append("eof")
            break
        t, f = decode(pkt)
        out.append([t, {k: v.decode() for k, v in f.items()}])
    print(json.dumps(out), flush=True)
""")


def scripted_agent(inst, records, n):
    path = os.path.join(inst.prefix, "scripted_agent.py")
    with open(path, "w") as f:
        f.write(SCRIPTED_AGENT)
    os.chmod(path, 0o644)
    r = subprocess.run(
        ["runuser", "-u", inst.aprefix + "remote", "--", sys.executable, path,
         os.path.join(inst.runtime, "deliver.sock"), os.path.dirname(__file__),
         json.dumps(records), str(n)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def hello(orphans):
    return [IPC_DELIVER_HELLO, [["transport", "remote"], ["slots", "5"],
                                ["orphans", str(orphans)]]]


def orphan(job, qid, rcpt, extra=()):
    return [IPC_DELIVER_ORPHAN, [["job", str(job)], ["id", qid], ["rcpt", rcpt]] + list(extra)]


def result(job, status):
    return [IPC_DELIVER_RESULT, [["job", str(job)], ["status", status]]]


def test_orphans_taken_over(srv):
    """An agent that kept jobs of an earlier connection announces them after
    HELLO: an open recipient is taken over (its result recorded, no new
    job), an unknown message or a recipient already in a job gets its result
    discarded; every result is acknowledged."""
    mark = len(srv.log())
    qid = send(srv, [REMOTE])
    out = scripted_agent(srv, [
        hello(3),
        orphan(900, qid, REMOTE),
        orphan(901, "0000000000009ZZZZZZZZ", "x@remote.example"),
        orphan(902, qid, "Bob@Remote.Example"),     # the same recipient, in job 900
        result(901, "sent 2.0.0 ok"),
        result(900, "sent 2.0.0 250 queued"),
        result(902, "defer 4.0.0 whatever"),
    ], 4)
    assert out == [[IPC_OK, {}], [IPC_OK, {"job": "901"}], [IPC_OK, {"job": "900"}],
                   [IPC_OK, {"job": "902"}]], out
    assert log_has(srv, r"%s: to=<%s>, relay=remote, delay=[0-9.]+, dsn=2\.0\.0, "
                   r"status=sent \(250 queued\)" % (qid, re.escape(REMOTE)))
    assert wait_for(lambda: qid not in spool_ids(srv), 30)
    log = srv.log()[mark:]
    assert "result of job 901 ignored" in log and "result of job 902 ignored" in log, log
    assert "dsn=4.0.0" not in log


def test_bad_orphans_close(srv):
    qid = send(srv, [REMOTE])
    # held: an agent whose orphans are all read gets jobs, and these close
    assert "held 1 message" in q(srv, "hold", qid).stdout
    unknown = "0000000000009ZZZZZZZZ"
    for records in ([hello(2), orphan(5, unknown, REMOTE), orphan(5, unknown, REMOTE)],
                    [hello(1), orphan(5, unknown.lower(), REMOTE)],
                    [hello(1), orphan(5, "../../../../../etc/pa", REMOTE)],
                    [hello(1), orphan(5, unknown, "no-domain")],
                    [hello(1), orphan(5, unknown, REMOTE, [["x", "y"]])],
                    [hello(1), orphan("-5", unknown, REMOTE)],
                    [hello(1), result(5, "sent 2.0.0 ok")],     # before the ORPHAN
                    [hello(0), orphan(5, unknown, REMOTE)],     # none announced
                    [hello(1), orphan(5, unknown, REMOTE), result(5, "sent 2.0.0 a"),
                     result(5, "sent 2.0.0 again")]):
        out = scripted_agent(srv, records, 5)
        assert out[0] == [IPC_OK, {}] and out[-1] == "eof", (records, out)
    out = scripted_agent(srv, [hello(20001)], 5)
    assert out == ["eof"], out
    # nothing was recorded for the message; a good agent still gets it
    assert spool_env(srv, qid)["rcpt"][0]["state"] == "pending"
    assert "released 1 message" in q(srv, "release", qid).stdout
    ag = Agent(srv)
    job = ag.answer("sent 2.0.0 ok")
    assert job["f"]["id"] == [qid]
    ag.close()
    assert wait_for(lambda: qid not in spool_ids(srv), 30)


def maildir_files(inst, user="alice"):
    return sorted(glob.glob(os.path.join(inst.prefix, "var/mail/example.test", user,
                                         "new", "*")))


def test_restart_keeps_state(srv):
    mark = len(srv.log())
    a = send(srv, [REMOTE], "kept")
    b = send(srv, ["erin@remote.example"], "held")
    assert "held 1 message" in q(srv, "hold", b).stdout
    srv.stop()
    # a rewrite interrupted before its rename leaves env/XX/.ID: swept
    xx = os.path.basename(os.path.dirname(
        glob.glob(os.path.join(srv.spool, "env", "*", a))[0]))
    stale = os.path.join(srv.spool, "env", xx, "." + a)
    with open(stale, "w") as f:
        f.write("half-written envelope")
    shutil.chown(stale, srv.aprefix + "queue", srv.aprefix + "queue")
    srv.start()
    srv.wait_ready(service="queue")
    assert wait_for(lambda: "2 messages queued" in srv.log()[mark:], 30), srv.log()
    assert not os.path.exists(stale)
    assert "removed env/%s/.%s (unfinished envelope update)" % (xx, a) in srv.log()[mark:]
    out = listed(srv)
    assert set(ID_RE.findall(out)) == {a, b}
    assert re.search(r"^%s!.*\(on hold\)" % b, out, re.M), out


def test_expiry_bounces_to_sender(inst):
    boot_no_remote(inst, queue__lifetime="2s", queue__retry_min="1h", queue__retry_max="1h")
    before = maildir_files(inst)
    qid = send(inst, [REMOTE], "will expire")
    # no remote agent: the recipient waits, then expires and bounces
    assert log_has(inst, r"%s: to=<%s>, relay=none, delay=[0-9.]+, dsn=5\.4\.7, "
                   r"status=expired \(delivery time expired\)" % (qid, re.escape(REMOTE)))
    assert wait_for(lambda: qid not in spool_ids(inst), 30)
    assert wait_for(lambda: len(maildir_files(inst)) == len(before) + 1, 30), inst.log()
    with open(maildir_files(inst)[-1], "rb") as f:
        report = f.read()
    assert b"report-type=delivery-status" in report
    assert b"Final-Recipient: rfc822; " + REMOTE.encode() in report
    assert b"Status: 5.4.7" in report and b"Subject: will expire" in report


def test_delay_warning_once(inst):
    boot_no_remote(inst, queue__warn_after="1s", queue__retry_min="1h", queue__retry_max="1h")
    qid = send(inst, [REMOTE], "slow")
    assert log_has(inst, r"%s: delay notification to <%s>: [0-9A-Z]{21}"
                   % (qid, re.escape(USER)))
    assert wait_for(lambda: "warned 1" in env_lines(inst, qid), 30)
    assert wait_for(lambda: maildir_files(inst), 30)
    with open(maildir_files(inst)[-1], "rb") as f:
        report = f.read()
    assert b"Action: delayed" in report
    # once: a flush and a restart do not warn again
    inst.postern("flush")
    inst.stop()
    inst.start()
    inst.wait_ready(service="queue")
    assert wait_for(lambda: "1 messages queued" in inst.log(), 30)
    assert len(re.findall(r"%s: delay notification" % qid, inst.log())) == 1
    assert len(maildir_files(inst)) == 1


def test_double_bounce_never_loops(inst):
    # a message from <> that fails goes to the postmaster; here the
    # postmaster address does not exist, so that double bounce fails too
    # and is dropped: the queue ends empty, nothing loops
    boot_no_remote(inst, queue__lifetime="2s", queue__postmaster="nobody-here@example.test")
    s = submission(inst)
    try:
        s.mail("<>")
        s.rcpt(REMOTE)
        code, text = s.data("Subject: from the null sender\r\n\r\nx\r\n")
        assert code == 250, (code, text)
        qid = queue_id(text)
    finally:
        s.quit()
    assert log_has(inst, r"%s: non-delivery notification to <nobody-here@example\.test>: "
                   r"([0-9A-Z]{21})" % qid)
    dbl = re.search(r"%s: non-delivery notification to <[^>]*>: ([0-9A-Z]{21})" % qid,
                    inst.log()).group(1)
    assert log_has(inst, r"%s: warning: double bounce to <nobody-here@example\.test> "
                   r"failed; dropped" % dbl)
    assert wait_for(lambda: spool_ids(inst) == [], 30), spool_ids(inst)
    assert len(re.findall(r"notification to", inst.log())) == 1
