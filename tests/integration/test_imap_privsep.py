"""The imap mail process as /proc shows it (docs/login.md): it runs as the
mailbox owner (PREFIXvmail) chrooted in the user's Maildir, without
capabilities, holding only the client socket (or, with TLS, a Unix socket
to the login process's proxy), the log pipe, its Maildir's own files, its
session slot (a locked file in the Maildir) and, while IDLE, an
inotify descriptor -- never the TLS key, the spool, the
password hashes or a socket to auth or master.  A user without a Maildir
gets one, made by the owner, not by root.  A 20 MB FETCH to a client that
does not read leaves the process's own (anonymous) memory small and
arrives byte-exact.  imap.max_sessions_per_user is enforced with those
slots, freed when a session ends however it ends.  imap-login's confinement is in test_imap_login.py."""
import hashlib
import os
import re

import pytest

import imap_helpers as ih
import pop3_helpers as ph
from conftest import needs_root, proc_status, wait_for
from imap_helpers import IMAPClient
from smtp_helpers import PASSWORD
from test_pop3_privsep import (holder_of, mail_forbidden, roots_are_master_and_local,
                               tcp_inode, unix_inodes)
from test_smtpd_privsep import assert_unprivileged, open_fds

pytestmark = needs_root

USER = "alice@example.test"


@pytest.fixture(scope="module")
def srv():
    yield from ih.imap_instance(auth__fail_delay="0s", imap__max_sessions_per_user="3")


@pytest.fixture
def inst(srv):
    wait_for(lambda: not ph.pop3_pids(srv, "imap") and not ph.pop3_pids(srv, "imap-login"), 15)
    ph.make_mailbox(srv)
    ph.clear_mailbox(srv)
    yield srv
    ph.close_all()


def login(inst, listener="imap", user=USER):
    c = IMAPClient(inst, listener, timeout=60)
    r = c.cmd('a0 LOGIN "%s" "%s"' % (user, PASSWORD))
    assert r[-1].startswith("a0 OK"), r
    return c


def check_mail(inst, pid, user=USER):
    """The imap process of user: confined to the Maildir as PREFIXvmail."""
    box = ph.mailbox(inst, user)
    st = proc_status(pid)
    assert int(st["PPid"]) == inst.pid("master"), st["PPid"]
    assert_unprivileged(inst, pid, "vmail", ("vmail",), box)
    fds = open_fds(pid)
    for fd, (target, _) in fds.items():
        if fd > 2:
            assert target == box or target.startswith(box + "/") or \
                target == "anon_inode:inotify", "imap fd %d -> %s" % (fd, target)
        for p in mail_forbidden(inst):
            assert not (target == p or target.startswith(p.rstrip("/") + "/")), \
                "imap fd %d -> %s" % (fd, target)
    with open("/proc/%d/maps" % pid) as f:
        maps = f.read()
    for p in mail_forbidden(inst):
        assert p not in maps, "imap has %s mapped" % p
    # TLS is imap-login's: the mail process does not even load OpenSSL
    assert "libssl" not in maps and "libcrypto" not in maps
    slots = [t for t, _ in fds.values() if re.fullmatch(re.escape(box) + r"/postern-session\.\d+", t)]
    assert len(slots) == 1, fds
    assert fds[0][0] == fds[1][0] and fds[0][0].startswith("socket:"), fds
    assert fds[2][0].startswith("pipe:"), fds
    return fds


def test_plain_session_idle_mail_process_confined(inst):
    ph.put(inst, "Subject: x\r\n\r\nx\r\n")
    c = login(inst)
    assert any(l == "* 1 EXISTS" for l in c.cmd("a1 SELECT INBOX"))
    inode = tcp_inode(inst, c, "imap")
    mail = wait_for(lambda: holder_of(inst, "imap", inode), 5)
    assert mail, "no imap process holds our TCP socket"
    check_mail(inst, mail)
    assert wait_for(lambda: holder_of(inst, "imap-login", inode) is None, 10), \
        "the login process still runs after a plain handoff"
    c.send(b"a2 IDLE\r\n")
    assert c.line().startswith("+ ")
    fds = check_mail(inst, mail)
    assert any(t == "anon_inode:inotify" for t, _ in fds.values()), fds
    roots_are_master_and_local(inst)
    c.send(b"DONE\r\n")
    assert c.tagged("a2")[-1].startswith("a2 OK")
    c.cmd("a3 LOGOUT")


@pytest.mark.parametrize("listener", ["imaps", "imap"])
def test_tls_session_mail_process_behind_the_proxy(inst, listener):
    c = IMAPClient(inst, listener, timeout=30)
    if listener == "imap":
        c.starttls()
    r = c.cmd('a0 LOGIN "%s" "%s"' % (USER, PASSWORD))
    assert r[-1].startswith("a0 OK"), r
    assert c.cmd("a1 SELECT INBOX")[-1].startswith("a1 OK")
    mail = ph.the_pid(inst, "imap")
    fds = check_mail(inst, mail)
    inode = tcp_inode(inst, c, listener)
    assert fds[0][0] != "socket:[%d]" % inode
    assert int(fds[0][0][len("socket:["):-1]) in unix_inodes(), fds[0]
    assert holder_of(inst, "imap-login", inode), "no login process proxies our TLS"
    roots_are_master_and_local(inst)
    c.cmd("a2 LOGOUT")


def test_maildir_made_by_the_owner_for_a_new_user(inst):
    user = "dora@example.test"
    r = inst.postern("user", "add", user, input=PASSWORD + "\n")
    assert r.returncode == 0, (r.stdout, r.stderr)
    box = ph.mailbox(inst, user)
    assert not os.path.exists(box)
    c = login(inst, user=user)
    r = c.cmd('a1 LIST "" "*"')
    assert r[-1].startswith("a1 OK") and any("\\Sent" in l for l in r), r
    vm = ph.vmail(inst)
    for d in (box, box + "/cur", box + "/.Sent", box + "/.Sent/cur"):
        st = os.stat(d)
        assert (st.st_uid, st.st_gid) == (vm.pw_uid, vm.pw_gid), d
        assert st.st_mode & 0o077 == 0, (d, oct(st.st_mode))
    check_mail(inst, ph.the_pid(inst, "imap"), user)
    c.cmd("a2 LOGOUT")


def rss_anon_kb(pid):
    st = proc_status(pid)
    return int(st["RssAnon"].split()[0])


def test_20mb_fetch_byte_exact_with_bounded_memory(inst):
    data = ph.big_message(20 << 20)
    ph.put(inst, data)
    wire = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    c = login(inst)
    assert c.cmd("a1 SELECT INBOX")[-1].startswith("a1 OK")
    pid = ph.the_pid(inst, "imap")
    base = rss_anon_kb(pid)
    c.send(b"a2 FETCH 1 BODY.PEEK[]\r\n")

    def stalled():
        q = ph.server_send_queue(inst, c)
        st = proc_status(pid)
        return q and q > 0 and st and st["State"].startswith("S")
    assert wait_for(stalled, 30), "the server never blocked on the socket"
    assert wait_for(lambda: ph.steady(stalled), 30)
    stalled_anon = rss_anon_kb(pid)
    head = c.line(timeout=60)
    n = int(re.search(r"\{(\d+)\}$", head).group(1))
    assert n == len(wire), (head, len(wire))
    got = c.read_exact(n, timeout=120)
    assert hashlib.sha256(got).digest() == hashlib.sha256(wire).digest()
    assert c.tagged("a2")[-1].startswith("a2 OK")
    limit = 16 * 1024 if not ph.has_asan(pid) else 64 * 1024
    # the message is mapped from its file (clean, reclaimable pages); what
    # the process allocates itself must not grow with it
    assert stalled_anon - base < 8 * 1024 and stalled_anon < limit, (base, stalled_anon)
    c.cmd("a3 LOGOUT")


def test_sessions_per_user_capped_by_slots(inst):
    """imap.max_sessions_per_user = 3: a 4th session of alice is refused
    NO [LIMIT]; a session killed with SIGKILL frees its slot."""
    cs = [login(inst) for _ in range(3)]
    c = IMAPClient(inst, "imap", timeout=30)
    r = c.cmd('a0 LOGIN "%s" "%s"' % (USER, PASSWORD))
    assert r[-2:] == ["* BYE Too many sessions",
                      "a0 NO [LIMIT] Too many sessions of this user"], r
    assert c.closed(10)
    pids = ph.pop3_pids(inst, "imap")
    assert len(pids) == 3, pids
    os.kill(pids[0], 9)
    assert wait_for(lambda: len(ph.pop3_pids(inst, "imap")) == 2, 10)
    c = login(inst)
    assert c.cmd("a1 NOOP")[-1].startswith("a1 OK")
    for x in cs + [c]:
        x.close()
