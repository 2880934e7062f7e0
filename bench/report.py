#!/usr/bin/env python3
"""Summarise one bench/scan.sh run: timing table, detection counts, goal ratios.

    python3 bench/report.py RESULTS_DIR CORPUS_DIR [--load "BEFORE / AFTER"] [--markdown OUT.md]

With --markdown, also writes the README's benchmark table (Markdown, ready to
paste) for the same run to OUT.md.

RESULTS_DIR holds, per tool NAME that ran:
    NAME.time.N     "<wall seconds> <peak RSS KiB> [<user seconds> <system seconds>]"
                    for timed run N (1..), as the last line of the file
    NAME.rc.N       exit status of run N
    NAME.out        the tool's output file from its last run
Next to CORPUS_DIR: CORPUS.planted.jsonl, CORPUS.decoys.jsonl, CORPUS.meta.json
(written by gen_corpus.py).
"""
import argparse
import glob
import json
import os
import platform
import statistics
import sys
import time

# name in scan.sh, label in the text table, label in the Markdown table
TOOLS = [("keytrace", "keytrace scan", "keytrace `scan --format json`"),
         ("rg-keywords", "rg keywords (floor)", "keyword floor: `rg -uu -c -F -i -f KEYWORDS` (`keytrace rules keywords`)"),
         ("grep", "grep -rF (floor)", "literal floor: `grep -rF sk_live_`"),
         ("rg", "rg -uuu -F (info)", "literal, parallel: `rg -uuu -F sk_live_`"),
         ("kingfisher", "kingfisher 2.14", "Kingfisher 2.14 `scan --no-validate`"),
         ("betterleaks", "betterleaks 2.0", "Betterleaks 2.0 `fs`")]
PEERS = ("kingfisher", "betterleaks")


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


def read_time(path):
    """(wall s, peak RSS KiB, CPU s or None) from the last line of a timer's output file."""
    lines = [l for l in open(path).read().splitlines() if l.strip()]
    parts = lines[-1].split()
    cpu = float(parts[2]) + float(parts[3]) if len(parts) >= 4 else None
    return float(parts[0]), int(parts[1]), cpu


def main():
    ap = argparse.ArgumentParser(description="Summarise one bench/scan.sh run.")
    ap.add_argument("results")
    ap.add_argument("corpus")
    ap.add_argument("--load", default="", help="load averages before / after the run, for the Markdown table")
    ap.add_argument("--markdown", help="also write the README benchmark table here")
    args = ap.parse_args()
    res, corpus = args.results, os.path.abspath(args.corpus.rstrip("/"))
    parent, stem = os.path.dirname(corpus), os.path.basename(corpus)
    meta = json.load(open(os.path.join(parent, stem + ".meta.json")))
    planted = load_jsonl(os.path.join(parent, stem + ".planted.jsonl"))
    decoys = load_jsonl(os.path.join(parent, stem + ".decoys.jsonl"))
    mb = meta["bytes"] / 1e6
    rows = {}
    for name, label, _ in TOOLS:
        times = sorted(glob.glob(os.path.join(res, name + ".time.*")))
        if not times:
            continue
        walls, rss, cpus, bad = [], [], [], []
        for t in times:
            n = t.rsplit(".", 1)[1]
            try:
                wall, kib, cpu = read_time(t)
                walls.append(wall)
                rss.append(kib)
                if cpu is not None:
                    cpus.append(cpu)
            except (OSError, ValueError, IndexError):
                bad.append(n)
            rcf = os.path.join(res, "%s.rc.%s" % (name, n))
            if os.path.exists(rcf) and open(rcf).read().strip() not in open(os.path.join(res, name + ".okrc")).read().split():
                bad.append(n)
        if not walls:
            continue
        count, locs = locations(name, os.path.join(res, name + ".out"), corpus)
        rows[name] = dict(label=label, med=statistics.median(walls), runs=walls, rss=max(rss) / 1024, count=count,
                          cpu=statistics.median(cpus) if cpus else None,
                          found=matched(planted, locs) if locs or name in ("keytrace", "kingfisher", "betterleaks") else None,
                          decoys=matched(decoys, locs) if locs or name in ("keytrace", "kingfisher", "betterleaks") else None,
                          failed=sorted(set(bad)))

    print()
    print("corpus: %s  (%d files, %.1f MB, seed %s, %d planted secrets, %d hard decoys)" % (
        corpus, meta["files"], mb, meta["seed"], len(planted), len(decoys)))
    hdr = "%-20s %9s %7s %8s %10s %9s %16s %11s  %s" % ("tool", "median s", "CPU s", "MB/s", "peak RSS", "findings", "planted found",
                                                          "decoys hit", "runs (s)")
    print(hdr)
    print("-" * len(hdr))
    for name, _, _ in TOOLS:
        r = rows.get(name)
        if not r:
            continue
        cnt = "-" if r["count"] is None else str(r["count"])
        print("%-20s %9.2f %7s %8.0f %7.0f MB %9s %16s %11s  %s%s" % (
            r["label"], r["med"], cpu_text(r), mb / r["med"], r["rss"], cnt, found_text(r, planted), decoys_text(r, decoys),
            " ".join("%.2f" % x for x in r["runs"]), "  FAILED runs: " + ",".join(r["failed"]) if r["failed"] else ""))
    print("(MB = 10^6 bytes of corpus; median of the timed runs; CPU = user + system; peak RSS = max over runs;"
          " 'findings' as counted in each tool's own JSON, grep/rg = matching lines)")

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
    lines, ok = goal_lines(rows)
    for line in lines:
        print("  " + line.rstrip())
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
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(markdown(rows, meta, planted, decoys, args.load))
    with open(os.path.join(res, "summary.json"), "w") as f:
        json.dump({n: {k: (len(v) if isinstance(v, list) and k in ("found", "decoys") else v) for k, v in r.items()} for n, r in rows.items()},
                  f, indent=2, default=str)
    return 0 if ok else 3


def found_text(r, planted):
    return "-" if r["found"] is None else "%d/%d (%.0f%%)" % (len(r["found"]), len(planted), 100.0 * len(r["found"]) / max(1, len(planted)))


def decoys_text(r, decoys):
    return "-" if r["decoys"] is None else "%d/%d" % (len(r["decoys"]), len(decoys))


def cpu_text(r):
    return "-" if r["cpu"] is None else "%.2f" % r["cpu"]


def goals(rows):
    """(what, value, goal, passed) per ratio the scan benchmark checks; passed is None for information."""
    kt = rows.get("keytrace")
    if not kt:
        return []
    out = []
    if "rg-keywords" in rows:
        r = kt["med"] / rows["rg-keywords"]["med"]
        out.append(("keytrace time / rg keyword floor", "%.2f" % r, "<= 1.00", r <= 1.0))
    if "grep" in rows:
        r = kt["med"] / rows["grep"]["med"]
        out.append(("keytrace time / grep time", "%.2f" % r, "<= 2.00", r <= 2.0))
    peers = [p for p in PEERS if p in rows]
    for peer in peers:
        out.append(("%s time / keytrace time" % peer, "%.2f" % (rows[peer]["med"] / kt["med"]), "", None))
    if peers:
        fastest = min(peers, key=lambda p: rows[p]["med"])
        r = rows[fastest]["med"] / kt["med"]
        out.append(("fastest peer (%s) / keytrace" % fastest, "%.2f" % r, ">= 5.00", r >= 5.0))
    out.append(("keytrace peak RSS", "%.0f MB" % kt["rss"], "< 200 MB", kt["rss"] < 200))
    return out


def goal_lines(rows):
    """The goals as the text report prints them, and whether all pass."""
    if "keytrace" not in rows:
        return ["keytrace did not run: no goals evaluated"], False
    lines = ["%-36s = %8s   %s" % (what, value, "goal %-8s  %s" % (goal, verdict(passed)) if goal else "")
             for what, value, goal, passed in goals(rows)]
    lines += ["%s not run (not installed?)" % p for p in PEERS if p not in rows]
    return lines, all(passed is not False for _, _, _, passed in goals(rows))


def verdict(passed):
    return "PASS" if passed else "FAIL"


def markdown(rows, meta, planted, decoys, load):
    """The README's scan benchmark table for this run, with the machine and the load it ran at."""
    cpu_model = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu_model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
    except OSError:
        pass
    kt = rows.get("keytrace")
    runs = max((len(r["runs"]) for r in rows.values()), default=0)
    out = ["Measured %s on %d cores (%s, %s), load average %s; corpus %.0f MB, %s files, %d planted secrets, %d hard decoys;"
           " median of %d runs, page cache warm; `BUILD=0 TABLE=1 bash bench/scan.sh`." % (
               time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), os.cpu_count() or 0, cpu_model or platform.machine(),
               platform.system(), load or "not recorded", meta["bytes"] / 1e6, format(meta["files"], ","), len(planted), len(decoys), runs),
           "",
           "| tool | wall s | CPU s | peak RSS | planted found | decoys reported | wall / keytrace wall |",
           "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, _, label in TOOLS:
        r = rows.get(name)
        if not r:
            continue
        ratio = "%.2f" % (r["med"] / kt["med"]) if kt else "-"
        out.append("| %s | %.2f | %s | %.0f MB | %s | %s | %s |" % (
            label, r["med"], cpu_text(r), r["rss"], found_text(r, planted), decoys_text(r, decoys), ratio))
    out.append("")
    out.append("Goals: " + "; ".join("%s %s (goal %s, %s)" % (what, value, goal, verdict(passed))
                                     for what, value, goal, passed in goals(rows) if goal) + ".")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.exit(main())
