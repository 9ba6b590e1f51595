#!/usr/bin/env bash
# Two builds of the gateway side by side on loopback, in front of run.sh's neutral upstream: with issue 3's
# checks (key authentication, head checks, body scan, policy decision, log line; no audit), or with
# CHECKS=all every check on (gateways.sh). wrk runs interleaved round by round against the upstream
# directly and each gateway, and the table gives medians and each gateway's CPU per request.
# Needs run.sh once before (wrk, Envoy).
# Usage: [CHECKS=all] Benchmarks/gateway/ab.sh BIN_A BIN_B [ROUNDS] [SECONDS]   (defaults 8 5; 16 connections)
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 BIN_A BIN_B [ROUNDS] [SECONDS]" >&2; exit 2; }
set -- "$(realpath "$1")" "$(realpath "$2")" "${@:3}"
cd "$(dirname "$0")/../.."
BIN=$1
HERE=Benchmarks/gateway
source scripts/processes.sh
source "$HERE/gateways.sh"
CHECKED="audit: {enabled: false}"
[ "${CHECKS:-}" != all ] || CHECKED=$ALL_CHECKS
start_neutral .build/bench-venv/bin/envoy
start_gatehouse gatehouse-a "$NEUTRAL" --no-tls "$CHECKED" "$1"
A="gatehouse-a=http://127.0.0.1:$PORT/v1/chat/completions@$PID"
start_gatehouse gatehouse-b "$NEUTRAL" --no-tls "$CHECKED" "$2"
B="gatehouse-b=http://127.0.0.1:$PORT/v1/chat/completions@$PID"
GATEHOUSE_KEY=$(bench_key)
export GATEHOUSE_KEY BENCH_MODEL=neutral
sleep 1.5 # the gateways load new keys within a second
echo "machine: $(nproc) cores; $(date -u +%Y-%m-%dT%H:%MZ); A $1, B $2; checks: ${CHECKS:-issue 3}"
python3 "$HERE/wrk_rounds.py" "${3:-8}" "${4:-5}" 16 "direct=http://127.0.0.1:$NEUTRAL/v1/chat/completions" "$A" "$B"
