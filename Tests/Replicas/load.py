"""Sends N chat requests at once, spread round-robin over several gateways, and prints how they ended.

usage: load.py KEY COUNT HOST:PORT [HOST:PORT ...]
With STREAM=1 in the environment the requests are streamed (they last as long as the model streams).
Prints one JSON object: counts of status codes (and "error" for connections that failed, as when the
gateway serving them is killed), per gateway too, under "ok" the x-request-id (load-INDEX, sent by
the client) and gateway of every request answered 200, to match against the audit trail, under
"seconds" the fastest, median and slowest answer of each status, and under "messages" the error message
of one answer of each status but 200.
"""
import http.client
import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

key, count, targets = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
body = json.dumps({"model": "fixture-small", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}],
                   "stream": os.environ.get("STREAM") == "1"})
start = threading.Barrier(min(count, 1000))


def call(index):
    target = targets[index % len(targets)]
    host, port = target.rsplit(":", 1)
    try:
        start.wait(timeout=30)
    except threading.BrokenBarrierError:
        pass
    began = time.monotonic()
    try:
        connection = http.client.HTTPConnection(host, int(port), timeout=60)
        connection.request("POST", "/v1/chat/completions", body,
                           {"Authorization": f"Bearer {key}", "Content-Type": "application/json",
                            "X-Request-Id": f"load-{index}"})
        response = connection.getresponse()
        answer = response.read()
        message = None
        if response.status != 200:
            try:
                message = json.loads(answer)["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = answer.decode(errors="replace")[:200]
        return index, target, str(response.status), time.monotonic() - began, message
    except Exception as error:
        return index, target, "error", time.monotonic() - began, repr(error)


totals, by_target, ok, seconds, messages = {}, {}, {}, {}, {}
with ThreadPoolExecutor(max_workers=min(count, 1000)) as pool:
    for index, target, outcome, took, message in pool.map(call, range(count)):
        seconds.setdefault(outcome, []).append(took)
        if message is not None:
            messages.setdefault(outcome, message)
        totals[outcome] = totals.get(outcome, 0) + 1
        by_target.setdefault(target, {})[outcome] = by_target.setdefault(target, {}).get(outcome, 0) + 1
        if outcome == "200":
            ok[f"load-{index}"] = target
spread = {outcome: [round(min(times), 3), round(sorted(times)[len(times) // 2], 3), round(max(times), 3)]
          for outcome, times in seconds.items()}
print(json.dumps({"totals": totals, "gateways": by_target, "ok": ok, "seconds": spread, "messages": messages}))
