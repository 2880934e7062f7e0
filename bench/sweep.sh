#!/usr/bin/env bash
# Estate-sweep benchmark (issue 13): `keytrace sweep` over a generated estate of REPOS bare
# repositories, cold and then incremental with --cache after 1% of them gained a commit,
# against the sum of per-repository `keytrace scan --git` runs, with peak RSS; then the peak
# RSS of `keytrace merge` over generated reports of MERGE_REPOS (1,000 and 10,000) repositories.
# When install-peers.sh has run, Kingfisher and Betterleaks sweep the same estate, one
# repository per run, a run per core at a time.
#
#   bench/sweep.sh                  # build release, generate (cached) and run
#   REPOS=1000 bench/sweep.sh       # a bigger estate
#   BUILD=0 bench/sweep.sh          # use the binary already built
#   ONLY=merge bench/sweep.sh       # only the merge memory figures
#
# Each repository is generated deterministically with git fast-import (seeded PRNG):
# 60-160 files, 40-120 commits that edit 1-3 files each, one planted token in one
# repository of 10 and one token shared by ten repositories. Cached under
# ${TMPDIR:-/tmp}/keytrace-bench/estate-$REPOS (a pristine copy; every run works on a copy).
set -euo pipefail
cd "$(dirname "$0")/.."
REPOS=${REPOS:-300}
THREADS=${THREADS:-0}
CACHE=${TMPDIR:-/tmp}/keytrace-bench
PRISTINE=$CACHE/estate-$REPOS
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$CACHE"

if [ "${BUILD:-1}" = 1 ]; then nice cargo build --release -q; fi
KT=${KEYTRACE:-$PWD/target/release/keytrace}

gen_repo() { # gen_repo SEED CHANGE: fast-import stream of a repository, or (CHANGE > 0) of one more commit
  python3 - "$1" "$2" <<'PY'
import random, sys, zlib
seed, extra = int(sys.argv[1]), int(sys.argv[2])
rnd = random.Random(seed)
B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
def ghp(r):
    body = "".join(r.choice(B62) for _ in range(30)); c = zlib.crc32(body.encode()); t = ""
    for _ in range(6): t = B62[c % 62] + t; c //= 62
    return "ghp_" + body + t
words = "alpha beta gamma delta config service handler request response client server cache index value result error retry timeout buffer stream token user order invoice payment".split()
def line(): return " ".join(rnd.choice(words) for _ in range(rnd.randint(3, 12)))
files = {f"src/m{i % 9}/f{i:03d}.py": [line() for _ in range(rnd.randint(10, 80))] for i in range(rnd.randint(60, 160))}
if seed % 10 == 3: files["deploy/prod.env"] = [f"TOKEN={ghp(random.Random(seed * 7919))}"]
if seed % 30 == 7: files["ci/shared.env"] = [f"TOKEN={ghp(random.Random(424242))}"]
out = sys.stdout.buffer; t0 = 1_700_000_000
def data(s):
    b = s.encode(); out.write(b"data %d\n" % len(b)); out.write(b); out.write(b"\n")
commits = rnd.randint(40, 120)
if extra: # one more commit on top of main, as a night's change
    rnd = random.Random(seed * 31 + extra)
    out.write(b"commit refs/heads/main\n")
    out.write(f"committer Dev <dev@example.org> {t0 + 10_000_000 + extra} +0000\n".encode()); data(f"change {extra}")
    out.write(b"from refs/heads/main^0\n")
    p = f"src/new/change{extra}.py"; out.write(f"M 100644 inline {p}\n".encode()); data(line() + "\n")
    sys.exit(0)
for c in range(commits):
    out.write(b"commit refs/heads/main\n")
    out.write(f"committer Dev {c % 5} <dev{c % 5}@example.org> {t0 + c * 3600} +0000\n".encode()); data(f"commit {c}")
    touched = sorted(files) if c == 0 else rnd.sample(sorted(files), rnd.randint(1, 3))
    for p in touched:
        ls = files[p]
        if c: ls[rnd.randrange(len(ls))] = line()
        out.write(f"M 100644 inline {p}\n".encode()); data("\n".join(ls) + "\n")
PY
}

# timed NAME CMD...: runs CMD under bench/measure.py (wall from a monotonic clock around
# fork and wait, peak RSS from wait4; GNU time's 10 ms steps are a quarter of a re-sweep,
# and forking `date` around the run added 6-8 ms), prints "NAME seconds peak-RSS-MB".
# With SETUP set, that command runs before each of RUNS runs and the best run counts.
timed() {
  local name=$1; shift
  local best="" kb=0 n secs k rest
  for n in $(seq "${RUNS:-1}"); do
    if [ -n "${SETUP:-}" ]; then eval "$SETUP"; fi
    python3 bench/measure.py "$WORK/time" "$@" >/dev/null 2>"$WORK/err" || {
      local rc=$?; [ "$rc" = 1 ] || { cat "$WORK/err" >&2; exit "$rc"; }; }
    read -r secs k rest <"$WORK/time"
    if [ -z "$best" ] || [ "$(echo "$secs < $best" | bc -l)" = 1 ]; then best=$secs; fi
    [ "$k" -gt "$kb" ] && kb=$k
  done
  printf '%-34s %8.3f s %8.1f MB\n' "$name" "$best" "$(echo "$kb / 1024" | bc -l)"
  echo "$best" >"$WORK/last"
}
field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['totals'][sys.argv[2]])" "$@"; }

# merge memory: generated sweep reports of each of MERGE_REPOS repositories
# (bench/gen_sweep_report.py); flat memory means the same peak RSS for every size.
merge_memory() {
  for n in ${MERGE_REPOS:-1000 10000}; do
    python3 bench/gen_sweep_report.py "$n" >"$WORK/big.json"
    timed "merge of $n repositories ($(du -h "$WORK/big.json" | cut -f1))" "$KT" merge "$WORK/big.json" -o "$WORK/merged.json"
  done
}
if [ "${ONLY:-}" = merge ]; then merge_memory; exit 0; fi

if [ ! -f "$PRISTINE/.complete" ]; then
  rm -rf "$PRISTINE"; mkdir -p "$PRISTINE"
  echo "generating $REPOS repositories into $PRISTINE ..." >&2
  for i in $(seq 0 $((REPOS - 1))); do
    r=$PRISTINE/repo$(printf %04d "$i").git
    git init -q --bare "$r"
    gen_repo "$i" 0 | git -C "$r" fast-import --quiet
  done
  touch "$PRISTINE/.complete"
fi
cp -a "$PRISTINE" "$WORK/estate"
rm -f "$WORK/estate/.complete"
ESTATE=$WORK/estate


echo "estate: $REPOS bare repositories, $(du -sh "$ESTATE" | cut -f1), threads=${THREADS}"
RUNS=3 timed "sweep (no cache)" "$KT" sweep "$ESTATE" -j "$THREADS" -o "$WORK/plain.json"
plain=$(cat "$WORK/last")
RUNS=3 SETUP='rm -rf "$WORK/cache"' timed "sweep --cache, cold (first)" "$KT" sweep "$ESTATE" -j "$THREADS" --cache "$WORK/cache" -o "$WORK/first.json"
first=$(cat "$WORK/last")
cp -a "$WORK/cache" "$WORK/cache-first"
echo "  blobs scanned $(field "$WORK/first.json" blobs_scanned), reused $(field "$WORK/first.json" blobs_reused)"

changed=$(( (REPOS + 99) / 100 ))
for i in $(seq 0 $((changed - 1))); do
  n=$(( i * 100 + 50 < REPOS ? i * 100 + 50 : i ))
  r=$ESTATE/repo$(printf %04d "$n").git
  gen_repo "$n" 1 | git -C "$r" fast-import --quiet
done
RUNS=5 SETUP='rm -rf "$WORK/cache"; cp -a "$WORK/cache-first" "$WORK/cache"' timed "re-sweep --cache, $changed repo(s) changed" "$KT" sweep "$ESTATE" -j "$THREADS" --cache "$WORK/cache" -o "$WORK/again.json"
again=$(cat "$WORK/last")
echo "  blobs scanned $(field "$WORK/again.json" blobs_scanned), reused $(field "$WORK/again.json" blobs_reused)"
"$KT" sweep "$ESTATE" -j "$THREADS" -o "$WORK/check.json" 2>/dev/null
if diff <(grep -v '"blobs_\(scanned\|reused\)"' "$WORK/again.json") \
        <(grep -v '"blobs_\(scanned\|reused\)"' "$WORK/check.json") >/dev/null; then
  echo "  cached re-sweep report = uncached sweep report (except blob counts): yes"
else
  echo "  cached re-sweep report = uncached sweep report (except blob counts): NO" >&2; exit 1
fi

start=$(date +%s.%N); peak=0
for r in "$ESTATE"/*.git; do
  /usr/bin/time -f "%M" -o "$WORK/time" "$KT" scan --git "$r" -j "$THREADS" -f json -o "$WORK/one.json" >/dev/null 2>&1 || true
  kb=$(cat "$WORK/time" | tail -1); [ "$kb" -gt "$peak" ] && peak=$kb
done
sum=$(echo "$(date +%s.%N) - $start" | bc -l)
printf '%-34s %8.2f s %8.1f MB\n' "sum of $REPOS x scan --git" "$sum" "$(echo "$peak / 1024" | bc -l)"
printf 'first sweep vs sum of scans: %.2fx faster; re-sweep vs first: %.1fx faster (goal >= 20x); cache cost on a cold sweep: %+.1f%%\n' \
  "$(echo "$sum / $first" | bc -l)" "$(echo "$first / $again" | bc -l)" "$(echo "($first - $plain) * 100 / $plain" | bc -l)"

# The peers have no estate mode: each is run once per repository, as many at a time as
# there are cores (xargs -P), which is how a user would script them; the wall time of the
# whole estate is compared with keytrace's first sweep (no cache).
PEERS=${PEERS:-${TMPDIR:-/tmp}/keytrace-peers}
peer_estate() { # peer_estate NAME CMD-WITH-{}...: every repository through one peer
  local name=$1; shift
  local start; start=$(date +%s.%N)
  ls -d "$ESTATE"/*.git | xargs -P "$(nproc)" -I{} sh -c "$* >/dev/null 2>&1 || true"
  local secs; secs=$(echo "$(date +%s.%N) - $start" | bc -l)
  printf '%-34s %8.2f s   keytrace sweep is %.2fx faster\n' "$name" "$secs" "$(echo "$secs / $plain" | bc -l)"
}
KF=$PEERS/unz/kingfisher/bin/kingfisher
BL=$PEERS/unz/betterleaks/bin/betterleaks
if [ -x "$KF" ]; then
  peer_estate "kingfisher 2.14, $REPOS repos" "$KF" scan {} --git-history full --no-validate --no-update-check -q -f json -o /dev/null
fi
if [ -x "$BL" ]; then
  peer_estate "betterleaks 2.0, $REPOS repos" "$BL" git {} -s --no-color -l error --exit-code 0 -o /dev/null
fi

merge_memory
