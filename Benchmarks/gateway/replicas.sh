#!/usr/bin/env bash
# Throughput with every check on (issue 4's "all checks" configuration: quotas, a budget reserved and
# settled per request, guardrails, an audit record per request): one gateway on SQLite, one on
# PostgreSQL, and three replicas on one PostgreSQL, side by side in one run (Benchmarks/gateway/replicas.py),
# in front of the fixture model, loopback only. PostgreSQL is the throwaway server of scripts/postgres.sh
# (TLS, fsync off as in the tests). The build measured is the image's: release, static Swift runtime.
# Usage: Benchmarks/gateway/replicas.sh [ROUNDS] [SECONDS] [CONNECTIONS]   (defaults 5 10 32)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-5}
SECONDS_PER_RUN=${2:-10}
CONNECTIONS=${3:-32}
HERE=Benchmarks/gateway
command -v wrk > /dev/null || { apt-get update -qq && apt-get install -y -qq wrk > /dev/null; }
CACHE=${GATEHOUSE_BUILD_CACHE:-/var/cache/gatehouse-build}/static
swift build -c release --static-swift-stdlib --product gatehouse --scratch-path "$CACHE" > /dev/null 2>&1
BIN=$(swift build -c release --static-swift-stdlib --scratch-path "$CACHE" --show-bin-path)/gatehouse
ulimit -n "$(ulimit -Hn)" 2> /dev/null || true   # as many open files as allowed: 1,000 streams need two each
source scripts/processes.sh
source scripts/postgres.sh
source "$HERE/gateways.sh"
start_postgres
export PGPASSWORD=$GATEHOUSE_TEST_POSTGRES_PASSWORD
psql -q "$GATEHOUSE_TEST_POSTGRES" -c "CREATE DATABASE bench"
POSTGRES="${GATEHOUSE_TEST_POSTGRES%/*}/bench?sslmode=verify-full&sslrootcert=$GATEHOUSE_TEST_POSTGRES_CA"

FIXTURE=$(free_port)
"$BIN" fixture-model --listen "127.0.0.1:$FIXTURE" > /dev/null &
PIDS+=($!)
wait_port "$FIXTURE"
# One key, the same in both stores: made in SQLite, then copied into PostgreSQL with its hash.
export GATEHOUSE_KEY
GATEHOUSE_KEY=$(bench_key)
"$BIN" store migrate --from "sqlite://$WORK/data" --to "$POSTGRES" > /dev/null
start_gatehouse sqlite "$FIXTURE" --no-tls "$ALL_CHECKS"
SQLITE="http://127.0.0.1:$PORT/v1/chat/completions@$PID"
export GATEHOUSE_STORE=$POSTGRES
REPLICAS=()
for index in 1 2 3; do
    mkdir -p "$WORK/replica-$index"
    start_gatehouse "postgres-$index" "$FIXTURE" --no-tls "$ALL_CHECKS
store: {url: \"$POSTGRES\"}"
    REPLICAS+=("http://127.0.0.1:$PORT/v1/chat/completions@$PID")
done
unset GATEHOUSE_STORE
sleep 1

echo "machine: $(nproc) cores; $(date -u +%Y-%m-%dT%H:%MZ); gatehouse $("$BIN" --version) (release, static Swift runtime)"
python3 "$HERE/replicas.py" "$ROUNDS" "$SECONDS_PER_RUN" "$CONNECTIONS" \
    "sqlite=$SQLITE" "postgres=${REPLICAS[0]}" "postgres-3-replicas=$(IFS=,; echo "${REPLICAS[*]}")" ||
    { grep -h -v 'info gatehouse: request' "$WORK"/*.log | tail -n 20; exit 1; }
