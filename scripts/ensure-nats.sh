#!/usr/bin/env bash
# Make sure a NATS server with JetStream answers on 127.0.0.1:4222, as the tests of the
# NATS JetStream connector expect.
#   1. If the port answers, the server is used as it is.
#   2. Otherwise nats-server (installed with apt-get if missing) is started in the
#      background with JetStream, storage in .ferry/nats, log in .ferry/nats.log.
# Overridable: NATS_PORT (4222), NATS_START_TIMEOUT (20). All messages go to stderr.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PORT="${NATS_PORT:-4222}"
TIMEOUT="${NATS_START_TIMEOUT:-20}"
log() { echo "ensure-nats: $*" >&2; }
die() { echo "ensure-nats: error: $*" >&2; exit 1; }
answers() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

answers && exit 0
if ! command -v nats-server >/dev/null 2>&1 && [[ ! -x /usr/sbin/nats-server ]]; then
  command -v apt-get >/dev/null 2>&1 || die "no nats-server installed and no apt-get to install one"
  log "installing nats-server (apt-get)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y nats-server >/dev/null 2>&1 ||
    { apt-get update >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y nats-server >/dev/null; }
fi
server="$(command -v nats-server || echo /usr/sbin/nats-server)"
mkdir -p .ferry/nats
log "starting $server with JetStream on 127.0.0.1:$PORT"
setsid nohup "$server" -a 127.0.0.1 -p "$PORT" -js -sd "$PWD/.ferry/nats" >.ferry/nats.log 2>&1 </dev/null &
deadline=$((SECONDS + TIMEOUT))
until answers; do ((SECONDS < deadline)) || die "nats-server did not answer on port $PORT within ${TIMEOUT}s (see .ferry/nats.log)"; sleep 0.5; done
log "NATS ready on 127.0.0.1:$PORT"
