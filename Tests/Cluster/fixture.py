"""Creates objects in the test API server as a user would, over its REST API (K8S_URL, K8S_CA, K8S_TOKEN).

Fixture, for tests only: no kubelet runs there, so pods would never get an address. After creating a pod,
this sets its status (podIP, phase Running) through the status subresource, as a kubelet would.

  fixture.py create FILE...          every object of the files; pods get an image when they name none, and
                                     the status the file gives them
  fixture.py pods NAMESPACES PER     PER pods in each of NAMESPACES namespaces (scale-0, scale-1, ...), each
                                     with an address and a named port, eight requests at a time
"""
import concurrent.futures
import http.client
import json
import os
import ssl
import sys
import threading
import urllib.parse

import yaml

URL = urllib.parse.urlparse(os.environ["K8S_URL"])
CONTEXT = ssl.create_default_context(cafile=os.environ["K8S_CA"])
HEADERS = {"Authorization": "Bearer " + os.environ["K8S_TOKEN"], "Accept": "application/json"}
LOCAL = threading.local()

# The kinds the fixtures use: (API prefix, plural, namespaced).
PATHS = {
    ("v1", "Namespace"): ("/api/v1", "namespaces", False),
    ("v1", "Pod"): ("/api/v1", "pods", True),
    ("v1", "Service"): ("/api/v1", "services", True),
    ("v1", "ServiceAccount"): ("/api/v1", "serviceaccounts", True),
    ("networking.k8s.io/v1", "NetworkPolicy"): ("/apis/networking.k8s.io/v1", "networkpolicies", True),
    ("policy.networking.k8s.io/v1alpha2", "ClusterNetworkPolicy"):
        ("/apis/policy.networking.k8s.io/v1alpha2", "clusternetworkpolicies", False),
    ("policy.networking.k8s.io/v1alpha1", "AdminNetworkPolicy"):
        ("/apis/policy.networking.k8s.io/v1alpha1", "adminnetworkpolicies", False),
}
for group in ("projectcalico.org/v3", "crd.projectcalico.org/v1"):
    for kind, plural, namespaced in (
        ("Tier", "tiers", False), ("NetworkPolicy", "networkpolicies", True),
        ("GlobalNetworkPolicy", "globalnetworkpolicies", False), ("StagedNetworkPolicy", "stagednetworkpolicies", True),
        ("GlobalNetworkSet", "globalnetworksets", False), ("NetworkSet", "networksets", True),
    ):
        PATHS[(group, kind)] = ("/apis/" + group, plural, namespaced)


def request(method, path, body=None, content_type="application/json", exists_ok=False):
    connection = getattr(LOCAL, "connection", None)
    if connection is None:
        connection = LOCAL.connection = http.client.HTTPSConnection(URL.hostname, URL.port, context=CONTEXT)
    headers = dict(HEADERS)
    if body is not None:
        headers["Content-Type"] = content_type
    connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = connection.getresponse()
    data = response.read()
    if response.status == 409 and exists_ok:
        return None
    if response.status >= 300:
        raise SystemExit(f"{method} {path}: {response.status} {data[:300]!r}")
    return json.loads(data)


def create(obj):
    prefix, plural, namespaced = PATHS[(obj["apiVersion"], obj["kind"])]
    namespace = obj["metadata"].get("namespace", "default")
    collection = f"{prefix}/namespaces/{namespace}/{plural}" if namespaced else f"{prefix}/{plural}"
    status = obj.pop("status", None)
    if obj["kind"] == "Pod":
        for container in obj["spec"].get("containers", []):
            container.setdefault("image", f"registry.invalid/{container['name']}:1")
    if request("POST", collection, obj, exists_ok=obj["kind"] == "Namespace") is None:
        # Namespaces the server made itself (kube-system): the file's labels are added to them.
        request("PATCH", f"{collection}/{obj['metadata']['name']}", {"metadata": obj["metadata"]},
                "application/merge-patch+json")
    if obj["kind"] == "Pod" and status:
        status = dict(status, phase="Running")
        status.setdefault("podIPs", [{"ip": status["podIP"]}] if "podIP" in status else [])
        request("PATCH", f"{collection}/{obj['metadata']['name']}/status", {"status": status},
                "application/merge-patch+json")


def objects(files):
    for file in files:
        for document in yaml.safe_load_all(open(file)):
            if not document:
                continue
            yield from document["items"] if document["kind"] == "List" else [document]


def main():
    if sys.argv[1] == "create":
        everything = list(objects(sys.argv[2:]))
        # Namespaces and tiers first: the others go into them.
        everything.sort(key=lambda o: o["kind"] not in ("Namespace", "Tier"))
        for obj in everything:
            create(obj)
        print(f"created {len(everything)} objects")
    elif sys.argv[1] == "pods":
        namespaces, per = int(sys.argv[2]), int(sys.argv[3])
        for n in range(namespaces):
            create({"apiVersion": "v1", "kind": "Namespace",
                    "metadata": {"name": f"scale-{n}", "labels": {"purpose": "scale"}}})

        def pod(index):
            n, i = divmod(index, per)
            create({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": f"pod-{i}", "namespace": f"scale-{n}",
                             "labels": {"app": f"app-{i % 10}", "shard": str(n)}},
                "spec": {"containers": [{"name": "app", "ports": [{"name": "http", "containerPort": 8080}]}]},
                "status": {"podIP": f"10.200.{index // 250}.{index % 250 + 1}"},
            })

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(pod, range(namespaces * per)))
        print(f"created {namespaces * per} pods in {namespaces} namespaces")
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
