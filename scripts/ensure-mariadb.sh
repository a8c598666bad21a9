#!/usr/bin/env bash
# Make sure a MariaDB (or MySQL) answers on 127.0.0.1:3306 for user root with no password,
# as the tests of the MySQL/MariaDB connector expect.
#   1. If it answers, it is used as it is.
#   2. Otherwise the installed server is started (`service mariadb start`, else mysql).
#   3. If none is installed and apt-get exists, mariadb-server is installed and started,
#      and root is allowed to log in over TCP without a password (only in that case).
# Overridable: MARIADB_HOST (127.0.0.1), MARIADB_PORT (3306), MARIADB_START_TIMEOUT (30).
# All messages go to stderr.
set -euo pipefail
HOST="${MARIADB_HOST:-127.0.0.1}"
PORT="${MARIADB_PORT:-3306}"
TIMEOUT="${MARIADB_START_TIMEOUT:-30}"
log() { echo "ensure-mariadb: $*" >&2; }
die() { echo "ensure-mariadb: error: $*" >&2; exit 1; }

client() { command -v mariadb 2>/dev/null || command -v mysql 2>/dev/null; }
answers() {
  local c
  c="$(client)" || { (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; return; }
  "$c" -h "$HOST" -P "$PORT" -u root --connect-timeout=3 -e 'select 1' >/dev/null 2>&1
}
wait_ready() {
  local deadline=$((SECONDS + TIMEOUT))
  until answers; do ((SECONDS < deadline)) || return 1; sleep 1; done
}

answers && exit 0
installed=0
{ command -v mariadbd || command -v mysqld || [[ -x /usr/sbin/mariadbd ]] || [[ -x /usr/sbin/mysqld ]]; } >/dev/null 2>&1 && installed=1
if [[ $installed == 0 ]]; then
  command -v apt-get >/dev/null 2>&1 || die "no MariaDB installed and no apt-get to install one"
  log "installing mariadb-server (apt-get)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y mariadb-server >/dev/null 2>&1 ||
    { apt-get update >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y mariadb-server >/dev/null; }
fi
log "starting MariaDB"
service mariadb start >/dev/null 2>&1 || service mysql start >/dev/null 2>&1 || true
wait_ready || die "MariaDB did not answer on $HOST:$PORT within ${TIMEOUT}s"
if [[ $installed == 0 ]]; then
  # a fresh Debian install lets root in by unix socket only
  "$(client)" -u root -e "alter user 'root'@'localhost' identified via mysql_native_password using password(''); flush privileges;" >/dev/null 2>&1 || true
fi
answers || die "MariaDB answers on $HOST:$PORT but not to root without a password"
log "MariaDB ready on $HOST:$PORT"
