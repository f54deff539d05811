"""smtpd is never an open relay: other domains are refused from loopback
and from other 127.x sources (smtpd.trusted_networks is empty by default),
including through %, !, quoted-@, source-route, double-@, case and
trailing-dot tricks; local recipients are checked (unknown -> 550 5.1.1,
+tag and postmaster accepted); trusted networks and authenticated
submission may relay; limits.recipients gives 452 4.5.3.
"""
import smtplib

import pytest

from smtp_helpers import (SMTPClient, boot, module_instance, submission)

DENIED, UNKNOWN, SYNTAX = (554, "5.7.1"), (550, "5.1.1"), (553, "5.1.3")
# address -> the reply (code, enhanced code) it must get
TRICKS = {
    "user%other.test@example.test": UNKNOWN,       # % never interpreted
    "USER%OTHER.TEST@EXAMPLE.TEST": UNKNOWN,
    '"user@other.test"@example.test': UNKNOWN,     # quoted @ never interpreted
    "other.test!user@example.test": UNKNOWN,       # ! never interpreted
    "@example.test:user@other.test": DENIED,       # source route: final domain
    "@EXAMPLE.TEST,@relay.example.test:user@other.test": DENIED,
    "user@other.test@example.test": SYNTAX,
    "user%other.test": SYNTAX,
    "alice@EXAMPLE.TEST.other.test": DENIED,
    "alice@example.test.": SYNTAX,                 # trailing dot
    "bob@other.test.": SYNTAX,
    "bob@OTHER.TEST": DENIED,
    "bob@[192.0.2.1]": DENIED,
    "bob@[127.0.0.1]": DENIED,
    '"alice"@other.test': DENIED,
}
SOURCES = ["127.0.0.1", "127.9.1.1"]


@pytest.fixture(scope="module")
def srv():
    yield from module_instance()


def rcpt(c, addr):
    return c.cmd("RCPT TO:<%s>" % addr)


def open_txn(srv, source):
    c = SMTPClient(srv, source=source)
    c.ehlo()
    assert c.cmd("MAIL FROM:<bob@example.org>")[0] == 250
    return c


@pytest.mark.parametrize("source", SOURCES)
def test_other_domains_are_not_relayed(srv, source):
    with open_txn(srv, source) as c:
        for addr in ("bob@other.test", "bob@Other.Test", "postmaster@other.test",
                     "alice@sub.example.test", "alice@example.testx"):
            code, text = rcpt(c, addr)
            assert (code, text.split()[0]) == (554, "5.7.1"), (addr, code, text)
        # nothing was accepted, so DATA has no recipients
        code, _ = c.cmd("DATA")
        assert code in (503, 554)


@pytest.mark.parametrize("source", SOURCES)
def test_relay_tricks_refused(srv, source):
    """No trick is accepted: each gets the one right refusal (a session
    may see at most smtpd.max_errors 5xx replies: one session each)."""
    for addr, want in TRICKS.items():
        with open_txn(srv, source) as c:
            code, text = rcpt(c, addr)
            assert (code, text.split()[0]) == want, (addr, code, text)
            assert c.cmd("DATA")[0] in (503, 554)


def test_local_recipients(srv):
    with open_txn(srv, "127.0.0.1") as c:
        code, text = rcpt(c, "nobody@example.test")
        assert (code, text.split()[0]) == (550, "5.1.1"), text
        code, text = rcpt(c, "alicex@example.test")
        assert (code, text.split()[0]) == (550, "5.1.1"), text
        for addr in ("alice@example.test", "ALICE@Example.TEST", "alice+tag@example.test",
                     "alice+a+b@example.test", "postmaster@example.test",
                     "PostMaster@example.test", "postmaster",
                     "@relay.example.org:alice@example.test"):
            code, text = rcpt(c, addr)
            assert (code, text.split()[0]) == (250, "2.1.5"), (addr, code, text)
        # +tag is an extension of an existing user only
        code, text = rcpt(c, "nobody+tag@example.test")
        assert (code, text.split()[0]) == (550, "5.1.1"), text


def test_trusted_networks_may_relay(inst):
    boot(inst, smtpd__trusted_networks="127.9.0.0/16")
    with open_txn(inst, "127.9.1.1") as c:
        code, text = rcpt(c, "bob@other.test")
        assert (code, text) == (250, "2.1.5 Ok")
        # even trusted clients may not pass relay hacks on
        code, text = rcpt(c, "user%elsewhere.test@other.test")
        assert code == 554, text
    with open_txn(inst, "127.0.0.1") as c:
        code, text = rcpt(c, "bob@other.test")
        assert (code, text.split()[0]) == (554, "5.7.1")
    with open_txn(inst, "127.10.1.1") as c:
        code, text = rcpt(c, "bob@other.test")
        assert (code, text.split()[0]) == (554, "5.7.1")


def test_authenticated_submission_may_relay(srv):
    # unauthenticated submission: no mail at all
    s = smtplib.SMTP(srv.addr, srv.ports["submission"], timeout=10)
    try:
        s.ehlo("client.example.org")
        code, text = s.mail("alice@example.test")
        assert (code, text.split()[0]) == (530, b"5.7.0")
    finally:
        s.close()
    s = submission(srv)
    try:
        assert s.mail("alice@example.test")[0] == 250
        code, text = s.rcpt("bob@other.test")
        assert code == 250, text
        assert s.rcpt("alice@example.test")[0] == 250
        code, text = s.rcpt("nobody@example.test")
        assert code == 550, text
        s.rset()
    finally:
        s.close()
    # authenticated on the MX port: relaying too
    s = smtplib.SMTP(srv.addr, srv.ports["smtp"], timeout=10)
    try:
        s.ehlo("client.example.org")
        from smtp_helpers import insecure_context, USER, PASSWORD
        s.starttls(context=insecure_context())
        s.ehlo("client.example.org")
        s.login(USER, PASSWORD)
        assert s.mail("alice@example.test")[0] == 250
        assert s.rcpt("bob@other.test")[0] == 250
    finally:
        s.close()


def test_recipient_limit(inst):
    boot(inst, limits__recipients="3")
    with open_txn(inst, "127.0.0.1") as c:
        for i in range(3):
            assert rcpt(c, "alice+%d@example.test" % i)[0] == 250
        code, text = rcpt(c, "alice+9@example.test")
        assert (code, text.split()[0]) == (452, "4.5.3"), text
        code, text = rcpt(c, "postmaster@example.test")
        assert code == 452, text
        # a new transaction starts from zero
        assert c.cmd("RSET")[0] == 250
        assert c.cmd("MAIL FROM:<bob@example.org>")[0] == 250
        assert rcpt(c, "alice+9@example.test")[0] == 250
