"""Throughput of the gateway with every check on, by store, and of three replicas sharing one PostgreSQL,
side by side: rounds of wrk runs, the order rotating from round to round, medians reported.

usage: replicas.py ROUNDS SECONDS CONNECTIONS sqlite=URL@PID postgres=URL@PID replicas=URL@PID,URL@PID,...
Each target is one or more gateways; a target of several is loaded by one wrk per gateway at once, the
connections split between them, and its requests/s summed. CPU µs per request is the gateways' own
(utime + stime over requests) and, beside it, that of every process of the postgres user (the server).
Environment: GATEHOUSE_KEY (sent by post.lua), valid on every target's store.
"""
import os
import pwd
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def cpu_seconds(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def postgres_pids():
    uid = pwd.getpwnam("postgres").pw_uid
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and os.stat(f"/proc/{p}").st_uid == uid]


def run(gateways, seconds, connections):
    pids = [pid for _, pid in gateways]
    database = postgres_pids()
    before, database_before = cpu_seconds(pids), cpu_seconds(database)
    runs = [subprocess.Popen(["wrk", "-t1", f"-c{max(1, connections // len(gateways))}", f"-d{seconds}s",
                              "-s", os.path.join(HERE, "post.lua"), url], stdout=subprocess.PIPE, text=True)
            for url, _ in gateways]
    outputs = [process.communicate()[0] for process in runs]
    requests = 0
    rps = 0.0
    for output in outputs:
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
        if errors:
            raise SystemExit(f"{errors.group(1)} non-2xx answers\n{output}")
        rps += float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
        requests += int(re.search(r"(\d+) requests in", output).group(1))
    gateway_cpu = (cpu_seconds(pids) - before) / requests * 1e6
    database_cpu = (cpu_seconds(database) - database_before) / requests * 1e6
    return rps, gateway_cpu, database_cpu


def main():
    rounds, seconds, connections = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    targets = []
    for argument in sys.argv[4:]:
        name, rest = argument.split("=", 1)
        targets.append((name, [(url, int(pid)) for url, pid in (g.rsplit("@", 1) for g in rest.split(","))]))
    results = {name: [] for name, _ in targets}
    for round_index in range(rounds):
        shift = round_index % len(targets)
        for name, gateways in targets[shift:] + targets[:shift]:
            results[name].append(run(gateways, seconds, connections))
        print(f"round {round_index + 1} of {rounds} done", file=sys.stderr)
    medians = {name: [statistics.median(sample[i] for sample in results[name]) for i in range(3)] for name in results}
    first = medians[targets[0][0]][0]
    print(f"| target (c={connections} in all, {rounds}x{seconds}s, medians) | requests/s | vs {targets[0][0]} | "
          "gateway CPU µs/request | PostgreSQL CPU µs/request |")
    print("|---|---|---|---|---|")
    for name, _ in targets:
        rps, gateway_cpu, database_cpu = medians[name]
        print(f"| {name} | {rps:,.0f} | {rps / first:.2f}x | {gateway_cpu:.0f} | {database_cpu:.0f} |")


if __name__ == "__main__":
    main()
