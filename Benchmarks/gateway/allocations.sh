#!/usr/bin/env bash
# Heap allocations per request at the front door: `malloc` calls (a uprobe on libc's, counted by
# `perf stat`) in the gateway process while wrk sends it non-streaming chats (c=16, run.sh's neutral
# upstream), divided by the requests served; with issue 3's checks and with every check on, for this build
# and, given, others side by side. The probe slows every allocation, so requests/s here mean nothing.
# Needs perf, root (the probe), and run.sh once before (wrk, Envoy, the release build).
# Usage: Benchmarks/gateway/allocations.sh [OTHER-BUILD/gatehouse ...] [SECONDS=5]
set -euo pipefail
BINARIES=()
for binary in "$@"; do BINARIES+=("$(realpath "$binary")"); done
cd "$(dirname "$0")/../.."
BIN=.build/release/gatehouse
BINARIES=("$(realpath "$BIN")" ${BINARIES[@]+"${BINARIES[@]}"})
source scripts/processes.sh
source Benchmarks/gateway/gateways.sh
LIBC=$(ldd "$BIN" | awk '$1 ~ /^libc\.so/ {print $3}')
perf probe -q -x "$LIBC" malloc 2> /dev/null || true
EVENT=$(perf probe -l 2> /dev/null | awk '/malloc/ {print $1; exit}')
[ -n "$EVENT" ] || { echo "no malloc probe on $LIBC" >&2; exit 1; }
trap 'perf probe -q -d "$EVENT" 2> /dev/null || true; cleanup' EXIT

start_neutral .build/bench-venv/bin/envoy
GATEHOUSE_KEY=$(bench_key)
export GATEHOUSE_KEY BENCH_MODEL=neutral
echo "| build | checks | requests | allocations/request |"
echo "|---|---|---|---|"
for binary in "${BINARIES[@]}"; do
    for checks in "issue 3's" every; do
        extra="audit: {enabled: false}"
        [ "$checks" = "issue 3's" ] || extra=$ALL_CHECKS
        start_gatehouse "allocations-$(date +%s%N)" "$NEUTRAL" --no-tls "$extra" "$binary"
        sleep 1.5 # the gateway loads the key within a second
        url="http://127.0.0.1:$PORT/v1/chat/completions"
        wrk -t1 -c16 -d2s -s Benchmarks/gateway/post.lua "$url" > /dev/null
        perf stat -x, -e "$EVENT" -p "$PID" -o "$WORK/stat" -- sleep "${SECONDS_PER_RUN:-5}" &
        counter=$!
        requests=$(wrk -t1 -c16 -d"${SECONDS_PER_RUN:-5}s" -s Benchmarks/gateway/post.lua "$url" |
            awk '/requests in/ {print $1}')
        wait "$counter"
        calls=$(awk -F, '/probe_libc/ {print $1}' "$WORK/stat")
        echo "| $binary | $checks | $requests | $(awk -v c="$calls" -v r="$requests" 'BEGIN {printf "%.1f", c / r}') |"
        kill "$PID"
        wait "$PID" 2> /dev/null || true
    done
done
