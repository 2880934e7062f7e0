"""Set F for bench/recall.py: a held-out tree written before any tuning on it.

Secrets nested inside another format, where a scanner must look through the outer
layer: .env content in a YAML block scalar or a shell heredoc, JSON escaped inside a
JSON string, notebook cell outputs, HTML with an inline script, SQL dumps, CSV
exports, CI `run:` blocks, Helm template defaults, Terraform locals, Ansible playbook
vars, XML with entities, Java properties with escapes, Makefiles, Go and Swift test
code. Decoys are the references and placeholders those layers also carry.

Values are synthetic, from the seeded generator in recall.py, shaped like the real
formats (prefixes, lengths, alphabets); none is, or was, a live key.
"""

FIXED = {
    "helm_values_ref": "{{ .Values.smtp.password }}",
    "with_credentials": "credentialsId: 'deploy-token'",
    "gha_env": "${{ env.API_TOKEN }}",
    "tf_local_ref": "local.db_password",
}

TEMPLATES_F = [
    ("deploy/k8s/configmap-env.yaml", """apiVersion: v1
kind: ConfigMap
metadata:
  name: worker-env
data:
  app.env: |
    APP_ENV=production
    STRIPE_SECRET_KEY=@@P:stripe@@
    SENDGRID_API_KEY=@@P:sendgrid@@
    LOG_LEVEL=info
"""),
    ("scripts/bootstrap.sh", """#!/usr/bin/env bash
set -euo pipefail
cat > /etc/app/.env <<EOF
DATABASE_URL=postgres://app:@@P:password@@@db.internal:5432/app
SLACK_BOT_TOKEN=@@P:slack_bot@@
EOF
chmod 600 /etc/app/.env
"""),
    ("config/settings.json", """{
  "name": "exporter",
  "env": "{\\"OPENAI_API_KEY\\": \\"@@P:openai@@\\", \\"REGION\\": \\"eu\\"}",
  "retries": 3
}
"""),
    ("notebooks/explore.ipynb", """{
 "cells": [
  {
   "cell_type": "code",
   "execution_count": 3,
   "metadata": {},
   "outputs": [
    {
     "name": "stdout",
     "output_type": "stream",
     "text": [
      "Using token @@P:hf@@\\n"
     ]
    }
   ],
   "source": [
    "import os\\n",
    "print('Using token', os.environ['HF_TOKEN'])"
   ]
  }
 ],
 "metadata": {},
 "nbformat": 4,
 "nbformat_minor": 5
}
"""),
    ("web/public/status.html", """<!doctype html>
<html>
<head>
<script>
  window.INTERNAL_CONFIG = {
    apiBase: "https://api.acme.io",
    adminToken: "@@P:jwt_secret@@"
  };
</script>
</head>
<body></body>
</html>
"""),
    ("db/dump.sql", """-- MySQL dump 10.13
INSERT INTO `integrations` (`id`, `provider`, `api_key`, `created_at`) VALUES
(1,'sendgrid','@@P:sendgrid@@','2025-03-01 10:00:00'),
(2,'mailgun','@@P:mailgun@@','2025-03-02 11:00:00');
INSERT INTO `users` (`id`, `email`, `password`) VALUES (1,'a@acme.io','@@D:bcrypt@@');
"""),
    ("exports/keys.csv", """service,owner,key,rotated
github,platform,@@P:github@@,2025-01-10
stripe,payments,@@P:stripe@@,2025-02-11
"""),
    (".github/workflows/nightly.yml", """name: nightly
on:
  schedule:
    - cron: "0 2 * * *"
jobs:
  export:
    runs-on: ubuntu-latest
    steps:
      - run: |
          export DATADOG_API_KEY=@@P:hex32@@
          curl -X POST -H "DD-API-KEY: $DATADOG_API_KEY" https://api.datadoghq.com/api/v1/series
      - run: echo "token=@@D:gha_env@@" >> "$GITHUB_OUTPUT"
"""),
    ("charts/mailer/templates/secret.yaml", """apiVersion: v1
kind: Secret
metadata:
  name: mailer
stringData:
  SMTP_PASSWORD: {{ .Values.smtp.password | default "@@P:password@@" | quote }}
  SMTP_USER: @@D:helm_values_ref@@
"""),
    ("infra/locals.tf", """locals {
  db_password  = "@@P:password@@"
  github_token = "@@P:github@@"
}

resource "aws_db_instance" "main" {
  password = @@D:tf_local_ref@@
}
"""),
    ("ansible/site.yml", """- hosts: web
  become: true
  vars:
    app_secret_key: "@@P:django@@"
    newrelic_license_key: "@@P:newrelic_license@@"
  roles:
    - app
"""),
    ("config/jboss-ds.xml", """<datasources>
  <datasource jndi-name="java:/OrdersDS" pool-name="OrdersDS">
    <connection-url>jdbc:postgresql://db:5432/orders?user=orders&amp;password=@@P:password@@</connection-url>
    <security>
      <user-name>orders</user-name>
      <password>@@P:password@@</password>
    </security>
  </datasource>
</datasources>
"""),
    ("src/main/resources/mail.properties", """mail.smtp.host=smtp.mailgun.org
mail.smtp.user=postmaster@mg.acme.io
mail.smtp.password=@@P:password@@
twilio.auth.token=@@P:twilio_token@@
twilio.account.sid=@@I:twilio_ac@@
"""),
    ("Makefile", """REGISTRY := ghcr.io/acme
GH_TOKEN := @@P:github@@

push:
\\techo $(GH_TOKEN) | docker login ghcr.io -u acme-bot --password-stdin
\\tdocker push $(REGISTRY)/api:latest
"""),
    ("internal/client/client_test.go", """package client

import "testing"

func TestUpload(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "@@I:aws_id@@")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "@@P:aws_secret@@")
	c := New(Config{Token: "@@P:gitlab@@"})
	_ = c
}
"""),
    ("ios/AcmeTests/APITests.swift", """import XCTest

final class APITests: XCTestCase {
    let apiKey = "@@P:b62_32@@"
    let stripeKey = "@@P:stripe@@"
}
"""),
    ("Jenkinsfile", """pipeline {
  agent any
  stages {
    stage('deploy') {
      steps {
        withCredentials([string(@@D:with_credentials@@, variable: 'TOKEN')]) {
          sh 'curl -H "Authorization: token $TOKEN" https://api.github.com/user'
        }
        sh 'curl -u deploy:@@P:password@@ https://nexus.acme.io/service/rest/v1/components'
      }
    }
  }
}
"""),
    ("docker-compose.yml", """services:
  worker:
    image: acme/worker:2.1
    command: ["--redis-password", "@@P:b62_32@@", "--concurrency", "4"]
  grafana:
    image: grafana/grafana:10.4.2
    environment:
      - GF_SECURITY_ADMIN_PASSWORD=@@P:password@@
"""),
    ("logs/app-2026-11-29.log", """2026-11-29T10:00:01Z INFO  starting worker pid=4121
2026-11-29T10:00:02Z DEBUG connecting to @@P:slack_webhook@@
2026-11-29T10:00:03Z DEBUG request headers: {"Authorization": "Bearer @@P:gh_oauth@@", "Accept": "application/json"}
2026-11-29T10:00:04Z INFO  request id @@D:uuid_req@@ done in 120ms
"""),
    ("README.md", """# acme-exporter

Quick start:

```sh
export ACME_EXPORTER_TOKEN=@@P:jwt_secret@@
./exporter --once
```

Get your own token from the dashboard and set `ACME_EXPORTER_TOKEN=@@D:angle@@`.
"""),
]
