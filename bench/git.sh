#!/usr/bin/env bash
# History-scan benchmark: `keytrace scan --git` on a generated repository of 20,000+ commits,
# against the object-store floor (`git cat-file --batch-all-objects --batch`) and, when
# installed (../shared/bench/install-peers.sh), Kingfisher and Betterleaks.
#
#   bench/git.sh                 # build release, generate (cached) and run
#   COMMITS=40000 bench/git.sh   # a bigger repository
#
# The repository is generated deterministically with git fast-import (seeded PRNG): ~2,000
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
  python3 - "$COMMITS" <<'PY' | git -C "$REPO" fast-import --quiet
import random, sys, zlib
n = int(sys.argv[1]); rnd = random.Random(20261123)
B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
def ghp():
    r = "".join(rnd.choice(B62) for _ in range(30)); c = zlib.crc32(r.encode()); t = ""
    for _ in range(6): t = B62[c % 62] + t; c //= 62
    return "ghp_" + r + t
words = "alpha beta gamma delta config service handler request response client server cache index value result error retry timeout buffer stream token user order invoice payment".split()
def line(): return " ".join(rnd.choice(words) for _ in range(rnd.randint(3, 12)))
dirs = [f"src/mod{i:03d}" for i in range(100)] + [f"docs/sec{i:02d}" for i in range(20)]
files = {}
for i in range(2000):
    d = dirs[i % len(dirs)]; ext = ".py" if d.startswith("src") else ".md"
    files[f"{d}/file{i:04d}{ext}"] = [line() for _ in range(rnd.randint(20, 160))]
out = sys.stdout.buffer; mark = 0; t0 = 1_600_000_000
def data(s):
    b = s.encode(); out.write(b"data %d\n" % len(b)); out.write(b); out.write(b"\n")
def commit(ref, msg, changes, parents=(), when=0):
    global mark
    mark += 1
    out.write(f"commit {ref}\nmark :{mark}\n".encode())
    out.write(f"author Dev {mark % 7} <dev{mark % 7}@example.org> {t0 + when} +0000\n".encode())
    out.write(f"committer Dev {mark % 7} <dev{mark % 7}@example.org> {t0 + when} +0000\n".encode())
    data(msg)
    for i, p in enumerate(parents):
        out.write((f"from :{p}\n" if i == 0 else f"merge :{p}\n").encode())
    for op, path, body in changes:
        if op == "M": out.write(f"M 100644 inline {path}\n".encode()); data(body)
        else: out.write(f"D {path}\n".encode())
    return mark
secrets = {500: "config/settings.py", 4000: "deploy/prod.env", 9000: "src/mod007/keys.py", 15000: "ci/release.yml"}
main = commit("refs/heads/main", "initial", [("M", p, "\n".join(l) + "\n") for p, l in sorted(files.items())])
removed_at = None
for c in range(1, n):
    ch = []
    for p in rnd.sample(sorted(files), rnd.randint(1, 4)):
        ls = files[p]; k = rnd.randrange(len(ls)); ls[k] = line()
        if rnd.random() < 0.3: ls.insert(rnd.randrange(len(ls)), line())
        ch.append(("M", p, "\n".join(ls) + "\n"))
    if c % 40 == 0:
        p = f"{rnd.choice(dirs)}/new{c:05d}.py"; files[p] = [line() for _ in range(40)]; ch.append(("M", p, "\n".join(files[p]) + "\n"))
    if c % 90 == 0:
        p = rnd.choice(sorted(files)); del files[p]; ch.append(("D", p, ""))
    if c in secrets:
        p = secrets[c]; files[p] = [line(), f'TOKEN = "{ghp()}"', line()]; ch.append(("M", p, "\n".join(files[p]) + "\n"))
    if c == 4100:
        files["deploy/prod.env"] = [line()]; ch.append(("M", "deploy/prod.env", files["deploy/prod.env"][0] + "\n"))
    if c % 500 == 250:
        side = commit(f"refs/heads/topic{c}", f"topic {c}", [("M", f"topic/t{c}.md", line() + "\n")], (main,), c * 600 - 100)
        main = commit("refs/heads/main", f"change {c}", ch, (main, side), c * 600)
    else:
        main = commit("refs/heads/main", f"change {c}", ch, (main,), c * 600)
    if c % 1000 == 0:
        out.write(f"reset refs/tags/v{c // 1000}.0\nfrom :{main}\n\n".encode())
tagc = commit("refs/tags/hotfix-leak", "hotfix", [("M", "hotfix.py", f'KEY = "{ghp()}"\n')], (main,), n * 600 + 1)
out.write(b"done\n")
PY
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
