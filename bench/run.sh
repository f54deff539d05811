#!/bin/sh
# run.sh (`make bench`): run bench/bench.py, which starts a private postern
# instance with the integration harness, drives it with smtp-load and POP3
# clients (and the same against Postfix and Dovecot when installed), prints
# tables; then bench/bench_imap.py, the IMAP part, with an instance of its
# own (and the same against Dovecot when installed).  A benchmark, not a
# test: it is not part of `make check`.
# Parts: --smtp --e2e --relay --pop3 (bench.py) and --imap (bench_imap.py);
# none named runs all.  --imap-*=N options go to bench_imap.py, the rest
# to bench.py.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
POSTERN_BUILD=${POSTERN_BUILD:-$top/${BUILD:-build}}
export POSTERN_BUILD
imap_part=0 other_part=0 imap_args=
for a in "$@"; do
	shift
	case $a in
	--imap) imap_part=1 ;;
	--imap-*) imap_args="$imap_args $a" ;;
	*) set -- "$@" "$a"
	   case $a in --smtp|--e2e|--relay|--pop3) other_part=1 ;; esac ;;
	esac
done
status=0
# the harness imports pytest: use the system python that has it
if [ $other_part = 1 ] || [ $imap_part = 0 ]; then
	/usr/bin/python3 "$top/bench/bench.py" "$@" || status=$?
	case $status in 2|130) exit $status ;; esac   # usage, ^C
fi
if [ $imap_part = 1 ] || [ $other_part = 0 ]; then
	# shellcheck disable=SC2086  # options are single words (--imap-x=N)
	/usr/bin/python3 "$top/bench/bench_imap.py" $imap_args || status=$?
fi
exit $status
