"""Checks `gatehouse policy lint` over one rendered overlay and the fixture cluster: no finding about
the gatehouse namespace or its policies, but the one that is deliberate (the example PostgreSQL makes
no connections, so it has no DNS either). Findings about the fixture's other namespaces (they have no
policies) are not deploy/'s.

usage: lint.py GATEHOUSE FILE...
"""
import json
import subprocess
import sys

gatehouse, files = sys.argv[1], sys.argv[2:]
arguments = [gatehouse, "policy", "lint", "-o", "json"]
for file in files:
    arguments += ["-f", file]
run = subprocess.run(arguments, capture_output=True, text=True)
if run.returncode not in (0, 1):
    sys.exit(f"lint failed: {run.stderr}")
DELIBERATE = {("egress-blocks-dns", "Namespace gatehouse", "(gatehouse-postgres-0)")}
unexpected = []
for finding in json.loads(run.stdout):
    if "gatehouse" not in finding["object"]:
        continue
    if any(code == finding["code"] and subject == finding["object"] and detail in finding["message"]
           for code, subject, detail in DELIBERATE):
        print(f"deliberate: {finding['code']} {finding['object']}: {finding['message']}")
        continue
    unexpected.append(finding)
    print(f"UNEXPECTED {finding['severity']} {finding['code']} {finding['object']}: {finding['message']}")
print(f"lint: {len(unexpected)} unexpected finding(s) about the gatehouse namespace")
sys.exit(1 if unexpected else 0)
