#!/usr/bin/env bash
# Make sure a local PostgreSQL answers on 127.0.0.1:5432 (user postgres, trust auth),
# and optionally that a database exists.
#
# Usage: scripts/ensure-postgres.sh [DBNAME]
#
#   1. If `pg_isready -h 127.0.0.1 -p 5432` succeeds, the server is used as it is.
#   2. Otherwise the local cluster(s) are started (pg_ctlcluster, else
#      `service postgresql start`), waiting up to $PG_START_TIMEOUT s (default 30).
#   3. If no PostgreSQL is installed and apt-get exists, `apt-get install -y postgresql`
#      is run, the cluster started, and trust auth for user postgres over 127.0.0.1
#      and ::1 is added to pg_hba.conf (only in that case).
#   4. If DBNAME is given, it is created unless it already exists.
#
# Overridable: PG_HOST (127.0.0.1), PG_PORT (5432), PG_SUPERUSER (postgres).
# All messages go to stderr.
set -euo pipefail

PG_HOST="${PG_HOST:-127.0.0.1}"
PG_PORT="${PG_PORT:-5432}"
PG_SUPERUSER="${PG_SUPERUSER:-postgres}"
PG_START_TIMEOUT="${PG_START_TIMEOUT:-30}"
DBNAME="${1:-}"

log() { echo "ensure-postgres: $*" >&2; }
die() { echo "ensure-postgres: error: $*" >&2; exit 1; }

case "${1:-}" in
  -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 0 ;;
esac
[[ $# -le 1 ]] || die "usage: $0 [DBNAME]"

SUDO=()
if [[ "$(id -u)" != 0 ]] && command -v sudo >/dev/null 2>&1; then SUDO=(sudo -n); fi

find_pg_bin() { # find_pg_bin NAME: a PostgreSQL client/server program, also off PATH
  local name="$1" p
  if p="$(command -v "$name" 2>/dev/null)"; then echo "$p"; return 0; fi
  # shellcheck disable=SC2012 # version directories: plain names
  for p in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [[ -x "$p/$name" ]]; then echo "$p/$name"; return 0; fi
  done
  return 1
}

server_installed() {
  compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || command -v postgres >/dev/null 2>&1
}

is_ready() {
  local pgi
  pgi="$(find_pg_bin pg_isready)" || return 1
  "$pgi" -q -h "$PG_HOST" -p "$PG_PORT" -t 3 >/dev/null 2>&1
}

wait_ready() {
  local deadline=$((SECONDS + PG_START_TIMEOUT))
  until is_ready; do
    if ((SECONDS >= deadline)); then return 1; fi
    sleep 1
  done
}

start_local() {
  if command -v pg_lsclusters >/dev/null 2>&1 && command -v pg_ctlcluster >/dev/null 2>&1; then
    local clusters
    clusters="$(pg_lsclusters -h 2>/dev/null || true)"
    if [[ -z "$clusters" ]] && command -v pg_createcluster >/dev/null 2>&1; then
      local ver
      # shellcheck disable=SC2012 # version directories: plain names
      ver="$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n1)"
      [[ -n "$ver" ]] || die "PostgreSQL tools are installed but no server version was found in /usr/lib/postgresql"
      log "no cluster exists: creating $ver/main on port $PG_PORT"
      "${SUDO[@]}" pg_createcluster "$ver" main --port "$PG_PORT" >&2 || die "pg_createcluster $ver main failed"
      clusters="$(pg_lsclusters -h 2>/dev/null || true)"
    fi
    # start only the cluster(s) configured for $PG_PORT when there are any
    local on_port
    on_port="$(awk -v p="$PG_PORT" '$3 == p' <<<"$clusters")"
    [[ -n "$on_port" ]] && clusters="$on_port"
    # columns: version cluster port status owner datadir logfile
    local ver name port status any=0
    while read -r ver name port status _; do
      [[ -n "$ver" ]] || continue
      any=1
      if [[ "$status" == online* ]]; then continue; fi
      log "starting cluster $ver/$name (port $port)"
      "${SUDO[@]}" pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start >&2 \
        || log "pg_ctlcluster $ver $name start failed (see /var/log/postgresql/postgresql-$ver-$name.log)"
    done <<<"$clusters"
    if ((any)); then return 0; fi
  fi
  if command -v service >/dev/null 2>&1; then
    log "starting PostgreSQL with: service postgresql start"
    "${SUDO[@]}" service postgresql start >&2 || log "service postgresql start failed"
    return 0
  fi
  die "PostgreSQL is installed but neither pg_ctlcluster nor service is available to start it; start it by hand on $PG_HOST:$PG_PORT"
}

can_login() { # trust (or .pgpass) login over TCP as the superuser?
  local psql
  psql="$(find_pg_bin psql)" || return 1
  "$psql" -X -w -h "$PG_HOST" -p "$PG_PORT" -U "$PG_SUPERUSER" -d postgres -Atqc 'select 1' >/dev/null 2>&1
}

allow_local_trust() { # only called right after we installed PostgreSQL ourselves
  can_login && return 0
  local ver="" name="" hba=""
  if command -v pg_lsclusters >/dev/null 2>&1; then
    read -r ver name < <(pg_lsclusters -h 2>/dev/null | awk -v p="$PG_PORT" '$3 == p { print $1, $2; exit }') || true
  fi
  [[ -n "$ver" && -n "$name" ]] && hba="/etc/postgresql/$ver/$name/pg_hba.conf"
  if [[ -z "$hba" || ! -f "$hba" ]]; then
    log "no pg_hba.conf found for the cluster on port $PG_PORT: not changing authentication"
    return 0
  fi
  log "allowing trust auth for user $PG_SUPERUSER over 127.0.0.1 and ::1 in $hba"
  local tmp
  tmp="$(mktemp)"
  {
    echo "# added by ferry scripts/ensure-postgres.sh (local development/CI only)"
    echo "host    all    $PG_SUPERUSER    127.0.0.1/32    trust"
    echo "host    all    $PG_SUPERUSER    ::1/128         trust"
    cat "$hba"
  } >"$tmp"
  "${SUDO[@]}" cp "$tmp" "$hba"
  rm -f "$tmp"
  "${SUDO[@]}" pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" reload >&2 \
    || "${SUDO[@]}" service postgresql reload >&2 \
    || log "could not reload PostgreSQL; restart it to apply $hba"
  sleep 1
}

# ---------------------------------------------------------------- server up?
installed_now=0
if is_ready; then
  log "PostgreSQL is accepting connections on $PG_HOST:$PG_PORT"
else
  if server_installed; then
    log "PostgreSQL is not answering on $PG_HOST:$PG_PORT: starting the local cluster"
    start_local
  elif command -v apt-get >/dev/null 2>&1; then
    [[ "$(id -u)" == 0 || ${#SUDO[@]} -gt 0 ]] || die "PostgreSQL is not installed and installing it needs root"
    log "PostgreSQL is not installed: apt-get install -y postgresql"
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update -qq >&2 || log "apt-get update failed; trying the install anyway"
    "${SUDO[@]}" apt-get install -y -qq postgresql >&2 || die "apt-get install postgresql failed"
    installed_now=1
    # the package's maintainer scripts usually start the cluster; if not, do it
    is_ready || start_local
  else
    die "PostgreSQL is not installed and there is no apt-get to install it: install PostgreSQL and run it on $PG_HOST:$PG_PORT with trust auth for user $PG_SUPERUSER"
  fi
  if ! wait_ready; then
    for f in /var/log/postgresql/*.log; do
      [[ -f "$f" ]] || continue
      echo "----- last lines of $f -----" >&2
      tail -n 20 "$f" >&2 || true
    done
    die "PostgreSQL did not accept connections on $PG_HOST:$PG_PORT within ${PG_START_TIMEOUT}s"
  fi
  log "PostgreSQL is accepting connections on $PG_HOST:$PG_PORT"
  if ((installed_now)); then allow_local_trust; fi
fi

# ---------------------------------------------------------------- can we log in?
PSQL="$(find_pg_bin psql)" || die "psql not found (install postgresql-client)"
psql_() { "$PSQL" -X -q -v ON_ERROR_STOP=1 -w -h "$PG_HOST" -p "$PG_PORT" -U "$PG_SUPERUSER" "$@"; }

if ! err="$(psql_ -d postgres -Atc 'select 1' 2>&1 >/dev/null)"; then
  die "cannot log in to $PG_HOST:$PG_PORT as $PG_SUPERUSER without a password: ${err}
  ferry expects trust (or .pgpass) auth for user $PG_SUPERUSER over 127.0.0.1; add
  'host all $PG_SUPERUSER 127.0.0.1/32 trust' to pg_hba.conf and reload PostgreSQL"
fi

# ---------------------------------------------------------------- database
if [[ -n "$DBNAME" ]]; then
  exists() { [[ "$(psql_ -d postgres -Atv db="$DBNAME" <<<"select 1 from pg_database where datname = :'db'")" == 1 ]]; }
  if exists; then
    log "database \"$DBNAME\" already exists"
  elif psql_ -d postgres -v db="$DBNAME" <<<'create database :"db"' >&2 2>/dev/null; then
    log "created database \"$DBNAME\""
  elif exists; then # created concurrently by someone else
    log "database \"$DBNAME\" already exists"
  else
    err="$(psql_ -d postgres -v db="$DBNAME" <<<'create database :"db"' 2>&1 || true)"
    die "could not create database \"$DBNAME\": $err"
  fi
fi
