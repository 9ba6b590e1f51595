#!/usr/bin/env bash
# Integration test of the built `gatehouse` binary as users run it: `gatehouse serve` in front of the
# fixture model, driven by the official `openai` Python package and by curl over TLS and mTLS, with the
# keys CLI and admin API while it runs, a SIGHUP reload (good and bad file) and a SIGTERM shutdown; then
# the audit trail and spend commands, and a gateway killed (-9) in the middle of a metered stream.
# Installs the `openai` package from PyPI into .build/integration-venv on first use.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${GATEHOUSE_BIN:-.build/debug/gatehouse}
VENV=.build/integration-venv
if ! "$VENV/bin/python" -c 'import openai' 2>/dev/null; then
    echo "installing the openai package into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet openai
fi

WORK=$(mktemp -d)
SERVER=""
cleanup() {
    if [ -n "$SERVER" ] && kill -0 "$SERVER" 2>/dev/null; then kill -TERM "$SERVER"; wait "$SERVER" || true; fi
    [ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

FAILURES=0
check() { # check NAME EXPECTED ACTUAL
    if [ "$2" == "$3" ]; then echo "ok   $1"; else echo "FAIL $1: expected $2, got $3"; FAILURES=$((FAILURES + 1)); fi
}

# A CA and a client certificate for rag-api in namespace ai, as a SPIFFE ID.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=gatehouse-ci-ca \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=keyCertSign \
    -keyout "$WORK/ca.key" -out "$WORK/ca.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=rag-api \
    -keyout "$WORK/client.key" -out "$WORK/client.csr" 2>/dev/null
printf 'subjectAltName=URI:spiffe://cluster.local/ns/ai/sa/rag-api\nextendedKeyUsage=clientAuth\n' > "$WORK/client.ext"
openssl x509 -req -in "$WORK/client.csr" -CA "$WORK/ca.crt" -CAkey "$WORK/ca.key" -CAcreateserial -days 1 \
    -extfile "$WORK/client.ext" -out "$WORK/client.crt" 2>/dev/null

write_config() { # write_config ACTION-FOR-DEMO
    cat > "$WORK/gatehouse.yaml" <<YAML
tls:
  clientCA: $WORK/ca.crt
  clientCertificates: optional
authentication:
  clientCertificates:
    - san: spiffe://cluster.local/ns/ai/sa/*
      labels: {namespace: ai}
access:
  policies:
    - name: demo-small-models
      order: 10
      selector: team == 'demo'
      rules:
        - action: $1
          models: {selector: "size in {'small', 'embedding'}"}
    - name: ai-namespace-any-model
      order: 20
      selector: namespace == 'ai'
      rules: [{action: Allow}]
YAML
}
write_config Allow

"$BIN" serve -c "$WORK/gatehouse.yaml" --data-dir "$WORK/data" --upstream fixture \
    --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 > "$WORK/out" 2> "$WORK/log" &
SERVER=$!
for _ in $(seq 100); do grep -q "admin key" "$WORK/out" && break; sleep 0.2; done
cat "$WORK/out"
if ! grep -q "admin key" "$WORK/out"; then
    echo "integration: gatehouse serve did not start"
    cat "$WORK/log"
    exit 1
fi
DATA=$(sed -n 's|.*data plane https://\([0-9.:]*\),.*|\1|p' "$WORK/out")
ADMIN=$(sed -n 's|.*admin API https://\([0-9.:]*\)$|\1|p' "$WORK/out")
ADMIN_KEY=$(sed -n 's|^admin key.*: \(gha_[A-Za-z0-9_]*\)$|\1|p' "$WORK/out")
CA="$WORK/data/tls/server.crt"
KEY=$("$BIN" keys create --data-dir "$WORK/data" --name ci --label team=demo -o json |
    "$VENV/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["key"])')
sleep 0.5

echo "== openai package"
GATEHOUSE_BASE="https://$DATA/v1" GATEHOUSE_KEY="$KEY" GATEHOUSE_CA="$CA" \
    "$VENV/bin/python" Tests/Integration/openai_client.py || FAILURES=$((FAILURES + 1))

echo "== curl over TLS and mTLS"
status() { curl -s -o /dev/null -w '%{http_code}' --cacert "$CA" "$@"; }
CHAT_LARGE='{"model":"fixture-large","messages":[{"role":"user","content":"hi"}]}'
check "TLS verified against the printed certificate, API key" 200 \
    "$(status "https://$DATA/v1/models" -H "Authorization: Bearer $KEY")"
check "mTLS client certificate is an identity (namespace ai may use the large model)" 200 \
    "$(status --cert "$WORK/client.crt" --key "$WORK/client.key" "https://$DATA/v1/chat/completions" -d "$CHAT_LARGE")"
check "no certificate and no key" 401 "$(status "https://$DATA/v1/chat/completions" -d "$CHAT_LARGE")"
check "the API key may not use the large model" 403 \
    "$(status "https://$DATA/v1/chat/completions" -H "Authorization: Bearer $KEY" -d "$CHAT_LARGE")"
check "streaming through curl" "data: [DONE]" "$(curl -sN --cacert "$CA" "https://$DATA/v1/chat/completions" \
    -H "Authorization: Bearer $KEY" -d '{"model":"fixture-small","stream":true,"messages":[]}' | grep -o 'data: \[DONE\]')"

echo "== admin API and keys CLI while serving"
check "admin API creates a key" 201 "$(status "https://$ADMIN/v1/keys" -H "Authorization: Bearer $ADMIN_KEY" \
    -d '{"name":"from-admin-api","labels":{"team":"demo"}}')"
check "the data plane does not serve the admin API" 404 \
    "$(status "https://$DATA/v1/keys" -H "Authorization: Bearer $ADMIN_KEY")"
"$BIN" keys revoke --data-dir "$WORK/data" ci > /dev/null
sleep 1
check "a key revoked by the CLI stops working within a second" 401 \
    "$(status "https://$DATA/v1/models" -H "Authorization: Bearer $KEY")"
KEY=$("$BIN" keys create --data-dir "$WORK/data" --name ci2 --label team=demo -o json |
    "$VENV/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["key"])')
sleep 1
CHAT_SMALL='{"model":"fixture-small","messages":[{"role":"user","content":"hi"}]}'
check "a new key works without a restart" 200 \
    "$(status "https://$DATA/v1/chat/completions" -H "Authorization: Bearer $KEY" -d "$CHAT_SMALL")"

echo "== reload on SIGHUP"
write_config Deny
kill -HUP "$SERVER"
sleep 1.5
check "the reloaded policy denies" 403 \
    "$(status "https://$DATA/v1/chat/completions" -H "Authorization: Bearer $KEY" -d "$CHAT_SMALL")"
printf 'access:\n  policies:\n    - name: broken\n      selector: team ==\n' > "$WORK/gatehouse.yaml"
kill -HUP "$SERVER"
sleep 1.5
check "an invalid file is refused and logged with its line" 1 "$(grep -c 'gatehouse.yaml:4:' "$WORK/log" | head -1 | sed 's/^[1-9][0-9]*$/1/')"
check "the last good configuration stays in force" 403 \
    "$(status "https://$DATA/v1/chat/completions" -H "Authorization: Bearer $KEY" -d "$CHAT_SMALL")"

echo "== secrets never in the log"
check "no API key, admin key, client or server private key text in the log" 0 \
    "$(grep -c -e "$KEY" -e "$ADMIN_KEY" -e "$(sed -n 2p "$WORK/client.key")" -e "$(sed -n 2p "$WORK/data/tls/server.key")" "$WORK/log" || true)"

echo "== SIGTERM"
kill -TERM "$SERVER"
CODE=0
wait "$SERVER" || CODE=$?
SERVER=""
check "graceful shutdown exits 0" 0 "$CODE"

echo "== audit trail and spend from the command line"
check "every request left a record and the chain verifies" 0 \
    "$("$BIN" audit verify --data-dir "$WORK/data" > "$WORK/verify" && echo 0 || echo 1)"
check "denied requests are listed" 1 \
    "$("$BIN" audit list --data-dir "$WORK/data" --decision deny -o json | "$VENV/bin/python" -c \
        'import json, sys; items = json.load(sys.stdin)["items"]; print(int(len(items) > 0 and all(i["record"]["decision"] == "deny" for i in items)))')"
check "usage by identity" 1 "$("$BIN" usage --data-dir "$WORK/data" | grep -c '^ci2 ')"

echo "== kill -9 during a streamed answer: the budget hold is charged at the next start"
"$BIN" fixture-model --listen 127.0.0.1:0 --event-interval-ms 500 > "$WORK/slow.out" &
SLOW=$!
for _ in $(seq 50); do grep -q "http://" "$WORK/slow.out" && break; sleep 0.1; done
SLOW_URL=$(grep -o 'http://[0-9.:]*' "$WORK/slow.out" | head -1)
cat > "$WORK/spend.yaml" <<YAML
models:
  - name: fixture-small
    price: {input: "1", output: "2"}
    upstreams: [{url: "$SLOW_URL"}]
access:
  policies:
    - {name: everyone, selector: all(), rules: [{action: Allow}]}
YAML
start_spend_server() {
    "$BIN" serve -c "$WORK/spend.yaml" --data-dir "$WORK/spend" --no-tls --listen 127.0.0.1:0 \
        --admin-listen 127.0.0.1:0 > "$WORK/spend.out" 2> "$WORK/spend.log" &
    SERVER=$!
    for _ in $(seq 100); do grep -q "data plane" "$WORK/spend.out" && break; sleep 0.1; done
    SPEND=$(sed -n 's|.*data plane http://\([0-9.:]*\),.*|\1|p' "$WORK/spend.out")
}
start_spend_server
BUDGET_KEY=$("$BIN" keys create --data-dir "$WORK/spend" --name metered --budget-usd 1 --budget-period day -o json |
    "$VENV/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["key"])')
sleep 1
curl -sN "http://$SPEND/v1/chat/completions" -H "Authorization: Bearer $BUDGET_KEY" \
    -d '{"model":"fixture-small","stream":true,"max_tokens":10,"messages":[{"role":"user","content":"hi"}]}' \
    > /dev/null 2>&1 &
CURL=$!
sleep 1.5
kill -KILL "$SERVER"
wait "$SERVER" 2> /dev/null || true
wait "$CURL" 2> /dev/null || true
budget_field() { "$BIN" budgets --data-dir "$WORK/spend" -o json | "$VENV/bin/python" -c \
    "import json, sys; print(json.load(sys.stdin)['items'][0]['$1'])"; }
HELD=$(budget_field reserved)
check "the killed gateway left its hold in the store" 1 "$([ "$HELD" != "0" ] && echo 1 || echo 0)"
start_spend_server
check "the next start charged it at the amount held" "0 $HELD" "$(budget_field reserved) $(budget_field spent)"
check "and recorded why" 1 "$("$BIN" audit list --data-dir "$WORK/spend" -o json | grep -c 'unsettled_hold_charged')"
check "the chain still verifies" 0 "$("$BIN" audit verify --data-dir "$WORK/spend" > /dev/null && echo 0 || echo 1)"
kill -TERM "$SERVER"
wait "$SERVER" || true
SERVER=""
kill -TERM "$SLOW"
wait "$SLOW" || true

if [ "$FAILURES" -ne 0 ]; then
    echo "integration: $FAILURES failure(s); server log:"
    tail -n 30 "$WORK/log"
    exit 1
fi
echo "integration: all passed"
