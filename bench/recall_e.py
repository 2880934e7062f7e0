"""Set E for bench/recall.py: a held-out tree written before any tuning on it.

It covers places sets A-D touch least: web framework config (Next.js, Nuxt, Flask,
Celery, Symfony, Drupal, Rails initializers, Play), client code that passes keys to
SDK constructors and request headers (Python, Go, Java, C#, Objective-C, R, Julia,
C firmware), Terraform providers and state, Pulumi stacks, Kustomize generators,
Argo CD repository secrets and base64 Secret data, monitoring config (Prometheus,
Alertmanager, Grafana, Filebeat), nginx, developer dotfiles (.bash_history, .s3cfg,
gh hosts.yml, .git-credentials, .Renviron, .yarnrc.yml, composer auth.json, Poetry
auth.toml), Android resources, Ansible INI inventories, Vagrant, and CI systems the
other sets skip (Travis, Drone, Bitbucket Pipelines, Cloud Build). Decoys are what
such files also hold: encrypted CI values, Pulumi ciphertext, ERB and Spring
references, Terraform variables, publishable keys, documentation examples.

Values are synthetic, from the seeded generator in recall.py, shaped like the real
formats (prefixes, lengths, alphabets); none is, or was, a live key.
"""
import base64
import json
import string

from recall_c import HEX, UHEX, URLSAFE
from synthetic import B62  # recall.py puts fixtures/ on the path

UPPER_ALNUM = string.ascii_uppercase + string.digits
B64 = B62 + "+/"


def kinds(r):
    """Generators for set E's kinds, over recall.py's `Values` (`r.c`, `r.rnd`, ...;
    `r.value` reaches the other sets' kinds)."""
    grafana_claims = lambda: base64.b64encode(json.dumps({  # noqa: E731
        "o": r.c(string.digits, 6), "n": "stack-%s-hm-write-prom" % r.c(string.digits, 6),
        "k": r.c(B62, 24), "m": {"r": "prod-eu-west-0"}}, separators=(",", ":")).encode()).decode()
    return {
        "sanity": lambda: "sk" + r.c(B62, 180),
        "resend": lambda: "re_" + r.c(B62, 8) + "_" + r.c(B62, 24),
        "clerk": lambda: "sk_live_" + r.c(B62, 42),
        "clerk_pk": lambda: "pk_live_" + base64.b64encode(b"clerk.acme-shop.io$").decode().rstrip("="),
        "flask_secret": lambda: r.c(URLSAFE, 43),
        "pagerduty": lambda: "u+" + r.c(URLSAFE, 18),
        "mux_secret": lambda: r.c(B64, 75),
        "plivo_id": lambda: "MA" + r.c(UPPER_ALNUM, 18),
        "plivo_token": lambda: r.c(B62, 40),
        "paystack": lambda: "sk_live_" + r.c(HEX, 40),
        "gh_client_id": lambda: "Ov23li" + r.c(B62, 14),
        "hex128": lambda: r.c(HEX, 128),
        "hex14": lambda: r.c(HEX, 14),
        "mailtrap_user": lambda: r.c(HEX, 14),
        "drupal_salt": lambda: r.c(URLSAFE, 74),
        "pulumi_secure": lambda: "AAABA" + r.b64_bytes(48),
        "b64_github": lambda: base64.b64encode(r.value("github").encode()).decode(),
        "b64_password": lambda: base64.b64encode(r.password().encode()).decode(),
        "grafana_cloud": lambda: "glc_" + grafana_claims(),
        "es_api_key": lambda: r.c(B62, 20) + ":" + r.c(URLSAFE, 22),
        "do_spaces_id": lambda: "DO00" + r.c(UPPER_ALNUM, 16),
        "do_spaces_secret": lambda: r.c(B64, 43),
        "bitbucket_app": lambda: "ATBB" + r.c(B62, 28) + r.c(UHEX, 8),
        "thingspeak": lambda: r.c(UPPER_ALNUM, 16),
        "twitter_secret": lambda: r.c(B62, 50),
        "travis_secure": lambda: r.b64_bytes(256),
        "play_secret": lambda: r.c(B62, 64),
        "netlify": lambda: "nfp_" + r.c(B62, 36),
        "ses_smtp": lambda: "B" + r.c(B64, 43),
        "integrity": lambda: "sha512-" + r.b64_bytes(64),
        "contentful_cma": lambda: "CFPAT-" + r.c(URLSAFE, 43),
        "poetry_token": lambda: r.c(B62, 32),
    }


FIXED = {
    "spring_ref": "${stripe.secret-key}",
    "erb_env": '<%= ENV["SECRET_KEY_BASE"] %>',
    "tf_var": "var.cloudflare_api_token",
    "hocon_ref": "${?APPLICATION_SECRET}",
    "drone_secret_name": "docker_password",
    "getenv_default": 'os.environ.get("SECRET_KEY", "dev")',
    "py_env": 'os.environ["STRIPE_SECRET_KEY"]',
    "redacted": "<redacted>",
    "ghp_x": "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
}

TEMPLATES_E = [
    ("shop-web/next.config.js", """/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  env: {
    NEXT_PUBLIC_STRIPE_KEY: '@@D:stripe_pk@@',
    STRIPE_SECRET_KEY: '@@P:stripe@@',
    SANITY_API_TOKEN: '@@P:sanity@@',
  },
  images: { domains: ['cdn.sanity.io'] },
};

module.exports = nextConfig;
"""),
    ("shop-web/nuxt.config.ts", """export default defineNuxtConfig({
  modules: ['@nuxtjs/tailwindcss'],
  runtimeConfig: {
    resendApiKey: '@@P:resend@@',
    contentfulManagementToken: '@@P:contentful_cma@@',
    public: {
      apiBase: '/api',
    },
  },
})
"""),
    ("shop-web/.env.local", """NEXT_PUBLIC_SUPABASE_URL=https://qwhjzkvbnmlpoiuytrew.supabase.co
SUPABASE_SERVICE_ROLE_KEY=@@P:jwt_service_role@@
CLERK_SECRET_KEY=@@P:clerk@@
NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY=@@D:clerk_pk@@
NEXT_PUBLIC_SITE_URL=https://shop.acme.io
"""),
    ("shop-web/package.json", """{
  "name": "shop-web",
  "private": true,
  "scripts": {
    "dev": "next dev",
    "build": "next build",
    "deploy": "netlify deploy --prod --auth @@P:netlify@@ --dir .next"
  },
  "dependencies": {
    "next": "14.2.3"
  }
}
"""),
    ("shop-web/netlify.toml", """[build]
  command = "npm run build"
  publish = ".next"

[build.environment]
  NODE_VERSION = "20"
  ALGOLIA_ADMIN_KEY = "@@P:algolia_admin@@"
"""),
    ("shop-web/.yarnrc.yml", """nodeLinker: node-modules
npmScopes:
  acme:
    npmRegistryServer: "https://npm.pkg.github.com"
    npmAuthToken: "@@P:github@@"
"""),
    ("backend/app/config.py", """import os


class Config:
    SECRET_KEY = @@D:getenv_default@@
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", "sqlite:///app.db")
    MAIL_SERVER = "smtp.sendgrid.net"
    MAIL_PORT = 587
    MAIL_USERNAME = "apikey"
    MAIL_PASSWORD = "@@P:sendgrid@@"


class ProductionConfig(Config):
    SECRET_KEY = "@@P:flask_secret@@"
    SQLALCHEMY_DATABASE_URI = "postgresql+psycopg2://shop:@@P:password@@@db.internal:5432/shop"
"""),
    ("backend/app/celeryconfig.py", """broker_url = "amqp://celery:@@P:password@@@rabbitmq:5672//"
result_backend = "redis://:@@P:b62_32@@@redis:6379/0"
task_serializer = "json"
timezone = "Europe/Berlin"
"""),
    ("backend/app/integrations/storage.py", """import boto3

s3 = boto3.client(
    "s3",
    aws_access_key_id="@@I:aws_id@@",
    aws_secret_access_key="@@P:aws_secret@@",
    region_name="eu-central-1",
)
"""),
    ("backend/app/integrations/llm.py", """import os

import openai
from anthropic import Anthropic

openai.api_key = "@@P:openai@@"
client = Anthropic(api_key="@@P:anthropic@@")
os.environ.setdefault("TOGETHER_API_KEY", "@@P:hex64@@")
os.environ["REPLICATE_API_TOKEN"] = "@@P:replicate@@"
stripe_key = @@D:py_env@@
"""),
    ("backend/tests/test_payments.py", """import stripe


def test_charge(monkeypatch):
    stripe.api_key = "@@D:stripe_doc@@"
    monkeypatch.setenv("GITHUB_TOKEN", "@@D:ghp_x@@")
"""),
    ("services/gateway/internal/config/defaults.go", """package config

import "os"

var defaultConfig = Config{
	Port:         8080,
	SlackToken:   "@@P:slack_bot@@",
	PagerDutyKey: "@@P:pagerduty@@",
}

func init() {
	os.Setenv("MUX_TOKEN_SECRET", "@@P:mux_secret@@")
}
"""),
    ("services/gateway/internal/notify/client.go", """package notify

import "net/http"

const plivoAuthID = "@@I:plivo_id@@"
const plivoAuthToken = "@@P:plivo_token@@"

func (c *Client) do(req *http.Request) (*http.Response, error) {
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", "@@P:b62_32@@")
	return c.http.Do(req)
}
"""),
    ("services/billing/src/main/java/com/acme/billing/PaymentConfig.java", """package com.acme.billing;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Configuration;

@Configuration
public class PaymentConfig {
    @Value("@@D:spring_ref@@")
    private String stripeKey;

    private static final String PAYSTACK_SECRET = "@@P:paystack@@";
    private static final String BRAINTREE_PRIVATE_KEY = "@@P:hex32@@";
}
"""),
    ("services/billing/build.gradle.kts", """plugins {
    id("org.springframework.boot") version "3.2.5"
}

repositories {
    mavenCentral()
    maven {
        url = uri("https://acme.jfrog.io/artifactory/libs-release")
        credentials {
            username = "ci-deployer"
            password = "@@P:jfrog@@"
        }
    }
}
"""),
    ("services/billing/src/main/resources/application.yml", """spring:
  datasource:
    url: jdbc:postgresql://db:5432/billing
    username: billing
    password: @@D:env_ref@@
  mail:
    host: smtp.mailgun.org
    username: postmaster@mg.acme.io
    password: @@P:password@@
  security:
    oauth2:
      client:
        registration:
          github:
            client-id: @@I:gh_client_id@@
            client-secret: @@P:hex40@@
"""),
    ("services/notify/Web.config", """<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <appSettings>
    <add key="SendGridApiKey" value="@@P:sendgrid@@" />
    <add key="Environment" value="Production" />
    <add key="TwilioAuthToken" value="@@P:twilio_token@@" />
  </appSettings>
  <connectionStrings>
    <add name="Default" connectionString="Data Source=sql01;Initial Catalog=Notify;User Id=notify;Password=@@P:password@@;" providerName="System.Data.SqlClient" />
  </connectionStrings>
</configuration>
"""),
    ("services/notify/Services/SmsSender.cs", """using System.Net.Http;

public class SmsSender
{
    private const string AccountSid = "@@I:twilio_ac@@";
    private const string AuthToken = "@@P:twilio_token@@";
    private static readonly HttpClient Http = new HttpClient();

    public SmsSender()
    {
        Http.DefaultRequestHeaders.Add("X-Api-Key", "@@P:b62_32@@");
        var stripe = new StripeClient("@@P:stripe@@");
    }
}
"""),
    ("rails/config/secrets.yml", """production:
  secret_key_base: @@D:erb_env@@

staging:
  secret_key_base: @@P:hex128@@
"""),
    ("rails/config/initializers/stripe.rb", """Rails.configuration.stripe = {
  publishable_key: ENV["STRIPE_PUBLISHABLE_KEY"],
  secret_key: "@@P:stripe@@"
}

Stripe.api_key = Rails.configuration.stripe[:secret_key]
"""),
    ("rails/config/initializers/devise.rb", """Devise.setup do |config|
  config.secret_key = '@@P:hex128@@'
  config.mailer_sender = 'no-reply@acme.io'
  config.pepper = '@@P:hex128@@'
end
"""),
    ("symfony/.env", """APP_ENV=prod
APP_SECRET=@@P:hex32@@
DATABASE_URL="mysql://app:@@P:password@@@127.0.0.1:3306/app?serverVersion=8.0.32&charset=utf8mb4"
MAILER_DSN=smtp://@@I:mailtrap_user@@:@@P:hex14@@@sandbox.smtp.mailtrap.io:2525
MESSENGER_TRANSPORT_DSN=doctrine://default?auto_setup=0
"""),
    ("drupal/sites/default/settings.php", """<?php

$databases['default']['default'] = [
  'database' => 'drupal',
  'username' => 'drupal',
  'password' => '@@P:password@@',
  'host' => 'mariadb',
  'driver' => 'mysql',
];
$settings['hash_salt'] = '@@P:drupal_salt@@';
"""),
    ("play/conf/application.conf", """play.http.secret.key = "@@P:play_secret@@"
play.http.secret.key = @@D:hocon_ref@@
db.default.driver = org.postgresql.Driver
db.default.url = "jdbc:postgresql://db/play"
db.default.password = "@@P:password@@"
"""),
    ("infra/terraform/providers.tf", """provider "datadog" {
  api_key = "@@P:hex32@@"
  app_key = "@@P:dd_app@@"
  api_url = "https://api.datadoghq.eu/"
}

provider "github" {
  owner = "acme"
  token = "@@P:github@@"
}

provider "cloudflare" {
  api_token = @@D:tf_var@@
}
"""),
    ("infra/terraform/terraform.tfstate", """{
  "version": 4,
  "terraform_version": "1.6.6",
  "resources": [
    {
      "mode": "managed",
      "type": "aws_db_instance",
      "name": "main",
      "instances": [
        {
          "attributes": {
            "username": "app",
            "password": "@@P:password@@",
            "endpoint": "main.c9akciq32.eu-west-1.rds.amazonaws.com:5432"
          }
        }
      ]
    },
    {
      "mode": "managed",
      "type": "aws_iam_access_key",
      "name": "ci",
      "instances": [
        {
          "attributes": {
            "id": "@@I:aws_id@@",
            "secret": "@@P:aws_secret@@",
            "ses_smtp_password_v4": "@@P:ses_smtp@@"
          }
        }
      ]
    }
  ]
}
"""),
    ("infra/pulumi/Pulumi.prod.yaml", """config:
  aws:region: eu-west-1
  acme:dbPassword:
    secure: @@D:pulumi_secure@@
  acme:slackWebhook: @@P:slack_webhook@@
"""),
    ("infra/k8s/kustomization.yaml", """resources:
  - deployment.yaml
secretGenerator:
  - name: api-secrets
    literals:
      - STRIPE_API_KEY=@@P:stripe@@
      - POSTGRES_PASSWORD=@@P:password@@
"""),
    ("infra/k8s/argocd-repo.yaml", """apiVersion: v1
kind: Secret
metadata:
  name: private-repo
  namespace: argocd
  labels:
    argocd.argoproj.io/secret-type: repository
stringData:
  type: git
  url: https://gitlab.acme.io/platform/deploy.git
  username: argocd
  password: @@P:gitlab@@
"""),
    ("infra/k8s/registry-secret.yaml", """apiVersion: v1
kind: Secret
metadata:
  name: ci-tokens
type: Opaque
data:
  GITHUB_TOKEN: @@P:b64_github@@
  DB_PASSWORD: @@P:b64_password@@
"""),
    ("infra/k8s/cronjob.yaml", """apiVersion: batch/v1
kind: CronJob
metadata:
  name: exporter
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - name: exporter
              image: acme/exporter:1.4
              args: ["--api-key=@@P:b62_32@@", "--region=eu"]
"""),
    ("monitoring/prometheus.yml", """scrape_configs:
  - job_name: api
    basic_auth:
      username: prometheus
      password: @@P:password@@
    static_configs:
      - targets: ['api:9100']
remote_write:
  - url: https://prometheus-prod-01-eu-west-0.grafana.net/api/prom/push
    basic_auth:
      username: 123456
      password: @@P:grafana_cloud@@
"""),
    ("monitoring/alertmanager.yml", """global:
  slack_api_url: '@@P:slack_webhook@@'
  smtp_auth_username: alerts@acme.io
  smtp_auth_password: '@@P:password@@'
receivers:
  - name: oncall
    pagerduty_configs:
      - routing_key: @@P:hex32@@
"""),
    ("monitoring/grafana.ini", """[security]
admin_user = admin
admin_password = @@P:password@@

[smtp]
enabled = true
host = smtp.sendgrid.net:587
user = apikey
password = \"\"\"@@P:sendgrid@@\"\"\"
"""),
    ("monitoring/filebeat.yml", """filebeat.inputs:
  - type: filestream
    paths: ["/var/log/app/*.log"]
cloud.auth: "elastic:@@P:password@@"
output.elasticsearch:
  hosts: ["https://es.acme.io:9243"]
  api_key: "@@P:es_api_key@@"
"""),
    ("ops/nginx/internal.conf", """location /internal/ {
    proxy_set_header Authorization "Bearer @@P:jwt_secret@@";
    proxy_pass http://backend;
}
"""),
    ("ops/home/.bash_history", """ls -la
export AWS_ACCESS_KEY_ID=@@I:aws_id@@
export AWS_SECRET_ACCESS_KEY=@@P:aws_secret@@
mysql -h db01 -u root -p@@P:password@@ shop
curl -s -H "PRIVATE-TOKEN: @@P:gitlab@@" https://gitlab.acme.io/api/v4/projects
sshpass -p '@@P:password@@' ssh deploy@10.0.4.12
psql "postgresql://report:@@P:password@@@analytics:5432/warehouse"
git push https://oauth2:@@P:gitlab@@@gitlab.acme.io/ops/tools.git
"""),
    ("ops/home/.s3cfg", """[default]
access_key = @@I:do_spaces_id@@
secret_key = @@P:do_spaces_secret@@
host_base = ams3.digitaloceanspaces.com
host_bucket = %(bucket)s.ams3.digitaloceanspaces.com
use_https = True
"""),
    ("ops/home/.config/gh/hosts.yml", """github.com:
    user: octocat
    oauth_token: @@P:gh_oauth@@
    git_protocol: https
"""),
    ("ops/home/.git-credentials", """https://octocat:@@P:github@@@github.com
https://acme-ci:@@P:bitbucket_app@@@bitbucket.org
"""),
    ("ops/home/.config/pypoetry/auth.toml", """[http-basic.acme]
username = "__token__"
password = "@@P:poetry_token@@"
"""),
    ("ops/home/.composer/auth.json", """{
    "github-oauth": {
        "github.com": "@@P:gh_oauth@@"
    },
    "http-basic": {
        "repo.packagist.com": {
            "username": "token",
            "password": "@@P:hex40@@"
        }
    }
}
"""),
    ("analysis/.Renviron", """GITHUB_PAT=@@P:github@@
OPENAI_API_KEY=@@P:openai@@
"""),
    ("analysis/fetch.R", """library(httr)
Sys.setenv(MAPBOX_TOKEN = "@@P:mapbox_sk@@")
res <- GET("https://api.airtable.com/v0/appQ2k7Lm9/Orders",
           add_headers(Authorization = paste("Bearer", "@@P:airtable@@")))
"""),
    ("analysis/embed.jl", """using HTTP
ENV["HF_TOKEN"] = "@@P:hf@@"
const PINECONE_KEY = "@@P:pinecone@@"
"""),
    ("firmware/src/secrets.h", """#pragma once
#define WIFI_SSID "acme-iot"
#define WIFI_PASSWORD "@@P:password@@"
#define AWS_IOT_ENDPOINT "a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com"
static const char THINGSPEAK_API_KEY[] = "@@P:thingspeak@@";
"""),
    ("mobile/ios/Acme/Secrets.m", """#import "Secrets.h"

NSString *const kStripeSecretKey = @"@@P:stripe@@";
NSString *const kAlgoliaAdminKey = @"@@P:algolia_admin@@";
"""),
    ("mobile/android/local.properties", """sdk.dir=/Users/dev/Library/Android/sdk
MAPS_API_KEY=@@P:google_api@@
RELEASE_STORE_PASSWORD=@@P:password@@
RELEASE_KEY_PASSWORD=@@P:password@@
"""),
    ("mobile/android/app/src/main/res/values/secrets.xml", """<?xml version="1.0" encoding="utf-8"?>
<resources>
    <string name="app_name">Acme</string>
    <string name="openweather_api_key">@@P:hex32@@</string>
    <string name="twitter_consumer_secret">@@P:twitter_secret@@</string>
</resources>
"""),
    ("ansible/inventory/hosts.ini", """[web]
web01 ansible_host=10.0.1.10 ansible_user=deploy ansible_ssh_pass=@@P:password@@
web02 ansible_host=10.0.1.11 ansible_user=deploy ansible_become_pass=@@P:password@@
"""),
    ("vagrant/Vagrantfile", """Vagrant.configure("2") do |config|
  config.vm.box = "ubuntu/jammy64"
  config.vm.provision "shell", env: {"GITHUB_TOKEN" => "@@P:github@@"}, inline: <<-SHELL
    apt-get update
  SHELL
end
"""),
    (".travis.yml", """language: node_js
node_js: "20"
env:
  global:
    - secure: "@@D:travis_secure@@"
deploy:
  provider: heroku
  api_key: @@P:uuid@@
  app: acme-web
"""),
    (".drone.yml", """kind: pipeline
name: default
steps:
  - name: publish
    image: plugins/docker
    settings:
      username: acmebot
      password:
        from_secret: @@D:drone_secret_name@@
  - name: notify
    image: plugins/slack
    settings:
      webhook: @@P:slack_webhook@@
"""),
    ("bitbucket-pipelines.yml", """pipelines:
  default:
    - step:
        script:
          - pipe: atlassian/aws-s3-deploy:1.1.0
            variables:
              AWS_ACCESS_KEY_ID: '@@I:aws_id@@'
              AWS_SECRET_ACCESS_KEY: '@@P:aws_secret@@'
              S3_BUCKET: 'acme-static'
          - curl -X POST -H "Authorization: Bearer @@P:do_pat@@" https://api.digitalocean.com/v2/cdn/endpoints
"""),
    ("cloudbuild.yaml", """steps:
  - name: gcr.io/google.com/cloudsdktool/cloud-sdk
    args: ['gcloud', 'run', 'deploy', 'api', '--set-env-vars', 'SENDGRID_API_KEY=@@P:sendgrid@@,LOG_LEVEL=info']
"""),
    ("docker-compose.override.yml", """services:
  db:
    environment:
      POSTGRES_USER: shop
      POSTGRES_PASSWORD: @@P:password@@
  minio:
    environment:
      MINIO_ROOT_USER: admin
      MINIO_ROOT_PASSWORD: @@P:password@@
  meilisearch:
    environment:
      - MEILI_MASTER_KEY=@@P:b62_32@@
  hasura:
    environment:
      HASURA_GRAPHQL_ADMIN_SECRET: @@P:password@@
"""),
    ("keycloak/realm-acme.json", """{
  "realm": "acme",
  "clients": [
    {
      "clientId": "billing-service",
      "secret": "@@P:b62_32@@",
      "redirectUris": ["https://billing.acme.io/*"]
    }
  ],
  "smtpServer": {
    "host": "smtp.postmarkapp.com",
    "user": "@@I:uuid@@",
    "password": "@@P:uuid@@"
  }
}
"""),
    ("docs/runbook.md", """# Rotating the Jenkins admin credential

```bash
curl -u admin:@@P:password@@ https://jenkins.acme.io/credentials/store/system/
export VAULT_TOKEN=@@P:vault@@
```

Replace the token with yours: `export VAULT_TOKEN=@@D:angle@@`.
Never paste a real key; examples use `@@D:aws_doc_id@@` and `@@D:redacted@@`.
"""),
    ("shop-web/package-lock.json", """{
  "name": "shop-web",
  "lockfileVersion": 3,
  "packages": {
    "node_modules/next": {
      "version": "14.2.3",
      "resolved": "https://registry.npmjs.org/next/-/next-14.2.3.tgz",
      "integrity": "@@D:integrity@@"
    }
  }
}
"""),
]
