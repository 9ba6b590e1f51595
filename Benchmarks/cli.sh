#!/usr/bin/env bash
# End-to-end timing of the command line on the synthetic cluster (2,000 pods, 100 namespaces, 1,000
# policies): release build, pinned to one core when taskset exists, N runs; prints each run and the median
# wall time and peak RSS. Usage: Benchmarks/cli.sh [RUNS]   (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
swift build -c release --product gatehouse >/dev/null
swift build -c release --package-path Benchmarks --product gatehouse-synth >/dev/null
cluster=$(mktemp -d)
trap 'rm -rf "$cluster"' EXIT
Benchmarks/.build/release/gatehouse-synth "$cluster"
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 2; }

measure() {  # label, then the command; each run pinned to one core with taskset when available
    local label=$1; shift
    local pin=(); command -v taskset >/dev/null && pin=(taskset -c 0)
    local times=() memories=()
    for _ in $(seq "$runs"); do
        local out; out=$( { /usr/bin/time -f '%e %M' "${pin[@]}" "$@" >/dev/null || true; } 2>&1 | tail -n 1)
        times+=("${out% *}"); memories+=("${out#* }")
    done
    local median_time median_memory
    median_time=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")
    median_memory=$(printf '%s\n' "${memories[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")
    echo "$label: runs ${times[*]} s; median ${median_time} s, peak RSS median $((median_memory / 1024)) MB"
}

measure "matrix TCP/8080, JSON (4,000,000 pairs)" .build/release/gatehouse policy matrix -f "$cluster" --port 8080 -o json
measure "matrix TCP/8080, table" .build/release/gatehouse policy matrix -f "$cluster" --port 8080
echo "matrix JSON size: $(.build/release/gatehouse policy matrix -f "$cluster" --port 8080 -o json | wc -c) bytes"
measure "explain one flow (load, compile, decide)" .build/release/gatehouse policy explain -f "$cluster" \
    --from ns-1/api-1 --to ns-1/model-2 --port 8080
measure "lint (staged-would-deny over 100 staged policies included)" .build/release/gatehouse policy lint -f "$cluster"
