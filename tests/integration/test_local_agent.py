"""The local delivery agent (deliver/local) against a queue played by this
test on deliver.sock: HELLO, jobs with a message descriptor, results.  The
queue here is deliberately hostile too: local must refuse bad job records
without writing anything, and deliver good ones into a Maildir owned by the
vmail account, byte for byte after its two added header lines."""
import array
import glob
import itertools
import os
import pwd
import shutil
import signal
import socket
import struct
import subprocess
import tempfile

import pytest

from conftest import (SANITIZER_MARKS, Instance, fresh_instance, needs_root,
                      proc_status, teardown_instance, wait_for)

IPC_VERSION = 1
IPC_OK = 2
IPC_DELIVER_HELLO, IPC_DELIVER_JOB, IPC_DELIVER_RESULT = 13, 14, 15
IPC_DELIVER_ORPHAN = 21
DOMAIN = "example.test"
ALICE = "alice@" + DOMAIN
BODY = (b"Received: from client.example (client.example [192.0.2.1])\r\n"
        b"\tby mail.example.test with ESMTP id 0ABC; Fri, 4 Dec 2026 14:00:00 +0000\r\n"
        b"From: Bob <bob@example.org>\r\nTo: alice@example.test\r\n"
        b"Subject: test\r\n\r\nHello Alice,\r\nbinary-ish \xc3\xa9\xff bytes\r\n.\r\n")


def encode(rtype, fields):
    body = b""
    for k, v in fields:
        k = k.encode() if isinstance(k, str) else k
        v = v.encode() if isinstance(v, str) else (b"%d" % v if isinstance(v, int) else v)
        body += k + b"\0" + struct.pack("!I", len(v)) + v + b"\0"
    return struct.pack("!HHI", IPC_VERSION, rtype, len(body)) + body


def decode(pkt):
    """(type, [(key, value str)...]) keeping repeated fields."""
    version, rtype, blen = struct.unpack("!HHI", pkt[:8])
    assert version == IPC_VERSION and blen == len(pkt) - 8
    body, pos, fields = pkt[8:], 0, []
    while pos < len(body):
        nul = body.index(b"\0", pos)
        (n,) = struct.unpack("!I", body[nul + 1:nul + 5])
        fields.append((body[pos:nul].decode(), body[nul + 5:nul + 5 + n].decode()))
        pos = nul + 6 + n
    return rtype, fields


class FakeQueue:
    """The queue side of deliver.sock: accepts local's connection."""

    def __init__(self, path):
        if os.path.exists(path):
            os.unlink(path)
        self.lsock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.lsock.bind(path)
        self.lsock.listen(4)
        self.lsock.settimeout(30)
        self.conn = None

    def accept(self):
        """Wait for local's connection and its HELLO; answer OK."""
        if self.conn is not None:
            self.conn.close()
        self.conn, _ = self.lsock.accept()
        self.conn.settimeout(60)
        rtype, fields = decode(self.conn.recv(65536))
        assert rtype == IPC_DELIVER_HELLO, rtype
        d = dict(fields)
        assert d["transport"] == "local" and int(d["slots"]) >= 1, fields
        self.conn.send(encode(IPC_OK, []))
        return d

    def send_job(self, fields, fds=()):
        pkt = encode(IPC_DELIVER_JOB, fields)
        anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
        self.conn.sendmsg([pkt], anc)

    def recv(self):
        """(type, fields), or None when local closed the connection."""
        try:
            pkt = self.conn.recv(65536)
        except ConnectionResetError:
            return None
        return decode(pkt) if pkt else None

    def close(self):
        if self.conn is not None:
            self.conn.close()
        self.lsock.close()


def message_file(data=BODY):
    f = tempfile.TemporaryFile(dir="/tmp")
    f.write(data)
    f.flush()
    return f


def job_fields(tag, rcpt=ALICE, sender="bob@example.org", extra=()):
    return ([("job", str(tag)), ("id", "0123456789ABCDEFGHJKL"), ("sender", sender),
             ("arrival", "1764856800")] + list(extra) +
            [("rcpt", rcpt), ("orcpt", ""), ("notify", "0")])


class Agent:
    """The installed local binary run against a FakeQueue; each agent logs
    to a file of its own."""
    serial = itertools.count(1)

    def __init__(self, inst, wrapper=()):
        self.inst = inst
        self.queue = FakeQueue(os.path.join(inst.runtime, "deliver.sock"))
        self.logpath = os.path.join(inst.prefix, "local-%d.log" % next(Agent.serial))
        self.logf = open(self.logpath, "ab")
        cmd = list(wrapper) + [os.path.join(inst.libexec, "local"), "-c", inst.conf]
        self.proc = subprocess.Popen(cmd,
                                     stdin=subprocess.DEVNULL, stdout=self.logf,
                                     stderr=subprocess.STDOUT, env=inst.env(),
                                     start_new_session=True)
        self.hello = self.queue.accept()
        self.tag = 0

    def deliver(self, rcpt=ALICE, data=BODY, sender="bob@example.org"):
        """Send one good job; returns (status, [forward...])."""
        self.tag += 1
        with message_file(data) as f:
            self.queue.send_job(job_fields(self.tag, rcpt, sender), [f.fileno()])
        ans = self.queue.recv()
        assert ans is not None, "local closed the connection:\n" + self.log()
        rtype, fields = ans
        assert rtype == IPC_DELIVER_RESULT, ans
        assert fields[0] == ("job", str(self.tag)), fields
        status = [v for k, v in fields if k == "status"]
        assert len(status) == 1, fields
        return status[0], [v for k, v in fields if k == "forward"]

    def log(self):
        with open(self.logpath, errors="replace") as f:
            return f.read()

    def local_pid(self):
        """The local process (a child of the wrapper, if there is one)."""
        for p in os.listdir("/proc"):
            st = proc_status(int(p)) if p.isdigit() else None
            if st and st.get("PPid") == str(self.proc.pid) and \
                    st.get("Name") == "local":
                return int(p)
        return self.proc.pid

    def stop(self):
        if self.proc.poll() is None:
            pid = self.local_pid()
            if pid != self.proc.pid:
                os.kill(pid, signal.SIGTERM)
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.queue.close()
        self.logf.close()


def new_instance(keys, users=()):
    """Generator for a fixture: an installed (never started: the tests run
    local by hand) instance with config keys and users [(addr, password)],
    torn down like conftest's inst."""
    i = Instance()
    try:
        i.install()
        i.configure(keys)
        for addr, password in users:
            i.add_user(addr, password)
        yield i
    finally:
        teardown_instance(i)


@pytest.fixture(scope="module")
def shared():
    """The instance of the tests that need the default config: domain
    example.test, user alice.  Installed once for the file."""
    yield from new_instance({"domains": DOMAIN, "hostname": "mail.example.test"},
                            [(ALICE, "secret password")])


@pytest.fixture
def inst(shared):
    """The shared instance with an empty mail store (nothing under
    var/mail): each test starts as on a fresh instance; what else a test
    adds (users, quotas, the aliases map) no other test looks at."""
    for name in os.listdir(shared.mail):
        path = os.path.join(shared.mail, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)
    return shared


@pytest.fixture
def own_inst():
    """An instance of its own, for a test that needs another config."""
    yield from fresh_instance()


@pytest.fixture
def agent(inst):
    a = Agent(inst)
    yield a
    a.stop()
    log = a.log()
    print("---- local log ----\n" + log)
    bad = [line for line in log.splitlines() if any(m in line for m in SANITIZER_MARKS)]
    assert not bad, "sanitizer report in local's log:\n" + "\n".join(bad[:20])


def mailbox(inst, local="alice"):
    return os.path.join(inst.mail, DOMAIN, local)


def messages(inst, local="alice", folder=""):
    d = os.path.join(mailbox(inst, local), folder)
    return sorted(glob.glob(os.path.join(d, "new", "*")) + glob.glob(os.path.join(d, "cur", "*")))


def expected(rcpt=ALICE, data=BODY, sender="bob@example.org"):
    return b"Return-Path: <%s>\r\nDelivered-To: %s\r\n" % (sender.encode(), rcpt.encode()) + data


def write_aliases(inst, text):
    path = os.path.join(inst.etc, "aliases")
    with open(path, "w") as f:
        f.write(text)
    r = inst.postern("map", path)
    assert r.returncode == 0, r.stdout + r.stderr


@needs_root
def test_good_job_delivered_as_vmail_byte_exact(agent, inst):
    status, fwd = agent.deliver()
    assert status == "sent 2.0.0 delivered to maildir" and fwd == []
    files = messages(inst)
    assert len(files) == 1, files
    with open(files[0], "rb") as f:
        assert f.read() == expected()
    vmail = pwd.getpwnam(inst.aprefix + "vmail")
    st = os.stat(files[0])
    assert (st.st_uid, st.st_gid) == (vmail.pw_uid, vmail.pw_gid)
    assert st.st_mode & 0o7777 == 0o600
    assert files[0].endswith(",S=%d" % len(expected())), files[0]
    assert os.listdir(os.path.join(mailbox(inst), "tmp")) == []
    for d in (mailbox(inst), os.path.join(mailbox(inst), "new"),
              os.path.join(inst.mail, DOMAIN)):
        st = os.stat(d)
        assert st.st_uid == vmail.pw_uid and st.st_mode & 0o7777 == 0o700, d
    # the spawner is root and nothing else of it is left running
    st = proc_status(agent.proc.pid)
    assert st["Uid"].split()[0] == "0"
    assert not [p for p in os.listdir("/proc") if p.isdigit() and
                (proc_status(int(p)) or {}).get("PPid") == str(agent.proc.pid)]
    # a second message gets its own unique name
    assert agent.deliver()[0] == "sent 2.0.0 delivered to maildir"
    assert len(messages(inst)) == 2


def stopped_children(conf, uid):
    """Pids of processes of this instance running as uid, stopped."""
    found = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        st = proc_status(int(p))
        if not st or int(st["Uid"].split()[0]) != uid or st["State"][0] not in "Tt":
            continue
        try:
            with open("/proc/%s/cmdline" % p, "rb") as f:
                if conf.encode() in f.read():
                    found.append(int(p))
        except OSError:
            pass
    return found


@needs_root
@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace")
def test_child_runs_as_vmail_without_groups(inst):
    """Stop the delivery child at its first fsync (strace injects SIGSTOP),
    read its credentials from /proc, then let it finish."""
    vmail = pwd.getpwnam(inst.aprefix + "vmail")
    a = Agent(inst, wrapper=["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=fsync",
                             "-e", "inject=fsync:signal=SIGSTOP:when=1"])
    try:
        a.tag += 1
        with message_file() as f:
            a.queue.send_job(job_fields(a.tag), [f.fileno()])
        pids = wait_for(lambda: stopped_children(inst.conf, vmail.pw_uid), 30)
        assert len(pids) == 1, a.log()
        st = proc_status(pids[0])
        assert st["Uid"].split() == [str(vmail.pw_uid)] * 4, st["Uid"]
        assert st["Gid"].split() == [str(vmail.pw_gid)] * 4, st["Gid"]
        assert set(st["Groups"].split()) <= {str(vmail.pw_gid)}, st["Groups"]
        assert int(st["CapEff"], 16) == 0 and int(st["CapPrm"], 16) == 0
        assert st["NoNewPrivs"] == "1"
        assert st["PPid"] == str(a.local_pid())
        assert proc_status(a.local_pid())["Uid"].split()[0] == "0"
        os.kill(pids[0], signal.SIGCONT)
        rtype, fields = a.queue.recv()
        assert rtype == IPC_DELIVER_RESULT
        assert ("status", "sent 2.0.0 delivered to maildir") in fields, fields
        assert len(messages(inst)) == 1
    finally:
        a.stop()
        print(a.log())


@needs_root
@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace")
def test_sigterm_lets_running_delivery_finish(inst):
    """SIGTERM while a delivery is held: local takes no new job, the held
    delivery completes and is reported, then local exits 0."""
    vmail = pwd.getpwnam(inst.aprefix + "vmail")
    a = Agent(inst, wrapper=["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=fsync",
                             "-e", "inject=fsync:signal=SIGSTOP:when=1"])
    try:
        with message_file() as f:
            a.queue.send_job(job_fields(1), [f.fileno()])
        pids = wait_for(lambda: stopped_children(inst.conf, vmail.pw_uid), 30)
        assert len(pids) == 1, a.log()
        local = a.local_pid()
        os.kill(local, signal.SIGTERM)
        assert wait_for(lambda: "stopping: waiting for 1 deliveries" in a.log(), 30), a.log()
        with message_file() as f:       # not taken any more
            a.queue.send_job(job_fields(2), [f.fileno()])
        os.kill(pids[0], signal.SIGCONT)
        rtype, fields = a.queue.recv()
        assert rtype == IPC_DELIVER_RESULT and fields[0] == ("job", "1"), fields
        assert ("status", "sent 2.0.0 delivered to maildir") in fields, fields
        assert a.queue.recv() is None   # closed; job 2 never answered
        assert a.proc.wait(30) == 0
        assert len(messages(inst)) == 1
    finally:
        a.stop()
        print(a.log())


HOSTILE = [
    ("missing rcpt", [f for f in job_fields(1) if f[0] != "rcpt"], True),
    ("missing job tag", [f for f in job_fields(1) if f[0] != "job"], True),
    ("unknown field", job_fields(1, extra=[("mailbox-owner", "root")]), True),
    ("two recipients", job_fields(1) + [("rcpt", "root@example.test"), ("orcpt", ""),
                                        ("notify", "0")], True),
    ("bad notify", job_fields(1)[:-1] + [("notify", "3")], True),
    ("NUL in rcpt", job_fields(1, rcpt="alice\0@example.test"), True),
    ("NUL in sender", job_fields(1, sender="bob@exa\0mple.org"), True),
    ("bad job tag", [("job", "1; rm")] + job_fields(1)[1:], True),
    ("path in rcpt", job_fields(1, rcpt="../../etc@example.test"), True),
    ("slash in rcpt", job_fields(1, rcpt="x/../../../etc@example.test"), True),
    ("no descriptor", job_fields(1), False),
]


@needs_root
@pytest.mark.parametrize("name,fields,with_fd", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_job_refused_nothing_written(agent, inst, name, fields, with_fd):
    with message_file() as f:
        agent.queue.send_job(fields, [f.fileno()] if with_fd else [])
    ans = agent.queue.recv()
    if ans is not None:         # answered: never as delivered
        assert ans[0] == IPC_DELIVER_RESULT
        assert not dict(ans[1]).get("status", "").startswith("sent"), ans
    else:                       # connection closed: local reconnects
        agent.queue.accept()
    assert messages(inst) == []
    assert not os.path.exists(os.path.join(inst.mail, DOMAIN))
    assert agent.proc.poll() is None
    # still serving good jobs afterwards
    assert agent.deliver()[0] == "sent 2.0.0 delivered to maildir"


@needs_root
def test_unacknowledged_result_announced_as_orphan(agent, inst):
    """A result the queue did not acknowledge (it may have died before
    recording it) is announced to the next connection: HELLO orphans=1, an
    ORPHAN record, the RESULT again; once acknowledged it is forgotten."""
    assert agent.hello.get("orphans") == "0", agent.hello
    assert agent.deliver()[0] == "sent 2.0.0 delivered to maildir"
    assert len(messages(inst)) == 1
    hello = agent.queue.accept()        # "the queue died": a new connection
    assert hello.get("orphans") == "1", hello
    rtype, fields = agent.queue.recv()
    assert rtype == IPC_DELIVER_ORPHAN, (rtype, fields)
    assert fields == [("job", "1"), ("id", "0123456789ABCDEFGHJKL"), ("rcpt", ALICE)], fields
    rtype, fields = agent.queue.recv()
    assert rtype == IPC_DELIVER_RESULT, (rtype, fields)
    assert ("job", "1") in fields and ("status", "sent 2.0.0 delivered to maildir") in fields
    assert len(messages(inst)) == 1     # not delivered again
    agent.queue.conn.send(encode(IPC_OK, [("job", "1")]))
    # an acknowledgement for a job it does not know is ignored (logged)
    agent.queue.conn.send(encode(IPC_OK, [("job", "99")]))
    assert wait_for(lambda: "unknown job 99" in agent.log(), 30)
    hello = agent.queue.accept()
    assert hello.get("orphans") == "0", hello
    agent.tag = 1
    assert agent.deliver()[0] == "sent 2.0.0 delivered to maildir"
    assert len(messages(inst)) == 2


@needs_root
def test_descriptor_not_a_regular_file(agent, inst):
    r, w = os.pipe()
    agent.queue.send_job(job_fields(1), [r])
    os.close(r)
    os.close(w)
    assert agent.queue.recv() is None
    agent.queue.accept()
    assert messages(inst) == []


@needs_root
def test_recipient_outside_our_domains(agent, inst):
    status, _ = agent.deliver(rcpt="alice@other.example")
    assert status.startswith("defer 4.3.0"), status
    os.makedirs(os.path.join(inst.mail, "other.example"), exist_ok=True)
    assert not os.path.exists(os.path.join(inst.mail, "other.example", "alice"))
    assert messages(inst) == []


@needs_root
def test_unknown_user(agent, inst):
    assert agent.deliver(rcpt="nobody@" + DOMAIN)[0] == "fail 5.1.1 user unknown"
    assert not os.path.exists(os.path.join(inst.mail, DOMAIN))


@needs_root
def test_extension_and_folder(agent, inst):
    assert agent.deliver(rcpt="alice+news@" + DOMAIN)[0] == "sent 2.0.0 delivered to maildir"
    folder = os.path.join(mailbox(inst), ".work")
    vmail = pwd.getpwnam(inst.aprefix + "vmail")
    for d in (folder, folder + "/cur", folder + "/new", folder + "/tmp"):
        os.mkdir(d, 0o700)
        os.chown(d, vmail.pw_uid, vmail.pw_gid)
    status, _ = agent.deliver(rcpt="alice+work@" + DOMAIN)
    assert status == "sent 2.0.0 delivered to maildir folder work"
    got = messages(inst, folder=".work")
    assert len(got) == 1
    with open(got[0], "rb") as f:
        assert f.read() == expected(rcpt="alice+work@" + DOMAIN)
    assert len(messages(inst)) == 1


@needs_root
def test_extension_folders_off(own_inst):
    inst = own_inst     # a config of its own
    inst.configure({"local.extension_folders": "no", "domains": DOMAIN})
    inst.add_user(ALICE, "pw")
    a = Agent(inst)
    try:
        assert a.deliver()[0].startswith("sent ")
        vmail = pwd.getpwnam(inst.aprefix + "vmail")
        for sub in ("", "/cur", "/new", "/tmp"):
            os.mkdir(mailbox(inst) + "/.work" + sub, 0o700)
            os.chown(mailbox(inst) + "/.work" + sub, vmail.pw_uid, vmail.pw_gid)
        assert a.deliver(rcpt="alice+work@" + DOMAIN)[0] == "sent 2.0.0 delivered to maildir"
        assert messages(inst, folder=".work") == []
    finally:
        a.stop()


@needs_root
def test_quota_defers_then_raised(agent, inst):
    """On a user of its own (dora): alice's quota stays as it is for the
    other tests of the shared instance."""
    dora = "dora@" + DOMAIN
    inst.add_user(dora, "pw")
    r = inst.postern("user", "quota", dora, "100")
    assert r.returncode == 0, r.stderr
    status, _ = agent.deliver(rcpt=dora)
    assert status == "defer 4.2.2 mailbox full", status
    assert messages(inst, "dora") == []
    r = inst.postern("user", "quota", dora, "1M")
    assert r.returncode == 0, r.stderr
    assert agent.deliver(rcpt=dora)[0] == "sent 2.0.0 delivered to maildir"
    # exactly at the limit still fits, one byte more does not
    used = os.path.getsize(messages(inst, "dora")[0])
    assert inst.postern("user", "quota", dora, str(2 * used)).returncode == 0
    assert agent.deliver(rcpt=dora)[0] == "sent 2.0.0 delivered to maildir"
    assert inst.postern("user", "quota", dora, str(3 * used - 1)).returncode == 0
    assert agent.deliver(rcpt=dora)[0] == "defer 4.2.2 mailbox full"
    assert len(messages(inst, "dora")) == 2
    r = inst.postern("user", "quota", "nosuch@" + DOMAIN, "1M")
    assert r.returncode != 0 and "no such user" in r.stderr


@needs_root
def test_mail_loop(agent, inst):
    looped = b"Delivered-To: alice@example.test\r\n" * 100 + BODY
    assert agent.deliver(data=looped)[0] == \
        "fail 5.4.6 mail loop: too many Delivered-To headers"
    assert messages(inst) == []
    fine = b"Delivered-To: alice@example.test\r\n" * 99 + BODY
    assert agent.deliver(data=fine)[0].startswith("sent ")


@needs_root
def test_aliases(agent, inst):
    inst.add_user("carol@" + DOMAIN, "pw")
    write_aliases(inst, "\n".join([
        "list@example.test  alice@example.test, bob@remote.example sub@example.test",
        "sub@example.test   carol, list@example.test, alice@example.test",
        "self@example.test  self@example.test",
        "ping@example.test  pong@example.test",
        "pong@example.test  ping@example.test",
        "file@example.test  alice@example.test, /tmp/mbox",
        "prog@example.test  \"|/bin/sh -c id\"",
        "deep@example.test  list",
        ""]))
    status, fwd = agent.deliver(rcpt="list@" + DOMAIN)
    assert status == "sent 2.0.0 forwarded"
    assert fwd == ["alice@example.test", "bob@remote.example", "carol@example.test"]
    assert agent.deliver(rcpt="List+x@" + DOMAIN) == (status, fwd)
    assert agent.deliver(rcpt="deep@" + DOMAIN) == (status, fwd)
    assert agent.deliver(rcpt="self@" + DOMAIN)[0].startswith("fail 5.4.6")
    assert agent.deliver(rcpt="ping@" + DOMAIN)[0].startswith("fail 5.4.6")
    status, fwd = agent.deliver(rcpt="file@" + DOMAIN)
    assert status.startswith("fail 5.3.5") and "file" in status and fwd == []
    status, fwd = agent.deliver(rcpt="prog@" + DOMAIN)
    assert status.startswith("fail 5.3.5") and fwd == []
    assert messages(inst) == [] and messages(inst, "carol") == []


@needs_root
def test_sigterm_exits_cleanly(agent, inst):
    assert agent.deliver()[0].startswith("sent ")
    agent.proc.send_signal(signal.SIGTERM)
    assert agent.proc.wait(30) == 0
    assert "stopped" in agent.log()


@pytest.fixture
def sysuser(own_inst):
    """A system account (uid >= 1000) with its home in the instance's
    prefix; removed afterwards."""
    inst = own_inst     # a config of its own
    name = "pl" + inst.aprefix[2:7]
    home = os.path.join(inst.prefix, "home", name)
    os.makedirs(os.path.dirname(home), exist_ok=True)
    r = subprocess.run(["useradd", "-m", "-d", home, "-s", "/usr/sbin/nologin", "-K",
                        "UID_MIN=20000", name], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    try:
        yield pwd.getpwnam(name)
    finally:
        subprocess.run(["userdel", "-r", name], capture_output=True)


def write_forward(pw, text):
    path = os.path.join(pw.pw_dir, ".forward")
    with open(path, "w") as f:
        f.write(text)
    os.chown(path, pw.pw_uid, pw.pw_gid)
    os.chmod(path, 0o644)


@needs_root
def test_system_user_forward_and_pipe(own_inst, sysuser):
    inst = own_inst     # a config of its own
    inst.configure({"domains": DOMAIN, "local.system_users": "yes",
                    "local.allow_pipe": "yes"})
    rcpt = "%s@%s" % (sysuser.pw_name, DOMAIN)
    piped = os.path.join(sysuser.pw_dir, "piped")
    a = Agent(inst)
    try:
        # no .forward: ~/Maildir, owned by the user
        assert a.deliver(rcpt=rcpt)[0] == "sent 2.0.0 delivered to maildir"
        got = glob.glob(os.path.join(sysuser.pw_dir, "Maildir", "new", "*"))
        assert len(got) == 1 and os.stat(got[0]).st_uid == sysuser.pw_uid
        with open(got[0], "rb") as f:
            assert f.read() == expected(rcpt=rcpt)
        # a copy kept, a program without a shell, and a forward
        write_forward(sysuser, "# mine\n\\%s\n|/usr/bin/tee -a %s\nfriend@remote.example\n"
                      % (sysuser.pw_name, piped))
        status, fwd = a.deliver(rcpt=rcpt)
        assert (status, fwd) == ("sent 2.0.0 forwarded", ["friend@remote.example"])
        assert len(glob.glob(os.path.join(sysuser.pw_dir, "Maildir", "new", "*"))) == 2
        with open(piped, "rb") as f:
            assert f.read() == expected(rcpt=rcpt)
        assert os.stat(piped).st_uid == sysuser.pw_uid
        # exit statuses: 75 defers, others fail; relative programs and files refused
        write_forward(sysuser, "|/usr/bin/python3 -c exit(75)\n")
        assert a.deliver(rcpt=rcpt)[0].startswith("defer 4.3.0")
        write_forward(sysuser, "|/bin/false\n")
        assert a.deliver(rcpt=rcpt)[0].startswith("fail 5.3.0")
        write_forward(sysuser, "|false\n")
        assert a.deliver(rcpt=rcpt)[0].startswith("fail 5.3.5")
        write_forward(sysuser, "/tmp/mbox\n")
        assert a.deliver(rcpt=rcpt)[0].startswith("fail 5.3.5")
        assert not os.path.exists("/tmp/mbox")
        # a .forward others may write is ignored
        write_forward(sysuser, "friend@remote.example\n")
        os.chmod(os.path.join(sysuser.pw_dir, ".forward"), 0o666)
        assert a.deliver(rcpt=rcpt)[0] == "sent 2.0.0 delivered to maildir"
        # root and system accounts are never mailboxes
        assert a.deliver(rcpt="root@" + DOMAIN)[0] == "fail 5.1.1 user unknown"
        assert a.deliver(rcpt="daemon@" + DOMAIN)[0] == "fail 5.1.1 user unknown"
    finally:
        a.stop()
        print(a.log())


@needs_root
def test_system_user_pipe_not_allowed(own_inst, sysuser):
    inst = own_inst     # a config of its own
    inst.configure({"domains": DOMAIN, "local.system_users": "yes"})
    rcpt = "%s@%s" % (sysuser.pw_name, DOMAIN)
    write_forward(sysuser, "|/usr/bin/tee /tmp/should-not-exist-%s\n" % sysuser.pw_name)
    a = Agent(inst)
    try:
        status, _ = a.deliver(rcpt=rcpt)
        assert status.startswith("fail 5.3.5") and "allow_pipe" in status, status
        assert not os.path.exists("/tmp/should-not-exist-" + sysuser.pw_name)
    finally:
        a.stop()
