"""Time to the first streamed event, direct to the fixture and through a proxy, N sequential requests.

Usage: first_event.py N URL [URL ...] (each URL is a base such as http://127.0.0.1:9100 or https://...).
Environment: GATEHOUSE_KEY (sent as a bearer token), GATEHOUSE_CA (server certificate for https).
Prints one line per URL: median and p99 of the time from sending the request to the first `data:` line,
in milliseconds. The URLs are measured interleaved (one request each in turn), so noise hits all alike.
"""

import http.client
import json
import os
import ssl
import statistics
import sys
import time
import urllib.parse

BODY = json.dumps({"model": "fixture-small", "stream": True, "messages": [{"role": "user", "content": "hi"}]})


def connection(base):
    url = urllib.parse.urlparse(base)
    if url.scheme == "https":
        context = ssl.create_default_context(cafile=os.environ.get("GATEHOUSE_CA"))
        return http.client.HTTPSConnection(url.hostname, url.port, context=context)
    return http.client.HTTPConnection(url.hostname, url.port)


def first_event(conn):
    headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
    key = os.environ.get("GATEHOUSE_KEY")
    if key:
        headers["Authorization"] = "Bearer " + key
    started = time.perf_counter()
    conn.request("POST", "/v1/chat/completions", body=BODY, headers=headers)
    response = conn.getresponse()
    while True:
        line = response.readline()
        if line.startswith(b"data:"):
            elapsed = time.perf_counter() - started
            break
        if not line:
            raise RuntimeError("stream ended without an event")
    response.read()
    return elapsed * 1000


def main():
    count = int(sys.argv[1])
    bases = sys.argv[2:]
    connections = [connection(base) for base in bases]
    samples = [[] for _ in bases]
    for index in range(count + 20):
        for slot, conn in enumerate(connections):
            value = first_event(conn)
            if index >= 20:  # warm-up
                samples[slot].append(value)
    for base, values in zip(bases, samples):
        values.sort()
        p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
        print(f"{base} median {statistics.median(values):.3f} ms p99 {p99:.3f} ms")


if __name__ == "__main__":
    main()
