#!/usr/bin/env bash
# Bodies an attacker sends to hold the front door's event loops (60,000 top-level keys; hundreds of
# kilobytes to megabytes of JWT or AWS-key shapes against a blocking secrets guardrail): how long each is
# answered in, and the slowest answer another client gets meanwhile. Loopback only; builds release.
# Usage: Benchmarks/gateway/hostile.sh   (BASE_BIN=path/to/another/build/gatehouse measures it beside this one)
set -euo pipefail
cd "$(dirname "$0")/../.."
HERE=Benchmarks/gateway
swift build -c release --product gatehouse > /dev/null 2>&1
BIN=.build/release/gatehouse
source scripts/processes.sh

FIXTURE=$(free_port)
"$BIN" fixture-model --listen "127.0.0.1:$FIXTURE" > /dev/null &
PIDS+=($!)
cat > "$WORK/gatehouse.yaml" <<YAML
models:
  - name: fixture-small
    upstreams: [{url: "http://127.0.0.1:$FIXTURE"}]
access:
  policies:
    - name: everyone
      selector: all()
      rules: [{action: Allow}]
guardrails:
  - name: no-secrets
    selector: all()
    detectors: [secrets]
    prompts: block
YAML
TARGETS=()
start() { # start NAME BINARY
    local port
    port=$(free_port)
    "$2" serve -c "$WORK/gatehouse.yaml" --data-dir "$WORK/data" --no-tls --listen "127.0.0.1:$port" \
        --admin-listen "127.0.0.1:$(free_port)" > /dev/null 2>&1 &
    PIDS+=($!)
    wait_port "$port"
    TARGETS+=("$1=http://127.0.0.1:$port")
}
start gatehouse "$BIN"
[ -z "${BASE_BIN:-}" ] || start base "$BASE_BIN"
GATEHOUSE_KEY=$("$BIN" keys create --data-dir "$WORK/data" --name bench -o json |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["key"])')
export GATEHOUSE_KEY
sleep 1.5 # the gateways load new keys within a second
echo "machine: $(nproc) cores; $(date -u +%Y-%m-%dT%H:%MZ)"
python3 "$HERE/hostile_bodies.py" "${TARGETS[@]}"
