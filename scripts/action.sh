#!/usr/bin/env bash
# The keytrace GitHub Action (action.yml runs this one script, so it can be tested outside
# GitHub: tests/action.rs drives it with a fake GITHUB_* environment).
#
# What it scans depends on the event, so that a check only complains about what it adds:
#   pull_request, pull_request_target   --rev-range BASE..HEAD of the event payload
#   merge_group                         --rev-range base_sha..head_sha
#   push                                --rev-range BEFORE..AFTER, with the hard cases below
#   anything else (schedule, workflow_dispatch, …)   --git: the whole repository with history
#
# A gate never passes by omission (DESIGN §7): a base that cannot be fetched into a shallow
# checkout is exit 2. Zero commits to scan (base equal to head, a new branch with no commit of
# its own, a deleted branch) is exit 0 with a notice that says so.
#
# Inputs come from the environment, as action.yml maps them:
#   KEYTRACE_INPUT_PATH (.)  _INVENTORY  _BASELINE  _FAIL_ON (low)  _ARGS  _SARIF_FILE  _VERSION
# KEYTRACE_BIN points at a keytrace binary to use instead of downloading or building one.
set -Eeuo pipefail
trap 'fail "unexpected error in scripts/action.sh at line $LINENO"' ERR

ZERO_SHA=0000000000000000000000000000000000000000
# How deep to fetch, in turn, when a shallow checkout lacks the commits of the range.
DEEPEN_STEPS=(50 500 5000)

path=${KEYTRACE_INPUT_PATH:-.}
inventory=${KEYTRACE_INPUT_INVENTORY:-}
baseline=${KEYTRACE_INPUT_BASELINE:-}
fail_on=${KEYTRACE_INPUT_FAIL_ON:-low}
extra_args=${KEYTRACE_INPUT_ARGS:-}
sarif_file=${KEYTRACE_INPUT_SARIF_FILE:-}
version=${KEYTRACE_INPUT_VERSION:-}
action_path=${GITHUB_ACTION_PATH:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
temp=${RUNNER_TEMP:-${TMPDIR:-/tmp}}
workspace=${GITHUB_WORKSPACE:-$PWD}

# Workflow commands go to stdout, where the runner reads them. Messages here never hold a
# secret (they name commits, refs and files), so only newlines and `%` need escaping.
escape_data() {
  local s=${1//%/%25}
  s=${s//$'\r'/%0D}
  printf '%s' "${s//$'\n'/%0A}"
}
notice() { printf '::notice title=keytrace::%s\n' "$(escape_data "$*")"; }

# Appends `name=value` to $GITHUB_OUTPUT (values here are single-line).
set_output() {
  if [[ -n ${GITHUB_OUTPUT:-} ]]; then
    printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
  fi
}

summary() {
  if [[ -n ${GITHUB_STEP_SUMMARY:-} ]]; then
    printf '%s\n' "$@" >>"$GITHUB_STEP_SUMMARY"
  fi
}

# Ends the step: outputs first, so a failing step still tells the workflow what it found.
finish() {
  local code=$1 findings=$2
  set_output findings "$findings"
  set_output sarif-file "$sarif_file"
  set_output exit-code "$code"
  exit "$code"
}

# Exit 2: the scan could not be done as asked. Never a pass. (In a subshell it only says why;
# the caller's failure then ends the step.)
fail() {
  printf '::error title=keytrace::%s\n' "$(escape_data "$*")"
  ((BASH_SUBSHELL == 0)) || exit 2
  summary "### keytrace: not scanned" "" "$*"
  finish 2 ""
}

# Reads one field of a JSON file: `json_get FILE KEY…` prints it, empty when absent or null.
json_get() {
  python3 - "$@" <<'PY'
import json, sys
try:
    with open(sys.argv[1], encoding="utf-8") as f:
        v = json.load(f)
    for key in sys.argv[2:]:
        v = v.get(key) if isinstance(v, dict) else None
except (OSError, ValueError) as e:
    sys.exit(f"cannot read {sys.argv[1]}: {e}")
print("" if v is None else (str(v).lower() if isinstance(v, bool) else v))
PY
}

# --- getting keytrace --------------------------------------------------------------------

# The Rust target triple of a release binary for this runner, or nothing.
release_target() {
  local arch
  case ${RUNNER_ARCH:-$(uname -m)} in
    X64 | x86_64 | amd64) arch=x86_64 ;;
    ARM64 | aarch64 | arm64) arch=aarch64 ;;
    *) return 0 ;;
  esac
  case ${RUNNER_OS:-$(uname -s)} in
    Linux) echo "$arch-unknown-linux-musl" ;;
    macOS | Darwin) echo "$arch-apple-darwin" ;;
  esac
}

# Downloads the release binary for this runner into $1, checking its .sha256; fails (status
# 1) when there is none, so the caller builds from source instead. A checksum that does not
# match is not a missing release: it is exit 2.
download_release() {
  local dir=$1 target repo base asset want got
  target=$(release_target)
  [[ -n $target ]] || return 1
  command -v curl >/dev/null || return 1
  repo=${KEYTRACE_ACTION_REPOSITORY:-${GITHUB_ACTION_REPOSITORY:-}}
  repo=${repo:-keytrace/keytrace}
  base=${KEYTRACE_RELEASE_BASE_URL:-https://github.com/$repo/releases/download}
  asset="keytrace-v$version-$target.tar.gz"
  mkdir -p "$dir"
  curl -fsSL --retry 2 -o "$dir/$asset" "$base/v$version/$asset" 2>/dev/null || return 1
  curl -fsSL --retry 2 -o "$dir/$asset.sha256" "$base/v$version/$asset.sha256" 2>/dev/null ||
    return 1
  want=$(cut -d' ' -f1 <"$dir/$asset.sha256")
  got=$(sha256sum "$dir/$asset" 2>/dev/null || shasum -a 256 "$dir/$asset")
  if [[ ${got%% *} != "$want" ]]; then
    fail "the release asset $base/v$version/$asset does not match its .sha256"
  fi
  tar -xzf "$dir/$asset" -C "$dir" keytrace || return 1
  chmod +x "$dir/keytrace"
}

# Sets $keytrace: KEYTRACE_BIN, else a release binary for `version`, else cargo install of
# the action's own checkout (version `source` always builds).
get_keytrace() {
  if [[ -n ${KEYTRACE_BIN:-} ]]; then
    keytrace=$KEYTRACE_BIN
    return
  fi
  if [[ -z $version ]]; then
    version=$(sed -n 's/^version *= *"\(.*\)"/\1/p' "$action_path/Cargo.toml" | head -n1)
  fi
  local dir="$temp/keytrace-bin"
  if [[ $version != source ]] && download_release "$dir"; then
    keytrace="$dir/keytrace"
    return
  fi
  if [[ $version != source ]]; then
    notice "no release binary of keytrace v$version for ${RUNNER_OS:-?}/${RUNNER_ARCH:-?}; building it with cargo install"
  fi
  command -v cargo >/dev/null || fail "no keytrace release for this runner and no cargo to build one"
  cargo install --locked --quiet --root "$temp/keytrace-cargo" --path "$action_path" >&2 ||
    fail "cargo install --locked --path $action_path failed"
  keytrace="$temp/keytrace-cargo/bin/keytrace"
}

# --- choosing the commits ----------------------------------------------------------------

g() { git -C "$path" "$@"; }
have_commit() { g cat-file -e "$1^{commit}" 2>/dev/null; }
is_shallow() { [[ $(g rev-parse --is-shallow-repository) == true ]]; }

# True when BASE and HEAD are present and no commit of BASE..HEAD is a shallow boundary
# (a boundary commit's parents are missing, so the range would run past it).
range_complete() {
  local base=$1 head=$2 shallow commits
  have_commit "$base" && have_commit "$head" || return 1
  is_shallow || return 0
  shallow=$(g rev-parse --git-path shallow)
  [[ $shallow == /* ]] || shallow="$path/$shallow"
  commits=$(g rev-list "$base..$head") || return 1
  ! grep -qxFf "$shallow" <<<"$commits"
}

# Fetches one commit by id from origin (GitHub serves any reachable commit by id).
fetch_commit() {
  local sha=$1
  shift
  g fetch --quiet --no-tags "$@" origin "$sha" 2>/dev/null
}

# Fetches a missing commit, only that commit into a shallow checkout (a --depth fetch would
# make a full clone shallow); true when the commit is then present.
fetch_missing() {
  have_commit "$1" && return 0
  if is_shallow; then
    fetch_commit "$1" --depth=1 || true
  else
    fetch_commit "$1" || true
  fi
  have_commit "$1"
}

# Makes BASE..HEAD scannable: fetches missing commits and deepens a shallow checkout until the
# range is whole. Returns 1 when it cannot be made whole.
ensure_range() {
  local base=$1 head=$2 depth sha
  range_complete "$base" "$head" && return 0
  if ! is_shallow; then
    fetch_missing "$head" && fetch_missing "$base" || return 1
    range_complete "$base" "$head"
    return
  fi
  for depth in "${DEEPEN_STEPS[@]}"; do
    for sha in "$head" "$base"; do
      fetch_commit "$sha" --depth="$depth" || true
    done
    range_complete "$base" "$head" && return 0
  done
  g fetch --quiet --no-tags --unshallow origin 2>/dev/null || true
  fetch_missing "$head" && fetch_missing "$base" || return 1
  range_complete "$base" "$head"
}

# The default branch's tip as a base for a push whose own base is unknown, or nothing when
# the push is to the default branch itself (or it has none).
default_branch_base() {
  local event=$1 default ref
  default=$(json_get "$event" repository default_branch) || return 1
  ref=$(json_get "$event" ref) || return 1
  [[ -n $default && $ref != "refs/heads/$default" ]] || return 0
  # Only its tip into a shallow checkout; ensure_range deepens as far as the range needs.
  local depth=()
  ! is_shallow || depth=(--depth=1)
  g fetch --quiet --no-tags "${depth[@]}" origin \
    "+refs/heads/$default:refs/remotes/origin/$default" 2>/dev/null || return 0
  g rev-parse "refs/remotes/origin/$default"
}

# Commit ids from the payload go to git as arguments: only a full SHA-1 or SHA-256 id passes.
check_ids() {
  local event=$1 id
  shift
  for id in "$@"; do
    [[ $id =~ ^[0-9a-f]{40}([0-9a-f]{24})?$ ]] || fail "$event: \`$id\` is not a commit id"
  done
}

# Sets `mode` (range, git or none), `base`, `head` and `scope` (words for the summary) from
# the event.
choose_scope() {
  local event_name=${GITHUB_EVENT_NAME:-} event=${GITHUB_EVENT_PATH:-}
  mode=git base="" head="" scope="the whole repository with history ($event_name)"
  case $event_name in
    pull_request | pull_request_target)
      [[ -f $event ]] || fail "GITHUB_EVENT_PATH ($event) is not a file"
      base=$(json_get "$event" pull_request base sha) || fail "cannot read $event"
      head=$(json_get "$event" pull_request head sha) || fail "cannot read $event"
      [[ -n $base && -n $head ]] || fail "$event: no pull_request.base.sha / .head.sha"
      check_ids "$event" "$base" "$head"
      mode=range scope="pull request commits $base..$head"
      ;;
    merge_group)
      [[ -f $event ]] || fail "GITHUB_EVENT_PATH ($event) is not a file"
      base=$(json_get "$event" merge_group base_sha) || fail "cannot read $event"
      head=$(json_get "$event" merge_group head_sha) || fail "cannot read $event"
      [[ -n $base && -n $head ]] || fail "$event: no merge_group.base_sha / .head_sha"
      check_ids "$event" "$base" "$head"
      mode=range scope="merge group commits $base..$head"
      ;;
    push) choose_push_scope "$event" ;;
  esac
}

choose_push_scope() {
  local event=$1 fallback
  [[ -f $event ]] || fail "GITHUB_EVENT_PATH ($event) is not a file"
  base=$(json_get "$event" before) || fail "cannot read $event"
  head=$(json_get "$event" after) || fail "cannot read $event"
  [[ -n $head ]] || fail "$event: no after commit in the push payload"
  check_ids "$event" "$head" ${base:+"$base"}
  if [[ $head == "$ZERO_SHA" ]]; then
    mode=none scope="a deleted ref"
    return
  fi
  mode=range scope="pushed commits $base..$head"
  if [[ -n $base && $base != "$ZERO_SHA" ]]; then
    fetch_missing "$base" && return
    fallback="the push's before commit $base is not reachable (a force-push?)"
  else
    fallback="a new ref"
  fi
  # No usable base: scan what is not on the default branch, or everything.
  base=$(default_branch_base "$event") || fail "cannot read $event"
  if [[ -n $base ]]; then
    notice "$fallback: scanning the commits of $head that are not on the default branch"
    scope="commits of $head not on the default branch ($fallback)"
  else
    notice "$fallback on the default branch: scanning the whole repository with history"
    mode=git scope="the whole repository with history ($fallback on the default branch)"
  fi
}

# --- scanning and reporting --------------------------------------------------------------

# Splits the `args` input as a shell would (quotes respected, nothing expanded or run).
split_args() {
  python3 - "$1" <<'PY'
import shlex, sys
try:
    words = shlex.split(sys.argv[1])
except ValueError as e:
    sys.exit(f"the args input does not split into words: {e}")
sys.stdout.write("".join(w + "\0" for w in words))
PY
}

# The Markdown summary: the verdict, the scope and one row per finding (no secret: the JSON
# report holds only fingerprints and redacted hints). GitHub keeps at most 1 MiB of summary
# per step, so rows stop at KEYTRACE_SUMMARY_MAX_ROWS (1000); SARIF has them all.
write_summary() {
  [[ -n ${GITHUB_STEP_SUMMARY:-} ]] || return 0
  python3 - "$1" "$2" "$3" "${KEYTRACE_SUMMARY_MAX_ROWS:-1000}" >>"$GITHUB_STEP_SUMMARY" <<'PY'
import json, sys
report, scope, code, max_rows = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
with open(report, encoding="utf-8") as f:
    doc = json.load(f)
def cell(s):
    return str(s).replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")
findings = doc["findings"]
verdict = "failed" if code == "1" else "passed"
print(f"### keytrace: {len(findings)} finding(s), gate {verdict}\n")
print(f"Scanned {cell(scope)}.\n")
if findings:
    print("| severity | kind | rule | location | commit |")
    print("| --- | --- | --- | --- | --- |")
    for x in findings[:max_rows]:
        loc = x["location"]
        commit = (loc.get("commit") or "")[:12]
        print(f"| {cell(x['severity'])} | {cell(x['kind'])} | `{cell(x['rule'])}` "
              f"| `{cell(loc['path'])}:{loc['line']}` | {cell(commit)} |")
    print()
    if len(findings) > max_rows:
        print(f"… and {len(findings) - max_rows} more, in the SARIF report.\n")
PY
}

main() {
  local mode base head scope keytrace count code findings args=()
  cd "$workspace"
  [[ -d $path ]] || fail "path $path is not a directory (relative to $workspace)"
  command -v python3 >/dev/null || fail "python3 is needed to read the event payload"
  sarif_file=${sarif_file:-$temp/keytrace.sarif}

  choose_scope
  case $mode in
    none)
      notice "nothing to scan: $scope has no commits"
      summary "### keytrace: nothing to scan" "" "Scanned zero commits: $scope has none."
      finish 0 0
      ;;
    range)
      if [[ $base == "$head" ]]; then
        notice "nothing to scan: the base and head are the same commit $head ($scope)"
        summary "### keytrace: nothing to scan" "" "Scanned zero commits: the base and head are the same commit ($scope)."
        finish 0 0
      fi
      ensure_range "$base" "$head" || {
        have_commit "$base" || fail "base commit $base is missing from this checkout and could not be fetched from origin; use actions/checkout with fetch-depth: 0"
        fail "the commits of $base..$head could not all be fetched into this shallow checkout; use actions/checkout with fetch-depth: 0"
      }
      count=$(g rev-list --count "$base..$head")
      if [[ $count == 0 ]]; then
        notice "nothing to scan: $base..$head holds no commit ($scope)"
        summary "### keytrace: nothing to scan" "" "Scanned zero commits: $base..$head holds none ($scope)."
        finish 0 0
      fi
      args+=(--rev-range "$base..$head")
      scope="$scope, $count commit(s)"
      ;;
    git)
      if is_shallow; then
        g fetch --quiet --no-tags --unshallow origin 2>/dev/null ||
          fail "this checkout is shallow and its history could not be fetched; use actions/checkout with fetch-depth: 0"
      fi
      args+=(--git)
      ;;
  esac

  args+=(--fail-on "$fail_on")
  [[ -z $inventory ]] || args+=(--inventory "$inventory")
  [[ -z $baseline ]] || args+=(--baseline "$baseline")
  if [[ -n $extra_args ]]; then
    local extra
    split_args "$extra_args" >"$temp/keytrace-args" || fail "cannot split the args input"
    mapfile -d '' -t extra <"$temp/keytrace-args"
    args+=("${extra[@]}")
  fi

  get_keytrace
  local report="$temp/keytrace-report.json"
  mkdir -p "$(dirname "$sarif_file")"
  code=0
  # One scan, three reports: annotations on stdout (the runner reads them there), JSON for the
  # summary and the count, SARIF for code scanning.
  "$keytrace" scan "$path" "${args[@]}" --format github \
    --report "json=$report" --report "sarif=$sarif_file" || code=$?
  case $code in
    0 | 1) ;;
    *) fail "keytrace scan exited $code (see the error above)" ;;
  esac
  findings=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["findings"]))' "$report")
  write_summary "$report" "$scope" "$code"
  finish "$code" "$findings"
}

main "$@"
