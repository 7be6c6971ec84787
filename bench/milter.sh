#!/bin/sh
# Benchmarks the header From: check (issue 7): messages/s through a private Postfix with
# smtpd_milters -> mailgrant-policyd --milter, against the same Postfix without it, in
# one run (smtp-source; see bench/milter_bench.py for the set-up). Prints the ratio.
# usage: bench/milter.sh [BUILD_DIR] [MESSAGES_PER_ROUND] [SESSIONS]   (after building; as root)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
MAILGRANT_POLICYD=$BUILD/postfix-policyd/mailgrant-policyd
export MAILGRANT_POLICYD
[ -x "$MAILGRANT_POLICYD" ] || { echo "no $MAILGRANT_POLICYD: build first" >&2; exit 2; }
exec python3 "$ROOT/bench/milter_bench.py" --messages "${2:-2000}" --sessions "${3:-8}"
