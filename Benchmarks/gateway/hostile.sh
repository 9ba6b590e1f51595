#!/usr/bin/env bash
# Bodies an attacker sends to hold the front door's event loops (60,000 top-level keys; hundreds of
# kilobytes to megabytes of JWT or AWS-key shapes against a blocking secrets guardrail): how long each is
# answered in, and the slowest answer another client gets meanwhile. Loopback only; builds release.
# Usage: Benchmarks/gateway/hostile.sh   (BASE_BIN=path/to/another/build/gatehouse measures it beside this one)
set -euo pipefail
[ -z "${BASE_BIN:-}" ] || BASE_BIN=$(realpath "$BASE_BIN")
cd "$(dirname "$0")/../.."
HERE=Benchmarks/gateway
swift build -c release --product gatehouse > /dev/null 2>&1
BIN=.build/release/gatehouse
source scripts/processes.sh
source "$HERE/gateways.sh"
FIXTURE=$(free_port)
"$BIN" fixture-model --listen "127.0.0.1:$FIXTURE" > /dev/null &
PIDS+=($!)
GUARDRAIL=$(cat <<'YAML'
guardrails:
  - name: no-secrets
    selector: all()
    detectors: [secrets]
    prompts: block
YAML
)
start_gatehouse hostile "$FIXTURE" --no-tls "$GUARDRAIL"
TARGETS=("gatehouse=http://127.0.0.1:$PORT")
if [ -n "${BASE_BIN:-}" ]; then
    start_gatehouse hostile-base "$FIXTURE" --no-tls "$GUARDRAIL" "$BASE_BIN"
    TARGETS+=("base=http://127.0.0.1:$PORT")
fi
GATEHOUSE_KEY=$(bench_key)
export GATEHOUSE_KEY
sleep 1.5 # the gateways load new keys within a second
echo "machine: $(nproc) cores; $(date -u +%Y-%m-%dT%H:%MZ)"
python3 "$HERE/hostile_bodies.py" "${TARGETS[@]}"
