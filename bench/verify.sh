#!/usr/bin/env bash
# verify-reset estate benchmark: `keytrace verify-reset --all` over an estate of 41 git
# repositories with working trees (~20,000 commits), against `keytrace scan --git` on the same
# estate (without and with the inventory) and the object-store floor (`git cat-file
# --batch-all-objects --batch`, every repository in turn). Also prints the recall of
# verify-reset on the planted residue of rotated credentials, per kind of plant.
#
#   bash bench/verify.sh                     # build, generate/reuse the estate, measure
#   BUILD=0 RUNS=5 bash bench/verify.sh
#   REPOS=4 BIG_COMMITS=400 BUILD=0 RUNS=1 bash bench/verify.sh   # a quick check
#
# Environment (all optional):
#   SEED=20261202             generator seed
#   REPOS=40 BIG_COMMITS=8000 small repositories (200-400 commits, 100-500 files each) and the
#                             commits of the one large repository (500 files)
#   RUNS=3 WARMUP=1           timed runs per command (interleaved; median reported), untimed
#                             warm-up runs before them
#   BUILD=1                   0 = do not run `cargo build --release`
#   JOBS=2                    repositories generated in parallel
#   CACHE_DIR=${TMPDIR:-/tmp}/keytrace-bench   estate in $CACHE_DIR/estate-…/repos, with its
#                             inventory.json, planted.jsonl and decoys.jsonl
#   KEYTRACE=target/release/keytrace
#
# The estate is reused while the seed, sizes and generator are unchanged; its inventory is built
# once with it by the real CLI (`inventory add` / `rotate` / `retire-reference`, every secret on
# stdin) with KEYTRACE_NOW fixed. Goal: verify-reset wall time <= 1.2x scan --git.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
SEED=${SEED:-20261202}
REPOS=${REPOS:-40}
BIG_COMMITS=${BIG_COMMITS:-8000}
RUNS=${RUNS:-3}
WARMUP=${WARMUP:-1}
BUILD=${BUILD:-1}
JOBS=${JOBS:-2}
CACHE_DIR=${CACHE_DIR:-${TMPDIR:-/tmp}/keytrace-bench}
KEYTRACE=${KEYTRACE:-$ROOT/target/release/keytrace}

note() { printf '%s\n' "$*" >&2; }
die() { note "error: $*"; exit 2; }
command -v python3 >/dev/null || die "python3 is required"
command -v git >/dev/null || die "git is required"

if [[ $BUILD != 0 ]]; then
  note "== cargo build --release (in $ROOT)"
  (cd "$ROOT" && nice cargo build --release) || die "cargo build --release failed"
fi
[[ -x $KEYTRACE ]] || die "no binary at $KEYTRACE"
KEYTRACE=$(cd "$(dirname "$KEYTRACE")" && pwd)/$(basename "$KEYTRACE")

# ---- the estate generator (Python stdlib only; byte-identical repositories for a seed) ------
GEN=$(cat <<'PY'
import base64, json, multiprocessing, os, random, string, subprocess, sys, zlib

seed, nrepos, big, est, kt, jobs = sys.argv[1:7]
seed, nrepos, big, jobs = int(seed), int(nrepos), int(big), max(1, int(jobs))
B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
WORDS = ("alpha beta gamma delta config service handler request response client server cache "
         "index value result error retry timeout buffer stream token user order invoice payment "
         "queue worker batch region cluster replica schema record tenant account").split()
T0 = 1_600_000_000

def ghp(r):  # a GitHub classic token with a valid CRC32 tail
    body = "".join(r.choice(B62) for _ in range(30)); c = zlib.crc32(body.encode()); tail = ""
    for _ in range(6): tail = B62[c % 62] + tail; c //= 62
    return "ghp_" + body + tail
def aws_id(r): return "AKIA" + "".join(r.choice(string.ascii_uppercase + "234567") for _ in range(16))
def aws_secret(r): return "".join(r.choice(string.ascii_letters + string.digits + "+/") for _ in range(40))
def password(r):  # no provider shape: only a known-value pass can find it
    pool = string.ascii_letters + string.digits + "!#%&*+-.=?@^_~"
    while True:
        p = "".join(r.choice(pool) for _ in range(r.randint(16, 24)))
        if sum(ch in "!#%&*+-.=?@^_~" for ch in p) >= 2 and any(ch.isdigit() for ch in p): return p

# ---- credentials and the plan of plants (one master PRNG, so the plan is stable) ----------
m = random.Random(seed)
repos = ["monolith"] + [f"svc-{i:02d}" for i in range(nrepos)]
ncommits = {"monolith": big}; nfiles = {"monolith": 500}
for name in repos[1:]: ncommits[name] = m.randint(200, 400); nfiles[name] = m.randint(100, 500)
creds = []  # (id, kind, value maker, rotated)
for i in range(7): creds.append((f"gh-deploy-{i}", "github-pat", "ghp", True))
for i in range(6): creds.append((f"aws-ci-{i}", "aws-access-key", "aws", True))
for i in range(7): creds.append((f"db-password-{i}", "password", "pw", True))
for i in range(4): creds.append((f"gh-bot-{i}", "github-pat", "ghp", False))
for i in range(3): creds.append((f"aws-app-{i}", "aws-access-key", "aws", False))
for i in range(3): creds.append((f"api-password-{i}", "password", "pw", False))
def value(kind):
    if kind == "ghp": return {"secret": ghp(m)}
    if kind == "aws": return {"secret": aws_secret(m), "id": aws_id(m)}
    return {"secret": password(m)}
old = {c[0]: value(c[2]) for c in creds if c[3]}
cur = {c[0]: value(c[2]) for c in creds}
retired = {cid: (f"OLD_{cid.upper().replace('-', '_')}", cid.upper().replace("-", "_"))
           for cid in ("gh-deploy-0", "gh-deploy-3", "aws-ci-1", "db-password-2", "db-password-5")}

plants = {name: [] for name in repos}  # per repo: dicts the repo worker turns into commits
serial = 0
def place(name, where, rec, lines):
    global serial
    serial += 1; n = ncommits[name]
    lines[0] += f"  # {serial}"  # unique blobs: equal blobs are one blob, scanned at one path
    add = m.randrange(1, n - 1)
    rm = min(n - 1, add + m.randint(1, 60)) if where == "history" else None
    rec.update(repo=name, where=where, add=add, rm=rm, serial=serial, lines=lines)
    plants[name].append(rec)
def file_form(kind, v, ref=None):
    """(directory, extension, lines with the values, [(plant kind, 1-based line)])"""
    if kind == "ghp":
        ext = m.choice([".py", ".env", ".yml", ".json"])
        line = {".py": f'GITHUB_TOKEN = "{v["secret"]}"', ".env": f'GH_TOKEN={v["secret"]}',
                ".yml": f'github_token: {v["secret"]}', ".json": f'  "github_token": "{v["secret"]}",'}[ext]
        return "config", ext, [line], [("ghp", 1)]
    if kind == "aws":
        ext = m.choice([".env", ".properties", ".py"])
        fmt = {".env": "AWS_ACCESS_KEY_ID={}\nAWS_SECRET_ACCESS_KEY={}",
               ".properties": "aws.accessKeyId={}\naws.secretKey={}",
               ".py": 'AWS_ACCESS_KEY_ID = "{}"\nAWS_SECRET_ACCESS_KEY = "{}"'}[ext]
        return "deploy", ext, fmt.format(v["id"], v["secret"]).split("\n"), [("aws-key-id", 1), ("aws-secret", 2)]
    if m.random() < 0.5:  # under a key no rule knows as secret-named
        ext = m.choice([".py", ".yml"])
        line = {".py": f'DEFAULTS = ("svc_orders", "{v["secret"]}")',
                ".yml": f'    args: ["--user", "svc", "{v["secret"]}"]'}[ext]
        return "config", ext, [line], [("password-bare", 1)]
    ext = m.choice([".properties", ".env", ".yml", ".json"])
    line = {".properties": f'spring.datasource.password={v["secret"]}', ".env": f'DB_PASSWORD={v["secret"]}',
            ".yml": f'  password: "{v["secret"]}"', ".json": f'  "password": "{v["secret"]}",'}[ext]
    return "config", ext, [line], [("password", 1)]

for cid, ckind, vk, rotated in creds:
    if not rotated: continue
    for _ in range(m.randint(2, 4)):
        name = m.choice(repos) if m.random() < 0.8 else "monolith"
        where = m.choice(["tree", "history"])
        if vk != "aws" and m.random() < 0.3:
            b64 = base64.b64encode(old[cid]["secret"].encode()).decode()
            lines = ["apiVersion: v1", "kind: Secret", "metadata:", f"  name: {cid}", "type: Opaque",
                     "data:", f"  value: {b64}"]
            place(name, where, {"cred": cid, "dir": "k8s", "ext": ".yaml", "stem": "secret",
                                "marks": [(f"k8s-base64-{vk}", 7)], "value_kind": vk}, lines)
        else:
            d, ext, lines, marks = file_form(vk, old[cid])
            place(name, where, {"cred": cid, "dir": d, "ext": ext, "stem": cid.rsplit("-", 1)[0],
                                "marks": marks, "value_kind": vk}, [f"# {cid} settings"] + lines)
            for k in range(len(marks)): marks[k] = (marks[k][0], marks[k][1] + 1)
for cid, (old_name, new_name) in sorted(retired.items()):
    for _ in range(2):
        name = m.choice(repos)
        where = m.choice(["tree", "history"])
        lines = ["name: deploy", "on: [push]", "jobs:", "  deploy:", "    runs-on: ubuntu-latest",
                 "    steps:", "      - run: ./deploy.sh", "        env:",
                 f"          TOKEN: ${{{{ secrets.{old_name} }}}}"]
        place(name, where, {"cred": cid, "dir": ".github/workflows", "ext": ".yml", "stem": "deploy",
                            "marks": [("retired-reference", 9)], "new_name": new_name}, lines)
decoys = []  # current values, never-rotated values, current reference names, unmanaged tokens
def decoy(name, cid, kind, lines):
    global serial
    serial += 1
    add = m.randrange(1, ncommits[name] - 1)
    rec = {"cred": cid, "kind": kind, "repo": name, "where": "tree", "add": add, "rm": None,
           "serial": serial, "dir": "settings", "ext": ".env", "stem": "current", "lines": lines, "marks": []}
    plants[name].append(rec); decoys.append(rec)
for cid, ckind, vk, rotated in creds:
    v = cur[cid]
    text = [f"TOKEN={v['secret']}"] if vk != "aws" else [f"AWS_ACCESS_KEY_ID={v['id']}", f"AWS_SECRET_ACCESS_KEY={v['secret']}"]
    decoy(m.choice(repos), cid, "current-value", text)
for cid, (old_name, new_name) in sorted(retired.items()):
    decoy(m.choice(repos), cid, "current-reference", ["env:", f"  TOKEN: ${{{{ secrets.{new_name} }}}}"])
for i in range(20): decoy(m.choice(repos), None, "unmanaged-ghp", [f"TOKEN={ghp(m)}"])
for i in range(10): decoy(m.choice(repos), None, "aws-example", ["AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
                           "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"])
for name in repos:
    for p in plants[name]:
        p["path"] = f"{p['dir']}/{p['stem']}-{p['serial']:03d}{p['ext']}"

# ---- one repository: fast-import stream, then a work tree -----------------------------------
EXTS = [".py", ".py", ".py", ".yml", ".json", ".properties", ".env", ".yaml"]
DIRS = ["src", "src/api", "src/core", "src/jobs", "lib", "config", "deploy", "k8s", "scripts", "tests"]
def content_line(r, ext):
    w = " ".join(r.choice(WORDS) for _ in range(r.randint(2, 9)))
    k = r.choice(WORDS) + "_" + r.choice(WORDS)
    if ext == ".py": return r.choice([f"    {k} = {w.split()[0]}({r.randint(0, 999)})", f"# {w}", f"def {k}(request):", f"    return {k}.{r.choice(WORDS)}()"])
    if ext in (".yml", ".yaml"): return r.choice([f"{k}: {w}", f"  {k}: {r.randint(0, 9999)}", f"  - name: {k}", f"    image: registry.example.org/{k}:{r.randint(1, 99)}"])
    if ext == ".json": return f'  "{k}": "{w}",'
    if ext == ".properties": return f"{k.replace('_', '.')}={w}"
    return f"{k.upper()}={w.replace(' ', '-')}"
def manifest(r, i):
    app = r.choice(WORDS) + f"-{i}"
    return ["apiVersion: apps/v1", "kind: Deployment", "metadata:", f"  name: {app}", "spec:",
            f"  replicas: {r.randint(1, 5)}", "  template:", "    spec:", "      containers:",
            f"        - name: {app}", f"          image: registry.example.org/{app}:{r.randint(1, 99)}",
            "          envFrom:", "            - secretRef:", f"                name: {app}-env"]

def build(name):
    r = random.Random(f"{seed}/{name}")
    path = os.path.join(est, "repos", name)
    subprocess.run(["git", "init", "-q", "-b", "main", path], check=True)
    fi = subprocess.Popen(["git", "-C", path, "fast-import", "--quiet"], stdin=subprocess.PIPE)
    out = fi.stdin; mark = 0
    files = {}
    for i in range(nfiles[name]):
        d = DIRS[i % len(DIRS)]; ext = r.choice(EXTS)
        if d == "k8s": files[f"k8s/deploy-{i:04d}.yaml"] = manifest(r, i); continue
        files[f"{d}/{r.choice(WORDS)}_{i:04d}{ext}"] = [content_line(r, ext) for _ in range(r.randint(30, 220))]
    for i in range(3):
        files[f".github/workflows/ci-{i}.yml"] = ["name: ci", "on: [push]", "jobs:", "  test:",
            "    runs-on: ubuntu-latest", "    steps:", "      - run: make test", "        env:",
            f"          TOKEN: ${{{{ secrets.CI_TOKEN_{i} }}}}"]
    def data(s):
        b = s.encode(); out.write(b"data %d\n" % len(b)); out.write(b); out.write(b"\n")
    def commit(ref, msg, changes, parents, when):
        nonlocal mark
        mark += 1
        who = f"Dev {mark % 9} <dev{mark % 9}@example.org> {T0 + when} +0000\n"
        out.write(f"commit {ref}\nmark :{mark}\nauthor {who}committer {who}".encode()); data(msg)
        for i, p in enumerate(parents): out.write((f"from :{p}\n" if i == 0 else f"merge :{p}\n").encode())
        for op, p, body in changes:
            if op == "M": out.write(f"M 100644 inline {p}\n".encode()); data(body)
            else: out.write(f"D {p}\n".encode())
        return mark
    text = lambda ls: "\n".join(ls) + "\n"
    head = commit("refs/heads/main", "initial", [("M", p, text(ls)) for p, ls in sorted(files.items())], (), 0)
    editable = sorted(files)
    by_add, by_rm = {}, {}
    for p in plants[name]:
        by_add.setdefault(p["add"], []).append(p)
        if p["rm"] is not None: by_rm.setdefault(p["rm"], []).append(p)
    n = ncommits[name]
    for c in range(1, n):
        ch = []
        for p in r.sample(editable, r.randint(1, 4)):
            ls = files[p]; ext = os.path.splitext(p)[1]; k = r.randrange(len(ls))
            ls[k] = content_line(r, ext)
            if r.random() < 0.3: ls.insert(r.randrange(len(ls)), content_line(r, ext))
            ch.append(("M", p, text(ls)))
        if c % 50 == 0:
            ext = r.choice(EXTS); p = f"{r.choice(DIRS)}/new_{c:05d}{ext}"
            files[p] = [content_line(r, ext) for _ in range(40)]; editable.append(p); ch.append(("M", p, text(files[p])))
        if c % 120 == 0 and len(editable) > 50:
            p = editable.pop(r.randrange(len(editable))); ch.append(("D", p, ""))
        for p in by_add.get(c, []): ch.append(("M", p["path"], text(p["lines"])))
        for p in by_rm.get(c, []):
            if r.random() < 0.5 or "new_name" in p: # rewrite without the value
                keep = [l for i, l in enumerate(p["lines"], 1) if i not in {ln for _, ln in p["marks"]}]
                if "new_name" in p: keep.append(f"          TOKEN: ${{{{ secrets.{p['new_name']} }}}}")
                ch.append(("M", p["path"], text(keep)))
            else:
                ch.append(("D", p["path"], ""))
        if c % 200 == 100:
            side = commit(f"refs/heads/topic-{c}", f"topic {c}", [("M", f"docs/topic-{c}.md", "notes\n")], (head,), c * 600 - 60)
            head = commit("refs/heads/main", f"change {c}", ch, (head, side), c * 600)
        else:
            head = commit("refs/heads/main", f"change {c}", ch, (head,), c * 600)
        if c % 250 == 0: out.write(f"reset refs/tags/v{c // 250}.0\nfrom :{head}\n\n".encode())
    out.write(b"done\n"); out.close()
    if fi.wait() != 0: raise SystemExit(f"git fast-import failed for {name}")
    subprocess.run(["git", "-C", path, "-c", "pack.threads=1", "repack", "-adq", "--depth=50", "--window=10"], check=True)
    subprocess.run(["git", "-C", path, "reset", "-q", "--hard", "main"], check=True)
    return name

if __name__ == "__main__":
    os.makedirs(os.path.join(est, "repos"), exist_ok=True)
    with multiprocessing.Pool(jobs) as pool:
        for done in pool.imap_unordered(build, sorted(repos, key=lambda x: -ncommits[x])):
            print(f"   {done}: {ncommits[done]} commits", file=sys.stderr)
    with open(os.path.join(est, "planted.jsonl"), "w") as f:  # where, never what
        for name in repos:
            for p in plants[name]:
                if p in decoys: continue
                for kind, line in p["marks"]:
                    f.write(json.dumps({"cred": p["cred"], "plant": kind, "repo": name, "path": p["path"],
                                        "line": line, "where": p["where"]}, sort_keys=True) + "\n")
    with open(os.path.join(est, "decoys.jsonl"), "w") as f:
        for p in decoys:
            f.write(json.dumps({"cred": p["cred"], "kind": p["kind"], "repo": p["repo"], "path": p["path"]}, sort_keys=True) + "\n")
    # The inventory, by the real CLI; every secret goes to it on stdin.
    inv = os.path.join(est, "inventory.json")
    def kt_inv(args, secret=None, now="2026-06-01T00:00:00Z"):
        env = dict(os.environ, KEYTRACE_NOW=now, KEYTRACE_CACHE_DIR="")
        subprocess.run([kt, "inventory", *args, "--inventory", inv, "--quiet"], check=True, env=env,
                       input=None if secret is None else secret + "\n", text=True, stdout=subprocess.DEVNULL)
    for cid, ckind, vk, rotated in creds:
        first = old[cid] if rotated else cur[cid]
        args = ["add", "--id", cid, "--kind", ckind, "--owner", "team-" + cid.split("-")[0], "--rotation-days", "90"]
        if "id" in first: args += ["--identifier", first["id"]]
        if cid in retired: args += ["--reference", f"github-secret:{retired[cid][0]}", "--reference", f"github-secret:{retired[cid][1]}"]
        kt_inv(args, first["secret"])
        if rotated:
            rot = ["rotate", "--id", cid, "--by", "alice", "--approved-by", "bob", "--ticket", f"SEC-{100 + len(cid)}",
                   "--reason", "scheduled rotation"]
            if "id" in cur[cid]: rot += ["--identifier", cur[cid]["id"]]
            kt_inv(rot, cur[cid]["secret"], now="2026-11-01T00:00:00Z")
        if cid in retired:
            kt_inv(["retire-reference", "--id", cid, f"github-secret:{retired[cid][0]}"])
PY
)

GEN_DIGEST=$(printf '%s' "$GEN" | sha256sum | cut -c1-12)
EST=$CACHE_DIR/estate-$SEED-$REPOS-$BIG_COMMITS-$GEN_DIGEST
INV=$EST/inventory.json
if [[ ! -f $EST/.complete ]]; then
  rm -rf "$EST"
  mkdir -p "$EST"
  note "== generating the estate ($REPOS + 1 repositories) and its inventory in $EST"
  start=$(date +%s)
  nice python3 -c "$GEN" "$SEED" "$REPOS" "$BIG_COMMITS" "$EST" "$KEYTRACE" "$JOBS" || die "estate generation failed"
  touch "$EST/.complete"
  note "   generated in $(($(date +%s) - start)) s"
fi
REPO_DIR=$EST/repos

# ---- timing ----------------------------------------------------------------------------------
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
# No keytrace-inventory.json in the working directory, no inventory-table cache in ~/.cache.
cd "$OUT" || die "cannot enter $OUT"
export KEYTRACE_CACHE_DIR=
if [[ -x /usr/bin/time ]] && /usr/bin/time -f '%e' -o /dev/null true 2>/dev/null; then
  TIMER=(/usr/bin/time -f '%e %M %U %S' -o)
else
  TIMER=(python3 "$HERE/measure.py") # wall and RSS only
fi
floor() { for r in "$REPO_DIR"/*/; do git -C "$r" cat-file --batch-all-objects --batch >/dev/null || return 2; done; }
export -f floor
export REPO_DIR
# label | allowed exit codes | command
CMDS=(
  "floor|0|bash -c floor"
  "scan|0 1|$KEYTRACE scan --git $REPO_DIR --format json --quiet -o $OUT/scan.json"
  "scan_inv|0 1|$KEYTRACE scan --git $REPO_DIR --inventory $INV --format json --quiet -o $OUT/scan_inv.json"
  "verify|1|$KEYTRACE verify-reset --all $REPO_DIR --inventory $INV --format json --quiet -o $OUT/verify.json"
)
run_one() { # label, allowed codes, command words: appends "label wall rss cpu" to $OUT/times
  local label=$1 ok=$2 rc
  shift 2
  nice "${TIMER[@]}" "$OUT/t" "$@" >/dev/null 2>"$OUT/$label.err"
  rc=$?
  [[ " $ok " == *" $rc "* ]] || { note "error: $label exited $rc:"; cat "$OUT/$label.err" >&2; exit 2; }
  # GNU time puts "Command exited with non-zero status N" before its line.
  tail -1 "$OUT/t" | awk -v l="$label" '{ cpu = (NF >= 4) ? sprintf("%.2f", $3 + $4) : "-"; print l, $1, $2, cpu }' >>"$OUT/times"
}
note "== timing: $WARMUP warm-up and $RUNS timed runs of each, interleaved; load average $(cut -d' ' -f1-3 /proc/loadavg)"
for ((i = 0; i < WARMUP + RUNS; i++)); do
  ((i == WARMUP)) && : >"$OUT/times"
  for c in "${CMDS[@]}"; do
    IFS='|' read -r label ok cmd <<<"$c"
    # shellcheck disable=SC2086 # the command is split into words on purpose (no spaces in paths)
    run_one "$label" "$ok" $cmd
  done
  ((i >= WARMUP)) && note "   run $((i - WARMUP + 1)): $(tail -4 "$OUT/times" | awk '{printf "%s %ss  ", $1, $2}')"
done

# ---- table, ratios, recall -------------------------------------------------------------------
python3 - "$OUT" "$EST" "$RUNS" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import collections, json, os, statistics, subprocess, sys
out, est, runs, cores, load = sys.argv[1:6]
repos = sorted(os.listdir(os.path.join(est, "repos")))
commits = sum(int(subprocess.run(["git", "-C", os.path.join(est, "repos", r), "rev-list", "--all", "--count"],
                                 capture_output=True, text=True).stdout) for r in repos)
du = subprocess.run(["du", "-sm", os.path.join(est, "repos")], capture_output=True, text=True).stdout.split()[0]
scan = json.load(open(os.path.join(out, "scan.json")))
scan_inv = json.load(open(os.path.join(out, "scan_inv.json")))
rec = json.load(open(os.path.join(out, "verify.json")))
h = scan["summary"]["history"]
print(f"estate: {est}/repos: {len(repos)} repositories, {commits} commits, {h['blobs_scanned']} blobs "
      f"({h['bytes_scanned'] / 1e6:.0f} MB) scanned, {du} MB on disk; {cores} cores, load average {load}")
rows = collections.defaultdict(list)
for line in open(os.path.join(out, "times")):
    label, wall, rss, cpu = line.split()
    rows[label].append((float(wall), int(rss), None if cpu == "-" else float(cpu)))
def med(label, i):
    xs = [r[i] for r in rows[label] if r[i] is not None]
    return statistics.median(xs) if xs else float("nan")
names = {"floor": "git cat-file --batch-all-objects (all)", "scan": "keytrace scan --git",
         "scan_inv": "keytrace scan --git --inventory", "verify": "keytrace verify-reset --all"}
notes = {"floor": "floor: every object of every repository decompressed",
         "scan": f"{len(scan['findings'])} findings (baseline)",
         "scan_inv": f"{len(scan_inv['findings'])} findings",
         "verify": f"verdict {rec['verdict']}, {len(rec['credentials'])} credentials checked"}
print(f"\nmedian of {runs} runs (peak RSS: max over runs)")
print(f"{'command':<40} {'wall':>8} {'CPU':>8} {'peak RSS':>9}  notes")
for k in ("floor", "scan", "scan_inv", "verify"):
    rss = max(r[1] for r in rows[k]) // 1024
    print(f"{names[k]:<40} {med(k, 0):7.2f}s {med(k, 2):7.2f}s {rss:6d} MB  {notes[k]}")
w, s, f = med("verify", 0), med("scan", 0), med("floor", 0)
print(f"\nverify-reset / scan --git:            {w / s:.2f}x wall, {med('verify', 2) / med('scan', 2):.2f}x CPU"
      f"   goal <= 1.2x: {'PASS' if w / s <= 1.2 else 'FAIL'}")
print(f"scan --git --inventory / scan --git:  {med('scan_inv', 0) / s:.2f}x wall")
print(f"scan --git / floor:                   {s / f:.2f}x wall;  verify-reset / floor: {w / f:.2f}x wall")

# Recall: a plant is found when its credential's remaining[] names its repo, path and place
# (tree or history) with the finding kind the plant should give.
expect = {"ghp": "revoked-secret-present", "aws-secret": "revoked-secret-present", "password": "revoked-secret-present",
          "password-bare": "revoked-secret-present", "k8s-base64-ghp": "revoked-secret-present",
          "k8s-base64-pw": "revoked-secret-present", "aws-key-id": "revoked-identifier-present",
          "retired-reference": "retired-reference"}
places = collections.defaultdict(set)
for c in rec["credentials"]:
    for r in c["remaining"]:
        places[c["id"]].add((r["repo"], r["path"], r["where"], r["kind"]))
        if r.get("identifiers"):  # a key id beside its secret is named on that finding
            places[c["id"]].add((r["repo"], r["path"], r["where"], "revoked-identifier-present"))
planted = [json.loads(l) for l in open(os.path.join(est, "planted.jsonl"))]
tally = collections.defaultdict(lambda: [0, 0])
explained = set()
for p in planted:
    k = expect[p["plant"]]
    hit = (p["repo"], p["path"], p["where"], k) in places[p["cred"]]
    tally[(p["plant"], p["where"])][0] += hit
    tally[(p["plant"], p["where"])][1] += 1
    # a tree copy is in history too
    explained |= {(p["cred"], p["repo"], p["path"], wh, k) for wh in ("tree", "history")}
print("\nrecall of verify-reset --all (found / planted), per kind of plant and place:")
kinds = sorted({k for k, _ in tally})
print(f"  {'plant':<18} {'tree':>9} {'history':>9} {'all':>9}")
total = [0, 0]
for k in kinds:
    t, hi = tally[(k, "tree")], tally[(k, "history")]
    total[0] += t[0] + hi[0]; total[1] += t[1] + hi[1]
    print(f"  {k:<18} {t[0]:>4}/{t[1]:<4} {hi[0]:>4}/{hi[1]:<4} {t[0] + hi[0]:>4}/{t[1] + hi[1]:<4}")
print(f"  {'total':<18} {'':>9} {'':>9} {total[0]:>4}/{total[1]:<4}")
extra = sorted((c, *p) for c, ps in places.items() for p in ps if (c, *p) not in explained)
print(f"places reported that no plant explains (false positives: current values, decoys): {len(extra)}")
for e in extra[:10]:
    print("   ", " ".join(e))
verdicts = collections.Counter(c["verdict"] for c in rec["credentials"])
print("credential verdicts: " + ", ".join(f"{v} {n}" for v, n in sorted(verdicts.items())))
# A verdict of complete while residue is planted is the costly miss: say which.
residue = {p["cred"] for p in planted}
wrong = sorted(c["id"] for c in rec["credentials"] if c["verdict"] != "incomplete" and c["id"] in residue)
print(f"credentials not judged incomplete although residue is planted: {len(wrong)}" + (f" ({', '.join(wrong)})" if wrong else ""))
PY
