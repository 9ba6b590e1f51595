"""Sends N chat requests at once, spread round-robin over several gateways, and prints how they ended.

usage: load.py KEY COUNT HOST:PORT [HOST:PORT ...]
Prints one JSON object: counts of status codes (and "error" for connections that failed, as when the
gateway serving them is killed), per gateway too.
"""
import http.client
import json
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

key, count, targets = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
body = json.dumps({"model": "fixture-small", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]})
start = threading.Barrier(min(count, 1000))


def call(index):
    target = targets[index % len(targets)]
    host, port = target.rsplit(":", 1)
    try:
        start.wait(timeout=30)
    except threading.BrokenBarrierError:
        pass
    try:
        connection = http.client.HTTPConnection(host, int(port), timeout=60)
        connection.request("POST", "/v1/chat/completions", body,
                           {"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        return target, str(response.status)
    except Exception:
        return target, "error"


totals, by_target = {}, {}
with ThreadPoolExecutor(max_workers=min(count, 1000)) as pool:
    for target, outcome in pool.map(call, range(count)):
        totals[outcome] = totals.get(outcome, 0) + 1
        by_target.setdefault(target, {})[outcome] = by_target.setdefault(target, {}).get(outcome, 0) + 1
print(json.dumps({"totals": totals, "gateways": by_target}))
