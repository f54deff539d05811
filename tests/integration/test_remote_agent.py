"""The remote delivery agent as a process (deliver/agent.c,
remote_server.c, remote_worker.c): confinement as /proc shows it while a
delivery is in progress, and no duplicate delivery when the queue is
killed in the middle of one (the agent keeps the job and announces it as
an ORPHAN with all its recipients to the next queue, which takes it over
and records the worker's result)."""
import os
import signal
import threading

import pytest

from conftest import allocate_address, needs_root, proc_status, wait_for
from delivery_helpers import message, send, wait_queue_empty
from dns_helpers import dns_server  # noqa: F401 (fixture)
from remote_helpers import PEER_PORT, RawPeer, serve_smtp
from smtp_helpers import USER, boot
from test_smtpd_privsep import assert_unprivileged, open_fds, mapped_files

pytestmark = [needs_root]

DOMAIN = "held.test"


class HeldPeer:
    """A raw SMTP peer that takes the whole message, then holds its answer
    to the final dot until release() (or 120 s)."""

    def __init__(self, addr):
        self.release_ev = threading.Event()
        self.peer = RawPeer(addr, self.behaviour)

    def behaviour(self, c):
        def dot(line):
            self.release_ev.wait(120)
            return b"250 2.0.0 queued\r\n"
        serve_smtp(c, replies={".": dot})

    def release(self):
        self.release_ev.set()

    def stop(self):
        self.release_ev.set()
        self.peer.stop()


@pytest.fixture
def held(inst, dns_server):  # noqa: F811
    addr, lock = allocate_address()
    hp = HeldPeer(addr)
    try:
        dns = dns_server(mx={DOMAIN: [(10, "mx." + DOMAIN)]},
                         hosts={"mx." + DOMAIN: [addr]})
        boot(inst, remote__dns=dns.server, remote__port=str(PEER_PORT),
             smtpd__trusted_networks="127.0.0.0/8")
        assert wait_for(lambda: inst.running("remote"), 30), inst.log()[-3000:]
        yield inst, hp
    finally:
        hp.stop()
        lock.close()


def remote_pids(inst):
    """The remote agent (master's child) and its workers."""
    parent = inst.pid("remote")
    kids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = proc_status(int(d))
            if st is not None and st.get("PPid") == str(parent):
                kids.append(int(d))
    return parent, kids


def test_remote_and_its_worker_are_confined(held):
    """While a worker holds an open SMTP transaction: the agent and the
    worker run as PREFIXremote (group PREFIXremote only), chrooted in the
    runtime dir, without capabilities; neither holds a directory, the TLS
    key, the password hashes or a listener; the worker holds the message
    it delivers read-only, nothing else of the spool."""
    inst, hp = held
    send(inst, USER, ["bob@" + DOMAIN], message(subject="confined"))
    assert wait_for(lambda: len(hp.peer.messages) == 1, 60), inst.log()[-3000:]
    parent, kids = remote_pids(inst)
    assert parent and len(kids) == 1, (parent, kids)
    forbidden = [os.path.realpath(inst.key), inst.key,
                 os.path.join(inst.etc, "users.cdb"), os.path.join(inst.etc, "users")]
    for pid, what in ((parent, "remote"), (kids[0], "worker")):
        assert_unprivileged(inst, pid, "remote", ("remote",), inst.runtime)
        fds = open_fds(pid)
        spool_files = []
        for fd, (target, is_dir) in fds.items():
            assert not is_dir, (what, fd, target)
            assert not any(target == p or target.startswith(p + "/") for p in forbidden), \
                (what, fd, target)
            if target.startswith(inst.spool.rstrip("/") + "/"):
                spool_files.append((fd, target))
            if target.startswith("socket:"):
                assert fd > 2, (what, fds)
        for m in mapped_files(pid):
            assert not any(m == p or m.startswith(p + "/") for p in forbidden), (what, m)
        if what == "worker":    # the message being delivered, read-only
            assert len(spool_files) == 1 and "/msg/" in spool_files[0][1], fds
            flags = open("/proc/%d/fdinfo/%d" % (pid, spool_files[0][0])).read()
            mode = int(flags.split("flags:")[1].split()[0], 8) & 3
            assert mode == os.O_RDONLY, flags
        else:
            assert spool_files == [], (what, fds)
    # master and local are the only root processes; remote's uid is its own
    assert proc_status(parent)["Uid"].split()[0] != "0"
    hp.release()
    wait_queue_empty(inst)


def test_queue_killed_mid_delivery_no_duplicate(held):
    """The queue dies (SIGKILL) while a worker is in the middle of a
    two-recipient job.  The agent keeps the job; the restarted queue takes
    it over from the ORPHAN record and records the result the worker gets
    afterwards: the peer receives the message exactly once, and nothing is
    left in the queue (no second attempt, even after a flush)."""
    inst, hp = held
    send(inst, USER, ["bob@" + DOMAIN, "carol@" + DOMAIN], message(subject="orphan"))
    assert wait_for(lambda: len(hp.peer.messages) == 1, 60), inst.log()[-3000:]
    old = inst.pid("queue")
    os.kill(old, signal.SIGKILL)
    assert wait_for(lambda: inst.running("queue") and inst.pid("queue") != old, 60), \
        inst.status()
    assert wait_for(lambda: "of an earlier connection taken over" in inst.log(), 60), \
        inst.log()[-4000:]
    hp.release()
    wait_queue_empty(inst)
    log = inst.log()
    assert log.count("to=<bob@%s>, relay=mx.%s[" % (DOMAIN, DOMAIN)) == 1, log[-4000:]
    assert log.count("to=<carol@%s>, relay=mx.%s[" % (DOMAIN, DOMAIN)) == 1, log[-4000:]
    assert "status=sent" in log
    inst.postern("flush")
    assert not wait_for(lambda: len(hp.peer.messages) > 1, 5)
    assert len(hp.peer.messages) == 1, hp.peer.messages
    rcpts = sorted(r.decode().strip() for r in hp.peer.messages[0][1])
    assert rcpts == ["RCPT TO:<bob@%s>" % DOMAIN, "RCPT TO:<carol@%s>" % DOMAIN], rcpts


def ipv6_loopback():
    import socket
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 loopback here")
def test_ipv6_only_mx(inst, dns_server):  # noqa: F811
    """An MX host with only an AAAA record (::1) is reached over IPv6."""
    from remote_helpers import Sink, start_sink
    sink = Sink()
    peer = start_sink("::1", sink, name="mx.v6.test")
    try:
        dns = dns_server(mx={"v6.test": [(10, "mx.v6.test")]},
                         hosts={"mx.v6.test": ["::1"]})
        boot(inst, remote__dns=dns.server, remote__port=str(PEER_PORT),
             smtpd__trusted_networks="127.0.0.0/8")
        send(inst, USER, ["dora@v6.test"], message(subject="over v6"))
        assert wait_for(lambda: len(sink.messages) == 1, 60), inst.log()[-3000:]
        wait_queue_empty(inst)
        assert "relay=mx.v6.test[::1]:%d" % PEER_PORT in inst.log(), inst.log()[-3000:]
        assert sink.messages[0][1] == ["dora@v6.test"], sink.messages
    finally:
        peer.stop()
