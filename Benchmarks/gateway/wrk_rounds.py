"""Runs wrk against several targets, interleaved for several rounds, and prints a Markdown table of
median requests/s, p50 and p99 latency and the latency each adds over the first (direct) target.

Usage: wrk_rounds.py ROUNDS SECONDS CONNECTIONS NAME=URL [NAME=URL ...]
Environment: GATEHOUSE_KEY (sent by post.lua where the target needs it; targets whose name starts with
"gatehouse" get it, others not).
"""

import os
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def run(url, seconds, connections, key):
    environment = dict(os.environ, GATEHOUSE_KEY=key)
    output = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", os.path.join(HERE, "post.lua"), url],
        capture_output=True, text=True, env=environment, check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    latency = {}
    for percentile in ("50", "99"):
        value, unit = re.search(rf"\s{percentile}%\s+([\d.]+)(us|ms|s)", output).groups()
        latency[percentile] = float(value) * UNITS[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors:
        raise SystemExit(f"{url}: {errors.group(1)} non-2xx answers\n{output}")
    return rps, latency["50"], latency["99"]


def main():
    rounds, seconds, connections = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    targets = [argument.split("=", 1) for argument in sys.argv[4:]]
    key = os.environ.get("GATEHOUSE_KEY", "")
    results = {name: [] for name, _ in targets}
    for round_index in range(rounds):
        for name, url in targets:
            results[name].append(run(url, seconds, connections, key if name.startswith("gatehouse") else ""))
        print(f"round {round_index + 1} of {rounds} done", file=sys.stderr)
    medians = {name: tuple(statistics.median(sample[i] for sample in results[name]) for i in range(3)) for name in results}
    direct = medians[targets[0][0]]
    print(f"| target (c={connections}, {rounds}x{seconds}s, medians) | requests/s | p50 ms | p99 ms | added p50 ms | added p99 ms |")
    print("|---|---|---|---|---|---|")
    for name, _ in targets:
        rps, p50, p99 = medians[name]
        print(f"| {name} | {rps:,.0f} | {p50:.2f} | {p99:.2f} | {p50 - direct[1]:+.2f} | {p99 - direct[2]:+.2f} |")


if __name__ == "__main__":
    main()
