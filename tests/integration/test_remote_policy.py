"""The remote agent's policies end to end (deliver/remote_smtp.c,
remote_send.c, remote_policy.c): TLS policy per domain (remote.tls,
remote.tls_policy map; verify against remote.tls_ca_file and the MX
name), the transport map, SIZE, CHUNKING (BDAT), SMTPUTF8, configurable
timeouts, connection reuse, and the smarthost with AUTH over STARTTLS.
Real daemons: the installed instance, dnsmasq, aiosmtpd peers and small
raw-socket peers (remote_helpers.RawPeer)."""
import os
import re
import shutil
import ssl
import subprocess
import tempfile
import types

import pytest

from conftest import allocate_address, needs_root, session_cert, wait_for
from delivery_helpers import (address_of, maildir, maildir_files, message,
                              queue_listing, read, send, wait_rcpt_state)
from smtp_helpers import USER, boot, queue_id, smtp, spool_ids

aiosmtpd = pytest.importorskip("aiosmtpd")
from remote_helpers import (PEER_PORT, Ctx, PeerClosed, RawPeer, Sink,  # noqa: E402
                            dsns_about, empty_queue, start_sink, wait_dsn, wait_gone)

pytestmark = [needs_root]

OTHER_PORT = 22526      # the transport map's peer listens here


# ---- certificates -------------------------------------------------------------

_pki = {}


def _openssl(*args):
    r = subprocess.run(["openssl"] + list(args), capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, (args, r.stderr)


def make_pki():
    """A test CA and a certificate it signed for mx.verified.test (made once
    with the openssl command): (ca.crt, leaf.crt, leaf.key)."""
    if not _pki:
        d = tempfile.mkdtemp(prefix="postern-test-pki-", dir="/tmp")
        os.chmod(d, 0o755)
        p = {k: os.path.join(d, k) for k in ("ca.crt", "ca.key", "leaf.csr",
                                             "leaf.crt", "leaf.key")}
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
                 "ec_paramgen_curve:prime256v1", "-nodes", "-days", "30",
                 "-subj", "/CN=postern test CA", "-keyout", p["ca.key"],
                 "-out", p["ca.crt"])
        _openssl("req", "-new", "-newkey", "ec", "-pkeyopt",
                 "ec_paramgen_curve:prime256v1", "-nodes", "-subj",
                 "/CN=mx.verified.test", "-addext",
                 "subjectAltName=DNS:mx.verified.test", "-keyout", p["leaf.key"],
                 "-out", p["leaf.csr"])
        _openssl("x509", "-req", "-in", p["leaf.csr"], "-CA", p["ca.crt"],
                 "-CAkey", p["ca.key"], "-CAcreateserial", "-days", "30",
                 "-copy_extensions", "copy", "-out", p["leaf.crt"])
        for f in p.values():
            os.chmod(f, 0o644)
        _pki.update(p, dir=d)
    return _pki["ca.crt"], _pki["leaf.crt"], _pki["leaf.key"]


def tls_context(crt, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(crt, key)
    return ctx


def start_tls_sink(addr, sink, crt, key, port=PEER_PORT, **kw):
    from aiosmtpd.controller import Controller
    sink.tls = True
    c = Controller(sink, hostname=addr, port=port, tls_context=tls_context(crt, key),
                   require_starttls=False, **kw)
    c.start()
    return c


class NoUtf8Sink(Sink):
    """A Sink that does not offer SMTPUTF8 (aiosmtpd does by default)."""

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        responses = await super().handle_EHLO(server, session, envelope, hostname,
                                              responses)
        return [r for r in responses if r[4:].upper() != "SMTPUTF8"]


# ---- raw peers ---------------------------------------------------------------

def chunking_peer(size=None):
    """A RawPeer behaviour: an SMTP server offering CHUNKING (and SIZE size)
    that takes BDAT chunks (and DATA, to see that it is not used); each
    message goes to peer.messages as (mail, rcpts, body, [chunk sizes])."""
    def behaviour(c):
        ehlo = b"250-chunk.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n"
        if size is not None:
            ehlo += b"250-SIZE %d\r\n" % size
        ehlo += b"250 CHUNKING\r\n"
        c.send(b"220 chunk.test ESMTP\r\n")
        mail, rcpts, body, chunks = None, [], bytearray(), []
        while True:
            line = c.readline()
            verb = line.split(b" ", 1)[0].split(b":", 1)[0].strip().upper()
            if verb == b"EHLO":
                c.send(ehlo)
            elif verb == b"MAIL":
                mail, rcpts, body, chunks = line, [], bytearray(), []
                c.send(b"250 2.1.0 ok\r\n")
            elif verb == b"RCPT":
                rcpts.append(line)
                c.send(b"250 2.1.5 ok\r\n")
            elif verb == b"BDAT":
                words = line.split()
                n = int(words[1])
                body += c.read(n)
                chunks.append(n)
                if len(words) > 2 and words[2].upper() == b"LAST":
                    c.peer.messages.append((mail, rcpts, bytes(body), chunks))
                    c.send(b"250 2.0.0 queued\r\n")
                else:
                    c.send(b"250 2.0.0 chunk ok\r\n")
            elif verb == b"RSET":
                c.send(b"250 2.0.0 ok\r\n")
            elif verb == b"QUIT":
                c.send(b"221 2.0.0 bye\r\n")
                return
            else:       # DATA included: a CHUNKING client must not use it
                c.send(b"502 5.5.1 not here\r\n")
    return behaviour


def mute_after_greeting(c):
    """Greets, then never answers (a timeout test)."""
    c.send(b"220 mute.test ESMTP\r\n")
    try:
        while True:
            c.readline(timeout=300)
    except PeerClosed:
        pass


# ---- the shared instance -------------------------------------------------------
#
# Destination domains (one per test, as a worker keeps its connection for
# the next job of the same domain):
#   verifyself.test   MX mx.self.test (self-signed peer), policy verify
#   mayself.test      MX mx.self.test, no policy entry (remote.tls = may)
#   verifyca.test     MX mx.verified.test (CA-signed peer), policy verify
#   wrongname.test    MX mx.wrongname.test (the same peer), policy verify
#   encplain.test     MX mx.plain.test (no STARTTLS), policy encrypt
#   noneself.test     MX mx.self.test, policy none
#   routed.test       no DNS at all; transport [addr]:22526
#   routedname.test   MX mx.plain.test; transport mx.other.test:22526
#   chunk.test        MX mx.chunk.test (raw CHUNKING peer)
#   sizenext.test     MX mx.small.test (SIZE 1000), then mx.plain.test
#   toobig.test       MX mx.small.test and mx2.small.test (both SIZE 1000)
#   utf8.test         MX mx.plain.test (a Sink without SMTPUTF8)
#   mute.test         MX mx.mute.test (greets, then silence)
#   reuse.test        MX mx.count.test (a Sink counting EHLOs)

POLICY = {"verifyself.test": "verify", "verifyca.test": "verify",
          "wrongname.test": "verify", "encplain.test": "encrypt",
          "noneself.test": "none"}


def _zone(n):
    mx = {"verifyself.test": [(10, "mx.self.test")],
          "mayself.test": [(10, "mx.self.test")],
          "noneself.test": [(10, "mx.self.test")],
          "verifyca.test": [(10, "mx.verified.test")],
          "wrongname.test": [(10, "mx.wrongname.test")],
          "encplain.test": [(10, "mx.plain.test")],
          "routedname.test": [(10, "mx.plain.test")],
          "chunk.test": [(10, "mx.chunk.test")],
          "sizenext.test": [(10, "mx.small.test"), (20, "mx.plain.test")],
          "toobig.test": [(10, "mx.small.test"), (20, "mx2.small.test")],
          "utf8.test": [(10, "mx.plain.test")],
          "mute.test": [(10, "mx.mute.test")],
          "reuse.test": [(10, "mx.count.test")]}
    hosts = {"mx.self.test": [n.self_addr], "mx.verified.test": [n.ca_addr],
             "mx.wrongname.test": [n.ca_addr], "mx.plain.test": [n.plain_addr],
             "mx.other.test": [n.other_addr], "mx.chunk.test": [n.chunk_addr],
             "mx.small.test": [n.small_addr], "mx2.small.test": [n.small_addr],
             "mx.mute.test": [n.mute_addr], "mx.count.test": [n.count_addr]}
    return mx, hosts


def write_map(inst, name, entries):
    """Write inst.etc/name as a text map and compile it with `postern map`
    to name.cdb; returns the cdb path."""
    src = os.path.join(inst.etc, name)
    with open(src, "w") as f:
        f.write("# written by test_remote_policy.py\n")
        f.write("".join("%s %s\n" % kv for kv in entries.items()))
    r = inst.postern("map", src)
    assert r.returncode == 0, (r.stdout, r.stderr)
    return src + ".cdb"


@pytest.fixture(scope="module")
def net():
    from dns_helpers import DnsServer, have_dnsmasq
    if not have_dnsmasq():
        pytest.skip("dnsmasq is not installed (tests/deps.sh)")
    ca, leaf, leafkey = make_pki()
    selfcrt, selfkey = session_cert()
    locks, stop = [], []
    n = types.SimpleNamespace(ca=ca)
    try:
        for name in ("self_addr", "ca_addr", "plain_addr", "other_addr", "chunk_addr",
                     "small_addr", "mute_addr", "count_addr"):
            a, lock = allocate_address()
            locks.append(lock)
            setattr(n, name, a)
        n.selfsink, n.casink, n.other, n.count = Sink(), Sink(), Sink(), Sink()
        n.plain = NoUtf8Sink()
        stop.append(start_tls_sink(n.self_addr, n.selfsink, selfcrt, selfkey))
        stop.append(start_tls_sink(n.ca_addr, n.casink, leaf, leafkey))
        stop.append(start_sink(n.plain_addr, n.plain))
        stop.append(start_sink(n.other_addr, n.other, port=OTHER_PORT))
        stop.append(start_sink(n.count_addr, n.count))
        n.chunk = RawPeer(n.chunk_addr, chunking_peer())
        stop.append(n.chunk)
        n.small = RawPeer(n.small_addr, chunking_peer(size=1000))
        stop.append(n.small)
        n.mute = RawPeer(n.mute_addr, mute_after_greeting)
        stop.append(n.mute)
        mx, hosts = _zone(n)
        n.dns = DnsServer(mx=mx, hosts=hosts)
        stop.append(n.dns.start())
        yield n
    finally:
        for s in reversed(stop):
            s.stop()
        for lock in locks:
            lock.close()
        if _pki:
            shutil.rmtree(_pki.pop("dir"), ignore_errors=True)
            _pki.clear()


@pytest.fixture(scope="module")
def srv(net):
    from conftest import Instance, teardown_instance
    i = Instance()
    try:
        i.install()
        policy = write_map(i, "tls_policy", POLICY)
        transport = write_map(i, "transport", {
            "routed.test": "[%s]:%d" % (net.other_addr, OTHER_PORT),
            "routedname.test": "mx.other.test:%d" % OTHER_PORT})
        boot(i, remote__dns=net.dns.server, remote__port=str(PEER_PORT),
             smtpd__trusted_networks="127.0.0.0/8", remote__tls_policy=policy,
             remote__transport=transport, remote__tls_ca_file=net.ca,
             remote__timeout_command="3s", queue__domain_concurrency="1")
        assert wait_for(lambda: i.running("remote"), 30), i.log()[-3000:]
        yield i
    finally:
        teardown_instance(i)


@pytest.fixture
def q(srv):
    c = Ctx(srv)
    yield c
    empty_queue(srv)


def qid_lines(c, qid):
    return [line for line in c.log().splitlines() if qid in line]


# ---- TLS policy ------------------------------------------------------------------

def test_verify_refuses_a_self_signed_peer(q, net):
    rcpt = "v@verifyself.test"
    qid = send(q.inst, USER, [rcpt], message(subject="verify self-signed"))
    r = wait_rcpt_state(q.inst, qid, rcpt, "deferred", timeout=60)
    assert r["status"].startswith("4.7.5 "), r
    assert "certificate verification failed: self-signed certificate" in r["status"], r
    assert net.selfsink.of(rcpt) == []
    assert qid in spool_ids(q.inst)             # stays queued, no bounce
    assert dsns_about(q, qid) == []
    log = "\n".join(qid_lines(q, qid))
    assert "certificate not verified: self-signed certificate" in log, log


def test_may_delivers_to_the_same_self_signed_peer(q, net):
    rcpt = "m@mayself.test"
    qid = send(q.inst, USER, [rcpt], message(subject="may self-signed"))
    wait_gone(q, qid)
    assert len(net.selfsink.of(rcpt)) == 1
    log = "\n".join(qid_lines(q, qid))
    assert re.search(r"TLS TLSv1\.[23] with cipher \S+ .*certificate not verified", log), log


def test_none_policy_skips_starttls(q, net):
    rcpt = "n@noneself.test"
    qid = send(q.inst, USER, [rcpt], message(subject="none"))
    wait_gone(q, qid)
    assert len(net.selfsink.of(rcpt)) == 1
    assert "TLS TLSv1" not in "\n".join(qid_lines(q, qid))


def test_verify_with_the_test_ca_delivers(q, net):
    """remote.tls_ca_file holds the CA that signed the peer's certificate
    for its MX name: verified, delivered."""
    rcpt = "c@verifyca.test"
    qid = send(q.inst, USER, [rcpt], message(subject="verify ca"))
    wait_gone(q, qid)
    assert len(net.casink.of(rcpt)) == 1
    log = "\n".join(qid_lines(q, qid))
    assert "mx.verified.test[%s]: TLS TLSv1." % net.ca_addr in log, log
    assert "certificate verified" in log, log


def test_verify_checks_the_mx_name(q, net):
    """The same CA-signed peer reached as mx.wrongname.test: the chain is
    good but the name is not -> deferred."""
    rcpt = "w@wrongname.test"
    qid = send(q.inst, USER, [rcpt], message(subject="wrong name"))
    r = wait_rcpt_state(q.inst, qid, rcpt, "deferred", timeout=60)
    assert r["status"].startswith("4.7.5 "), r
    assert "hostname mismatch" in r["status"], r
    assert net.casink.of(rcpt) == []


def test_encrypt_without_starttls_is_deferred(q, net):
    rcpt = "e@encplain.test"
    qid = send(q.inst, USER, [rcpt], message(subject="encrypt plain"))
    r = wait_rcpt_state(q.inst, qid, rcpt, "deferred", timeout=60)
    assert r["status"].startswith("4.7.4 "), r
    assert "STARTTLS is not offered" in r["status"], r
    assert net.plain.of(rcpt) == []
    assert dsns_about(q, qid) == []


# ---- routing, SIZE, CHUNKING, SMTPUTF8, timeouts ----------------------------------

@pytest.mark.parametrize("rcpt", ["t@routed.test", "t@routedname.test"])
def test_transport_map_routes_to_a_fixed_host(q, net, rcpt):
    """routed.test has no DNS at all ([addr]:port); routedname.test has an
    MX (mx.plain.test) that the map overrides with a host name."""
    qid = send(q.inst, USER, [rcpt], message(subject="transport " + rcpt))
    wait_gone(q, qid)
    assert len(net.other.of(rcpt)) == 1, (net.other.messages, q.log()[-3000:])
    assert net.plain.of(rcpt) == []
    log = "\n".join(qid_lines(q, qid))
    assert ":%d" % OTHER_PORT in log, log


def _big_body(n=200000):
    lines, size, i = [], 0, 0
    while size < n:
        line = ".dot %06d" % i if i % 7 == 0 else "line %06d of the big body" % i
        lines.append(line)
        size += len(line) + 2
        i += 1
    return "\r\n".join(lines) + "\r\n"


def test_chunking_peer_gets_bdat_byte_exact(q, net):
    rcpt = "k@chunk.test"
    body = message(subject="chunks", body=_big_body())
    qid = send(q.inst, USER, [rcpt], body)
    wait_gone(q, qid)
    got = [m for m in net.chunk.messages if any(rcpt.encode() in r for r in m[1])]
    assert len(got) == 1, (net.chunk.messages, net.chunk.errors)
    mail, rcpts, data, chunks = got[0]
    assert data.endswith(body), data[-200:]
    assert b"\r\n..dot" not in data            # BDAT: no dot-stuffing
    assert len(chunks) >= 2 and sum(chunks) == len(data), chunks
    assert b"DATA" not in net.chunk.transcript().replace(b"BDAT", b"")


def test_size_smaller_than_the_message_next_mx(q, net):
    rcpt = "s@sizenext.test"
    qid = send(q.inst, USER, [rcpt], message(subject="size", body=("x" * 60 + "\r\n") * 50))
    wait_gone(q, qid)
    assert len(net.plain.of(rcpt)) == 1
    assert not [m for m in net.small.messages if any(rcpt.encode() in r for r in m[1])]
    assert "larger than the host's SIZE 1000" in q.log(), q.log()[-3000:]


def test_too_big_for_every_host_bounces_5_3_4(q, net):
    rcpt = "b@toobig.test"
    qid = send(q.inst, USER, [rcpt], message(subject="too big", body=("y" * 60 + "\r\n") * 50))
    d = wait_dsn(q, qid)
    assert len(d.recipients) == 1, d.recipients
    r = d.recipients[0]
    assert address_of(r["final-recipient"]) == rcpt, r
    assert r["status"] == "5.3.4", r
    assert "message too big for every host of toobig.test" in d.text, d.text
    assert rcpt.encode() not in net.small.transcript()


def test_smtputf8_to_a_peer_without_it_bounces_5_6_7(q, net):
    """RFC 6531 3.4: the message needs SMTPUTF8 and the peer does not offer
    it -> failed 5.6.7 (the report is a global-delivery-status, RFC 6533)."""
    rcpt = "u@utf8.test"
    qid = send(q.inst, USER, [rcpt], message(subject="utf8"),
               mail_options=["SMTPUTF8"])
    assert wait_for(lambda: dsns_about(q, qid), 60), (queue_listing(q.inst),
                                                     q.log()[-4000:])
    raw = read(dsns_about(q, qid)[0])
    assert b"global-delivery-status" in raw, raw[:2000]
    assert re.search(rb"(?im)^Status: 5\.6\.7\s*$", raw), raw
    assert re.search(r"to=<%s>.*dsn=5\.6\.7, status=bounced .*needs SMTPUTF8" % rcpt,
                     q.log()), q.log()[-3000:]
    assert net.plain.of(rcpt) == []


def test_command_timeout_is_configurable(q, net):
    """remote.timeout_command = 3s: a peer that greets and then says
    nothing defers the message (instead of holding it for 5 minutes)."""
    rcpt = "z@mute.test"
    qid = send(q.inst, USER, [rcpt], message(subject="mute"))
    r = wait_rcpt_state(q.inst, qid, rcpt, "deferred", timeout=60)
    assert r["status"].startswith("4.4.2 "), r
    assert "timed out" in r["status"], r


# ---- connection reuse --------------------------------------------------------------

def test_connection_reuse_for_one_domain(q, net):
    """Five messages to one domain in one SMTP session (queue.domain_
    concurrency = 1 here): the peer sees fewer connections than messages,
    and the log says which were reused."""
    rcpts = ["r%d@reuse.test" % i for i in range(5)]
    before = net.count.ehlo_count
    s = smtp(q.inst)
    qids = []
    try:
        s.ehlo()
        for r in rcpts:
            code, text = s.mail(USER)
            assert code == 250, text
            code, text = s.rcpt(r)
            assert code == 250, text
            code, text = s.data(message(subject="reuse " + r))
            assert code == 250, text
            qids.append(queue_id(text))
    finally:
        s.quit()
    assert wait_for(lambda: all(net.count.of(r) for r in rcpts), 60), \
        (net.count.messages, q.log()[-4000:])
    assert all(len(net.count.of(r)) == 1 for r in rcpts)
    connections = net.count.ehlo_count - before
    assert 1 <= connections < len(rcpts), (connections, q.log()[-4000:])
    assert "reused connection to mx.count.test[%s] (2)" % net.count_addr in q.log()


# ---- smarthost with AUTH ------------------------------------------------------------

class AuthRecorder:
    """aiosmtpd authenticator: accepts (user, password); records every
    attempt as (mechanism, login, password, over TLS)."""

    def __init__(self, user, password):
        self.user, self.password = user.encode(), password.encode()
        self.attempts = []

    def __call__(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult, LoginPassword
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        self.attempts.append((mechanism, auth_data.login, auth_data.password,
                              session.ssl is not None))
        ok = auth_data.login == self.user and auth_data.password == self.password
        return AuthResult(success=ok, handled=False)   # 535 when not ok


@pytest.fixture(params=["PLAIN", "LOGIN"])
def relay(request):
    """An aiosmtpd smarthost that offers STARTTLS and AUTH (only after
    STARTTLS; the mechanism of the parameter, or both for PLAIN) and
    requires AUTH for mail."""
    from aiosmtpd.controller import Controller
    addr, lock = allocate_address()
    sink, auth = Sink(), AuthRecorder("relayuser", "relay secret")
    crt, key = session_cert()
    exclude = ["PLAIN"] if request.param == "LOGIN" else []
    c = Controller(sink, hostname=addr, port=PEER_PORT, tls_context=tls_context(crt, key),
                   require_starttls=False, authenticator=auth, auth_required=True,
                   auth_require_tls=True, auth_exclude_mechanism=exclude)
    auth.mechanism = request.param
    c.start()
    sink.tls = True
    try:
        yield types.SimpleNamespace(addr=addr, sink=sink, auth=auth)
    finally:
        c.stop()
        lock.close()


@pytest.fixture
def plain_relay():
    """A smarthost that offers AUTH without TLS (and no STARTTLS)."""
    from aiosmtpd.controller import Controller
    addr, lock = allocate_address()
    sink, auth = Sink(), AuthRecorder("relayuser", "relay secret")
    c = Controller(sink, hostname=addr, port=PEER_PORT, authenticator=auth,
                   auth_required=True, auth_require_tls=False)
    c.start()
    try:
        yield types.SimpleNamespace(addr=addr, sink=sink, auth=auth)
    finally:
        c.stop()
        lock.close()


def write_cred(inst, text, mode=0o600):
    path = os.path.join(inst.etc, "smarthost_auth")
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def boot_smarthost(inst, addr, cred):
    boot(inst, remote__smarthost="%s:%d" % (addr, PEER_PORT),
         remote__smarthost_auth=cred, smtpd__trusted_networks="127.0.0.0/8")


def test_smarthost_auth_over_starttls(inst, relay):
    boot_smarthost(inst, relay.addr, write_cred(inst, "relayuser relay secret\n"))
    assert wait_for(lambda: inst.running("remote"), 30), inst.log()[-3000:]
    rcpt = "far@elsewhere.example"
    qid = send(inst, USER, [rcpt], message(subject="via the smarthost"))
    assert wait_for(lambda: relay.sink.of(rcpt), 60), inst.log()[-4000:]
    assert relay.auth.attempts[0] == (relay.auth.mechanism, b"relayuser",
                                      b"relay secret", True), relay.auth.attempts
    assert wait_for(lambda: qid not in spool_ids(inst), 60), queue_listing(inst)
    assert "authenticated as relayuser" in inst.log()
    assert "relay secret" not in inst.log()


def test_smarthost_wrong_password_defers(inst, relay):
    boot_smarthost(inst, relay.addr, write_cred(inst, "relayuser Wr0ngPassw0rd\n", 0o400))
    assert wait_for(lambda: inst.running("remote"), 30), inst.log()[-3000:]
    rcpt = "far@elsewhere.example"
    qid = send(inst, USER, [rcpt], message(subject="wrong password"))
    r = wait_rcpt_state(inst, qid, rcpt, "deferred", timeout=60)
    assert r["status"].startswith("4.7.8 authentication failed: "), r
    assert "535" in r["status"], r
    assert relay.auth.attempts and relay.auth.attempts[0][3], relay.auth.attempts
    assert relay.sink.messages == []
    assert maildir_files(maildir(inst, USER)) == []         # not bounced
    assert "Wr0ngPassw0rd" not in inst.log()


def test_smarthost_credentials_never_sent_in_plaintext(inst, plain_relay):
    boot_smarthost(inst, plain_relay.addr, write_cred(inst, "relayuser relay secret\n"))
    assert wait_for(lambda: inst.running("remote"), 30), inst.log()[-3000:]
    rcpt = "far@elsewhere.example"
    qid = send(inst, USER, [rcpt], message(subject="no tls"))
    r = wait_rcpt_state(inst, qid, rcpt, "deferred", timeout=60)
    assert r["status"].startswith("4.7.4 "), r
    assert plain_relay.auth.attempts == []
    assert plain_relay.sink.messages == []


@pytest.mark.parametrize("mode,why", [(0o644, "mode must be 0600 or 0400"),
                                      (0o640, "mode must be 0600 or 0400")])
def test_smarthost_auth_file_checked_at_start(inst, mode, why):
    cred = write_cred(inst, "relayuser relay secret\n", mode)
    inst.configure(remote__smarthost="192.0.2.1:25", remote__smarthost_auth=cred,
                   domains="example.test")
    inst.start(wait=False)
    msg = "remote.smarthost_auth: %s: %s" % (cred, why)
    assert wait_for(lambda: msg in inst.log(), 30), inst.log()[-3000:]
    assert not inst.running("remote")


@pytest.mark.parametrize("key", ["remote.tls_policy", "remote.transport"])
def test_missing_map_refuses_start(inst, key):
    """A policy map named in the configuration but missing must not mean
    "no policy": the agent refuses to start and says why."""
    path = os.path.join(inst.etc, "no-such-map.cdb")
    inst.configure({key: path})
    inst.start(wait=False)
    msg = "%s: %s: No such file or directory" % (key, path)
    assert wait_for(lambda: msg in inst.log(), 30), inst.log()[-3000:]
    assert not inst.running("remote")
