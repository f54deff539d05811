"""smtpd speaks RFC 5321 ESMTP: greeting, EHLO extensions, every command's
good and bad cases with exact reply and enhanced status codes, PIPELINING,
BDAT/CHUNKING, SMTPUTF8, DSN parameters in the envelope, and end-to-end
sends with smtplib and swaks that land in the spool with a correct
Received: header.  One instance serves the whole module.
"""
import re
import subprocess

import pytest

from conftest import wait_for
from smtp_helpers import (USER, SMTPClient, module_instance, queue_id, smtp,
                          spool_env, spool_ids, spool_msg, wait_spool)

ENH = re.compile(r"^[245]\.\d{1,3}\.\d{1,3} ")
SIZE = 10 * 1024 * 1024
RECEIVED = re.compile(
    r"^Received: from (?P<helo>\S+) \(\[(?P<addr>[0-9.]+)\]\)\r\n"
    r"\tby (?P<by>\S+) \(postern\) with (?P<proto>\S+) id (?P<id>\S+)\r\n"
    r"(?:\tfor <(?P<for>[^>]+)>)?; (?P<date>[A-Z][a-z]{2}, \d{1,2} [A-Z][a-z]{2} \d{4} "
    r"\d\d:\d\d:\d\d [+-]\d{4})\r\n")


@pytest.fixture(scope="module")
def srv():
    yield from module_instance(limits__message_size="10M", deliver=False)


def expect(c, line, code, enh=None):
    """Send line, check the reply code, that the reply carries an enhanced
    status code (and which one, if enh is given); returns the text."""
    got, text = c.cmd(line)
    assert got == code, "%r -> %d %s (wanted %d)" % (line, got, text, code)
    for t in text.split("\n"):
        assert ENH.match(t), "%r -> no enhanced status code in %r" % (line, t)
    if enh:
        assert text.startswith(enh + " "), "%r -> %d %s (wanted %s)" % (line, got, text, enh)
    return text


def test_greeting_and_ehlo_extensions(srv):
    with SMTPClient(srv) as c:
        assert c.greeting == (220, "mail.example.test ESMTP postern")
        code, text = c.cmd("EHLO client.example.org")
        assert code == 250
        lines = text.split("\n")
        assert lines[0].split()[0] == "mail.example.test"
        assert lines[1:] == ["PIPELINING", "SIZE %d" % SIZE, "8BITMIME",
                             "ENHANCEDSTATUSCODES", "STARTTLS", "CHUNKING",
                             "SMTPUTF8", "DSN"]
        assert not any(l.startswith("AUTH") for l in lines)
        # AUTH before TLS: not offered, and refused
        expect(c, "AUTH PLAIN AGFsaWNlAHg=", 538, "5.7.11")
        # a second EHLO is fine and says the same
        assert c.ehlo("other.example.org") == lines[1:]
        expect(c, "EHLO", 501, "5.5.4")
        expect(c, "QUIT", 221, "2.0.0")
        assert c.closed(5)


def test_helo_is_plain_smtp(srv):
    with SMTPClient(srv) as c:
        code, text = c.cmd("HELO client.example.org")
        assert (code, text) == (250, "mail.example.test")
        expect(c, "HELO", 501, "5.5.4")
        # no extensions after HELO: their parameters are not offered
        expect(c, "MAIL FROM:<bob@example.org> SIZE=100", 555, "5.5.4")
        expect(c, "MAIL FROM:<bob@example.org>", 250, "2.1.0")
        expect(c, "RCPT TO:<alice@example.test> NOTIFY=NEVER", 555, "5.5.4")
        expect(c, "RCPT TO:<alice@example.test>", 250, "2.1.5")
        assert c.cmd("DATA")[0] == 354
        c.send(b"Subject: helo\r\n\r\nx\r\n.\r\n")
        code, text = c.reply()
        assert code == 250, text
        qid = queue_id(text)
        expect(c, "QUIT", 221, "2.0.0")
    env = wait_spool(srv, qid)
    assert env["protocol"] == "SMTP"
    m = RECEIVED.match(spool_msg(srv, qid).decode())
    assert m and m.group("proto") == "SMTP" and m.group("id") == qid


def test_commands_out_of_sequence(srv):
    # (each session stays under smtpd.max_errors, 10 by default)
    with SMTPClient(srv) as c:
        # before EHLO: everything transactional is out of sequence
        expect(c, "MAIL FROM:<bob@example.org>", 503, "5.5.1")
        expect(c, "RCPT TO:<alice@example.test>", 503, "5.5.1")
        expect(c, "DATA", 503, "5.5.1")
        c.ehlo()
        expect(c, "RCPT TO:<alice@example.test>", 503, "5.5.1")
        expect(c, "DATA", 503, "5.5.1")
        expect(c, "MAIL FROM:<bob@example.org> BODY=8BITMIME SIZE=1000", 250, "2.1.0")
        expect(c, "MAIL FROM:<bob@example.org>", 503, "5.5.1")        # MAIL twice
        # DATA with MAIL but no accepted RCPT: 503 or 554 (RFC 5321 3.3)
        code, text = c.cmd("DATA")
        assert code in (503, 554) and text.startswith("5.5.1 "), (code, text)
        expect(c, "RCPT TO:<alice@example.test>", 250, "2.1.5")
        expect(c, "QUIT", 221, "2.0.0")
        assert c.closed(5)


def test_unknown_commands_and_bad_syntax(srv):
    with SMTPClient(srv) as c:
        c.ehlo()
        expect(c, "FOOBAR", 500, "5.5.1")
        expect(c, "MAILFROM:<bob@example.org>", 500, "5.5.1")
        expect(c, "MAIL TO:<bob@example.org>", 501, "5.5.4")
        expect(c, "MAIL FROM:bob@example.org>", 501)
        expect(c, "MAIL FROM:<bob@example.org> SIZE=x", 501, "5.5.4")
        expect(c, "MAIL FROM:<bob@example.org> BODY=9BIT", 501, "5.5.4")
        expect(c, "NOOP", 250, "2.0.0")
        expect(c, "NOOP anything", 250, "2.0.0")
        assert expect(c, "HELP", 214, "2.0.0")
        expect(c, "RSET", 250, "2.0.0")
    with SMTPClient(srv) as c:
        c.ehlo()
        expect(c, "MAIL FROM:<bob@example.org> FOO=BAR", 555, "5.5.4")
        expect(c, "MAIL FROM:<bob@example.org> BODY=BINARYMIME", 555, "5.5.4")
        expect(c, "MAIL FROM:<bob@example.org>", 250, "2.1.0")
        expect(c, "RCPT FROM:<alice@example.test>", 501, "5.5.4")
        expect(c, "RCPT TO:<alice@example.test> FOO=1", 555, "5.5.4")
        expect(c, "RCPT TO:<alice@example.test> NOTIFY=NEVER,SUCCESS", 501, "5.5.4")
        expect(c, "RCPT TO:<alice@example.test>", 250, "2.1.5")
        expect(c, "DATA extra", 501, "5.5.4")
        expect(c, "RSET now", 501, "5.5.4")
        expect(c, "QUIT now", 501, "5.5.4")
        expect(c, "QUIT", 221, "2.0.0")
        assert c.closed(5)


def test_vrfy_never_discloses(srv):
    with SMTPClient(srv) as c:
        c.ehlo()
        known = expect(c, "VRFY alice@example.test", 252, "2.5.0")
        assert expect(c, "VRFY nobody@example.test", 252) == known
        assert expect(c, "VRFY alice", 252) == known
        assert expect(c, "VRFY <bob@other.test>", 252) == known
        assert "alice" not in known
        expect(c, "VRFY", 501, "5.5.4")


def test_rset_clears_the_transaction(srv):
    with SMTPClient(srv) as c:
        c.ehlo()
        expect(c, "MAIL FROM:<bob@example.org>", 250)
        expect(c, "RCPT TO:<alice@example.test>", 250)
        expect(c, "RSET", 250, "2.0.0")
        expect(c, "RCPT TO:<alice@example.test>", 503, "5.5.1")
        expect(c, "DATA", 503, "5.5.1")
        expect(c, "MAIL FROM:<bob@example.org>", 250, "2.1.0")
        # EHLO resets too
        c.ehlo()
        expect(c, "RCPT TO:<alice@example.test>", 503, "5.5.1")


def test_pipelining_batch_in_one_write(srv):
    with SMTPClient(srv) as c:
        batch = (b"EHLO client.example.org\r\n"
                 b"MAIL FROM:<bob@example.org>\r\n"
                 b"RCPT TO:<alice@example.test>\r\n"
                 b"RCPT TO:<nobody@example.test>\r\n"
                 b"RCPT TO:<carol@other.test>\r\n"
                 b"NOOP\r\n"
                 b"RSET\r\n"
                 b"VRFY x\r\n"
                 b"FROB\r\n"
                 b"QUIT\r\n")
        c.send(batch)
        codes = [r[0] for r in c.replies(10)]
        assert codes == [250, 250, 250, 550, 554, 250, 250, 252, 500, 221]
        assert c.closed(5)


def test_partial_command_after_a_pipelined_one(srv):
    """A write that ends inside the next command ("NOOP\r\nNO"): the NOOP
    is answered at once, not held until the rest of the line comes (the
    client may be waiting for that answer before it sends more)."""
    with SMTPClient(srv) as c:
        assert c.cmd("EHLO client.example.org")[0] == 250
        c.send(b"NOOP\r\nNO")
        assert c.reply(timeout=10)[0] == 250
        c.send(b"OP\r\nQUIT\r\n")
        assert [r[0] for r in c.replies(2)] == [250, 221]


def test_pipelined_message_end_to_end(srv):
    """MAIL, RCPT, DATA and the message in one write (RFC 2920); the 250
    carries the id the message is stored under."""
    before = set(spool_ids(srv))
    with SMTPClient(srv) as c:
        c.ehlo()
        c.send(b"MAIL FROM:<bob@example.org>\r\nRCPT TO:<alice@example.test>\r\n"
               b"DATA\r\n")
        assert [r[0] for r in c.replies(3)] == [250, 250, 354]
        c.send(b"Subject: pipelined\r\n\r\nbody\r\n.\r\nQUIT\r\n")
        code, text = c.reply()
        assert code == 250, text
        assert text.startswith("2.0.0 ")
        qid = queue_id(text)
        assert c.reply()[0] == 221
    env = wait_spool(srv, qid)
    assert set(spool_ids(srv)) - before == {qid}
    assert env["sender"] == "bob@example.org"
    assert [r["addr"] for r in env["rcpt"]] == ["alice@example.test"]
    assert spool_msg(srv, qid).endswith(b"\r\nSubject: pipelined\r\n\r\nbody\r\n")


def test_smtplib_end_to_end_received_header(srv):
    body = (b"From: Bob <bob@example.org>\r\nTo: alice@example.test\r\n"
            b"Subject: hello\r\n\r\nline one\r\n.leading dot\r\n..two dots\r\n"
            b"8bit: \xc3\xa9t\xc3\xa9\r\n")
    s = smtp(srv)
    try:
        s.ehlo("client.example.org")
        assert s.has_extn("pipelining") and s.has_extn("size")
        assert s.mail("bob@example.org", ["BODY=8BITMIME", "SIZE=%d" % len(body)])[0] == 250
        assert s.rcpt("alice+tag@example.test")[0] == 250
        code, resp = s.data(body)      # smtplib dot-stuffs
        assert code == 250, resp
        qid = queue_id(resp)
        s.quit()
    finally:
        s.close()
    env = wait_spool(srv, qid)
    msg = spool_msg(srv, qid)
    m = RECEIVED.match(msg.decode("utf-8"))
    assert m, msg[:400]
    assert m.group("helo") == "client.example.org"
    assert m.group("addr") == "127.0.0.1"
    assert m.group("by") == "mail.example.test"
    assert m.group("proto") == "ESMTP"
    assert m.group("id") == qid
    assert m.group("for") == "alice+tag@example.test"
    assert msg[m.end():] == body, "message not stored intact"
    assert env["id"] == qid
    assert env["sender"] == "bob@example.org"
    assert env["client-addr"] == "127.0.0.1"
    assert env["client-helo"] == "client.example.org"
    assert env["protocol"] == "ESMTP"
    assert env["body"] == "8bitmime"
    assert "auth-id" not in env
    assert [(r["addr"], r["state"]) for r in env["rcpt"]] == [("alice+tag@example.test", "pending")]


def test_bdat_chunking(srv):
    chunk1 = b"Subject: chunked\r\n\r\n.this dot stays\r\n"
    chunk2 = b"line split across ch"
    chunk3 = b"unks\r\n.\r\nend\r\n"
    with SMTPClient(srv) as c:
        c.ehlo()
        expect(c, "MAIL FROM:<bob@example.org>", 250)
        expect(c, "RCPT TO:<alice@example.test>", 250)
        c.send(b"BDAT %d\r\n" % len(chunk1) + chunk1)
        code, text = c.reply()
        assert (code, text) == (250, "2.0.0 %d octets received" % len(chunk1))
        # DATA in the middle of a BDAT transfer
        expect(c, "DATA", 503, "5.5.1")
        c.send(b"BDAT %d\r\n" % len(chunk2) + chunk2)
        assert c.reply()[0] == 250
        c.send(b"BDAT %d LAST\r\n" % len(chunk3) + chunk3)
        code, text = c.reply()
        assert code == 250, text
        qid = queue_id(text)
        expect(c, "QUIT", 221)
    wait_spool(srv, qid)
    msg = spool_msg(srv, qid)
    m = RECEIVED.match(msg.decode())
    assert m and m.group("id") == qid and m.group("proto") == "ESMTP"
    assert msg[m.end():] == chunk1 + chunk2 + chunk3


def test_bdat_out_of_sequence_and_mixed_with_data(srv):
    with SMTPClient(srv) as c:
        c.ehlo()
        # no transaction: the chunk is read and dropped, then 503
        c.send(b"BDAT 6 LAST\r\nQUIT\r\n")
        code, text = c.reply()
        assert code == 503 and text.startswith("5.5.1 "), (code, text)
        expect(c, "NOOP", 250, "2.0.0")
        expect(c, "BDAT x", 501, "5.5.4")
        expect(c, "MAIL FROM:<bob@example.org>", 250)
        expect(c, "RCPT TO:<alice@example.test>", 250)
        c.send(b"BDAT 5\r\nabc\r\n")
        assert c.reply()[0] == 250
        expect(c, "DATA", 503, "5.5.1")
        expect(c, "MAIL FROM:<bob@example.org>", 503, "5.5.1")
        # RSET abandons the chunked message: nothing is queued
        before = spool_ids(srv)
        expect(c, "RSET", 250)
        c.send(b"BDAT 5 LAST\r\nxyz\r\n")
        assert c.reply()[0] == 503
        expect(c, "QUIT", 221)
    assert spool_ids(srv) == before


def test_smtputf8(srv):
    sender = "jos\u00e9@example.org"
    with SMTPClient(srv) as c:
        c.ehlo()
        expect(c, "MAIL FROM:<%s>" % sender, 553, "5.6.7")
        expect(c, "MAIL FROM:<bob@example.org> SMTPUTF8", 250)
        expect(c, "RSET", 250)
        expect(c, "MAIL FROM:<%s> SMTPUTF8" % sender, 250, "2.1.0")
        expect(c, "RCPT TO:<alice@example.test>", 250)
        code, _ = c.cmd("DATA")
        assert code == 354
        c.send("Subject: caf\u00e9\r\n\r\nol\u00e9\r\n.\r\n".encode())
        code, text = c.reply()
        assert code == 250, text
        qid = queue_id(text)
    env = wait_spool(srv, qid)
    assert env["sender"] == sender
    assert env.get("smtputf8") == "1"
    assert env["protocol"] == "UTF8SMTP"
    msg = spool_msg(srv, qid).decode("utf-8")
    assert RECEIVED.match(msg).group("proto") == "UTF8SMTP"
    # without SMTPUTF8 a non-ASCII recipient is refused too
    with SMTPClient(srv) as c:
        c.ehlo()
        expect(c, "MAIL FROM:<bob@example.org>", 250)
        expect(c, "RCPT TO:<j\u00f6rg@example.test>", 553, "5.6.7")


def test_dsn_parameters_stored_in_envelope(srv):
    with SMTPClient(srv) as c:
        c.ehlo()
        expect(c, "MAIL FROM:<bob@example.org> RET=HDRS ENVID=abc+2Bdef", 250)
        expect(c, "RCPT TO:<alice@example.test> NOTIFY=SUCCESS,FAILURE "
                  "ORCPT=rfc822;Alice+2Bx@example.test", 250)
        expect(c, "RCPT TO:<Postmaster> NOTIFY=NEVER", 250)
        expect(c, "RCPT TO:<alice@example.test>", 250)     # a duplicate
        code, _ = c.cmd("DATA")
        assert code == 354
        c.send(b"Subject: dsn\r\n\r\nx\r\n.\r\n")
        code, text = c.reply()
        assert code == 250, text
        qid = queue_id(text)
        # bad DSN values
        expect(c, "MAIL FROM:<bob@example.org> RET=MAYBE", 501, "5.5.4")
        expect(c, "MAIL FROM:<bob@example.org> RET=FULL RET=HDRS", 501)
    env = wait_spool(srv, qid)
    assert env["ret"] == "hdrs"
    assert env["envid"] == "abc+def"
    assert [r["addr"] for r in env["rcpt"]] == ["alice@example.test",
                                                 "postmaster@example.test"]
    rc = {r["addr"]: r for r in env["rcpt"]}
    assert rc["alice@example.test"]["notify"] == "success,failure"
    assert rc["alice@example.test"]["orcpt"] == "rfc822;Alice+x@example.test"
    assert rc["postmaster@example.test"]["notify"] == "never"
    assert "orcpt" not in rc["postmaster@example.test"]


def test_swaks_end_to_end(srv):
    before = set(spool_ids(srv))
    r = subprocess.run(["swaks", "--server", "%s:%d" % (srv.addr, srv.ports["smtp"]),
                        "--to", USER, "--from", "bob@example.org",
                        "--helo", "swaks.example.org", "--header", "Subject: via swaks",
                        "--timeout", "20"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    m = re.search(r"<-\s+250 2\.0\.0 Ok: queued as (\S+)", r.stdout)
    assert m, r.stdout
    qid = m.group(1)
    env = wait_spool(srv, qid)
    assert set(spool_ids(srv)) - before == {qid}
    assert env["client-helo"] == "swaks.example.org"
    assert env["sender"] == "bob@example.org"
    msg = spool_msg(srv, qid).decode()
    assert RECEIVED.match(msg).group("helo") == "swaks.example.org"
    assert "\r\nSubject: via swaks\r\n" in msg
