#!/usr/bin/env bash
# The bench's peers (what a user would pick instead of ferry), installed into a
# project-local virtualenv so a fresh machine gets them from PyPI alone:
#   Sling  pip install sling-linux-amd64 (the wheel carries the Go binary)
#   dlt    pip install "dlt[postgres,sql-database]" connectorx pyarrow adbc-driver-postgresql
#          (connectorx + pyarrow for its fastest setting: sql_table backend connectorx,
#          parquet loader files)
#
# Usage: scripts/ensure-bench-peers.sh
#   Writes $BENCH_VENV/peers.json (default .ferry/bench-venv): one entry per peer,
#   {"installed": true, "version": …, "command": […]} or {"installed": false, "reason": …}.
#   Never fails because a peer cannot be installed: the bench reports that peer as
#   not installed, with the reason. Re-running is cheap: an install whose spec is
#   unchanged is not repeated (stamp file per peer).
#
# Versions (override to compare others): BENCH_SLING_SPEC, BENCH_DLT_SPEC.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

VENV="${BENCH_VENV:-.ferry/bench-venv}"
SLING_SPEC="${BENCH_SLING_SPEC:-sling-linux-amd64==1.4.11}"
DLT_SPEC="${BENCH_DLT_SPEC:-dlt[postgres,sql-database]==1.31.0 connectorx pyarrow adbc-driver-postgresql}"
PYTHON="${BENCH_PYTHON:-python3}"

say() { echo "ensure-bench-peers: $*" >&2; }

# JSON string (the reasons are pip's last error lines: quotes, backslashes, tabs)
json_str() { "$PYTHON" -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$1" 2>/dev/null || printf '"%s"' "${1//[\"\\]/ }"; }

mkdir -p "$(dirname "$VENV")"
declare -A ENTRY

not_installed() { ENTRY[$1]="{\"installed\": false, \"reason\": $(json_str "$2")}"; say "$1: not installed: $2"; }

venv_ok=1
if ! command -v "$PYTHON" >/dev/null 2>&1; then
  venv_ok=0; why="no $PYTHON on PATH (the peers are Python packages)"
elif [[ ! -x "$VENV/bin/python" ]] && ! "$PYTHON" -m venv "$VENV" >"$VENV.log" 2>&1; then
  venv_ok=0; why="could not create a virtualenv with $PYTHON -m venv: $(tail -n 1 "$VENV.log")"
fi

# install <peer> <spec…>: pip install into the venv unless the stamp says it is there
install() {
  local peer="$1"; shift
  local stamp="$VENV/.installed-$peer"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$*" ]]; then return 0; fi
  say "$peer: pip install $* (into $VENV)"
  # shellcheck disable=SC2068 # the spec is a list of requirement words
  if "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check $@ >"$VENV/pip-$peer.log" 2>&1; then
    echo "$*" >"$stamp"
    return 0
  fi
  rm -f "$stamp"
  return 1
}

last_error() { grep -E '^(ERROR|error)' "$1" | tail -n 1 || tail -n 1 "$1"; }

if [[ $venv_ok == 0 ]]; then
  not_installed sling "$why"
  not_installed dlt "$why"
else
  # ------------------------------------------------------------------ Sling
  if [[ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]]; then
    not_installed sling "the sling-linux-amd64 wheel is for Linux x86_64; this machine is $(uname -s) $(uname -m)"
  elif ! install sling "$SLING_SPEC"; then
    not_installed sling "pip install $SLING_SPEC failed: $(last_error "$VENV/pip-sling.log")"
  else
    # the wheel's package holds the binary under bin/ (its console script only wraps it)
    bin="$("$VENV/bin/python" -c 'import os, sling_linux_amd64 as m; print(os.path.join(os.path.dirname(m.__file__), "bin", "sling-linux-amd64"))' 2>/dev/null)"
    if [[ -z "$bin" || ! -x "$bin" ]]; then
      not_installed sling "installed $SLING_SPEC but found no executable sling-linux-amd64 in the package"
    elif ! version="$("$bin" --version 2>&1 | sed -n 's/^Version: *//p' | head -n 1)" || [[ -z "$version" ]]; then
      not_installed sling "$bin --version failed: $("$bin" --version 2>&1 | tail -n 1)"
    else
      bin="$(realpath "$bin")"
      ENTRY[sling]="{\"installed\": true, \"version\": $(json_str "$version"), \"command\": [$(json_str "$bin")]}"
      say "sling $version: $bin"
    fi
  fi

  # ------------------------------------------------------------------ dlt
  if ! install dlt "$DLT_SPEC"; then
    not_installed dlt "pip install $DLT_SPEC failed: $(last_error "$VENV/pip-dlt.log")"
  elif ! version="$("$VENV/bin/python" -c 'import dlt, connectorx, pyarrow; print(dlt.__version__, "connectorx", connectorx.__version__, "pyarrow", pyarrow.__version__)' 2>"$VENV/import-dlt.log")"; then
    not_installed dlt "installed but import failed: $(tail -n 1 "$VENV/import-dlt.log")"
  else
    py="$(cd "$VENV" && pwd)/bin/python"
    ENTRY[dlt]="{\"installed\": true, \"version\": $(json_str "$version"), \"command\": [$(json_str "$py"), $(json_str "$PWD/bench/peers/dlt_load.py")]}"
    say "dlt $version"
  fi
fi

mkdir -p "$VENV"
{
  echo "{"
  echo "  \"sling\": ${ENTRY[sling]},"
  echo "  \"dlt\": ${ENTRY[dlt]}"
  echo "}"
} >"$VENV/peers.json.tmp" 2>/dev/null && mv "$VENV/peers.json.tmp" "$VENV/peers.json"
echo "$VENV/peers.json"
