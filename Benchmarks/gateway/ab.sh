#!/usr/bin/env bash
# Two builds of the gateway side by side on loopback, with issue 3's checks on (key authentication, head
# checks, body scan, policy decision, log line; no audit): wrk runs interleaved round by round against the
# fixture directly and each gateway, and the table gives medians and each gateway's CPU per request.
# Start order matters on this machine by a few percent: run it both ways (A then B, B then A).
# Usage: Benchmarks/gateway/ab.sh BIN_A BIN_B [ROUNDS] [SECONDS]   (defaults 8 5; 16 connections)
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN_A=$1
BIN_B=$2
HERE=Benchmarks/gateway
command -v wrk > /dev/null || { apt-get update -qq && apt-get install -y -qq wrk > /dev/null; }
source scripts/processes.sh
FIXTURE=$(free_port)
"$BIN_A" fixture-model --listen "127.0.0.1:$FIXTURE" > /dev/null &
PIDS+=($!)
cat > "$WORK/gatehouse.yaml" <<YAML
models:
  - name: fixture-small
    labels: {size: small}
    upstreams: [{url: "http://127.0.0.1:$FIXTURE"}]
access:
  policies:
    - name: bench-small
      selector: team == 'bench'
      rules:
        - action: Allow
          models: {selector: size == 'small'}
audit: {enabled: false}
YAML
TARGETS=()
start() { # start NAME BINARY
    local port
    port=$(free_port)
    "$2" serve -c "$WORK/gatehouse.yaml" --data-dir "$WORK/data" --no-tls --listen "127.0.0.1:$port" \
        --admin-listen "127.0.0.1:$(free_port)" > /dev/null 2> "$WORK/$1.log" &
    PIDS+=($!)
    wait_port "$port"
    TARGETS+=("$1=http://127.0.0.1:$port/v1/chat/completions@$!")
}
start gatehouse-a "$BIN_A"
start gatehouse-b "$BIN_B"
GATEHOUSE_KEY=$("$BIN_A" keys create --data-dir "$WORK/data" --name bench --label team=bench -o json |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["key"])')
export GATEHOUSE_KEY
sleep 1.5 # the gateways load new keys within a second
echo "machine: $(nproc) cores; $(date -u +%Y-%m-%dT%H:%MZ); A $BIN_A, B $BIN_B"
python3 "$HERE/wrk_rounds.py" "${3:-8}" "${4:-5}" 16 "direct=http://127.0.0.1:$FIXTURE/v1/chat/completions" \
    "${TARGETS[@]}"
