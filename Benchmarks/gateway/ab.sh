#!/usr/bin/env bash
# Two builds of the gateway side by side on loopback, with issue 3's checks on (key authentication, head
# checks, body scan, policy decision, log line; no audit): wrk runs interleaved round by round against the
# fixture directly and each gateway, and the table gives medians and each gateway's CPU per request.
# Usage: Benchmarks/gateway/ab.sh BIN_A BIN_B [ROUNDS] [SECONDS]   (defaults 8 5; 16 connections)
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 BIN_A BIN_B [ROUNDS] [SECONDS]" >&2; exit 2; }
set -- "$(realpath "$1")" "$(realpath "$2")" "${@:3}"
cd "$(dirname "$0")/../.."
BIN=$1
HERE=Benchmarks/gateway
command -v wrk > /dev/null || { apt-get update -qq && apt-get install -y -qq wrk > /dev/null; }
source scripts/processes.sh
source "$HERE/gateways.sh"
FIXTURE=$(free_port)
"$BIN" fixture-model --listen "127.0.0.1:$FIXTURE" > /dev/null &
PIDS+=($!)
start_gatehouse gatehouse-a "$FIXTURE" --no-tls "audit: {enabled: false}" "$1"
A="gatehouse-a=http://127.0.0.1:$PORT/v1/chat/completions@$PID"
start_gatehouse gatehouse-b "$FIXTURE" --no-tls "audit: {enabled: false}" "$2"
B="gatehouse-b=http://127.0.0.1:$PORT/v1/chat/completions@$PID"
GATEHOUSE_KEY=$(bench_key)
export GATEHOUSE_KEY
sleep 1.5 # the gateways load new keys within a second
echo "machine: $(nproc) cores; $(date -u +%Y-%m-%dT%H:%MZ); A $1, B $2"
python3 "$HERE/wrk_rounds.py" "${3:-8}" "${4:-5}" 16 "direct=http://127.0.0.1:$FIXTURE/v1/chat/completions" "$A" "$B"
