#!/usr/bin/env bash
# What each check of "every check on" costs at the front door: wrk (c=16, non-streaming chats, the neutral
# upstream of run.sh) against Envoy as a plain proxy, the gateway with issue 3's checks, the same with one
# check more each (the audit trail, guardrails, a quota's rates, concurrency and caps, a budget) and with
# every check on, interleaved round by round. The table gives medians and each proxy's CPU per request
# with its user and system parts. Needs run.sh once before (wrk, Envoy, the release build).
# Usage: Benchmarks/gateway/checks.sh [ROUNDS] [SECONDS]   (defaults 3 8)
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=.build/release/gatehouse
VENV=.build/bench-venv
source scripts/processes.sh
source Benchmarks/gateway/gateways.sh

start_neutral "$VENV/bin/envoy"
start_envoy "$VENV/bin/envoy" "$NEUTRAL"
TARGETS=("envoy=http://127.0.0.1:$ENVOY/v1/chat/completions@$ENVOY_PID")
target() { # target NAME EXTRA-YAML: a gateway with issue 3's checks and EXTRA-YAML
    start_gatehouse "$1" "$NEUTRAL" --no-tls "$2"
    TARGETS+=("$1=http://127.0.0.1:$PORT/v1/chat/completions@$PID")
}
NO_AUDIT="audit: {enabled: false}"
# ALL_CHECKS taken apart: its guardrails, its quota without the budget, its prices and budget alone.
GUARDRAILS=$(printf '%s\n' "$ALL_CHECKS" | sed -n '/^guardrails:/,$p')
QUOTAS=$(printf '%s\n' "$ALL_CHECKS" | sed -n '/^quotas:/,/^guardrails:/p' | grep -v -e '^guardrails:')
LIMITS=$(printf '%s\n' "$QUOTAS" | grep -v 'budget:')
BUDGET=$(printf '%s\n' "$ALL_CHECKS" | sed -n '/^prices:/,/^quotas:/p' | grep -v '^quotas:';
    printf '%s\n' "$QUOTAS" | grep -v -e PerMinute -e 'max[A-Z]')
target gatehouse "$NO_AUDIT"
target gatehouse+audit ""
target gatehouse+guardrails "$NO_AUDIT
$GUARDRAILS"
target gatehouse+quota "$NO_AUDIT
$LIMITS"
target gatehouse+budget "$NO_AUDIT
$BUDGET"
target gatehouse-all-checks "$ALL_CHECKS"
export GATEHOUSE_KEY BENCH_MODEL=neutral
GATEHOUSE_KEY=$(bench_key)

echo "machine: $(nproc) cores; $(date -u +%Y-%m-%dT%H:%MZ); gatehouse $("$BIN" --version)"
# The first target is the reference the added latencies are measured from: here Envoy.
python3 Benchmarks/gateway/wrk_rounds.py "${1:-3}" "${2:-8}" 16 "${TARGETS[@]}"
