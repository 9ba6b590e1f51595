# Sourced by the gateway benchmarks after scripts/processes.sh, with BIN set to the build under test:
# gateways in front of a fixture model (and, with NEUTRAL set to its port, a second model `neutral` in front
# of the neutral upstream that start_neutral starts), sharing the data directory $WORK/data, the key they
# accept, and ALL_CHECKS, the configuration with every check on.

# The neutral upstream: Envoy answering every chat completion itself (neutral.yaml.template), in its own
# process with its own base id, so its CPU is never counted as a proxy's. Sets NEUTRAL to its port.
start_neutral() { # start_neutral ENVOY-BINARY
    NEUTRAL=$(free_port)
    sed -e "s/\bNEUTRAL_PORT\b/$NEUTRAL/" -e "s/\bNEUTRAL_ADMIN_PORT\b/$(free_port)/" \
        "$(dirname "${BASH_SOURCE[0]}")/neutral.yaml.template" > "$WORK/neutral.yaml"
    "$1" -c "$WORK/neutral.yaml" --base-id 17 --log-level error > "$WORK/neutral.log" 2>&1 &
    PIDS+=($!)
    wait_port "$NEUTRAL"
}

# Envoy as the plain proxy the gateway is compared with (envoy.yaml.template): ENVOY, its port in front of
# the neutral upstream, ENVOY_FIXTURE, its port in front of the fixture model at FIXTURE-PORT, and ENVOY_PID.
start_envoy() { # start_envoy ENVOY-BINARY FIXTURE-PORT
    ENVOY=$(free_port)
    ENVOY_FIXTURE=$(free_port)
    sed -e "s/\bENVOY_PORT\b/$ENVOY/" -e "s/\bENVOY_FIXTURE_PORT\b/$ENVOY_FIXTURE/" -e "s/\bFIXTURE_PORT\b/$2/" \
        -e "s/\bNEUTRAL_PORT\b/$NEUTRAL/" -e "s/\bENVOY_ADMIN_PORT\b/$(free_port)/" \
        "$(dirname "${BASH_SOURCE[0]}")/envoy.yaml.template" > "$WORK/envoy.yaml"
    "$1" -c "$WORK/envoy.yaml" --log-level error > "$WORK/envoy.log" 2>&1 &
    ENVOY_PID=$!
    PIDS+=("$ENVOY_PID")
    wait_port "$ENVOY"
}

start_gatehouse() { # start_gatehouse NAME FIXTURE-PORT TLS-FLAG EXTRA-YAML [BINARY] -> sets PORT, PID
    local name=$1 upstream=$2 tls=$3 extra=$4 binary=${5:-$BIN}
    cat > "$WORK/$name.yaml" <<YAML
models:
  - name: fixture-small
    labels: {size: small}
    upstreams: [{url: "http://127.0.0.1:$upstream"}]
$([ -z "${NEUTRAL:-}" ] || printf '  - name: neutral\n    labels: {size: small}\n    upstreams: [{url: "http://127.0.0.1:%s"}]' "$NEUTRAL")
access:
  policies:
    - name: bench-small
      selector: team == 'bench'
      rules:
        - action: Allow
          models: {selector: size == 'small'}
$extra
YAML
    PORT=$(free_port)
    "$binary" serve -c "$WORK/$name.yaml" --data-dir "$WORK/data" "$tls" --listen "127.0.0.1:$PORT" \
        --admin-listen "127.0.0.1:$(free_port)" > "$WORK/$name.out" 2> "$WORK/$name.log" &
    PID=$!
    PIDS+=("$PID")
    wait_port "$PORT"
}

# A key for the callers the benchmark gateways allow (label team=bench), printed.
bench_key() {
    "$BIN" keys create --data-dir "$WORK/data" --name bench --label team=bench -o json |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["key"])'
}

# Every check on: authentication, head checks, body scan, policy decision and log line, plus a quota with
# rates, concurrency, caps and a budget (reserved and settled in the store per request), guardrails with
# every detector on prompts (block) and answers (redact), and an audit record per request.
ALL_CHECKS=$(cat <<'YAML'
prices:
  default: {input: "0.15", output: "0.60"}
quotas:
  - name: bench
    selector: team == 'bench'
    requestsPerMinute: 100000000
    tokensPerMinute: 1000000000
    maxConcurrent: 10000
    maxTokens: 4096
    maxMessages: 100
    budget: {usd: "1000000", period: month}
guardrails:
  - name: everything
    selector: all()
    detectors: [secrets, personal-data, prompt-injection]
    prompts: block
    answers: redact
YAML
)
