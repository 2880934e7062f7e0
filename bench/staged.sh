#!/usr/bin/env bash
# Pre-commit latency: `keytrace scan --staged` on a one-file change in a large repository,
# against Kingfisher (`scan --staged`) and Betterleaks (`git --staged`) doing the same job,
# plus keytrace's fixed cost alone (start-up and rule compilation).
#
#   bench/staged.sh                         # build release, generate (cached) and run
#   COMMITS=20000 FILES=5000 RUNS=20 bench/staged.sh
#
# The history comes from bench/gen_git.py (as bench/git.sh), cached as a bare repository
# under ${TMPDIR:-/tmp}/keytrace-bench/git-$COMMITS-$FILES.git and checked out into a fresh
# clone each run; one file gets a new line holding a synthetic GitHub token and is staged.
# Each tool must report that token (checked), so no tool is timed doing less than the job.
# Timing: hyperfine (warm-up 2, min $RUNS runs) when installed, else a loop printing medians.
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

WORK=$OUT/work
git clone -q -b main "$REPO" "$WORK"
FILE=$(git -C "$WORK" ls-files 'src/*.py' | sed -n 1p)
TOKEN=$(python3 -c '
import random, zlib
B = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"; rnd = random.Random(1212)
r = "".join(rnd.choice(B) for _ in range(30)); c = zlib.crc32(r.encode()); t = ""
for _ in range(6): t = B[c % 62] + t; c //= 62
print("ghp_" + r + t)')
echo "STAGED_TOKEN = \"$TOKEN\"" >>"$WORK/$FILE"
git -C "$WORK" add "$FILE"
mkdir -p "$OUT/empty"

commits=$(git -C "$WORK" rev-list --count HEAD)
files=$(git -C "$WORK" ls-files | wc -l)
echo "repository: $commits commits, $files files; staged: one line in $FILE; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

# Each command once, untimed: it must find the staged token (by its last 4 characters,
# which every tool's report keeps even when it redacts).
check() { local name=$1; shift
  (cd "$WORK" && "$@") >"$OUT/check.out" 2>&1 || true
  if ! grep -q "${TOKEN: -4}\|${TOKEN:0:6}" "$OUT/check.out"; then
    echo "!! $name did not report the staged token; its output:" >&2; head -20 "$OUT/check.out" >&2; return 1
  fi
}
declare -a NAMES CMDS
add() { NAMES+=("$1"); CMDS+=("$2"); }
add "keytrace scan --staged" "$KT scan --staged --format json"
add "keytrace startup+rules (scan empty dir)" "$KT scan $OUT/empty --format json"
add "keytrace rules list" "$KT rules list"
[ -x "$KF" ] && add "kingfisher scan --staged" "$KF scan . --staged --no-validate --no-update-check -f json"
[ -x "$BL" ] && add "betterleaks git --staged" "$BL git . --staged --no-color -l error --exit-code 0 -o -"
for i in "${!NAMES[@]}"; do
  case ${NAMES[$i]} in *staged*) check "${NAMES[$i]}" ${CMDS[$i]} ;; esac
done

if command -v hyperfine >/dev/null; then
  args=()
  for i in "${!NAMES[@]}"; do args+=(-n "${NAMES[$i]}" "${CMDS[$i]}"); done
  (cd "$WORK" && hyperfine -N -i -w 2 -m "$RUNS" --export-json "$OUT/h.json" "${args[@]}" >/dev/null)
  python3 - "$OUT/h.json" <<'PY'
import json, sys
rs = json.load(open(sys.argv[1]))["results"]
kt = rs[0]["median"]
print(f"{'command':42} {'median':>9} {'mean±sd':>17} {'min':>8}  vs keytrace --staged")
for r in rs:
    print(f"{r['command']:42} {r['median']*1e3:7.1f}ms {r['mean']*1e3:8.1f}±{r['stddev']*1e3:5.1f}ms {r['min']*1e3:6.1f}ms  {r['median']/kt:5.2f}x")
PY
else
  printf "%-42s %9s\n" command median
  for i in "${!NAMES[@]}"; do
    (cd "$WORK"; for _ in $(seq "$RUNS"); do
      s=$(date +%s%N); ${CMDS[$i]} >/dev/null 2>&1 || true; echo $(( ($(date +%s%N) - s) / 1000 ))
    done) | sort -n | awk -v n="${NAMES[$i]}" '{a[NR]=$1} END {printf "%-42s %7.1fms\n", n, a[int((NR+1)/2)]/1000}'
  done
fi
