#!/usr/bin/env python3
"""Writes a synthetic `keytrace sweep` report of N repositories (default 10,000) to stdout,
for measuring `keytrace merge` memory (bench/sweep.sh). Deterministic for a given N and seed.

Each repository has a HEAD, counts, an error now and then, and 0-12 findings: unmanaged
values of its own (some stale), values shared with other repositories, and findings of 50
inventory credentials, each with 1-4 places in history. Only fingerprints and redactions,
as a real report holds; the views (credentials, unmanaged, stale, totals) are left empty,
since `merge` rebuilds them from the repository entries.
"""
import hashlib
import json
import random
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
rnd = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 13)


def fp(label):
    return "sha256:" + hashlib.sha256(label.encode()).hexdigest()


def sha(label):
    return hashlib.sha1(label.encode()).hexdigest()


out = sys.stdout
out.write('{"schema_version": 1, "report": "keytrace-sweep", "totals": {}, "credentials": [],'
          ' "unmanaged": [], "stale": [], "repositories": [\n')
for i in range(n):
    path = f"/srv/repos/org{i % 40:02d}/service-{i:05d}"
    findings = []
    for j in range(rnd.randint(0, 12)):
        roll = rnd.random()
        places = [{"path": f"src/m{rnd.randrange(9)}/config{j}.py", "line": rnd.randint(1, 400),
                   "commit": sha(f"{i}-{j}-{k}")} for k in range(rnd.randint(1, 4))]
        places.sort(key=lambda p: (p["path"], p["line"], p["commit"]))
        f = {"kind": "unmanaged-secret", "severity": "high", "rule": "github-pat",
             "shown": "ghp_…(40 chars)", "first_seen": "2025-06-01T10:00:00+00:00", "places": places}
        if roll < 0.15:
            f.update(kind="active-secret-exposed", severity="critical",
                     fingerprint=fp(f"cred-{rnd.randrange(50)}"),
                     credential=f"cred-{rnd.randrange(50):02d}", version=1)
        elif roll < 0.35:
            f["fingerprint"] = fp(f"shared-{rnd.randrange(500)}")
        else:
            f["fingerprint"] = fp(f"own-{i}-{j}")
            if roll > 0.9:
                f.update(kind="stale-secret", first_seen="2021-03-04T05:06:07+00:00", age_days=2100)
        findings.append(f)
    by_kind = {}
    for f in findings:
        by_kind[f["kind"]] = by_kind.get(f["kind"], 0) + 1
    entry = {"path": path, "head": sha(path), "bare": True, "files_scanned": 0,
             "blobs_scanned": rnd.randint(50, 5000), "blobs_reused": 0,
             "findings_by_kind": dict(sorted(by_kind.items())),
             "errors": ["warning[shallow-clone]: x: shallow"] if i % 97 == 0 else [],
             "findings": findings}
    out.write(("," if i else "") + json.dumps(entry) + "\n")
out.write("]}\n")
