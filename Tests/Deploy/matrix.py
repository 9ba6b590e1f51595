"""Checks that deploy/'s NetworkPolicies allow exactly the intended flows into and out of the gatehouse
namespace, with Gatehouse's own `policy matrix`, over the fixture cluster and the pods of one rendered
overlay.

usage: matrix.py GATEHOUSE OVERLAY-NAME FILE...   (FILEs: rendered manifests, cluster.yaml, pods.json)
Prints each flow that differs and exits 1 when any does; prints the allowed flows it checked otherwise.
"""
import json
import subprocess
import sys

gatehouse, overlay, files = sys.argv[1], sys.argv[2], sys.argv[3:]
DATABASE = "192.0.2.10"      # external-postgres's database address
INTERNET = "203.0.113.7"     # anywhere else
PORTS = [(8443, "TCP"), (8444, "TCP"), (8000, "TCP"), (9090, "TCP"), (5432, "TCP"), (53, "UDP"), (53, "TCP"),
         (8080, "TCP"), (9153, "TCP")]

GATEWAYS = ["gatehouse/gatehouse-0", "gatehouse/gatehouse-1"]
intended = set()
for gateway in GATEWAYS:
    intended |= {
        ("apps/chat-ui", gateway, 8443, "TCP"),                 # a client namespace: the data plane only
        ("monitoring/prometheus-0", gateway, 8444, "TCP"),      # an admin namespace: the admin API only
        (gateway, "ai-models/vllm-0", 8000, "TCP"),             # the models, on their serving port only
        (gateway, "kube-system/coredns-0", 53, "UDP"),
        (gateway, "kube-system/coredns-0", 53, "TCP"),
    }
    if overlay == "try-it":
        intended.add((gateway, "gatehouse/gatehouse-postgres-0", 5432, "TCP"))
    else:
        intended.add((gateway, f"ip:{DATABASE}", 5432, "TCP"))


def ours(endpoint):
    return endpoint.startswith("gatehouse/")


differences, checked = [], 0
for port, protocol in PORTS:
    arguments = [gatehouse, "policy", "matrix", "--port", str(port), "--protocol", protocol,
                 "--external", DATABASE, "--external", INTERNET, "-o", "json"]
    for file in files:
        arguments += ["-f", file]
    matrix = json.loads(subprocess.run(arguments, check=True, capture_output=True, text=True).stdout)
    endpoints = matrix["endpoints"]
    for row, source in enumerate(endpoints):
        for column, destination in enumerate(endpoints):
            # Flows that neither start nor end in the namespace are other policies' business.
            if source == destination or not (ours(source) or ours(destination)):
                continue
            checked += 1
            allowed = matrix["allowed"][row][column]
            expected = (source, destination, port, protocol) in intended
            if allowed != expected:
                differences.append(f"{source} -> {destination} {port}/{protocol}: "
                                   f"{'allowed' if allowed else 'denied'}, should be {'allowed' if expected else 'denied'}")
            elif allowed:
                print(f"allowed as intended: {source} -> {destination} {port}/{protocol}")
for line in differences:
    print(f"DIFFERS {line}")
print(f"{overlay}: {checked} flows into or out of the gatehouse namespace checked, {len(differences)} differ")
sys.exit(1 if differences else 0)
