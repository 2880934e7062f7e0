#!/usr/bin/env python3
"""Which syntaxes keytrace reads a named credential in: one value, forty ways to write it.

    python3 bench/formats.py [--keytrace target/release/keytrace] [--out DIR] [--peers DIR]

A credential that only its name identifies (a Datadog API key is 32 hex digits; a
generic API key or password has no prefix at all) is found only when the scanner reads
the name in the file's syntax. This writes one small file per syntax (env files, shell,
YAML, JSON, TOML, INI, properties, XML, HCL, Dockerfile, Makefile, systemd units and
assignments in a dozen languages) for each of three credentials, scans the tree and
prints a matrix of found / missed per syntax, for keytrace and, when installed, the peers.
Values come from a seeded generator; none is, or was, a live key.
"""
import json
import os
import random
import shutil
import string
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from recall import common_args, installed_peers, scan, scan_peer  # noqa: E402

# (file name, text): {N} is the credential's name in the syntax's own case
# (UPPER_SNAKE, lower_snake, camelCase, dotted), {V} its value. The value's line is the
# one that holds {V}.
SYNTAXES = [
    (".env", "{N}={V}\n"),
    ("export.sh", "export {N}=\"{V}\"\n"),
    ("compose.yml", "services:\n  api:\n    environment:\n      - {N}={V}\n"),
    ("compose-map.yml", "services:\n  api:\n    environment:\n      {N}: \"{V}\"\n"),
    ("workflow.yml", "jobs:\n  deploy:\n    env:\n      {N}: {V}\n"),
    ("values.yaml", "{vendor}:\n  {camel}: {V}\n"),
    ("config.yaml", "{snake}: '{V}'\n"),
    ("k8s.yaml", "env:\n  - name: {N}\n    value: \"{V}\"\n"),
    ("config.json", "{{\n  \"{vendor}\": {{\n    \"{camel}\": \"{V}\"\n  }}\n}}\n"),
    ("ecs.json", "[{{\"name\": \"{N}\", \"value\": \"{V}\"}}]\n"),
    ("config.toml", "[{vendor}]\n{snake_short} = \"{V}\"\n"),
    ("config.ini", "[{vendor}]\n{snake_short}={V}\n"),
    ("app.properties", "{dotted}={V}\n"),
    ("web.config", "<appSettings>\n  <add key=\"{N}\" value=\"{V}\" />\n</appSettings>\n"),
    ("main.tf", "variable \"{snake}\" {{\n  default = \"{V}\"\n}}\n"),
    ("prod.tfvars", "{snake} = \"{V}\"\n"),
    ("Dockerfile", "FROM alpine:3.20\nENV {N}={V}\n"),
    ("Dockerfile.legacy", "FROM alpine:3.20\nENV {N} {V}\n"),
    ("Makefile", "{N} ?= {V}\n"),
    ("app.service", "[Service]\nEnvironment=\"{N}={V}\"\n"),
    ("run.sh", "docker run -e {N}={V} acme/api:latest\n"),
    ("deploy.ps1", "$env:{N} = \"{V}\"\n"),
    ("setenv.bat", "set {N}={V}\n"),
    ("settings.py", "{N} = \"{V}\"\n"),
    ("env.py", "os.environ[\"{N}\"] = \"{V}\"\n"),
    ("client.py", "client = Client({snake_short}=\"{V}\")\n"),
    ("config.js", "const {N} = '{V}';\n"),
    ("client.ts", "export const {camel_full}: string = \"{V}\";\n"),
    ("env.js", "process.env.{N} = \"{V}\";\n"),
    ("main.go", "package main\n\nconst {camel_full} = \"{V}\"\n"),
    ("setenv.go", "package main\n\nfunc init() {{ os.Setenv(\"{N}\", \"{V}\") }}\n"),
    ("Config.java", "class Config {{\n    static final String {N} = \"{V}\";\n}}\n"),
    ("Config.kt", "object Config {{\n    const val {N} = \"{V}\"\n}}\n"),
    ("Config.cs", "static class Config {{\n    public const string {pascal} = \"{V}\";\n}}\n"),
    ("config.rb", "{N} = '{V}'\n"),
    ("env.rb", "ENV['{N}'] = '{V}'\n"),
    ("config.php", "<?php\n${camel_full} = '{V}';\n"),
    ("array.php", "<?php\nreturn [\n    '{vendor}' => [\n        '{snake_short}' => '{V}',\n    ],\n];\n"),
    ("config.rs", "pub const {N}: &str = \"{V}\";\n"),
    ("Config.swift", "enum Config {{\n    static let {camel_full} = \"{V}\"\n}}\n"),
    ("config.exs", "config :acme, :{vendor}, {snake_short}: \"{V}\"\n"),
    ("backup.pl", "my ${snake} = '{V}';\n"),
    ("config.lua", "local {snake} = \"{V}\"\n"),
    ("setup.R", "Sys.setenv({N} = \"{V}\")\n"),
]

B62 = string.ascii_letters + string.digits
LETTER = {"keytrace": "K", "kingfisher": "F", "betterleaks": "B"}


def credentials(rnd):
    """(label, vendor, name words, value generator) of the credentials written in every
    syntax; each file gets its own value, so no tool's grouping of one value seen in many
    places hides a place."""
    hexv = lambda: "".join(rnd.choice("0123456789abcdef") for _ in range(32))  # noqa: E731
    apikey = lambda: "".join(rnd.choice(B62) for _ in range(40))  # noqa: E731
    pw = lambda: "".join(rnd.choice(string.ascii_letters) for _ in range(5)) + "!" + "".join(rnd.choice(string.digits) for _ in range(2)) + "".join(rnd.choice(B62) for _ in range(5))  # noqa: E731
    return [
        ("datadog api key (32 hex)", "datadog", ["dd", "api", "key"], hexv),
        ("generic api key", "billing", ["billing", "api", "key"], apikey),
        ("database password", "database", ["db", "password"], pw),
    ]


def names(vendor, words):
    camel = words[0] + "".join(w.title() for w in words[1:])
    return {
        "N": "_".join(words).upper(),
        "snake": "_".join(words),
        "snake_short": "_".join(words[1:]),
        "camel": words[1] + "".join(w.title() for w in words[2:]),
        "camel_full": camel,
        "pascal": "".join(w.title() for w in words),
        "dotted": ".".join(words),
        "vendor": vendor,
    }


def main():
    args = common_args(__doc__.splitlines()[0], "keytrace-formats", 7).parse_args()
    rnd = random.Random(args.seed)
    if os.path.exists(args.out):
        shutil.rmtree(args.out)
    planted = []  # (path, line, credential label, syntax)
    creds = credentials(rnd)
    for i, (label, vendor, words, make) in enumerate(creds):
        fields = names(vendor, words)
        for fname, text in SYNTAXES:
            value = make()
            body = text.format(V=value, **fields)
            path = os.path.join("c%d" % i, fname)
            line = next(n for n, ln in enumerate(body.splitlines(), 1) if value in ln)
            full = os.path.join(args.out, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w") as f:
                f.write(body)
            planted.append((path, line, label, fname))
    tools = [("keytrace", scan(args.keytrace, args.out))]
    tools += [(name, scan_peer(name, binary, args.out)) for name, binary in installed_peers(args.peers)]
    print("%-20s " % "syntax" + " ".join("%-26s" % c[0][:26] for c in creds))
    totals = {t: 0 for t, _ in tools}
    for fname, _ in SYNTAXES:
        cells = []
        for i in range(len(creds)):
            p = next(x for x in planted if x[0] == os.path.join("c%d" % i, fname))
            hit = "".join(LETTER[t] if any((f[0], f[1]) == (p[0], p[1]) for f in found) else "." for t, found in tools)
            for t, found in tools:
                totals[t] += any((f[0], f[1]) == (p[0], p[1]) for f in found)
            cells.append("%-26s" % hit)
        print("%-20s " % fname + " ".join(cells))
    print("found (of %d): " % len(planted) + ", ".join("%s %d" % (t, n) for t, n in totals.items()))
    print("(a letter per tool that found it: %s; '.' a miss)" % ", ".join("%s %s" % (LETTER[t], t) for t, _ in tools))


if __name__ == "__main__":
    main()
