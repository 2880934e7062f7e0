#!/usr/bin/env bash
# keytrace working-tree scan benchmark.  See bench/README.md.
#
#   bash bench/scan.sh                  # build, generate/reuse corpus, run everything, print the table
#   BUILD=0 RUNS=5 bash bench/scan.sh   # skip cargo build, 5 timed runs per tool
#   BUILD=0 TABLE=1 bash bench/scan.sh  # also print the README benchmark table (Markdown) of this run
#
# Environment (all optional):
#   SIZE_MB=520  SEED=42         corpus size / seed (corpus is reused when both and the generator match)
#   CACHE_DIR=${TMPDIR:-/tmp}/keytrace-bench   corpus lives in $CACHE_DIR/corpus, results in $CACHE_DIR/results-*
#   RUNS=3  WARMUP=1             timed runs per tool (median reported) and untimed warm-up runs before them
#   BUILD=1                      0 = do not run `cargo build --release`
#   TABLE=0                      1 = print the README's Markdown table (always written to $RES/table.md)
#   KEYTRACE=target/release/keytrace   binary to measure
#   TOOLS_DIR=${TMPDIR:-/tmp}/keytrace-peers   where ../shared/bench/install-peers.sh put the peers
#   KINGFISHER=... BETTERLEAKS=...            override peer binaries
#   GREP_LITERAL=sk_live_        literal for the grep -rF floor
#   TOOLS="keytrace rg-keywords grep rg kingfisher betterleaks"   subset to run
#   (rg-keywords: rg -uu -c -F -i -f with `keytrace rules keywords`, the scan's keyword floor)
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
SIZE_MB=${SIZE_MB:-520}
SEED=${SEED:-42}
RUNS=${RUNS:-3}
WARMUP=${WARMUP:-1}
BUILD=${BUILD:-1}
TABLE=${TABLE:-0}
CACHE_DIR=${CACHE_DIR:-${TMPDIR:-/tmp}/keytrace-bench}
CORPUS=${CORPUS:-$CACHE_DIR/corpus}
TOOLS_DIR=${TOOLS_DIR:-${TMPDIR:-/tmp}/keytrace-peers}
KEYTRACE=${KEYTRACE:-$ROOT/target/release/keytrace}
KINGFISHER=${KINGFISHER:-$TOOLS_DIR/unz/kingfisher/bin/kingfisher}
BETTERLEAKS=${BETTERLEAKS:-$TOOLS_DIR/unz/betterleaks/bin/betterleaks}
GREP_LITERAL=${GREP_LITERAL:-sk_live_}
TOOLS=${TOOLS:-keytrace rg-keywords grep rg kingfisher betterleaks}

note() { printf '%s\n' "$*" >&2; }
die() { note "error: $*"; exit 2; }
command -v python3 >/dev/null || die "python3 is required"

# ---- (a) build ------------------------------------------------------------------------------
status=0
if [[ " $TOOLS " == *" keytrace "* && $BUILD != 0 ]]; then
  note "== cargo build --release (in $ROOT)"
  if ! (cd "$ROOT" && cargo build --release); then
    note "cargo build --release failed: measuring the existing $KEYTRACE, if any"
    status=1
  fi
fi

# ---- (b) corpus -----------------------------------------------------------------------------
mkdir -p "$CACHE_DIR"
CORPUS=$(cd "$(dirname "$CORPUS")" && pwd)/$(basename "$CORPUS")
META=$CORPUS.meta.json
corpus_ok() {
  [[ -d $CORPUS && -f $META && -f $CORPUS.planted.jsonl ]] || return 1
  python3 - "$META" "$SEED" "$SIZE_MB" "$HERE/gen_corpus.py" <<'EOF'
import hashlib, json, sys
m = json.load(open(sys.argv[1]))
digest = hashlib.sha256(open(sys.argv[4], "rb").read()).hexdigest()[:16]
sys.exit(0 if (m["seed"] == int(sys.argv[2]) and float(m["size_mb"]) == float(sys.argv[3]) and m["generator"] == digest) else 1)
EOF
}
if corpus_ok; then
  note "== reusing corpus $CORPUS (seed $SEED, $SIZE_MB MB)"
else
  note "== generating corpus $CORPUS (seed $SEED, $SIZE_MB MB)"
  python3 "$HERE/gen_corpus.py" "$CORPUS" --size-mb "$SIZE_MB" --seed "$SEED" --force || die "corpus generation failed"
fi

RES=$CACHE_DIR/results-$(date +%Y%m%d-%H%M%S)
mkdir -p "$RES"

# ---- timing helper --------------------------------------------------------------------------
# each run's file ends with "<wall s> <peak RSS KiB> <user s> <system s>"
if [[ -x /usr/bin/time ]] && /usr/bin/time -f '%e %M %U %S' -o /dev/null true 2>/dev/null; then
  timed() { local out=$1; shift; /usr/bin/time -f '%e %M %U %S' -o "$out" "$@"; }
  TIMER="/usr/bin/time -f '%e %M %U %S'"
else
  timed() { local out=$1; shift; python3 "$HERE/measure.py" "$out" "$@"; }
  TIMER="python3 bench/measure.py (wait4 rusage)"
fi

# run_tool NAME "OK_EXIT_CODES" OUTFILE CMD...   (OUTFILE is where CMD writes; copied to $RES/NAME.out)
run_tool() {
  local name=$1 okrc=$2 outfile=$3; shift 3
  echo "$okrc" >"$RES/$name.okrc"
  local i rc
  for ((i = 1; i <= WARMUP; i++)); do
    note "   $name warm-up $i"
    "$@" >/dev/null 2>"$RES/$name.warmup.stderr"
  done
  for ((i = 1; i <= RUNS; i++)); do
    rm -f "$outfile"
    timed "$RES/$name.time.$i" "$@" 2>"$RES/$name.stderr.$i"
    rc=$?
    echo "$rc" >"$RES/$name.rc.$i"
    note "   $name run $i: $(cat "$RES/$name.time.$i" 2>/dev/null | tail -1) (wall s, KiB, user s, sys s), exit $rc"
    if [[ " $okrc " != *" $rc "* ]]; then
      note "   $name: unexpected exit status $rc, stderr tail:"
      tail -5 "$RES/$name.stderr.$i" >&2
    fi
  done
  [[ -f $outfile && $outfile != "$RES/$name.out" ]] && cp "$outfile" "$RES/$name.out"
  return 0
}

busy() {  # processes using CPU right now, other than this benchmark
  ps -eo pcpu=,pid=,args= --sort=-pcpu 2>/dev/null | awk -v me=$$ '$1 > 20 && $2 != me {printf "%s%% %s\n", $1, substr($0, index($0,$3), 70)}' | head -3
}
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)
BUSY_BEFORE=$(busy)
[[ -n $BUSY_BEFORE ]] && note "warning: other processes are using CPU; timings will be noisy:" && note "$BUSY_BEFORE"

# ---- (c) warm the page cache ----------------------------------------------------------------
note "== warming page cache"
find "$CORPUS" -type f -print0 | xargs -0 cat >/dev/null

# ---- (d) run the tools ----------------------------------------------------------------------
for tool in $TOOLS; do
  case $tool in
  keytrace)
    if [[ -x $KEYTRACE ]] && "$KEYTRACE" scan --help >/dev/null 2>&1; then
      note "== keytrace ($KEYTRACE)"
      # exit 1 = findings present (DESIGN.md §7)
      run_tool keytrace "0 1" "$RES/keytrace.out" \
        "$KEYTRACE" scan "$CORPUS" --format json --output "$RES/keytrace.out"
    else
      note "== keytrace: $KEYTRACE missing or not runnable, skipped"; status=1
    fi ;;
  grep)
    note "== grep -rF $GREP_LITERAL (floor reference)"
    # output goes to a file, not /dev/null: GNU grep stops at the first match when stdout is /dev/null
    run_tool grep "0 1" "$RES/grep.out" sh -c 'LC_ALL=C exec grep -rF -- "$1" "$2" >"$3"' sh "$GREP_LITERAL" "$CORPUS" "$RES/grep.out" ;;
  rg)
    if command -v rg >/dev/null; then
      note "== rg -uuu -F $GREP_LITERAL (information only: parallel literal search)"
      run_tool rg "0 1" "$RES/rg.out" sh -c 'exec rg -uuu -F --no-messages -- "$1" "$2" >"$3"' sh "$GREP_LITERAL" "$CORPUS" "$RES/rg.out"
    else
      note "== rg not installed, skipped (information only)"
    fi ;;
  rg-keywords)
    if command -v rg >/dev/null && [[ -x $KEYTRACE ]]; then
      "$KEYTRACE" rules keywords >"$RES/keywords.txt"
      note "== rg -uu -c -F -i -f keywords ($(wc -l <"$RES/keywords.txt") literals from keytrace rules keywords: the keyword floor)"
      run_tool rg-keywords "0 1" "$RES/rg-keywords.out" sh -c 'exec rg -uu -c -F -i --no-messages -f "$1" "$2" >"$3"' sh "$RES/keywords.txt" "$CORPUS" "$RES/rg-keywords.out"
    else
      note "== rg-keywords: rg or $KEYTRACE missing, skipped"
    fi ;;
  kingfisher)
    if [[ -x $KINGFISHER ]]; then
      note "== kingfisher ($("$KINGFISHER" --version 2>/dev/null))"
      # exit 200 = findings, 205 = validated findings; warm-up also fills its compiled-rule cache
      run_tool kingfisher "0 200 205" "$RES/kingfisher.out.json" \
        "$KINGFISHER" scan "$CORPUS" --git-history none --no-validate --no-update-check -q -f json -o "$RES/kingfisher.out.json"
      [[ -f $RES/kingfisher.out.json ]] && mv "$RES/kingfisher.out.json" "$RES/kingfisher.out"
    else
      note "== kingfisher not found at $KINGFISHER, skipped (TOOLS_DIR=$TOOLS_DIR ../shared/bench/install-peers.sh)"
    fi ;;
  betterleaks)
    if [[ -x $BETTERLEAKS ]]; then
      note "== betterleaks ($("$BETTERLEAKS" version 2>/dev/null))"
      # the output file must end in .json
      run_tool betterleaks "0" "$RES/betterleaks.out.json" \
        "$BETTERLEAKS" fs "$CORPUS" -s --no-color -l error --exit-code 0 -o "$RES/betterleaks.out.json"
      [[ -f $RES/betterleaks.out.json ]] && mv "$RES/betterleaks.out.json" "$RES/betterleaks.out"
    else
      note "== betterleaks not found at $BETTERLEAKS, skipped (TOOLS_DIR=$TOOLS_DIR ../shared/bench/install-peers.sh)"
    fi ;;
  *) note "unknown tool $tool, skipped" ;;
  esac
done

# ---- (e) report -----------------------------------------------------------------------------
echo
echo "keytrace scan benchmark — $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "nproc: $(nproc)   cpu: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')   mem: $(free -m 2>/dev/null | awk '/Mem:/{print $2" MB"}')   load: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
echo "load average before: $LOAD_BEFORE   after: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
[[ -n $BUSY_BEFORE ]] && { echo "other CPU users at start (numbers are noisy):"; echo "$BUSY_BEFORE" | sed 's/^/  /'; }
echo "runs: $RUNS timed (+$WARMUP warm-up) per tool, page cache warm; timer: $TIMER; results: $RES"
python3 "$HERE/report.py" "$RES" "$CORPUS" --load "$LOAD_BEFORE before / $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null) after" \
  --markdown "$RES/table.md"
rc=$?
if [[ $TABLE != 0 && -f $RES/table.md ]]; then
  echo
  echo "README table (Markdown, also in $RES/table.md):"
  echo
  cat "$RES/table.md"
fi
[[ $rc -eq 3 ]] && echo "(one or more goals not met)"
[[ $rc -ne 0 && $rc -ne 3 ]] && status=1
exit $status
