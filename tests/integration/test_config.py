"""A bad postern.conf: `postern check` and `postern start` exit non-zero
with file:line: errors, and nothing starts."""
import os
import subprocess

import pytest

from conftest import instance_pids, IS_ROOT


def line_of(inst, prefix):
    """1-based number of the last line of inst's config starting with prefix."""
    with open(inst.conf) as f:
        lines = f.read().splitlines()
    return max(i + 1 for i, line in enumerate(lines) if line.startswith(prefix))


def assert_refused(inst, lineno):
    where = "%s:%d:" % (inst.conf, lineno)
    r = inst.postern("check")
    assert r.returncode != 0
    assert where in r.stdout + r.stderr, r.stdout + r.stderr
    for args in (("start", "-f"), ("start",)):
        try:
            r = inst.postern(*args, timeout=20)
        except subprocess.TimeoutExpired:
            pytest.fail("postern %s ran with a bad config" % " ".join(args))
        assert r.returncode != 0, args
        assert where in r.stdout + r.stderr, r.stdout + r.stderr
        assert not instance_pids(inst.conf, inst.aprefix if IS_ROOT else None)
        assert not os.path.exists(os.path.join(inst.runtime, "master.pid"))
        assert inst.postern("status").returncode != 0


def test_good_config_checks(inst):
    r = inst.postern("check")
    assert r.returncode == 0, r.stdout + r.stderr


def test_unknown_key(inst):
    n = inst.write_config(["no.such_key = 1"])
    assert_refused(inst, n)


def test_bad_port(inst):
    n = inst.write_config(["listen.smtp = %s:99999" % inst.addr])
    assert_refused(inst, n)


def test_bad_port_name(inst):
    n = inst.write_config(["listen.submission = %s:smtp" % inst.addr])
    assert_refused(inst, n)


def test_missing_cert_file(inst):
    inst.configure({"tls.cert": os.path.join(inst.etc, "missing.crt")})
    assert_refused(inst, line_of(inst, "tls.cert ="))


def test_bad_duration(inst):
    inst.configure(auth__fail_delay="soon")
    assert_refused(inst, line_of(inst, "auth.fail_delay ="))


def test_map_never_more_readable_than_source(inst):
    """postern map: a 0600 source gives a 0600 cdb; a 0644 one a 0644 cdb;
    the users file (password hashes) is refused and nothing is written."""
    import stat
    for mode in (0o600, 0o644):
        src = os.path.join(inst.etc, "m%o" % mode)
        with open(src, "w") as f:
            f.write("a@example.test b@example.test\n")
        os.chmod(src, mode)
        r = inst.postern("map", src)
        assert r.returncode == 0, r.stderr
        assert stat.S_IMODE(os.stat(src + ".cdb").st_mode) == mode
    inst.add_user("demo@example.test", "pw-for-demo")
    users = os.path.join(inst.etc, "users")
    r = inst.postern("map", users, users + ".copy.cdb")
    assert r.returncode != 0
    assert "users file" in r.stderr
    assert not os.path.exists(users + ".copy.cdb")
