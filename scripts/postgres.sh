# Sourced after processes.sh: `start_postgres` starts a throwaway PostgreSQL 15 (Debian's package, installed
# when missing) on a free loopback port, with TLS on (a CA and a server certificate made here) and a
# password login for the role `gatehouse`, which may create databases. It exports
#   GATEHOUSE_TEST_POSTGRES           postgres://gatehouse@127.0.0.1:PORT/gatehouse
#   GATEHOUSE_TEST_POSTGRES_PASSWORD  the role's password
#   GATEHOUSE_TEST_POSTGRES_CA        the CA file that signed the server's certificate (for sslrootcert)
#   GATEHOUSE_TEST_POSTGRES_DATA      the server's data directory (`postgres_ctl stop|start` for an outage)
# and stops the server on exit. fsync is off: the tests kill gateways and stop the server, never the
# machine. initdb refuses to run as root, so the server runs as `postgres`.
start_postgres() {
    if ! ls /usr/lib/postgresql/*/bin/initdb > /dev/null 2>&1; then
        apt_lists
        apt-get install -y -q postgresql > /dev/null
    fi
    local bin
    bin=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")
    export GATEHOUSE_TEST_POSTGRES_BIN=$bin
    local root
    root=$(mktemp -d /tmp/gatehouse-postgres.XXXXXX)
    chmod 755 "$root"
    local password
    password=$(openssl rand -hex 16)
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=test-postgres-ca \
        -keyout "$root/ca.key" -out "$root/ca.pem" 2> /dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=127.0.0.1 \
        -keyout "$root/server.key" -out "$root/server.csr" 2> /dev/null
    openssl x509 -req -in "$root/server.csr" -CA "$root/ca.pem" -CAkey "$root/ca.key" -CAcreateserial -days 2 \
        -extfile <(printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n') -out "$root/server.pem" 2> /dev/null
    echo "$password" > "$root/superuser-password"
    chown -R postgres:postgres "$root"
    chmod 600 "$root/server.key"
    runuser -u postgres -- "$bin/initdb" -D "$root/data" --auth-local=trust --auth-host=scram-sha-256 \
        --username=postgres --pwfile="$root/superuser-password" > "$root/initdb.log" 2>&1
    local port
    port=$(free_port)
    export GATEHOUSE_TEST_POSTGRES_OPTIONS="-c listen_addresses=127.0.0.1 -p $port -k $root -c ssl=on \
        -c ssl_cert_file=$root/server.pem -c ssl_key_file=$root/server.key -c max_connections=300 -c fsync=off"
    export GATEHOUSE_TEST_POSTGRES_DATA=$root/data
    postgres_ctl start
    POSTGRES_ROOT=$root
    # Gateways first, while they can still give their holds back; then the server.
    trap 'cleanup; stop_postgres' EXIT
    runuser -u postgres -- "$bin/psql" -h "$root" -p "$port" -U postgres -q -v ON_ERROR_STOP=1 \
        -c "CREATE ROLE gatehouse LOGIN CREATEDB PASSWORD '$password'" -c "CREATE DATABASE gatehouse OWNER gatehouse"
    export GATEHOUSE_TEST_POSTGRES="postgres://gatehouse@127.0.0.1:$port/gatehouse"
    export GATEHOUSE_TEST_POSTGRES_PASSWORD=$password
    export GATEHOUSE_TEST_POSTGRES_CA=$root/ca.pem
}

# postgres_ctl start|stop: starts or stops (fast) the server start_postgres made, as an outage would.
postgres_ctl() {
    local options=()
    [ "$1" == "start" ] && options=(-l "$GATEHOUSE_TEST_POSTGRES_DATA/../server.log" -o "$GATEHOUSE_TEST_POSTGRES_OPTIONS")
    [ "$1" == "stop" ] && options=(-m fast)
    runuser -u postgres -- "$GATEHOUSE_TEST_POSTGRES_BIN/pg_ctl" -D "$GATEHOUSE_TEST_POSTGRES_DATA" -w "${options[@]}" \
        "$1" > /dev/null
}

stop_postgres() {
    [ -n "${POSTGRES_ROOT:-}" ] || return 0
    runuser -u postgres -- "$GATEHOUSE_TEST_POSTGRES_BIN/pg_ctl" -D "$POSTGRES_ROOT/data" -m immediate stop \
        > /dev/null 2>&1 || true
    rm -rf "$POSTGRES_ROOT"
}
