#!/usr/bin/env bash
# npm test: integration tests against a real Temporal dev server and real Postgres.
# Starts its own dev server on a spare port (unless TEMPORAL_ADDRESS is set) and
# stops it afterwards; each test file creates and drops its own database.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mkdir -p .ferry

bash scripts/ensure-postgres.sh >&2
# the MySQL/MariaDB and NATS connectors' tests (and the examples that use them)
bash scripts/ensure-mariadb.sh >&2
bash scripts/ensure-nats.sh >&2

started_port=""
sdk_server_pid=""
if [[ -z "${TEMPORAL_ADDRESS:-}" ]]; then
  port="${FERRY_TEST_TEMPORAL_PORT:-7244}"
  # suggestContinueAsNew=40: continue-as-new happens after a few batches, so tests exercise it.
  # the second namespace: test/temporal-connection.test.ts
  dynamic=(--dynamic-config-value limit.historyCount.suggestContinueAsNew=40 --namespace ferry-test-second)
  TEMPORAL_BIN="$(bash scripts/ensure-temporal.sh)"
  if [[ -z "$TEMPORAL_BIN" ]]; then
    echo "test: no Temporal CLI here: letting the Temporal SDK download and start the dev server" >&2
    ready=".ferry/sdk-dev-server-$port.ready"
    rm -f "$ready"
    npx tsx scripts/sdk-dev-server.ts --port "$port" --ready-file "$ready" -- "${dynamic[@]}" >.ferry/sdk-dev-server-$port.log 2>&1 &
    sdk_server_pid=$!
    for _ in $(seq 1 240); do [[ -f "$ready" ]] && break; kill -0 "$sdk_server_pid" 2>/dev/null || break; sleep 0.5; done
    [[ -f "$ready" ]] || { tail -n 30 ".ferry/sdk-dev-server-$port.log" >&2; echo "test: the SDK could not start a dev server" >&2; exit 1; }
  else
    export TEMPORAL_BIN
    if "$TEMPORAL_BIN" operator cluster health --address "127.0.0.1:$port" >/dev/null 2>&1; then
      echo "test: a Temporal server already answers on port $port: using it (and leaving it running)" >&2
    else
      started_port="$port"
    fi
    bash scripts/ensure-temporal.sh --start --port "$port" --headless "${dynamic[@]}" >&2
  fi
  export TEMPORAL_ADDRESS="127.0.0.1:$port"
fi
cleanup() {
  [[ -n "$started_port" ]] && bash scripts/ensure-temporal.sh --stop --port "$started_port" >&2
  [[ -n "$sdk_server_pid" ]] && kill "$sdk_server_pid" 2>/dev/null && wait "$sdk_server_pid" 2>/dev/null
  true
}
trap cleanup EXIT

# per port: test runs against different servers may bundle at the same time
export FERRY_WORKFLOW_BUNDLE="$PWD/.ferry/workflow-bundle-${TEMPORAL_ADDRESS##*:}.js"
npx tsx test/support/bundle.ts "$FERRY_WORKFLOW_BUNDLE" >&2

files=("$@")
[[ ${#files[@]} -gt 0 ]] || mapfile -t files < <(ls test/unit/*.test.ts test/*.test.ts)
node --import tsx --test --test-concurrency=1 --test-timeout=600000 "${files[@]}"
