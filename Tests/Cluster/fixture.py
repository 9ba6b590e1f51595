"""Creates objects in the test API server as a user would, over its REST API (K8S_URL, K8S_CA, K8S_TOKEN).

Fixture, for tests only: no kubelet runs there, so pods would never get an address. After creating a pod,
this sets its status (podIP, phase Running) through the status subresource, as a kubelet would.

  fixture.py create FILE...          every object of the files; pods get an image when they name none, and
                                     the status the file gives them
  fixture.py pods NAMESPACES PER     PER pods in each of NAMESPACES namespaces (scale-0, scale-1, ...), each
                                     with an address and a named port, eight requests at a time
  fixture.py changes EVENTS          changes to the example cluster while `policy watch -o json` writes EVENTS:
                                     each must show up as its event with the flows it opened or closed; prints
                                     the time from each change's answer to its event
  fixture.py synced EVENTS           waits for `policy watch`'s first list
  fixture.py resumed EVENTS          a pod relabelled and put back: the change must be seen (after the API
                                     server restarted)
  fixture.py latency EVENTS          a policy opening a namespace added and removed, one pod relabelled (the
                                     2,000-pod cluster)
"""
import concurrent.futures
import http.client
import json
import os
import ssl
import sys
import statistics
import threading
import time
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


def lines_in(path):
    with open(path) as f:
        return len(f.read().splitlines())


def wait_for(path, predicate, what, timeout=60, after=0):
    """The first event after line `after` of the file `policy watch -o json` writes that matches, and when
    it was seen."""
    deadline = time.monotonic() + timeout
    seen = after
    while time.monotonic() < deadline:
        with open(path) as f:
            lines = f.read().splitlines()
        for line in lines[seen:]:
            event = json.loads(line)
            if predicate(event):
                return event, time.monotonic()
        seen = len(lines)
        time.sleep(0.005)
    raise SystemExit(f"no event for {what} within {timeout} s")


def flows(event, key):
    return {(f["from"], f["to"], f["protocol"], f["ports"]) for f in event[key]}


def change(path, what, act, expected_type, name, check, timeout=300):
    """Does `act`, waits for its event, checks it; returns the seconds from the API's answer to the event."""
    before = lines_in(path)
    act()
    start = time.monotonic()
    event, seen = wait_for(path, lambda e: e["type"] == expected_type and e.get("name") == name, what, timeout,
                           after=before)
    problem = check(event)
    if problem:
        raise SystemExit(f"{what}: {problem}; event: {json.dumps(event)[:600]}")
    print(f"ok   {what}: {expected_type} {event['kind']} {name}, {len(event['opened'])} opened, "
          f"{len(event['closed'])} closed, lint +{len(event['lint']['added'])} -{len(event['lint']['resolved'])}"
          f" ({(seen - start) * 1000:.0f} ms after the API answered)")
    return seen - start


DENY_WEB_EGRESS = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                   "metadata": {"name": "deny-egress", "namespace": "web"},
                   "spec": {"podSelector": {}, "policyTypes": ["Egress"]}}


def changes(path):
    wait_for(path, lambda e: e["type"] == "SYNCED", "the first list")
    latencies = []
    latencies.append(change(
        path, "a NetworkPolicy added", lambda: create(json.loads(json.dumps(DENY_WEB_EGRESS))), "ADDED", "deny-egress",
        lambda e: None if ("web/frontend", "ai/rag-api", "TCP", "8080") in flows(e, "closed") and not e["opened"]
        and any(f["code"] == "egress-blocks-dns" for f in e["lint"]["added"]) else "web/frontend -> rag-api not closed"))
    # Past the watch's timeoutSeconds (2 s): the server has ended it, and the next change needs the watch
    # opened again from where it left off.
    time.sleep(3)
    pod = "/api/v1/namespaces/ai/pods/rag-api"
    latencies.append(change(
        path, "a pod relabelled after the watch was renewed",
        lambda: request("PATCH", pod, {"metadata": {"labels": {"app": "other"}}}, "application/merge-patch+json"),
        "MODIFIED", "rag-api",
        lambda e: None if ("ai/rag-api", "ai/vllm-0", "TCP", "8000") in flows(e, "closed") else "rag-api -> vllm not closed"))
    latencies.append(change(
        path, "the pod's label put back", lambda: request(
            "PATCH", pod, {"metadata": {"labels": {"app": "rag-api"}}}, "application/merge-patch+json"),
        "MODIFIED", "rag-api",
        lambda e: None if ("ai/rag-api", "ai/vllm-0", "TCP", "8000") in flows(e, "opened") else "rag-api -> vllm not opened"))
    bad = {"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkPolicy", "metadata": {"name": "typo"},
           "spec": {"selector": "app ==", "types": ["Ingress"]}}
    latencies.append(change(
        path, "a Calico policy the engine cannot load", lambda: create(bad), "INVALID", "typo",
        lambda e: None if any("spec.selector" in error for error in e["errors"]) else "no error for spec.selector"))
    latencies.append(change(
        path, "the bad policy deleted", lambda: request("DELETE", "/apis/projectcalico.org/v3/globalnetworkpolicies/typo"),
        "DELETED", "typo", lambda e: None if not e["opened"] and not e["closed"] else "flows changed"))
    latencies.append(change(
        path, "the NetworkPolicy deleted",
        lambda: request("DELETE", "/apis/networking.k8s.io/v1/namespaces/web/networkpolicies/deny-egress"),
        "DELETED", "deny-egress",
        lambda e: None if ("web/frontend", "ai/rag-api", "TCP", "8080") in flows(e, "opened") else "not reopened"))
    print(f"figure: policy watch, API answer to event (example cluster): median "
          f"{statistics.median(latencies) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms over {len(latencies)} changes")


def resumed(path):
    """After the API server restarted and the watch listed again: a change is seen, with its flows."""
    change(path, "a pod relabelled after the relist",
           lambda: request("PATCH", "/api/v1/namespaces/ai/pods/rag-api", {"metadata": {"labels": {"app": "other"}}},
                           "application/merge-patch+json"),
           "MODIFIED", "rag-api",
           lambda e: None if ("ai/rag-api", "ai/vllm-0", "TCP", "8000") in flows(e, "closed") else "not closed")
    request("PATCH", "/api/v1/namespaces/ai/pods/rag-api", {"metadata": {"labels": {"app": "rag-api"}}},
            "application/merge-patch+json")


def latency(path):
    wait_for(path, lambda e: e["type"] == "SYNCED", "the first list", timeout=120)
    # scale-3's pods are denied from other namespaces by the example's baseline ClusterNetworkPolicy; this
    # policy allows every pod of the scale-* namespaces in: 1,999 sources to each of the 200 pods, on TCP,
    # UDP and SCTP (one range each: no rule tells the ports apart).
    allow = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
             "metadata": {"name": "allow-scale", "namespace": "scale-3"},
             "spec": {"podSelector": {}, "policyTypes": ["Ingress"],
                      "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"purpose": "scale"}}}]}]}}
    flows_changed = 200 * 1999 * 3
    latencies = []
    latencies.append(change(
        path, "a namespace opened to its neighbours among 2,000 pods", lambda: create(allow), "ADDED", "allow-scale",
        lambda e: None if e["openedTotal"] == flows_changed and len(e["opened"]) == 50 and e["closedTotal"] == 0
        else f"opened {e['openedTotal']} (expected {flows_changed}), listed {len(e['opened'])}, closed {e['closedTotal']}"))
    latencies.append(change(
        path, "a pod relabelled among 2,000 pods",
        lambda: request("PATCH", "/api/v1/namespaces/scale-3/pods/pod-7", {"metadata": {"labels": {"app": "x"}}},
                        "application/merge-patch+json"),
        "MODIFIED", "pod-7", lambda e: None if e["closedTotal"] == 0 and e["openedTotal"] == 0 else "flows changed"))
    latencies.append(change(
        path, "the policy deleted among 2,000 pods",
        lambda: request("DELETE", "/apis/networking.k8s.io/v1/namespaces/scale-3/networkpolicies/allow-scale"),
        "DELETED", "allow-scale",
        lambda e: None if e["closedTotal"] == flows_changed else f"closed {e['closedTotal']}"))
    # A burst: 100 pods relabelled at once (a rollout). Changes that arrive together are loaded together.
    before = lines_in(path)
    start = time.monotonic()
    names = {f"scale-5/pod-{i}" for i in range(100)}

    def relabel(name):
        namespace, pod = name.split("/")
        request("PATCH", f"/api/v1/namespaces/{namespace}/pods/{pod}", {"metadata": {"labels": {"rollout": "2"}}},
                "application/merge-patch+json")

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(relabel, sorted(names)))
    answered = time.monotonic()
    seen, events = set(), 0
    deadline = time.monotonic() + 120
    while seen != names and time.monotonic() < deadline:
        with open(path) as f:
            new_events = [json.loads(line) for line in f.read().splitlines()[before:]]
        events = len(new_events)
        seen = set()
        for e in new_events:
            if e["type"] == "MODIFIED" and e["kind"] == "Pod":
                seen.add(f"{e['namespace']}/{e['name']}")
            for line in e.get("objects") or []:
                seen.add(line.split(" ")[-1])
        time.sleep(0.01)
    if seen != names:
        raise SystemExit(f"a burst of 100 relabels: {len(seen & names)} of 100 seen in {events} events")
    if events >= 100:
        raise SystemExit(f"a burst of 100 relabels: {events} events, none taken together")
    done = time.monotonic()
    print(f"ok   a burst of 100 pods relabelled: all 100 in {events} events, the last "
          f"{(done - answered) * 1000:.0f} ms after the last answer ({(answered - start) * 1000:.0f} ms to send them)")
    print(f"figure: policy watch, API answer to event (2,000 pods, {flows_changed:,} flows opened or closed by the "
          f"policy): median {statistics.median(latencies) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms "
          f"over {len(latencies)} changes")


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
    elif sys.argv[1] == "changes":
        changes(sys.argv[2])
    elif sys.argv[1] == "synced":
        wait_for(sys.argv[2], lambda e: e["type"] == "SYNCED", "the first list")
    elif sys.argv[1] == "resumed":
        resumed(sys.argv[2])
    elif sys.argv[1] == "latency":
        latency(sys.argv[2])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
