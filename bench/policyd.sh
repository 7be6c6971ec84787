#!/bin/sh
# Benchmarks mailgrant-policyd (issue 3) against a trivial DUNNO policy server measured in
# the same run (policyd_bench), with a real slapd holding tests/fixtures/org.ldif:
#   warm: cache ttl 300 s, every decision after the first few comes from the cache
#   cold: cache ttl 0, every request does its LDAP searches (decisions/s and p99)
# usage: bench/policyd.sh [BUILD_DIR] [SECONDS]   (after building; run as root)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
SECONDS_PER_CASE=${2:-3}
WORK=$(mktemp -d /tmp/mailgrant-bench-XXXXXX)
chmod 755 "$WORK"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PID=""
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null || true
  python3 "$ROOT/tests/harness/slapd_sandbox.py" stop --dir "$WORK/slapd" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

python3 "$ROOT/tests/harness/slapd_sandbox.py" start --dir "$WORK/slapd" --ldif "$ROOT/tests/fixtures/org.ldif" > "$WORK/env"
. "$WORK/env"
printf '%s' "$LDAP_ROOTPW" > "$WORK/secret"
chmod 644 "$WORK/secret"

start_policyd() {  # $1 = cache ttl
  cat > "$WORK/mailgrant.yaml" <<YAML
ldap:
  uris: [$LDAP_URI]
  base: $LDAP_BASE
  bind_dn: $LDAP_ROOTDN
  bind_password_file: $WORK/secret
cache:
  ttl_s: $1
  negative_ttl_s: $1
policy:
  listen: inet:127.0.0.1:$PORT
  workers: 8
  io_threads: ${IO_THREADS:-2}
YAML
  chmod 644 "$WORK/mailgrant.yaml"
  "$BUILD/postfix-policyd/mailgrant-policyd" -c "$WORK/mailgrant.yaml" 2> "$WORK/policyd.log" &
  PID=$!
  i=0
  until python3 -c "import socket; socket.create_connection(('127.0.0.1',$PORT),1)" 2>/dev/null; do
    i=$((i + 1)); [ $i -lt 100 ] || { cat "$WORK/policyd.log"; exit 1; }; sleep 0.1
  done
}

echo "mailgrant-policyd benchmark: $(nproc) cores, ${SECONDS_PER_CASE}s per case; ratio = policyd req/s / trivial DUNNO server req/s"
start_policyd 300
"$BUILD/bench/policyd_bench" --target "inet:127.0.0.1:$PORT" --seconds 1 --connections 8 --no-baseline --label warmup > /dev/null
"$BUILD/bench/policyd_bench" --target "inet:127.0.0.1:$PORT" --seconds "$SECONDS_PER_CASE" --connections 1,8,64 --label warm
kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
start_policyd 0
"$BUILD/bench/policyd_bench" --target "inet:127.0.0.1:$PORT" --seconds "$SECONDS_PER_CASE" --connections 1,8,64 --label cold
