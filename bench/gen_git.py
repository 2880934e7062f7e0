#!/usr/bin/env python3
"""A deterministic git history as a git fast-import stream on stdout (seeded PRNG).

    python3 bench/gen_git.py COMMITS [FILES] | git -C REPO.git fast-import --quiet

FILES (default 2,000) files in 120 directories; each commit edits 1-4 files (small line
edits, so packs delta well), one in 40 adds a file, one in 90 deletes one, side branches
merged every 500 commits, tags every 1,000, and 5 planted secrets (one only on a tag, one
added then removed). Used by bench/git.sh and bench/staged.sh.
"""
import random, sys, zlib
n = int(sys.argv[1]); nfiles = int(sys.argv[2]) if len(sys.argv) > 2 else 2000; rnd = random.Random(20261123)
B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
def ghp():
    r = "".join(rnd.choice(B62) for _ in range(30)); c = zlib.crc32(r.encode()); t = ""
    for _ in range(6): t = B62[c % 62] + t; c //= 62
    return "ghp_" + r + t
words = "alpha beta gamma delta config service handler request response client server cache index value result error retry timeout buffer stream token user order invoice payment".split()
def line(): return " ".join(rnd.choice(words) for _ in range(rnd.randint(3, 12)))
dirs = [f"src/mod{i:03d}" for i in range(100)] + [f"docs/sec{i:02d}" for i in range(20)]
files = {}
for i in range(nfiles):
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
