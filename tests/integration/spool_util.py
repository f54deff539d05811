"""Helpers for the queue and sendmail tests: read the spool of an Instance
and parse envelope files ("postern-envelope 1", "key value" lines with
%XX escapes, "rcpt ADDR attr=..." lines, "end" last)."""
import os
import pwd
import re
import urllib.parse

from conftest import run, wait_for

ENV_ID = re.compile(r"^[0-9A-Z]{21}$")


def unesc(s):
    return urllib.parse.unquote(s)


def parse_envelope(text):
    """dict of the envelope's fields; "rcpt" is a list of (addr, attrs)."""
    lines = text.split("\n")
    assert lines[0] == "postern-envelope 1", lines[:2]
    assert lines[-1] == "" and lines[-2] == "end", "no end line: %r" % lines[-3:]
    env = {"rcpt": []}
    for line in lines[1:-2]:
        key, _, val = line.partition(" ")
        if key == "rcpt":
            parts = val.split(" ")
            attrs = dict(p.split("=", 1) for p in parts[1:])
            env["rcpt"].append((unesc(parts[0]), attrs))
        else:
            env[key] = unesc(val)
    return env


def spool_files(inst, sub):
    """{name: path} of the files in spool/sub/XX/ (or spool/sub/ for incoming)."""
    base = os.path.join(inst.spool, sub)
    out = {}
    for dirpath, _dirs, files in os.walk(base):
        for f in files:
            out[f] = os.path.join(dirpath, f)
    return out


def queued(inst):
    """{id: (msg path, env path)} for committed messages; asserts every
    message has its envelope and vice versa, in the same XX subdir."""
    msgs, envs = spool_files(inst, "msg"), spool_files(inst, "env")
    assert set(msgs) == set(envs), (sorted(msgs), sorted(envs))
    for i in msgs:
        assert ENV_ID.match(i), i
        assert os.path.basename(os.path.dirname(msgs[i])) == \
            os.path.basename(os.path.dirname(envs[i]))
    return {i: (msgs[i], envs[i]) for i in msgs}


def read_queued(inst, qid):
    """(message bytes, parsed envelope) of one queued message."""
    m, e = queued(inst)[qid]
    with open(m, "rb") as f:
        data = f.read()
    with open(e) as f:
        env = parse_envelope(f.read())
    assert env["id"] == qid
    return data, env


def sendmail_env(inst):
    env = inst.env()
    env["POSTERN_CONF"] = inst.conf
    return env


def sendmail(inst, args, data, user=None, prog="sbin/sendmail", timeout=60):
    """Run the installed sendmail (or mailq with prog="bin/mailq")."""
    kw = {}
    if user is not None:
        kw["user"] = user
        kw["group"] = pwd.getpwnam(user).pw_gid
        kw["extra_groups"] = []
    return run([os.path.join(inst.prefix, prog)] + list(args), input=data,
               env=sendmail_env(inst), timeout=timeout, **kw)


def mailq(inst, user=None):
    return sendmail(inst, [], None, user=user, prog="bin/mailq")


def start_with_queue(inst):
    """Start inst to look at what the queue stores: without the local
    and remote delivery agents (their programs are removed from the
    instance), so that nothing is delivered out of the spool under the
    test's feet."""
    for agent in ("local", "remote"):
        prog = os.path.join(inst.libexec, agent)
        if os.path.exists(prog):
            os.remove(prog)
    inst.start()
    inst.wait_ready(service="queue")
    assert wait_for(lambda: os.path.exists(os.path.join(inst.runtime, "submit.sock")), 10)
