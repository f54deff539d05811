"""The remote delivery agent (deliver/remote) end to end: mail for a
domain that is not ours is routed by MX through a private DNS server
(dnsmasq, dns_helpers.py) to a real SMTP server (Python's aiosmtpd) on a
127.x address; a recipient the peer refuses with 5xx comes back to the
sender as a delivery status notification.

Then the failure paths (issue 5), against one shared instance: MX
preference with fallback, equal preference, implicit MX, null MX; 4xx then
delivery after `postern flush`; 5xx at the end of data; a peer that drops
the connection in the middle of DATA, or closes after accepting; refusing
greetings; SIZE; 8-bit to a peer without 8BITMIME; dot lines; HELO
fallback; MAIL refused while pipelined; DSN parameters; CHUNKING; hostile
replies (garbage, 10 KB lines, 1000-line replies, changing codes); silent
peers with short remote.timeout_* (a second instance).  The peers are in
remote_helpers.py: aiosmtpd Sinks and raw-socket RawPeers."""
import os
import re

import pytest

from conftest import allocate_address, needs_root, wait_for
from delivery_helpers import (DSN, address_of, maildir, maildir_files, message,
                              queue_listing, read, send, wait_files,
                              wait_queue_empty, wait_rcpt_state)
from smtp_helpers import USER, module_instance, spool_env, spool_ids

aiosmtpd = pytest.importorskip("aiosmtpd")
from remote_helpers import (PEER_PORT, REMOTE, Ctx, PeerClosed, RawPeer,  # noqa: E402
                            Sink, dsns_about, empty_queue, serve_smtp, sink_peer,
                            start_sink, wait_dsn, wait_gone, wait_log_text)


pytestmark = [needs_root]


@pytest.fixture(scope="module", params=["plain", "starttls", "pipelining"])
def peer(request):
    addr, lock = allocate_address()
    sink = Sink(pipelining=request.param == "pipelining")
    c = start_sink(addr, sink, tls=request.param == "starttls")
    try:
        yield addr, sink
    finally:
        c.stop()
        lock.close()


@pytest.fixture(scope="module")
def peer_srv(peer):
    """An instance (and a DNS server) per kind of peer, shared by the tests
    of that peer."""
    from dns_helpers import DnsServer, have_dnsmasq
    if not have_dnsmasq():
        pytest.skip("dnsmasq is not installed (tests/deps.sh)")
    addr, sink = peer
    dns = DnsServer(mx={REMOTE: [(10, "mx." + REMOTE)]},
                    hosts={"mx." + REMOTE: [addr]}).start()
    try:
        gen = module_instance(remote__dns=dns.server, remote__port=str(PEER_PORT),
                              smtpd__trusted_networks="127.0.0.0/8")
        inst = next(gen)
        try:
            assert wait_for(lambda: inst.running("remote"), 30), inst.log()[-3000:]
            yield inst, sink
        finally:
            gen.close()
    finally:
        dns.stop()


@pytest.fixture
def remote_inst(peer_srv):
    """The peer's shared instance; the sink starts each test empty (the
    earlier tests waited until their mail was gone) and what a test leaves
    queued is deleted after it."""
    inst, sink = peer_srv
    del sink.messages[:]
    yield inst, sink
    empty_queue(inst)


def test_delivered_to_the_mx(remote_inst):
    inst, sink = remote_inst
    mark = len(inst.log())
    body = message(subject="to the mx", body="line one\r\n.starts with a dot\r\nend\r\n")
    send(inst, USER, ["bob@" + REMOTE, "carol@" + REMOTE], body)
    assert wait_for(lambda: len(sink.messages) >= 1, 60), inst.log()[-4000:]
    sender, rcpts, data = sink.messages[0][:3]
    assert sender == USER
    assert sorted(rcpts) == ["bob@" + REMOTE, "carol@" + REMOTE]
    assert b"\r\n.starts with a dot\r\n" in data, data
    assert data.endswith(b"end\r\n"), data[-50:]
    wait_queue_empty(inst)
    log = inst.log()[mark:]
    assert "relay=mx.%s[" % REMOTE in log, log[-3000:]
    if sink.tls:    # opportunistic: delivered, logged as not verified
        assert "TLS TLSv1." in log and "certificate not verified" in log, log[-3000:]
    else:
        assert "TLS TLSv1." not in log, log[-3000:]


def test_5xx_bounces_to_the_sender(remote_inst):
    """One recipient refused at RCPT, one accepted in the same job."""
    inst, sink = remote_inst
    before = maildir_files(maildir(inst, USER))
    send(inst, USER, ["reject1@" + REMOTE, "dave@" + REMOTE], message(subject="refused"))
    files = wait_files(inst, USER, len(before) + 1)
    new = sorted(set(files) - set(before))
    assert len(new) == 1, (before, files)
    dsn = DSN(read(new[0]))
    assert len(dsn.recipients) == 1, dsn.recipients
    r = dsn.recipients[0]
    assert address_of(r["final-recipient"]) == "reject1@" + REMOTE, r
    assert r["action"].lower() == "failed", r
    assert r["status"] == "5.1.1", r
    assert "no such user here" in dsn.text, dsn.text
    assert wait_for(lambda: len(sink.messages) == 1, 30), sink.messages
    assert sink.messages[0][1] == ["dave@" + REMOTE], sink.messages
    wait_queue_empty(inst)


def test_runtime_sockets_closed_to_remote(remote_inst):
    """remote is chrooted in paths.runtime: of the sockets there, only
    deliver.sock may accept its uid (and groups)."""
    import subprocess
    inst, _ = remote_inst
    name = inst.aprefix + "remote"
    socks = sorted(f for f in os.listdir(inst.runtime) if f.endswith(".sock"))
    assert {"auth.sock", "queue.sock", "submit.sock", "deliver.sock",
            "master.sock"} <= set(socks), socks
    probe = ("import socket,sys\n"
             "s=socket.socket(socket.AF_UNIX,socket.SOCK_SEQPACKET)\n"
             "try:\n s.connect(sys.argv[1])\nexcept PermissionError:\n sys.exit(3)\n"
             "except OSError as e:\n print(e); sys.exit(4)\n")
    for f in socks:
        r = subprocess.run(["setpriv", "--reuid=" + name, "--regid=" + name,
                            "--init-groups", "/usr/bin/python3", "-c", probe,
                            os.path.join(inst.runtime, f)],
                           capture_output=True, text=True, timeout=30)
        if f == "deliver.sock":
            assert r.returncode == 0, (f, r.returncode, r.stdout, r.stderr)
        else:
            assert r.returncode == 3, (f, r.returncode, r.stdout, r.stderr)


# ---- failure paths, against one shared instance ---------------------------
#
# The tests below share one instance and one DNS server (module scope, to
# keep them fast); each uses its own destination domain and recipients and
# the fixture q deletes whatever it leaves in the queue.  Peers:
#   good, good2  aiosmtpd Sinks (good offers PIPELINING)
#   no8          a Sink that offers neither 8BITMIME nor SMTPUTF8
#   dead         an address nothing listens on (connections refused)
#   raw1..raw3   addresses for the raw-socket peers the tests start
#   nulla        the A record of the null-MX domain: a RawPeer that counts
#                connections (there must be none)

def _zone(n):
    good = "mx.good.test"
    mx = {d: [(10, good)] for d in ("retry.test", "datafail.test", "dots.test",
                                     "after.test")}
    mx.update({
        "pref.test": [(20, "mx2.pref.test"), (10, "mx1.pref.test")],
        "tie.test": [(10, "a.tie.test"), (10, "b.tie.test")],
        # one domain per test: a worker keeps its connection for the next
        # job of the same domain, which would skip the first MX
        "greet421.test": [(10, "mx1.greet.test"), (20, "mx2.greet.test")],
        "greet554.test": [(10, "mx1.greet.test"), (20, "mx2.greet.test")],
        "data.drop.test": [(10, "mx.data.drop.test")],
        "bdat.drop.test": [(10, "mx.bdat.drop.test")],
        # one domain per case: a 4.4.X deferral suspends the destination
        **{"%s.hostile.test" % k: [(10, "mx.hostile.test")] for k in HOSTILE},
        "eightbit.test": [(10, "mx.eightbit.test")],
        "size.test": [(10, "mx1.size.test"), (20, "mx2.size.test")],
        "small.test": [(10, "mx1.size.test")],
        "raw.test": [(10, "mx.raw.test")],
        "rset.test": [(10, "mx.raw.test")],
        "chunk.test": [(10, "mx.raw.test")],
        "mixed.test": [(10, "mx.good.test")],
        "data250.test": [(10, "mx.raw.test")],
        "utf8.test": [(10, "mx.raw.test")],
        "noutf8.test": [(10, "mx.eightbit.test")],
        **{"%s.slow.test" % k: [(10, "mx.slow.test")] for k in SILENT},
    })
    hosts = {
        good: [n.good_addr],
        "mx1.pref.test": [n.dead], "mx2.pref.test": [n.good_addr],
        "a.tie.test": [n.good_addr], "b.tie.test": [n.good2_addr],
        "mx1.greet.test": [n.raw2], "mx2.greet.test": [n.good_addr],
        "mx.data.drop.test": [n.raw1], "mx.bdat.drop.test": [n.raw1],
        "mx.hostile.test": [n.raw3],
        "mx.eightbit.test": [n.no8_addr],
        "mx1.size.test": [n.raw2], "mx2.size.test": [n.good_addr],
        "mx.raw.test": [n.raw1],
        "mx.slow.test": [n.raw3],
        "implicit.test": [n.good_addr],     # no MX: the A record is the MX
        "nullmx.test": [n.nulla],           # with MX 0 . : never used
    }
    return mx, hosts


@pytest.fixture(scope="module")
def net():
    import types
    from dns_helpers import DnsServer, have_dnsmasq
    if not have_dnsmasq():
        pytest.skip("dnsmasq is not installed (tests/deps.sh)")
    locks, stop = [], []
    n = types.SimpleNamespace()
    try:
        for name in ("good_addr", "good2_addr", "no8_addr", "dead", "raw1", "raw2",
                     "raw3", "nulla"):
            a, lock = allocate_address()
            locks.append(lock)
            setattr(n, name, a)
        n.good, n.good2, n.no8 = Sink(pipelining=True), Sink(), \
            Sink(eightbitmime=False, smtputf8=False)
        for addr, sink in ((n.good_addr, n.good), (n.good2_addr, n.good2),
                           (n.no8_addr, n.no8)):
            stop.append(start_sink(addr, sink))
        n.null_peer = RawPeer(n.nulla, serve_smtp)
        stop.append(n.null_peer)
        mx, hosts = _zone(n)
        n.dns = DnsServer(mx=mx, hosts=hosts, null_mx=["nullmx.test"])
        stop.append(n.dns.start())
        yield n
    finally:
        for s in reversed(stop):
            s.stop()
        for lock in locks:
            lock.close()


@pytest.fixture(scope="module")
def srv(net):
    from smtp_helpers import module_instance
    gen = module_instance(remote__dns=net.dns.server, remote__port=str(PEER_PORT),
                          smtpd__trusted_networks="127.0.0.0/8")
    inst = next(gen)
    try:
        assert wait_for(lambda: inst.running("remote"), 30), inst.log()[-3000:]
        yield inst
    finally:
        gen.close()


@pytest.fixture
def q(srv):
    c = Ctx(srv)
    yield c
    empty_queue(srv)


def sent_lines(c, qid, rcpt):
    """The queue's log lines recording rcpt of qid as sent."""
    rx = re.compile(r"^queue\[\d+\]: %s: to=<%s>,.* status=sent " % (re.escape(qid),
                                                                    re.escape(rcpt)))
    return [line for line in c.log().splitlines() if rx.search(line)]


def relay_of(c, qid, rcpt):
    """The relay= of the (one) sent log line of rcpt."""
    lines = sent_lines(c, qid, rcpt)
    assert len(lines) == 1, (lines, c.log()[-3000:])
    return re.search(r"relay=(\S+?),", lines[0]).group(1)


def test_mx_fallback_when_the_first_refuses_connections(q, net):
    """MX 10 has no listener: the agent logs the refused connection and
    delivers through MX 20."""
    rcpt = "bob@pref.test"
    qid = send(q.inst, USER, [rcpt], message(subject="fallback"))
    wait_gone(q, qid)
    assert len(net.good.of(rcpt)) == 1, net.good.messages
    refused = "mx1.pref.test[%s]:%d: Connection refused" % (net.dead, PEER_PORT)
    wait_log_text(q, refused)
    log = q.log()
    assert relay_of(q, qid, rcpt) == "mx2.pref.test[%s]:%d" % (net.good_addr, PEER_PORT)
    assert log.index(refused) < log.index(sent_lines(q, qid, rcpt)[0])


def test_equal_preference_either_host(q, net):
    rcpts = ["tie%d@tie.test" % i for i in range(4)]
    qids = [send(q.inst, USER, [r], message(subject="tie %d" % i))
            for i, r in enumerate(rcpts)]
    for qid in qids:
        wait_gone(q, qid)
    for qid, r in zip(qids, rcpts):
        assert len(net.good.of(r)) + len(net.good2.of(r)) == 1, r
        assert relay_of(q, qid, r) in ("a.tie.test[%s]:%d" % (net.good_addr, PEER_PORT),
                                       "b.tie.test[%s]:%d" % (net.good2_addr, PEER_PORT))


def test_implicit_mx(q, net):
    """No MX record: the domain's own address record is the mail host."""
    rcpt = "carol@implicit.test"
    qid = send(q.inst, USER, [rcpt], message(subject="implicit"))
    wait_gone(q, qid)
    assert len(net.good.of(rcpt)) == 1, net.good.messages
    assert relay_of(q, qid, rcpt) == "implicit.test[%s]:%d" % (net.good_addr, PEER_PORT)


def test_null_mx_fails_at_once(q, net):
    """RFC 7505: MX 0 . -> a permanent failure (5.1.10), reported to the
    sender; the domain's A record is not tried."""
    rcpt = "dave@nullmx.test"
    qid = send(q.inst, USER, [rcpt], message(subject="null mx"))
    d = wait_dsn(q, qid)
    r = d.recipient(rcpt)
    assert r["action"].lower() == "failed", r
    assert r["status"] == "5.1.10", r
    assert "null MX" in d.text, d.text
    wait_gone(q, qid)
    assert net.null_peer.connections == 0
    assert re.search(r"%s: to=<%s>,.* dsn=5\.1\.10, status=bounced" % (qid, re.escape(rcpt)),
                     q.log()), q.log()[-3000:]


@pytest.mark.parametrize("stage", ["RCPT TO", "end of data"])
def test_4xx_then_delivered_once_after_flush(q, net, stage):
    """451 to one RCPT (the other recipient is delivered) or to the end of
    data (both wait): what was deferred stays queued -- no retry by itself
    before queue.retry_min (5 min) -- and after `postern flush` it is
    delivered; every recipient exactly once."""
    if stage == "RCPT TO":
        temp, ok = "tempfail1@retry.test", "ok1@retry.test"
    else:
        temp, ok = "tempdata1@retry.test", "ok2@retry.test"
    deferred = [temp] if stage == "RCPT TO" else [temp, ok]
    qid = send(q.inst, USER, [temp, ok], message(subject="retry " + stage))
    for a in deferred:
        r = wait_rcpt_state(q.inst, qid, a, "deferred")
        assert r["status"].startswith("4.3.0 "), r
        assert "try again later (in reply to %s)" % stage in r["status"], r
    if ok not in deferred:
        wait_rcpt_state(q.inst, qid, ok, "sent")
    listing = queue_listing(q.inst)
    assert qid in listing, listing
    for a in deferred:
        assert "deferred " + a in listing, listing
    assert net.good.of(temp) == []
    assert len(net.good.of(ok)) == (0 if ok in deferred else 1)
    r = q.inst.postern("flush")
    assert r.returncode == 0, (r.stdout, r.stderr)
    wait_gone(q, qid)
    assert len(net.good.of(temp)) == 1, net.good.messages
    assert len(net.good.of(ok)) == 1, net.good.messages
    assert len(sent_lines(q, qid, temp)) == 1 and len(sent_lines(q, qid, ok)) == 1
    assert dsns_about(q, qid) == []


def test_5xx_at_end_of_data_one_report_for_the_job(q, net):
    rcpts = ["datafail1@datafail.test", "erin@datafail.test"]
    qid = send(q.inst, USER, rcpts, message(subject="refused content"))
    d = wait_dsn(q, qid)
    assert sorted(address_of(r["final-recipient"]) for r in d.recipients) == sorted(rcpts)
    for r in d.recipients:
        assert r["action"].lower() == "failed", r
        assert r["status"] == "5.6.0", r
        assert "554" in r.get("diagnostic-code", ""), r
    assert "message content refused" in d.text, d.text
    wait_gone(q, qid)
    wait_queue_empty(q.inst)        # the report delivered too
    assert len(dsns_about(q, qid)) == 1
    assert any(sorted(x[0]) == sorted(rcpts) for x in net.good.refused), net.good.refused
    assert all(net.good.of(r) == [] for r in rcpts)


def _big_body(lines=3000):
    return "".join("%05d the quick brown fox jumps over the lazy dog %s\r\n" % (i, "x" * 40)
                   for i in range(lines))


CHUNKING_EHLO = b"250-raw.test\r\n250-8BITMIME\r\n250-CHUNKING\r\n250 PIPELINING\r\n"


@pytest.mark.parametrize("how", ["DATA", "BDAT"])
def test_peer_drops_mid_data_then_delivered_once(q, net, how):
    """The peer reads part of the message (DATA, or a BDAT chunk when it
    offers CHUNKING) and closes: both recipients of the job are deferred
    (4.4.2, lost connection), nothing is recorded as sent; a good peer on
    the same address gets the message exactly once after a flush (which
    also ends the destination's suspension)."""
    rcpts = ["frank@%s.drop.test" % how.lower(), "grace@%s.drop.test" % how.lower()]
    body = message(subject="dropped", body=_big_body())
    ehlo = CHUNKING_EHLO if how == "BDAT" else b"250-raw.test\r\n250 8BITMIME\r\n"
    with RawPeer(net.raw1, lambda c: serve_smtp(c, ehlo=ehlo, drop_in_data=1000)) as raw:
        qid = send(q.inst, USER, rcpts, body)
        states = [wait_rcpt_state(q.inst, qid, r, "deferred") for r in rcpts]
        assert raw.connections == 1 and raw.messages == [], raw.errors
        seen = raw.transcript()
    assert seen.count(b"RCPT TO:") == 2, seen[:500]
    assert (b"\r\nBDAT " if how == "BDAT" else b"\r\nDATA\r\n") in seen, seen[:500]
    for r in states:
        assert r["status"].startswith("4.4.2 "), r
        assert "lost connection with mx.%s.drop.test[%s]" % (how.lower(), net.raw1) \
            in r["status"], r
    assert all(sent_lines(q, qid, r) == [] for r in rcpts)
    assert q.inst.pid("remote") == q.pid
    sink = Sink()
    with sink_peer(net.raw1, sink):
        assert q.inst.postern("flush").returncode == 0
        wait_gone(q, qid)
    assert len(sink.messages) == 1, sink.messages
    assert sorted(sink.messages[0][1]) == rcpts
    assert sink.messages[0][2].endswith(body), sink.messages[0][2][-200:]
    assert all(len(sent_lines(q, qid, r)) == 1 for r in rcpts)
    assert dsns_about(q, qid) == []


@pytest.mark.parametrize("greeting", ["421 4.3.2 too busy, come back later",
                                      "554 5.7.1 no service for you"])
def test_refusing_greeting_next_mx(q, net, greeting):
    rcpt = "g@greet%s.test" % greeting[:3]
    raw = RawPeer(net.raw2, lambda c: serve_smtp(c, greeting=greeting.encode() + b"\r\n"))
    with raw:
        qid = send(q.inst, USER, [rcpt], message(subject="greeting " + greeting[:3]))
        wait_gone(q, qid)
    assert raw.connections >= 1, q.log()[-3000:]
    seen = raw.transcript()
    assert b"EHLO" not in seen and b"MAIL" not in seen, seen
    assert len(net.good.of(rcpt)) == 1, net.good.messages
    assert relay_of(q, qid, rcpt) == "mx2.greet.test[%s]:%d" % (net.good_addr, PEER_PORT)


EIGHT_BIT = b"caf\xc3\xa9 na\xc3\xafve \xe2\x82\xac 100\r\nlatin-1 \xe9\xe8 and \xff\xfe\r\nend\r\n"


@pytest.mark.parametrize("declared", [True, False], ids=["body8bitmime", "undeclared"])
def test_8bit_to_a_peer_without_8bitmime(q, net, declared):
    rcpt = "gina%d@eightbit.test" % declared
    head = b"From: alice@example.test\r\nTo: %s\r\nSubject: 8bit\r\n\r\n" % rcpt.encode()
    qid = send(q.inst, USER, [rcpt], head + EIGHT_BIT,
               mail_options=["BODY=8BITMIME"] if declared else [])
    wait_gone(q, qid)
    got = net.no8.of(rcpt)
    assert len(got) == 1, net.no8.messages
    assert got[0][2].endswith(head + EIGHT_BIT), got[0][2]
    assert not any(o.upper().startswith("BODY=") for o in got[0][3]), got[0][3]
    wait_log_text(q, "%s: mx.eightbit.test[%s]: 8-bit message to a peer without 8BITMIME"
                  % (qid, net.no8_addr))


DOTS = (".starts with a dot\r\n..two dots\r\n.\r\n..\r\n...\r\n. a dot and a space\r\n"
        "middle . dot\r\n.\r\n\r\n.end\r\n")


def test_dot_lines_arrive_intact(q, net):
    rcpt = "hank@dots.test"
    body = message(subject="dots", body=DOTS)
    qid = send(q.inst, USER, [rcpt], body)
    wait_gone(q, qid)
    got = net.good.of(rcpt)
    assert len(got) == 1, net.good.messages
    assert got[0][2].endswith(body), got[0][2][-300:]


def test_bdat_without_final_crlf_arrives_intact(q, net):
    """A BDAT message whose last line has no CRLF (smtpd completes it)
    arrives with that line and nothing else after it."""
    from smtp_helpers import SMTPClient, queue_id
    rcpt = "ivan@dots.test"
    data = message(subject="no final crlf", body=".first\r\n..\r\nlast line")
    with SMTPClient(q.inst) as c:
        c.ehlo()
        assert c.cmd("MAIL FROM:<%s>" % USER)[0] == 250
        assert c.cmd("RCPT TO:<%s>" % rcpt)[0] == 250
        c.send(b"BDAT %d LAST\r\n" % len(data) + data)
        code, text = c.reply()
        assert code == 250, (code, text)
        qid = queue_id(text)
    wait_gone(q, qid)
    got = net.good.of(rcpt)
    assert len(got) == 1, net.good.messages
    assert got[0][2].endswith(data + b"\r\n"), got[0][2][-300:]


LONG_LINE = b"250-" + b"x" * 10240 + b"\r\n"
# kind -> (serve_smtp arguments, the enhanced code the recipient is deferred with)
HOSTILE = {
    "garbage-greeting": (dict(greeting=b"hello, this is not an SMTP server\r\n"), "4.5.0"),
    "binary-greeting": (dict(greeting=b"\x00\x01\x02\xff\xfe\r\n"), "4.5.0"),
    "10k-greeting": (dict(greeting=b"220 " + b"x" * 10240 + b"\r\n"), "4.5.0"),
    "10k-ehlo-line": (dict(ehlo=b"250-raw.test\r\n" + LONG_LINE + b"250 8BITMIME\r\n"),
                      "4.5.0"),
    "1000-line-ehlo": (dict(ehlo=b"250-raw.test\r\n" + b"250-X-FILLER\r\n" * 1000 +
                            b"250 8BITMIME\r\n"), "4.5.0"),
    "mismatched-rcpt-reply": (dict(replies={"RCPT": b"250-2.1.5 ok\r\n251 2.1.5 ok too\r\n"}),
                              "4.5.0"),
    "code-out-of-range-mail": (dict(replies={"MAIL": b"999 whatever\r\n"}), "4.5.0"),
    "garbage-after-data": (dict(replies={".": b"thank you very much\r\n"}), "4.5.0"),
    "close-at-mail": (dict(replies={"MAIL": None}), "4.4.2"),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_peer_defers_and_agent_goes_on(q, net, kind):
    """Replies that break the protocol: the recipient is deferred, the
    agent keeps running and delivers the next message to a good peer.
    (A silent peer: test_silent_peer_times_out.)"""
    rcpt = "someone@%s.hostile.test" % kind
    args, enh = HOSTILE[kind]
    with RawPeer(net.raw3, lambda c: serve_smtp(c, **args)) as raw:
        qid = send(q.inst, USER, [rcpt], message(subject="hostile " + kind))
        r = wait_rcpt_state(q.inst, qid, rcpt, "deferred")
        assert raw.connections >= 1
        assert raw.errors == [], raw.errors
    assert r["status"].startswith(enh + " "), r
    what = "protocol error from" if enh == "4.5.0" else "lost connection with"
    assert "%s mx.hostile.test[%s]" % (what, net.raw3) in r["status"], r
    if enh.startswith("4.4."):      # the destination waits (docs/queue.md)
        wait_log_text(q, "destination %s.hostile.test suspended" % kind)
    assert sent_lines(q, qid, rcpt) == []
    assert q.inst.pid("remote") == q.pid and q.inst.running("remote")
    nxt = "next-%s@after.test" % kind
    qid2 = send(q.inst, USER, [nxt], message(subject="after " + kind))
    wait_gone(q, qid2)
    assert len(net.good.of(nxt)) == 1, net.good.messages


SMALL = b"250-raw.test\r\n250-SIZE 1000\r\n250 8BITMIME\r\n"


def test_size_too_small_next_mx(q, net):
    """MX 10 announces SIZE 1000, the message is larger: it is not sent
    there (no MAIL) but to MX 20."""
    rcpt = "ida@size.test"
    body = message(subject="big", body=_big_body(60))
    with RawPeer(net.raw2, lambda c: serve_smtp(c, ehlo=SMALL)) as raw:
        qid = send(q.inst, USER, [rcpt], body)
        wait_gone(q, qid)
        assert raw.connections >= 1
        assert b"MAIL" not in raw.transcript(), raw.transcript()
    assert len(net.good.of(rcpt)) == 1, net.good.messages
    assert relay_of(q, qid, rcpt) == "mx2.size.test[%s]:%d" % (net.good_addr, PEER_PORT)


def test_size_too_small_everywhere_fails(q, net):
    """Every host's SIZE is smaller than the message: permanent failure
    (5.3.4), reported to the sender."""
    rcpt = "jack@small.test"
    body = message(subject="too big", body=_big_body(60))
    with RawPeer(net.raw2, lambda c: serve_smtp(c, ehlo=SMALL)) as raw:
        qid = send(q.inst, USER, [rcpt], body)
        d = wait_dsn(q, qid)
        assert b"MAIL" not in raw.transcript(), raw.transcript()
    r = d.recipient(rcpt)
    assert r["action"].lower() == "failed" and r["status"] == "5.3.4", r
    wait_gone(q, qid)


def test_helo_fallback_plain_mail_and_stuffed_dots(q, net):
    """EHLO refused with 500: HELO, then MAIL without any parameter (no
    ESMTP: no SIZE=, no BODY=), and the dot lines stuffed on the wire."""
    rcpt = "kate@raw.test"
    body = message(subject="helo", body=DOTS)
    with RawPeer(net.raw1, lambda c: serve_smtp(
            c, replies={"EHLO": b"500 5.5.1 what is EHLO?\r\n"})) as raw:
        qid = send(q.inst, USER, [rcpt], body)
        wait_gone(q, qid)
        seen = raw.transcript()
    assert b"\r\nHELO " in seen, seen[:300]
    assert b"MAIL FROM:<%s>\r\n" % USER.encode() in seen, seen[:500]
    assert len(raw.messages) == 1, raw.messages
    stuffed = b"".join(b"." + line if line.startswith(b".") else line
                       for line in body.splitlines(keepends=True))
    assert raw.messages[0][3].endswith(stuffed + b".\r\n"), raw.messages[0][3][-300:]
    assert raw.messages[0][2].endswith(body), raw.messages[0][2][-300:]
    assert len(sent_lines(q, qid, rcpt)) == 1


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelined", "one-by-one"])
def test_mail_from_4xx_defers_all(q, net, pipelining):
    """451 to MAIL: every recipient deferred with the MAIL reply; with
    PIPELINING the 503s to the RCPTs sent along are not taken as the
    recipients' fate, and no DATA follows."""
    ehlo = b"250-raw.test\r\n" + (b"250-PIPELINING\r\n" if pipelining else b"") + \
        b"250 8BITMIME\r\n"
    rcpts = ["lea%d@raw.test" % pipelining, "max%d@raw.test" % pipelining]
    with RawPeer(net.raw1, lambda c: serve_smtp(c, ehlo=ehlo, replies={
            "MAIL": b"451 4.7.1 greylisted, come back later\r\n",
            "RCPT": b"503 5.5.1 need MAIL first\r\n"})) as raw:
        qid = send(q.inst, USER, rcpts, message(subject="greylisted"))
        states = [wait_rcpt_state(q.inst, qid, r, "deferred") for r in rcpts]
        seen = raw.transcript()
    for r in states:
        assert r["status"].startswith("4.7.1 "), r
        assert "greylisted" in r["status"] and "in reply to MAIL FROM" in r["status"], r
    assert b"DATA" not in seen, seen
    if not pipelining:
        assert b"RCPT" not in seen, seen
    assert dsns_about(q, qid) == []


def test_peer_closes_after_accepting(q, net):
    """The peer answers 250 to the end of data and closes at once (no QUIT
    exchange): the recipient is sent, not retried; the next message to
    the domain finds the kept connection dead and opens a new one."""
    rcpts = ["ned@raw.test", "nora@raw.test"]

    def accept_and_close(c):
        def done(line):
            c.send(b"250 2.0.0 queued\r\n")
            raise PeerClosed("closed after the message")
        serve_smtp(c, replies={".": done})

    with RawPeer(net.raw1, accept_and_close) as raw:
        qids = []
        for r in rcpts:
            qids.append(send(q.inst, USER, [r], message(subject="closes after " + r)))
            wait_gone(q, qids[-1])
        assert len(raw.messages) == 2 and raw.connections == 2, (raw.messages, raw.errors)
    for qid, r in zip(qids, rcpts):
        assert len(sent_lines(q, qid, r)) == 1
        assert [m[1] for m in raw.messages].count([b"RCPT TO:<%s>\r\n" % r.encode()]) == 1


@pytest.mark.parametrize("offered", [True, False], ids=["dsn-offered", "no-dsn"])
def test_dsn_parameters_passed_on(q, net, offered):
    """RET, ENVID, NOTIFY and ORCPT go to a peer that offers DSN (RFC 3461
    6.2.1), and none of them to one that does not."""
    ehlo = b"250-raw.test\r\n" + (b"250-DSN\r\n" if offered else b"") + b"250 8BITMIME\r\n"
    rcpt = "olga%d@raw.test" % offered
    with RawPeer(net.raw1, lambda c: serve_smtp(c, ehlo=ehlo)) as raw:
        qid = send(q.inst, USER, [rcpt], message(subject="dsn params"),
                   mail_options=["RET=HDRS", "ENVID=envid42"],
                   rcpt_options=["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;orig@example.org"])
        wait_gone(q, qid)
    assert len(raw.messages) == 1, raw.messages
    mail = raw.messages[0][0].decode().split()[2:]
    rcpt_line = raw.messages[0][1][0].decode().split()[2:]
    mail = {p.split("=")[0].upper(): p.split("=", 1)[1] for p in mail}
    rparams = {p.split("=")[0].upper(): p.split("=", 1)[1] for p in rcpt_line}
    if offered:
        assert mail.get("RET") == "HDRS" and mail.get("ENVID") == "envid42", mail
        assert rparams.get("ORCPT", "").lower() == "rfc822;orig@example.org", rparams
        assert rparams.get("NOTIFY") == "SUCCESS,FAILURE", rparams
    else:
        assert not {"RET", "ENVID"} & set(mail), mail
        assert not {"NOTIFY", "ORCPT"} & set(rparams), rparams


def test_chunking_peer_gets_the_message_intact(q, net):
    """A peer offering CHUNKING gets the message by BDAT (RFC 3030), not
    dot-stuffed, 8-bit and dot lines intact."""
    rcpt = "paul@raw.test"
    ehlo = CHUNKING_EHLO
    body = message(subject="bdat", body=DOTS + "x" * 900 + "\r\n" + _big_body(2000)).replace(
        b"end\r\n", b"\xc3\xa9nd\r\n")
    with RawPeer(net.raw1, lambda c: serve_smtp(c, ehlo=ehlo)) as raw:
        qid = send(q.inst, USER, [rcpt], body, mail_options=["BODY=8BITMIME"])
        wait_gone(q, qid)
        seen = raw.transcript()
    assert len(raw.messages) == 1, raw.messages
    assert raw.messages[0][2].endswith(body), raw.messages[0][2][-300:]
    assert b"BDAT " in seen and b"\r\nDATA\r\n" not in seen, seen[:600]


# ---- a silent peer: the RFC 5321 4.5.3.2 timeouts, made short ----------------

TIMEOUTS = ("remote.timeout_greeting", "remote.timeout_command", "remote.timeout_dot")


def _knows_timeouts():
    """True when the build's programs know the remote.timeout_* keys (an
    unknown key would stop the instance from starting)."""
    from conftest import BUILD
    for prog in ("postern", "remote"):
        try:
            with open(os.path.join(BUILD, prog), "rb") as f:
                if TIMEOUTS[0].encode() not in f.read():
                    return False
        except OSError:
            return False
    return True


@pytest.fixture(scope="module")
def slow_srv(net):
    """A second instance (same DNS, same peers) whose remote timeouts are
    2 s instead of minutes."""
    if not _knows_timeouts():
        pytest.skip("this build has no remote.timeout_* config keys")
    from smtp_helpers import module_instance
    keys = {k: "2s" for k in TIMEOUTS}
    keys.update({"remote.dns": net.dns.server, "remote.port": str(PEER_PORT),
                 "smtpd.trusted_networks": "127.0.0.0/8"})
    gen = module_instance(**{k.replace(".", "__"): v for k, v in keys.items()})
    inst = next(gen)
    try:
        assert wait_for(lambda: inst.running("remote"), 30), inst.log()[-3000:]
        yield inst
    finally:
        gen.close()


def _hang(c):
    """Answer nothing; wait until the client goes away."""
    while True:
        c.readline(timeout=120)


SILENT = {
    "greeting": lambda c: _hang(c),
    "rcpt": lambda c: serve_smtp(c, replies={"RCPT": lambda line: _hang(c)}),
    "end-of-data": lambda c: serve_smtp(c, replies={".": lambda line: _hang(c)}),
}


@pytest.mark.parametrize("where", sorted(SILENT))
def test_silent_peer_times_out(slow_srv, net, where):
    """A peer that stops answering (at the greeting, a RCPT, the end of
    data): after the configured timeout the recipient is deferred (4.4.2,
    timed out), the agent closes the connection and keeps delivering."""
    c = Ctx(slow_srv)
    rcpt = "quiet@%s.slow.test" % where
    try:
        with RawPeer(net.raw3, SILENT[where]) as raw:
            qid = send(c.inst, USER, [rcpt], message(subject="silent " + where))
            r = wait_rcpt_state(c.inst, qid, rcpt, "deferred", timeout=60)
            # the agent hung up: the peer's read ends
            assert wait_for(lambda: all(x.sock.fileno() == -1 for x in raw.conns), 30)
        assert r["status"].startswith("4.4.2 "), r
        assert "conversation with mx.slow.test[%s] timed out" % net.raw3 in r["status"], r
        assert c.inst.pid("remote") == c.pid
        nxt = "after-%s@after.test" % where
        qid2 = send(c.inst, USER, [nxt], message(subject="after silent " + where))
        wait_gone(c, qid2)
        assert len(net.good.of(nxt)) == 1, net.good.messages
    finally:
        slow_srv.postern("queue", "delete", "all")
        wait_for(lambda: not spool_ids(slow_srv), 30)
        slow_srv.postern("flush")


def test_mixed_rcpt_replies_one_job(q, net):
    """250, 451 and 550 to the RCPTs of one job: sent, deferred and failed
    (one report, about the failed one only); the sent one gets the message
    once, the deferred one after the flush."""
    ok, temp, bad = "ok@mixed.test", "tempfail2@mixed.test", "reject2@mixed.test"
    qid = send(q.inst, USER, [ok, temp, bad], message(subject="mixed"))
    d = wait_dsn(q, qid)
    assert [address_of(r["final-recipient"]) for r in d.recipients] == [bad], d.recipients
    assert d.recipients[0]["status"] == "5.1.1", d.recipients
    r = wait_rcpt_state(q.inst, qid, temp, "deferred")
    assert r["status"].startswith("4.3.0 "), r
    assert len(net.good.of(ok)) == 1 and net.good.of(temp) == [] and net.good.of(bad) == []
    assert q.inst.postern("flush").returncode == 0
    wait_gone(q, qid)
    assert len(net.good.of(ok)) == 1 and len(net.good.of(temp)) == 1
    assert net.good.of(temp)[0][1] == [temp]
    assert len(dsns_about(q, qid)) == 1


def test_kept_connection_rset_refused(q, net):
    """The kept connection's RSET is refused: the agent does not send the
    next message over it but over a new connection; both delivered once."""
    rcpts = ["rita@rset.test", "rolf@rset.test"]
    with RawPeer(net.raw1, lambda c: serve_smtp(
            c, replies={"RSET": b"500 5.5.1 RSET? never heard of it\r\n"})) as raw:
        qids = []
        for r in rcpts:
            qids.append(send(q.inst, USER, [r], message(subject="rset " + r)))
            wait_gone(q, qids[-1])
        assert [m[1] for m in raw.messages] == [[b"RCPT TO:<%s>\r\n" % r.encode()]
                                                 for r in rcpts], raw.messages
    for qid, r in zip(qids, rcpts):
        assert len(sent_lines(q, qid, r)) == 1
    seen = raw.transcript()
    # a new connection for the second message when the first was reused:
    # never a MAIL right after a refused RSET on the same connection
    for conn in raw.conns:
        t = bytes(conn.received)
        if b"RSET" in t:
            assert b"MAIL" not in t.split(b"RSET", 1)[1], t
    assert seen.count(b"MAIL FROM") == 2, seen


@pytest.mark.parametrize("code", ["451 4.3.1 out of spool space", "554 5.6.0 bad chunk"])
def test_bdat_chunk_refused(q, net, code):
    """The peer refuses the first (not last) BDAT chunk: the recipients get
    that reply's fate (4xx deferred, 5xx failed with a report); nothing is
    delivered."""
    rcpt = "sam%s@chunk.test" % code[:3]
    body = message(subject="chunk refused", body=_big_body(2000))
    with RawPeer(net.raw1, lambda c: serve_smtp(c, ehlo=CHUNKING_EHLO, replies={
            "BDAT": code.encode() + b"\r\n", ".": code.encode() + b"\r\n"})) as raw:
        qid = send(q.inst, USER, [rcpt], body)
        if code[0] == "4":
            r = wait_rcpt_state(q.inst, qid, rcpt, "deferred")
            st = r["status"]
        else:
            d = wait_dsn(q, qid)
            r = d.recipient(rcpt)
            assert r["action"].lower() == "failed", r
            st = r["status"] + " " + r.get("diagnostic-code", "")
        seen = raw.transcript()
    assert st.startswith(code.split()[1]), st
    assert code[4:] in st or code in st, st
    assert b"BDAT " in seen and raw.messages == [], seen[:300]
    assert sent_lines(q, qid, rcpt) == []


def test_2xx_to_data_is_not_a_delivery(q, net):
    """DATA must be answered 354 (or refused): a peer that answers 250
    has not received the message, so the recipient must not be recorded
    as sent (it was never transmitted); it stays queued (4.x)."""
    rcpt = "tom@data250.test"
    with RawPeer(net.raw1, lambda c: serve_smtp(
            c, replies={"DATA": b"250 2.0.0 sure, whatever\r\n"})) as raw:
        qid = send(q.inst, USER, [rcpt], message(subject="250 to DATA"))
        got = wait_for(lambda: qid not in spool_ids(q.inst) or
                       spool_env(q.inst, qid)["rcpt"][0].get("state") != "pending", 60)
        assert got, queue_listing(q.inst)
        seen = raw.transcript()
    assert b"Subject: 250 to DATA" not in seen, seen
    assert sent_lines(q, qid, rcpt) == [], q.log()[-2000:]
    r = wait_rcpt_state(q.inst, qid, rcpt, "deferred", timeout=5)
    assert r["status"].startswith("4."), r


UTF8_RCPT = "j\u00f6rg@%s"


def _send_utf8(q, rcpt):
    body = ("From: alice@example.test\r\nTo: %s\r\nSubject: gr\u00fc\u00dfe\r\n\r\n"
            "gr\u00fc\u00dfe\r\n" % rcpt).encode()
    return send(q.inst, USER, [rcpt], body, mail_options=["SMTPUTF8", "BODY=8BITMIME"]), body


def test_smtputf8_to_a_peer_that_offers_it(q, net):
    """A UTF-8 recipient goes to a peer offering SMTPUTF8 with the
    SMTPUTF8 parameter on MAIL and the address as UTF-8."""
    rcpt = UTF8_RCPT % "utf8.test"
    ehlo = b"250-raw.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
    with RawPeer(net.raw1, lambda c: serve_smtp(c, ehlo=ehlo)) as raw:
        qid, body = _send_utf8(q, rcpt)
        wait_gone(q, qid)
    assert len(raw.messages) == 1, raw.messages
    mail, rcpts, content = raw.messages[0][:3]
    assert b"SMTPUTF8" in mail.upper().split(), mail
    assert rcpts == [b"RCPT TO:<%s>\r\n" % rcpt.encode()], rcpts
    assert content.endswith(body), content[-200:]
    assert len(sent_lines(q, qid, rcpt)) == 1


def test_smtputf8_to_a_peer_without_it_fails(q, net):
    """A UTF-8 address cannot go to a peer without SMTPUTF8 (RFC 6531 3.4,
    no downgrade): a permanent failure (5.6.7), nothing delivered."""
    rcpt = UTF8_RCPT % "noutf8.test"
    qid, _ = _send_utf8(q, rcpt)
    wait_gone(q, qid)
    assert re.search(r"^queue\[\d+\]: %s: to=<%s>,.* dsn=5\.6\.7, status=bounced"
                     % (qid, re.escape(rcpt)), q.log(), re.M), q.log()[-2000:]
    assert net.no8.of(rcpt) == [] and net.no8.ehlo_count >= 1
