#!/bin/sh
# run.sh (`make bench`): run bench/bench.py, which starts a private postern
# instance with the integration harness, drives it with smtp-load and POP3
# clients (and the same against Postfix and Dovecot when installed), prints
# tables.  A benchmark, not a test: it is not part of `make check`.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
POSTERN_BUILD=${POSTERN_BUILD:-$top/${BUILD:-build}}
export POSTERN_BUILD
# the harness imports pytest: use the system python that has it
exec /usr/bin/python3 "$top/bench/bench.py" "$@"
