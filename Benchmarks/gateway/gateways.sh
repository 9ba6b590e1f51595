# Sourced by the gateway benchmarks after scripts/processes.sh, with BIN set to the build under test:
# gateways in front of a fixture model, sharing the data directory $WORK/data, and the key they accept.

start_gatehouse() { # start_gatehouse NAME FIXTURE-PORT TLS-FLAG EXTRA-YAML [BINARY] -> sets PORT, PID
    local name=$1 upstream=$2 tls=$3 extra=$4 binary=${5:-$BIN}
    cat > "$WORK/$name.yaml" <<YAML
models:
  - name: fixture-small
    labels: {size: small}
    upstreams: [{url: "http://127.0.0.1:$upstream"}]
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
