"""Reads rendered manifests (kubectl kustomize) on stdin and prints, as a YAML-compatible JSON List, the
pods their Deployments and StatefulSets would run: each replica with the template's labels, service
account and container ports, and an address of its own; what `gatehouse policy matrix` needs of them.
Fixture pods for the policy check, not a controller.

usage: kubectl kustomize deploy/overlays/try-it | python3 pods.py > pods.json
"""
import json
import sys

import yaml

pods = []
for document in yaml.safe_load_all(sys.stdin):
    if not document or document.get("kind") not in ("Deployment", "StatefulSet"):
        continue
    template = document["spec"]["template"]
    for replica in range(document["spec"].get("replicas", 1)):
        pods.append({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": f"{document['metadata']['name']}-{replica}",
                "namespace": document["metadata"]["namespace"],
                "labels": template["metadata"]["labels"],
            },
            "spec": {
                "serviceAccountName": template["spec"].get("serviceAccountName", "default"),
                "containers": [{"name": c["name"], "ports": c.get("ports", [])} for c in template["spec"]["containers"]],
            },
            "status": {"podIP": f"10.2.0.{len(pods) + 10}"},
        })
print(json.dumps({"apiVersion": "v1", "kind": "List", "items": pods}, indent=1))
