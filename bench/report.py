#!/usr/bin/env python3
"""Summarise one bench/scan.sh run: timing table, detection counts, goal ratios.

    python3 bench/report.py RESULTS_DIR CORPUS_DIR

RESULTS_DIR holds, per tool NAME that ran:
    NAME.time.N     "<wall seconds> <peak RSS KiB>" for timed run N (1..)
    NAME.rc.N       exit status of run N
    NAME.out        the tool's output file from its last run
Next to CORPUS_DIR: CORPUS.planted.jsonl, CORPUS.decoys.jsonl, CORPUS.meta.json
(written by gen_corpus.py).
"""
import glob
import json
import os
import statistics
import sys

# display name, ok exit codes (documented in scan.sh)
TOOLS = [("keytrace", "keytrace scan"), ("rg-keywords", "rg -F -i -f KEYWORDS (floor)"), ("grep", "grep -rF (floor)"), ("rg", "rg -uuu -F (info)"),
         ("kingfisher", "kingfisher 2.14"), ("betterleaks", "betterleaks 2.0")]


def norm(path, corpus):
    if path is None:
        return None
    p = str(path)
    if p.startswith("file://"):
        p = p[7:]
    if os.path.isabs(p):
        rp = os.path.realpath(p)
        for root in (corpus, os.path.realpath(corpus)):
            if rp.startswith(root + "/"):
                return rp[len(root) + 1:]
            if p.startswith(root + "/"):
                return p[len(root) + 1:]
        return p
    p = p[2:] if p.startswith("./") else p
    base = os.path.basename(corpus)
    if not os.path.exists(os.path.join(corpus, p)) and p.startswith(base + "/"):
        p = p[len(base) + 1:]
    return p


def locations(name, out, corpus):
    """Returns (finding_count, list of (path, line)) or (None, []) if unparseable."""
    if not os.path.exists(out):
        return None, []
    if name in ("grep", "rg", "rg-keywords"):
        n = 0
        with open(out, "rb") as f:
            for _ in f:
                n += 1
        return n, []
    try:
        with open(out) as f:
            text = f.read()
        if name == "betterleaks" and out.endswith(".jsonl"):
            doc = {"findings": [json.loads(l) for l in text.splitlines() if l.strip()]}
        else:
            doc = json.loads(text) if text.strip() else {"findings": []}
    except (OSError, ValueError) as e:
        print("  note: cannot parse %s output %s: %s" % (name, out, e), file=sys.stderr)
        return None, []
    findings = doc if isinstance(doc, list) else doc.get("findings", doc.get("results", []))
    locs = []
    for f in findings:
        path = line = None
        if name == "keytrace":
            loc = f.get("location") or {}
            path, line = loc.get("path"), loc.get("line") or loc.get("start_line")
            end = loc.get("end_line")
        elif name == "kingfisher":
            x = f.get("finding") or f
            path, line, end = x.get("path"), x.get("line"), None
        elif name == "betterleaks":
            loc = f.get("location") or {}
            path = loc.get("path") or f.get("File")
            line = loc.get("start_line") or f.get("StartLine")
            end = loc.get("end_line") or f.get("EndLine")
        if path is None or line is None:
            continue
        p = norm(path, corpus)
        locs.append((p, int(line)))
        if end and int(end) != int(line):
            locs.append((p, int(end)))
    return len(findings), locs


def load_jsonl(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def matched(entries, locs):
    by_path = {}
    for p, l in locs:
        by_path.setdefault(p, set()).add(l)
    hit = []
    for e in entries:
        lines = by_path.get(e["path"])
        if lines and any(l in lines for l in e.get("lines") or [e["line"]]):
            hit.append(e)
    return hit


def main():
    res, corpus = sys.argv[1], os.path.abspath(sys.argv[2].rstrip("/"))
    parent, stem = os.path.dirname(corpus), os.path.basename(corpus)
    meta = json.load(open(os.path.join(parent, stem + ".meta.json")))
    planted = load_jsonl(os.path.join(parent, stem + ".planted.jsonl"))
    decoys = load_jsonl(os.path.join(parent, stem + ".decoys.jsonl"))
    mb = meta["bytes"] / 1e6
    rows = {}
    for name, label in TOOLS:
        times = sorted(glob.glob(os.path.join(res, name + ".time.*")))
        if not times:
            continue
        walls, rss, bad = [], [], []
        for t in times:
            n = t.rsplit(".", 1)[1]
            try:
                parts = open(t).read().split()
                walls.append(float(parts[-2]))
                rss.append(int(parts[-1]))
            except (OSError, ValueError, IndexError):
                bad.append(n)
            rcf = os.path.join(res, "%s.rc.%s" % (name, n))
            if os.path.exists(rcf) and open(rcf).read().strip() not in open(os.path.join(res, name + ".okrc")).read().split():
                bad.append(n)
        if not walls:
            continue
        count, locs = locations(name, os.path.join(res, name + ".out"), corpus)
        rows[name] = dict(label=label, med=statistics.median(walls), runs=walls, rss=max(rss) / 1024, count=count,
                          found=matched(planted, locs) if locs or name in ("keytrace", "kingfisher", "betterleaks") else None,
                          decoys=matched(decoys, locs) if locs or name in ("keytrace", "kingfisher", "betterleaks") else None,
                          failed=sorted(set(bad)))

    print()
    print("corpus: %s  (%d files, %.1f MB, seed %s, %d planted secrets, %d hard decoys)" % (
        corpus, meta["files"], mb, meta["seed"], len(planted), len(decoys)))
    hdr = "%-20s %9s %8s %10s %9s %16s %11s  %s" % ("tool", "median s", "MB/s", "peak RSS", "findings", "planted found", "decoys hit", "runs (s)")
    print(hdr)
    print("-" * len(hdr))
    for name, _ in TOOLS:
        r = rows.get(name)
        if not r:
            continue
        found = "-" if r["found"] is None else "%d/%d (%.0f%%)" % (len(r["found"]), len(planted), 100.0 * len(r["found"]) / max(1, len(planted)))
        dec = "-" if r["decoys"] is None else "%d/%d" % (len(r["decoys"]), len(decoys))
        cnt = "-" if r["count"] is None else str(r["count"])
        print("%-20s %9.2f %8.0f %7.0f MB %9s %16s %11s  %s%s" % (
            r["label"], r["med"], mb / r["med"], r["rss"], cnt, found, dec, " ".join("%.2f" % x for x in r["runs"]),
            "  FAILED runs: " + ",".join(r["failed"]) if r["failed"] else ""))
    print("(MB = 10^6 bytes of corpus; median of the timed runs; peak RSS = max over runs; 'findings' as counted"
          " in each tool's own JSON, grep/rg = matching lines)")

    # detection by type
    types = sorted({p["type"] + ("/" + p["encoding"] if p.get("encoding") else "") for p in planted})
    scanners = [n for n in ("keytrace", "kingfisher", "betterleaks") if n in rows and rows[n]["found"] is not None]
    if scanners and planted:
        print()
        print("planted secrets found, by type:")
        print("  %-34s %6s  %s" % ("type", "count", "  ".join("%11s" % n for n in scanners)))
        for t in types:
            ents = [p for p in planted if p["type"] + ("/" + p["encoding"] if p.get("encoding") else "") == t]
            cols = []
            for n in scanners:
                ids = {id(e) for e in rows[n]["found"]}
                cols.append("%11d" % sum(1 for e in ents if id(e) in ids))
            print("  %-34s %6d  %s" % (t, len(ents), "  ".join(cols)))
        dtypes = sorted({d["type"] for d in decoys})
        if decoys:
            print("hard decoys reported (should be 0), by type:")
            for t in dtypes:
                ents = [d for d in decoys if d["type"] == t]
                cols = []
                for n in scanners:
                    ids = {id(e) for e in rows[n]["decoys"]}
                    cols.append("%11d" % sum(1 for e in ents if id(e) in ids))
                print("  %-34s %6d  %s" % (t, len(ents), "  ".join(cols)))

    # ratios and goals
    print()
    print("ratios (same run, same tree):")
    kt = rows.get("keytrace")
    ok = True
    if kt and "grep" in rows:
        r = kt["med"] / rows["grep"]["med"]
        g = r <= 2.0
        ok &= g
        print("  keytrace time / grep time      = %5.2f   goal <= 2.00   %s" % (r, "PASS" if g else "FAIL"))
    for peer in ("kingfisher", "betterleaks"):
        if kt and peer in rows:
            r = rows[peer]["med"] / kt["med"]
            g = r > 1.0
            ok &= g
            print("  %-11s time / keytrace time = %5.2f   goal  > 1.00   %s" % (peer, r, "PASS" if g else "FAIL"))
        elif peer not in rows:
            print("  %-11s not run (not installed?)" % peer)
    if kt:
        g = kt["rss"] < 500
        ok &= g
        print("  keytrace peak RSS              = %5.0f MB goal < 500 MB  %s" % (kt["rss"], "PASS" if g else "FAIL"))
    else:
        print("  keytrace did not run: no goals evaluated")
    if "rg" in rows and kt:
        print("  (info) keytrace time / rg time = %.2f" % (kt["med"] / rows["rg"]["med"]))
    missed = [p for p in planted if kt and kt["found"] is not None and p not in kt["found"]]
    if kt and missed:
        print()
        print("keytrace missed %d planted secrets (first 15):" % len(missed))
        for p in missed[:15]:
            print("  %-22s %s:%d%s" % (p["type"], p["path"], p["line"], " (%s)" % p["encoding"] if p.get("encoding") else ""))
    if kt and kt["decoys"]:
        print("keytrace reported %d hard decoys (first 15):" % len(kt["decoys"]))
        for d in kt["decoys"][:15]:
            print("  %-22s %s:%d" % (d["type"], d["path"], d["line"]))
    with open(os.path.join(res, "summary.json"), "w") as f:
        json.dump({n: {k: (len(v) if isinstance(v, list) and k in ("found", "decoys") else v) for k, v in r.items()} for n, r in rows.items()},
                  f, indent=2, default=str)
    return 0 if ok else 3


if __name__ == "__main__":
    sys.exit(main())
