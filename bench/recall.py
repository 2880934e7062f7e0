#!/usr/bin/env python3
"""Recall and precision of `keytrace scan` on configuration files as real projects write them.

    python3 bench/recall.py [--keytrace target/release/keytrace] [--out DIR] [--seed 18]
                            [--set a|b|c|d|e|f] [--show-misses] [--peers DIR]

Writes a small tree of realistic files (docker-compose env, Spring application.yml and
.properties, .env, terraform.tfvars and .tf, Django settings.py, appsettings.json,
GitHub workflow env, Kubernetes Secret stringData and Deployment env lists, Laravel
config, Rails credentials, .netrc, Node/Go/Java/C#/Ruby sources) with synthetic values
of the providers keytrace covers planted in them (`@@P:kind@@` in the templates below),
identifiers that only name a secret (`@@I:kind@@`, neither counted nor held against a
tool) and decoys that must not be reported (`@@D:kind@@`: placeholders, references,
wrong-checksum tokens, documented example keys, public-by-design client keys, hashes
and UUIDs under secret-sounding names). Then runs the scan and prints found/planted,
the false alarms and precision. A finding counts when its path and line are a planted
value's. Every value comes from a seeded generator; none is, or was, a live key.
"""
import argparse
import base64
import json
import os
import random
import re
import shutil
import string
import subprocess
import sys
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
from synthetic import B62, crc_b62  # noqa: E402  (the fixtures' GitHub/npm checksum)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import recall_c  # noqa: E402  (set C: its templates and the value kinds only it uses)
import recall_d  # noqa: E402  (set D, likewise)
import recall_e  # noqa: E402  (set E, likewise)
import recall_f  # noqa: E402  (set F: its templates only)

HEX = "0123456789abcdef"
B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
URLSAFE = string.ascii_letters + string.digits + "-_"
DJANGO = string.ascii_lowercase + string.digits + "!@#%^&*(-_=+)"


class Values:
    """One generator per kind of value; `planted(kind)` and `decoy(kind)` return text."""

    def __init__(self, seed):
        self.rnd = random.Random(seed)
        # Every kind's generator (set C's own kinds too), made once.
        self.table = {**self.kinds(), **recall_c.kinds(self), **recall_d.kinds(self), **recall_e.kinds(self)}

    def c(self, alphabet, n):
        return "".join(self.rnd.choice(alphabet) for _ in range(n))

    def uuid4(self):
        return str(uuid.UUID(int=self.rnd.getrandbits(128), version=4))

    def b64_bytes(self, n):
        return base64.b64encode(bytes(self.rnd.getrandbits(8) for _ in range(n))).decode()

    def password(self):
        return self.c(string.ascii_letters, 5) + self.rnd.choice("!+-_") + self.c(string.digits, 2) + self.c(B62, 3) + self.c(string.ascii_letters, 3)

    def value(self, kind):
        return self.table[kind]()

    def kinds(self):
        r = self
        return {
            "aws_id": lambda: "AKIA" + r.c(B32, 16),
            "aws_secret": lambda: r.c(string.ascii_letters + string.digits + "+/", 40),
            "github": lambda: (lambda x: "ghp_" + x + crc_b62(x))(r.c(B62, 30)),
            "npm": lambda: (lambda x: "npm_" + x + crc_b62(x))(r.c(B62, 30)),
            "gitlab": lambda: "glpat-" + r.c(URLSAFE, 20),
            "slack_bot": lambda: "xoxb-%s-%s-%s" % (r.c(string.digits, 12), r.c(string.digits, 13), r.c(B62, 24)),
            "slack_webhook": lambda: "https://hooks.slack.com/services/T%s/B%s/%s" % (r.c(B32, 8), r.c(B32, 10), r.c(B62, 24)),
            "stripe": lambda: "sk_live_" + r.c(B62, r.rnd.choice([24, 99])),
            "sendgrid": lambda: "SG." + r.c(URLSAFE, 22) + "." + r.c(URLSAFE, 43),
            "openai": lambda: "sk-proj-" + r.c(URLSAFE, 74) + "T3BlbkFJ" + r.c(URLSAFE, 74),
            "hex20": lambda: r.c(HEX, 20),
            "hex32": lambda: r.c(HEX, 32),
            "hex40": lambda: r.c(HEX, 40),
            "hex64": lambda: r.c(HEX, 64),
            "b62_32": lambda: r.c(B62, 32),
            "mailgun": lambda: "key-" + r.c(HEX, 32),
            "twilio_ac": lambda: "AC" + r.c(HEX, 32),
            "twilio_sk": lambda: "SK" + r.c(HEX, 32),
            "okta": lambda: "00" + r.c(URLSAFE, 40),
            "azure_key": lambda: r.b64_bytes(64),
            "uuid": lambda: r.uuid4(),
            "password": lambda: r.password(),
            "django": lambda: r.c(DJANGO, 50),
            "jwt_secret": lambda: r.c(B62, 48),
            "sentry_user": lambda: "sntryu_" + r.c(HEX, 64),
            "dd_rum": lambda: "pub" + r.c(HEX, 32),
            "stripe_pk": lambda: "pk_live_" + r.c(B62, 24),
            "github_bad": lambda: (lambda x: "ghp_" + x + "a" + crc_b62(x)[1:] if crc_b62(x)[0] != "a" else "ghp_" + x + "b" + crc_b62(x)[1:])(r.c(B62, 30)),
            "sha256": lambda: r.c(HEX, 64),
            "sha1": lambda: r.c(HEX, 40),
        }


# A decoy kind is either a generator above or one fixed text.
FIXED_DECOYS = {
    "aws_doc_id": "AKIAIOSFODNN7EXAMPLE",
    "aws_doc_secret": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "gh_secret_ref": "${{ secrets.DEPLOY_TOKEN }}",
    "env_ref": "${DATABASE_PASSWORD}",
    "angle": "<your-api-key>",
    "xxxx": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "changeme": "changeme",
    "helm_ref": "{{ .Values.secrets.apiKey }}",
    "empty": "",
    "stripe_doc": "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
    "sops": "ENC[AES256_GCM,data:Zm9vYmFyYmF6cXV4,iv:q0s9YXNkZmFzZGZhc2Rm,tag:YWJjZGVmZ2hpamts,type:str]",
    "azurite": "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
    "your_token": "your_token_here",
}

# (path, template). Markers: @@P:kind@@ planted secret, @@I:kind@@ identifier,
# @@D:kind@@ decoy. Several markers may share a line (the line counts once).
TEMPLATES = [
    ("shop/docker-compose.yml", """version: "3.8"
services:
  web:
    build: .
    ports:
      - "8000:8000"
    environment:
      - DJANGO_SETTINGS_MODULE=shop.settings.prod
      - DATABASE_URL=postgres://shop:@@P:password@@@db:5432/shop
      - STRIPE_SECRET_KEY=@@P:stripe@@
      - STRIPE_PUBLISHABLE_KEY=@@D:stripe_pk@@
      - MAILGUN_API_KEY=@@P:mailgun@@
      - MAILGUN_DOMAIN=mg.shop-mail.net
      - SENTRY_DSN=https://@@D:hex32@@@o450123.ingest.sentry.io/5512345
      - REDIS_URL=redis://cache:6379/0
  worker:
    image: shop/worker:1.4
    environment:
      DATADOG_API_KEY: "@@P:hex32@@"
      DD_SITE: datadoghq.eu
      CELERY_BROKER_URL: redis://cache:6379/1
  db:
    image: postgres:15
    environment:
      POSTGRES_USER: shop
      POSTGRES_PASSWORD: @@D:changeme@@
"""),
    ("shop/.env.example", """# Copy to .env and fill in
DATABASE_URL=postgres://shop:@@D:env_ref@@@localhost:5432/shop
STRIPE_SECRET_KEY=@@D:angle@@
MAILGUN_API_KEY=key-@@D:xxxx@@
TWILIO_AUTH_TOKEN=@@D:your_token@@
AWS_ACCESS_KEY_ID=@@D:aws_doc_id@@
AWS_SECRET_ACCESS_KEY=@@D:aws_doc_secret@@
"""),
    ("shop/.env", """APP_ENV=production
APP_DEBUG=false
DB_HOST=db.internal
DB_PASSWORD=@@P:password@@
AWS_ACCESS_KEY_ID=@@I:aws_id@@
AWS_SECRET_ACCESS_KEY=@@P:aws_secret@@
AWS_DEFAULT_REGION=eu-west-1
TWILIO_ACCOUNT_SID=@@I:twilio_ac@@
TWILIO_AUTH_TOKEN=@@P:hex32@@
TWILIO_FROM=+15005550006
PUSHER_APP_ID=1583627
PUSHER_APP_KEY=@@D:hex20@@
PUSHER_APP_SECRET=@@P:hex20@@
PUSHER_APP_CLUSTER=eu
ALGOLIA_APP_ID=HX7QW2LM9T
ALGOLIA_SECRET=@@P:hex32@@
REQUEST_ID=@@D:uuid@@
"""),
    ("payments/src/main/resources/application.yml", """spring:
  application:
    name: payments
  datasource:
    url: jdbc:postgresql://pg.internal:5432/payments
    username: payments
    password: @@P:password@@
  mail:
    host: smtp.mailgun.org
    port: 587
    username: postmaster@mg.pay-mail.net
    password: @@D:env_ref@@

mailgun:
  domain: mg.pay-mail.net
  api-key: @@P:mailgun@@

twilio:
  account-sid: @@I:twilio_ac@@
  auth-token: @@P:hex32@@

okta:
  oauth2:
    issuer: https://acme.okta.com/oauth2/default
    client-id: 0oa@@D:hex20@@
  client:
    org-url: https://acme.okta.com
    token: @@P:okta@@

management:
  endpoints:
    web:
      exposure:
        include: health,info
"""),
    ("payments/src/main/resources/application-prod.properties", """server.port=8443
spring.datasource.url=jdbc:postgresql://pg-prod.internal:5432/payments
spring.datasource.password=@@P:password@@
datadog.api.key=@@P:hex32@@
datadog.app.key=@@P:hex40@@
sentry.dsn=https://@@D:hex32@@@o450123.ingest.sentry.io/5512346
sentry.auth-token=@@P:sentry_user@@
build.commit=@@D:sha1@@
"""),
    ("payments/src/main/java/com/acme/sms/SmsConfig.java", """package com.acme.sms;

import com.twilio.Twilio;

public final class SmsConfig {
    public static final String ACCOUNT_SID = "@@I:twilio_ac@@";
    public static final String AUTH_TOKEN = "@@P:hex32@@";
    public static final String API_KEY_SID = "@@I:twilio_sk@@";
    public static final String API_KEY_SECRET = "@@P:b62_32@@";

    private SmsConfig() {}

    public static void init() {
        Twilio.init(API_KEY_SID, API_KEY_SECRET, ACCOUNT_SID);
    }
}
"""),
    ("infra/terraform.tfvars", """region              = "eu-west-1"
environment         = "prod"
datadog_api_key     = "@@P:hex32@@"
datadog_app_key     = "@@P:hex40@@"
okta_api_token      = "@@P:okta@@"
db_password         = "@@P:password@@"
github_token        = "@@P:github@@"
heroku_api_key      = "@@P:uuid@@"
vpc_id              = "vpc-0a1b2c3d4e5f60718"
"""),
    ("infra/main.tf", """terraform {
  backend "azurerm" {
    resource_group_name  = "tfstate"
    storage_account_name = "acmetfstate"
    container_name       = "tfstate"
    key                  = "prod.terraform.tfstate"
    access_key           = "@@P:azure_key@@"
  }
}

provider "datadog" {
  api_key = var.datadog_api_key
  app_key = var.datadog_app_key
}

provider "okta" {
  org_name  = "acme"
  base_url  = "okta.com"
  api_token = var.okta_api_token
}

resource "aws_iam_access_key" "ci" {
  user = aws_iam_user.ci.name
}
"""),
    ("blog/blog/settings.py", """import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = '@@P:django@@'

DEBUG = False
ALLOWED_HOSTS = ["blog.acme.io"]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "blog",
        "USER": "blog",
        "PASSWORD": "@@P:password@@",
        "HOST": "pg.internal",
    }
}

EMAIL_BACKEND = "anymail.backends.mailgun.EmailBackend"
ANYMAIL = {
    "MAILGUN_API_KEY": "@@P:mailgun@@",
    "MAILGUN_SENDER_DOMAIN": "mg.blog-mail.net",
}

AWS_ACCESS_KEY_ID = "@@I:aws_id@@"
AWS_SECRET_ACCESS_KEY = "@@P:aws_secret@@"
AWS_STORAGE_BUCKET_NAME = "acme-blog-media"

SENTRY_DSN = os.environ.get("SENTRY_DSN")
ALGOLIA = {
    "APPLICATION_ID": "HX7QW2LM9T",
    "API_KEY": os.environ["ALGOLIA_API_KEY"],
}
"""),
    ("blog/blog/settings_test.py", """from .settings import *  # noqa

SECRET_KEY = "@@D:changeme@@"
DATABASES["default"]["PASSWORD"] = "@@D:empty@@"
STRIPE_SECRET_KEY = "@@D:stripe_doc@@"
"""),
    ("api/appsettings.json", """{
  "Logging": {
    "LogLevel": {
      "Default": "Information"
    }
  },
  "ConnectionStrings": {
    "Default": "Server=sql.internal;Database=api;User Id=api;Password=@@P:password@@;",
    "Storage": "DefaultEndpointsProtocol=https;AccountName=acmeapi;AccountKey=@@P:azure_key@@;EndpointSuffix=core.windows.net"
  },
  "Storage": {
    "AccountName": "acmeapi",
    "AccountKey": "@@P:azure_key@@"
  },
  "SendGrid": {
    "ApiKey": "@@P:sendgrid@@"
  },
  "Okta": {
    "OktaDomain": "https://acme.okta.com",
    "ApiToken": "@@P:okta@@"
  },
  "Twilio": {
    "AccountSid": "@@I:twilio_ac@@",
    "AuthToken": "@@P:hex32@@"
  },
  "AllowedHosts": "*"
}
"""),
    ("api/appsettings.Development.json", """{
  "ConnectionStrings": {
    "Storage": "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=@@D:azurite@@;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"
  },
  "SendGrid": {
    "ApiKey": "@@D:angle@@"
  }
}
"""),
    (".github/workflows/deploy.yml", """name: deploy
on:
  push:
    branches: [main]
jobs:
  deploy:
    runs-on: ubuntu-latest
    env:
      DD_API_KEY: @@P:hex32@@
      SENTRY_AUTH_TOKEN: @@D:gh_secret_ref@@
      NPM_TOKEN: @@P:npm@@
      GITHUB_TOKEN: @@D:gh_secret_ref@@
    steps:
      - uses: actions/checkout@v4
      - uses: akhileshns/heroku-deploy@v3.13.15
        with:
          heroku_api_key: @@P:uuid@@
          heroku_app_name: acme-api
          heroku_email: ops@acme.io
      - name: Notify
        run: curl -X POST -d '{"text":"deployed"}' @@P:slack_webhook@@
      - name: Upload
        run: az storage blob upload-batch -d web --account-name acmeweb --account-key "@@P:azure_key@@" -s dist
"""),
    ("k8s/secret.yaml", """apiVersion: v1
kind: Secret
metadata:
  name: api-secrets
  namespace: prod
type: Opaque
stringData:
  DATABASE_PASSWORD: "@@P:password@@"
  OPENAI_API_KEY: "@@P:openai@@"
  SLACK_BOT_TOKEN: "@@P:slack_bot@@"
  MAILGUN_API_KEY: "@@P:mailgun@@"
  ALGOLIA_ADMIN_API_KEY: "@@P:hex32@@"
  SESSION_SECRET: "@@D:helm_ref@@"
"""),
    ("k8s/deployment.yaml", """apiVersion: apps/v1
kind: Deployment
metadata:
  name: datadog-agent
spec:
  template:
    spec:
      containers:
        - name: agent
          image: gcr.io/datadoghq/agent:7
          env:
            - name: DD_API_KEY
              value: "@@P:hex32@@"
            - name: DD_APP_KEY
              valueFrom:
                secretKeyRef:
                  name: datadog
                  key: app-key
            - name: DD_SITE
              value: datadoghq.eu
            - name: OKTA_API_TOKEN
              value: @@P:okta@@
            - name: PUSHER_APP_SECRET
              value: "@@P:hex20@@"
            - name: CONFIG_CHECKSUM
              value: "@@D:sha256@@"
"""),
    ("laravel/config/services.php", """<?php

return [
    'mailgun' => [
        'domain' => env('MAILGUN_DOMAIN'),
        'secret' => '@@P:mailgun@@',
        'endpoint' => env('MAILGUN_ENDPOINT', 'api.eu.mailgun.net'),
    ],

    'postmark' => [
        'token' => env('POSTMARK_TOKEN'),
    ],
];
"""),
    ("laravel/config/broadcasting.php", """<?php

return [
    'connections' => [
        'pusher' => [
            'driver' => 'pusher',
            'key' => '@@D:hex20@@',
            'secret' => '@@P:hex20@@',
            'app_id' => '1583627',
            'options' => [
                'cluster' => 'eu',
                'useTLS' => true,
            ],
        ],
    ],
];
"""),
    ("rails/config/initializers/mailgun.rb", """Rails.application.configure do
  config.action_mailer.delivery_method = :mailgun
  config.action_mailer.mailgun_settings = {
    api_key: '@@P:mailgun@@',
    domain: 'mg.rails-mail.net',
  }
end

Pusher.app_id = '1583627'
Pusher.key = '@@D:hex20@@'
Pusher.secret = '@@P:hex20@@'
"""),
    ("web/src/config.ts", """export const config = {
  sentryDsn: "https://@@D:hex32@@@o450123.ingest.sentry.io/5512347",
  stripeKey: "@@D:stripe_pk@@",
  datadogClientToken: "@@D:dd_rum@@",
  algolia: {
    appId: "HX7QW2LM9T",
    apiKey: "@@D:hex32@@",
    indexName: "products",
  },
  pusherKey: "@@D:hex20@@",
  apiBase: "https://api.acme.io",
};
"""),
    ("web/scripts/index-products.js", """const algoliasearch = require('algoliasearch');

const ALGOLIA_APP_ID = 'HX7QW2LM9T';
const ALGOLIA_ADMIN_KEY = '@@P:hex32@@';

const client = algoliasearch(ALGOLIA_APP_ID, ALGOLIA_ADMIN_KEY);
"""),
    ("auth/jwt.go", """package auth

import (
	"os"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var jwtKey = []byte("@@P:jwt_secret@@")
var refreshKey = []byte(os.Getenv("JWT_REFRESH_KEY"))

const sentryDSN = "https://@@D:hex32@@@o450123.ingest.sentry.io/5512348"

func Issue(sub string) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": sub, "exp": time.Now().Add(time.Hour).Unix()})
	return t.SignedString(jwtKey)
}
"""),
    ("notify/Program.cs", """using Twilio;
using Twilio.Rest.Api.V2010.Account;

class Program
{
    static void Main()
    {
        const string accountSid = "@@I:twilio_ac@@";
        const string authToken = "@@P:hex32@@";
        TwilioClient.Init(accountSid, authToken);
    }
}
"""),
    ("notify/send_sms.py", """import os
from twilio.rest import Client

account_sid = "@@I:twilio_ac@@"
api_key = "@@I:twilio_sk@@"
api_secret = "@@P:b62_32@@"
client = Client(api_key, api_secret, account_sid)

okta_token = os.environ["OKTA_API_TOKEN"]
"""),
    ("ops/.netrc", """machine api.heroku.com
  login ops@acme.io
  password @@P:uuid@@
machine git.acme.io
  login deploy
  password @@P:password@@
machine ftp.acme.io login mirror password @@D:changeme@@
default login anonymous password @@P:password@@
"""),
    ("ops/sentry.properties", """defaults.url=https://sentry.io/
defaults.org=acme
defaults.project=android
auth.token=@@P:hex64@@
"""),
    ("ops/sops-secrets.yaml", """datadog:
    api_key: @@D:sops@@
sops:
    version: 3.8.1
"""),
    ("docs/setup.md", """# Setup

Export your keys before running the scripts:

```sh
export GITHUB_TOKEN=@@D:github_bad@@
export MAILGUN_API_KEY=key-@@D:xxxx@@
export DD_API_KEY=<your-datadog-api-key>
```

The AWS docs use `@@D:aws_doc_id@@` as an example key id.
"""),
]

# Set B, written after the rule changes and scanned before any further tuning: other
# formats and spellings of the same providers, so that set A's figures are not the
# only evidence.
TEMPLATES_B = [
    ("helm/values.yaml", """replicaCount: 2
image:
  repository: acme/api
  tag: "1.9.0"
datadog:
  apiKey: @@P:hex32@@
  appKey: @@P:hex40@@
  site: datadoghq.com
mailgun:
  domain: mg.helm-mail.net
  apiKey: "@@P:mailgun@@"
sentry:
  dsn: https://@@D:hex32@@@o77.ingest.sentry.io/42
okta:
  issuer: https://acme.okta.com/oauth2/default
  apiToken: @@P:okta@@
existingSecret: api-secrets
"""),
    ("ansible/group_vars/prod.yml", """---
app_user: deploy
postgres_password: "@@P:password@@"
twilio_account_sid: "@@I:twilio_ac@@"
twilio_auth_token: "@@P:hex32@@"
pusher_app_secret: "@@P:hex20@@"
algolia_admin_api_key: "@@P:hex32@@"
vault_db_password: "{{ vault_postgres_password }}"
"""),
    ("serverless.yml", """service: notifier
provider:
  name: aws
  runtime: nodejs20.x
  environment:
    SENDGRID_API_KEY: @@P:sendgrid@@
    SLACK_WEBHOOK_URL: @@P:slack_webhook@@
    TWILIO_AUTH_TOKEN: ${ssm:/notifier/twilio-auth-token}
functions:
  notify:
    handler: handler.notify
"""),
    ("Dockerfile", """FROM python:3.12-slim
ENV PIP_NO_CACHE_DIR=1
ENV DD_API_KEY=@@P:hex32@@
ENV SENTRY_AUTH_TOKEN=@@P:hex64@@
COPY . /app
RUN pip install -r /app/requirements.txt
"""),
    (".gitlab-ci.yml", """variables:
  DOCKER_DRIVER: overlay2
  MAILGUN_API_KEY: "@@P:mailgun@@"
  OKTA_CLIENT_TOKEN: "@@P:okta@@"
  DEPLOY_TOKEN: $CI_DEPLOY_TOKEN
deploy:
  script:
    - az storage blob upload-batch -d '$web' -s public --account-name acmesite --account-key @@P:azure_key@@
"""),
    ("Jenkinsfile", """pipeline {
  agent any
  environment {
    ALGOLIA_APP_ID = 'HX7QW2LM9T'
    ALGOLIA_ADMIN_KEY = '@@P:hex32@@'
    HEROKU_API_KEY = credentials('heroku-api-key')
  }
  stages {
    stage('Index') { steps { sh 'npm run index' } }
  }
}
"""),
    ("config/config.ini", """[database]
host = db.internal
user = reports
password = @@P:password@@

[mailgun]
domain = mg.ini-mail.net
api_key = @@P:mailgun@@

[sentry]
dsn = https://@@D:hex32@@@sentry.acme.io/7
"""),
    ("src/main/resources/application.conf", """akka {
  loglevel = "INFO"
}
twilio {
  account-sid = "@@I:twilio_ac@@"
  auth-token = "@@P:hex32@@"
}
"""),
    ("gradle.properties", """org.gradle.jvmargs=-Xmx2g
sentry.auth.token=@@P:hex64@@
SENTRY_ORG=acme
"""),
    ("backend/config.go", """package backend

var Defaults = Config{
	DatadogAPIKey: "@@P:hex32@@",
	OktaAPIToken:  "@@P:okta@@",
	MailgunKey:    "@@P:mailgun@@",
	Region:        "eu-west-1",
}
"""),
    ("backend/storage.rs", """pub const STORAGE_ACCOUNT: &str = "acmeblobs";
pub const STORAGE_ACCOUNT_KEY: &str = "@@P:azure_key@@";
"""),
    ("mobile/app/src/main/java/com/acme/Keys.kt", """package com.acme

object Keys {
    const val TWILIO_ACCOUNT_SID = "@@I:twilio_ac@@"
    const val TWILIO_AUTH_TOKEN = "@@P:hex32@@"
    const val ALGOLIA_SEARCH_KEY = "@@D:hex32@@"
    const val STRIPE_PUBLISHABLE_KEY = "@@D:stripe_pk@@"
}
"""),
    ("web/.env.production", """NEXT_PUBLIC_SENTRY_DSN=https://@@D:hex32@@@o77.ingest.sentry.io/43
NEXT_PUBLIC_ALGOLIA_SEARCH_API_KEY=@@D:hex32@@
ALGOLIA_ADMIN_API_KEY=@@P:hex32@@
PUSHER_SECRET=@@P:hex20@@
NEXT_PUBLIC_PUSHER_KEY=@@D:hex20@@
OPENAI_API_KEY=@@P:openai@@
"""),
    ("web/server/mail.ts", """import formData from 'form-data';
import Mailgun from 'mailgun.js';

const mailgun = new Mailgun(formData);
const mg = mailgun.client({
  username: 'api',
  key: '@@P:mailgun@@',
  url: 'https://api.eu.mailgun.net',
});
"""),
    ("k8s/external.yaml", """apiVersion: v1
kind: Secret
metadata:
  name: integrations
type: Opaque
stringData:
  okta-api-token: @@P:okta@@
  azure-storage-key: @@P:azure_key@@
  pusher-secret: "@@P:hex20@@"
  sentry-dsn: https://@@D:hex32@@@o77.ingest.sentry.io/44
"""),
    ("ecs/task-definition.json", """{
  "family": "api",
  "containerDefinitions": [
    {
      "name": "api",
      "environment": [
        { "name": "MAILGUN_API_KEY", "value": "@@P:mailgun@@" },
        { "name": "DD_API_KEY", "value": "@@P:hex32@@" },
        { "name": "LOG_LEVEL", "value": "info" }
      ],
      "secrets": [
        { "name": "DB_PASSWORD", "valueFrom": "arn:aws:ssm:eu-west-1:123456789012:parameter/api/db" }
      ]
    }
  ]
}
"""),
    ("home/_netrc", """machine api.github.com login octo password @@P:github@@
machine gitlab.acme.io login deploy password @@P:gitlab@@
default login anonymous password @@D:changeme@@
"""),
    ("docs/configuration.md", """## Mailgun

```yaml
mailgun:
  api_key: key-@@D:xxxx@@
  domain: mg.example.com
```

Set `TWILIO_AUTH_TOKEN` to the token shown in the console, for example
`TWILIO_AUTH_TOKEN=<auth-token>`.
"""),
]

MARKER = re.compile(r"@@([PID]):([a-z0-9_]+)@@")


def generate(out, seed, templates=None):
    """Writes the tree; returns (planted, decoys, identifiers) as lists of (path, line, kind)."""
    templates = TEMPLATES if templates is None else templates
    values = Values(seed)
    fixed = {**FIXED_DECOYS, **recall_c.FIXED, **recall_d.FIXED, **recall_e.FIXED, **recall_f.FIXED}
    planted, decoys, identifiers = [], [], []
    if os.path.exists(out):
        shutil.rmtree(out)
    for path, template in templates:
        lines = []
        for n, line in enumerate(template.splitlines(), start=1):
            def sub(m):
                role, kind = m.group(1), m.group(2)
                if role == "P":
                    planted.append((path, n, kind))
                elif role == "D":
                    decoys.append((path, n, kind))
                else:
                    identifiers.append((path, n, kind))
                return fixed[kind] if role == "D" and kind in fixed else values.value(kind)
            lines.append(MARKER.sub(sub, line))
        full = os.path.join(out, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write("\n".join(lines) + "\n")
    return planted, decoys, identifiers


def scan(keytrace, out):
    proc = subprocess.run([keytrace, "scan", out, "--format", "json"], capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        sys.exit("keytrace failed (%d): %s" % (proc.returncode, proc.stderr))
    report = json.loads(proc.stdout)
    found = []
    for f in report["findings"]:
        # One finding per secret value: every place it was seen counts.
        for loc in f.get("locations") or [f["location"]]:
            found.append((loc["path"], int(loc["line"]), f["rule"]))
    return found


PEERS = {
    # name: (argv after the binary, how a finding names its place)
    "kingfisher": (["scan", "{out}", "--git-history", "none", "--no-validate", "--no-update-check", "-q", "-f", "json", "-o", "{report}"],
                   lambda f: (f["finding"]["path"], int(f["finding"]["line"]))),
    "betterleaks": (["fs", "{out}", "-s", "--no-color", "-l", "error", "--exit-code", "0", "-o", "{report}"],
                    lambda f: (f["location"]["path"], int(f["location"]["start_line"]))),
}


def scan_peer(name, binary, out):
    """A peer's findings as (path, line, rule) on the same tree (install-peers.sh's invocation)."""
    argv, place = PEERS[name]
    report = os.path.join(os.path.dirname(out.rstrip("/")), "recall-%s.json" % name)
    subprocess.run([binary] + [a.format(out=out, report=report) for a in argv], capture_output=True)
    with open(report) as f:
        findings = json.load(f)["findings"]
    found = []
    for f in findings:
        path, line = place(f)
        found.append((os.path.relpath(path, out), line, name))
    return found


def score(label, found, planted, decoys, identifiers, show):
    """Prints recall and precision of `found` against the planted values and decoys. A finding
    on a line that holds only an identifier (an AWS key id, a Twilio SID) is not counted."""
    planted_at = {(p, n) for p, n, _ in planted}
    ident_at = {(p, n) for p, n, _ in identifiers} - planted_at
    found = [f for f in found if (f[0], f[1]) not in ident_at]
    decoy_at = {(p, n): k for p, n, k in decoys}
    hit_places = {(p, n) for p, n, _ in found}
    got = [x for x in planted if (x[0], x[1]) in hit_places]
    false = sorted({(p, n, r) for p, n, r in found if (p, n) not in planted_at})
    true_findings = sum(1 for p, n, _ in found if (p, n) in planted_at)
    precision = true_findings / len(found) if found else 1.0
    print("%-12s planted %d  found %d  recall %.1f%%  findings %d  false alarms %d (on decoys %d)  precision %.1f%%" % (
        label, len(planted), len(got), 100.0 * len(got) / len(planted), len(found), len(false),
        sum(1 for p, n, _ in false if (p, n) in decoy_at), 100.0 * precision))
    if show:
        for p, n, k in planted:
            if (p, n) not in hit_places:
                print("  missed  %-55s %3d  %s" % (p, n, k))
        for p, n, r in false:
            print("  false   %-55s %3d  %s%s" % (p, n, r, "  (decoy %s)" % decoy_at[(p, n)] if (p, n) in decoy_at else ""))


def common_args(description, out, seed):
    """The options every tree-writing benchmark takes: the binary, the tree, the seed and
    where the peers are."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--keytrace", default="target/release/keytrace")
    ap.add_argument("--out", default=os.path.join(os.environ.get("TMPDIR", "/tmp"), out))
    ap.add_argument("--seed", type=int, default=seed)
    ap.add_argument("--peers", help="install-peers.sh's directory (default $TMPDIR/keytrace-peers, used when present)")
    return ap


def installed_peers(peers_arg):
    """(name, binary) of each peer to run: every one under `peers_arg` when it is given,
    else those install-peers.sh put in $TMPDIR/keytrace-peers."""
    peers = peers_arg or os.path.join(os.environ.get("TMPDIR", "/tmp"), "keytrace-peers")
    for name in PEERS:
        binary = os.path.join(peers, "unz", name, "bin", name)
        if peers_arg is not None or os.path.exists(binary):
            yield name, binary


def main():
    ap = common_args(__doc__.splitlines()[0], "keytrace-recall", 18)
    ap.add_argument("--show-misses", action="store_true")
    ap.add_argument("--peer-misses", action="store_true", help="with --show-misses, list the peers' misses too")
    ap.add_argument("--set", choices=["a", "b", "c", "d", "e", "f"], default="a",
                    help="template set (b: held out, written after tuning on a; c: held out, other files and providers; d: held out, build/deploy automation, service config, more languages; e: held out, framework config, SDK calls, Terraform state, monitoring, dotfiles, more CI; f: held out, secrets nested in another format)")
    args = ap.parse_args()
    templates = {"a": TEMPLATES, "b": TEMPLATES_B, "c": recall_c.TEMPLATES_C, "d": recall_d.TEMPLATES_D, "e": recall_e.TEMPLATES_E, "f": recall_f.TEMPLATES_F}[args.set]
    planted, decoys, identifiers = generate(args.out, args.seed, templates)
    score("keytrace", scan(args.keytrace, args.out), planted, decoys, identifiers, args.show_misses)
    for name, binary in installed_peers(args.peers):
        score(name, scan_peer(name, binary, args.out), planted, decoys, identifiers,
              args.show_misses and args.peer_misses)


if __name__ == "__main__":
    main()
