#!/usr/bin/env bash
# Pre-commit latency: a one-file change in a large repository, scanned staged (`scan --staged`)
# and committed (`scan --rev-range HEAD~1..HEAD`), against Kingfisher (`scan --staged`,
# `--since-commit`) and Betterleaks (`git --staged`, `--log-opts`) doing the same jobs. For
# each tool the time is split into start-up, rule compilation and the scan itself.
#
#   bench/staged.sh                         # build release, generate (cached) and run
#   COMMITS=20000 FILES=5000 RUNS=20 BUILD=0 bench/staged.sh
#
# The history comes from bench/gen_git.py (as bench/git.sh), cached as a bare repository
# under ${TMPDIR:-/tmp}/keytrace-bench/git-$COMMITS-$FILES.git and cloned twice: in one clone
# one file gets a new line holding a synthetic GitHub token and is staged; in the other the
# same change is committed. Each scan must report that token (checked), so no tool is timed
# doing less than the job.
#
# The split, per tool, from three commands timed in the same rounds:
#   start-up          `--version`: the process, its libraries and argument parsing
#   rule compilation  a scan of one 13-byte file, less the start-up: rules loaded and compiled
#   scan              the staged (or range) scan, less the one-file scan: the git work itself
# Timing: every command once per round, round after round (A B C A B C …), so a load change
# hits all of them alike; medians of $RUNS rounds after 2 warm-up rounds. With CALLGRIND=1,
# keytrace's rows are also counted in instructions (valgrind), which no load changes.
set -euo pipefail
cd "$(dirname "$0")/.."
COMMITS=${COMMITS:-20000}
FILES=${FILES:-5000}
RUNS=${RUNS:-20}
PEERS=${PEERS:-${TMPDIR:-/tmp}/keytrace-peers}
CACHE=${TMPDIR:-/tmp}/keytrace-bench
REPO=$CACHE/git-$COMMITS-$FILES.git
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
mkdir -p "$CACHE"

[ "${BUILD:-1}" = 0 ] || cargo build --release -q
KT=${KEYTRACE:-$PWD/target/release/keytrace}
KF=$PEERS/unz/kingfisher/bin/kingfisher
BL=$PEERS/unz/betterleaks/bin/betterleaks

if [ ! -f "$REPO/.complete" ]; then
  rm -rf "$REPO"
  git init -q --bare "$REPO"
  echo "generating $COMMITS commits, $FILES files into $REPO ..." >&2
  python3 bench/gen_git.py "$COMMITS" "$FILES" | git -C "$REPO" fast-import --quiet
  git -C "$REPO" repack -adq --depth=50 --window=10
  touch "$REPO/.complete"
fi

STAGED=$OUT/staged
RANGE=$OUT/range
git clone -q -b main "$REPO" "$STAGED"
git clone -q -b main "$REPO" "$RANGE"
FILE=$(git -C "$STAGED" ls-files 'src/*.py' | sed -n 1p)
TOKEN=$(python3 -c '
import random, zlib
B = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"; rnd = random.Random(1212)
r = "".join(rnd.choice(B) for _ in range(30)); c = zlib.crc32(r.encode()); t = ""
for _ in range(6): t = B[c % 62] + t; c //= 62
print("ghp_" + r + t)')
for w in "$STAGED" "$RANGE"; do
  echo "STAGED_TOKEN = \"$TOKEN\"" >>"$w/$FILE"
  git -C "$w" add "$FILE"
done
git -C "$RANGE" -c user.name=bench -c user.email=bench@example.com -c commit.gpgsign=false \
  commit -q -m "one-file change"
# One small file without a secret: a scan of it costs start-up and rules, and almost nothing else.
mkdir -p "$OUT/one"
echo 'print("hi")' >"$OUT/one/app.py"

commits=$(git -C "$STAGED" rev-list --count HEAD)
files=$(git -C "$STAGED" ls-files | wc -l)
echo "repository: $commits commits, $files files; change: one line in $FILE; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

# name<TAB>directory<TAB>command, for the timing loop. Rows of a tool: version, one file,
# staged, range (a tool without a range mode leaves it out).
ROWS=$OUT/rows.tsv
: >"$ROWS"
row() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$ROWS"; }
row "keytrace --version" "$OUT" "$KT --version"
row "keytrace scan one file" "$OUT" "$KT scan one --format json"
row "keytrace scan --staged" "$STAGED" "$KT scan --staged --format json"
row "keytrace scan --rev-range" "$RANGE" "$KT scan --rev-range HEAD~1..HEAD --format json"
if [ -x "$KF" ]; then
  kf="--no-validate --no-update-check -f json"
  row "kingfisher --version" "$OUT" "$KF --version"
  row "kingfisher scan one file" "$OUT" "$KF scan one --git-history none $kf"
  row "kingfisher scan --staged" "$STAGED" "$KF scan . --staged $kf"
  row "kingfisher scan --since-commit" "$RANGE" "$KF scan . --since-commit HEAD~1 --branch HEAD $kf"
fi
if [ -x "$BL" ]; then
  bl="--no-color -l error --exit-code 0 -o -"
  row "betterleaks version" "$OUT" "$BL version"
  row "betterleaks fs one file" "$OUT" "$BL fs one $bl"
  row "betterleaks git --staged" "$STAGED" "$BL git . --staged $bl"
  row "betterleaks git --log-opts" "$RANGE" "$BL git . --log-opts=HEAD~1..HEAD $bl"
fi

python3 - "$ROWS" "$RUNS" "$TOKEN" "${CALLGRIND:-0}" <<'PY'
import re, shlex, statistics, subprocess, sys, time

rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1], encoding="utf-8")]
runs, token = int(sys.argv[2]), sys.argv[3]

def once(cwd, cmd):
    start = time.perf_counter()
    p = subprocess.run(shlex.split(cmd), cwd=cwd, capture_output=True, text=True)
    return time.perf_counter() - start, p.stdout + p.stderr

# Each scan of the change must report the token (its first 6 or last 4 characters, which
# every tool's report keeps even when it redacts); the one-file scans must not fail to run.
for name, cwd, cmd in rows:
    _, out = once(cwd, cmd)
    if ("--staged" in name or "range" in name or "since" in name or "log-opts" in name) and \
            token[:6] not in out and token[-4:] not in out:
        sys.exit(f"!! {name} did not report the change's token:\n{out[:2000]}")

times = {name: [] for name, _, _ in rows}
for r in range(runs + 2):
    for name, cwd, cmd in rows:
        t, _ = once(cwd, cmd)
        if r >= 2:
            times[name].append(t)
med = {n: statistics.median(ts) for n, ts in times.items()}

print(f"\n{'command':34} {'median':>9} {'min':>9}  ({runs} interleaved rounds)")
for name, _, _ in rows:
    print(f"{name:34} {med[name]*1e3:7.1f}ms {min(times[name])*1e3:7.1f}ms")

print(f"\n{'breakdown (medians, ms)':34} {'start-up':>9} {'rules':>9} {'scan':>9} {'total':>9} {'vs keytrace':>12}")
tools = {}
for name, _, _ in rows:
    tools.setdefault(name.split()[0], []).append(name)
base = {}
for tool, names in tools.items():
    version, one, *modes = names
    for mode in modes:
        startup, rules = med[version], med[one] - med[version]
        scan, total = med[mode] - med[one], med[mode]
        kind = "staged" if "staged" in mode else "range"
        base.setdefault(kind, total)
        print(f"{mode:34} {startup*1e3:9.1f} {rules*1e3:9.1f} {scan*1e3:9.1f} {total*1e3:9.1f} {total/base[kind]:11.2f}x")

if sys.argv[4] == "1":
    ir = {}
    for name, cwd, cmd in rows:
        if name.startswith("keytrace"):
            p = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                                *shlex.split(cmd)], cwd=cwd, capture_output=True, text=True)
            ir[name] = int(re.search(r"Collected : (\d+)", p.stderr).group(1))
    version, one, *modes = tools["keytrace"]
    print(f"\n{'keytrace, instructions (millions)':34} {'start-up':>9} {'rules':>9} {'scan':>9} {'total':>9}")
    for mode in modes:
        print(f"{mode:34} {ir[version]/1e6:9.1f} {(ir[one]-ir[version])/1e6:9.1f} "
              f"{(ir[mode]-ir[one])/1e6:9.1f} {ir[mode]/1e6:9.1f}")
PY
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
