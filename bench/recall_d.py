"""Set D for bench/recall.py: a held-out tree written before any tuning on it.

It covers the places secrets land in application repositories that sets A-C touch
least: build and deploy automation (Dockerfiles, Jenkinsfiles, GitLab, CircleCI and
Azure pipelines, Ansible, Helm values, Serverless, CloudFormation), service config
files (my.cnf, .pgpass, redis.conf, supervisord, HAProxy, odbc.ini, rclone), API client
code in languages the other sets use less (PHP, Kotlin, Swift, Scala, Elixir, Dart,
Rust, Perl, PowerShell), HTTP collections (Postman, .http files, HAR) and logs, with
providers the other sets do not plant. Decoys are what such files also hold: image
digests and GPG fingerprints in Dockerfiles, password hashes in seed data, Ansible
Vault ciphertext, pipeline variable references, redacted headers.

Values are synthetic, from the seeded generator in recall.py, shaped like the real
formats (prefixes, lengths, alphabets); none is, or was, a live key.
"""
import base64
import json
import string

from recall_c import HEX, UHEX, URLSAFE, b64url, pem
from synthetic import B62  # recall.py puts fixtures/ on the path


def kinds(r):
    """Generators for set D's kinds, over recall.py's `Values` (`r.c`, `r.rnd`, ...;
    `r.value` reaches the other sets' kinds, such as C's GitHub app token)."""
    sentry_claims = lambda: b64url(json.dumps({  # noqa: E731
        "iat": 1700000000 + r.rnd.randint(0, 9999999), "url": "https://sentry.io",
        "region_url": "https://us.sentry.io", "org": "acme-" + r.c(string.ascii_lowercase, 5)},
        separators=(",", ":")))
    return {
        "algolia_admin": lambda: r.c(HEX, 32),
        "dd_app": lambda: r.c(HEX, 40),
        "twilio_token": lambda: r.c(HEX, 32),
        "sentry_org": lambda: "sntrys_" + sentry_claims() + "_" + r.c(URLSAFE, 43),
        "cf_token": lambda: r.c(URLSAFE, 40),
        "cf_global": lambda: r.c(HEX, 37),
        "cloudinary": lambda: "cloudinary://%s:%s@acme-media" % (r.c(string.digits, 15), r.c(URLSAFE, 27)),
        "mongo_srv": lambda: "mongodb+srv://app:%s@cluster0.%s.mongodb.net/orders?retryWrites=true&w=majority" % (r.password(), r.c(string.ascii_lowercase + string.digits, 5)),
        "redis_url": lambda: "rediss://default:%s@cache-%s.upstash.io:6379" % (r.c(B62, 32), r.c(string.ascii_lowercase, 6)),
        "amqp_url": lambda: "amqps://billing:%s@rabbit.internal:5671/prod" % r.password(),
        "adonet": lambda: "Server=tcp:acme-sql.database.windows.net,1433;Initial Catalog=orders;User ID=appuser;Password=%s;Encrypt=True;" % r.password(),
        "jdbc_mssql": lambda: "jdbc:sqlserver://db01:1433;databaseName=crm;user=crm_app;password=%s;encrypt=true" % r.password(),
        "azure_storage_cs": lambda: "DefaultEndpointsProtocol=https;AccountName=acmeprod%s;AccountKey=%s;EndpointSuffix=core.windows.net" % (r.c(string.digits, 3), r.b64_bytes(64)),
        "azure_sas_url": lambda: "https://acmeprod.blob.core.windows.net/exports?sv=2022-11-02&ss=b&srt=co&sp=rl&se=2027-01-01T00:00:00Z&st=2026-01-01T00:00:00Z&spr=https&sig=%s" % r.b64_bytes(32).replace("+", "%2B").replace("/", "%2F").replace("=", "%3D"),
        "paypal_secret": lambda: "E" + r.c(URLSAFE, 79),
        "paypal_id": lambda: "A" + r.c(URLSAFE, 79),
        "plaid_secret": lambda: r.c(HEX, 30),
        "square_oauth": lambda: "sq0csp-" + r.c(URLSAFE, 43),
        "launchdarkly": lambda: "sdk-" + r.uuid4(),
        "mixpanel_secret": lambda: r.c(HEX, 32),
        "zendesk": lambda: r.c(B62, 40),
        "auth0_secret": lambda: r.c(URLSAFE, 64),
        "jfrog": lambda: "AKCp8" + r.c(B62, 68),
        "sonar_project": lambda: "sqp_" + r.c(HEX, 40),
        "ngrok": lambda: "2" + r.c(B62, 26) + "_" + r.c(B62, 21),
        "pusher_secret": lambda: r.c(HEX, 20),
        "ably": lambda: "%s.%s:%s" % (r.c(B62 + "-_", 6), r.c(B62 + "-_", 6), r.c(URLSAFE, 43)),
        "elevenlabs": lambda: "sk_" + r.c(HEX, 48),
        "deepgram": lambda: r.c(HEX, 40),
        "cohere": lambda: r.c(B62, 40),
        "mistral": lambda: r.c(B62, 32),
        "perplexity": lambda: "pplx-" + r.c(B62, 48),
        "xai": lambda: "xai-" + r.c(B62, 80),
        "nvidia": lambda: "nvapi-" + r.c(URLSAFE, 64),
        "pinecone": lambda: "pcsk_%s_%s" % (r.c(B62, 5), r.c(B62, 63)),
        "wandb": lambda: r.c(HEX, 40),
        "openai_admin": lambda: "sk-admin-" + r.c(URLSAFE, 58) + "T3BlbkFJ" + r.c(URLSAFE, 58),
        "gitlab_runner": lambda: "glrt-" + r.c(URLSAFE, 20),
        "gitlab_deploy": lambda: "gldt-" + r.c(URLSAFE, 20),
        "wireguard": lambda: r.b64_bytes(32),
        "pgp": lambda: pem(r, "PGP PRIVATE KEY BLOCK", "lQOYBF", 900),
        "intercom": lambda: base64.b64encode(("tok:" + r.uuid4().replace("-", "_") + ":1:0").encode()).decode().rstrip("="),
        "okta_ssws": lambda: "SSWS 00" + r.c(URLSAFE, 40),
        "ms_teams": lambda: "https://acme.webhook.office.com/webhookb2/%s@%s/IncomingWebhook/%s/%s" % (r.uuid4(), r.uuid4(), r.c(HEX, 32), r.uuid4()),
        "gh_basic": lambda: "Basic " + base64.b64encode(("x-access-token:" + r.value("gh_app")).encode()).decode(),
        "hcloud": lambda: r.c(B62, 64),
        "rollbar": lambda: r.c(HEX, 32),
        "sparkpost": lambda: r.c(HEX, 40),
        "mailjet_private": lambda: r.c(HEX, 32),
        "tencent_id": lambda: "AKID" + r.c(B62, 32),
        "tencent_key": lambda: r.c(B62, 32),
        "b2_key": lambda: "K00" + r.c("12345", 1) + r.c(B62 + "/+", 27),
        "b2_id": lambda: "00" + r.c(HEX, 10) + "0000000000" + r.c(string.digits, 3),
        "splunk_hec": lambda: r.uuid4().upper(),
        "expo": lambda: r.c(URLSAFE, 40),
        "honeycomb": lambda: "hcaik_01" + r.c(string.ascii_lowercase + string.digits, 56),
        "telnyx": lambda: "KEY0" + r.c(UHEX, 31) + "_" + r.c(B62, 22),
        "fireworks": lambda: "fw_" + r.c(B62, 24),
        "gh_git_url": lambda: "https://x-access-token:%s@github.com/acme/infra.git" % r.value("gh_app"),
        "bcrypt": lambda: "$2b$12$" + r.c(B62 + "./", 53),
        "argon2": lambda: "$argon2id$v=19$m=65536,t=3,p=4$%s$%s" % (r.b64_bytes(16).rstrip("="), r.b64_bytes(32).rstrip("=")),
        "ansible_vault": lambda: "\n".join("          " + r.c(HEX, 80) for _ in range(4)),
        "image_digest": lambda: "sha256:" + r.c(HEX, 64),
        "gpg_fpr": lambda: r.c(UHEX, 40),
        "git_sha": lambda: r.c(HEX, 40),
        "uuid_req": lambda: r.uuid4(),
    }


FIXED = {
    "jenkins_cred": "credentials('prod-db-password')",
    "az_var": "$(SqlAdminPassword)",
    "ci_job_token": "$CI_JOB_TOKEN",
    "ansible_lookup": "{{ lookup('env', 'DB_PASSWORD') }}",
    "ansible_var": "{{ vault_db_password }}",
    "redacted_bearer": "Bearer [REDACTED]",
    "stars": "****************",
    "foobared": "foobared",
    "null": "null",
    "cfn_ref": "!Ref DbPasswordParam",
    "ssm_ref": "${ssm:/prod/api/stripe-key}",
    "php_env": "env('STRIPE_SECRET')",
    "example_key": "YOUR_API_KEY",
    "test_pw": "test",
}

TEMPLATES_D = [
    ("services/api/Dockerfile", """FROM python:3.12-slim@@@D:image_digest@@
ENV GPG_KEY @@D:gpg_fpr@@
ENV PYTHON_VERSION 3.12.4
ARG PIP_INDEX_TOKEN
ENV SENTRY_AUTH_TOKEN=@@P:sentry_org@@
ENV ALGOLIA_APP_ID=H4X9QW2LTE \\
    ALGOLIA_ADMIN_KEY=@@P:algolia_admin@@
RUN pip install --no-cache-dir -r requirements.txt
CMD ["gunicorn", "app:app"]
"""),
    ("services/worker/Dockerfile", """FROM node:20-alpine
WORKDIR /app
COPY package*.json ./
RUN echo "//registry.npmjs.org/:_authToken=${NPM_TOKEN}" > .npmrc && npm ci && rm .npmrc
ENV DD_APP_KEY=@@P:dd_app@@
ENV NODE_ENV=production
RUN curl -fsSL -H "Authorization: Bearer @@P:cf_token@@" https://api.cloudflare.com/client/v4/zones
"""),
    ("Jenkinsfile", """pipeline {
  agent any
  environment {
    DB_PASSWORD = @@D:jenkins_cred@@
    SONAR_TOKEN = '@@P:sonar_project@@'
    ARTIFACTORY_API_KEY = "@@P:jfrog@@"
  }
  stages {
    stage('deploy') {
      steps {
        sh 'curl -u deploy:@@P:password@@ https://nexus.acme.io/repository/releases/'
      }
    }
  }
}
"""),
    (".gitlab-ci.yml", """variables:
  DOCKER_DRIVER: overlay2
  DEPLOY_TOKEN: @@P:gitlab_deploy@@
  REGISTRY_PASSWORD: @@D:ci_job_token@@

register-runner:
  script:
    - gitlab-runner register --non-interactive --url https://gitlab.acme.io --token @@P:gitlab_runner@@
    - echo "done"
"""),
    (".circleci/config.yml", """version: 2.1
jobs:
  test:
    docker:
      - image: cimg/python:3.12
        auth:
          username: acmebot
          password: @@P:password@@
    environment:
      PINECONE_API_KEY: @@P:pinecone@@
      COHERE_API_KEY: @@P:cohere@@
    steps:
      - checkout
"""),
    ("azure-pipelines.yml", """trigger:
  - main
variables:
  sqlAdminPassword: @@D:az_var@@
  AZURE_STORAGE_CONNECTION_STRING: '@@P:azure_storage_cs@@'
steps:
  - script: az storage blob upload-batch -d exports -s dist --sas-token "@@P:azure_sas_url@@"
"""),
    ("deploy/ansible/group_vars/prod.yml", """---
app_user: deploy
db_password: @@D:ansible_var@@
smtp_password: @@D:ansible_lookup@@
rollbar_access_token: @@P:rollbar@@
sparkpost_api_key: "@@P:sparkpost@@"
vault_api_key: !vault |
          $ANSIBLE_VAULT;1.1;AES256
@@D:ansible_vault@@
"""),
    ("deploy/ansible/roles/db/defaults/main.yml", """---
postgres_version: 15
postgres_admin_password: "@@P:password@@"
postgres_replication_user: replicator
"""),
    ("charts/billing/values-prod.yaml", """image:
  repository: registry.acme.io/billing
  tag: "2.14.1"
  digest: @@D:image_digest@@
paypal:
  clientId: @@I:paypal_id@@
  clientSecret: @@P:paypal_secret@@
plaid:
  clientId: 63f1a2b4c5d6e7f8a9b0c1d2
  secret: @@P:plaid_secret@@
square:
  oauthSecret: @@P:square_oauth@@
"""),
    ("serverless.yml", """service: notifications
provider:
  name: aws
  runtime: nodejs20.x
  environment:
    STRIPE_KEY: @@D:ssm_ref@@
    MIXPANEL_API_SECRET: @@P:mixpanel_secret@@
    LAUNCHDARKLY_SDK_KEY: @@P:launchdarkly@@
"""),
    ("infra/cloudformation/db.yaml", """Resources:
  Db:
    Type: AWS::RDS::DBInstance
    Properties:
      MasterUsername: admin
      MasterUserPassword: @@D:cfn_ref@@
  Cache:
    Type: AWS::ElastiCache::ReplicationGroup
    Properties:
      AuthToken: "@@P:b62_32@@"
"""),
    ("etc/mysql/my.cnf", """[client]
user = backup
password = @@P:password@@
host = db01.internal

[mysqld]
bind-address = 0.0.0.0
"""),
    ("home/.pgpass", """db01.internal:5432:orders:orders_app:@@P:password@@
db02.internal:5432:*:replicator:@@P:password@@
"""),
    ("etc/redis/redis.conf", """bind 127.0.0.1
port 6379
# requirepass @@D:foobared@@
requirepass @@P:b62_32@@
masterauth @@P:b62_32@@
"""),
    ("etc/supervisor/conf.d/worker.conf", """[program:worker]
command=/opt/app/bin/worker
environment=ELEVENLABS_API_KEY="@@P:elevenlabs@@",LOG_LEVEL="info"
autorestart=true
"""),
    ("etc/haproxy/haproxy.cfg", """listen stats
    bind *:8404
    stats enable
    stats uri /stats
    stats auth admin:@@P:password@@
"""),
    ("etc/odbc.ini", """[reporting]
Driver = ODBC Driver 18 for SQL Server
Server = tcp:reports.acme.io,1433
Database = reporting
UID = report_reader
PWD = @@P:password@@
"""),
    ("home/.config/rclone/rclone.conf", """[b2]
type = b2
account = @@I:b2_id@@
key = @@P:b2_key@@

[cos]
type = s3
provider = TencentCOS
access_key_id = @@P:tencent_id@@
secret_access_key = @@P:tencent_key@@
endpoint = cos.ap-guangzhou.myqcloud.com
"""),
    ("app/config/services.php", """<?php

return [
    'stripe' => [
        'secret' => @@D:php_env@@,
    ],
    'mailjet' => [
        'key' => '@@I:mailjet_private@@',
        'secret' => '@@P:mailjet_private@@',
    ],
    'pusher' => [
        'app_id' => '1693021',
        'secret' => '@@P:pusher_secret@@',
    ],
];
"""),
    ("wp-config.php", """<?php
define( 'DB_NAME', 'wordpress' );
define( 'DB_USER', 'wp_admin' );
define( 'DB_PASSWORD', '@@P:password@@' );
define( 'AUTH_KEY', '@@P:django@@' );
"""),
    ("android/app/src/main/java/io/acme/ApiClient.kt", """package io.acme

object ApiClient {
    private const val BASE_URL = "https://api.acme.io/"
    private const val ZENDESK_API_TOKEN = "@@P:zendesk@@"
    private const val DEEPGRAM_API_KEY = "@@P:deepgram@@"
    val requestId = "@@D:uuid_req@@"
}
"""),
    ("ios/Acme/Config.swift", """import Foundation

enum Config {
    static let baseURL = URL(string: "https://api.acme.io")!
    static let mistralAPIKey = "@@P:mistral@@"
    static let commit = "@@D:git_sha@@"
}
"""),
    ("jobs/src/main/scala/io/acme/Export.scala", """package io.acme

object Export {
  val perplexityKey = "@@P:perplexity@@"
  val wandbApiKey: String = "@@P:wandb@@"
}
"""),
    ("config/prod.exs", """import Config

config :acme, Acme.Mailer,
  adapter: Swoosh.Adapters.Postmark,
  api_key: "@@P:uuid@@"

config :acme, :xai, api_key: "@@P:xai@@"
"""),
    ("lib/src/env.dart", """class Env {
  static const String nvidiaApiKey = '@@P:nvidia@@';
  static const String fireworksKey = '@@P:fireworks@@';
}
"""),
    ("crates/notify/src/config.rs", """pub const TELNYX_API_KEY: &str = "@@P:telnyx@@";
pub const HONEYCOMB_KEY: &str = "@@P:honeycomb@@";
pub const BUILD_SHA: &str = "@@D:git_sha@@";
"""),
    ("scripts/backup.pl", """#!/usr/bin/perl
use strict;
my $dsn = "DBI:mysql:database=crm;host=db01";
my $dbh = DBI->connect($dsn, "crm_backup", "@@P:password@@");
my $hcloud_token = '@@P:hcloud@@';
"""),
    ("scripts/Deploy.ps1", """$ErrorActionPreference = "Stop"
$env:OPENAI_ADMIN_KEY = "@@P:openai_admin@@"
$headers = @{ Authorization = "@@P:okta_ssws@@" }
Invoke-RestMethod -Uri "https://acme.okta.com/api/v1/users" -Headers $headers
"""),
    ("tools/api.http", """### list users
GET https://api.intercom.io/contacts
Authorization: Bearer @@P:intercom@@
Accept: application/json

### splunk event
POST https://splunk.acme.io:8088/services/collector/event
Authorization: Splunk @@P:splunk_hec@@

### with a redacted header
GET https://api.acme.io/v1/me
Authorization: @@D:redacted_bearer@@
"""),
    ("postman/acme.postman_collection.json", """{
  "info": { "name": "acme", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json" },
  "auth": {
    "type": "apikey",
    "apikey": [
      { "key": "value", "value": "@@P:cf_global@@", "type": "string" },
      { "key": "key", "value": "X-Auth-Key", "type": "string" }
    ]
  },
  "variable": [
    { "key": "auth0_client_secret", "value": "@@P:auth0_secret@@" },
    { "key": "request_id", "value": "@@D:uuid_req@@" }
  ]
}
"""),
    ("fixtures/session.har", """{
  "log": {
    "entries": [
      {
        "request": {
          "url": "https://api.acme.io/v2/orders",
          "headers": [
            { "name": "Authorization", "value": "@@P:gh_basic@@" },
            { "name": "X-Request-Id", "value": "@@D:uuid_req@@" },
            { "name": "Cookie", "value": "@@D:stars@@" }
          ]
        }
      }
    ]
  }
}
"""),
    ("logs/deploy-2026-11-30.log", """2026-11-30T02:11:09Z INFO starting deploy of billing 2.14.1
2026-11-30T02:11:10Z DEBUG cloning @@P:gh_git_url@@
2026-11-30T02:11:14Z INFO using cloudinary @@P:cloudinary@@
2026-11-30T02:11:15Z INFO commit @@D:git_sha@@
"""),
    ("db/seeds/users.sql", """INSERT INTO users (email, password_hash) VALUES
  ('admin@acme.io', '@@D:bcrypt@@'),
  ('ops@acme.io', '@@D:argon2@@');
INSERT INTO integrations (name, api_key) VALUES ('ably', '@@P:ably@@');
"""),
    ("config/database.yml", """production:
  primary:
    url: @@P:mongo_srv@@
  cache:
    url: @@P:redis_url@@
  queue:
    url: @@P:amqp_url@@
"""),
    ("src/Acme.Api/appsettings.Production.json", """{
  "ConnectionStrings": {
    "Orders": "@@P:adonet@@"
  },
  "Teams": {
    "AlertWebhook": "@@P:ms_teams@@"
  }
}
"""),
    ("src/main/resources/application-prod.properties", """spring.datasource.url=@@P:jdbc_mssql@@
spring.datasource.hikari.maximum-pool-size=20
expo.access-token=@@P:expo@@
twilio.account-sid=@@I:twilio_ac@@
twilio.auth-token=@@P:twilio_token@@
"""),
    ("deploy/wireguard/wg0.conf", """[Interface]
Address = 10.8.0.1/24
ListenPort = 51820
PrivateKey = @@P:wireguard@@

[Peer]
PublicKey = @@D:wireguard@@
AllowedIPs = 10.8.0.2/32
"""),
    ("keys/release.asc", """@@P:pgp@@
"""),
    ("docs/setup.md", """## Local setup

Copy `.env.example` to `.env` and set `ALGOLIA_ADMIN_KEY=@@D:example_key@@`.
In tests we use the password `@@D:test_pw@@` for every fixture user.

```sh
export NGROK_AUTHTOKEN=@@P:ngrok@@
```
"""),
]
