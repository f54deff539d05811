"""install.sh: idempotent, exact owners and modes from install/manifest,
refuses unsafe ownership, --destdir staging for packagers, --uninstall."""
import grp
import os
import pwd
import random
import shutil
import stat
import string
import subprocess
import tempfile

import pytest

from conftest import BUILD, INSTALL_SH, IS_ROOT, ROLES, ROOT, XGROUPS, needs_root, run

MANIFEST = os.path.join(ROOT, "install/manifest")


def install(*args):
    return run(["sh", INSTALL_SH, "--build", BUILD] + list(args), timeout=120)


def manifest_entries(inst):
    """(type, path, owner, group, mode, source) with paths resolved for inst."""
    bases = {"prefix": inst.prefix, "etc": inst.prefix + "/etc",
             "var": inst.prefix + "/var", "run": inst.prefix + "/run",
             "mail": inst.prefix + "/var/mail"}
    out = []
    with open(MANIFEST) as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            t, path, owner, group, mode, src = line.split()
            base, _, rel = path.partition(":")
            full = os.path.join(bases[base], rel) if rel else bases[base]
            acct = lambda a: inst.aprefix + a[1:] if a.startswith("@") else a
            out.append((t, full, acct(owner), acct(group), int(mode, 8), src))
    return out


def status_words(output):
    return {line.split()[0] for line in output.splitlines() if line.strip()}


def test_second_run_changes_nothing_and_modes_are_exact(inst):
    r = install("--prefix", inst.prefix, "--account-prefix", inst.aprefix)
    assert r.returncode == 0, r.stderr
    assert status_words(r.stdout) <= {"unchanged", "skipped"}, r.stdout
    for t, path, owner, group, mode, src in manifest_entries(inst):
        if t == "g" or (t == "f" and not os.path.exists(os.path.join(BUILD, src[6:]))):
            continue
        st = os.lstat(path)
        if t in "dD":
            assert stat.S_ISDIR(st.st_mode), path
        else:
            assert stat.S_ISREG(st.st_mode), path
        if t == "D":
            continue
        assert stat.S_IMODE(st.st_mode) == mode, "%s: %o != %o" % (path, stat.S_IMODE(st.st_mode), mode)
        if IS_ROOT:
            assert pwd.getpwuid(st.st_uid).pw_name == owner, path
            assert grp.getgrgid(st.st_gid).gr_name == group, path


@needs_root
def test_accounts_and_groups(inst):
    for role in ROLES:
        pw = pwd.getpwnam(inst.aprefix + role)
        assert pw.pw_uid != 0 and pw.pw_uid < 1000
        assert pw.pw_shell.endswith("nologin")
        assert not os.path.exists(pw.pw_dir)
        assert grp.getgrgid(pw.pw_gid).gr_name == inst.aprefix + role
    members = {g: set(grp.getgrnam(inst.aprefix + g).gr_mem) for g in XGROUPS}
    p = inst.aprefix
    assert members["authc"] == {p + "smtpd", p + "login"}
    assert members["tls"] == {p + "smtpd", p + "login"}
    assert members["submit"] == set()


@needs_root
def test_refuses_spool_owned_by_wrong_user(inst):
    os.chown(inst.spool, pwd.getpwnam("nobody").pw_uid, -1)
    aliases = os.path.join(inst.etc, "aliases")
    os.unlink(aliases)
    r = install("--prefix", inst.prefix, "--account-prefix", inst.aprefix)
    assert r.returncode == 1
    assert inst.spool in r.stderr and "nobody" in r.stderr, r.stderr
    assert not os.path.exists(aliases), "refusal must come before any change"


def test_refuses_group_writable_config_dir(inst):
    os.chmod(inst.etc, 0o775)
    r = install("--prefix", inst.prefix, "--account-prefix", inst.aprefix)
    assert r.returncode == 1
    assert inst.etc in r.stderr, r.stderr


def test_keeps_existing_config(inst):
    with open(inst.conf, "a") as f:
        f.write("# mine\n")
    r = install("--prefix", inst.prefix, "--account-prefix", inst.aprefix)
    assert r.returncode == 0, r.stderr
    with open(inst.conf) as f:
        assert f.read().endswith("# mine\n")


def test_destdir_stages_without_accounts():
    aprefix = "pt" + "".join(random.choice(string.ascii_lowercase) for _ in range(5)) + "-"
    dest = tempfile.mkdtemp(prefix="postern-test-dest-", dir="/tmp")
    try:
        r = install("--prefix", "/usr", "--destdir", dest, "--account-prefix", aprefix)
        assert r.returncode == 0, r.stderr
        for rel in ("etc/postern/postern.conf", "etc/postern/users",
                    "var/spool/postern/incoming", "run/postern"):
            assert os.path.exists(os.path.join(dest, rel)), rel
        if os.path.exists(os.path.join(BUILD, "postern")):
            assert os.path.isfile(os.path.join(dest, "usr/sbin/postern"))
        with open(os.path.join(dest, "etc/postern/postern.conf")) as f:
            conf = f.read()
        assert "paths.spool = /var/spool/postern" in conf and dest not in conf
        assert "accounts.prefix = " + aprefix in conf
        for role in ROLES:
            with pytest.raises(KeyError):
                pwd.getpwnam(aprefix + role)
        with open(os.path.join(dest, "usr/lib/sysusers.d/postern.conf")) as f:
            sysusers = f.read()
        assert "u %sauth " % aprefix in sysusers
        assert "m %ssmtpd %sauthc" % (aprefix, aprefix) in sysusers
        with open(os.path.join(dest, "usr/lib/tmpfiles.d/postern.conf")) as f:
            tmpfiles = f.read()
        assert "d /var/spool/postern 0700 %squeue %squeue -" % (aprefix, aprefix) in tmpfiles
        assert "d /run/postern 0755 root root -" in tmpfiles
        r = install("--prefix", "/usr", "--destdir", dest, "--account-prefix", aprefix)
        assert r.returncode == 0 and status_words(r.stdout) <= {"unchanged", "skipped"}, r.stdout
        r = install("--prefix", "/usr", "--destdir", dest, "--account-prefix", aprefix,
                    "--uninstall")
        assert r.returncode == 0, r.stderr
        assert not os.path.exists(os.path.join(dest, "etc/postern/postern.conf"))
    finally:
        shutil.rmtree(dest, ignore_errors=True)


@needs_root
def test_uninstall_removes_accounts_keeps_nonempty_spool(inst):
    keep = os.path.join(inst.spool, "msg", "keepme")
    with open(keep, "w") as f:
        f.write("x")
    r = install("--prefix", inst.prefix, "--account-prefix", inst.aprefix, "--uninstall")
    assert r.returncode == 0, r.stderr
    assert os.path.exists(keep)
    assert "kept" in r.stdout and inst.spool in r.stdout
    assert not os.path.exists(inst.bin) and not os.path.exists(inst.runtime)
    for role in ROLES:
        with pytest.raises(KeyError):
            pwd.getpwnam(inst.aprefix + role)
    for g in XGROUPS:
        with pytest.raises(KeyError):
            grp.getgrnam(inst.aprefix + g)


@needs_root
def test_non_root_install_runs_without_accounts():
    home = tempfile.mkdtemp(prefix="postern-test-user-", dir="/tmp")
    nobody = pwd.getpwnam("nobody")
    try:
        os.chown(home, nobody.pw_uid, nobody.pw_gid)
        prefix = os.path.join(home, "run")
        cmd = ["setpriv", "--reuid", str(nobody.pw_uid), "--regid", str(nobody.pw_gid),
               "--clear-groups", "sh", INSTALL_SH, "--prefix", prefix, "--build", BUILD]
        r = run(cmd, cwd="/")
        assert r.returncode == 0, r.stderr
        assert "privilege separation is off" in r.stderr
        st = os.stat(os.path.join(prefix, "var/spool/postern"))
        assert st.st_uid == nobody.pw_uid and stat.S_IMODE(st.st_mode) == 0o700
        r = run(cmd, cwd="/")
        assert status_words(r.stdout) <= {"unchanged", "skipped"}, r.stdout
    finally:
        shutil.rmtree(home, ignore_errors=True)
