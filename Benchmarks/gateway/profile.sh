#!/usr/bin/env bash
# Where the every-check gateway spends its CPU: `perf record` on the gateway while wrk loads it (c=16,
# non-streaming chats, the neutral upstream of run.sh), then the hottest symbols. With BASE_BIN set to
# another build's gatehouse, that build is loaded and recorded the same way in turn, so two builds'
# profiles come from the same rounds. Needs perf, and run.sh once before (wrk, Envoy, the release build).
# Usage: [BASE_BIN=path/to/gatehouse] Benchmarks/gateway/profile.sh [ROUNDS] [SECONDS]   (defaults 2 8)
set -euo pipefail
[ -z "${BASE_BIN:-}" ] || BASE_BIN=$(realpath "$BASE_BIN")
cd "$(dirname "$0")/../.."
ROUNDS=${1:-2}
SECONDS_PER_RUN=${2:-8}
HERE=Benchmarks/gateway
VENV=.build/bench-venv
BIN=.build/release/gatehouse
source scripts/processes.sh

source "$HERE/gateways.sh"
start_neutral "$VENV/bin/envoy"
TARGETS=()
start_gatehouse this "$NEUTRAL" --no-tls "$ALL_CHECKS"
TARGETS+=("this $PORT $PID")
if [ -n "${BASE_BIN:-}" ]; then
    start_gatehouse base "$NEUTRAL" --no-tls "$ALL_CHECKS" "$BASE_BIN"
    TARGETS+=("base $PORT $PID")
fi
export GATEHOUSE_KEY BENCH_MODEL=neutral
GATEHOUSE_KEY=$(bench_key)

for round in $(seq "$ROUNDS"); do
    for target in "${TARGETS[@]}"; do
        read -r name port pid <<< "$target"
        perf record -F 2000 -g -o "$WORK/$name-$round.perf" -p "$pid" -- sleep "$SECONDS_PER_RUN" > /dev/null 2>&1 &
        recorder=$!
        rate=$(wrk -t1 -c16 -d"${SECONDS_PER_RUN}s" -s "$HERE/post.lua" "http://127.0.0.1:$port/v1/chat/completions" |
            awk '/Requests\/sec/ {print $2}')
        wait "$recorder" || true
        perf report -i "$WORK/$name-$round.perf" --no-children --sort symbol --stdio 2> /dev/null |
            grep -E '^ +[0-9.]+%' > "$WORK/$name-$round.txt" || true
        echo "### $name, round $round: $rate requests/s; swift_retain and swift_release together" \
            "$(awk '$3 == "swift_retain" || $3 == "swift_release" { sum += $1 } END { printf "%.2f%%", sum }' \
                "$WORK/$name-$round.txt") of the samples; the hottest symbols (self time):"
        awk 'NR <= 25 { printf "%8s %s\n", $1, substr($3, 1, 150) }' "$WORK/$name-$round.txt"
    done
done
