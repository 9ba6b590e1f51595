#!/usr/bin/env bash
# Checks deploy/ (the Kustomize base, its overlays and the cert-manager component):
#   - every overlay renders with `kubectl kustomize`;
#   - every manifest (source files but patches, and rendered overlays) passes `kubernetes-validate --strict` for each
#     Kubernetes version we support (1.25 to 1.37, the schemas inside the wheel; offline); cert-manager's
#     Certificate has no schema there and is only warned about;
#   - Gatehouse's own `policy matrix` over each overlay, the fixture cluster Tests/Deploy/cluster.yaml
#     and the pods the overlay's Deployment and StatefulSet would run allows exactly the intended flows
#     into and out of the gatehouse namespace (Tests/Deploy/matrix.py), and `policy lint` finds nothing
#     there but one deliberate finding (Tests/Deploy/lint.py);
#   - every object is applied with `kubectl apply --server-side --dry-run=server` to a real API server
#     (../shared/k8s/apiserver.sh: kube-apiserver 1.20.2, built once into a cache outside the clone).
#     That server has no policy/v1, so the PodDisruptionBudgets are checked by kubernetes-validate only;
#     the test shows the server refusing them for that reason. It does not know cert-manager's
#     Certificate either (no CRD here): rendered, validated as far as a schema exists, not applied.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/processes.sh

BIN=${GATEHOUSE_BIN:-.build/debug/gatehouse}
K8S=$(realpath ../shared/k8s/apiserver.sh)
export GK8S_DIR=${GK8S_DIR:-${TMPDIR:-/tmp}/gatehouse-k8s}
VERSIONS=(1.25.0 1.26.0 1.27.0 1.28.0 1.29.0 1.30.0 1.31.0 1.32.0 1.33.0 1.34.0 1.35.0 1.36.0 1.37.0)
OVERLAYS=(try-it external-postgres production)
FAILURES=0
fail() { echo "FAIL $*"; FAILURES=$((FAILURES + 1)); }

k8s_tools "$K8S"
VALIDATE=$GK8S_DIR/venv/bin/kubernetes-validate
PYTHON=$GK8S_DIR/venv/bin/python   # has PyYAML, a dependency of kubernetes-validate

echo "== render"
RENDERED=()
for overlay in "${OVERLAYS[@]}"; do
    kubectl kustomize "deploy/overlays/$overlay" > "$WORK/$overlay.yaml"
    RENDERED+=("$WORK/$overlay.yaml")
    echo "ok   deploy/overlays/$overlay: $(grep -c '^kind:' "$WORK/$overlay.yaml") objects"
done

echo "== kubernetes-validate --strict, Kubernetes ${VERSIONS[0]} to ${VERSIONS[-1]}"
SOURCES=$(grep -lr --include='*.yaml' '^apiVersion:' deploy | grep -v -e kustomization.yaml -e -patch.yaml | sort)
for version in "${VERSIONS[@]}"; do
    # shellcheck disable=SC2086
    if "$VALIDATE" -k "$version" --strict $SOURCES "${RENDERED[@]}" > "$WORK/validate.log" 2>&1; then
        echo "ok   $version: $(grep -c passed "$WORK/validate.log") objects passed$(grep -q WARN "$WORK/validate.log" &&
            echo "; $(grep WARN "$WORK/validate.log" | sed 's/.*for kind \([^ ]*\) with api version \([^ ]*\).*/\1 (\2)/' | sort -u | tr '\n' ' ')had no schema")"
    else
        fail "$version"; grep -v passed "$WORK/validate.log"
    fi
done

echo "== NetworkPolicies: gatehouse policy matrix and lint against the fixture cluster"
for overlay in try-it external-postgres; do
    "$PYTHON" Tests/Deploy/pods.py < "$WORK/$overlay.yaml" > "$WORK/$overlay-pods.json"
    files=("$WORK/$overlay.yaml" Tests/Deploy/cluster.yaml "$WORK/$overlay-pods.json")
    python3 Tests/Deploy/matrix.py "$BIN" "$overlay" "${files[@]}" > "$WORK/matrix.log" || fail "matrix $overlay"
    grep -E 'DIFFERS|checked' "$WORK/matrix.log"
    python3 Tests/Deploy/lint.py "$BIN" "${files[@]}" || fail "lint $overlay"
done

echo "== kubectl apply --server-side --dry-run=server against kube-apiserver 1.20"
bash "$K8S" build > "$WORK/apiserver-build.log" 2>&1 || { tail -20 "$WORK/apiserver-build.log"; exit 1; }
trap 'bash "$K8S" stop > /dev/null 2>&1 || true; cleanup' EXIT
STARTED=$(bash "$K8S" start 2> "$WORK/apiserver-start.log") || { tail -20 "$WORK/apiserver-start.log"; exit 1; }
eval "$(grep '^export' <<< "$STARTED")"
# Never the user's own cluster: everything below talks to the server just started, or to nothing.
[[ "${KUBECONFIG:-}" == "$GK8S_DIR"/* ]] || { echo "deploy: the test API server did not start"; exit 1; }
# A dry run does not create the namespace the other objects go into: it is created for real first.
kubectl create namespace gatehouse > /dev/null
for overlay in "${OVERLAYS[@]}"; do
    "$PYTHON" - "$WORK/$overlay.yaml" "$WORK/$overlay-apply.yaml" "$WORK/$overlay-later.yaml" <<'PY'
import sys, yaml
documents = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
newer = [d for d in documents if d["apiVersion"] in ("policy/v1", "cert-manager.io/v1")]
yaml.safe_dump_all([d for d in documents if d not in newer], open(sys.argv[2], "w"))
yaml.safe_dump_all(newer, open(sys.argv[3], "w"))
PY
    if kubectl apply --server-side --field-manager=gatehouse --dry-run=server -f "$WORK/$overlay-apply.yaml" > "$WORK/apply.log" 2>&1; then
        echo "ok   $overlay: $(grep -c 'serverside-applied (server dry run)' "$WORK/apply.log") objects accepted by the server"
    else
        fail "$overlay"; cat "$WORK/apply.log"
    fi
    later=$(kubectl apply --server-side --dry-run=server -f "$WORK/$overlay-later.yaml" 2>&1 | grep -c 'no matches for kind' || true)
    echo "     $overlay: $later object(s) of API versions 1.20 lacks (policy/v1, cert-manager.io/v1) refused by it, as expected"
    [ "$later" == "$(grep -c '^kind:' "$WORK/$overlay-later.yaml")" ] || fail "$overlay: expected 1.20 to refuse only the newer kinds"
done

if [ "$FAILURES" -ne 0 ]; then echo "deploy: $FAILURES failure(s)"; exit 1; fi
echo "deploy: every check passed"
