#!/bin/sh
# devinstance.sh (`make run`): install the build into ./run, give it a
# self-signed certificate, the domain example.test and the user
# demo@example.test, then run master in the foreground on 127.0.0.1 high ports.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${POSTERN_BUILD:-$top/build}
prefix=$top/run
etc=$prefix/etc/postern
conf=$etc/postern.conf
postern=$prefix/sbin/postern

if [ "$(id -u)" -eq 0 ]; then
	aprefix=pdev-	# not postern-: a real install may live on this host
else
	aprefix=postern-
fi

[ -x "$build/postern" ] || { echo "devinstance: $build/postern is not built (make)" >&2; exit 1; }

# A previous dev master still running would hold the pidfile and ports.
if "$postern" -c "$conf" status >/dev/null 2>&1; then
	echo "devinstance: a dev instance is already running; stop it with:" >&2
	echo "  $postern -c $conf stop" >&2
	exit 1
fi

echo "== installing into $prefix"
out=$(sh "$top/install.sh" --prefix "$prefix" --account-prefix "$aprefix" --build "$build") ||
	{ printf '%s\n' "$out"; echo "devinstance: install.sh failed" >&2; exit 1; }
printf '%s\n' "$out" | grep -v -e '^unchanged' -e '^skipped' || true

# Our settings go after a marker, replaced on every run; lines above it are
# the installed defaults (paths, accounts.prefix) and anything you add there.
marker="# ---- make run: everything below is rewritten by devinstance.sh ----"
tmp=$conf.tmp.$$
sed "/^$marker\$/,\$d" "$conf" >"$tmp"
cat >>"$tmp" <<EOF
$marker
hostname = mail.example.test
domains = example.test
listen.smtp = 127.0.0.1:2525
listen.submission = 127.0.0.1:2587
listen.smtps = 127.0.0.1:2465
listen.pop3 = 127.0.0.1:2110
listen.pop3s = 127.0.0.1:2995
listen.imap = 127.0.0.1:2143
listen.imaps = 127.0.0.1:2993
tls.cert = $etc/tls.crt
tls.key = $etc/tls.key
EOF
mv -f "$tmp" "$conf"

if [ ! -f "$etc/tls.key" ] || [ ! -f "$etc/tls.crt" ]; then
	echo "== generating a self-signed certificate for mail.example.test"
	(umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -days 365 -subj /CN=mail.example.test \
	    -addext subjectAltName=DNS:mail.example.test \
	    -keyout "$etc/tls.key.new" -out "$etc/tls.crt" 2>/dev/null)
	chmod 0644 "$etc/tls.crt"
	mv -f "$etc/tls.key.new" "$etc/tls.key"
fi
if [ "$(id -u)" -eq 0 ]; then chgrp "${aprefix}tls" "$etc/tls.key"; fi
chmod 0640 "$etc/tls.key"

"$postern" -c "$conf" check

password=$(openssl rand -base64 18 | tr -d '/+=\n' | cut -c1-16)
if printf '%s\n' "$password" | "$postern" -c "$conf" user add demo@example.test 2>/dev/null ||
   printf '%s\n' "$password" | "$postern" -c "$conf" user passwd demo@example.test; then
	:
else
	echo "devinstance: cannot set the password of demo@example.test" >&2
	exit 1
fi

cat <<EOF

postern dev instance in $prefix
  config      $conf
  SMTP        127.0.0.1:2525   submission 127.0.0.1:2587   SMTPS 127.0.0.1:2465
  POP3        2110 (STLS), POP3S 2995
  IMAP        2143 2993 not served yet (no imap mail program)
  user        demo@example.test
  password    $password   (shown once; change it: $postern -c $conf user passwd demo@example.test)
  status      $postern -c $conf status
EOF
if [ "$(id -u)" -ne 0 ]; then
	cat <<EOF

  *** NOT ROOT: every service runs as $(id -un). PRIVILEGE SEPARATION IS OFF. ***
  *** (run make run as root to get the real separate ${aprefix}* accounts)      ***
EOF
fi
echo
echo "== starting master in the foreground; Ctrl-C stops everything"
exec "$postern" -c "$conf" start -f
