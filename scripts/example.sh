#!/usr/bin/env bash
# npm run example [name]: lists the examples, or runs one end to end.
# An example creates its own database (on the local PostgreSQL, 127.0.0.1:5432),
# runs a worker in-process against the Temporal server at TEMPORAL_ADDRESS
# (default 127.0.0.1:7233; a dev server is started there when none answers, and
# left running with its Web UI on port + 1000), checks the result and exits
# non-zero on any mismatch. See examples/support/run-example.ts.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mkdir -p .ferry
[[ -x node_modules/.bin/tsx ]] || { echo "example: dependencies are missing: run npm install first" >&2; exit 1; }

if [[ $# -eq 0 ]]; then exec node_modules/.bin/tsx examples/support/run-example.ts; fi

bash scripts/ensure-postgres.sh >&2
# examples that write to MariaDB or NATS JetStream start (or install) them too
case "$1" in
  orders-analytics) bash scripts/ensure-mariadb.sh >&2; bash scripts/ensure-nats.sh >&2 ;;
esac
ADDRESS="${TEMPORAL_ADDRESS:-127.0.0.1:7233}"
PORT="${ADDRESS##*:}"
case "${ADDRESS%:*}" in
  127.0.0.1 | localhost) bash scripts/ensure-temporal.sh --start --port "$PORT" >/dev/null ;;
  *) ;; # a remote server is used as it is
esac
export TEMPORAL_ADDRESS="$ADDRESS"
exec node_modules/.bin/tsx examples/support/run-example.ts "$@"
