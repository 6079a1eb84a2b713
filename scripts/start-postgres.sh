#!/usr/bin/env bash
# Starts a PostgreSQL server on loopback for the test suite, unless one already answers there.
# Installs the Debian package when the server binaries are missing (as root, or through sudo
# where it needs no password, as on CI runners).
#   scripts/start-postgres.sh            # prints the OPSML_TEST_POSTGRES_URI to use
# Variables: OPSML_PG_PORT (55432), OPSML_PG_DIR (/tmp/opsml-postgres).
set -euo pipefail

port="${OPSML_PG_PORT:-55432}"
dir="${OPSML_PG_DIR:-/tmp/opsml-postgres}"
uri="postgres://opsml:opsml@127.0.0.1:${port}/opsml_test"

bin_dir() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

if [ -z "$(bin_dir)" ]; then
    "$(dirname "$0")/as-root.sh" apt-get update -qq
    "$(dirname "$0")/as-root.sh" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq postgresql >/dev/null
fi
bin="$(bin_dir)"

if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; then
    echo "$uri"
    exit 0
fi

# The server refuses to run as root: it runs as the package's `postgres` user.
run_as_postgres() {
    if [ "$(id -u)" = 0 ]; then
        su postgres -s /bin/sh -c "$*"
    else
        sh -c "$*"
    fi
}

mkdir -p "$dir"
if [ "$(id -u)" = 0 ]; then
    chown postgres "$dir"
fi
if [ ! -f "$dir/data/PG_VERSION" ]; then
    printf 'opsml\n' > "$dir/password"
    [ "$(id -u)" = 0 ] && chown postgres "$dir/password"
    run_as_postgres "'$bin/initdb' -D '$dir/data' -U opsml --pwfile='$dir/password' \
        --auth-host=scram-sha-256 --auth-local=trust -E UTF8 >'$dir/initdb.log'"
fi
# max_wal_size as a database taking bulk ingest would have it: with the default (1 GB) a load
# test checkpoints every few seconds, and each checkpoint stalls commits for a while.
run_as_postgres "'$bin/pg_ctl' -D '$dir/data' -l '$dir/server.log' -w \
    -o \"-h 127.0.0.1 -p $port -k '$dir' -c max_connections=200 -c fsync=on -c max_wal_size=4GB\" start >/dev/null"
if ! run_as_postgres "'$bin/psql' -h '$dir' -p $port -U opsml -d postgres -tAc \
    \"SELECT 1 FROM pg_database WHERE datname = 'opsml_test'\"" | grep -q 1; then
    run_as_postgres "'$bin/createdb' -h '$dir' -p $port -U opsml opsml_test"
fi
echo "$uri"
