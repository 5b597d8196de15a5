#!/usr/bin/env bash
# Install (from Debian's packages) and start a PostgreSQL server for the store
# contract tests, then print the URL to export as GRIDCORE_TEST_POSTGRES_URL.
#
# Idempotent: safe to run again when the server is already up.  Runs as root
# and talks to the server as the postgres user.  On any failure it prints a
# clear message to stderr and exits non-zero; stdout carries only the URL.
set -euo pipefail

ROLE=gridcore
PASSWORD=gridcore
DATABASE=gridcore
PORT=${GRIDCORE_PG_PORT:-5432}

fail() { echo "postgres.sh: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "must run as root (it installs packages and starts the server via the postgres user)"

if ! command -v pg_lsclusters >/dev/null 2>&1 || [ -z "$(ls /usr/lib/postgresql 2>/dev/null)" ]; then
    echo "postgres.sh: installing PostgreSQL from Debian's packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 || fail "apt-get update failed"
    apt-get install -y -qq postgresql >&2 || fail "apt-get install postgresql failed"
fi

VERSION=$(ls /usr/lib/postgresql | sort -V | tail -1)
[ -n "$VERSION" ] || fail "no PostgreSQL version under /usr/lib/postgresql after install"

CLUSTERS=$(pg_lsclusters -h | awk '{print $1" "$2}')
if ! printf '%s\n' "$CLUSTERS" | grep -x "$VERSION main" >/dev/null; then
    echo "postgres.sh: creating cluster $VERSION/main" >&2
    pg_createcluster "$VERSION" main --port "$PORT" >&2 || fail "pg_createcluster $VERSION main failed"
fi

STATUS=$(pg_lsclusters -h | awk -v v="$VERSION" '$1==v && $2=="main" {print $4}')
if [ "$STATUS" != "online" ]; then
    echo "postgres.sh: starting cluster $VERSION/main" >&2
    pg_ctlcluster "$VERSION" main start >&2 || {
        tail -n 20 "/var/log/postgresql/postgresql-$VERSION-main.log" >&2 || true
        fail "could not start PostgreSQL $VERSION/main (log above)"
    }
fi
PORT=$(pg_lsclusters -h | awk -v v="$VERSION" '$1==v && $2=="main" {print $3}')

for _ in $(seq 1 30); do
    if su postgres -c "psql -p $PORT -qAtc 'select 1'" >/dev/null 2>&1; then break; fi
    sleep 1
done
su postgres -c "psql -p $PORT -qAtc 'select 1'" >/dev/null 2>&1 || fail "server on port $PORT does not answer"

psql_admin() { su postgres -c "psql -p $PORT -v ON_ERROR_STOP=1 -qAt" ; }

if [ "$(echo "select 1 from pg_roles where rolname='$ROLE'" | psql_admin)" != "1" ]; then
    echo "create role $ROLE login createdb password '$PASSWORD'" | psql_admin >&2 || fail "could not create role $ROLE"
fi
if [ "$(echo "select 1 from pg_database where datname='$DATABASE'" | psql_admin)" != "1" ]; then
    echo "create database $DATABASE owner $ROLE" | psql_admin >&2 || fail "could not create database $DATABASE"
fi

URL="postgresql://$ROLE:$PASSWORD@127.0.0.1:$PORT/$DATABASE"
echo "$URL"
