#!/usr/bin/env bash
# History-scan benchmark: `keytrace scan --git` on a generated repository of 20,000+ commits,
# against the object-store floor (`git cat-file --batch-all-objects --batch`) and, when
# installed (../shared/bench/install-peers.sh), Kingfisher and Betterleaks.
#
#   bench/git.sh                 # build release, generate (cached) and run
#   COMMITS=40000 bench/git.sh   # a bigger repository
#
# The repository is generated deterministically by bench/gen_git.py with git fast-import: ~2,000
# files in 120 directories, each commit edits 1-4 files (small line edits, so packs delta
# well), one in 40 adds a file, one in 90 deletes one, side branches merged every 500
# commits, tags every 1,000, and 5 planted secrets (one only on a tag, one added then removed).
# Cached under ${TMPDIR:-/tmp}/keytrace-bench/git-$COMMITS.git.
set -euo pipefail
cd "$(dirname "$0")/.."
COMMITS=${COMMITS:-20000}
PEERS=${PEERS:-${TMPDIR:-/tmp}/keytrace-peers}
CACHE=${TMPDIR:-/tmp}/keytrace-bench
REPO=$CACHE/git-$COMMITS.git
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
mkdir -p "$CACHE"

cargo build --release -q
KT=$PWD/target/release/keytrace

if [ ! -f "$REPO/.complete" ]; then
  rm -rf "$REPO"
  git init -q --bare "$REPO"
  echo "generating $COMMITS commits into $REPO ..." >&2
  python3 bench/gen_git.py "$COMMITS" | git -C "$REPO" fast-import --quiet
  git -C "$REPO" repack -adq --depth=50 --window=10
  touch "$REPO/.complete"
fi

RUNS=${RUNS:-3}
rss_time() { # best of $RUNS: prints "wall_seconds peak_kb cpu_seconds" of a command (GNU time)
  local best="" line
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f "%e %M %U %S" -o "$OUT/t" "$@" >/dev/null 2>"$OUT/err" || true
    line=$(tail -1 "$OUT/t" | awk '{printf "%s %s %.2f", $1, $2, $3 + $4}')
    if [ -z "$best" ] || awk -v a="${line%% *}" -v b="${best%% *}" 'BEGIN{exit !(a < b)}'; then best=$line; fi
  done
  echo "$best"
}
commits=$(git -C "$REPO" rev-list --all | wc -l)
size=$(du -sh "$REPO" | cut -f1)
echo "repository: $REPO ($commits commits, $size on disk), $(nproc) cores"

read -r floor_s floor_kb floor_cpu < <(rss_time git -C "$REPO" cat-file --batch-all-objects --batch)
read -r kt_s kt_kb kt_cpu < <(rss_time "$KT" scan --git "$REPO" --format json -o "$OUT/kt.json" --fail-on critical)
blobs=$(python3 -c "import json,sys; h=json.load(open('$OUT/kt.json'))['summary']['history']; print(h['blobs_scanned'], h['bytes_scanned'], h['commits'])")
read -r nblobs nbytes ncommits <<<"$blobs"
nfind=$(python3 -c "import json; print(len(json.load(open('$OUT/kt.json'))['findings']))")

row() { printf "%-38s %7s s %7s s %7s MB  %s\n" "$1" "$2" "$3" "$(( $4 / 1024 ))" "${5:-}"; }
ratio() { python3 -c "print(f'{$1/$2:.2f}x')"; }
echo
echo "best of $RUNS runs each; load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-38s %9s %9s %10s  %s\n" tool wall cpu peak-RSS notes
row "git cat-file --batch-all-objects" "$floor_s" "$floor_cpu" "$floor_kb" "floor: every object decompressed"
row "keytrace scan --git" "$kt_s" "$kt_cpu" "$kt_kb" "$(ratio "$kt_s" "$floor_s") of floor; $nfind findings"
python3 -c "print(f'  keytrace: {$ncommits} commits, {$nblobs} blobs, {$nbytes/1e6:.0f} MB: {$nblobs/$kt_s:,.0f} blobs/s, {$nbytes/1e6/$kt_s:.0f} MB/s')"
KF=$PEERS/unz/kingfisher/bin/kingfisher
BL=$PEERS/unz/betterleaks/bin/betterleaks
if [ -x "$KF" ]; then
  read -r s kb cpu < <(rss_time "$KF" scan "$REPO" --git-history full --no-validate --no-update-check -q -f json -o "$OUT/kf.json")
  row "kingfisher 2.14 (--git-history full)" "$s" "$cpu" "$kb" "keytrace is $(ratio "$s" "$kt_s") faster"
fi
if [ -x "$BL" ]; then
  read -r s kb cpu < <(rss_time "$BL" git "$REPO" -s --no-color -l error --exit-code 0 -o "$OUT/bl.json")
  row "betterleaks 2.0 (git)" "$s" "$cpu" "$kb" "keytrace is $(ratio "$s" "$kt_s") faster"
fi
