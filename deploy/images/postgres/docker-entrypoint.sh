#!/usr/bin/env bash
# Entrypoint of the pods-postgres image, following the official postgres image's conventions:
#   POSTGRES_PASSWORD          superuser password; required unless POSTGRES_HOST_AUTH_METHOD=trust
#   POSTGRES_USER              superuser name (default postgres)
#   POSTGRES_DB                database created on first start (default: POSTGRES_USER)
#   POSTGRES_HOST_AUTH_METHOD  auth for TCP connections from anywhere (default scram-sha-256)
#   POSTGRES_INITDB_ARGS       extra initdb arguments
#   PGDATA                     data directory (default /var/lib/postgresql/data)
# POSTGRES_PASSWORD_FILE, POSTGRES_USER_FILE and POSTGRES_DB_FILE read the value from a file.
# Scripts in /docker-entrypoint-initdb.d (*.sh, *.sql, *.sql.gz) run once after the first initdb.
#
# Started as root, it prepares the data directory and re-executes itself as the postgres user;
# PostgreSQL then runs in the foreground (exec), listening on all addresses, logging to stderr.
# The password is never printed.
set -Eeuo pipefail

export PGDATA="${PGDATA:-/var/lib/postgresql/data}"

say() { printf 'docker-entrypoint: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# file_env VAR [DEFAULT]: VAR from the environment, or from the file named by VAR_FILE.
file_env() {
    local var="$1" default="${2:-}" file_var="${1}_FILE"
    if [[ -n "${!var:-}" && -n "${!file_var:-}" ]]; then
        die "both $var and $file_var are set (they are exclusive)"
    fi
    local value="$default"
    if [[ -n "${!var:-}" ]]; then
        value="${!var}"
    elif [[ -n "${!file_var:-}" ]]; then
        value="$(<"${!file_var}")"
    fi
    export "$var"="$value"
    unset "$file_var"
}

# As root: own the data and socket directories, then run this script again as postgres.
become_postgres() {
    mkdir -p "$PGDATA" /var/run/postgresql
    chmod 00700 "$PGDATA"
    chmod 03775 /var/run/postgresql
    find "$PGDATA" /var/run/postgresql \! -user postgres -exec chown postgres:postgres '{}' +
    export HOME=/var/lib/postgresql
    exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
}

check_settings() {
    file_env POSTGRES_PASSWORD
    file_env POSTGRES_USER postgres
    file_env POSTGRES_DB "$POSTGRES_USER"
    export POSTGRES_HOST_AUTH_METHOD="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
    if [[ -z "$POSTGRES_PASSWORD" && "$POSTGRES_HOST_AUTH_METHOD" != trust ]]; then
        die "the database is not initialized and POSTGRES_PASSWORD is not set;" \
            "set POSTGRES_PASSWORD (or POSTGRES_HOST_AUTH_METHOD=trust to allow" \
            "every connection without a password, which is not recommended)"
    fi
    if [[ "$POSTGRES_HOST_AUTH_METHOD" == trust ]]; then
        say "warning: POSTGRES_HOST_AUTH_METHOD=trust: anyone who can connect can log in"
    fi
}

init_database_dir() {
    local args=(--username="$POSTGRES_USER" --encoding=UTF8 --locale=C.UTF-8
        --auth-local=trust --auth-host="$POSTGRES_HOST_AUTH_METHOD")
    # shellcheck disable=SC2206 # POSTGRES_INITDB_ARGS is a word list, as in the official image
    args+=(${POSTGRES_INITDB_ARGS:-})
    if [[ -n "$POSTGRES_PASSWORD" ]]; then
        initdb "${args[@]}" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD")
    else
        initdb "${args[@]}"
    fi
    printf '\n%s\n' "host all all all $POSTGRES_HOST_AUTH_METHOD" >>"$PGDATA/pg_hba.conf"
    printf '\n%s\n' "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
}

# psql_init ARGS...: psql against the temporary (socket-only) server.
psql_init() {
    psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet --username "$POSTGRES_USER" "$@"
}

create_database() {
    local exists
    exists="$(psql_init --dbname postgres --tuples-only --no-align --set db="$POSTGRES_DB" \
        <<<"SELECT 1 FROM pg_database WHERE datname = :'db';")"
    if [[ -z "$exists" ]]; then
        psql_init --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
    fi
}

run_init_scripts() {
    local f
    for f in /docker-entrypoint-initdb.d/*; do
        case "$f" in
            *.sh) say "running $f"; bash "$f" ;;
            *.sql) say "running $f"; psql_init --dbname "$POSTGRES_DB" -f "$f" ;;
            *.sql.gz) say "running $f"; gunzip -c "$f" | psql_init --dbname "$POSTGRES_DB" ;;
            *) if [[ -e "$f" ]]; then say "ignoring $f"; fi ;;
        esac
    done
}

first_start() {
    check_settings
    init_database_dir
    # A temporary server on the Unix socket only, so nobody connects before we are done.
    pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start
    create_database
    run_init_scripts
    pg_ctl -D "$PGDATA" -m fast -w stop
    unset POSTGRES_PASSWORD
    say "PostgreSQL init process complete; ready for start up"
}

main() {
    if [[ "${1:-}" == -* ]]; then
        set -- postgres "$@"
    fi
    if [[ "${1:-}" != postgres ]]; then
        exec "$@"
    fi
    if [[ "$(id -u)" == 0 ]]; then
        become_postgres "$@"
    fi
    if [[ ! -s "$PGDATA/PG_VERSION" ]]; then
        first_start
    fi
    unset POSTGRES_PASSWORD
    exec "$@"
}

main "$@"
