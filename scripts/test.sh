#!/usr/bin/env bash
# Installs what the tests need and runs the suite on both store engines side by side, browser walk-through
# included:
#   1. the whole suite on SQLite (the default store);
#   2. on PostgreSQL (a private server that tests/engines.py starts from Debian's package, a fresh database
#      per test) every test except those marked engine_independent: the ones that open no store (Qualtrics
#      client and sandbox, scoring, vocabulary, architecture) would only prove the same thing again.
# Why not the whole suite twice: on a 2-core machine the two full passes take over 15 minutes. The PostgreSQL
# pass selects by that marker, never by a list of files: a new test runs on both engines unless marked, and
# a marked test that opens a store fails (tests/engines.py). Arguments go to both pytest runs.
# Used as-is by CI (.ci/run) and by README's test command.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
# nginx: the deployment test puts two app servers behind deploy/nginx's sticky proxy (its service is not started).
[ -x /usr/sbin/nginx ] || missing+=(nginx)
if [ "${#missing[@]}" -gt 0 ]; then
    echo "Installing ${missing[*]} from Debian for the tests..." >&2
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-test.txt

# The two passes run side by side, one per core: one after the other they took 10 + 11 minutes here. The
# SQLite pass prints as it goes; the PostgreSQL pass writes to a log printed whole when it ends (interleaved
# lines would read as one run).
pg_log=$(mktemp)
trap 'kill "${pg_pid:-}" 2>/dev/null || true; rm -f "$pg_log"' EXIT
.venv/bin/python -m pytest --engine postgresql "$@" >"$pg_log" 2>&1 &
pg_pid=$!
status=0
echo "== store engine: SQLite (the whole suite); PostgreSQL runs beside it" >&2
.venv/bin/python -m pytest "$@" || status=$?
pg_status=0
wait "$pg_pid" || pg_status=$?
pg_pid=""
echo "== store engine: PostgreSQL (every test that is not engine_independent)" >&2
cat "$pg_log"
# Exit 5 is "no tests collected": arguments that name only engine-independent tests leave this pass empty.
[ "$pg_status" -eq 0 ] || [ "$pg_status" -eq 5 ] || status=$pg_status
exit "$status"
