"""Sends request bodies that once held an event loop for seconds to minutes, one at a time, and meanwhile
asks GET /v1/models from other connections every 50 ms: prints how long each body took to be answered,
its status, and the slowest answer the second client got meanwhile.

Usage: hostile_bodies.py NAME=BASE_URL [NAME=BASE_URL ...]   (a gateway with a blocking secrets guardrail)
Environment: GATEHOUSE_KEY, the key sent to every gateway. A body not answered within 60 s is reported as
such and its connection dropped.
"""

import http.client
import json
import os
import sys
import threading
import time
import urllib.parse

LIMIT_SECONDS = 60


def chat(content):
    return json.dumps({"model": "fixture-small", "messages": [{"role": "user", "content": content}]})


def many_keys(count):
    body = '{"model":"fixture-small","messages":[{"role":"user","content":"hi"}]'
    body += "".join(f',"k{index}":1' for index in range(count))
    return body + f',"k{count - 1}":2}}'


BODIES = [
    ("60,000 top-level keys (633 KiB)", many_keys(60_000)),
    ("JWT shapes, 781 KiB", chat("eyJhbGciOi." * (781 * 1024 // 11))),
    ("JWT shapes, 3.4 MiB", chat("eyJhbGciOi." * (3400 * 1024 // 11))),
    ("AWS key shapes, 1 MiB", chat(("AKIA" + "IOSFODNN7" + "EXAMPLE ") * (1024 * 1024 // 21))),
]


def connect(base):
    parts = urllib.parse.urlsplit(base)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=LIMIT_SECONDS)


def measure(base, key, body):
    """The hostile body's answer time and status, and the slowest answer the other clients got meanwhile.
    The gateway hands connections to its event loops in turn, so one other client per core (connected one
    after another) has one on every loop, the hostile body's among them. A failed answer counts as the
    limit."""
    slowest = [0.0]
    done = threading.Event()

    def other_client():
        connection = connect(base)
        while not done.is_set():
            started = time.monotonic()
            try:
                connection.request("GET", "/v1/models", headers={"Authorization": f"Bearer {key}"})
                connection.getresponse().read()
                slowest[0] = max(slowest[0], time.monotonic() - started)
            except (OSError, http.client.HTTPException):
                slowest[0] = LIMIT_SECONDS
                time.sleep(0.05)
                connection = connect(base)
                continue
            time.sleep(0.05)

    others = [threading.Thread(target=other_client, daemon=True) for _ in range(os.cpu_count() or 2)]
    for other in others:
        other.start()
        time.sleep(0.05)
    time.sleep(0.2)
    started = time.monotonic()
    try:
        connection = connect(base)
        connection.request(
            "POST",
            "/v1/chat/completions",
            body=body.encode(),
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        )
        response = connection.getresponse()
        response.read()
        status = str(response.status)
    except (OSError, http.client.HTTPException):
        status = f"no answer in {LIMIT_SECONDS} s"
    finally:
        elapsed = time.monotonic() - started
        done.set()
        for other in others:
            other.join(LIMIT_SECONDS)
    return elapsed, status, slowest[0]


def main():
    key = os.environ["GATEHOUSE_KEY"]
    targets = [argument.split("=", 1) for argument in sys.argv[1:]]
    print("| body | " + " | ".join(f"{name}: answered in, status, other client's slowest" for name, _ in targets) + " |")
    print("|---|" + "---|" * len(targets))
    for label, body in BODIES:
        cells = []
        for _, base in targets:
            elapsed, status, slowest = measure(base, key, body)
            cells.append(f"{elapsed * 1000:,.0f} ms, {status}, {slowest * 1000:,.0f} ms")
        print(f"| {label} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
