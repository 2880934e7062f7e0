#!/usr/bin/env python3
"""Deterministic benchmark corpus for keytrace (python3, stdlib only).

    python3 bench/gen_corpus.py OUT_DIR [--size-mb 520] [--seed 42]

Writes a tree of realistic mixed source and config files into OUT_DIR (an
"estate" of ~150 repositories under a few organisations: Python, JS/TS, Go,
Java, Rust and C code, Kubernetes manifests, Helm values, CI workflows,
package.json / package-lock.json (sha512 integrity), go.sum, Cargo.lock,
minified JS bundles with very long lines, .env / .properties files, Markdown,
Terraform, shell, a handful of small binary files and a few 10-20 MB files).

Sparse real-format secrets are planted (AWS key pairs, GitHub tokens with a
valid CRC32 checksum, Slack, Stripe, GitLab, SendGrid, npm, OpenAI, database
URIs with passwords, RSA / PKCS#8 / EC / OpenSSH private keys generated for
real, a GCP service-account JSON, base64 inside Kubernetes Secrets, generic
passwords) together with "hard" decoys (documented example keys,
wrong-checksum tokens, placeholders, templated references, public keys,
SOPS ciphertext, UUIDs and hashes under secret-sounding names).

Next to OUT_DIR (not inside) it writes:
    OUT_DIR.planted.jsonl   one line per planted secret: path (relative to
                            OUT_DIR), line (1-based), lines (all lines a
                            finding may be reported on), type, encoding, value
    OUT_DIR.decoys.jsonl    same shape, for the hard decoys (must NOT be found)
    OUT_DIR.meta.json       seed, size, file count, byte count, generator digest

The same seed and size always produce byte-identical output.
"""
import argparse
import base64
import hashlib
import json
import os
import random
import shutil
import string
import sys
import time
import zlib

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
ALNUM = string.ascii_letters + string.digits
LOWER_ALNUM = string.ascii_lowercase + string.digits
HEX = "0123456789abcdef"
B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
B64CH = string.ascii_letters + string.digits + "+/"
URLSAFE = string.ascii_letters + string.digits + "-_"

WORDS = """user account order payment invoice session cache config client server request
response handler service repository event queue message metric report customer product cart
item price inventory shipment auth profile billing audit log record batch job task worker
scheduler router module plugin schema model view controller util helper parser encoder
decoder buffer stream file path node graph tree index search query filter result status state
context options settings manager factory builder provider adapter gateway proxy store registry
catalog tenant region zone cluster deployment release version build artifact package bundle
asset image upload download notification email webhook subscription plan feature flag
experiment segment campaign analytics dashboard widget chart table column row cell page layout
theme style color font label button form field input output value entry map list set stack
heap pool lock mutex channel signal timer clock date time duration interval retry backoff
limit rate quota usage cost budget team member role permission policy rule grant scope claim
identity certificate signature digest checksum payload header body cookie origin host port
endpoint route method action command script shell process thread memory disk network socket
connection transport protocol codec format template render engine runtime compiler lexer
ledger transfer refund charge balance currency tax discount coupon vendor supplier warehouse
address geo locale country language translation content article comment review rating vote
share link preview thumbnail media video audio track playlist album artist library book
author chapter course lesson quiz score grade student teacher school class semester""".split()

LOREM = """the service retries failed requests with exponential backoff and records every attempt
in the audit table so that operators can reconstruct what happened during an incident while
the worker pool drains the queue in batches and reports progress to the metrics endpoint
configuration is loaded from the environment first then from the config file and finally from
defaults which keeps local development simple and production explicit each deployment
declares its resource limits and the autoscaler keeps utilisation near the target when
traffic spikes the cache absorbs most reads and the database only sees writes and misses
migrations run before the new version receives traffic and are always backwards compatible
for one release so that a rollback never needs a schema change""".split()

HOSTS = ["db.internal", "postgres.prod.svc.cluster.local", "10.0.12.7", "pg-main.c9xk2.eu-west-1.rds.amazonaws.com",
         "mysql.staging.internal", "db-replica-2.acme.net", "127.0.0.1", "warehouse.corp.example.org"]
ORGS = ["acme", "globex", "initech", "umbrella"]
LANGS = ["python", "javascript", "typescript", "go", "java", "rust", "c"]
LANG_WEIGHTS = [24, 16, 16, 16, 12, 9, 7]


def tok(rng, alphabet, n):
    return "".join(rng.choices(alphabet, k=n))


def b62(n, width):
    out = ""
    while n:
        n, r = divmod(n, 62)
        out = BASE62[r] + out
    return out.rjust(width, "0")


def snake(rng, k=2):
    return "_".join(rng.choice(WORDS) for _ in range(k))


def camel(rng, k=2):
    w = [rng.choice(WORDS) for _ in range(k)]
    return w[0] + "".join(x.capitalize() for x in w[1:])


def pascal(rng, k=2):
    return "".join(rng.choice(WORDS).capitalize() for _ in range(k))


def sentence(rng, lo=6, hi=16):
    s = " ".join(rng.choice(LOREM) for _ in range(rng.randint(lo, hi)))
    return s[0].upper() + s[1:]


def uuid4(rng):
    h = tok(rng, HEX, 32)
    return "%s-%s-4%s-%s%s-%s" % (h[:8], h[8:12], h[13:16], rng.choice("89ab"), h[17:20], h[20:32])


def semver(rng):
    return "%d.%d.%d" % (rng.randint(0, 9), rng.randint(0, 30), rng.randint(0, 40))


# --------------------------------------------------------------------------------------------
# Secret value generators (real formats)
# --------------------------------------------------------------------------------------------

def gh_token(rng, prefix="ghp_"):
    body = tok(rng, ALNUM, 30)
    return prefix + body + b62(zlib.crc32(body.encode()), 6)


def gh_token_bad_checksum(rng, prefix="ghp_"):
    body = tok(rng, ALNUM, 30)
    good = b62(zlib.crc32(body.encode()), 6)
    bad = good
    while bad == good:
        bad = tok(rng, ALNUM, 6)
    return prefix + body + bad


def aws_pair(rng):
    return "AKIA" + tok(rng, B32, 16), tok(rng, B64CH, 40)


def slack_bot(rng):
    return "xoxb-%s-%s-%s" % (tok(rng, string.digits, rng.randint(10, 13)),
                              tok(rng, string.digits, rng.randint(10, 13)), tok(rng, ALNUM, 24))


def slack_webhook(rng):
    return "https://hooks.slack.com/services/T%s/B%s/%s" % (
        tok(rng, string.ascii_uppercase + string.digits, 8),
        tok(rng, string.ascii_uppercase + string.digits, 10), tok(rng, ALNUM, 24))


def stripe_live(rng):
    if rng.random() < 0.5:
        return "sk_live_" + tok(rng, ALNUM, 24)
    return "sk_live_51" + tok(rng, ALNUM, 97)


def gitlab_pat(rng):
    return "glpat-" + tok(rng, URLSAFE, 20)


def sendgrid(rng):
    return "SG." + tok(rng, URLSAFE, 22) + "." + tok(rng, URLSAFE, 43)


def npm_token(rng):
    return gh_token(rng, "npm_")


def openai_legacy(rng):
    return "sk-" + tok(rng, ALNUM, 20) + "T3BlbkFJ" + tok(rng, ALNUM, 20)


def password(rng, n=None):
    n = n or rng.randint(16, 28)
    return tok(rng, ALNUM, n - 2) + rng.choice("!#%^*-_") + tok(rng, string.digits, 1)


def db_uri(rng, scheme):
    port = {"postgres": 5432, "postgresql": 5432, "mysql": 3306}[scheme]
    user = rng.choice(["app", "svc_" + rng.choice(WORDS), "admin", rng.choice(WORDS) + "_rw", "deploy"])
    pw = tok(rng, ALNUM, rng.randint(16, 26))
    return "%s://%s:%s@%s:%d/%s" % (scheme, user, pw, rng.choice(HOSTS), port, snake(rng, 1) + "_db")


# ---- real private keys ---------------------------------------------------------------------

_SMALL_PRIMES = [p for p in range(3, 4000) if all(p % q for q in range(2, int(p ** 0.5) + 1))]


def _is_prime(n, rng):
    for p in _SMALL_PRIMES:
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for _ in range(8):
        a = rng.randrange(2, n - 2)
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def _prime(rng, bits):
    n = rng.getrandbits(bits) | (3 << (bits - 2)) | 1
    while not _is_prime(n, rng):
        n += 2
    return n


def rsa_key(rng, bits=2048):
    e = 65537
    while True:
        p, q = _prime(rng, bits // 2), _prime(rng, bits // 2)
        if p == q:
            continue
        phi = (p - 1) * (q - 1)
        if phi % e:
            break
    if p < q:
        p, q = q, p
    n = p * q
    d = pow(e, -1, phi)
    return dict(n=n, e=e, d=d, p=p, q=q, dp=d % (p - 1), dq=d % (q - 1), qi=pow(q, -1, p))


def _dlen(n):
    if n < 128:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def _tlv(tag, content):
    return bytes([tag]) + _dlen(len(content)) + content


def _dint(x):
    return _tlv(0x02, x.to_bytes((x.bit_length() + 8) // 8, "big"))


def _seq(*items):
    return _tlv(0x30, b"".join(items))


OID_RSA = bytes.fromhex("06092a864886f70d010101")
OID_EC_PUB = bytes.fromhex("06072a8648ce3d0201")
OID_P256 = bytes.fromhex("06082a8648ce3d030107")


def _pem(label, der, width=64):
    b = base64.b64encode(der).decode()
    body = "\n".join(b[i:i + width] for i in range(0, len(b), width))
    return "-----BEGIN %s-----\n%s\n-----END %s-----" % (label, body, label)


def pem_rsa_pkcs1(k):
    return _pem("RSA PRIVATE KEY", _seq(*[_dint(x) for x in (0, k["n"], k["e"], k["d"], k["p"], k["q"], k["dp"], k["dq"], k["qi"])]))


def pem_rsa_pkcs8(k):
    inner = _seq(*[_dint(x) for x in (0, k["n"], k["e"], k["d"], k["p"], k["q"], k["dp"], k["dq"], k["qi"])])
    return _pem("PRIVATE KEY", _seq(_dint(0), _seq(OID_RSA, b"\x05\x00"), _tlv(0x04, inner)))


def pem_rsa_public(k):
    spki = _seq(_seq(OID_RSA, b"\x05\x00"), _tlv(0x03, b"\x00" + _seq(_dint(k["n"]), _dint(k["e"]))))
    return _pem("PUBLIC KEY", spki)


_P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffff
_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551
_G = (0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296,
      0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5)


def _ec_add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    if a[0] == b[0]:
        if (a[1] + b[1]) % _P == 0:
            return None
        lam = (3 * a[0] * a[0] - 3) * pow(2 * a[1], -1, _P) % _P
    else:
        lam = (b[1] - a[1]) * pow(b[0] - a[0], -1, _P) % _P
    x = (lam * lam - a[0] - b[0]) % _P
    return x, (lam * (a[0] - x) - a[1]) % _P


def pem_ec(rng):
    d = rng.randrange(1, _N)
    r, q, k = None, _G, d
    while k:
        if k & 1:
            r = _ec_add(r, q)
        q = _ec_add(q, q)
        k >>= 1
    pub = b"\x04" + r[0].to_bytes(32, "big") + r[1].to_bytes(32, "big")
    der = _seq(_dint(1), _tlv(0x04, d.to_bytes(32, "big")), _tlv(0xa0, OID_P256), _tlv(0xa1, _tlv(0x03, b"\x00" + pub)))
    return _pem("EC PRIVATE KEY", der)


def _sshstr(b):
    return len(b).to_bytes(4, "big") + b


def _mpint(x):
    return _sshstr(x.to_bytes((x.bit_length() + 8) // 8, "big") if x else b"")


def pem_openssh_rsa(rng, k, comment):
    pub = _sshstr(b"ssh-rsa") + _mpint(k["e"]) + _mpint(k["n"])
    check = rng.getrandbits(32).to_bytes(4, "big")
    priv = (check + check + _sshstr(b"ssh-rsa") + _mpint(k["n"]) + _mpint(k["e"]) + _mpint(k["d"]) +
            _mpint(k["qi"]) + _mpint(k["p"]) + _mpint(k["q"]) + _sshstr(comment.encode()))
    i = 1
    while len(priv) % 8:
        priv += bytes([i])
        i += 1
    blob = (b"openssh-key-v1\x00" + _sshstr(b"none") + _sshstr(b"none") + _sshstr(b"") +
            (1).to_bytes(4, "big") + _sshstr(pub) + _sshstr(priv))
    return _pem("OPENSSH PRIVATE KEY", blob, 70)


def ssh_rsa_public_line(k, comment):
    pub = _sshstr(b"ssh-rsa") + _mpint(k["e"]) + _mpint(k["n"])
    return "ssh-rsa %s %s" % (base64.b64encode(pub).decode(), comment)


# --------------------------------------------------------------------------------------------
# Code block pools (generated once, assembled into files)
# --------------------------------------------------------------------------------------------

PY_IMPORTS = ["import os", "import sys", "import json", "import logging", "import time", "import re",
              "import hashlib", "from typing import Any, Dict, List, Optional",
              "from dataclasses import dataclass, field", "from datetime import datetime, timedelta",
              "import requests", "from flask import Flask, jsonify, request", "import boto3",
              "from sqlalchemy import Column, Integer, String", "from pathlib import Path",
              "import asyncio", "from collections import defaultdict", "import yaml"]


def py_block(rng):
    def stmts(ind, n):
        out = []
        for _ in range(n):
            r = rng.random()
            a, b, c = snake(rng, 1), snake(rng), snake(rng, 1)
            if r < 0.25:
                out.append("%s%s = %s.%s(%s, %s=%s)" % (ind, a, c, snake(rng), b, snake(rng, 1), rng.randint(0, 500)))
            elif r < 0.38:
                out.append("%sif %s is None:\n%s    raise ValueError(\"%s\")" % (ind, a, ind, sentence(rng, 3, 7).lower()))
            elif r < 0.5:
                out.append("%sfor %s in %s.%s:\n%s    %s.append(%s.%s)" % (ind, c, b, snake(rng, 1), ind, a, c, snake(rng, 1)))
            elif r < 0.62:
                out.append("%slogger.%s(\"%s %%s\", %s)" % (ind, rng.choice(["info", "debug", "warning"]), sentence(rng, 3, 8).lower(), a))
            elif r < 0.74:
                out.append("%s%s = {\"%s\": %s, \"%s\": %s, \"%s\": \"%s\"}" % (ind, a, snake(rng, 1), b, snake(rng, 1), rng.randint(1, 9999), snake(rng, 1), uuid4(rng) if rng.random() < 0.2 else snake(rng, 1)))
            elif r < 0.84:
                out.append("%s# %s" % (ind, sentence(rng)))
            elif r < 0.92:
                out.append("%stry:\n%s    %s = self._%s(%s)\n%sexcept %s as exc:\n%s    logger.exception(\"%s\")\n%s    raise" % (
                    ind, ind, a, snake(rng), b, ind, rng.choice(["KeyError", "OSError", "TimeoutError", "RuntimeError"]), ind, sentence(rng, 3, 6).lower(), ind))
            else:
                out.append("%s%s = [%s for %s in %s if %s.%s]" % (ind, a, c, c, b, c, snake(rng, 1)))
        return out

    if rng.random() < 0.35:
        name = pascal(rng)
        lines = ["class %s(%s):" % (name, rng.choice(["object", "BaseModel", "Exception", pascal(rng)])),
                 '    """%s."""' % sentence(rng), "",
                 "    def __init__(self, %s, %s=None):" % (snake(rng, 1), snake(rng, 1))]
        for _ in range(rng.randint(2, 5)):
            v = snake(rng, 1)
            lines.append("        self.%s = %s" % (v, v))
        for _ in range(rng.randint(1, 4)):
            lines += ["", "    def %s(self, %s):" % (snake(rng), snake(rng, 1)), '        """%s."""' % sentence(rng)]
            lines += stmts("        ", rng.randint(3, 10))
            lines.append("        return %s" % snake(rng, 1))
    else:
        lines = ["%sdef %s(%s) -> %s:" % ("async " if rng.random() < 0.15 else "", snake(rng), ", ".join(snake(rng, 1) for _ in range(rng.randint(0, 4))),
                                       rng.choice(["None", "dict", "list", "Optional[str]", "int", "bool"])),
                 '    """%s."""' % sentence(rng)]
        lines += stmts("    ", rng.randint(4, 16))
        lines.append("    return %s" % snake(rng, 1))
    return "\n".join(lines) + "\n\n\n"


JS_MODULES = ["react", "express", "lodash", "axios", "uuid", "dayjs", "zod", "@aws-sdk/client-s3", "pg", "redis",
              "next/router", "vue", "jsonwebtoken", "winston", "./utils", "../config", "./api/client", "../hooks/useAuth"]


def js_block(rng, ts=False):
    def t(x):
        return (": " + x) if ts else ""

    def stmts(ind, n):
        out = []
        for _ in range(n):
            r = rng.random()
            a, b = camel(rng), camel(rng)
            if r < 0.25:
                out.append("%sconst %s = await %s.%s(%s, { %s: %d });" % (ind, a, camel(rng, 1), camel(rng), b, camel(rng, 1), rng.randint(1, 500)))
            elif r < 0.4:
                out.append("%sif (!%s) {\n%s  throw new Error('%s');\n%s}" % (ind, a, ind, sentence(rng, 3, 7).lower(), ind))
            elif r < 0.52:
                out.append("%sfor (const %s of %s) {\n%s  %s.push(%s.%s);\n%s}" % (ind, camel(rng, 1), b, ind, a, camel(rng, 1), camel(rng, 1), ind))
            elif r < 0.64:
                out.append("%slogger.%s(`%s ${%s}`);" % (ind, rng.choice(["info", "debug", "warn"]), sentence(rng, 3, 8).lower(), a))
            elif r < 0.76:
                out.append("%sconst %s = { %s: %s, %s: '%s', %s: %d };" % (ind, a, camel(rng, 1), b, camel(rng, 1), camel(rng, 1), camel(rng, 1), rng.randint(0, 9999)))
            elif r < 0.86:
                out.append("%s// %s" % (ind, sentence(rng)))
            else:
                out.append("%sconst %s = %s.filter((x) => x.%s).map((x) => x.%s);" % (ind, a, b, camel(rng, 1), camel(rng, 1)))
        return out

    r = rng.random()
    if r < 0.3:
        lines = ["export class %s%s {" % (pascal(rng), (" extends " + pascal(rng)) if rng.random() < 0.3 else "")]
        for _ in range(rng.randint(1, 3)):
            lines.append("  private %s%s;" % (camel(rng), t(rng.choice(["string", "number", "boolean", pascal(rng)]))) if ts else "  %s = null;" % camel(rng))
        for _ in range(rng.randint(1, 4)):
            lines += ["", "  async %s(%s%s)%s {" % (camel(rng), camel(rng, 1), t(pascal(rng)), t("Promise<%s>" % pascal(rng)))]
            lines += stmts("    ", rng.randint(3, 9))
            lines += ["    return %s;" % camel(rng, 1), "  }"]
        lines.append("}")
    elif r < 0.45 and ts:
        lines = ["export interface %s {" % pascal(rng)]
        for _ in range(rng.randint(3, 10)):
            lines.append("  %s%s: %s;" % (camel(rng), "?" if rng.random() < 0.3 else "", rng.choice(["string", "number", "boolean", "Date", pascal(rng), "string[]"])))
        lines.append("}")
    else:
        lines = ["/**", " * %s." % sentence(rng), " */",
                 "export %sfunction %s(%s)%s {" % ("async " if rng.random() < 0.4 else "", camel(rng),
                                                ", ".join(camel(rng, 1) + t(rng.choice(["string", "number", pascal(rng)])) for _ in range(rng.randint(0, 3))),
                                                t(rng.choice(["void", "string", pascal(rng)])))]
        lines += stmts("  ", rng.randint(4, 14))
        lines += ["  return %s;" % camel(rng, 1), "}"]
    return "\n".join(lines) + "\n\n"


def go_block(rng):
    def stmts(n):
        out = []
        for _ in range(n):
            r = rng.random()
            a, b = camel(rng), camel(rng, 1)
            if r < 0.3:
                out.append("\t%s, err := %s.%s(ctx, %s)\n\tif err != nil {\n\t\treturn nil, fmt.Errorf(\"%s: %%w\", err)\n\t}" % (a, b, pascal(rng), camel(rng, 1), sentence(rng, 2, 5).lower()))
            elif r < 0.45:
                out.append("\tfor _, %s := range %s {\n\t\t%s = append(%s, %s.%s)\n\t}" % (b, camel(rng), a, a, b, pascal(rng, 1)))
            elif r < 0.6:
                out.append("\tlog.Printf(\"%s %%v\", %s)" % (sentence(rng, 3, 7).lower(), a))
            elif r < 0.75:
                out.append("\t%s := map[string]interface{}{\"%s\": %s, \"%s\": %d}" % (a, snake(rng, 1), b, snake(rng, 1), rng.randint(0, 999)))
            elif r < 0.87:
                out.append("\t// %s" % sentence(rng))
            else:
                out.append("\tif %s == nil {\n\t\treturn nil, errors.New(\"%s\")\n\t}" % (a, sentence(rng, 2, 5).lower()))
        return out

    if rng.random() < 0.3:
        name = pascal(rng)
        lines = ["// %s %s." % (name, sentence(rng).lower()), "type %s struct {" % name]
        for _ in range(rng.randint(2, 8)):
            f = pascal(rng)
            lines.append("\t%s %s `json:\"%s\"`" % (f, rng.choice(["string", "int64", "bool", "time.Time", "[]string", "*" + pascal(rng)]), snake(rng)))
        lines.append("}")
    else:
        recv = pascal(rng)
        lines = ["// %s %s." % (pascal(rng), sentence(rng).lower()),
                 "func (s *%s) %s(ctx context.Context, %s string) (*%s, error) {" % (recv, pascal(rng), camel(rng, 1), pascal(rng))]
        lines += stmts(rng.randint(3, 10))
        lines += ["\treturn &%s{}, nil" % pascal(rng), "}"]
    return "\n".join(lines) + "\n\n"


def java_block(rng):
    lines = ["    /**", "     * %s." % sentence(rng), "     */",
             "    %s %s %s(%s) {" % (rng.choice(["public", "private", "protected"]), rng.choice(["void", "String", "List<%s>" % pascal(rng), pascal(rng), "Optional<%s>" % pascal(rng)]),
                                  camel(rng), ", ".join("%s %s" % (pascal(rng, 1), camel(rng, 1)) for _ in range(rng.randint(0, 3))))]
    for _ in range(rng.randint(3, 12)):
        r = rng.random()
        a = camel(rng)
        if r < 0.3:
            lines.append("        %s %s = %s.%s(%s);" % (pascal(rng), a, camel(rng, 1), camel(rng), camel(rng, 1)))
        elif r < 0.45:
            lines.append("        if (%s == null) {\n            throw new IllegalArgumentException(\"%s\");\n        }" % (a, sentence(rng, 3, 6).lower()))
        elif r < 0.6:
            lines.append("        for (%s %s : %s) {\n            %s.add(%s.get%s());\n        }" % (pascal(rng, 1), camel(rng, 1), camel(rng), a, camel(rng, 1), pascal(rng, 1)))
        elif r < 0.75:
            lines.append("        log.info(\"%s {}\", %s);" % (sentence(rng, 3, 7).lower(), a))
        elif r < 0.87:
            lines.append("        // %s" % sentence(rng))
        else:
            lines.append("        return %s.stream().filter(%s::is%s).collect(Collectors.toList());" % (a, pascal(rng, 1), pascal(rng, 1)))
    lines.append("    }")
    return "\n".join(lines) + "\n\n"


def rust_block(rng):
    if rng.random() < 0.3:
        lines = ["/// %s." % sentence(rng), "#[derive(Debug, Clone, Serialize, Deserialize)]", "pub struct %s {" % pascal(rng)]
        for _ in range(rng.randint(2, 7)):
            lines.append("    pub %s: %s," % (snake(rng), rng.choice(["String", "u64", "bool", "Vec<String>", "Option<%s>" % pascal(rng), "HashMap<String, u32>"])))
        lines.append("}")
    else:
        lines = ["/// %s." % sentence(rng),
                 "pub fn %s(%s) -> Result<%s, Error> {" % (snake(rng), ", ".join("%s: &%s" % (snake(rng, 1), pascal(rng, 1)) for _ in range(rng.randint(0, 3))), pascal(rng))]
        for _ in range(rng.randint(3, 10)):
            r = rng.random()
            a = snake(rng)
            if r < 0.3:
                lines.append("    let %s = %s.%s(&%s)?;" % (a, snake(rng, 1), snake(rng), snake(rng, 1)))
            elif r < 0.45:
                lines.append("    if %s.is_empty() {\n        return Err(Error::%s(\"%s\".into()));\n    }" % (a, pascal(rng, 1), sentence(rng, 3, 6).lower()))
            elif r < 0.6:
                lines.append("    for %s in %s.iter() {\n        %s.push(%s.%s.clone());\n    }" % (snake(rng, 1), snake(rng), a, snake(rng, 1), snake(rng, 1)))
            elif r < 0.75:
                lines.append("    tracing::%s!(%s = ?%s, \"%s\");" % (rng.choice(["info", "debug", "warn"]), snake(rng, 1), a, sentence(rng, 3, 7).lower()))
            elif r < 0.87:
                lines.append("    // %s" % sentence(rng))
            else:
                lines.append("    let %s: Vec<_> = %s.into_iter().filter(|x| x.%s).collect();" % (a, snake(rng), snake(rng, 1)))
        lines += ["    Ok(%s::default())" % pascal(rng), "}"]
    return "\n".join(lines) + "\n\n"


def c_block(rng):
    if rng.random() < 0.25:
        lines = ["/* %s. */" % sentence(rng), "typedef struct %s {" % snake(rng)]
        for _ in range(rng.randint(2, 8)):
            lines.append("    %s %s;" % (rng.choice(["int", "size_t", "char *", "uint32_t", "struct %s *" % snake(rng, 1), "double"]), snake(rng)))
        lines.append("} %s_t;" % snake(rng))
    else:
        lines = ["/*", " * %s." % sentence(rng), " */",
                 "%s %s(%s)" % (rng.choice(["int", "static int", "void", "size_t", "char *"]), snake(rng), ", ".join("%s %s" % (rng.choice(["int", "const char *", "size_t", "void *"]), snake(rng, 1)) for _ in range(rng.randint(1, 4)))), "{"]
        for _ in range(rng.randint(3, 12)):
            r = rng.random()
            a = snake(rng)
            if r < 0.3:
                lines.append("    %s = %s(%s, %d);" % (a, snake(rng), snake(rng, 1), rng.randint(0, 4096)))
            elif r < 0.45:
                lines.append("    if (%s == NULL) {\n        fprintf(stderr, \"%s\\n\");\n        return -1;\n    }" % (a, sentence(rng, 3, 6).lower()))
            elif r < 0.6:
                lines.append("    for (size_t i = 0; i < %s; i++) {\n        %s[i] = %s(%s[i]);\n    }" % (snake(rng, 1), a, snake(rng), snake(rng, 1)))
            elif r < 0.75:
                lines.append("    memcpy(%s, %s, sizeof(%s));" % (a, snake(rng, 1), snake(rng, 1)))
            elif r < 0.87:
                lines.append("    /* %s */" % sentence(rng))
            else:
                lines.append("    %s->%s = %s;" % (snake(rng, 1), snake(rng, 1), rng.randint(0, 99)))
        lines += ["    return 0;", "}"]
    return "\n".join(lines) + "\n\n"


def minjs_segment(rng):
    v = lambda: tok(rng, string.ascii_letters, rng.randint(1, 2))
    r = rng.random()
    if r < 0.25:
        return 'function %s(%s,%s){return %s.%s(%s)||null}' % (v(), v(), v(), v(), camel(rng), v())
    if r < 0.45:
        return '%s.prototype.%s=function(%s){this._%s=%s;return this};' % (pascal(rng, 1), camel(rng), v(), camel(rng, 1), v())
    if r < 0.6:
        return '%d:function(e,t,n){"use strict";n.r(t);var r=n(%d),o=n.n(r),i={%s:"%s",%s:%d};t.default=i},' % (
            rng.randint(1, 99999), rng.randint(1, 9999), camel(rng, 1), sentence(rng, 2, 5).lower(), camel(rng, 1), rng.randint(0, 999))
    if r < 0.75:
        return 'var %s=%s.%s||{},%s=[%s];' % (v(), v(), camel(rng), v(), ",".join(str(rng.randint(0, 65535)) for _ in range(rng.randint(3, 20))))
    if r < 0.88:
        return 'if(!%s)throw new Error("%s");' % (v(), sentence(rng, 3, 8).lower())
    return '%s.exports={%s};' % (v(), ",".join('%s:function(){return %s}' % (camel(rng, 1), v()) for _ in range(rng.randint(2, 6))))


class Pools:
    def __init__(self, rng):
        t = time.time()
        self.py = [py_block(rng) for _ in range(4000)]
        self.js = [js_block(rng) for _ in range(3000)]
        self.ts = [js_block(rng, True) for _ in range(3000)]
        self.go = [go_block(rng) for _ in range(3000)]
        self.java = [java_block(rng) for _ in range(3000)]
        self.rs = [rust_block(rng) for _ in range(2500)]
        self.c = [c_block(rng) for _ in range(2500)]
        self.minjs = [minjs_segment(rng) for _ in range(6000)]
        self.md = ["%s\n\n" % " ".join(sentence(rng, 8, 20) + "." for _ in range(rng.randint(2, 6))) for _ in range(2000)]
        self.secs = time.time() - t


# --------------------------------------------------------------------------------------------
# Planting: snippets of a secret / decoy in the syntax of each file type
# --------------------------------------------------------------------------------------------

# kind -> (weight, env-var style name(s))
SECRET_KINDS = {
    "aws-access-key": 12, "github-pat": 10, "github-oauth": 3, "slack-bot-token": 6, "slack-webhook": 5,
    "stripe-live-secret": 7, "postgres-uri": 8, "mysql-uri": 4, "gitlab-pat": 5, "sendgrid-api-key": 4,
    "npm-token": 3, "openai-api-key": 4, "generic-password": 6,
    "private-key-rsa": 3, "private-key-pkcs8": 2, "private-key-ec": 2, "private-key-openssh": 2,
}
PEM_KINDS = {"private-key-rsa", "private-key-pkcs8", "private-key-ec", "private-key-openssh"}
VAR_NAMES = {
    "aws-access-key": ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"), "github-pat": ("GITHUB_TOKEN",),
    "github-oauth": ("GH_OAUTH_TOKEN",), "slack-bot-token": ("SLACK_BOT_TOKEN",), "slack-webhook": ("SLACK_WEBHOOK_URL",),
    "stripe-live-secret": ("STRIPE_SECRET_KEY",), "postgres-uri": ("DATABASE_URL",), "mysql-uri": ("MYSQL_URL",),
    "gitlab-pat": ("GITLAB_TOKEN",), "sendgrid-api-key": ("SENDGRID_API_KEY",), "npm-token": ("NPM_TOKEN",),
    "openai-api-key": ("OPENAI_API_KEY",), "generic-password": ("DB_PASSWORD",),
}


class Planter:
    def __init__(self, rng, root, rate, decoy_rate):
        self.rng = rng
        self.root = root
        self.rate = rate
        self.decoy_rate = decoy_rate
        self.planted = []
        self.decoys = []
        self.kinds = list(SECRET_KINDS)
        self.weights = [SECRET_KINDS[k] for k in self.kinds]
        self._rsa = None

    # ---- values
    def rsa(self):
        return rsa_key(self.rng, 2048)

    def value(self, kind):
        rng = self.rng
        if kind == "aws-access-key":
            return aws_pair(rng)
        return {
            "github-pat": lambda: gh_token(rng), "github-oauth": lambda: gh_token(rng, "gho_"),
            "slack-bot-token": lambda: slack_bot(rng), "slack-webhook": lambda: slack_webhook(rng),
            "stripe-live-secret": lambda: stripe_live(rng), "postgres-uri": lambda: db_uri(rng, rng.choice(["postgres", "postgresql"])),
            "mysql-uri": lambda: db_uri(rng, "mysql"), "gitlab-pat": lambda: gitlab_pat(rng),
            "sendgrid-api-key": lambda: sendgrid(rng), "npm-token": lambda: npm_token(rng),
            "openai-api-key": lambda: openai_legacy(rng), "generic-password": lambda: password(rng),
            "private-key-rsa": lambda: pem_rsa_pkcs1(self.rsa()), "private-key-pkcs8": lambda: pem_rsa_pkcs8(self.rsa()),
            "private-key-ec": lambda: pem_ec(rng),
            "private-key-openssh": lambda: pem_openssh_rsa(rng, self.rsa(), "%s@%s" % (rng.choice(WORDS), rng.choice(WORDS))),
        }[kind]()

    # ---- snippet rendering: returns text, list of values to locate
    def render(self, ftype, kind, val):
        """Render kind/val for a file of type ftype. Returns snippet or None if unsupported."""
        rng = self.rng
        pem = kind in PEM_KINDS
        if kind == "aws-access-key":
            kid, sec = val
            return {
                "py": 'AWS_ACCESS_KEY_ID = "%s"\nAWS_SECRET_ACCESS_KEY = "%s"\n\n' % (kid, sec),
                "js": "const awsConfig = {\n  accessKeyId: '%s',\n  secretAccessKey: '%s',\n  region: 'us-east-1',\n};\n\n" % (kid, sec),
                "ts": "export const awsCredentials = {\n  accessKeyId: '%s',\n  secretAccessKey: '%s',\n};\n\n" % (kid, sec),
                "go": 'const (\n\tawsAccessKeyID     = "%s"\n\tawsSecretAccessKey = "%s"\n)\n\n' % (kid, sec),
                "java": '    private static final String AWS_ACCESS_KEY = "%s";\n    private static final String AWS_SECRET_KEY = "%s";\n\n' % (kid, sec),
                "rs": 'const AWS_ACCESS_KEY_ID: &str = "%s";\nconst AWS_SECRET_ACCESS_KEY: &str = "%s";\n\n' % (kid, sec),
                "c": 'static const char *aws_access_key_id = "%s";\nstatic const char *aws_secret_access_key = "%s";\n\n' % (kid, sec),
                "sh": 'export AWS_ACCESS_KEY_ID=%s\nexport AWS_SECRET_ACCESS_KEY=%s\n' % (kid, sec),
                "env": "AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\n" % (kid, sec),
                "properties": "aws.accessKeyId=%s\naws.secretKey=%s\n" % (kid, sec),
                "k8s": "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: %s-aws\ntype: Opaque\nstringData:\n  AWS_ACCESS_KEY_ID: %s\n  AWS_SECRET_ACCESS_KEY: %s\n" % (snake(rng, 1), kid, sec),
                "ci": "  %s:\n    runs-on: ubuntu-latest\n    env:\n      AWS_ACCESS_KEY_ID: %s\n      AWS_SECRET_ACCESS_KEY: %s\n    steps:\n      - uses: actions/checkout@v4\n      - run: aws s3 sync ./dist s3://%s-assets\n" % (snake(rng, 1).replace("_", "-"), kid, sec, rng.choice(WORDS)),
                "helm": "aws:\n  accessKeyId: %s\n  secretAccessKey: %s\n" % (kid, sec),
                "md": "```sh\nexport AWS_ACCESS_KEY_ID=%s\nexport AWS_SECRET_ACCESS_KEY=%s\n```\n\n" % (kid, sec),
                "tf": 'provider "aws" {\n  region     = "us-east-1"\n  access_key = "%s"\n  secret_key = "%s"\n}\n\n' % (kid, sec),
                "minjs": 'var aK={accessKeyId:"%s",secretAccessKey:"%s"};' % (kid, sec),
            }.get(ftype)
        if pem:
            ind = "    "
            if ftype == "py":
                return '%s = """%s\n"""\n\n' % (rng.choice(["PRIVATE_KEY", "SIGNING_KEY", "_TEST_KEY"]), val)
            if ftype in ("js", "ts"):
                return "export const privateKey = `%s\n`;\n\n" % val
            if ftype == "go":
                return "const signingKey = `%s\n`\n\n" % val
            if ftype == "rs":
                return 'const SIGNING_KEY: &str = r#"%s\n"#;\n\n' % val
            if ftype == "java":
                return '    private static final String PRIVATE_KEY = """\n%s\n""";\n\n' % val
            if ftype == "sh":
                return "cat > /tmp/deploy_key <<'EOF'\n%s\nEOF\nchmod 600 /tmp/deploy_key\n" % val
            if ftype == "k8s":
                return "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: %s-tls\ntype: Opaque\nstringData:\n  tls.key: |\n%s\n" % (
                    snake(rng, 1), "\n".join("    " + l for l in val.split("\n")))
            if ftype == "helm":
                return "signing:\n  privateKey: |\n%s\n" % "\n".join("    " + l for l in val.split("\n"))
            if ftype == "md":
                return "```\n%s\n```\n\n" % val
            return None
        var = VAR_NAMES[kind][0]
        lvar = var.lower()
        cvar = camel_from(var)
        return {
            "py": '%s = "%s"\n\n' % (var, val),
            "js": "const %s = '%s';\n\n" % (cvar, val),
            "ts": "export const %s: string = '%s';\n\n" % (cvar, val),
            "go": 'var %s = "%s"\n\n' % (cvar, val),
            "java": '    private static final String %s = "%s";\n\n' % (var, val),
            "rs": 'pub const %s: &str = "%s";\n\n' % (var, val),
            "c": '#define %s "%s"\n\n' % (var, val),
            "sh": 'export %s="%s"\n' % (var, val),
            "env": "%s=%s\n" % (var, val),
            "properties": "%s=%s\n" % (lvar.replace("_", "."), val),
            "k8s": "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\ntype: Opaque\nstringData:\n  %s: %s\n" % (snake(rng, 1).replace("_", "-"), var, val),
            "ci": "  %s:\n    runs-on: ubuntu-latest\n    env:\n      %s: %s\n    steps:\n      - uses: actions/checkout@v4\n      - run: make %s\n" % (snake(rng, 1).replace("_", "-"), var, val, rng.choice(WORDS)),
            "helm": "%s:\n  %s: %s\n" % (camel(rng, 1), cvar, val),
            "md": "```sh\nexport %s=%s\n```\n\n" % (var, val),
            "tf": 'variable "%s" {\n  default = "%s"\n}\n\n' % (lvar, val),
            "minjs": 'var %s="%s";' % (tok(rng, string.ascii_letters, 2), val),
        }.get(ftype)

    def maybe_plant(self, ftype, blocks, lo=1):
        """Possibly insert a secret and/or a decoy into blocks (list of str). Returns list of (kind,val,is_decoy)."""
        rng = self.rng
        hits = []
        if rng.random() < self.rate:
            for _ in range(10):
                kind = rng.choices(self.kinds, self.weights)[0]
                if kind in PEM_KINDS and ftype not in ("py", "js", "ts", "go", "rs", "java", "sh", "k8s", "helm", "md"):
                    continue
                val = self.value(kind)
                snip = self.render(ftype, kind, val)
                if snip:
                    blocks.insert(rng.randint(lo, max(lo, len(blocks) - 1)), snip)
                    hits.append((kind, val, None, False))
                    break
        if rng.random() < self.decoy_rate:
            d = self.decoy(ftype)
            if d:
                kind, snip, vals = d
                blocks.insert(rng.randint(lo, max(lo, len(blocks) - 1)), snip)
                hits.append((kind, vals, None, True))
        return hits

    def decoy(self, ftype):
        rng = self.rng
        choice = rng.choice(["aws-example", "github-bad-checksum", "github-placeholder", "stripe-placeholder",
                             "templated", "db-uri-placeholder", "public-key", "uuid", "hash", "slack-placeholder", "sops"])
        if choice == "aws-example":
            kid, sec = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
            s = self.render(ftype, "aws-access-key", (kid, sec))
            return s and (choice, s, [kid, sec])
        if choice == "github-bad-checksum":
            v = gh_token_bad_checksum(rng)
            s = self.render(ftype, "github-pat", v)
            return s and (choice, s, [v])
        if choice == "github-placeholder":
            v = "ghp_" + rng.choice(["x" * 36, "X" * 36, "0" * 36, "your_token_here_" + "x" * 20, "<YOUR_GITHUB_TOKEN>"])
            s = self.render(ftype, "github-pat", v)
            return s and (choice, s, [v])
        if choice == "stripe-placeholder":
            v = rng.choice(["sk_live_xxxxxxxxxxxxxxxxxxxxxxxx", "sk_live_YOUR_SECRET_KEY_HERE", "sk_live_...", "sk_live_REPLACE_ME"])
            s = self.render(ftype, "stripe-live-secret", v)
            return s and (choice, s, [v])
        if choice == "slack-placeholder":
            v = rng.choice(["xoxb-your-bot-token", "xoxb-XXXXXXXXXXXX-XXXXXXXXXXXXX-XXXXXXXXXXXXXXXXXXXXXXXX", "xoxb-0000000000-0000000000000-000000000000000000000000"])
            s = self.render(ftype, "slack-bot-token", v)
            return s and (choice, s, [v])
        if choice == "templated":
            v = {"ci": "${{ secrets.%s }}" % rng.choice(["STRIPE_SECRET_KEY", "DB_PASSWORD", "NPM_TOKEN"]),
                 "helm": "{{ .Values.db.password }}", "k8s": "{{ .Values.secrets.apiToken }}",
                 "py": None, "js": None, "ts": None}.get(ftype, "${DB_PASSWORD}")
            if v is None:
                snip = {"py": 'DB_PASSWORD = os.environ["DB_PASSWORD"]\nSTRIPE_SECRET_KEY = os.getenv("STRIPE_SECRET_KEY")\n\n',
                        "js": "const stripeSecretKey = process.env.STRIPE_SECRET_KEY;\nconst dbPassword = process.env.DB_PASSWORD;\n\n",
                        "ts": "export const stripeSecretKey: string = process.env.STRIPE_SECRET_KEY ?? '';\n\n"}[ftype]
                return (choice, snip, ["os.environ" if ftype == "py" else "process.env"])
            s = self.render(ftype, "generic-password", v)
            return s and (choice, s, [v])
        if choice == "db-uri-placeholder":
            v = rng.choice(["postgres://user:password@localhost:5432/mydb", "postgres://app:${PGPASSWORD}@db:5432/app",
                            "postgresql://postgres:postgres@localhost/test", "mysql://root:changeme@127.0.0.1:3306/app",
                            "postgres://USERNAME:PASSWORD@HOST:5432/DATABASE"])
            s = self.render(ftype, "postgres-uri", v)
            return s and (choice, s, [v])
        if choice == "public-key":
            if self._rsa is None:
                self._rsa = rsa_key(rng, 2048)
            v = pem_rsa_public(self._rsa)
            s = self.render(ftype, "private-key-rsa", v)
            return s and (choice, s, ["-----BEGIN PUBLIC KEY-----"])
        if choice == "uuid":
            v = uuid4(rng)
            snip = {"py": 'CLIENT_ID = "%s"\nREQUEST_TOKEN_ID = "%s"\n\n', "env": "CLIENT_ID=%s\nTOKEN_ID=%s\n",
                    "js": "const clientId = '%s';\nconst tokenId = '%s';\n\n", "ts": "export const clientId = '%s';\nexport const tokenId = '%s';\n\n",
                    "properties": "oauth.client-id=%s\nsession.token-id=%s\n", "helm": "oauth:\n  clientId: %s\n  tokenId: %s\n",
                    "go": 'var clientID = "%s"\nvar tokenID = "%s"\n\n'}.get(ftype)
            v2 = uuid4(rng)
            return snip and (choice, snip % (v, v2), [v, v2])
        if choice == "hash":
            v = hashlib.sha256(str(rng.random()).encode()).hexdigest()
            snip = {"py": 'SECRET_SHA256 = "%s"\n\n', "env": "ARTIFACT_SHA256=%s\n", "js": "const secretHash = '%s';\n\n",
                    "ts": "export const tokenDigest = '%s';\n\n", "properties": "release.checksum=%s\n",
                    "helm": "image:\n  digest: sha256:%s\n", "k8s": "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: release-info\ndata:\n  commit_sha256: \"%s\"\n",
                    "go": 'const passwordHash = "%s"\n\n'}.get(ftype)
            return snip and (choice, snip % v, [v])
        if choice == "sops":
            v = "ENC[AES256_GCM,data:%s,iv:%s,tag:%s,type:str]" % (tok(rng, B64CH, 32), tok(rng, B64CH, 43) + "=", tok(rng, B64CH, 22) + "==")
            snip = {"helm": "db:\n  password: %s\n", "k8s": "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: %s\n",
                    "env": "DB_PASSWORD=%s\n"}.get(ftype)
            return snip and (choice, snip % v, [v])
        return None

    def record(self, relpath, text, hits):
        for kind, val, enc, is_decoy in hits:
            if is_decoy:
                lines = sorted({line_of(text, v) for v in val if line_of(text, v)})
                if lines:
                    self.decoys.append({"path": relpath, "line": lines[0], "lines": lines, "type": kind, "value": val[0]})
                continue
            if kind == "aws-access-key":
                kl, sl = line_of(text, val[0]), line_of(text, val[1])
                self.planted.append({"path": relpath, "line": sl, "lines": sorted({kl, sl}), "type": kind,
                                     "encoding": enc, "value": val[1], "identifier": val[0]})
            elif kind in PEM_KINDS or kind == "gcp-service-account":
                needle = val.split("\n")[0] if enc is None else val
                first = line_of(text, needle if enc is None else enc_needle(val))
                last = first + (val.count("\n") if enc is None and kind != "gcp-service-account" else 0)
                self.planted.append({"path": relpath, "line": first, "lines": list(range(first, last + 1)),
                                     "type": kind, "encoding": enc, "value": pem_body_digest(val)})
            else:
                needle = val if enc is None else enc_value(val, enc)
                ln = line_of(text, needle)
                self.planted.append({"path": relpath, "line": ln, "lines": [ln], "type": kind, "encoding": enc, "value": val})


def camel_from(var):
    p = var.lower().split("_")
    return p[0] + "".join(x.capitalize() for x in p[1:])


def enc_value(val, enc):
    if enc == "base64":
        return base64.b64encode(val.encode()).decode()
    return val


def enc_needle(val):
    return json.dumps(val)[1:60]


def pem_body_digest(val):
    return "sha256:" + hashlib.sha256(val.encode()).hexdigest()[:16]


_line_cache = {}


def line_of(text, needle):
    i = text.find(needle)
    if i < 0:
        return 0
    return text.count("\n", 0, i) + 1


# --------------------------------------------------------------------------------------------
# File type generators: each returns a list of blocks (str); planting inserts between blocks
# --------------------------------------------------------------------------------------------

def lic_header(rng, cmt, org):
    return "%s Copyright %d %s Inc. All rights reserved.\n%s SPDX-License-Identifier: %s\n\n" % (
        cmt, rng.randint(2016, 2025), org.capitalize(), cmt, rng.choice(["Apache-2.0", "MIT", "BSD-3-Clause", "LicenseRef-Proprietary"]))


def gen_source(rng, pools, lang, target, org, modname):
    """lang in py js ts go java rs c; returns (blocks, footer_is_last)."""
    if lang == "py":
        hdr = '"""%s.\n\n%s.\n"""\n' % (modname.replace("_", " ").capitalize(), sentence(rng)) + "\n".join(sorted(rng.sample(PY_IMPORTS, rng.randint(3, 8)))) + \
              "\n\nlogger = logging.getLogger(__name__)\n\n\n"
        pool, footer = pools.py, ""
    elif lang in ("js", "ts"):
        hdr = lic_header(rng, "//", org) if rng.random() < 0.3 else ""
        hdr += "".join("import %s from '%s';\n" % (camel(rng, 1), m) for m in rng.sample(JS_MODULES, rng.randint(2, 7))) + "\n"
        pool, footer = (pools.js if lang == "js" else pools.ts), ""
    elif lang == "go":
        hdr = lic_header(rng, "//", org) + "package %s\n\nimport (\n%s)\n\n" % (
            modname.split("_")[0], "".join('\t"%s"\n' % m for m in sorted(rng.sample(["context", "errors", "fmt", "log", "net/http", "time", "encoding/json", "strings", "sync", "github.com/%s/%s/internal/%s" % (org, rng.choice(WORDS), rng.choice(WORDS))], rng.randint(3, 7)))))
        pool, footer = pools.go, ""
    elif lang == "java":
        cls = "".join(x.capitalize() for x in modname.split("_"))
        hdr = lic_header(rng, "//", org) + "package com.%s.%s.%s;\n\n%s\n\n@Slf4j\n@Service\npublic class %s {\n\n" % (
            org, rng.choice(WORDS), rng.choice(WORDS), "\n".join("import %s;" % m for m in sorted(rng.sample(
                ["java.util.List", "java.util.Map", "java.util.Optional", "java.util.stream.Collectors", "java.time.Instant",
                 "org.springframework.stereotype.Service", "lombok.extern.slf4j.Slf4j", "org.springframework.beans.factory.annotation.Autowired",
                 "com.%s.common.%s" % (org, pascal(rng))], rng.randint(3, 8)))), cls)
        pool, footer = pools.java, "}\n"
    elif lang == "rs":
        hdr = "//! %s.\n\nuse std::collections::HashMap;\nuse serde::{Deserialize, Serialize};\nuse crate::error::Error;\n\n" % sentence(rng)
        pool, footer = pools.rs, ""
    else:
        hdr = lic_header(rng, " *", org).replace(" * Copyright", "/*\n * Copyright", 1) + " */\n#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n#include \"%s.h\"\n\n" % modname
        pool, footer = pools.c, ""
    blocks = [hdr]
    size = len(hdr)
    n = len(pool)
    while size < target:
        b = pool[rng.randrange(n)]
        blocks.append(b)
        size += len(b)
    blocks.append(footer)
    return blocks


def gen_minjs(rng, pools, target, line_len=None):
    out, size, cur = ['/*! %s v%s | (c) %s | MIT */\n' % (rng.choice(WORDS), semver(rng), rng.choice(WORDS).capitalize())], 0, []
    line_len = line_len or rng.randint(20_000, 400_000)
    n = len(pools.minjs)
    cur_len = 0
    while size < target:
        s = pools.minjs[rng.randrange(n)]
        cur.append(s)
        cur_len += len(s)
        size += len(s)
        if cur_len > line_len:
            out.append("".join(cur) + "\n")
            cur, cur_len = [], 0
    if cur:
        out.append("".join(cur) + "\n")
    out.append("//# sourceMappingURL=%s.js.map\n" % tok(rng, HEX, 8))
    return out


def minjs_blocks_for_plant(blocks, rng):
    """Split a long line block so a planted statement can land mid-line."""
    i = rng.randrange(1, max(2, len(blocks) - 1))
    b = blocks[i]
    cut = b.rfind(";", 0, rng.randint(1, max(2, len(b) - 1)))
    if cut <= 0:
        return blocks, i
    blocks[i:i + 1] = [b[:cut + 1], b[cut + 1:]]
    return blocks, i + 1


def gen_package_lock(rng, name, n):
    pkgs = {"": {"name": name, "version": semver(rng), "license": "UNLICENSED",
                 "dependencies": {}, "devDependencies": {}}}
    for _ in range(n):
        p = rng.choice(["", "@%s/" % rng.choice(WORDS)]) + "-".join(rng.choice(WORDS) for _ in range(rng.randint(1, 3)))
        v = semver(rng)
        e = {"version": v, "resolved": "https://registry.npmjs.org/%s/-/%s-%s.tgz" % (p, p.split("/")[-1], v),
             "integrity": "sha512-" + base64.b64encode(rng.getrandbits(512).to_bytes(64, "big")).decode()}
        if rng.random() < 0.5:
            e["dev"] = True
        if rng.random() < 0.4:
            e["dependencies"] = {rng.choice(WORDS): "^" + semver(rng) for _ in range(rng.randint(1, 5))}
        if rng.random() < 0.2:
            e["engines"] = {"node": ">=%d" % rng.choice([12, 14, 16, 18])}
        if rng.random() < 0.3:
            e["license"] = rng.choice(["MIT", "ISC", "Apache-2.0", "BSD-2-Clause"])
        pkgs["node_modules/" + p] = e
    return json.dumps({"name": name, "version": pkgs[""]["version"], "lockfileVersion": 3, "requires": True, "packages": pkgs}, indent=2) + "\n"


def gen_package_json(rng, name):
    return json.dumps({
        "name": "@%s/%s" % (rng.choice(ORGS), name), "version": semver(rng), "private": True,
        "scripts": {"build": "tsc -p .", "test": "jest --coverage", "lint": "eslint . --ext .ts,.tsx", "start": "node dist/index.js"},
        "dependencies": {m: "^" + semver(rng) for m in rng.sample([m for m in JS_MODULES if not m.startswith(".")], 6)},
        "devDependencies": {m: "^" + semver(rng) for m in ["typescript", "jest", "eslint", "prettier", "@types/node"]},
        "engines": {"node": ">=18"}}, indent=2) + "\n"


def gen_go_sum(rng, n):
    out = []
    for _ in range(n):
        m = "github.com/%s/%s" % (rng.choice(WORDS), "-".join(rng.sample(WORDS, rng.randint(1, 2))))
        v = "v" + semver(rng)
        out.append("%s %s h1:%s=\n%s %s/go.mod h1:%s=\n" % (m, v, base64.b64encode(rng.getrandbits(256).to_bytes(32, "big")).decode()[:43],
                                                         m, v, base64.b64encode(rng.getrandbits(256).to_bytes(32, "big")).decode()[:43]))
    return "".join(out)


def gen_cargo_lock(rng, n):
    out = ["# This file is automatically @generated by Cargo.\n# It is not intended for manual editing.\nversion = 3\n\n"]
    for _ in range(n):
        out.append('[[package]]\nname = "%s"\nversion = "%s"\nsource = "registry+https://github.com/rust-lang/crates.io-index"\nchecksum = "%s"\ndependencies = [\n%s]\n\n' % (
            "-".join(rng.sample(WORDS, rng.randint(1, 2))), semver(rng), "%064x" % rng.getrandbits(256),
            "".join(' "%s",\n' % rng.choice(WORDS) for _ in range(rng.randint(0, 5)))))
    return "".join(out)


def gen_poetry_lock(rng, n):
    out = []
    for _ in range(n):
        nm = "-".join(rng.sample(WORDS, rng.randint(1, 2)))
        v = semver(rng)
        out.append('[[package]]\nname = "%s"\nversion = "%s"\ndescription = "%s"\noptional = false\npython-versions = ">=3.8"\nfiles = [\n%s]\n\n' % (
            nm, v, sentence(rng, 3, 8), "".join('    {file = "%s-%s-py3-none-any.whl", hash = "sha256:%064x"},\n' % (nm.replace("-", "_"), v, rng.getrandbits(256)) for _ in range(rng.randint(1, 3)))))
    return "".join(out)


def gen_k8s(rng, app, org):
    docs = []
    ns = rng.choice(["default", "prod", "staging", app])
    img = "ghcr.io/%s/%s:%s" % (org, app, rng.choice([semver(rng), "sha-" + tok(rng, HEX, 7)]))
    env = "".join("            - name: %s\n              value: \"%s\"\n" % (rng.choice(WORDS).upper() + "_" + rng.choice(WORDS).upper(), rng.choice([str(rng.randint(1, 9000)), rng.choice(WORDS), "true"])) for _ in range(rng.randint(2, 8)))
    env += "            - name: DB_PASSWORD\n              valueFrom:\n                secretKeyRef:\n                  name: %s-db\n                  key: password\n" % app
    docs.append("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: %s\n  namespace: %s\n  labels:\n    app.kubernetes.io/name: %s\n    app.kubernetes.io/part-of: %s\nspec:\n  replicas: %d\n  selector:\n    matchLabels:\n      app: %s\n  template:\n    metadata:\n      labels:\n        app: %s\n      annotations:\n        checksum/config: %s\n    spec:\n      serviceAccountName: %s\n      containers:\n        - name: %s\n          image: %s\n          ports:\n            - containerPort: %d\n          env:\n%s          resources:\n            requests:\n              cpu: %dm\n              memory: %dMi\n            limits:\n              memory: %dMi\n          readinessProbe:\n            httpGet:\n              path: /healthz\n              port: %d\n" % (
        app, ns, app, org, rng.randint(1, 12), app, app, "%064x" % rng.getrandbits(256), app, app, img, rng.choice([8080, 3000, 9000]), env,
        rng.choice([100, 250, 500]), rng.choice([128, 256, 512]), rng.choice([512, 1024]), rng.choice([8080, 3000, 9000])))
    docs.append("apiVersion: v1\nkind: Service\nmetadata:\n  name: %s\n  namespace: %s\nspec:\n  selector:\n    app: %s\n  ports:\n    - port: 80\n      targetPort: %d\n" % (app, ns, app, rng.choice([8080, 3000])))
    if rng.random() < 0.6:
        docs.append("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s-config\n  namespace: %s\ndata:\n%s" % (app, ns, "".join("  %s: \"%s\"\n" % (snake(rng), rng.choice([rng.choice(WORDS), str(rng.randint(0, 999)), "https://%s.%s.internal" % (rng.choice(WORDS), org)])) for _ in range(rng.randint(3, 15)))))
    if rng.random() < 0.4:
        docs.append("apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: %s\n  annotations:\n    cert-manager.io/cluster-issuer: letsencrypt\nspec:\n  rules:\n    - host: %s.%s.com\n      http:\n        paths:\n          - path: /\n            pathType: Prefix\n            backend:\n              service:\n                name: %s\n                port:\n                  number: 80\n" % (app, app, org, app))
    return ["---\n" + d if i else d for i, d in enumerate(docs)]


def gen_workflow(rng, app, lang):
    setup = {"py": "actions/setup-python@v5\n        with:\n          python-version: '3.12'", "js": "actions/setup-node@v4\n        with:\n          node-version: 20",
             "ts": "actions/setup-node@v4\n        with:\n          node-version: 20", "go": "actions/setup-go@v5\n        with:\n          go-version: '1.22'",
             "java": "actions/setup-java@v4\n        with:\n          distribution: temurin\n          java-version: '21'",
             "rs": "dtolnay/rust-toolchain@stable", "c": "actions/checkout@v4"}[lang]
    blocks = ["name: %s\n\non:\n  push:\n    branches: [main]\n  pull_request:\n\npermissions:\n  contents: read\n\njobs:\n" % rng.choice(["CI", "Build and test", "Release", "Deploy"])]
    for _ in range(rng.randint(1, 4)):
        steps = "".join("      - name: %s\n        run: %s\n" % (sentence(rng, 2, 4), rng.choice(["make test", "make lint", "./scripts/%s.sh" % rng.choice(WORDS), "docker build -t %s ." % app])) for _ in range(rng.randint(2, 6)))
        blocks.append("  %s:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@%s\n      - uses: %s\n%s      - name: Publish\n        env:\n          TOKEN: ${{ secrets.%s }}\n        run: ./scripts/publish.sh\n" % (
            snake(rng, 1).replace("_", "-") + "-" + rng.choice(["build", "test", "lint", "deploy"]), tok(rng, HEX, 40) if rng.random() < 0.3 else "v4", setup, steps,
            rng.choice(["NPM_TOKEN", "DEPLOY_TOKEN", "GITHUB_TOKEN", "REGISTRY_PASSWORD"])))
    return blocks


def gen_helm_values(rng, app, org):
    return ["replicaCount: %d\n\nimage:\n  repository: ghcr.io/%s/%s\n  tag: \"%s\"\n  pullPolicy: IfNotPresent\n\n" % (rng.randint(1, 5), org, app, semver(rng)),
            "service:\n  type: ClusterIP\n  port: 80\n\n", "resources:\n  limits:\n    memory: %dMi\n  requests:\n    cpu: %dm\n\n" % (rng.choice([256, 512]), rng.choice([100, 200])),
            "db:\n  host: %s\n  user: %s\n  existingSecret: %s-db\n\n" % (rng.choice(HOSTS), app.replace("-", "_"), app),
            "".join("%s:\n  enabled: %s\n  %s: %d\n\n" % (camel(rng), rng.choice(["true", "false"]), camel(rng, 1), rng.randint(1, 100)) for _ in range(rng.randint(3, 12)))]


def gen_env(rng, app, example):
    lines = ["# %s environment\n" % app, "NODE_ENV=%s\n" % rng.choice(["production", "development"]), "PORT=%d\n" % rng.choice([3000, 8080]),
             "LOG_LEVEL=%s\n" % rng.choice(["info", "debug"]), "DB_HOST=%s\n" % rng.choice(HOSTS), "DB_USER=%s\n" % app.replace("-", "_"),
             "DB_PASSWORD=%s\n" % ("" if example else "${DB_PASSWORD}"), "REDIS_URL=redis://%s:6379/0\n" % rng.choice(HOSTS),
             "FEATURE_%s=%s\n" % (rng.choice(WORDS).upper(), rng.choice(["on", "off"])), "SENTRY_ENVIRONMENT=%s\n" % rng.choice(["prod", "staging"])]
    lines += ["%s_%s=%s\n" % (rng.choice(WORDS).upper(), rng.choice(WORDS).upper(), rng.choice([str(rng.randint(1, 999)), rng.choice(WORDS)])) for _ in range(rng.randint(3, 20))]
    return lines


def gen_properties(rng, app):
    lines = ["# %s\n" % sentence(rng), "spring.application.name=%s\n" % app, "server.port=%d\n" % rng.choice([8080, 8081]),
             "spring.datasource.url=jdbc:postgresql://%s:5432/%s\n" % (rng.choice(HOSTS), app.replace("-", "_")),
             "spring.datasource.username=%s\n" % app.replace("-", "_"), "spring.datasource.password=${DB_PASSWORD}\n",
             "spring.jpa.hibernate.ddl-auto=validate\n", "management.endpoints.web.exposure.include=health,info,prometheus\n"]
    lines += ["%s.%s.%s=%s\n" % (app.split("-")[0], rng.choice(WORDS), rng.choice(WORDS), rng.choice([str(rng.randint(1, 9999)), rng.choice(WORDS), "true", "false"])) for _ in range(rng.randint(10, 60))]
    return lines


def gen_markdown(rng, pools, title, target):
    blocks = ["# %s\n\n%s.\n\n" % (title, sentence(rng))]
    size = 0
    n = len(pools.md)
    while size < target:
        r = rng.random()
        if r < 0.6:
            b = pools.md[rng.randrange(n)]
        elif r < 0.75:
            b = "## %s\n\n" % sentence(rng, 2, 5)
        elif r < 0.88:
            b = "```%s\n%s```\n\n" % (rng.choice(["sh", "bash", "yaml", "json"]), "".join("%s %s --%s\n" % (rng.choice(["make", "npm run", "kubectl apply -f", "docker compose", "go run ./cmd/" + rng.choice(WORDS)]), rng.choice(WORDS), rng.choice(WORDS)) for _ in range(rng.randint(1, 5))))
        else:
            b = "| %s | %s | %s |\n|---|---|---|\n%s\n" % (rng.choice(WORDS), rng.choice(WORDS), rng.choice(WORDS), "".join("| `%s` | %s | %d |\n" % (snake(rng), sentence(rng, 2, 5), rng.randint(0, 100)) for _ in range(rng.randint(2, 8))))
        blocks.append(b)
        size += len(b)
    return blocks


def gen_shell(rng, target):
    blocks = ["#!/usr/bin/env bash\nset -euo pipefail\n\n"]
    size = 0
    while size < target:
        b = rng.choice([
            "echo \"%s\"\n" % sentence(rng, 3, 7),
            "if [[ -z \"${%s:-}\" ]]; then\n  echo \"%s is required\" >&2\n  exit 1\nfi\n" % ((rng.choice(WORDS).upper(),) * 2),
            "docker build -t %s:%s .\n" % (rng.choice(WORDS), semver(rng)),
            "kubectl -n %s rollout status deploy/%s --timeout=%ds\n" % (rng.choice(WORDS), rng.choice(WORDS), rng.choice([60, 120, 300])),
            "for f in %s/*.%s; do\n  %s \"$f\"\ndone\n" % (rng.choice(WORDS), rng.choice(["yaml", "json", "sql"]), rng.choice(["cat", "jq .", "psql -f"])),
        ])
        blocks.append(b)
        size += len(b)
    return blocks


def gen_tf(rng, app, target):
    blocks = ['terraform {\n  required_providers {\n    aws = {\n      source  = "hashicorp/aws"\n      version = "~> 5.0"\n    }\n  }\n}\n\n']
    size = 0
    while size < target:
        b = rng.choice([
            'resource "aws_s3_bucket" "%s" {\n  bucket = "%s-%s-%s"\n  tags = {\n    Team = "%s"\n  }\n}\n\n' % (snake(rng), rng.choice(ORGS), app, rng.choice(WORDS), rng.choice(WORDS)),
            'resource "aws_db_instance" "%s" {\n  engine         = "postgres"\n  instance_class = "db.t3.%s"\n  username       = "%s"\n  password       = var.db_password\n}\n\n' % (snake(rng), rng.choice(["micro", "small", "medium"]), rng.choice(WORDS)),
            'variable "%s" {\n  type    = string\n  default = "%s"\n}\n\n' % (snake(rng), rng.choice(WORDS)),
            'module "%s" {\n  source = "git::https://github.com/%s/terraform-%s.git?ref=v%s"\n  name   = "%s"\n}\n\n' % (snake(rng), rng.choice(ORGS), rng.choice(WORDS), semver(rng), app),
        ])
        blocks.append(b)
        size += len(b)
    return blocks


# --------------------------------------------------------------------------------------------
# Corpus assembly
# --------------------------------------------------------------------------------------------

EXT = {"py": ".py", "js": ".js", "ts": ".ts", "go": ".go", "java": ".java", "rs": ".rs", "c": ".c"}
LANG_CODE = {"python": "py", "javascript": "js", "typescript": "ts", "go": "go", "java": "java", "rust": "rs", "c": "c"}


class Writer:
    def __init__(self, root, planter):
        self.root = root
        self.planter = planter
        self.files = 0
        self.bytes = 0
        self.dirs = set()
        self.paths = set()

    def write(self, rel, blocks_or_text, ftype=None, hits=None, plant=True, lo=1):
        hits = list(hits or [])
        if rel in self.paths:
            stem, ext = os.path.splitext(rel)
            i = 2
            while "%s-%d%s" % (stem, i, ext) in self.paths:
                i += 1
            rel = "%s-%d%s" % (stem, i, ext)
        self.paths.add(rel)
        if isinstance(blocks_or_text, (str, bytes)):
            text = blocks_or_text
        else:
            blocks = blocks_or_text
            if plant and ftype:
                if ftype == "minjs" and self.planter.rng.random() < self.planter.rate * 3:
                    blocks, i = minjs_blocks_for_plant(blocks, self.planter.rng)
                    kind = self.planter.rng.choice(["stripe-live-secret", "aws-access-key", "github-pat", "slack-webhook", "openai-api-key"])
                    val = self.planter.value(kind)
                    blocks.insert(i, self.planter.render("minjs", kind, val))
                    hits.append((kind, val, None, False))
                elif ftype != "minjs":
                    hits += self.planter.maybe_plant(ftype, blocks, lo)
            text = "".join(blocks)
        data = text.encode() if isinstance(text, str) else text
        path = os.path.join(self.root, rel)
        d = os.path.dirname(path)
        if d not in self.dirs:
            os.makedirs(d, exist_ok=True)
            self.dirs.add(d)
        with open(path, "wb") as f:
            f.write(data)
        self.files += 1
        self.bytes += len(data)
        if hits:
            self.planter.record(rel, text, hits)
        return len(data)


def lognorm_size(rng, median, sigma=0.8, lo=300, hi=200_000):
    return int(min(hi, max(lo, rng.lognormvariate(0, sigma) * median)))


def gen_repo(rng, pools, w, org, name, lang, budget, big=None):
    """Generate one repository; returns bytes written."""
    start = w.bytes
    base = "%s/%s/" % (org, name)
    code = LANG_CODE[lang]
    app = name
    w.write(base + "README.md", gen_markdown(rng, pools, name, rng.randint(800, 6000)), "md")
    w.write(base + ".gitignore", "".join(rng.sample(["__pycache__/\n", "*.pyc\n", ".DS_Store\n", "*.swp\n", ".idea/\n", "coverage/\n", "*.tmp\n", ".venv/\n"], 5)))
    w.write(base + ".editorconfig", "root = true\n\n[*]\nindent_style = space\nindent_size = %d\nend_of_line = lf\ninsert_final_newline = true\n" % rng.choice([2, 4]))
    w.write(base + "Dockerfile", "FROM %s\nWORKDIR /app\nCOPY . .\nRUN %s\nUSER 10001\nEXPOSE 8080\nCMD [%s]\n" % (
        rng.choice(["python:3.12-slim", "node:20-alpine", "golang:1.22", "eclipse-temurin:21-jre", "rust:1.79", "debian:bookworm-slim"]),
        rng.choice(["make build", "npm ci && npm run build", "go build -o /app/server ./cmd/server", "pip install -r requirements.txt"]), '"./server"'))
    w.write(base + "Makefile", ".PHONY: build test lint\n\nbuild:\n\t%s\n\ntest:\n\t%s\n\nlint:\n\t%s\n" % (
        rng.choice(["go build ./...", "npm run build", "cargo build --release", "mvn -q package"]), rng.choice(["go test ./...", "pytest -q", "npm test", "cargo test"]), rng.choice(["golangci-lint run", "ruff check .", "eslint .", "cargo clippy"])))
    for i in range(rng.randint(1, 4)):
        w.write(base + ".github/workflows/%s%s.yml" % (rng.choice(["ci", "release", "deploy", "nightly", "lint", "codeql"]), "" if i == 0 else "-%d" % i), gen_workflow(rng, app, code), "ci")
    w.write(base + ".env.example", gen_env(rng, app, True), "env")
    if rng.random() < 0.35:
        w.write(base + ".env", gen_env(rng, app, False), "env")
    envs = rng.sample(["dev", "staging", "prod", "qa", "eu", "us"], rng.randint(1, 4))
    for e in envs:
        for j in range(rng.randint(1, 4)):
            w.write(base + "deploy/k8s/overlays/%s/%s%s.yaml" % (e, rng.choice(["deployment", "service", "app", "config"]), j), gen_k8s(rng, app, org), "k8s")
    w.write(base + "charts/%s/values.yaml" % app, gen_helm_values(rng, app, org), "helm")
    w.write(base + "charts/%s/Chart.yaml" % app, "apiVersion: v2\nname: %s\nversion: %s\nappVersion: \"%s\"\n" % (app, semver(rng), semver(rng)))
    for e in rng.sample(envs, min(len(envs), 2)):
        w.write(base + "charts/%s/values-%s.yaml" % (app, e), gen_helm_values(rng, app, org), "helm")
    if rng.random() < 0.5:
        w.write(base + "infra/main.tf", gen_tf(rng, app, rng.randint(1000, 8000)), "tf")
    for _ in range(rng.randint(1, 4)):
        w.write(base + "scripts/%s.sh" % snake(rng), gen_shell(rng, rng.randint(300, 4000)), "sh", lo=1)
    for _ in range(rng.randint(0, 10)):
        w.write(base + "docs/%s/%s.md" % (rng.choice(["guides", "adr", "runbooks", "api"]), snake(rng).replace("_", "-")), gen_markdown(rng, pools, sentence(rng, 2, 5), lognorm_size(rng, 3500)), "md")
    if rng.random() < 0.05:
        w.write(base + "assets/%s.png" % rng.choice(WORDS), b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(rng.getrandbits(8) for _ in range(rng.randint(500, 5000))))
    # ecosystem files
    if code in ("js", "ts"):
        w.write(base + "package.json", gen_package_json(rng, app))
        if not big == "lock":
            w.write(base + "package-lock.json", gen_package_lock(rng, app, min(int(budget * 0.12 / 450), rng.randint(150, 1500))))
        w.write(base + "tsconfig.json" if code == "ts" else base + ".eslintrc.json", json.dumps({"compilerOptions": {"target": "ES2022", "module": "commonjs", "strict": True, "outDir": "dist"}}, indent=2))
        for _ in range(rng.randint(0, 3)):
            if w.bytes - start > budget * 0.7:
                break
            w.write(base + "static/js/%s.%s.min.js" % (rng.choice(["main", "vendor", "runtime", "chunk-" + rng.choice(WORDS)]), tok(rng, HEX, 8)),
                    gen_minjs(rng, pools, lognorm_size(rng, 150_000, 1.0, 10_000, 3_000_000)), "minjs")
    elif code == "go":
        w.write(base + "go.mod", "module github.com/%s/%s\n\ngo 1.22\n" % (org, app))
        w.write(base + "go.sum", gen_go_sum(rng, rng.randint(20, 300)))
    elif code == "rs":
        w.write(base + "Cargo.toml", '[package]\nname = "%s"\nversion = "%s"\nedition = "2021"\n\n[dependencies]\nserde = { version = "1", features = ["derive"] }\ntokio = "1"\n' % (app, semver(rng)))
        w.write(base + "Cargo.lock", gen_cargo_lock(rng, rng.randint(50, 400)))
    elif code == "py":
        w.write(base + "pyproject.toml", '[project]\nname = "%s"\nversion = "%s"\nrequires-python = ">=3.10"\n' % (app, semver(rng)))
        if rng.random() < 0.5:
            w.write(base + "poetry.lock", gen_poetry_lock(rng, rng.randint(30, 200)))
    elif code == "java":
        w.write(base + "src/main/resources/application.properties", gen_properties(rng, app), "properties")
        w.write(base + "pom.xml", "<project>\n  <modelVersion>4.0.0</modelVersion>\n  <groupId>com.%s</groupId>\n  <artifactId>%s</artifactId>\n  <version>%s</version>\n  <dependencies>\n%s  </dependencies>\n</project>\n" % (
            org, app, semver(rng), "".join("    <dependency>\n      <groupId>org.%s</groupId>\n      <artifactId>%s</artifactId>\n      <version>%s</version>\n    </dependency>\n" % (rng.choice(WORDS), rng.choice(WORDS), semver(rng)) for _ in range(rng.randint(5, 30)))))
    if rng.random() < 0.3:
        w.write(base + "config/%s.json" % rng.choice(["default", "production", "settings"]), json.dumps(
            {snake(rng, 1): {camel(rng): rng.choice([rng.randint(0, 999), rng.choice(WORDS), True, uuid4(rng)]) for _ in range(rng.randint(2, 8))} for _ in range(rng.randint(3, 12))}, indent=2) + "\n")
    # source tree
    src_root = {"py": "src/%s" % app.replace("-", "_"), "js": "src", "ts": "src", "go": "internal", "java": "src/main/java/com/%s/%s" % (org, app.replace("-", "")), "rs": "src", "c": "src"}[code]
    subdirs = ["/".join([src_root] + [rng.choice(WORDS) for _ in range(rng.randint(0, 3))]) for _ in range(rng.randint(3, 25))]
    median = {"py": 7000, "js": 6000, "ts": 6000, "go": 8000, "java": 7000, "rs": 8000, "c": 9000}[code]
    while w.bytes - start < budget:
        d = rng.choice(subdirs)
        is_test = rng.random() < 0.2
        fl = code
        if code in ("js", "ts") and rng.random() < 0.15:
            fl = "ts" if code == "js" else "js"
        if rng.random() < 0.06:  # polyglot repos: scripts, tools
            fl = rng.choice(["py", "sh", "go", "md"])
        mod = snake(rng)
        if fl == "sh":
            w.write(base + d + "/" + mod + ".sh", gen_shell(rng, rng.randint(300, 3000)), "sh")
            continue
        if fl == "md":
            w.write(base + d + "/" + "README.md", gen_markdown(rng, pools, mod, rng.randint(500, 4000)), "md")
            continue
        fname = mod + ("_test" if is_test and fl in ("py", "go") else "") + (".test" if is_test and fl in ("js", "ts") else "") + EXT[fl]
        if fl == "java":
            fname = "".join(x.capitalize() for x in mod.split("_")) + ("Test" if is_test else "") + ".java"
        blocks = gen_source(rng, pools, fl, lognorm_size(rng, median), org, mod)
        w.write(base + d + "/" + fname, blocks, fl)
        if fl == "c" and rng.random() < 0.5:
            w.write(base + d + "/" + mod + ".h", "#ifndef %s_H\n#define %s_H\n\n%s\n#endif\n" % (mod.upper(), mod.upper(), "".join("int %s(const char *%s, size_t %s);\n" % (snake(rng), snake(rng, 1), snake(rng, 1)) for _ in range(rng.randint(3, 20)))))
    return w.bytes - start


def gen_large(rng, pools, w, planter, kind, rel, target):
    if kind == "bundle":
        blocks = gen_minjs(rng, pools, target, line_len=rng.randint(600_000, 1_500_000))
        blocks, i = minjs_blocks_for_plant(blocks, rng)
        val = planter.value("stripe-live-secret")
        blocks.insert(i, planter.render("minjs", "stripe-live-secret", val))
        w.write(rel, blocks, hits=[("stripe-live-secret", val, None, False)], plant=False)
    elif kind == "lock":
        w.write(rel, gen_package_lock(rng, "monorepo", int(target / 300)))
    elif kind == "sql":
        out = ["-- PostgreSQL database dump\n-- Dumped from database version 15.4\n\nSET statement_timeout = 0;\nSET client_encoding = 'UTF8';\n\n"]
        size = 0
        while size < target:
            rows = ",\n".join("  ('%s', '%s.%s@example.com', '$2b$12$%s', '%s', %d, '2024-%02d-%02d %02d:%02d:00')" % (
                uuid4(rng), rng.choice(WORDS), rng.choice(WORDS), tok(rng, string.ascii_letters + string.digits + "./", 53), sentence(rng, 2, 6), rng.randint(0, 99999),
                rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59)) for _ in range(200))
            b = "INSERT INTO %s (id, email, password_hash, display_name, score, created_at) VALUES\n%s;\n\n" % (rng.choice(["users", "accounts", "members"]), rows)
            out.append(b)
            size += len(b)
        val = planter.value("postgres-uri")
        out.insert(len(out) // 2, "-- replication source: %s\n" % val)
        w.write(rel, out, hits=[("postgres-uri", val, None, False)], plant=False)
    elif kind == "pbgo":
        out = ["// Code generated by protoc-gen-go. DO NOT EDIT.\n// versions:\n// \tprotoc-gen-go v1.33.0\n// \tprotoc        v4.25.3\n// source: api/v1/%s.proto\n\npackage apiv1\n\nvar file_api_v1_proto_rawDesc = []byte{\n" % rng.choice(WORDS)]
        size = 0
        while size < target:
            b = "\t" + " ".join("0x%02x," % rng.getrandbits(8) for _ in range(16)) + "\n"
            out.append(b * 1)
            size += len(b)
            if rng.random() < 0.002:
                out.append("".join(go_block(rng) for _ in range(3)).replace("\n", "\n// ").join(["// ", "\n"]))
        out.append("}\n")
        w.write(rel, out, plant=False)
    elif kind == "openapi":
        paths = {}
        size = 0
        while size < target:
            p = "/v1/" + "/".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4))) + "/{id}"
            op = {"summary": sentence(rng, 3, 8), "operationId": camel(rng, 3), "tags": [rng.choice(WORDS)],
                  "parameters": [{"name": camel(rng, 1), "in": rng.choice(["query", "path", "header"]), "required": rng.random() < 0.5, "schema": {"type": "string", "example": uuid4(rng)}} for _ in range(rng.randint(1, 6))],
                  "responses": {"200": {"description": sentence(rng, 3, 6), "content": {"application/json": {"schema": {"$ref": "#/components/schemas/%s" % pascal(rng)}}}},
                                "401": {"description": "Unauthorized"}}}
            paths[p] = {rng.choice(["get", "post", "put", "delete"]): op}
            size += len(json.dumps(op, indent=2)) + 4 * len(p)
        doc = {"openapi": "3.0.3", "info": {"title": "Public API", "version": semver(rng)},
               "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}}, "paths": paths}
        w.write(rel, json.dumps(doc, indent=2) + "\n", plant=False)


def gcp_sa(rng, planter, w, rel, org):
    key = pem_rsa_pkcs8(planter.rsa()) + "\n"
    proj = "%s-%s-%d" % (org, rng.choice(WORDS), rng.randint(100000, 999999))
    doc = {"type": "service_account", "project_id": proj, "private_key_id": tok(rng, HEX, 40), "private_key": key,
           "client_email": "%s@%s.iam.gserviceaccount.com" % (rng.choice(WORDS), proj), "client_id": tok(rng, string.digits, 21),
           "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": "https://oauth2.googleapis.com/token",
           "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
           "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/%s" % proj}
    text = json.dumps(doc, indent=2) + "\n"
    w.write(rel, text, hits=[("gcp-service-account", key, "json-string", False)])


def k8s_b64_secret(rng, planter, w, rel):
    kind = rng.choice(["stripe-live-secret", "github-pat", "postgres-uri", "slack-bot-token", "sendgrid-api-key"])
    val = planter.value(kind)
    enc = base64.b64encode(val.encode()).decode()
    text = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n  namespace: %s\ntype: Opaque\ndata:\n  username: %s\n  %s: %s\n" % (
        snake(rng, 1).replace("_", "-"), rng.choice(WORDS), base64.b64encode(rng.choice(WORDS).encode()).decode(), VAR_NAMES[kind][0].lower(), enc)
    w.write(rel, text, hits=[(kind, val, "base64", False)])


def standalone_keys(rng, planter, w, base):
    kind = rng.choice(["private-key-rsa", "private-key-ec", "private-key-openssh", "private-key-pkcs8"])
    val = planter.value(kind)
    name = {"private-key-openssh": "deploy/id_rsa", "private-key-ec": "certs/server.key", "private-key-rsa": "certs/tls.key", "private-key-pkcs8": "config/jwt-signing.pem"}[kind]
    w.write(base + name, val + "\n", hits=[(kind, val, None, False)])


def generator_digest():
    with open(os.path.abspath(__file__), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:16]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", help="target directory (created; must not exist unless --force)")
    ap.add_argument("--size-mb", type=float, default=520, help="approximate corpus size in MB (10^6 bytes); default 520")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--force", action="store_true", help="remove OUT first if it exists")
    ap.add_argument("--secret-rate", type=float, default=0.007, help="probability a file gets a planted secret")
    ap.add_argument("--decoy-rate", type=float, default=0.01, help="probability a file gets a hard decoy")
    args = ap.parse_args()

    out = os.path.abspath(args.out.rstrip("/"))
    if os.path.exists(out):
        if not args.force:
            sys.exit("%s exists (use --force)" % out)
        shutil.rmtree(out)
    os.makedirs(out)
    t0 = time.time()
    rng = random.Random(args.seed)
    pools = Pools(rng)
    planter = Planter(rng, out, args.secret_rate, args.decoy_rate)
    w = Writer(out, planter)
    total = int(args.size_mb * 1_000_000)
    scale = min(1.0, total / 520_000_000)

    # large files (10-20 MB each at full size)
    larges = [("bundle", "acme/web-storefront/static/js/vendor.bundle.min.js", 14), ("lock", "acme/web-storefront/package-lock.json", 16),
              ("sql", "globex/ledger-service/db/seed/fixtures.sql", 18), ("pbgo", "initech/api-gateway/internal/gen/apiv1/api.pb.go", 12),
              ("openapi", "umbrella/public-api/api/openapi.json", 11)]
    for kind, rel, mb in larges:
        gen_large(rng, pools, w, planter, kind, rel, int(mb * 1_000_000 * scale))
    # repositories
    n_repos = max(4, int(150 * scale ** 0.5))
    repos = []
    used = set()
    for i in range(n_repos):
        org = ORGS[i % len(ORGS)]
        lang = rng.choices(LANGS, LANG_WEIGHTS)[0]
        while True:
            name = "%s-%s" % (rng.choice(WORDS), rng.choice(["service", "api", "worker", "web", "lib", "cli", "gateway", "sdk", "tools", "app"]))
            if (org, name) not in used:
                break
        used.add((org, name))
        repos.append((org, name, lang, rng.lognormvariate(0, 0.6)))
    fixed = {("acme", "web-storefront"): "typescript", ("globex", "ledger-service"): "java", ("initech", "api-gateway"): "go", ("umbrella", "public-api"): "python"}
    for (org, name), lang in fixed.items():
        if (org, name) not in used:
            repos.append((org, name, lang, 1.0))
    remaining = total - w.bytes
    wsum = sum(r[3] for r in repos)
    for idx, (org, name, lang, weight) in enumerate(repos):
        budget = int(remaining * weight / wsum)
        left = total - w.bytes
        if left <= 0:
            break
        gen_repo(rng, pools, w, org, name, lang, min(budget, left), "lock" if (org, name) == ("acme", "web-storefront") else None)
        if rng.random() < 0.08:
            gcp_sa(rng, planter, w, "%s/%s/config/gcp-%s-sa.json" % (org, name, rng.choice(WORDS)), org)
        if rng.random() < 0.1:
            k8s_b64_secret(rng, planter, w, "%s/%s/deploy/k8s/secrets/%s-secret.yaml" % (org, name, rng.choice(WORDS)))
        if rng.random() < 0.08:
            standalone_keys(rng, planter, w, "%s/%s/" % (org, name))

    parent = os.path.dirname(out)
    stem = os.path.basename(out)
    with open(os.path.join(parent, stem + ".planted.jsonl"), "w") as f:
        for p in planter.planted:
            f.write(json.dumps(p, sort_keys=True) + "\n")
    with open(os.path.join(parent, stem + ".decoys.jsonl"), "w") as f:
        for p in planter.decoys:
            f.write(json.dumps(p, sort_keys=True) + "\n")
    meta = {"seed": args.seed, "size_mb": args.size_mb, "files": w.files, "bytes": w.bytes, "planted": len(planter.planted),
            "decoys": len(planter.decoys), "generator": generator_digest(), "secret_rate": args.secret_rate, "decoy_rate": args.decoy_rate,
            "seconds": round(time.time() - t0, 1)}
    with open(os.path.join(parent, stem + ".meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
    by_type = {}
    for p in planter.planted:
        by_type[p["type"]] = by_type.get(p["type"], 0) + 1
    print("corpus %s: %d files, %.1f MB, %d planted secrets, %d hard decoys, %.1fs (pools %.1fs)" % (
        out, w.files, w.bytes / 1e6, len(planter.planted), len(planter.decoys), time.time() - t0, pools.secs), file=sys.stderr)
    print("planted by type: " + ", ".join("%s=%d" % kv for kv in sorted(by_type.items())), file=sys.stderr)


if __name__ == "__main__":
    main()
