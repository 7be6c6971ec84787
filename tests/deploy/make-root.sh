#!/bin/sh
# make-root.sh DIST [--suite] [DIR] -- a fresh Debian root for the deployment test, made with
# mmdebstrap from the mirror this machine's apt uses, with Debian's OWN configuration of
# slapd (debconf: example.com, admin password below), Dovecot and Postfix ("Internet
# Site"): what a new admin has after `apt install` on a stock host, plus what the
# README's build step needs. Prints the root's path.
#
# Cached: a root is made once per DIST and package list (the name carries a hash of
# both) under /var/cache/mailgrant-roots/, and the test works on a copy of it, so
# every run starts from the same stock state. Needs root and mmdebstrap.
#
# --suite: instead, a root with everything scripts/install-deps installs for DIST (its
# --list) and its debconf answers, in which scripts/test and scripts/demo run as on a
# fresh host of that release (scripts/test --debian13 uses it; never copied, reused).
set -eu
DIST=${1:?usage: make-root.sh bookworm|trixie [--suite] [DIR]}
shift
SUITE=""
if [ "${1:-}" = "--suite" ]; then SUITE=suite-; shift; fi
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=/var/cache/mailgrant-roots

# What a mail host has (the stack) + what the README's build step installs + python3
# for the test's mail clients. Debian 12 and 13 differ in library package names only.
case "$DIST" in
  bookworm) LIBS="libyaml-cpp0.7 libldap-2.5-0 libmilter1.0.1" ;;
  trixie)   LIBS="libyaml-cpp0.8 libldap2 libmilter1.0.1" ;;
  *) echo "make-root.sh: unknown DIST $DIST" >&2; exit 2 ;;
esac
PACKAGES="slapd ldap-utils dovecot-core dovecot-imapd dovecot-ldap dovecot-lmtpd postfix postfix-ldap
  $LIBS procps python3 ca-certificates
  build-essential cmake pkg-config libldap-dev libyaml-cpp-dev libyaml-dev libmilter-dev libsystemd-dev libcurl4-openssl-dev dovecot-dev
  debhelper lintian"
PRESEED="$HERE/debconf-stock.txt"
if [ -n "$SUITE" ]; then
  PACKAGES="$(sh "$HERE/../../scripts/install-deps" --list "$DIST") ca-certificates"
  PRESEED="$HERE/../../scripts/debconf-deps.txt"
fi

key=$(printf '%s\n' "$DIST" $PACKAGES | cat - "$PRESEED" | sha256sum | cut -c1-12)
DIR=${1:-$CACHE/$DIST-$SUITE$key}
if [ -f "$DIR/.mailgrant-root-complete" ]; then
  echo "$DIR"
  exit 0
fi
# One builder per root: a second caller waits for the first (then finds it complete).
mkdir -p "$CACHE"
if [ -z "${MAILGRANT_ROOT_LOCKED:-}" ]; then
  MAILGRANT_ROOT_LOCKED=1 exec flock "$CACHE/.lock-$(basename "$DIR")" sh "$0" "$DIST" ${SUITE:+--suite} ${1:+"$1"}
fi
if [ -f "$DIR/.mailgrant-root-complete" ]; then
  echo "$DIR"
  exit 0
fi

# The mirror apt already uses here (deb822 or one-line sources).
MIRROR=$(grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n 1 | awk '{print $2}')
[ -n "$MIRROR" ] || MIRROR=$(grep -h '^deb ' /etc/apt/sources.list 2>/dev/null | grep -v security | head -n 1 | awk '{print $2}')
[ -n "$MIRROR" ] || MIRROR=http://deb.debian.org/debian

command -v mmdebstrap > /dev/null || {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends mmdebstrap >&2
}
rm -rf "$DIR.tmp"
mkdir -p "$CACHE"
mmdebstrap --variant=apt --include="$(echo $PACKAGES | tr ' ' ',')" \
  --essential-hook="chroot \"\$1\" debconf-set-selections < '$PRESEED'" \
  "$DIST" "$DIR.tmp" "$MIRROR" >&2
rm -rf "$DIR"
mv "$DIR.tmp" "$DIR"
touch "$DIR/.mailgrant-root-complete"
echo "$DIR"
