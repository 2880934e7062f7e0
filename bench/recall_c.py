"""Set C for bench/recall.py: a held-out tree written before any tuning on it.

It spreads over the credential files and code people really commit (cloud CLI
credentials, registry auth files, build-tool settings, IaC provider blocks, SDK calls
in several languages, notebooks, private key files) and over providers sets A and B do
not touch. Decoys are what such repositories also hold and a scanner must leave alone:
public keys and certificates, lockfile integrity hashes, git object ids, template and
secret-manager references, documented example values, public-by-design client keys.

Values are synthetic, from the seeded generator in recall.py, shaped like the real
formats (prefixes, lengths, alphabets); none is, or was, a live key.
"""
import base64
import string

from synthetic import B62, crc_b62  # noqa: F401  (recall.py puts fixtures/ on the path)

HEX = "0123456789abcdef"
UHEX = "0123456789ABCDEF"
B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
URLSAFE = string.ascii_letters + string.digits + "-_"
UPPER_DIGITS = string.ascii_uppercase + string.digits
BECH32 = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"


def random_bytes(r, n):
    return bytes(r.rnd.getrandbits(8) for _ in range(n))


def b64_after(r, prefix, n):
    """Base64 of bytes that start as the real format's do (`prefix`, itself base64) and go on
    with `n` random bytes: the whole is valid base64, as a real value is."""
    head = base64.b64decode(prefix[:len(prefix) - len(prefix) % 4])
    return base64.b64encode(head + random_bytes(r, n)).decode()


def pem(r, label, prefix, body_len):
    """A PEM block of `label` whose base64 body starts like the real DER (`prefix`)."""
    body = b64_after(r, prefix, body_len)
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN %s-----\n%s\n-----END %s-----" % (label, "\n".join(lines), label)


def b64url(data):
    return base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")


def kinds(r):
    """Generators for set C's kinds, over recall.py's `Values` (`r.c`, `r.rnd`, ...)."""
    gh = lambda p: (lambda x: p + x + crc_b62(x))(r.c(B62, 30))  # noqa: E731
    jwt = lambda claims: "%s.%s.%s" % (b64url('{"alg":"HS256","typ":"JWT"}'), b64url(claims), r.c(URLSAFE, 43))  # noqa: E731
    return {
        "aws_session": lambda: b64_after(r, "IQoJb3JpZ2luX2Vj", 260),
        "gh_oauth": lambda: gh("gho_"),
        "gh_app": lambda: gh("ghs_"),
        "gh_fine": lambda: "github_pat_11" + r.c(UPPER_DIGITS, 20) + "_" + r.c(B62, 59),
        "slack_user": lambda: "xoxp-%s-%s-%s-%s" % (r.c(string.digits, 12), r.c(string.digits, 12), r.c(string.digits, 13), r.c(HEX, 32)),
        "slack_app": lambda: "xapp-1-A%s-%s-%s" % (r.c(UPPER_DIGITS, 10), r.c(string.digits, 13), r.c(HEX, 64)),
        "stripe_rk": lambda: "rk_live_" + r.c(B62, 99),
        "stripe_whsec": lambda: "whsec_" + r.c(B62, 32),
        "anthropic": lambda: "sk-ant-api03-" + r.c(URLSAFE, 93) + "AA",
        "google_api": lambda: "AIza" + r.c(URLSAFE, 35),
        "discord_bot": lambda: "%s.%s.%s" % (b64url(r.c(string.digits, 18)), r.c(URLSAFE, 6), r.c(URLSAFE, 38)),
        "discord_webhook": lambda: "https://discord.com/api/webhooks/%s/%s" % (r.c(string.digits, 19), r.c(URLSAFE, 68)),
        "telegram": lambda: "%s:AA%s" % (r.c(string.digits, 10), r.c(URLSAFE, 33)),
        "shopify": lambda: "shpat_" + r.c(HEX, 32),
        "hf": lambda: "hf_" + r.c(string.ascii_letters, 34),
        "databricks": lambda: "dapi" + r.c(HEX, 32),
        "newrelic_user": lambda: "NRAK-" + r.c(UPPER_DIGITS, 27),
        "newrelic_license": lambda: r.c(HEX, 36) + "NRAL",
        "linear": lambda: "lin_api_" + r.c(string.ascii_letters + string.digits, 40),
        "notion": lambda: "ntn_" + r.c(string.digits, 11) + r.c(string.ascii_letters + string.digits, 35),
        "postman": lambda: "PMAK-%s-%s" % (r.c(HEX, 24), r.c(HEX, 34)),
        "grafana_sa": lambda: "glsa_%s_%s" % (r.c(string.ascii_letters + string.digits, 32), r.c(HEX, 8)),
        "do_pat": lambda: "dop_v1_" + r.c(HEX, 64),
        "doppler": lambda: "dp.pt." + r.c(string.ascii_letters + string.digits, 43),
        "pscale": lambda: "pscale_tkn_" + r.c(URLSAFE, 43),
        "atlassian": lambda: "ATATT3xFfGF0" + r.c(URLSAFE, 171) + "=" + r.c(UHEX, 8),
        "brevo": lambda: "xkeysib-%s-%s" % (r.c(HEX, 64), r.c(string.ascii_letters + string.digits, 16)),
        "mailchimp": lambda: r.c(HEX, 32) + "-us" + str(r.rnd.randint(2, 21)),
        "square": lambda: "EAAA" + r.c(URLSAFE, 60),
        "braintree": lambda: "access_token$production$%s$%s" % (r.c(string.ascii_lowercase + string.digits, 16), r.c(HEX, 32)),
        "dynatrace": lambda: "dt0c01.%s.%s" % (r.c(UPPER_DIGITS, 24), r.c(UPPER_DIGITS, 64)),
        "pulumi": lambda: "pul-" + r.c(HEX, 40),
        "tfc": lambda: "%s.atlasv1.%s" % (r.c(string.ascii_letters + string.digits, 14), r.c(string.ascii_letters + string.digits, 67)),
        "age": lambda: "AGE-SECRET-KEY-1" + r.c(BECH32, 58),
        "vault": lambda: "hvs." + r.c(URLSAFE, 90),
        "azure_client_secret": lambda: r.c(string.ascii_letters + string.digits, 3) + r.c(string.digits, 1) + "Q~" + r.c(string.ascii_letters + string.digits + "_.~-", 34),
        "pypi": lambda: "pypi-AgEIcHlwaS5vcmc" + r.c(URLSAFE, 120),
        "crates": lambda: "cio" + r.c(string.ascii_letters + string.digits, 32),
        "rubygems": lambda: "rubygems_" + r.c(HEX, 48),
        "dockerhub": lambda: "dckr_pat_" + r.c(URLSAFE, 27),
        "sonar": lambda: "squ_" + r.c(HEX, 40),
        "buildkite": lambda: "bkua_" + r.c(HEX, 40),
        "mapbox_sk": lambda: "sk.eyJ1Ijoi" + r.c(string.ascii_letters + string.digits, 40) + "." + r.c(URLSAFE, 22),
        "mapbox_pk": lambda: "pk.eyJ1Ijoi" + r.c(string.ascii_letters + string.digits, 40) + "." + r.c(URLSAFE, 22),
        "twitter_bearer": lambda: "AAAAAAAAAAAAAAAAAAAAA" + r.c(string.ascii_letters + string.digits, 20) + "%3D" + r.c(string.ascii_letters + string.digits, 50),
        "jwt_service_role": lambda: jwt('{"iss":"supabase","ref":"%s","role":"service_role","iat":1700000000,"exp":2015576000}' % r.c(string.ascii_lowercase, 20)),
        "alibaba_id": lambda: "LTAI" + r.c(string.ascii_letters + string.digits, 20),
        "fcm": lambda: "AAAA%s:APA91b%s" % (r.c(URLSAFE, 7), r.c(URLSAFE, 134)),
        "groq": lambda: "gsk_" + r.c(string.ascii_letters + string.digits, 52),
        "openrouter": lambda: "sk-or-v1-" + r.c(HEX, 64),
        "langsmith": lambda: "lsv2_pt_%s_%s" % (r.c(HEX, 32), r.c(HEX, 10)),
        "tailscale": lambda: "tskey-auth-k%sCNTRL-%s" % (r.c(string.ascii_letters + string.digits, 10), r.c(string.ascii_letters + string.digits, 33)),
        "figma": lambda: "figd_" + r.c(URLSAFE, 40),
        "hubspot": lambda: "pat-na1-" + r.uuid4(),
        "airtable": lambda: "pat%s.%s" % (r.c(string.ascii_letters + string.digits, 14), r.c(HEX, 64)),
        "flutterwave": lambda: "FLWSECK-%s-X" % r.c(HEX, 32),
        "razorpay_secret": lambda: r.c(string.ascii_letters + string.digits, 24),
        "circleci": lambda: "CCIPAT_%s_%s" % (r.c(string.ascii_letters + string.digits, 22), r.c(HEX, 40)),
        "render": lambda: "rnd_" + r.c(string.ascii_letters + string.digits, 32),
        "neon": lambda: "napi_" + r.c(string.ascii_lowercase + string.digits, 64),
        "replicate": lambda: "r8_" + r.c(string.ascii_letters + string.digits, 37),
        "heroku_new": lambda: "HRKU-AA" + r.c(URLSAFE, 58),
        "mollie": lambda: "live_" + r.c(string.ascii_letters + string.digits, 30),
        "woo_ck": lambda: "ck_" + r.c(HEX, 40),
        "woo_cs": lambda: "cs_" + r.c(HEX, 40),
        "laravel_key": lambda: "base64:" + r.b64_bytes(32),
        "rsa_key": lambda: pem(r, "RSA PRIVATE KEY", "MIIEowIBAAKCAQEA", 1170),
        "pkcs8_key": lambda: pem(r, "PRIVATE KEY", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQ", 1180),
        "ec_key": lambda: pem(r, "EC PRIVATE KEY", "MHcCAQEEI", 110),
        "openssh_key": lambda: pem(r, "OPENSSH PRIVATE KEY", "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZWQyNTUxOQAAACD", 280),
        "public_key": lambda: pem(r, "PUBLIC KEY", "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA", 270),
        "certificate": lambda: pem(r, "CERTIFICATE", "MIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBa", 840),
        "ssh_pub": lambda: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + r.c(string.ascii_letters + string.digits + "+/", 43) + " deploy@ci",
        "sri": lambda: "sha512-" + r.b64_bytes(64),
        "gcp_sa_key": lambda: pem(r, "PRIVATE KEY", "MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQ", 1180).replace("\n", "\\n"),
        "b64_userpass": lambda: base64.b64encode(("ci-bot:" + r.password()).encode()).decode(),
        "kube_key_data": lambda: base64.b64encode(pem(r, "RSA PRIVATE KEY", "MIIEpAIBAAKCAQEA", 1170).encode()).decode(),
        "vault_hex": lambda: r.c(HEX, 80),
        "png_b64": lambda: "iVBORw0KGgoAAAANSUhEUgAA" + r.b64_bytes(300),
        "recaptcha_site": lambda: "6L" + r.c(URLSAFE, 38),
    }


FIXED = {
    "vault_ref": "vault:secret/data/billing#stripe_key",
    "aws_sm_ref": "{{resolve:secretsmanager:prod/db:SecretString:password}}",
    "tf_var": "var.github_token",
    "k8s_ref": "valueFrom",
    "dollar_brace": "${STRIPE_SECRET_KEY}",
    "getenv": 'os.getenv("OPENAI_API_KEY")',
    "process_env": "process.env.DISCORD_TOKEN",
    "redacted": "********",
    "todo": "TODO-set-me",
    "dummy_sk": "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx",
    "placeholder_ghp": "ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
    "example_pw": "password",
    "jinja": "{{ db_password }}",
    "jwt_io": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
}

TEMPLATES_C = [
    ("home/.aws/credentials", """[default]
aws_access_key_id = @@I:aws_id@@
aws_secret_access_key = @@P:aws_secret@@

[ci]
aws_access_key_id = @@I:aws_id@@
aws_secret_access_key = @@P:aws_secret@@
aws_session_token = @@P:aws_session@@
region = us-east-2
"""),
    ("home/.docker/config.json", """{
  "auths": {
    "registry.acme.io": {
      "auth": "@@P:b64_userpass@@"
    },
    "https://index.docker.io/v1/": {}
  },
  "credsStore": "desktop"
}
"""),
    ("home/.npmrc", """registry=https://registry.npmjs.org/
//registry.npmjs.org/:_authToken=@@P:npm@@
@acme:registry=https://npm.pkg.github.com
//npm.pkg.github.com/:_authToken=${GITHUB_TOKEN}
"""),
    ("home/.pypirc", """[distutils]
index-servers =
    pypi

[pypi]
username = __token__
password = @@P:pypi@@
"""),
    ("home/.cargo/credentials.toml", """[registry]
token = "@@P:crates@@"
"""),
    ("home/.gem/credentials", """---
:rubygems_api_key: @@P:rubygems@@
"""),
    ("home/.kube/config", """apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: @@D:b64_userpass@@
    server: https://10.20.0.1:6443
  name: prod
users:
- name: admin
  user:
    client-certificate-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUM=
    client-key-data: @@P:kube_key_data@@
- name: ci
  user:
    token: @@P:jwt_service_role@@
contexts:
- context: {cluster: prod, user: admin}
  name: prod
current-context: prod
"""),
    ("infra/gcp/terraform-sa.json", """{
  "type": "service_account",
  "project_id": "acme-prod-31337",
  "private_key_id": "@@I:hex40@@",
  "private_key": "@@P:gcp_sa_key@@",
  "client_email": "terraform@acme-prod-31337.iam.gserviceaccount.com",
  "client_id": "104729384756102938475",
  "auth_uri": "https://accounts.google.com/o/oauth2/auth",
  "token_uri": "https://oauth2.googleapis.com/token"
}
"""),
    ("infra/main.tf", """terraform {
  cloud {
    organization = "acme"
  }
}

provider "aws" {
  region     = "eu-central-1"
  access_key = "@@I:aws_id@@"
  secret_key = "@@P:aws_secret@@"
}

provider "github" {
  owner = "acme"
  token = "@@P:gh_fine@@"
}

provider "digitalocean" {
  token = "@@P:do_pat@@"
}

provider "datadog" {
  api_key = var.datadog_api_key
  app_key = "@@P:hex40@@"
}

variable "github_token" {
  default = @@D:tf_var@@
}
"""),
    ("infra/.terraformrc", """credentials "app.terraform.io" {
  token = "@@P:tfc@@"
}
"""),
    ("deploy/id_ed25519", """@@P:openssh_key@@
"""),
    ("deploy/id_ed25519.pub", """@@D:ssh_pub@@
"""),
    ("deploy/tls/server.key", """@@P:rsa_key@@
"""),
    ("deploy/tls/server.crt", """@@D:certificate@@
"""),
    ("deploy/tls/jwt-signing.pem", """@@P:pkcs8_key@@
"""),
    ("deploy/tls/jwt-verify.pem", """@@D:public_key@@
"""),
    ("deploy/tls/ecdsa.key", """@@P:ec_key@@
"""),
    ("deploy/age/keys.txt", """# created: 2026-03-01T10:00:00Z
# public key: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p
@@P:age@@
"""),
    (".github/workflows/release.yml", """name: release
on:
  push:
    tags: ["v*"]
jobs:
  publish:
    runs-on: ubuntu-latest
    env:
      SLACK_BOT_TOKEN: @@P:slack_bot@@
      NPM_TOKEN: ${{ secrets.NPM_TOKEN }}
      DOCKERHUB_TOKEN: @@P:dockerhub@@
      SONAR_TOKEN: @@P:sonar@@
    steps:
      - uses: actions/checkout@v4
      - run: npm publish
      - run: |
          curl -X POST -H 'Content-type: application/json' \\
            --data '{"text":"released"}' @@P:slack_webhook@@
"""),
    (".buildkite/pipeline.yml", """env:
  BUILDKITE_API_TOKEN: "@@P:buildkite@@"
  CIRCLE_TOKEN: "@@P:circleci@@"
steps:
  - command: make release
"""),
    ("services/billing/settings.py", """import os

DEBUG = False
SECRET_KEY = "@@P:django@@"
STRIPE_API_KEY = "@@P:stripe_rk@@"
STRIPE_WEBHOOK_SECRET = "@@P:stripe_whsec@@"
STRIPE_PUBLISHABLE_KEY = "@@D:stripe_pk@@"
BRAINTREE_ACCESS_TOKEN = "@@P:braintree@@"
MOLLIE_API_KEY = "@@P:mollie@@"
OPENAI_API_KEY = @@D:getenv@@
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "billing",
        "USER": "billing",
        "PASSWORD": "@@P:password@@",
        "HOST": "pg.internal",
    }
}
"""),
    ("services/billing/clients.py", """import anthropic
import boto3
import openai
import stripe

stripe.api_key = "@@P:stripe@@"
openai.api_key = "@@P:openai@@"
claude = anthropic.Anthropic(api_key="@@P:anthropic@@")
s3 = boto3.client(
    "s3",
    aws_access_key_id="@@I:aws_id@@",
    aws_secret_access_key="@@P:aws_secret@@",
)
hf_token = "@@P:hf@@"
"""),
    ("services/bot/index.js", """const { Client, GatewayIntentBits } = require('discord.js');
const TelegramBot = require('node-telegram-bot-api');

const client = new Client({ intents: [GatewayIntentBits.Guilds] });
client.login('@@P:discord_bot@@');
const tg = new TelegramBot('@@P:telegram@@', { polling: true });
const hook = '@@P:discord_webhook@@';
const fallbackToken = @@D:process_env@@;
const mapboxgl = require('mapbox-gl');
mapboxgl.accessToken = '@@D:mapbox_pk@@';
"""),
    ("services/bot/config/default.json", """{
  "groq": { "apiKey": "@@P:groq@@" },
  "openrouter": { "apiKey": "@@P:openrouter@@" },
  "langsmith": { "apiKey": "@@P:langsmith@@" },
  "recaptcha": { "siteKey": "@@D:recaptcha_site@@" },
  "maps": { "googleApiKey": "@@P:google_api@@" },
  "mapbox": { "downloadsToken": "@@P:mapbox_sk@@" },
  "twitter": { "bearerToken": "@@P:twitter_bearer@@" },
  "stripeKey": "@@D:dollar_brace@@"
}
"""),
    ("services/shop/wp-config.php", """<?php
define( 'DB_NAME', 'shop' );
define( 'DB_USER', 'shop' );
define( 'DB_PASSWORD', '@@P:password@@' );
define( 'DB_HOST', 'mysql.internal' );
define( 'AUTH_KEY',         '@@P:django@@' );
define( 'SECURE_AUTH_KEY',  '@@P:django@@' );
$table_prefix = 'wp_';
"""),
    ("services/shop/src/Woo.php", """<?php
use Automattic\\WooCommerce\\Client;

$woocommerce = new Client(
    'https://shop.acme.io',
    '@@I:woo_ck@@',
    '@@P:woo_cs@@',
    ['version' => 'wc/v3']
);
$mailchimp = new \\MailchimpMarketing\\ApiClient();
$mailchimp->setConfig(['apiKey' => '@@P:mailchimp@@', 'server' => 'us6']);
"""),
    ("services/shop/.env", """APP_NAME=Shop
APP_ENV=production
APP_KEY=@@P:laravel_key@@
DB_CONNECTION=mysql
DB_PASSWORD=@@P:password@@
BREVO_API_KEY=@@P:brevo@@
SHOPIFY_ACCESS_TOKEN=@@P:shopify@@
FLW_SECRET_KEY=@@P:flutterwave@@
RAZORPAY_KEY_SECRET=@@P:razorpay_secret@@
MAIL_PASSWORD=@@D:redacted@@
"""),
    ("services/api/src/main/java/com/acme/api/Secrets.java", """package com.acme.api;

public final class Secrets {
    private Secrets() {}

    public static final String SQUARE_ACCESS_TOKEN = "@@P:square@@";
    public static final String DYNATRACE_TOKEN = "@@P:dynatrace@@";
    public static final String ALIBABA_ACCESS_KEY_ID = "@@I:alibaba_id@@";
    public static final String ALIBABA_ACCESS_KEY_SECRET = "@@P:b62_32@@";
    public static final String FCM_SERVER_KEY = "@@P:fcm@@";
    public static final String BUILD_SHA = "@@D:sha1@@";
}
"""),
    ("services/api/src/main/resources/application.properties", """spring.datasource.url=jdbc:mysql://db.internal:3306/api?useSSL=true
spring.datasource.username=api
spring.datasource.password=@@P:password@@
newrelic.license_key=@@P:newrelic_license@@
okta.client.token=@@P:okta@@
azure.activedirectory.client-secret=@@P:azure_client_secret@@
spring.mail.password=@@D:jinja@@
"""),
    ("services/api/pom-settings.xml", """<settings>
  <servers>
    <server>
      <id>acme-releases</id>
      <username>deployer</username>
      <password>@@P:password@@</password>
    </server>
  </servers>
</settings>
"""),
    ("services/gateway/main.go", """package main

import (
	"github.com/sendgrid/sendgrid-go"
	"github.com/slack-go/slack"
)

const databricksToken = "@@P:databricks@@"

func clients() {
	mail := sendgrid.NewSendClient("@@P:sendgrid@@")
	chat := slack.New("@@P:slack_user@@", slack.OptionAppLevelToken("@@P:slack_app@@"))
	_, _ = mail, chat
}
"""),
    ("services/gateway/go.sum", """github.com/sendgrid/rest v2.6.9+incompatible h1:@@D:sri@@
github.com/slack-go/slack v0.12.3 h1:@@D:sri@@
"""),
    ("services/web/package-lock.json", """{
  "name": "web",
  "lockfileVersion": 3,
  "packages": {
    "node_modules/axios": {
      "version": "1.6.8",
      "resolved": "https://registry.npmjs.org/axios/-/axios-1.6.8.tgz",
      "integrity": "@@D:sri@@"
    }
  }
}
"""),
    ("services/web/lib/integrations.ts", """export const integrations = {
  linear: new LinearClient({ apiKey: '@@P:linear@@' }),
  notion: new Client({ auth: '@@P:notion@@' }),
  hubspot: new hubspot.Client({ accessToken: '@@P:hubspot@@' }),
  airtable: new Airtable({ apiKey: '@@P:airtable@@' }),
  figma: { token: '@@P:figma@@' },
};
export const stripeKey = '@@D:dummy_sk@@';
export const githubToken = '@@D:placeholder_ghp@@';
"""),
    ("services/web/app.rb", """require 'stripe'
Stripe.api_key = '@@P:stripe@@'
Rails.application.configure do
  config.action_mailer.smtp_settings = {
    address: 'smtp.sendgrid.net',
    user_name: 'apikey',
    password: '@@P:sendgrid@@'
  }
end
"""),
    ("notebooks/analysis.ipynb", """{
 "cells": [
  {
   "cell_type": "code",
   "execution_count": 1,
   "metadata": {},
   "outputs": [],
   "source": [
    "import os\\n",
    "os.environ[\\"OPENAI_API_KEY\\"] = \\"@@P:openai@@\\"\\n",
    "HF_TOKEN = \\"@@P:hf@@\\"\\n"
   ]
  }
 ],
 "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
 "nbformat": 4,
 "nbformat_minor": 5
}
"""),
    ("scripts/deploy.sh", """#!/usr/bin/env bash
set -euo pipefail
export PULUMI_ACCESS_TOKEN=@@P:pulumi@@
export DOPPLER_TOKEN=@@P:doppler@@
export VAULT_TOKEN=@@P:vault@@
export TS_AUTHKEY=@@P:tailscale@@
curl -u admin:@@P:password@@ https://jenkins.acme.io/job/deploy/build
curl -H "Authorization: Bearer $API_TOKEN" https://api.acme.io/v1/deploy
git -c http.extraheader="AUTHORIZATION: basic @@P:b64_userpass@@" fetch origin
"""),
    ("scripts/ops.ps1", """$env:HEROKU_API_KEY = "@@P:heroku_new@@"
$env:RENDER_API_KEY = "@@P:render@@"
$env:NEON_API_KEY = "@@P:neon@@"
$Password = ConvertTo-SecureString "@@P:password@@" -AsPlainText -Force
"""),
    ("k8s/monitoring/values.yaml", """grafana:
  adminPassword: @@P:password@@
  serviceAccountToken: @@P:grafana_sa@@
postgresql:
  auth:
    postgresPassword: @@D:jinja@@
    existingSecret: pg-auth
newrelic:
  licenseKey: @@P:newrelic_license@@
  userApiKey: @@P:newrelic_user@@
atlassian:
  apiToken: @@P:atlassian@@
replicate:
  apiToken: @@P:replicate@@
cloudformation:
  dbPassword: "@@D:aws_sm_ref@@"
billing:
  stripeKey: @@D:vault_ref@@
"""),
    ("k8s/apps/postman-sync.yaml", """apiVersion: apps/v1
kind: Deployment
metadata:
  name: postman-sync
spec:
  template:
    spec:
      containers:
        - name: sync
          image: acme/postman-sync:2.1
          env:
            - name: POSTMAN_API_KEY
              value: @@P:postman@@
            - name: PLANETSCALE_TOKEN
              value: "@@P:pscale@@"
            - name: GITHUB_APP_TOKEN
              value: "@@P:gh_app@@"
            - name: DB_PASSWORD
              valueFrom:
                secretKeyRef: {name: db, key: password}
            - name: GIT_COMMIT
              value: "@@D:sha1@@"
"""),
    ("docs/contributing.md", """# Contributing

Create a token at https://github.com/settings/tokens and export it:

    export GITHUB_TOKEN=@@D:placeholder_ghp@@

Local development uses the test database with user `dev` and password `@@D:example_pw@@`.
Set `SECRET_KEY` to @@D:todo@@ before the first run.
"""),
    ("ansible/group_vars/all/vault.yml", """$ANSIBLE_VAULT;1.1;AES256
@@D:vault_hex@@
@@D:vault_hex@@
@@D:vault_hex@@
"""),
    ("Cargo.lock", """[[package]]
name = "ring"
version = "0.17.8"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "@@D:sha256@@"
"""),
    ("poetry.lock", """[[package]]
name = "requests"
version = "2.32.3"
files = [
    {file = "requests-2.32.3-py3-none-any.whl", hash = "sha256:@@D:sha256@@"},
]
"""),
    ("web/static/app.css", """.logo { background: url("data:image/png;base64,@@D:png_b64@@"); }
"""),
    ("web/src/auth.test.ts", """// The token from jwt.io's debugger: a documented example, not a credential.
const sample = '@@D:jwt_io@@';
const apiKey = 'test';
const password = '@@D:example_pw@@';
expect(mask('@@D:dummy_sk@@')).toBe('sk_live_****');
"""),
    ("k8s/base/secret-template.yaml", """apiVersion: v1
kind: Secret
metadata:
  name: app
type: Opaque
stringData:
  DATABASE_PASSWORD: "@@D:jinja@@"
  STRIPE_KEY: @@D:dollar_brace@@
  API_TOKEN: "@@D:redacted@@"
"""),
    ("docs/api.md", """Authenticate with your key in the header:

    curl -H "Authorization: Bearer @@D:angle@@" https://api.acme.io/v1/me

The response carries a request id such as `@@D:uuid@@` and an ETag like `"@@D:sha1@@"`.
"""),
]
