#!/usr/bin/env bash
# The image, as far as it can be tested without a container engine. Builds gatehouse as
# deploy/Containerfile does (`swift build -c release --static-swift-stdlib`, cached outside the clone in
# $GATEHOUSE_BUILD_CACHE), strips it and prints its size; checks it needs no shared library beyond what
# the runtime image holds (distroless cc: glibc, libstdc++, libgcc_s; libsqlite3 and libz copied in by
# the Containerfile); then runs it in a chroot holding only those files, /proc, a passwd entry and the
# mounted files a pod would have, as user 65532 owning nothing but its data directory (a read-only root file system): `serve` with the
# ConfigMap's configuration from deploy/base (models pointed at the fixture), TLS from the Secret's
# files, the store in PostgreSQL over verified TLS; then /readyz, /metrics with the scrape token, a key
# made by the CLI inside the root, a chat completion, and SIGTERM with the 5 s shutdown delay.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/processes.sh
source scripts/postgres.sh

CACHE=${GATEHOUSE_BUILD_CACHE:-/var/cache/gatehouse-build}/static
FAILURES=0
[ -n "${GATEHOUSE_TEST_POSTGRES:-}" ] || start_postgres
check() { # check NAME EXPECTED ACTUAL
    if [ "$2" == "$3" ]; then echo "ok   $1"; else echo "FAIL $1: expected $2, got $3"; FAILURES=$((FAILURES + 1)); fi
}

echo "== swift build -c release --static-swift-stdlib (scratch path $CACHE)"
mkdir -p "$CACHE"
START=$(date +%s)
swift build -c release --static-swift-stdlib --product gatehouse --scratch-path "$CACHE" > "$WORK/build.log" 2>&1 ||
    { tail -30 "$WORK/build.log"; exit 1; }
echo "built in $(($(date +%s) - START)) s"
BUILT=$(swift build -c release --static-swift-stdlib --scratch-path "$CACHE" --show-bin-path)/gatehouse
ROOT=$WORK/root
mkdir -p "$ROOT"/{usr/local/bin,lib/x86_64-linux-gnu,lib64,usr/lib,proc,dev,tmp,etc/ssl/certs,var/lib/gatehouse}
strip -o "$ROOT/usr/local/bin/gatehouse" "$BUILT"
echo "figure: the static binary is $(du -m "$BUILT" | cut -f1) MiB, $(du -m "$ROOT/usr/local/bin/gatehouse" | cut -f1) MiB stripped"

echo "== shared libraries: only what the runtime image holds"
IMAGE_LIBRARIES="libc.so.6 libm.so.6 libstdc++.so.6 libgcc_s.so.1 libsqlite3.so.0 libz.so.1"
NEEDED=$(ldd "$BUILT" | awk '/=>/ {print $1}' | sort | tr '\n' ' ')
check "needs $NEEDED" "" "$(for library in $NEEDED; do [[ " $IMAGE_LIBRARIES " == *" $library "* ]] || echo -n "$library "; done)"
for library in $IMAGE_LIBRARIES; do cp -L "/lib/x86_64-linux-gnu/$library" "$ROOT/lib/x86_64-linux-gnu/"; done
cp -L /lib64/ld-linux-x86-64.so.2 "$ROOT/lib64/"
cp -L /etc/ssl/certs/ca-certificates.crt "$ROOT/etc/ssl/certs/"
echo "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin" > "$ROOT/etc/passwd"
echo "nonroot:x:65532:" > "$ROOT/etc/group"
# readOnlyRootFilesystem: the root, /tmp too, belongs to root and the process may write only its data
# directory (the emptyDir); a write anywhere else fails the serve below.
chown 65532:65532 "$ROOT/var/lib/gatehouse"
# What a container runtime always provides: /proc (the Swift runtime reads its arguments from
# /proc/self/cmdline) and the standard devices (Foundation's UUIDs read /dev/urandom).
mount -t proc proc "$ROOT/proc"
for device in "null 1 3" "zero 1 5" "random 1 8" "urandom 1 9"; do
    read -r name major minor <<< "$device"
    mknod -m 666 "$ROOT/dev/$name" c "$major" "$minor"
done
trap 'umount "$ROOT/proc" 2> /dev/null || true; cleanup; stop_postgres 2> /dev/null || true' EXIT

echo "== serve in the root, as user 65532, with the Deployment's configuration and Secrets"
export PGPASSWORD=$GATEHOUSE_TEST_POSTGRES_PASSWORD
DATABASE="static_$$"
psql -q "$GATEHOUSE_TEST_POSTGRES" -c "CREATE DATABASE $DATABASE"
mkdir -p "$ROOT"/etc/gatehouse/{config,tls,store,scrape}
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=gatehouse.gatehouse.svc \
    -addext subjectAltName=DNS:gatehouse.gatehouse.svc,IP:127.0.0.1 \
    -keyout "$ROOT/etc/gatehouse/tls/tls.key" -out "$ROOT/etc/gatehouse/tls/tls.crt" 2> /dev/null
cp "$GATEHOUSE_TEST_POSTGRES_CA" "$ROOT/etc/gatehouse/store/ca.crt"
printf '%s' "$GATEHOUSE_TEST_POSTGRES_PASSWORD" > "$ROOT/etc/gatehouse/store/password"
SCRAPE=$(openssl rand -hex 32)
printf '%s' "$SCRAPE" > "$ROOT/etc/gatehouse/scrape/token"
# As the Secret volumes mount them: defaultMode 0440, group 65532 (the pod's fsGroup).
chgrp -R 65532 "$ROOT"/etc/gatehouse/{tls,store,scrape}
chmod 0440 "$ROOT"/etc/gatehouse/{tls,store,scrape}/*
FIXTURE_PORT=$(free_port)
"$BUILT" fixture-model --listen "127.0.0.1:$FIXTURE_PORT" > /dev/null &
PIDS+=($!)
python3 - deploy/base/gatehouse.yaml "$FIXTURE_PORT" > "$ROOT/etc/gatehouse/config/gatehouse.yaml" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
# The ConfigMap's file as it is, but for its models: the fixture model instead of a vLLM Service.
models = f"models:\n  - name: fixture-small\n    upstreams:\n      - url: http://127.0.0.1:{sys.argv[2]}\n"
print(re.sub(r"(?ms)^models:\n.*?(?=^\S)", models, text), end="")
PY
grep -q "fixture-small" "$ROOT/etc/gatehouse/config/gatehouse.yaml"
DATA_PORT=$(free_port)
ADMIN_PORT=$(free_port)
# The pod's environment and nothing else, as user 65532, in the root.
IN_ROOT=(env -i "GATEHOUSE_STORE=${GATEHOUSE_TEST_POSTGRES%/*}/$DATABASE?sslmode=verify-full&sslrootcert=/etc/gatehouse/store/ca.crt"
    GATEHOUSE_STORE_PASSWORD_FILE=/etc/gatehouse/store/password
    "$(command -v chroot)" --userspec=65532:65532 "$ROOT" /usr/local/bin/gatehouse)
in_root() { "${IN_ROOT[@]}" "$@"; }
"${IN_ROOT[@]}" serve --config=/etc/gatehouse/config/gatehouse.yaml --data-dir=/var/lib/gatehouse \
    --listen "127.0.0.1:$DATA_PORT" --admin-listen "127.0.0.1:$ADMIN_PORT" > "$WORK/serve.out" 2> "$WORK/serve.log" &
SERVE=$!
PIDS+=("$SERVE")
wait_port "$ADMIN_PORT" || { cat "$WORK/serve.log"; exit 1; }
CA=$ROOT/etc/gatehouse/tls/tls.crt
check "/readyz" 200 "$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$CA" "https://127.0.0.1:$ADMIN_PORT/readyz")"
check "/metrics with the scrape token" 200 \
    "$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$CA" -H "Authorization: Bearer $SCRAPE" "https://127.0.0.1:$ADMIN_PORT/metrics")"
KEY=$(in_root keys create --name static -o json | python3 -c 'import json, sys; print(json.load(sys.stdin)["key"])')
sleep 0.5
check "a chat completion through the gateway in the root" 200 "$(curl -sS -o "$WORK/answer" -w '%{http_code}' --cacert "$CA" \
    "https://127.0.0.1:$DATA_PORT/v1/chat/completions" -H "Authorization: Bearer $KEY" \
    -d '{"model":"fixture-small","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}')"
check "its audit record, read by the CLI in the root" 1 "$(in_root audit list --identity static -o json |
    python3 -c 'import json, sys; print(sum(1 for i in json.load(sys.stdin)["items"] if i["record"]["status"] == 200))')"
kill -TERM "$SERVE"
START=$(date +%s.%N)
wait "$SERVE" && STATUS=0 || STATUS=$?
check "SIGTERM: stops cleanly after the shutdown delay" "0 1" \
    "$STATUS $(python3 -c "print(int(5 <= $(date +%s.%N) - $START < 15))")"

if [ "$FAILURES" -ne 0 ]; then
    echo "static: $FAILURES failure(s)"; cat "$WORK/serve.out"; tail -20 "$WORK/serve.log"; exit 1
fi
echo "static: every check passed"
