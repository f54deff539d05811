"""Receiving peers for the remote delivery tests (test_remote.py and any
other test that needs mail to leave the host):

- Sink: an aiosmtpd handler that keeps every accepted message and can
  refuse ("reject*" local parts: 550 at RCPT), defer once ("tempfail*":
  451 at the first RCPT of that address, 250 afterwards), refuse the whole
  message at the end of data ("datafail*": 554) or defer it there once
  ("tempdata*": 451), offer PIPELINING, hide 8BITMIME or SMTPUTF8.
- start_sink(addr, sink, tls=False): an aiosmtpd Controller on addr:PEER_PORT
  (stop it with .stop()); sink_peer(...) the same as a context manager.
- RawPeer: a threaded raw-socket server on addr:PEER_PORT for peers that
  misbehave where aiosmtpd cannot (a bad greeting, garbage or oversized
  replies, a connection dropped in the middle of DATA).  Each connection
  runs behaviour(conn) (a function of a PeerConn); serve_smtp() is a small
  scripted SMTP server to build behaviours from.
"""
import contextlib
import socket
import threading
import time

PEER_PORT = 22525
REMOTE = "remote.test"


# ---- aiosmtpd --------------------------------------------------------------

class Sink:
    """aiosmtpd handler: keeps every accepted message as (mail_from,
    [rcpts], content bytes, [MAIL parameters]) in .messages; refuses
    recipients whose local part starts with "reject"; answers 451 to the
    first RCPT of each "tempfail*" address; refuses a message with a
    "datafail*" recipient at the end of data (554), and answers 451 there
    the first time a "tempdata*" recipient is in the message."""

    def __init__(self, pipelining=False, eightbitmime=True, smtputf8=True):
        self.messages = []
        self.tls = False
        self.pipelining = pipelining
        self.eightbitmime = eightbitmime
        self.smtputf8 = smtputf8    # aiosmtpd's Controller offers it by default
        self.tempfailed = set()     # "tempfail*" addresses answered 451 once
        self.refused = []           # (rcpts, content) refused at end of data
        self.tempdata = set()       # "tempdata*" addresses deferred at end of data
        self.ehlo_count = 0

    def of(self, rcpt):
        """The accepted messages that carry rcpt (case-insensitive)."""
        return [m for m in self.messages if rcpt.lower() in (r.lower() for r in m[1])]

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        self.ehlo_count += 1
        if not self.eightbitmime:
            responses = [r for r in responses if r[4:].upper() != "8BITMIME"]
        if not self.smtputf8:
            responses = [r for r in responses if r[4:].upper() != "SMTPUTF8"]
        if self.pipelining:     # aiosmtpd reads pipelined commands in order
            responses.insert(1, "250-PIPELINING")
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0].lower()
        if local.startswith("reject"):
            return "550 5.1.1 no such user here"
        if local.startswith("tempfail") and address.lower() not in self.tempfailed:
            self.tempfailed.add(address.lower())
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if any(r.split("@")[0].lower().startswith("datafail") for r in envelope.rcpt_tos):
            self.refused.append((list(envelope.rcpt_tos), envelope.original_content))
            return "554 5.6.0 message content refused"
        first = [r.lower() for r in envelope.rcpt_tos
                 if r.split("@")[0].lower().startswith("tempdata") and
                 r.lower() not in self.tempdata]
        if first:
            self.tempdata.update(first)
            self.refused.append((list(envelope.rcpt_tos), envelope.original_content))
            return "451 4.3.0 queue full, try again later"
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos),
                              envelope.original_content, list(envelope.mail_options)))
        return "250 2.0.0 accepted"


def start_sink(addr, sink, tls=False, port=PEER_PORT, name="mx." + REMOTE):
    """An aiosmtpd Controller for sink on addr:port, started; tls: offer
    STARTTLS with the session's self-signed certificate."""
    from aiosmtpd.controller import Controller
    kw = {}
    if tls:
        import ssl
        from conftest import session_cert
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*session_cert())
        kw = {"tls_context": ctx, "require_starttls": False}
    sink.tls = tls
    c = Controller(sink, hostname=addr, port=port, server_hostname=name, **kw)
    c.start()
    return c


@contextlib.contextmanager
def sink_peer(addr, sink, **kw):
    c = start_sink(addr, sink, **kw)
    try:
        yield sink
    finally:
        c.stop()


# ---- raw-socket peers ----------------------------------------------------------

class PeerClosed(Exception):
    pass


class PeerConn:
    """One accepted connection of a RawPeer: readline()/read(n) with a
    timeout, send(), and .received (every byte read, for assertions)."""

    def __init__(self, sock, peer):
        self.sock = sock
        self.peer = peer
        self.received = bytearray()
        self._buf = b""
        sock.settimeout(0.2)

    def _more(self, deadline):
        while True:
            if self.peer.stopping:
                raise PeerClosed("peer stopping")
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                if time.monotonic() >= deadline:
                    raise PeerClosed("timed out")
                continue
            except OSError as e:
                raise PeerClosed(str(e))
            if not data:
                raise PeerClosed("closed by the client")
            self.received += data
            self._buf += data
            return

    def readline(self, timeout=60):
        """One line with its CRLF; PeerClosed on EOF or timeout."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buf:
            self._more(deadline)
        line, _, self._buf = self._buf.partition(b"\n")
        return line + b"\n"

    def read(self, n, timeout=60):
        deadline = time.monotonic() + timeout
        while len(self._buf) < n:
            self._more(deadline)
        data, self._buf = self._buf[:n], self._buf[n:]
        return data

    def send(self, data):
        """Send all of data; PeerClosed when the client has gone."""
        if isinstance(data, str):
            data = data.encode()
        try:
            self.sock.sendall(data)
        except OSError as e:
            raise PeerClosed(str(e))

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class RawPeer:
    """A TCP server on addr:port running behaviour(conn) in a thread per
    connection (the connection is closed when it returns).  .connections
    counts accepted connections, .conns keeps the PeerConn objects,
    .messages what serve_smtp() took in (mail_from, rcpts, body)."""

    def __init__(self, addr, behaviour, port=PEER_PORT):
        self.addr, self.port = addr, port
        self.behaviour = behaviour
        self.stopping = False
        self.connections = 0
        self.conns = []
        self.messages = []
        self.errors = []
        self._threads = []
        self._lock = threading.Lock()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((addr, port))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self._accepter = threading.Thread(target=self._accept, daemon=True)
        self._accepter.start()

    def _accept(self):
        while not self.stopping:
            try:
                s, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            c = PeerConn(s, self)
            with self._lock:
                self.connections += 1
                self.conns.append(c)
            t = threading.Thread(target=self._run, args=(c,), daemon=True)
            self._threads.append(t)
            t.start()

    def _run(self, c):
        try:
            self.behaviour(c)
        except PeerClosed:
            pass
        except Exception as e:      # shown by the test that looks
            self.errors.append(repr(e))
        finally:
            c.close()

    def transcript(self):
        """Everything every connection received, joined (bytes)."""
        with self._lock:
            return b"".join(bytes(c.received) for c in self.conns)

    def stop(self):
        self.stopping = True
        self._accepter.join(10)
        self.sock.close()
        for t in list(self._threads):
            t.join(10)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def serve_smtp(c, greeting=b"220 raw.test ESMTP\r\n",
               ehlo=b"250-raw.test\r\n250-8BITMIME\r\n250 PIPELINING\r\n",
               replies=None, drop_in_data=None):
    """A scripted SMTP server for RawPeer behaviours.  greeting and ehlo
    are sent verbatim; replies maps a verb ("MAIL", "RCPT", "DATA", ".",
    "BDAT", "QUIT", ...) to the raw bytes to answer instead of the default
    (a callable gets the command line, None closes the connection
    instead); drop_in_data = n: after DATA (or a BDAT), read n octets of
    the message and close the connection.  Each message taken in goes to
    c.peer.messages as (MAIL line, [RCPT lines], content, wire bytes):
    content with the dot-stuffing undone (DATA) or the chunks joined
    (BDAT); wire as received between DATA and the final dot, or the BDAT
    commands and chunks."""
    replies = replies or {}

    def answer(verb, line, default):
        r = replies.get(verb, default)
        if r is None:
            raise PeerClosed("hang up at " + verb)
        c.send(r(line) if callable(r) else r)

    c.send(greeting)
    if not greeting.startswith(b"2"):
        # a refusing greeting: the client should QUIT (RFC 5321 3.1)
        line = c.readline()
        if line.split(b" ")[0].strip().upper() == b"QUIT":
            c.send(b"221 bye\r\n")
        return
    mail_from, rcpts, chunks, wire = None, [], [], bytearray()
    while True:
        line = c.readline()
        verb = line.split(b" ", 1)[0].strip().split(b":", 1)[0].upper().decode("latin-1")
        if verb in ("EHLO", "HELO"):
            answer(verb, line, ehlo if verb == "EHLO" else b"250 raw.test\r\n")
        elif verb == "MAIL":
            mail_from, rcpts, chunks, wire = line, [], [], bytearray()
            answer(verb, line, b"250 2.1.0 ok\r\n")
        elif verb == "RCPT":
            rcpts.append(line)
            answer(verb, line, b"250 2.1.5 ok\r\n")
        elif verb == "DATA":
            answer(verb, line, b"354 go ahead\r\n")
            if drop_in_data is not None:
                c.read(drop_in_data)
                return          # closed in the middle of the message
            body = bytearray()
            while True:
                dl = c.readline()
                wire += dl
                if dl == b".\r\n":
                    break
                body += dl[1:] if dl.startswith(b".") else dl
            c.peer.messages.append((mail_from, rcpts, bytes(body), bytes(wire)))
            answer(".", line, b"250 2.0.0 queued\r\n")
        elif verb == "BDAT":
            args = line.split()
            n, last = int(args[1]), len(args) > 2 and args[2].upper() == b"LAST"
            if drop_in_data is not None:
                c.read(min(n, drop_in_data))
                return          # closed in the middle of the chunk
            chunk = c.read(n)
            wire += line + chunk
            chunks.append(chunk)
            if last:
                c.peer.messages.append((mail_from, rcpts, b"".join(chunks), bytes(wire)))
                answer(".", line, b"250 2.0.0 queued\r\n")
            else:
                answer(verb, line, b"250 2.0.0 chunk ok\r\n")
        elif verb == "QUIT":
            answer(verb, line, b"221 2.0.0 bye\r\n")
            return
        elif verb == "RSET" or verb == "NOOP":
            answer(verb, line, b"250 2.0.0 ok\r\n")
        else:
            answer(verb, line, b"502 5.5.1 not implemented\r\n")


# ---- a shared instance per test module ------------------------------------

class Ctx:
    """What a test of a module's shared instance gets: .inst, .log() (the
    log since the test started), .pid (the remote agent's pid at the
    start)."""

    def __init__(self, inst):
        self.inst = inst
        self.mark = len(inst.log())
        self.pid = inst.pid("remote")

    def log(self):
        return self.inst.log()[self.mark:]


def empty_queue(srv):
    """After a test of a shared instance: delete what is queued, wait until
    the spool is empty, end the suspensions of destinations that failed
    (docs/queue.md) with a flush."""
    from conftest import wait_for
    from delivery_helpers import queue_listing
    from smtp_helpers import spool_ids
    r = srv.postern("queue", "delete", "all")
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert wait_for(lambda: not spool_ids(srv), 30), queue_listing(srv)
    assert srv.postern("flush").returncode == 0


def wait_log_text(c, text, timeout=30):
    """Wait until text is in c's log (lines of different processes reach
    it in any order)."""
    from conftest import wait_for
    assert wait_for(lambda: text in c.log(), timeout), (text, c.log()[-4000:])


def wait_gone(c, qid, timeout=60):
    """Wait until qid has left the queue (every recipient final) and the
    queue's log lines about it are in the log ("ID: removed" is its last)."""
    from conftest import wait_for
    from delivery_helpers import queue_listing
    from smtp_helpers import spool_ids
    ok = wait_for(lambda: qid not in spool_ids(c.inst), timeout)
    assert ok, "%s still queued:\n%s\nlog:\n%s" % (qid, queue_listing(c.inst),
                                                   c.log()[-4000:])
    wait_log_text(c, "%s: removed" % qid)


def dsns_about(c, qid):
    """The files in the sender's mailbox that mention qid."""
    from delivery_helpers import maildir, maildir_files, read
    from smtp_helpers import USER
    return [p for p in maildir_files(maildir(c.inst, USER)) if qid.encode() in read(p)]


def wait_dsn(c, qid, timeout=60):
    """The report (DSN) about qid that reached the sender's mailbox."""
    from conftest import wait_for
    from delivery_helpers import DSN, queue_listing, read

    def find():
        for p in dsns_about(c, qid):
            d = DSN(read(p))
            if d.per_message.get("x-postern-queue-id") == qid:
                return d
        return None
    d = wait_for(find, timeout)
    assert d, "no report about %s:\n%s\nlog:\n%s" % (qid, queue_listing(c.inst),
                                                      c.log()[-4000:])
    return d
