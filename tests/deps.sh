#!/bin/sh
# Install (as root) or name (otherwise) the Debian packages postern needs to
# build and test.  `deps.sh --check` only reports whether anything is missing.
DEB_BUILD="make gcc pkg-config libssl-dev libbsd-dev libcdb-dev libcrypt-dev openssl"
DEB_TEST="python3 python3-pytest swaks clang libclang-rt-14-dev tinycdb procps dnsmasq-base python3-aiosmtpd fetchmail isync"
missing=""
for p in $DEB_BUILD $DEB_TEST; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
if [ "${1:-}" = "--check" ]; then
	[ -z "$missing" ]
	exit $?
fi
if [ -z "$missing" ]; then
	echo "deps: all build and test packages are installed"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing:$missing"
	echo "deps: run as root:  apt-get install -y$missing"
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || exit 1
apt-get install -y -qq $missing || exit 1
