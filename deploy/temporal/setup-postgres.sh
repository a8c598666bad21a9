#!/bin/sh
# One-shot schema setup for the compose Temporal server, run in the
# temporalio/admin-tools image before temporalio/server starts (the replacement
# for the deprecated temporalio/auto-setup image). Safe to run again on every
# `docker compose up`: existing databases are kept and only missing schema
# versions are applied.
set -eu

: "${POSTGRES_SEEDS:?POSTGRES_SEEDS must be set}"
: "${POSTGRES_USER:?POSTGRES_USER must be set}"
: "${POSTGRES_PWD:?POSTGRES_PWD must be set}"
DB_PORT="${DB_PORT:-5432}"
DBNAME="${DBNAME:-temporal}"
VISIBILITY_DBNAME="${VISIBILITY_DBNAME:-temporal_visibility}"
SCHEMA_ROOT="${TEMPORAL_HOME:-/etc/temporal}/schema/postgresql/v12"
export SQL_PASSWORD="${SQL_PASSWORD:-$POSTGRES_PWD}"

echo "waiting for PostgreSQL at ${POSTGRES_SEEDS}:${DB_PORT}"
i=0
until nc -z "$POSTGRES_SEEDS" "$DB_PORT"; do
  i=$((i + 1))
  if [ "$i" -ge 60 ]; then echo "PostgreSQL did not open its port in 60 s" >&2; exit 1; fi
  sleep 1
done

sqltool() {
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" -u "$POSTGRES_USER" "$@"
}

for pair in "$DBNAME:temporal" "$VISIBILITY_DBNAME:visibility"; do
  db="${pair%%:*}"
  dir="$SCHEMA_ROOT/${pair#*:}/versioned"
  echo "schema setup for database $db ($dir)"
  # `create` fails when the database exists already (a restart): that is fine,
  # and any real problem shows up in the next two steps.
  sqltool --db "$db" create || echo "database $db not created (it probably exists already)"
  sqltool --db "$db" setup-schema -v 0.0
  sqltool --db "$db" update-schema -d "$dir"
done
echo "Temporal schema setup complete"
