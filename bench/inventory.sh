#!/usr/bin/env bash
# Inventory matching overhead: `keytrace scan` on a generated tree, without an
# inventory and with one of 100,000 credentials. Prints the overhead in %, for
# a cold run (the inventory validated and indexed from scratch, as on a fresh
# CI checkout) and a warm one (its tables read back from keytrace's cache, as
# in repeated sweeps against an unchanged inventory).
#
#   bash bench/inventory.sh                    # build, generate/reuse the corpus, measure
#   BUILD=0 SIZE_MB=100 RUNS=5 bash bench/inventory.sh
#
# Environment (all optional):
#   SIZE_MB=520 SEED=42      corpus size and seed (bench/gen_corpus.py; reused when unchanged)
#   CORPUS=DIR               tree to scan (default: the scan benchmark's corpus,
#                            ${TMPDIR:-/tmp}/keytrace-bench/corpus, when it is there at this size)
#   CREDENTIALS=100000       credentials in the generated inventory
#   RUNS=5 WARMUP=1          timed runs per variant (median reported), untimed warm-ups
#   BUILD=1                  0 = do not run `cargo build --release`
#   CACHE_DIR=${TMPDIR:-/tmp}/keytrace-bench-inventory
#   KEYTRACE=target/release/keytrace
#
# The inventory holds the fingerprints of every secret the scan finds (half
# active, half revoked with a reset record, some with identifiers), padded with
# random fingerprints to CREDENTIALS entries, so that every match is a hit and
# the lookup table is full size. The revoked versions carry their length, as
# `inventory add` and `rotate` record it, so the scan's known-value pass looks
# for every one of them. Goal: overhead <= 5 %.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
SIZE_MB=${SIZE_MB:-520}
SEED=${SEED:-42}
CREDENTIALS=${CREDENTIALS:-100000}
RUNS=${RUNS:-5}
WARMUP=${WARMUP:-1}
BUILD=${BUILD:-1}
CACHE_DIR=${CACHE_DIR:-${TMPDIR:-/tmp}/keytrace-bench-inventory}
KEYTRACE=${KEYTRACE:-$ROOT/target/release/keytrace}
SCAN_CORPUS=${TMPDIR:-/tmp}/keytrace-bench/corpus
if [[ -z ${CORPUS:-} ]]; then
  CORPUS=$CACHE_DIR/corpus-$SIZE_MB-$SEED
  if [[ -d $SCAN_CORPUS ]] && python3 -c "import json,sys; m=json.load(open(sys.argv[1])); sys.exit(0 if m['seed']==int(sys.argv[2]) and float(m['size_mb'])==float(sys.argv[3]) else 1)" "$SCAN_CORPUS.meta.json" "$SEED" "$SIZE_MB" 2>/dev/null; then
    CORPUS=$SCAN_CORPUS
  fi
fi
INVENTORY=$CACHE_DIR/inventory-$CREDENTIALS.json

note() { printf '%s\n' "$*" >&2; }
command -v python3 >/dev/null || { note "error: python3 is required"; exit 2; }
mkdir -p "$CACHE_DIR"

if [[ $BUILD != 0 ]]; then
  note "== cargo build --release"
  (cd "$ROOT" && cargo build --release)
fi
[[ -x $KEYTRACE ]] || { note "error: no binary at $KEYTRACE"; exit 2; }

if [[ ! -d $CORPUS ]]; then
  note "== generating a $SIZE_MB MB corpus in $CORPUS"
  python3 "$HERE/gen_corpus.py" "$CORPUS" --size-mb "$SIZE_MB" --seed "$SEED" >/dev/null
fi

# Never pick up a keytrace-inventory.json from the current directory by accident.
cd "$CACHE_DIR"
rm -f keytrace-inventory.json
# keytrace's own cache of inventory tables lives here, never in ~/.cache.
KT_CACHE=$CACHE_DIR/keytrace-cache
rm -rf "$KT_CACHE"
note "== building an inventory of $CREDENTIALS credentials from the scan's findings"
KEYTRACE_CACHE_DIR= "$KEYTRACE" scan "$CORPUS" --format json --quiet -o "$CACHE_DIR/baseline.json" || true
python3 - "$CACHE_DIR/baseline.json" "$INVENTORY" "$CREDENTIALS" <<'PY'
import json, os, random, sys, time
report, out, total = sys.argv[1], sys.argv[2], int(sys.argv[3])
found = json.load(open(report))["findings"]
# The canonical length (as `inventory add` records it): the corpus's secrets are ASCII,
# so the report's character count is their byte length.
length = {f["secret"]["fingerprint"]: int(f["secret"]["redacted"].rsplit("(", 1)[1].split()[0]) for f in found}
fps = sorted(length)
rng = random.Random(7)
creds = []
for i, fp in enumerate(fps):
    v = {"fingerprint": fp, "hint": "", "created": "2026-01-01T00:00:00Z", "status": "active"}
    if i % 2:
        v.update(status="revoked", revoked="2026-06-01T00:00:00Z", length=length[fp],
                 reset={"by": "alice", "approved_by": "bob", "ticket": f"SEC-{i}", "reason": "bench"})
    creds.append({"id": f"found-{i:06d}", "kind": "bench", "owner": "team", "rotation_days": 90,
                  "references": [], "retired_references": [], "identifiers": [], "versions": [v]})
while len(creds) < total:
    i = len(creds)
    fp = "sha256:%064x" % rng.getrandbits(256)
    ident = ["AKIA%016X" % rng.getrandbits(64)] if i % 10 == 0 else []
    creds.append({"id": f"pad-{i:06d}", "kind": "bench", "owner": "", "references": [f"env:VAR_{i}"],
                  "retired_references": [], "identifiers": ident,
                  "versions": [{"fingerprint": fp, "hint": "", "created": "2025-01-01T00:00:00Z", "status": "active"}]})
creds.sort(key=lambda c: c["id"])
json.dump({"version": 1, "credentials": creds}, open(out, "w"), indent=2)
# An inventory nobody is editing: keytrace caches tables only for a settled file.
os.utime(out, (time.time() - 3600, time.time() - 3600))
print(f"{len(fps)} distinct fingerprints found, inventory of {len(creds)} credentials", file=sys.stderr)
PY

# "WALL CPU": wall and CPU (user + system) seconds of one run of "$@".
time_one() {
  python3 -c '
import resource, subprocess, sys, time
t0 = time.perf_counter()
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
wall = time.perf_counter() - t0
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{wall:.4f} {r.ru_utime + r.ru_stime:.4f}")' "$@"
}

note "== timing ($RUNS runs each, interleaved so that machine noise hits all alike; median)"
plain=(env KEYTRACE_CACHE_DIR= "$KEYTRACE" scan "$CORPUS" --format json --quiet)
cold=(env KEYTRACE_CACHE_DIR= "$KEYTRACE" scan "$CORPUS" --format json --quiet --inventory "$INVENTORY")
warm=(env KEYTRACE_CACHE_DIR="$KT_CACHE" "$KEYTRACE" scan "$CORPUS" --format json --quiet --inventory "$INVENTORY")
# The warm-up also fills the cache for the warm runs.
for ((i = 0; i < WARMUP; i++)); do time_one "${plain[@]}" >/dev/null; time_one "${cold[@]}" >/dev/null; time_one "${warm[@]}" >/dev/null; done
time_one "${warm[@]}" >/dev/null
times=$(mktemp)
for ((i = 0; i < RUNS; i++)); do
  p=$(time_one "${plain[@]}") c=$(time_one "${cold[@]}") w=$(time_one "${warm[@]}")
  echo "$p $c $w" >>"$times"
  note "   run $((i + 1)) (wall cpu, s): without $p, cold $c, warm $w"
done
linked=$({ "${warm[@]}" || true; } | python3 -c "import json,sys; f=json.load(sys.stdin)['findings']; print(sum(1 for x in f if x['credential']), len(f))")
same=$(cmp -s <("${cold[@]}" || true) <("${warm[@]}" || true) && echo yes || echo NO)

python3 - "$times" "$linked" "$CREDENTIALS" "$SIZE_MB" "$CORPUS" "$same" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
linked, n, size, corpus, same = sys.argv[2].split(), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
med = [statistics.median(r[i] for r in rows) for i in range(6)]
print(f"corpus: {size} MB ({corpus}); inventory: {n} credentials; findings linked: {linked[0]} of {linked[1]}")
print(f"                                  wall (median)        CPU user+sys (median)")
print(f"scan without inventory:           {med[0]:.3f} s              {med[1]:.3f} s")
for name, w, c in (("cold", med[2], med[3]), ("warm cache", med[4], med[5])):
    print(f"scan with inventory, {name + ':':<12} {w:.3f} s  {100 * (w - med[0]) / med[0]:+5.1f} %     {c:.3f} s  {100 * (c - med[1]) / med[1]:+5.1f} %")
print("goal: overhead <= 5 %")
print(f"cold and warm reports identical: {same}")
PY
rm -f "$times"
