#!/usr/bin/env bash
# Trace test of the built binary: `gatehouse serve` exporting OTLP/HTTP spans to a real receiver that
# decodes them with PyPI's opentelemetry-proto (Tests/Traces/receiver.py, which also stands in for the
# model server and records the `traceparent` it is sent). Checks the GenAI attributes, the parent links,
# the context passed to the model server, sampling (the caller's flag, and the ratio), that no key or
# prompt is in any span unless captureContent is on, and that a bad endpoint is refused at load.
# Installs opentelemetry-proto into .build/traces-venv on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/processes.sh

BIN=${GATEHOUSE_BIN:-.build/debug/gatehouse}
VENV=.build/traces-venv
if ! "$VENV/bin/python" -c 'import opentelemetry.proto' 2> /dev/null; then
    echo "installing the opentelemetry-proto package into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet opentelemetry-proto
fi

FAILURES=0
check() { # check NAME EXPECTED ACTUAL
    if [ "$2" == "$3" ]; then echo "ok   $1"; else echo "FAIL $1: expected $2, got $3"; FAILURES=$((FAILURES + 1)); fi
}

RECEIVER=$(free_port)
"$VENV/bin/python" Tests/Traces/receiver.py "$RECEIVER" "$WORK/spans.jsonl" "$WORK/calls.jsonl" &
PIDS+=("$!")
wait_port "$RECEIVER"
touch "$WORK/spans.jsonl" "$WORK/calls.jsonl"

write_config() { # write_config SAMPLING CAPTURE PROMPTS
    cat > "$WORK/gatehouse.yaml" <<YAML
models:
  - name: traced
    labels: {size: small}
    upstreams: [{url: "http://127.0.0.1:$RECEIVER"}]
access:
  policies:
    - name: demo-team-only
      selector: team == 'demo'
      rules: [{action: Allow, models: {selector: "size == 'small'"}}]
guardrails:
  - name: personal-data
    selector: all()
    detectors: [email]
    prompts: $3
    answers: log
telemetry:
  otlp:
    endpoint: http://127.0.0.1:$RECEIVER
    sampling: $1
    captureContent: $2
    serviceName: gatehouse-ci
YAML
}
write_config 1 false log

"$BIN" serve -c "$WORK/gatehouse.yaml" --data-dir "$WORK/data" --no-tls \
    --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 > "$WORK/out" 2> "$WORK/log" &
SERVER=$!
PIDS+=("$SERVER")
for _ in $(seq 100); do grep -q "admin key" "$WORK/out" && break; sleep 0.2; done
if ! grep -q "admin key" "$WORK/out"; then
    echo "traces: gatehouse serve did not start"
    cat "$WORK/log"
    exit 1
fi
DATA=$(sed -n 's|.*data plane http://\([0-9.:]*\),.*|\1|p' "$WORK/out")
key() { "$BIN" keys create --data-dir "$WORK/data" --name "$1" --label "team=$2" -o json |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["key"])'; }
KEY=$(key ci demo)
OTHER=$(key outsider other)
sleep 0.5

# A prompt that must never be in a span unless content capture is on.
CANARY="canary-$(python3 -c 'import secrets; print(secrets.token_hex(8))')"
chat() { # chat KEY TRACEPARENT BODY [CURL-ARGS...]: prints the status
    local header=()
    [ -z "$2" ] || header=(-H "traceparent: $2")
    header+=("${@:4}")
    curl -s -o /dev/null -w '%{http_code}' "http://$DATA/v1/chat/completions" -H "Authorization: Bearer $1" \
        "${header[@]}" -d "$3"
}
# An e-mail address the guardrail finds (and logs): the finding is in the span, the address is not.
body() { # body STREAM
    printf '{"model":"traced","stream":%s,"max_tokens":33,"messages":[{"role":"user","content":"%s mail jane@example.com"}]}' \
        "$1" "$CANARY"
}
# Waits until the receiver holds at least $1 spans (the gateway exports every second).
wait_spans() { for _ in $(seq 50); do [ "$(wc -l < "$WORK/spans.jsonl")" -ge "$1" ] && return 0; sleep 0.2; done; }
# Python over the spans received: `spans` (a list), `by_trace(id)`, `calls` (traceparents the model got).
query() {
    python3 - "$WORK/spans.jsonl" "$WORK/calls.jsonl" "$1" <<'PY'
import json, sys
spans = [json.loads(line) for line in open(sys.argv[1])]
calls = [json.loads(line)["traceparent"] for line in open(sys.argv[2])]
states = [json.loads(line)["tracestate"] for line in open(sys.argv[2])]
def by_trace(trace):
    return {span["name"]: span for span in spans if span["trace_id"] == trace}
print(eval(sys.argv[3]))
PY
}

echo "== a caller's trace continued, with the GenAI attributes"
TRACE=4bf92f3577b34da6a3ce929d0e0e4736
PARENT=00f067aa0ba902b7
check "a chat with the caller's traceparent" 200 "$(chat "$KEY" "00-$TRACE-$PARENT-01" "$(body false)")"
wait_spans 5
check "spans: server, authentication, policy, guardrails, model server" \
    "['chat traced', 'chat upstream-model-v2', 'gatehouse.authenticate', 'gatehouse.guardrails', 'gatehouse.policy']" \
    "$(query "sorted(by_trace('$TRACE'))")"
check "the server span's parent is the caller's span, and it is a SERVER span" "$PARENT 2" \
    "$(query "' '.join([by_trace('$TRACE')['chat traced']['parent_span_id'], str(by_trace('$TRACE')['chat traced']['kind'])])")"
check "the children's parent is the server span" True \
    "$(query "all(s['parent_span_id'] == by_trace('$TRACE')['chat traced']['span_id'] for n, s in by_trace('$TRACE').items() if n != 'chat traced')")"
SERVER_ATTRIBUTES="{k: v for k, v in by_trace('$TRACE')['chat traced']['attributes'].items() if k.startswith('gen_ai.')}"
check "the GenAI attributes of the server span" \
    "{'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'traced', 'gen_ai.request.max_tokens': 33, 'gen_ai.response.model': 'upstream-model-v2', 'gen_ai.response.finish_reasons': ['stop'], 'gen_ai.usage.input_tokens': 7, 'gen_ai.usage.output_tokens': 5}" \
    "$(query "dict(sorted($SERVER_ATTRIBUTES.items(), key=lambda kv: ['gen_ai.operation.name', 'gen_ai.provider.name', 'gen_ai.request.model', 'gen_ai.request.max_tokens', 'gen_ai.response.model', 'gen_ai.response.finish_reasons', 'gen_ai.usage.input_tokens', 'gen_ai.usage.output_tokens'].index(kv[0])))")"
check "the model server call is a CLIENT span with the server's address and port" "3 127.0.0.1 $RECEIVER" \
    "$(query "' '.join(str(x) for x in [by_trace('$TRACE')['chat upstream-model-v2']['kind'], by_trace('$TRACE')['chat upstream-model-v2']['attributes']['server.address'], by_trace('$TRACE')['chat upstream-model-v2']['attributes']['server.port']])")"
check "the model server was sent this trace, naming the client span" \
    "00-$TRACE-$(query "by_trace('$TRACE')['chat upstream-model-v2']['span_id']")-01" "$(query "calls[0]")"
check "no tracestate is made up when the caller sent none" None "$(query "states[0]")"
check "a continued trace passes the caller's tracestate on" "200 congo=t61rcWkgMzE" \
    "$(chat "$KEY" "00-$TRACE-$PARENT-01" "$(body false)" -H "tracestate: congo=t61rcWkgMzE") $(query "states[-1]")"
check "two traceparent headers are not a context: a new trace" "200 True" \
    "$(chat "$KEY" "00-$TRACE-$PARENT-01" "$(body false)" -H "traceparent: 00-$TRACE-$PARENT-01") $(query "calls[-1].split('-')[1] != '$TRACE'")"
check "the policy span carries the policy trace" True \
    "$(query "'demo-team-only' in by_trace('$TRACE')['gatehouse.policy']['attributes']['gatehouse.policy.trace']")"
check "the guardrails span carries the finding (direction, detector, offset), not the address" \
    "['prompt:email@$(body false | python3 -c 'import sys; print(sys.stdin.read().index("jane@"))')']" \
    "$(query "by_trace('$TRACE')['gatehouse.guardrails']['attributes']['gatehouse.guardrail.findings']")"
check "the resource names the service and its version" "gatehouse-ci $("$BIN" --version)" \
    "$(query "' '.join([spans[0]['resource']['service.name'], spans[0]['resource']['service.version']])")"

echo "== a streamed chat starts its own trace; a refused one is an error span"
check "a streamed chat with no traceparent" 200 "$(chat "$KEY" "" "$(body true)")"
NEW=$(query "calls[3].split('-')[1]")
wait_spans 20
check "its finish reason and usage come from the stream" "['length'] 7 5" \
    "$(query "' '.join(str(by_trace('$NEW')['chat traced']['attributes'][k]) for k in ['gen_ai.response.finish_reasons', 'gen_ai.usage.input_tokens', 'gen_ai.usage.output_tokens'])")"
check "a new trace has no parent" "" "$(query "by_trace('$NEW')['chat traced']['parent_span_id']")"
DENIED=0af7651916cd43dd8448eb211c80319c
check "a caller the policy does not allow" 403 "$(chat "$OTHER" "00-$DENIED-b7ad6b7169203331-01" "$(body false)")"
wait_spans 23
check "the refused request: status ERROR, error.type, no model server span" \
    "2 model_access_denied 403 ['chat traced', 'gatehouse.authenticate', 'gatehouse.policy']" \
    "$(query "' '.join(str(x) for x in [by_trace('$DENIED')['chat traced']['status']['code'], by_trace('$DENIED')['chat traced']['attributes']['error.type'], by_trace('$DENIED')['chat traced']['attributes']['http.response.status_code'], sorted(by_trace('$DENIED'))])")"

echo "== sampling"
UNSAMPLED=11112222333344445555666677778888
check "a caller's unsampled traceparent" 200 "$(chat "$KEY" "00-$UNSAMPLED-1111222233334444-00" "$(body false)")"
sleep 2.5
check "its trace is passed on to the model server, still unsampled" "$UNSAMPLED 00" \
    "$(query "' '.join(calls[-1].split('-')[i] for i in [1, 3])")"
check "and no span of it is exported" 0 "$(query "len(by_trace('$UNSAMPLED'))")"
check "an invalid traceparent (upper-case hex) is ignored: a new trace" 200 \
    "$(chat "$KEY" "00-ABCDEF0123456789ABCDEF0123456789-1111222233334444-01" "$(body false)")"
check "the model server is sent the new trace, not the invalid one" True \
    "$(query "calls[-1].split('-')[1] != 'abcdef0123456789abcdef0123456789' and calls[-1].split('-')[1] != 'ABCDEF0123456789ABCDEF0123456789'")"

echo "== no secret or prompt in any span"
wait_spans 28
check "no API key, prompt, e-mail address or Authorization value in the spans" 0 \
    "$(grep -c -e "$KEY" -e "$OTHER" -e "$CANARY" -e jane@ -e Bearer "$WORK/spans.jsonl" || true)"

echo "== reload: sampling 0, captureContent on, prompts redacted"
write_config 0 true redact
kill -HUP "$SERVER"
sleep 1.5
BEFORE=$(wc -l < "$WORK/spans.jsonl")
check "a chat with no traceparent at sampling 0" 200 "$(chat "$KEY" "" "$(body false)")"
SAMPLED=0123456789abcdef0123456789abcdef
check "a chat whose caller samples it" 200 "$(chat "$KEY" "00-$SAMPLED-0123456789abcdef-01" "$(body false)")"
wait_spans $((BEFORE + 5))
sleep 1.5
check "only the caller's sampled trace is exported" "5 5" \
    "$(query "' '.join(str(x) for x in [len(spans) - $BEFORE, len(by_trace('$SAMPLED'))])")"
check "with captureContent the request's messages are in the server span, as forwarded (redacted)" "True False" \
    "$(query "' '.join(str(x) for x in ['$CANARY' in by_trace('$SAMPLED')['chat traced']['attributes']['gen_ai.input.messages'], 'jane@' in by_trace('$SAMPLED')['chat traced']['attributes']['gen_ai.input.messages']])")"
check "still no API key in any span" 0 "$(grep -c -e "$KEY" -e Bearer "$WORK/spans.jsonl" || true)"

echo "== a bad endpoint is refused with its line"
printf 'telemetry:\n  otlp:\n    endpoint: ftp://collector:4318\n' > "$WORK/bad.yaml"
CODE=0
"$BIN" serve -c "$WORK/bad.yaml" --data-dir "$WORK/bad" --no-tls --listen 127.0.0.1:0 \
    --admin-listen 127.0.0.1:0 > /dev/null 2> "$WORK/bad.log" || CODE=$?
check "serve exits 2 naming bad.yaml:3 and the field" "2 1" \
    "$CODE $(grep -c 'bad.yaml:3.*telemetry.otlp.endpoint' "$WORK/bad.log")"

echo "== SIGTERM"
LAST=fedcba9876543210fedcba9876543210
check "a chat just before SIGTERM" 200 "$(chat "$KEY" "00-$LAST-0123456789abcdef-01" "$(body false)")"
kill -TERM "$SERVER"
CODE=0
wait "$SERVER" || CODE=$?
check "graceful shutdown exits 0, its last request's spans exported" "0 5" "$CODE $(query "len(by_trace('$LAST'))")"

if [ "$FAILURES" -gt 0 ]; then
    echo "traces: $FAILURES failed"
    tail -20 "$WORK/log"
    exit 1
fi
echo "traces: all passed"
