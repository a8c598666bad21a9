#!/bin/bash
# Runs once, when the ferry-postgres volume is first initialised (the postgres
# image's /docker-entrypoint-initdb.d hook). POSTGRES_DB (ferry, the state
# store) is created by the image itself; this adds the databases named in
# FERRY_EXTRA_DATABASES (space- or comma-separated), e.g. demo source/target
# databases.
set -euo pipefail
extra="${FERRY_EXTRA_DATABASES:-}"
for db in ${extra//,/ }; do
  echo "ensuring database $db"
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres -v db="$db" <<'SQL'
select format('create database %I', :'db') where not exists (select 1 from pg_database where datname = :'db')\gexec
SQL
done
