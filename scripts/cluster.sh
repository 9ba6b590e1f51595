#!/usr/bin/env bash
# The policy commands against a live cluster: a real kube-apiserver 1.20 with etcd (../shared/k8s/apiserver.sh,
# built once into a cache outside the clone), objects created over its API as a user would (Tests/Cluster/fixture.py;
# with no kubelet there, the fixture sets each pod's address through the status subresource).
#   - kinds the cluster does not serve are skipped with a note; with the CRDs installed, Calico's v3 API is read;
#   - `policy matrix|explain|lint|diff --cluster`, `flows import --cluster` and `policy recommend --cluster` give
#     exactly what they give with -f over `kubectl get -o yaml` of the same objects, whole and page by page;
#   - the answers differ from the example files in one place only: the 1.20 server drops `endPort`;
#   - a service account that RBAC forbids one kind, a revoked token, a closed port and an unknown CA: clear
#     errors, exit 2, no token printed;
#   - `policy watch` follows changes, resumes watches the server ends, and lists again after the API server
#     restarts and answers 410 Gone;
#   - `blueprint` and `blueprint apply`, `policy apply`: proved, applied staged, promoted, read back;
#   - Calico's crd.projectcalico.org/v1 resources are read when the v3 API is not served;
#   - 2,000 pods in 10 namespaces, listed 500 at a time: every pod counted, time and memory printed.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/processes.sh

BIN=$(realpath "${GATEHOUSE_BIN:-.build/debug/gatehouse}")
# The figures at the end are measured with a release build when one is given (test.sh passes static.sh's).
FIGURE_BIN=$(realpath "${GATEHOUSE_RELEASE_BIN:-$BIN}")
K8S=$(realpath ../shared/k8s/apiserver.sh)
export GK8S_DIR=${GK8S_DIR:-${TMPDIR:-/tmp}/gatehouse-k8s}
FAILURES=0
fail() { echo "FAIL $*"; FAILURES=$((FAILURES + 1)); }
ok() { echo "ok   $*"; }

k8s_tools "$K8S"
PYTHON=$GK8S_DIR/venv/bin/python   # has PyYAML, a dependency of kubernetes-validate
bash "$K8S" build > "$WORK/apiserver-build.log" 2>&1 || { tail -20 "$WORK/apiserver-build.log"; exit 1; }
trap 'bash "$K8S" stop > /dev/null 2>&1 || true; cleanup' EXIT
# A fresh etcd: namespaces cannot be deleted here (no controller manager), so no state is reused.
bash "$K8S" stop > /dev/null 2>&1 || true
STARTED=$(bash "$K8S" start 2> "$WORK/apiserver-start.log") || { tail -20 "$WORK/apiserver-start.log"; exit 1; }
eval "$(grep '^export' <<< "$STARTED")"
# Never the user's own cluster: everything below talks to the server just started.
[[ "${KUBECONFIG:-}" == "$GK8S_DIR"/* ]] || { echo "cluster: the test API server did not start"; exit 1; }
gatehouse() { "$BIN" "$@"; }

# expect STATUS NAME COMMAND...: the command exits with STATUS; its output is kept in $WORK/NAME.{out,err}.
expect() {
    local want=$1 name=$2; shift 2
    local status=0
    "$@" > "$WORK/$name.out" 2> "$WORK/$name.err" || status=$?
    if [ "$status" != "$want" ]; then
        fail "$name: exit $status, expected $want"; head -5 "$WORK/$name.err"; return 1
    fi
}

echo "== kinds the cluster does not serve"
expect 0 bare gatehouse policy matrix --cluster &&
    grep -q '^note: projectcalico.org/v3 or crd.projectcalico.org/v1 is not served by this cluster: Tier, NetworkPolicy' "$WORK/bare.err" &&
    grep -q '^note: policy.networking.k8s.io/v1beta1 or policy.networking.k8s.io/v1alpha2 is not served by this cluster: ClusterNetworkPolicy skipped' "$WORK/bare.err" &&
    ok "skipped with a note: $(grep -c '^note:' "$WORK/bare.err") notes" || fail "notes: $(cat "$WORK/bare.err")"

echo "== the example cluster, created over the API"
bash "$K8S" crds > /dev/null
"$PYTHON" Tests/Cluster/fixture.py create examples/ai-namespace/*.yaml
KINDS=namespaces,pods,serviceaccounts,services,endpointslices.discovery.k8s.io,networkpolicies.networking.k8s.io
for kind in tiers networkpolicies globalnetworkpolicies stagednetworkpolicies stagedglobalnetworkpolicies \
    stagedkubernetesnetworkpolicies networksets globalnetworksets; do
    KINDS+=",$kind.projectcalico.org"
done
KINDS+=",clusternetworkpolicies.policy.networking.k8s.io,adminnetworkpolicies.policy.networking.k8s.io"
KINDS+=",baselineadminnetworkpolicies.policy.networking.k8s.io"
kubectl get "$KINDS" -A -o yaml > "$WORK/kubectl-get.yaml"
expect 0 v3 gatehouse policy matrix --cluster && ! grep -q projectcalico "$WORK/v3.err" &&
    ok "Calico's v3 API is read when served (no note)" || fail "v3: $(cat "$WORK/v3.err")"

# same NAME ARGS...: `gatehouse ARGS --cluster` (whole lists, then 2 objects a page) answers as `-f kubectl get`.
same() {
    local name=$1; shift
    local a b c
    a=$("$BIN" "$@" --cluster 2>&1; echo "exit $?")
    b=$("$BIN" "$@" --cluster --chunk-size 2 2>&1; echo "exit $?")
    c=$("$BIN" "$@" -f "$WORK/kubectl-get.yaml" 2>&1 | sed "s|$WORK/kubectl-get.yaml:[0-9]*|SOURCE|g"; echo "exit $?")
    a=$(sed -E 's|k8s://[^ )]*|SOURCE|g' <<< "$a")
    b=$(sed -E 's|k8s://[^ )]*|SOURCE|g' <<< "$b")
    if [ "$a" == "$c" ] && [ "$b" == "$c" ]; then
        ok "$name: --cluster answers as -f over kubectl get ($(wc -l <<< "$a") lines, $(tail -1 <<< "$a"))"
    else
        fail "$name: --cluster and -f differ"; diff <(echo "$a") <(echo "$c") | head -10
    fi
}
same "policy matrix" policy matrix -o json
same "policy matrix --staged" policy matrix --staged
same "policy explain" policy explain --from ai/rag-api --to ai/vllm-0 --port 8000
same "policy explain (denied)" policy explain --from web/frontend --to ai/vllm-0 --port 8000
same "policy lint" policy lint -o json
same "policy diff" policy diff --against examples/ai-namespace-proposed examples/ai-namespace/calico.yaml \
    examples/ai-namespace/admin.yaml -o json
expect 0 diff-live gatehouse policy diff --cluster --against k8s://gatehouse-test &&
    grep -q "^0 change(s) in" "$WORK/diff-live.out" &&
    ok "policy diff between two live states (the same cluster, twice): $(tail -1 "$WORK/diff-live.out")" ||
    fail "diff live: $(cat "$WORK/diff-live.out" "$WORK/diff-live.err")"
# The example log holds one malformed line on purpose: exit 1 both ways.
expect 1 import-file gatehouse flows import examples/flows/hubble.jsonl --dry-run -f "$WORK/kubectl-get.yaml" -o json || true
expect 1 import-cluster gatehouse flows import examples/flows/hubble.jsonl --dry-run --cluster -o json || true
cmp -s "$WORK/import-file.out" "$WORK/import-cluster.out" &&
    ok "flows import --cluster: the same report as -f" || fail "flows import --cluster differs"
DATA=$WORK/data
gatehouse flows import examples/flows/hubble.jsonl --data-dir "$DATA" -f "$WORK/kubectl-get.yaml" > /dev/null 2>&1 || true
expect 0 recommend-file gatehouse policy recommend --data-dir "$DATA" -f "$WORK/kubectl-get.yaml" || true
expect 0 recommend-cluster gatehouse policy recommend --data-dir "$DATA" --cluster || true
cmp -s "$WORK/recommend-file.out" "$WORK/recommend-cluster.out" &&
    ok "policy recommend --cluster: the same policies as -f ($(grep -c '^kind:' "$WORK/recommend-file.out") objects)" ||
    fail "policy recommend --cluster differs"

# The example files hold an endPort (NetworkPolicy ai/vector-db allows 6333-6334); a 1.20 API server drops the
# field (it came in 1.21), so there the policy allows 6333 only. That is the one difference the files show;
# endPort itself is tested against files (Tests/Conformance).
gatehouse policy matrix -f examples/ai-namespace -o json > "$WORK/files-matrix.json"
gatehouse policy matrix --cluster -o json > "$WORK/cluster-matrix.json"
"$PYTHON" - "$WORK/files-matrix.json" "$WORK/cluster-matrix.json" <<'PY' && ok "against the example files: only rag-api -> vector-db on 6334 differs (no endPort in 1.20)" || fail "example files"
import json, sys
files, cluster = (json.load(open(p)) for p in sys.argv[1:])
differ = []
for f, c in zip(files, cluster):
    for i, (fr, cr) in enumerate(zip(f["allowed"], c["allowed"])):
        for j, (a, b) in enumerate(zip(fr, cr)):
            if a != b:
                differ.append((f["port"], f["protocol"], f["endpoints"][i], f["endpoints"][j], a, b))
print(differ)
assert differ == [(6334, "TCP", "ai/rag-api", "ai/vector-db", True, False)], differ
PY

echo "== policy watch --cluster: each change with the flows it opened and closed"
"$BIN" policy watch --cluster -o json --watch-timeout 2 > "$WORK/watch.jsonl" 2> "$WORK/watch.err" &
WATCH=$!
"$PYTHON" Tests/Cluster/fixture.py changes "$WORK/watch.jsonl" || { fail "policy watch"; cat "$WORK/watch.err"; }
kill "$WATCH"; wait "$WATCH" 2> /dev/null || true
! grep -q . "$WORK/watch.err" || { fail "policy watch wrote to stderr"; cat "$WORK/watch.err"; }

echo "== policy watch across an API server restart: watches cut, resumed, 410 Gone answered by a fresh list"
# kube-apiserver alone restarts (etcd and its data stay) while the watch is stopped (SIGSTOP: a client away,
# as a laptop asleep), and etcd moves on meanwhile. Every watch was cut; reopened from its last
# resourceVersion, it meets the new server's watch cache, which starts at etcd's current revision: 410 Gone,
# and each resource is listed again. (A watch reopened while the new server is still starting is served
# from etcd, which still holds those revisions: no 410 then, and nothing is missed either.)
"$BIN" policy watch --cluster -o json > "$WORK/watch-gone.jsonl" 2> "$WORK/watch-gone.err" &
WATCH=$!
"$PYTHON" Tests/Cluster/fixture.py synced "$WORK/watch-gone.jsonl"
kill -STOP "$WATCH"
APISERVER=$(cat "$GK8S_DIR/run/apiserver.pid")
kill "$APISERVER"
while kill -0 "$APISERVER" 2> /dev/null; do sleep 0.1; done
rm -f "$GK8S_DIR/run/apiserver.pid"
for _ in 1 2 3; do
    ETCDCTL_API=3 "$GK8S_DIR/root/usr/bin/etcdctl" --endpoints "127.0.0.1:${GK8S_ETCD_PORT:-23790}" \
        --command-timeout 20s put /gatehouse-test/revision-moved-on x > /dev/null 2>&1 && break
done
bash "$K8S" start > /dev/null 2> "$WORK/apiserver-restart.log" || { tail -20 "$WORK/apiserver-restart.log"; exit 1; }
kill -CONT "$WATCH"
for _ in $(seq 1 300); do grep -q "^note: watch pods: gone (410)" "$WORK/watch-gone.err" && break; sleep 0.1; done
grep -q "^warning: watch pods: the connection to .* broke" "$WORK/watch-gone.err" &&
    grep -q "^note: watch pods: gone (410): too old resource version: [0-9]* ([0-9]*); listing pods again" "$WORK/watch-gone.err" &&
    ok "the watch cut, reopened, answered 410 Gone and listed again: $(grep -m1 '^note: watch pods: gone' "$WORK/watch-gone.err")" ||
    fail "410 Gone: $(cat "$WORK/watch-gone.err")"
"$PYTHON" Tests/Cluster/fixture.py resumed "$WORK/watch-gone.jsonl" || { fail "policy watch after 410"; cat "$WORK/watch-gone.err"; }
kill "$WATCH"; wait "$WATCH" 2> /dev/null || true

echo "== refused and unreachable"
cluster_config() { # FILE SERVER CA TOKEN
    KUBECONFIG=$1 kubectl config set-cluster test --server="$2" ${3:+--certificate-authority="$3"} > /dev/null
    KUBECONFIG=$1 kubectl config set-credentials user --token="$4" > /dev/null
    KUBECONFIG=$1 kubectl config set-context test --cluster=test --user=user > /dev/null
    KUBECONFIG=$1 kubectl config use-context test > /dev/null
}
# A service account that may read every kind but Kubernetes NetworkPolicies.
kubectl create namespace gatehouse > /dev/null
kubectl -n gatehouse create serviceaccount auditor > /dev/null
kubectl create clusterrole policy-reader --verb=get,list,watch \
    --resource=namespaces,pods,serviceaccounts,services,endpointslices.discovery.k8s.io \
    --resource=tiers.projectcalico.org,networkpolicies.projectcalico.org,globalnetworkpolicies.projectcalico.org \
    --resource=stagednetworkpolicies.projectcalico.org,stagedglobalnetworkpolicies.projectcalico.org \
    --resource=stagedkubernetesnetworkpolicies.projectcalico.org,networksets.projectcalico.org \
    --resource=globalnetworksets.projectcalico.org,clusternetworkpolicies.policy.networking.k8s.io \
    --resource=adminnetworkpolicies.policy.networking.k8s.io,baselineadminnetworkpolicies.policy.networking.k8s.io > /dev/null
kubectl create clusterrolebinding auditor --clusterrole=policy-reader --serviceaccount=gatehouse:auditor > /dev/null
AUDITOR=$(kubectl -n gatehouse create token auditor)
cluster_config "$WORK/auditor.kubeconfig" "$K8S_URL" "$K8S_CA" "$AUDITOR"
expect 2 forbidden gatehouse policy lint --kubeconfig "$WORK/auditor.kubeconfig" --cluster &&
    grep -q '^error: list networkpolicies.networking.k8s.io: forbidden (403): networkpolicies.networking.k8s.io is forbidden: User "system:serviceaccount:gatehouse:auditor" cannot list resource "networkpolicies"' "$WORK/forbidden.err" &&
    ! grep -qF "$AUDITOR" "$WORK/forbidden.err" "$WORK/forbidden.out" &&
    ok "RBAC forbids one kind: $(head -c 120 "$WORK/forbidden.err")…" || fail "forbidden: $(cat "$WORK/forbidden.err")"
expect 2 watch-forbidden gatehouse policy watch --kubeconfig "$WORK/auditor.kubeconfig" --cluster &&
    grep -q '^error: list networkpolicies.networking.k8s.io: forbidden (403)' "$WORK/watch-forbidden.err" &&
    ok "policy watch: the first list forbidden, exit 2" || fail "watch forbidden: $(cat "$WORK/watch-forbidden.err")"
kubectl create clusterrole netpol-reader --verb=list --resource=networkpolicies.networking.k8s.io > /dev/null
kubectl create clusterrolebinding auditor-netpol --clusterrole=netpol-reader --serviceaccount=gatehouse:auditor > /dev/null
expect 0 allowed gatehouse policy matrix --kubeconfig "$WORK/auditor.kubeconfig" --cluster -o json &&
    cmp -s "$WORK/allowed.out" "$WORK/cluster-matrix.json" &&
    ok "the service account's token, once allowed to list every kind: the same matrix" || fail "allowed"
cluster_config "$WORK/revoked.kubeconfig" "$K8S_URL" "$K8S_CA" "revoked-token-0123456789"
expect 2 unauthorized gatehouse policy matrix --kubeconfig "$WORK/revoked.kubeconfig" --cluster &&
    grep -q "refused the credentials of context test (401 Unauthorized" "$WORK/unauthorized.err" &&
    ! grep -q "revoked-token" "$WORK/unauthorized.err" &&
    ok "a token the server does not know: $(cat "$WORK/unauthorized.err")" || fail "unauthorized: $(cat "$WORK/unauthorized.err")"
CLOSED=$(free_port)
cluster_config "$WORK/closed.kubeconfig" "https://127.0.0.1:$CLOSED" "$K8S_CA" "$K8S_TOKEN"
expect 2 unreachable gatehouse policy lint --kubeconfig "$WORK/closed.kubeconfig" --cluster &&
    grep -q "cannot reach the API server https://127.0.0.1:$CLOSED: connection refused" "$WORK/unreachable.err" &&
    ! grep -qF "$K8S_TOKEN" "$WORK/unreachable.err" &&
    ok "a closed port: $(cat "$WORK/unreachable.err")" || fail "unreachable: $(cat "$WORK/unreachable.err")"
cluster_config "$WORK/unknown-ca.kubeconfig" "$K8S_URL" "" "$K8S_TOKEN"
expect 2 unknown-ca gatehouse policy lint --kubeconfig "$WORK/unknown-ca.kubeconfig" --cluster &&
    grep -q "the TLS handshake failed: the server.s certificate is not signed by a CA the configuration trusts" "$WORK/unknown-ca.err" && ! grep -qF "$K8S_TOKEN" "$WORK/unknown-ca.err" &&
    ok "a server certificate no trusted CA signed: $(cat "$WORK/unknown-ca.err")" ||
    fail "unknown CA: $(cat "$WORK/unknown-ca.err")"
expect 2 no-context gatehouse policy lint -f k8s://elsewhere &&
    grep -q "context \"elsewhere\" is not in kubeconfig" "$WORK/no-context.err" &&
    ok "k8s://elsewhere: $(cat "$WORK/no-context.err")" || fail "k8s://CONTEXT: $(cat "$WORK/no-context.err")"

echo "== gatehouse blueprint and policy apply: generated, validated, proved on the live cluster, applied (staged, promoted), read back"
BLUEPRINT=examples/blueprint/ai.yaml
for flavor in kubernetes calico admin; do
    expect 0 "blueprint-$flavor" gatehouse blueprint -f "$BLUEPRINT" --flavor "$flavor" &&
        grep -q "^warning: gateway: egress to api.openai.com cannot be written" "$WORK/blueprint-$flavor.err" &&
        ok "--flavor $flavor: $(grep -c '^kind:' "$WORK/blueprint-$flavor.out") objects; $(grep '^# ' "$WORK/blueprint-$flavor.err")" ||
        fail "blueprint --flavor $flavor: $(cat "$WORK/blueprint-$flavor.err")"
done
expect 0 blueprint-staged gatehouse blueprint -f "$BLUEPRINT" --flavor calico --staged || true
expect 0 blueprint-kubernetes-staged gatehouse blueprint -f "$BLUEPRINT" --staged &&
    [ "$(grep -c '^kind: StagedKubernetesNetworkPolicy$' "$WORK/blueprint-kubernetes-staged.out")" == 8 ] &&
    ok "--staged --flavor kubernetes: 8 StagedKubernetesNetworkPolicies; $(grep '^# ' "$WORK/blueprint-kubernetes-staged.err")" ||
    fail "blueprint --staged: $(cat "$WORK/blueprint-kubernetes-staged.err")"
for version in 1.25.0 1.37.0; do
    "$GK8S_DIR/venv/bin/kubernetes-validate" -k "$version" --strict "$WORK/blueprint-kubernetes.out" > "$WORK/validate.log" 2>&1 &&
        ok "kubernetes-validate --strict $version: $(grep -c passed "$WORK/validate.log") NetworkPolicies passed" ||
        { fail "kubernetes-validate $version"; cat "$WORK/validate.log"; }
done
# The CRD kinds against their published CRDs' schemas, by the API server (the 1.20 server drops their CEL rules).
for flavor in calico staged kubernetes-staged admin; do
    kubectl apply --server-side --field-manager=gatehouse --dry-run=server -f "$WORK/blueprint-$flavor.out" > "$WORK/dry.log" 2>&1 &&
        ok "$flavor: $(grep -c 'serverside-applied (server dry run)' "$WORK/dry.log") objects accepted by the CRDs' schemas (dry run)" ||
        { fail "dry run $flavor"; cat "$WORK/dry.log"; }
done
# Their CEL rules, which the 1.20 server drops, evaluated offline (Tests/Cluster/crd_cel.py: the subset the
# published CRDs use), after a self-test showing that objects breaking a rule are caught.
CRDS=$(dirname "$K8S")/crds
"$PYTHON" Tests/Cluster/crd_cel.py --self-test "$CRDS" && {
    "$PYTHON" Tests/Cluster/crd_cel.py "$CRDS" "$WORK"/blueprint-{calico,staged,kubernetes-staged,admin}.out \
        > "$WORK/cel.log" 2>&1 &&
        ok "the CEL rules of the CRDs hold: $(grep -c '^ok' "$WORK/cel.log") objects, $(awk '/^ok/ { n += $(NF - 3) } END { print n }' "$WORK/cel.log") rule checks" ||
        { fail "CEL rules"; cat "$WORK/cel.log"; }
} || fail "CEL self-test"
"$PYTHON" Tests/Cluster/fixture.py create Tests/Cluster/gateway.yaml > /dev/null
# The tour's own NetworkPolicy ai/vllm lets rag-api reach the model server: the proof on the live cluster
# must say so, since NetworkPolicies only add allowances.
expect 1 blueprint-live gatehouse blueprint -f "$BLUEPRINT" --cluster &&
    grep -q "^error: proof failed: ai/rag-api -> ai/vllm-0 TCP/8000 is allow, the blueprint says deny" "$WORK/blueprint-live.err" &&
    ok "proved on the live cluster: the tour's own policies break it ($(grep -c 'proof failed' "$WORK/blueprint-live.err") flows)" ||
    fail "blueprint --cluster: $(cat "$WORK/blueprint-live.err")"
expect 1 blueprint-apply-refused gatehouse blueprint apply -f "$BLUEPRINT" --cluster --yes &&
    grep -q "^error: the proof failed on the live cluster: nothing applied" "$WORK/blueprint-apply-refused.err" &&
    [ -z "$(kubectl -n ai get networkpolicies.networking.k8s.io -o name | grep rsvp)" ] &&
    ok "blueprint apply on that cluster: the proof fails, nothing applied" ||
    fail "blueprint apply refused: $(cat "$WORK/blueprint-apply-refused.err")"
kubectl -n ai delete networkpolicies.networking.k8s.io --all > /dev/null
# policy apply: the flows first, a dry run, then a question; "n" applies nothing.
expect 1 apply-declined gatehouse policy apply -f "$WORK/blueprint-kubernetes.out" --cluster < <(echo n) &&
    grep -q "nothing applied$" "$WORK/apply-declined.out" &&
    grep -q "^dry run: the server accepts all 8 object(s)" "$WORK/apply-declined.out" &&
    grep -q "^  opened  web/frontend -> ai/gatehouse-0 TCP/8443: ingress of ai/gatehouse-0: allow by NetworkPolicy ai/rsvp-gateway-ingress" "$WORK/apply-declined.out" &&
    grep -q "^  closed  ai/vllm-0 -> kube-system/coredns TCP/54-65535" "$WORK/apply-declined.out" &&
    [ -z "$(kubectl -n ai get networkpolicies.networking.k8s.io -o name)" ] &&
    ok "policy apply, declined: $(head -1 "$WORK/apply-declined.out"); dry run accepted; nothing applied" ||
    fail "apply declined: $(cat "$WORK/apply-declined.out" "$WORK/apply-declined.err")"
# A field another manager owns is a conflict, reported and not forced.
cat > "$WORK/dns-by-platform.yaml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: rsvp-allow-dns, namespace: ai}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}}]
    ports: [{protocol: UDP, port: 53}]
YAML
kubectl apply --server-side --field-manager=platform-team -f "$WORK/dns-by-platform.yaml" > /dev/null
expect 1 apply-conflict gatehouse policy apply -f "$WORK/blueprint-kubernetes.out" --cluster --yes &&
    grep -q 'conflict (409).*platform-team' "$WORK/apply-conflict.err" &&
    ok "a field owned by another manager: $(grep -m1 'conflict' "$WORK/apply-conflict.err" | cut -c1-160)…" ||
    fail "apply conflict: $(cat "$WORK/apply-conflict.err")"
kubectl -n ai delete networkpolicies.networking.k8s.io rsvp-allow-dns > /dev/null
expect 0 apply gatehouse policy apply -f "$WORK/blueprint-kubernetes.out" --cluster --yes &&
    [ "$(grep -c 'serverside-applied$' "$WORK/apply.out")" == 8 ] &&
    [ "$(kubectl -n ai get networkpolicies.networking.k8s.io -o jsonpath='{.items[*].metadata.managedFields[0].manager}' | tr ' ' '\n' | sort -u)" == gatehouse ] &&
    ok "policy apply --yes: 8 objects server-side applied, owned by field manager gatehouse" ||
    fail "apply: $(cat "$WORK/apply.out" "$WORK/apply.err")"
expect 0 blueprint-applied gatehouse blueprint -f "$BLUEPRINT" --cluster --explain &&
    ok "applied, then proved on the live cluster: $(grep '^# ' "$WORK/blueprint-applied.err")" ||
    fail "blueprint after apply: $(cat "$WORK/blueprint-applied.err")"
# Read back by policy matrix --cluster: the gateway alone reaches the model server, on its port only.
gatehouse policy matrix --cluster --port 8000 -o json > "$WORK/rsvp-matrix.json"
"$PYTHON" - "$WORK/rsvp-matrix.json" <<'PY' && ok "policy matrix --cluster, TCP/8000: only ai/gatehouse-0 reaches ai/vllm-0" || fail "read back"
import json, sys
m = json.load(open(sys.argv[1]))
column = m["endpoints"].index("ai/vllm-0")
reaching = [m["endpoints"][i] for i, row in enumerate(m["allowed"]) if row[column] and m["endpoints"][i] != "ai/vllm-0"]
assert reaching == ["ai/gatehouse-0"], reaching
PY
# The gateway's own configuration as the blueprint's input: its upstream Service becomes the model server
# (selector and named target port read from the cluster), its providers the gateway's egress.
kubectl apply -f - > /dev/null <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: vllm, namespace: ai}
spec:
  selector: {app: vllm}
  ports: [{name: http, port: 80, targetPort: http}]
YAML
expect 0 blueprint-gateway gatehouse blueprint -f Tests/Cluster/blueprint-gateway.yaml \
    --gateway-config Tests/Cluster/gatehouse.yaml --cluster &&
    "$PYTHON" - "$WORK/blueprint-kubernetes.out" "$WORK/blueprint-gateway.out" <<'PY' &&
import sys, yaml
def documents(path):
    return {(d["kind"], d["metadata"]["namespace"], d["metadata"]["name"]): d
            for d in yaml.safe_load_all(open(path)) if d}
declared, configured = documents(sys.argv[1]), documents(sys.argv[2])
assert declared.keys() == configured.keys(), declared.keys() ^ configured.keys()
differ = [key for key in declared if declared[key] != configured[key]]
assert differ == [("NetworkPolicy", "ai", "rsvp-gateway-egress")], differ
blocks = lambda d: [p["ipBlock"]["cidr"] for rule in d["spec"]["egress"] for p in rule["to"] if "ipBlock" in p]
assert blocks(declared[differ[0]]) == ["203.0.113.0/24"] and blocks(configured[differ[0]]) == ["203.0.113.10/32"]
PY
    ok "--gateway-config: the same policies as the declared blueprint but the provider's address (203.0.113.10/32); $(grep '^# ' "$WORK/blueprint-gateway.err")" ||
    fail "blueprint --gateway-config: $(cat "$WORK/blueprint-gateway.err")"
# The Kubernetes flavor staged as Calico's StagedKubernetesNetworkPolicies by blueprint apply, then promoted.
kubectl -n ai delete networkpolicies.networking.k8s.io --all > /dev/null
expect 0 blueprint-apply-staged gatehouse blueprint apply -f "$BLUEPRINT" --staged --cluster --yes &&
    [ "$(kubectl -n ai get stagedkubernetesnetworkpolicies.projectcalico.org -o name | grep -c rsvp)" == 8 ] &&
    [ -z "$(kubectl -n ai get networkpolicies.networking.k8s.io -o name)" ] &&
    grep -q "^0 flow(s) opened, 0 closed" "$WORK/blueprint-apply-staged.out" &&
    ok "blueprint apply --staged: 8 StagedKubernetesNetworkPolicies, proved as they would act; no flow changed" ||
    fail "blueprint apply --staged: $(cat "$WORK/blueprint-apply-staged.out" "$WORK/blueprint-apply-staged.err")"
expect 0 blueprint-promote gatehouse blueprint apply -f "$BLUEPRINT" --promote --cluster --yes &&
    [ -z "$(kubectl -n ai get stagedkubernetesnetworkpolicies.projectcalico.org -o name)" ] &&
    [ "$(kubectl -n ai get networkpolicies.networking.k8s.io -o name | grep -c rsvp)" == 8 ] &&
    grep -q "^[0-9]* flow(s) opened, [1-9][0-9]* closed" "$WORK/blueprint-promote.out" &&
    ok "blueprint apply --promote: $(grep -c 'deleted (promoted)' "$WORK/blueprint-promote.out") staged policies now NetworkPolicies; $(grep -m1 'flow(s) opened' "$WORK/blueprint-promote.out")" ||
    fail "blueprint apply --promote: $(cat "$WORK/blueprint-promote.out" "$WORK/blueprint-promote.err")"
# The Calico flavor, staged first: the staged policies decide nothing until promoted.
expect 0 apply-staged gatehouse policy apply -f "$WORK/blueprint-staged.out" --cluster --yes &&
    [ "$(kubectl -n ai get stagednetworkpolicies.projectcalico.org -o name | grep -c gatehouse-rsvp)" == 6 ] &&
    ok "the calico flavor applied staged: $(grep -c 'serverside-applied$' "$WORK/apply-staged.out") objects" ||
    fail "apply staged: $(cat "$WORK/apply-staged.out" "$WORK/apply-staged.err")"
expect 0 blueprint-staged-live gatehouse blueprint -f "$BLUEPRINT" --flavor calico --staged --cluster &&
    ok "the staged calico flavor proved on the live cluster: $(grep '^# ' "$WORK/blueprint-staged-live.err")" ||
    fail "staged proof: $(cat "$WORK/blueprint-staged-live.err")"
expect 0 promote gatehouse policy apply --promote -f "$WORK/blueprint-staged.out" --cluster --yes &&
    [ "$(kubectl -n ai get stagednetworkpolicies.projectcalico.org -o name | grep -c gatehouse-rsvp)" == 0 ] &&
    [ "$(kubectl -n ai get networkpolicies.projectcalico.org -o name | grep -c gatehouse-rsvp)" == 6 ] &&
    ok "--promote: $(grep -c 'deleted (promoted)' "$WORK/promote.out") staged policies now enforced NetworkPolicies" ||
    fail "promote: $(cat "$WORK/promote.out" "$WORK/promote.err")"
expect 0 blueprint-calico-live gatehouse blueprint -f "$BLUEPRINT" --flavor calico --cluster &&
    ok "the promoted calico flavor proved on the live cluster: $(grep '^# ' "$WORK/blueprint-calico-live.err")" ||
    fail "calico proof: $(cat "$WORK/blueprint-calico-live.err")"

echo "== Calico's crd.projectcalico.org/v1 resources, without the v3 API"
kubectl delete crd $(kubectl get crd -o name | grep '\.projectcalico\.org$' | grep -v crd.projectcalico.org | sed 's|.*/||') > /dev/null
# The v1 backing resources hold a default-tier policy's name with its tier's prefix.
kubectl create -f - > /dev/null <<'YAML'
apiVersion: crd.projectcalico.org/v1
kind: GlobalNetworkPolicy
metadata: {name: default.deny-web-egress}
spec:
  tier: default
  order: 1
  selector: projectcalico.org/namespace == 'web'
  types: [Egress]
  egress: [{action: Deny}]
YAML
expect 1 crd-v1 gatehouse policy explain --cluster --from web/frontend --to ai/vllm-0 --port 8000 &&
    grep -q "GlobalNetworkPolicy default.deny-web-egress: rule 0 matched: Deny  (k8s://gatehouse-test/apis/crd.projectcalico.org/v1/globalnetworkpolicies" "$WORK/crd-v1.out" &&
    ok "a crd.projectcalico.org/v1 GlobalNetworkPolicy decides: $(grep -m1 'egress from' "$WORK/crd-v1.out")" ||
    fail "crd v1: $(cat "$WORK/crd-v1.out" "$WORK/crd-v1.err")"
kubectl get "${KINDS//projectcalico.org/crd.projectcalico.org}" -A -o yaml > "$WORK/kubectl-get.yaml"
same "policy matrix (crd.projectcalico.org/v1)" policy matrix -o json

echo "== 2,000 pods in 10 namespaces"
"$PYTHON" Tests/Cluster/fixture.py pods 10 200
/usr/bin/time -f "%e %M" -o "$WORK/time" "$FIGURE_BIN" policy lint --cluster -o json > "$WORK/scale.json" 2> "$WORK/scale.err" || true
read -r SECONDS_TAKEN KIB < <(tail -1 "$WORK/time")   # after "Command exited with non-zero status 1"
"$PYTHON" - "$WORK/scale.json" <<'PY' && ok "every pod listed (500 a page): lint counts 200 pods in each of scale-0..9; read and linted in ${SECONDS_TAKEN} s, max RSS $((KIB / 1024)) MiB" || fail "2,000 pods: $(head -3 "$WORK/scale.err")"
import json, re, sys
findings = json.load(open(sys.argv[1]))
counts = {}
for f in findings:
    m = re.match(r"(\d+) of (\d+) pods are not isolated for ingress", f["message"])
    if m and f["object"].startswith("Namespace scale-"):
        counts[f["object"].split()[1]] = (int(m[1]), int(m[2]))
assert counts == {f"scale-{n}": (200, 200) for n in range(10)}, counts
PY
BUILD=$([ "$FIGURE_BIN" == "$BIN" ] && echo "debug build" || echo "release build")
echo "figure: policy lint --cluster over 2,000 pods (kube-apiserver 1.20 on loopback, $BUILD): ${SECONDS_TAKEN} s, max RSS $((KIB / 1024)) MiB"
"$FIGURE_BIN" policy watch --cluster -o json > "$WORK/watch-scale.jsonl" 2> "$WORK/watch-scale.err" &
WATCH=$!
"$PYTHON" Tests/Cluster/fixture.py latency "$WORK/watch-scale.jsonl" || { fail "policy watch, 2,000 pods"; cat "$WORK/watch-scale.err"; }
RSS=$(ps -o rss= -p "$WATCH" || echo 0)
echo "figure: policy watch over 2,000 pods ($BUILD): RSS $((RSS / 1024)) MiB after the changes"
kill "$WATCH"; wait "$WATCH" 2> /dev/null || true

[ "$FAILURES" -eq 0 ] || { echo "$FAILURES failure(s)"; exit 1; }
echo "cluster: all checks passed"
