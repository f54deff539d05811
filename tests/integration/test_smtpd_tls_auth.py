"""smtpd TLS and authentication: STARTTLS (TLS 1.2+ only), AUTH PLAIN and
LOGIN only inside TLS, submission requires AUTH, smtps implicit TLS, the
STARTTLS command-injection defence (CVE-2011-0411), and the Date:/
Message-ID: fields submission adds (issue 3, docs/smtpd.8)."""
import base64
import re
import smtplib
import ssl
import warnings

import pytest

import smtp_helpers as sh
from conftest import wait_for


def B64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


@pytest.fixture(scope="module")
def srv():
    """One instance for the file: every test here needs the same config
    (boot() defaults); each test looks only at its own connections, its
    own queue ids and the log written after it started.  Without delivery
    agents: the tests read accepted mail in the spool, where a local agent
    could take it away first (mail to alice) before wait_spool saw it."""
    yield from sh.module_instance(deliver=False)


@pytest.fixture
def inst(srv):
    return srv


def log_since(inst, mark):
    return inst.log()[mark:]


def tls_client(inst, listener="smtp"):
    """A raw client after EHLO and STARTTLS (the caller sends the new EHLO)."""
    c = sh.SMTPClient(inst, listener)
    c.ehlo()
    c.starttls()
    return c


# ---- STARTTLS -------------------------------------------------------------

def test_starttls_negotiates_tls12_or_newer(inst):
    mark = len(inst.log())
    for listener in ("smtp", "submission"):
        s = sh.smtp(inst, listener)
        try:
            code, _ = s.ehlo()
            assert code == 250
            assert s.has_extn("starttls"), (listener, s.esmtp_features)
            code, text = s.starttls(context=sh.insecure_context())
            assert code == 220, text
            assert s.sock.version() in ("TLSv1.2", "TLSv1.3"), s.sock.version()
            code, _ = s.ehlo()
            assert code == 250
            # RFC 3207 4.2: no STARTTLS offered any more inside TLS
            assert not s.has_extn("starttls"), s.esmtp_features
            assert s.noop()[0] == 250
        finally:
            s.close()
    assert wait_for(lambda: "TLS established with" in log_since(inst, mark), 5)


def tls11_context():
    """A client context that offers at most TLS 1.1 (and really sends it:
    security level 0, or OpenSSL 3 would not offer TLS 1.1 at all)."""
    ctx = sh.insecure_context()
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    return ctx


def test_tls11_client_refused(inst):
    mark = len(inst.log())
    c = sh.SMTPClient(inst, "smtp")
    try:
        c.ehlo()
        assert c.cmd("STARTTLS")[0] == 220
        with pytest.raises((ssl.SSLError, ConnectionResetError)) as e:
            tls11_context().wrap_socket(c.sock, server_hostname="mail.example.test")
        # the server refused it, not our own OpenSSL
        # the server's protocol_version alert, not our own OpenSSL refusing
        assert "PROTOCOL_VERSION" in str(e.value).upper(), e.value
    finally:
        c.close()
    assert wait_for(lambda: "TLS handshake with" in log_since(inst, mark), 5), \
        inst.log()[-2000:]
    # implicit TLS on smtps: the same
    raw = sh.socket.create_connection(sh.addr_of(inst, "smtps"), timeout=10)
    try:
        with pytest.raises((ssl.SSLError, ConnectionResetError)) as e:
            tls11_context().wrap_socket(raw, server_hostname="mail.example.test")
        assert "PROTOCOL_VERSION" in str(e.value).upper(), e.value
    finally:
        raw.close()
    assert wait_for(lambda: log_since(inst, mark).count("TLS handshake with") >= 2, 5)


def test_second_starttls_in_tls_is_503(inst):
    with tls_client(inst) as c:
        c.ehlo()
        code, text = c.cmd("STARTTLS")
        assert code == 503 and text.startswith("5.5.1"), (code, text)
        # the session goes on inside TLS
        assert c.cmd("NOOP")[0] == 250


def test_starttls_injection_discarded(inst):
    """CVE-2011-0411: commands pipelined after STARTTLS in the same packet
    are thrown away, not run inside the TLS session."""
    mark = len(inst.log())
    with sh.SMTPClient(inst, "smtp") as c:
        c.ehlo()
        c.send(b"STARTTLS\r\nRSET\r\n")
        code, text = c.reply()
        assert code == 220, (code, text)
        assert c.buf == b"", "reply to the injected RSET in plaintext: %r" % c.buf
        c.sock = sh.insecure_context().wrap_socket(c.sock, server_hostname="mail.example.test")
        # the first reply in TLS must be the one to our EHLO, not RSET's "250 2.0.0 Ok"
        code, text = c.cmd("EHLO client.example.org")
        assert code == 250 and text.split("\n")[0] == "mail.example.test", (code, text)
        assert c.cmd("NOOP") == (250, "2.0.0 Ok")
        assert c.cmd("QUIT")[0] == 221
        assert c.buf == b"", c.buf
    assert wait_for(lambda: "discarded 6 octets sent before the TLS handshake"
                    in log_since(inst, mark), 5), \
        inst.log()[-2000:]


# ---- AUTH -----------------------------------------------------------------

def test_auth_not_offered_or_accepted_before_tls(inst):
    for listener in ("smtp", "submission"):
        with sh.SMTPClient(inst, listener) as c:
            ext = c.ehlo()
            assert not any(e.upper().startswith("AUTH") for e in ext), (listener, ext)
            cred = B64("\0%s\0%s" % (sh.USER, sh.PASSWORD))
            code, text = c.cmd("AUTH PLAIN " + cred)
            # RFC 4954 4 and 6: 538 5.7.11 Encryption required
            assert code == 538 and text.startswith("5.7.11"), (code, text)
            code, text = c.cmd("AUTH LOGIN")
            assert code == 538 and text.startswith("5.7.11"), (code, text)
            # and it did not authenticate us: submission still wants AUTH
            if listener == "submission":
                assert c.cmd("MAIL FROM:<%s>" % sh.USER)[0] == 530
    assert sh.PASSWORD not in inst.log()


def test_auth_offered_after_tls(inst):
    for listener in ("smtp", "submission"):
        with tls_client(inst, listener) as c:
            ext = [e.upper() for e in c.ehlo()]
            assert "AUTH PLAIN LOGIN" in ext, ext


def test_auth_plain_good(inst):
    with tls_client(inst, "submission") as c:
        c.ehlo()
        code, text = c.cmd("AUTH PLAIN " + B64("\0%s\0%s" % (sh.USER, sh.PASSWORD)))
        assert code == 235 and text.startswith("2.7.0"), (code, text)
        # already authenticated: a second AUTH is out of sequence
        assert c.cmd("AUTH PLAIN " + B64("\0%s\0%s" % (sh.USER, sh.PASSWORD)))[0] == 503
        code, text = c.cmd("MAIL FROM:<%s>" % sh.USER)
        assert code == 250, (code, text)
    # PLAIN without an initial response: empty 334 challenge
    with tls_client(inst, "smtp") as c:
        c.ehlo()
        assert c.cmd("AUTH PLAIN") == (334, "")
        code, text = c.cmd(B64("\0%s\0%s" % (sh.USER, sh.PASSWORD)))
        assert code == 235, (code, text)
    assert sh.PASSWORD not in inst.log()


def test_auth_login_good(inst):
    with tls_client(inst, "submission") as c:
        c.ehlo()
        assert c.cmd("AUTH LOGIN") == (334, "VXNlcm5hbWU6")
        assert c.cmd(B64(sh.USER)) == (334, "UGFzc3dvcmQ6")
        code, text = c.cmd(B64(sh.PASSWORD))
        assert code == 235 and text.startswith("2.7.0"), (code, text)
        assert c.cmd("MAIL FROM:<%s>" % sh.USER)[0] == 250
    # and through smtplib, each mechanism with an initial response
    for mech in ("PLAIN", "LOGIN"):
        s = sh.submission(inst, login=False)
        try:
            s.user, s.password = sh.USER, sh.PASSWORD
            code, text = s.auth(mech, getattr(s, "auth_" + mech.lower()))
            assert code == 235, (mech, code, text)
            assert s.mail(sh.USER)[0] == 250
        finally:
            s.close()


@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN"])
def test_auth_bad_password_and_unknown_user_same_answer(inst, mech):
    answers = []
    for user, password in ((sh.USER, "wrong password"),
                           ("nobody@example.test", sh.PASSWORD)):
        with tls_client(inst, "submission") as c:
            c.ehlo()
            if mech == "PLAIN":
                answer = c.cmd("AUTH PLAIN " + B64("\0%s\0%s" % (user, password)))
            else:
                assert c.cmd("AUTH LOGIN")[0] == 334
                assert c.cmd(B64(user))[0] == 334
                answer = c.cmd(B64(password))
            assert answer[0] == 535 and answer[1].startswith("5.7.8"), answer
            answers.append(answer)
            # not authenticated: MAIL still refused
            code, text = c.cmd("MAIL FROM:<%s>" % user)
            assert code == 530 and text.startswith("5.7.0"), (code, text)
    assert answers[0] == answers[1], answers


def test_submission_without_auth_refused(inst):
    # before TLS and after TLS, MAIL needs AUTH on submission
    with sh.SMTPClient(inst, "submission") as c:
        c.ehlo()
        code, text = c.cmd("MAIL FROM:<%s>" % sh.USER)
        assert code == 530 and text.startswith("5.7.0"), (code, text)
    with tls_client(inst, "submission") as c:
        c.ehlo()
        code, text = c.cmd("MAIL FROM:<%s>" % sh.USER)
        assert code == 530 and text.startswith("5.7.0"), (code, text)
        assert c.cmd("RCPT TO:<%s>" % sh.USER)[0] == 503
    # smtps too
    with sh.SMTPClient(inst, "smtps") as c:
        c.ehlo()
        code, text = c.cmd("MAIL FROM:<%s>" % sh.USER)
        assert code == 530 and text.startswith("5.7.0"), (code, text)
    s = sh.submission(inst, login=False)
    try:
        with pytest.raises(smtplib.SMTPSenderRefused) as e:
            s.sendmail(sh.USER, ["bob@elsewhere.example"], b"Subject: x\r\n\r\nhi\r\n")
        assert e.value.smtp_code == 530
    finally:
        s.close()


# ---- smtps and what submission adds -----------------------------------------

MSG = (b"From: Alice <alice@example.test>\r\n"
       b"To: Bob <bob@elsewhere.example>\r\n"
       b"Subject: hello\r\n"
       b"\r\n"
       b"body line\r\n")


def header_fields(msg):
    """The header block of a stored message as a list of (name, value)."""
    head = msg.split(b"\r\n\r\n", 1)[0]
    fields = []
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] = (fields[-1][0], fields[-1][1] + b"\r\n" + line)
        else:
            name, _, value = line.partition(b":")
            fields.append((name.lower().decode(), value.strip()))
    return fields


def test_smtps_auth_send_received_header(inst):
    s = sh.smtps(inst)
    try:
        assert s.sock.version() in ("TLSv1.2", "TLSv1.3")
        s.mail(sh.USER)
        assert s.rcpt("bob@elsewhere.example")[0] == 250   # authenticated: relay ok
        code, text = s.data(MSG)
        assert code == 250, text
    finally:
        s.close()
    qid = sh.queue_id(text)
    env = sh.wait_spool(inst, qid)
    assert env["protocol"] == "ESMTPSA", env
    assert env["auth-id"] == sh.USER, env
    msg = sh.spool_msg(inst, qid)
    fields = header_fields(msg)
    assert fields[0][0] == "received", fields[:2]
    received = fields[0][1].decode()
    assert re.search(r"\bwith ESMTPSA id %s\b" % re.escape(qid), received), received
    assert re.search(r"\(using TLSv1\.[23] with cipher \S+", received), received
    assert "by mail.example.test" in received and "from client.example.org" in received
    # the login name is never shown
    assert sh.USER not in received.replace("for <%s>" % sh.USER, "")
    assert msg.endswith(b"\r\n\r\nbody line\r\n"), msg


def send_one(client_factory, body, rcpt=sh.USER):
    s = client_factory()
    try:
        s.mail(sh.USER)
        assert s.rcpt(rcpt)[0] == 250
        code, text = s.data(body)
        assert code == 250, text
    finally:
        s.close()
    return sh.queue_id(text)


def test_submission_adds_date_and_message_id_when_missing(inst):
    qid = send_one(lambda: sh.submission(inst), MSG)
    sh.wait_spool(inst, qid)
    fields = header_fields(sh.spool_msg(inst, qid))
    names = [n for n, _ in fields]
    assert names.count("date") == 1 and names.count("message-id") == 1, names
    date = dict(fields)["date"].decode()
    assert re.fullmatch(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}",
                        date), date
    msgid = dict(fields)["message-id"].decode()
    assert re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", msgid), msgid
    # ours come at the end of the header; the rest is stored as sent
    assert names[1:] == ["from", "to", "subject", "date", "message-id"], names
    msg = sh.spool_msg(inst, qid)
    head, body = MSG.split(b"\r\n\r\n", 1)
    assert head + b"\r\n" in msg and msg.endswith(b"\r\n\r\n" + body), msg


def test_submission_keeps_date_and_message_id_when_present(inst):
    own = (b"Date: Tue, 01 Oct 2024 10:00:00 +0200\r\n"
           b"Message-ID: <original.1@client.example.org>\r\n") + MSG
    for factory in (lambda: sh.submission(inst), lambda: sh.smtps(inst)):
        qid = send_one(factory, own)
        sh.wait_spool(inst, qid)
        msg = sh.spool_msg(inst, qid)
        fields = header_fields(msg)
        names = [n for n, _ in fields]
        assert names.count("date") == 1 and names.count("message-id") == 1, names
        assert dict(fields)["date"] == b"Tue, 01 Oct 2024 10:00:00 +0200"
        assert dict(fields)["message-id"] == b"<original.1@client.example.org>"
        # stored as sent, after our Received:
        assert msg.endswith(own), msg


def test_mx_port_adds_nothing_but_received(inst):
    """On the smtp (MX) port the message is not changed: no Date:/
    Message-ID: is added (that is a submission service's job)."""
    with sh.SMTPClient(inst, "smtp") as c:
        code, text = c.send_message("sender@elsewhere.example", [sh.USER], MSG)
    assert code == 250, text
    qid = sh.queue_id(text)
    sh.wait_spool(inst, qid)
    msg = sh.spool_msg(inst, qid)
    names = [n for n, _ in header_fields(msg)]
    assert names[0] == "received" and names.count("received") == 1, names
    assert "date" not in names and "message-id" not in names, names
    assert msg.endswith(MSG)
