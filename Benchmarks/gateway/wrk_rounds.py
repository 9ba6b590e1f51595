"""Runs wrk against several targets, interleaved for several rounds (the order rotating from round to
round), and prints a Markdown table of
median requests/s, p50 and p99 latency and the latency each adds over the first (direct) target.

Usage: wrk_rounds.py ROUNDS SECONDS CONNECTIONS NAME=URL[@PID,PID...] [NAME=URL[@PIDS] ...]
With PIDs, the CPU time those processes used during each run is divided by the requests served:
CPU microseconds per request, a figure less sensitive than throughput to what else the machine does,
given with its user and system (kernel) parts.
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


def cpu_seconds(pids):
    """User and system CPU seconds the processes have used."""
    user = system = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        user += int(fields[11])  # utime, in clock ticks
        system += int(fields[12])  # stime
    ticks = os.sysconf("SC_CLK_TCK")
    return user / ticks, system / ticks


def run(url, seconds, connections, key, pids):
    cpu_before = cpu_seconds(pids)
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
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    cpu_after = cpu_seconds(pids)
    nan = float("nan")
    user, system = ((cpu_after[i] - cpu_before[i]) / requests * 1e6 if pids else nan for i in range(2))
    return rps, latency["50"], latency["99"], user + system, user, system


def main():
    rounds, seconds, connections = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    targets = []
    for argument in sys.argv[4:]:
        name, rest = argument.split("=", 1)
        url, _, pids = rest.partition("@")
        targets.append((name, url, [int(pid) for pid in pids.split(",") if pid]))
    key = os.environ.get("GATEHOUSE_KEY", "")
    results = {name: [] for name, _, _ in targets}
    for round_index in range(rounds):
        # Each round starts one target later, so no target always runs in the same place in a round.
        shift = round_index % len(targets)
        for name, url, pids in targets[shift:] + targets[:shift]:
            results[name].append(run(url, seconds, connections, key if name.startswith("gatehouse") else "", pids))
        print(f"round {round_index + 1} of {rounds} done", file=sys.stderr)
    medians = {name: tuple(statistics.median(sample[i] for sample in results[name]) for i in range(6)) for name in results}
    direct = medians[targets[0][0]]
    print(f"| target (c={connections}, {rounds}x{seconds}s, medians) | requests/s | p50 ms | p99 ms | added p50 ms | added p99 ms | proxy CPU µs/request (user + system) |")
    print("|---|---|---|---|---|---|---|")
    for name, _, _ in targets:
        rps, p50, p99, cpu, user, system = medians[name]
        cpu_text = "" if cpu != cpu else f"{cpu:.0f} ({user:.0f} + {system:.0f})"
        print(f"| {name} | {rps:,.0f} | {p50:.2f} | {p99:.2f} | {p50 - direct[1]:+.2f} | {p99 - direct[2]:+.2f} | {cpu_text} |")


if __name__ == "__main__":
    main()
