#!/bin/sh
# install.sh: install postern from a build directory as install/manifest says,
# and (as root) create the service accounts, groups and private directories.
# Used by `make install`, `make run` and the integration tests; trusts only
# the manifest, and refuses to touch a path whose ownership is unsafe.
set -eu

usage() {
	echo "usage: install.sh [--prefix DIR] [--account-prefix NAME] [--destdir DIR]" >&2
	echo "                  [--build DIR] [--uninstall]" >&2
	exit 2
}
die() { echo "install.sh: $*" >&2; exit 1; }
warn() { echo "install.sh: warning: $*" >&2; }
say() { printf '%-10s %s\n' "$1" "$2"; }

prefix=/usr/local
aprefix=postern-
destdir=
build=./build
uninstall=0
while [ $# -gt 0 ]; do
	case $1 in
	--prefix) [ $# -ge 2 ] || usage; prefix=$2; shift ;;
	--prefix=*) prefix=${1#*=} ;;
	--account-prefix) [ $# -ge 2 ] || usage; aprefix=$2; shift ;;
	--account-prefix=*) aprefix=${1#*=} ;;
	--destdir) [ $# -ge 2 ] || usage; destdir=$2; shift ;;
	--destdir=*) destdir=${1#*=} ;;
	--build) [ $# -ge 2 ] || usage; build=$2; shift ;;
	--build=*) build=${1#*=} ;;
	--uninstall) uninstall=1 ;;
	-h|--help) usage ;;
	*) echo "install.sh: unknown argument: $1" >&2; usage ;;
	esac
	shift
done

# Paths go unquoted through the manifest loop and into sed: keep them plain.
for p in "$prefix" "$destdir" "$build"; do
	case $p in *[!A-Za-z0-9/._+-]*) die "path '$p' has characters other than A-Za-z0-9/._+-" ;; esac
done
case $prefix in /*) ;; *) die "--prefix must be an absolute path" ;; esac
case $destdir in ''|/*) ;; *) die "--destdir must be an absolute path" ;; esac
case $aprefix in
''|*[!a-z0-9_-]*|[!a-z_]*) die "--account-prefix must match [a-z_][a-z0-9_-]*" ;;
esac
[ ${#aprefix} -le 26 ] || die "--account-prefix is longer than 26 characters"
while [ "$prefix" != / ] && [ "${prefix%/}" != "$prefix" ]; do prefix=${prefix%/}; done
[ "$prefix" = / ] && prefix=

here=$(cd "$(dirname "$0")" && pwd)
manifest=$here/install/manifest
[ -r "$manifest" ] || die "cannot read $manifest"
if [ "$prefix" = /usr ]; then
	etcdir=/etc vardir=/var rundir=/run maildir=/var/mail/postern
else
	etcdir=$prefix/etc vardir=$prefix/var rundir=$prefix/run maildir=$prefix/var/mail
fi

# manage: create accounts and set owners (root, real install).  Otherwise
# everything belongs to the invoking user and ownership checks use that user.
manage=0
if [ -n "$destdir" ]; then
	:
elif [ "$(id -u)" -eq 0 ]; then
	manage=1
else
	warn "not root: no accounts are created and nothing is chowned;"
	warn "every service will run as $(id -un) (privilege separation is off)"
fi
me=$(id -un)

roles="auth smtpd queue remote login vmail"
xgroups="authc tls submit"
members_authc="smtpd login"
members_tls="smtpd login"
members_submit=""
nologin=/usr/sbin/nologin
[ -x $nologin ] || nologin=/sbin/nologin
[ -x $nologin ] || nologin=/bin/false

# base:rel -> absolute path (without destdir)
resolve() {
	r_base=${1%%:*}
	r_rel=${1#*:}
	case $r_base in
	prefix) r_dir=$prefix ;;
	etc) r_dir=$etcdir ;;
	var) r_dir=$vardir ;;
	run) r_dir=$rundir ;;
	mail) r_dir=$maildir ;;
	*) die "manifest: unknown base in $1" ;;
	esac
	if [ -n "$r_rel" ]; then r_path=$r_dir/$r_rel; else r_path=${r_dir:-/}; fi
}

# @role -> account name; root stays root.
acct() {
	case $1 in @*) echo "$aprefix${1#@}" ;; *) echo "$1" ;; esac
}

# Expected "owner:group:mode" as stat -c %U:%G:%a prints it.
want_attrs() {
	w_mode=$(printf '%o' $((0$3)))
	if [ $manage -eq 1 ]; then
		echo "$(acct "$1"):$(acct "$2"):$w_mode"
	else
		echo "::$w_mode"
	fi
}
have_attrs() {
	if [ $manage -eq 1 ]; then stat -c '%U:%G:%a' "$1"; else stat -c '::%a' "$1"; fi
}

set_attrs() {	# path owner group mode; chown first: it clears setgid
	if [ $manage -eq 1 ]; then chown "$(acct "$2"):$(acct "$3")" "$1"; fi
	chmod "$4" "$1"
}

# Retry account tools: parallel installs (tests) race for /etc/passwd's lock.
retry() {
	rt_n=0
	until "$@"; do
		rt_n=$((rt_n + 1))
		[ $rt_n -lt 10 ] || return 1
		sleep 1
	done
}

# ---- safety checks, all before anything is changed ----------------------

# An existing path we would use must be owned by who we expect and not be
# writable by anyone else.
check_owner() {	# path want-owner what
	c_have=$(stat -c %U "$1")
	if [ $manage -eq 1 ]; then c_want=$(acct "$2"); else c_want=$me; fi
	[ -n "$destdir" ] && return 0
	[ "$c_have" = "$c_want" ] ||
		die "refusing: $1 is owned by $c_have, expected $c_want ($3)"
}

check_entry() {	# type path owner group mode
	ce_path=$destdir$2
	[ -e "$ce_path" ] || [ -L "$ce_path" ] || return 0
	ce_mode=$((0$(stat -c %a "$ce_path")))
	case $1 in
	D)
		[ -d "$ce_path" ] && [ ! -L "$ce_path" ] ||
			die "refusing: $ce_path exists and is not a directory"
		if [ $((ce_mode & 2)) -ne 0 ] && [ $((ce_mode & 01000)) -eq 0 ]; then
			die "refusing: $ce_path (owner $(stat -c %U "$ce_path")) is writable by everyone"
		fi
		[ $((ce_mode & 1)) -ne 0 ] ||
			warn "$ce_path is not searchable by others; services cannot reach their files"
		;;
	d)
		[ -d "$ce_path" ] && [ ! -L "$ce_path" ] ||
			die "refusing: $ce_path exists and is not a directory"
		check_owner "$ce_path" "$3" "directory"
		if [ $((ce_mode & 022 & ~0$5)) -ne 0 ]; then
			die "refusing: $ce_path (owner $(stat -c %U "$ce_path")) is writable by group or others"
		fi
		;;
	c|e|f)
		[ -f "$ce_path" ] && [ ! -L "$ce_path" ] ||
			die "refusing: $ce_path exists and is not a regular file"
		check_owner "$ce_path" "$3" "file"
		;;
	esac
}

check_accounts() {
	[ $manage -eq 1 ] || return 0
	for ca_r in $roles; do
		ca_uid=$(getent passwd "$aprefix$ca_r" | cut -d: -f3) || true
		[ "$ca_uid" != 0 ] || die "refusing: account $aprefix$ca_r has uid 0"
	done
}

# ---- doing things ---------------------------------------------------------

ensure_accounts() {
	[ $manage -eq 1 ] || return 0
	for ea_g in $roles $xgroups; do
		if getent group "$aprefix$ea_g" >/dev/null; then
			say unchanged "group $aprefix$ea_g"
		else
			retry groupadd -r "$aprefix$ea_g" || die "groupadd $aprefix$ea_g failed"
			say created "group $aprefix$ea_g"
		fi
	done
	for ea_r in $roles; do
		ea_u=$aprefix$ea_r
		if getent passwd "$ea_u" >/dev/null; then
			say unchanged "account $ea_u"
		else
			retry useradd -r -M -d /nonexistent -s $nologin -g "$ea_u" \
			    -c "postern $ea_r" "$ea_u" || die "useradd $ea_u failed"
			say created "account $ea_u"
		fi
	done
	for ea_g in $xgroups; do
		eval "ea_members=\$members_$ea_g"
		for ea_m in $ea_members; do
			if id -nG "$aprefix$ea_m" | tr ' ' '\n' | grep -qx "$aprefix$ea_g"; then
				say unchanged "member $aprefix$ea_m of $aprefix$ea_g"
			else
				retry usermod -a -G "$aprefix$ea_g" "$aprefix$ea_m" ||
					die "usermod $aprefix$ea_m failed"
				say added "member $aprefix$ea_m of $aprefix$ea_g"
			fi
		done
	done
}

ensure_dir() {	# path owner group mode shared
	ed_path=$destdir$1
	if [ ! -d "$ed_path" ]; then
		mkdir -p "$ed_path"
		set_attrs "$ed_path" "$2" "$3" "$4"
		say created "$ed_path"
	elif [ "$5" = shared ]; then
		:
	elif [ "$(have_attrs "$ed_path")" != "$(want_attrs "$2" "$3" "$4")" ]; then
		set_attrs "$ed_path" "$2" "$3" "$4"
		say fixed "$ed_path"
	else
		say unchanged "$ed_path"
	fi
}

# Copy src to path (temp file + rename) unless it is already there.
install_file() {	# src path owner group mode
	if_path=$destdir$2
	if [ -f "$if_path" ] && cmp -s "$1" "$if_path"; then
		if [ "$(have_attrs "$if_path")" = "$(want_attrs "$3" "$4" "$5")" ]; then
			say unchanged "$if_path"
		else
			set_attrs "$if_path" "$3" "$4" "$5"
			say fixed "$if_path"
		fi
		return 0
	fi
	if_tmp=$if_path.new.$$
	cp "$1" "$if_tmp"
	set_attrs "$if_tmp" "$3" "$4" "$5"
	mv -f "$if_tmp" "$if_path"
	say installed "$if_path"
}

render() {	# template -> stdout
	sed -e "s|@PREFIX@|${prefix:-/}|g" -e "s|@ACCOUNT_PREFIX@|$aprefix|g" \
	    -e "s|@SPOOL@|$vardir/spool/postern|g" -e "s|@RUNTIME@|$rundir/postern|g" \
	    -e "s|@MAIL@|$maildir|g" -e "s|@MAPS@|$etcdir/postern|g" \
	    -e "s|@LIBEXEC@|$prefix/libexec/postern|g" "$1"
}

# A file whose content is the admin's: created if absent, attrs kept exact.
ensure_file() {	# type path owner group mode source
	ef_path=$destdir$2
	if [ -f "$ef_path" ]; then
		if [ "$(have_attrs "$ef_path")" = "$(want_attrs "$3" "$4" "$5")" ]; then
			say unchanged "$ef_path"
		else
			set_attrs "$ef_path" "$3" "$4" "$5"
			say fixed "$ef_path"
		fi
		return 0
	fi
	ef_tmp=$ef_path.new.$$
	if [ "$1" = c ]; then render "$here/install/${6#install:}" >"$ef_tmp"; else : >"$ef_tmp"; fi
	set_attrs "$ef_tmp" "$3" "$4" "$5"
	mv -f "$ef_tmp" "$ef_path"
	say created "$ef_path"
}

source_path() {	# build:NAME | docs:GLOB | install:NAME -> sp
	case $1 in
	build:*) sp=$build/${1#build:} ;;
	docs:*) sp=$here/docs/${1#docs:} ;;
	install:*) sp=$here/install/${1#install:} ;;
	*) die "manifest: bad source $1" ;;
	esac
}

do_entry() {	# type path owner group mode source
	case $1 in
	D) ensure_dir "$2" "$3" "$4" "$5" shared ;;
	d) ensure_dir "$2" "$3" "$4" "$5" own ;;
	c|e) ensure_file "$@" ;;
	f)
		source_path "$6"
		if [ -f "$sp" ]; then
			install_file "$sp" "$2" "$3" "$4" "$5"
		else
			say skipped "$destdir$2 (not built)"
		fi
		;;
	g)
		for de_src in $here/docs/${6#docs:}; do
			[ -f "$de_src" ] || continue
			install_file "$de_src" "$2/${de_src##*/}" "$3" "$4" "$5"
		done
		;;
	*) die "manifest: unknown type $1" ;;
	esac
}

# Packagers: accounts and boot-time directories as systemd files.
write_packager_files() {
	wp_dir=$destdir/usr/lib/sysusers.d
	mkdir -p "$wp_dir" "$destdir/usr/lib/tmpfiles.d"
	wp_tmp=$wp_dir/postern.conf.new.$$
	{
		echo "# postern service accounts (generated by install.sh)"
		for wp_r in $roles; do echo "u $aprefix$wp_r - \"postern $wp_r\" /nonexistent $nologin"; done
		for wp_g in $xgroups; do echo "g $aprefix$wp_g -"; done
		for wp_g in $xgroups; do
			eval "wp_members=\$members_$wp_g"
			for wp_m in $wp_members; do echo "m $aprefix$wp_m $aprefix$wp_g"; done
		done
	} >"$wp_tmp"
	replace_if_changed "$wp_tmp" "$wp_dir/postern.conf"
	wp_dir=$destdir/usr/lib/tmpfiles.d
	wp_tmp=$wp_dir/postern.conf.new.$$
	{
		echo "# postern directories and ownership (generated by install.sh)"
		while read -r t path owner group mode src; do
			case $t in d|e|f) ;; *) continue ;; esac
			resolve "$path"
			case $t in
			d) echo "d $r_path $mode $(acct "$owner") $(acct "$group") -" ;;
			e|f) [ "$owner$group" != rootroot ] || continue
			     [ "$t" = e ] || { source_path "$src"; [ -f "$sp" ] || continue; }
			     echo "z $r_path $mode $(acct "$owner") $(acct "$group") -" ;;
			esac
		done <<-EOF
		$(grep -v '^#' "$manifest")
		EOF
	} >"$wp_tmp"
	replace_if_changed "$wp_tmp" "$wp_dir/postern.conf"
}

replace_if_changed() {	# new old
	chmod 0644 "$1"
	if [ -f "$2" ] && cmp -s "$1" "$2"; then
		rm -f "$1"
		say unchanged "$2"
	else
		mv -f "$1" "$2"
		say installed "$2"
	fi
}

# Lines of the manifest without comments and blank lines.
entries() { grep -v -e '^#' -e '^[[:space:]]*$' "$manifest"; }

do_install() {
	check_accounts
	while read -r t path owner group mode src; do
		resolve "$path"
		[ "$t" = g ] && continue
		check_entry "$t" "$r_path" "$owner" "$group" "$mode"
	done <<-EOF
	$(entries)
	EOF
	ensure_accounts
	while read -r t path owner group mode src; do
		resolve "$path"
		do_entry "$t" "$r_path" "$owner" "$group" "$mode" "$src"
	done <<-EOF
	$(entries)
	EOF
	[ -z "$destdir" ] || write_packager_files
	return 0
}

# ---- uninstall --------------------------------------------------------------

master_running() {
	mr_pidfile=$destdir$rundir/postern/master.pid
	[ -f "$mr_pidfile" ] || return 1
	mr_pid=$(head -n 1 "$mr_pidfile")
	case $mr_pid in ''|*[!0-9]*) return 1 ;; esac
	kill -0 "$mr_pid" 2>/dev/null
}

remove_dir_if_empty() {	# path what
	if [ ! -d "$1" ]; then
		return 0
	elif rmdir "$1" 2>/dev/null; then
		say removed "$1"
	elif [ "$2" = own ]; then
		say kept "$1 (not empty)"
	fi
}

undo_entry() {	# type path source
	case $1 in
	f)
		[ -f "$destdir$2" ] || return 0
		rm -f "$destdir$2"
		say removed "$destdir$2"
		;;
	g)
		for ue_src in $here/docs/${3#docs:}; do
			[ -f "$destdir$2/${ue_src##*/}" ] || continue
			rm -f "$destdir$2/${ue_src##*/}"
			say removed "$destdir$2/${ue_src##*/}"
		done
		;;
	c|e)
		ue_path=$destdir$2
		[ -f "$ue_path" ] || return 0
		if [ "$1" = c ] && render "$here/install/${3#install:}" | cmp -s - "$ue_path"; then
			rm -f "$ue_path"
			say removed "$ue_path"
		elif [ "$1" = e ] && [ ! -s "$ue_path" ]; then
			rm -f "$ue_path"
			say removed "$ue_path"
		else
			say kept "$ue_path (modified)"
			return 0
		fi
		# a compiled map whose source is gone goes with it
		if [ -f "$ue_path.cdb" ]; then rm -f "$ue_path.cdb"; say removed "$ue_path.cdb"; fi
		;;
	d)
		ue_path=$destdir$2
		case $2 in
		"$rundir/postern")	# only runtime state: sockets, pidfile, empty/
			[ -d "$ue_path" ] || return 0
			rm -rf "$ue_path"
			say removed "$ue_path"
			return 0 ;;
		"$vardir/spool/postern"|"$maildir")
			[ -d "$ue_path" ] && find "$ue_path" -mindepth 1 -depth -type d -empty -delete ;;
		esac
		remove_dir_if_empty "$ue_path" own
		;;
	D)
		case ${prefix:-/} in /|/usr|/usr/local) return 0 ;; esac
		remove_dir_if_empty "$destdir$2" shared
		;;
	esac
}

remove_accounts() {
	[ $manage -eq 1 ] || return 0
	for ra_r in $roles; do
		getent passwd "$aprefix$ra_r" >/dev/null || continue
		if retry userdel "$aprefix$ra_r"; then
			say removed "account $aprefix$ra_r"
		else
			warn "could not remove account $aprefix$ra_r"
		fi
	done
	for ra_g in $xgroups $roles; do
		getent group "$aprefix$ra_g" >/dev/null || continue
		if retry groupdel "$aprefix$ra_g"; then
			say removed "group $aprefix$ra_g"
		else
			warn "could not remove group $aprefix$ra_g"
		fi
	done
}

do_uninstall() {
	! master_running || die "refusing: master is running (pid $mr_pid); run postern stop first"
	# reverse manifest order: files before their directories
	while read -r t path owner group mode src; do
		resolve "$path"
		undo_entry "$t" "$r_path" "$src"
	done <<-EOF
	$(entries | sed '1!G;h;$!d')
	EOF
	if [ -n "$destdir" ]; then
		for uf in "$destdir/usr/lib/sysusers.d/postern.conf" "$destdir/usr/lib/tmpfiles.d/postern.conf"; do
			[ -f "$uf" ] || continue
			rm -f "$uf"
			say removed "$uf"
		done
	fi
	remove_accounts
}

umask 022
if [ $uninstall -eq 1 ]; then do_uninstall; else do_install; fi
