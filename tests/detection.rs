//! Detection quality (issue 14): where findings are reported and which values count.

use crate::macros::{finding_places as places, place, run_json};
use crate::synth::Synth;

// A token on one line of a multi-line cell is reported once, at the line that holds
// it, not a second time at the cell's `"source": [` line.
kttest!(
    notebook_cell_secret_is_reported_once_at_its_line,
    |dir, cmd| {
        let mut synth = Synth::new(14);
        let token = synth.github_pat();
        let (key_id, key) = synth.aws_pair();
        let first = vec![
            "import requests\n".to_string(),
            format!("GITHUB_TOKEN = \"{token}\"\n"),
            "requests.get(URL, headers={\"Authorization\": GITHUB_TOKEN})\n".to_string(),
        ];
        let second = vec![
            "import boto3\n".to_string(),
            format!("s3 = boto3.client(\"s3\", aws_access_key_id=\"{key_id}\",\n"),
            format!("    aws_secret_access_key=\"{key}\")\n"),
        ];
        let notebook = serde_json::json!({
            "cells": [
                { "cell_type": "code", "metadata": {}, "source": first },
                { "cell_type": "code", "metadata": {}, "source": second },
            ],
            "nbformat": 4,
        });
        let text = serde_json::to_string_pretty(&notebook).expect("json");
        let line_of = |needle: &str| {
            text.lines()
                .position(|l| l.contains(needle))
                .expect("needle in notebook") as u64
                + 1
        };
        dir.write("analysis.ipynb", &text);
        let (_, report, _) = run_json(cmd.args(["scan", ".", "--format", "json"]));
        assert_eq!(
            places(&report),
            vec![
                (
                    "github-pat-classic".to_string(),
                    "analysis.ipynb".to_string(),
                    line_of(&token)
                ),
                (
                    "aws-secret-access-key-near-id".to_string(),
                    "analysis.ipynb".to_string(),
                    line_of(&key)
                ),
            ]
        );
    }
);

const HEX: &[u8] = b"0123456789abcdef";

// Values that only their name identifies: a Datadog key in a Kubernetes env list
// (name/value pairs), a Mailgun key under a `mailgun:` block, Twilio API key SID and
// secret as Java constants, and every password of a .netrc with several machines.
kttest!(named_values_are_found_by_their_names, |dir, cmd| {
    let mut synth = Synth::new(1414);
    let dd = synth.chars(HEX, 32);
    dir.write(
        "k8s/agent.yaml",
        format!(
            "spec:\n  containers:\n    - name: agent\n      env:\n        - name: DD_SITE\n          value: datadoghq.eu\n        - name: DD_API_KEY\n          value: \"{dd}\"\n        - name: DD_APP_KEY\n          valueFrom:\n            secretKeyRef:\n              name: datadog\n              key: app-key\n"
        ),
    );
    let mailgun = format!("key-{}", synth.chars(HEX, 32));
    dir.write(
        "config/app.yml",
        format!("mailgun:\n  domain: mg.corp-mail.net\n  region: eu\n  api_key: {mailgun}\n"),
    );
    let sid = format!("SK{}", synth.chars(HEX, 32));
    let twilio = synth.base62(32);
    dir.write(
        "src/Sms.java",
        format!(
            "public class Sms {{\n    private static final String TWILIO_API_KEY_SID = \"{sid}\";\n    private static final String TWILIO_API_KEY_SECRET = \"{twilio}\";\n}}\n"
        ),
    );
    let (first, second) = (synth.password(), synth.password());
    dir.write(
        ".netrc",
        format!("machine api.heroku.com\n  login ops@corp.net\n  password {first}\nmachine git.corp.net login deploy password {second}\n"),
    );
    let (_, report, _) = run_json(cmd.args(["scan", ".", "--format", "json"]));
    let got: Vec<(String, String, u64)> = places(&report);
    assert_eq!(
        got,
        vec![
            place("netrc-password", ".netrc", 3),
            place("netrc-password", ".netrc", 4),
            place("mailgun-api-key", "config/app.yml", 4),
            place("datadog-api-key", "k8s/agent.yaml", 8),
            place("twilio-auth-token", "src/Sms.java", 3),
        ]
    );
    let twilio_finding = &report["findings"][4];
    assert!(
        !report.to_string().contains(&twilio) && !report.to_string().contains(&dd),
        "no plaintext in the report"
    );
    assert_eq!(twilio_finding["rule"], "twilio-auth-token");
});

// Every password of a .netrc counts, the default entry's too, each at its own line;
// placeholders and references do not.
kttest!(
    each_netrc_password_is_one_finding_at_its_line,
    |dir, cmd| {
        let mut synth = Synth::new(1415);
        let (a, b, c, d) = (
            synth.password(),
            synth.password(),
            synth.password(),
            synth.password(),
        );
        dir.write(
        "home/.netrc",
        format!(
            "machine api.heroku.com\n  login ops@corp.net\n  password {a}\nmachine git.corp.net login deploy password {b}\nmachine ftp.corp.net login mirror password ${{FTP_PASSWORD}}\nmachine ci.corp.net\n\tlogin bot\n\tpassword <token>\nmachine api.wandb.ai login user password {c}\ndefault login anonymous password {d}\n"
        ),
    );
        let (_, report, _) = run_json(cmd.args(["scan", ".", "--format", "json"]));
        assert_eq!(
            places(&report),
            vec![
                place("netrc-password", "home/.netrc", 3),
                place("netrc-password", "home/.netrc", 4),
                place("netrc-password", "home/.netrc", 9),
                place("netrc-password", "home/.netrc", 10),
            ]
        );
        let text = report.to_string();
        assert!(
            [a, b, c, d].iter().all(|p| !text.contains(p.as_str())),
            "no plaintext"
        );
    }
);

// `rules keywords` is the prefilter's literal list (for `rg -F -i -f`), and
// `rules list --format json` one object per rule sorted by id, the same bytes each run.
kttest!(
    rules_keywords_and_json_list_are_sorted_and_stable,
    |dir, cmd| {
        let (code, keywords, _) = crate::macros::run(cmd.args(["rules", "keywords"]));
        assert_eq!(code, 0);
        let lines: Vec<&str> = keywords.lines().collect();
        let mut sorted = lines.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(lines, sorted, "sorted, unique");
        assert!(lines.contains(&"ghp_") && lines.contains(&"\"cell_type\""));
        assert!(lines.iter().all(|k| *k == k.to_ascii_lowercase()));
        let (_, list, _) = run_json(dir.command().args(["rules", "list", "--format", "json"]));
        let ids: Vec<&str> = list
            .as_array()
            .expect("array")
            .iter()
            .map(|r| r["id"].as_str().expect("id"))
            .collect();
        let mut sorted_ids = ids.clone();
        sorted_ids.sort();
        assert_eq!(ids, sorted_ids);
        assert!(ids.contains(&"github-pat-classic"));
        let entry = list
            .as_array()
            .expect("array")
            .iter()
            .find(|r| r["id"] == "github-pat-classic")
            .expect("rule");
        assert_eq!(entry["keywords"], serde_json::json!(["ghp_"]));
        assert_eq!(entry["confidence"], "high");
    }
);

/// A JWT with an HS256 header and the given payload (signature random), as Supabase issues them.
fn supabase_jwt(synth: &mut Synth, role: &str) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    let reference = synth.chars(b"abcdefghijklmnopqrstuvwxyz", 20);
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(format!(
        r#"{{"iss":"supabase","ref":"{reference}","role":"{role}","iat":1731402114,"exp":2046978114}}"#
    ));
    format!("{header}.{payload}.{}", synth.base62(43))
}

// Client tokens that are public by design are not reported, whichever name or file
// format holds them (a generic token rule or the JWT rule would otherwise report
// several); with --include-public each is reported once, by its public rule, as info.
// Their secret siblings are reported as before.
kttest!(
    public_by_design_tokens_are_info_only_with_include_public,
    |dir, cmd| {
        let mut synth = Synth::new(1403);
        let rum = format!("pub{}", synth.chars(HEX, 32));
        let publishable = format!("pk_live_51{}", synth.base62(97));
        let dsn_key = synth.chars(HEX, 32);
        let search_key = synth.chars(HEX, 32);
        let anon = supabase_jwt(&mut synth, "anon");
        let service = supabase_jwt(&mut synth, "service_role");
        let write_key = synth.base62(32);
        let secret = synth.stripe_live();
        let dd_api = synth.chars(HEX, 32);
        dir.write(
        "web/src/monitoring.js",
        format!(
            "datadogRum.init({{\n  applicationId: 'app-1',\n  clientToken: '{rum}',\n}});\nconst stripe = Stripe('{publishable}');\nanalytics.load(\"{write_key}\");\n"
        ),
    );
        dir.write(
        ".env",
        format!(
            "SENTRY_DSN=https://{dsn_key}@o4504123.ingest.sentry.io/4504123456789\nSUPABASE_ANON_KEY={anon}\nSUPABASE_SERVICE_ROLE_KEY={service}\nSTRIPE_SECRET_KEY={secret}\n"
        ),
    );
        dir.write(
        "deploy/values.yaml",
        format!("datadog:\n  apiKey: {dd_api}\n  clientToken: \"{rum}\"\nalgolia:\n  appId: HX7QW2LM9T\n  searchOnlyApiKey: {search_key}\n"),
    );
        dir.write(
        "config/public.json",
        format!("{{\n  \"stripe\": {{ \"api_key\": \"{publishable}\" }},\n  \"supabase\": {{ \"token\": \"{anon}\" }}\n}}\n"),
    );
        let secrets = vec![
            ("jwt".to_string(), ".env".to_string(), 3),
            ("stripe-secret-key-live".to_string(), ".env".to_string(), 4),
            (
                "datadog-api-key".to_string(),
                "deploy/values.yaml".to_string(),
                2,
            ),
        ];
        let (code, report, _) = run_json(cmd.args(["scan", ".", "--format", "json"]));
        assert_eq!(code, 1);
        assert_eq!(places(&report), secrets, "public tokens are not reported");

        let (_, report, _) =
            run_json(
                dir.command()
                    .args(["scan", ".", "--format", "json", "--include-public"]),
            );
        let mut public = vec![
            place("sentry-dsn-public-key", ".env", 1),
            place("supabase-anon-key", ".env", 2),
            place("stripe-publishable-key", "config/public.json", 2),
            place("supabase-anon-key", "config/public.json", 3),
            place("datadog-rum-client-token", "deploy/values.yaml", 3),
            place("algolia-search-only-api-key", "deploy/values.yaml", 6),
            place("datadog-rum-client-token", "web/src/monitoring.js", 3),
            place("stripe-publishable-key", "web/src/monitoring.js", 5),
            place("segment-write-key", "web/src/monitoring.js", 6),
        ];
        public.extend(secrets);
        let mut got = places(&report);
        got.sort();
        public.sort();
        assert_eq!(got, public);
        for f in report["findings"].as_array().expect("findings") {
            let is_public = !["jwt", "stripe-secret-key-live", "datadog-api-key"]
                .contains(&f["rule"].as_str().expect("rule"));
            assert_eq!(f["severity"] == "info", is_public, "{f}");
        }
        let text = report.to_string();
        for value in [&rum, &publishable, &dsn_key, &search_key, &anon, &write_key] {
            assert!(!text.contains(value.as_str()), "no plaintext in the report");
        }
        // The flag is visible where users look rules up.
        let (_, explain, _) =
            crate::macros::run(
                dir.command()
                    .args(["rules", "explain", "supabase-anon-key"]),
            );
        assert!(
            explain.contains("public by design: reported only with `scan --include-public`"),
            "{explain}"
        );
        let (_, list, _) = run_json(dir.command().args(["rules", "list", "--format", "json"]));
        let public_ids: Vec<&str> = list
            .as_array()
            .expect("array")
            .iter()
            .filter(|r| r["public"] == true)
            .map(|r| r["id"].as_str().expect("id"))
            .collect();
        assert!(
            public_ids.contains(&"stripe-publishable-key")
                && !public_ids.contains(&"stripe-secret-key-live")
        );
    }
);

// A public rule must say what it reports (`severity = "info"`); the loader names the place.
kttest!(public_rule_must_declare_info_severity, |dir, cmd| {
    dir.write(
        "mine/acme.toml",
        r#"
[[rule]]
id = "acme-browser-key"
name = "Acme browser key"
description = """
Finds Acme browser keys (acmepub_ followed by 24 lowercase letters).
Why: public by design.
Rotate: nothing to rotate, https://acme.invalid/docs/keys
"""
regex = '''\b(acmepub_[a-z]{24})\b'''
keywords = ["acmepub_"]
confidence = "high"
severity = "high"
public = true
examples = [{ secret = "acmepub_qwertyuiopasdfghjklzxcvb" }]
negatives = ["acmepub_short"]
"#,
    );
    let (code, stdout, stderr) = crate::macros::run(cmd.args(["rules", "check", "mine"]));
    assert_eq!(code, 2, "{stdout}");
    assert!(
        stderr.contains("acme.toml:3: rule `acme-browser-key`: a `public = true` rule"),
        "{stderr}"
    );
});

/// A signing secret as developers paste them: letters, digits and a few symbols.
fn signing_secret(synth: &mut Synth) -> String {
    format!(
        "{}#{}!{}",
        synth.base62(10),
        synth.base62(9),
        synth.base62(8)
    )
}

// JWT/HMAC signing secrets hard-coded in code are findings in each language they are
// written in; placeholders, environment lookups and short values next to them are not.
kttest!(
    hard_coded_signing_keys_are_found_in_each_language,
    |dir, cmd| {
        let mut synth = Synth::new(1402);
        let (go, js, py, java, kotlin) = (
            signing_secret(&mut synth),
            signing_secret(&mut synth),
            signing_secret(&mut synth),
            signing_secret(&mut synth),
            signing_secret(&mut synth),
        );
        let (django, flask) = (signing_secret(&mut synth), signing_secret(&mut synth));
        let rails = synth.chars(HEX, 128);
        dir.write(
        "auth/jwt.go",
        format!("package auth\n\nvar jwtKey = []byte(\"{go}\")\nvar devKey = []byte(os.Getenv(\"JWT_KEY\"))\nvar demoKey = []byte(\"my_secret_key\")\n"),
    );
        dir.write(
        "api/session.ts",
        format!("export const issue = (user: User) =>\n  jwt.sign({{ id: user.id, role: user.role }}, \"{js}\", {{ expiresIn: \"1h\" }});\nexport const check = (t: string) => jwt.verify(t, process.env.JWT_SECRET);\nconst demo = jwt.sign(payload, 'your-secret-key');\n"),
    );
        dir.write(
        "service/tokens.py",
        format!("import jwt\n\ndef issue(uid):\n    return jwt.encode({{\"sub\": uid}}, \"{py}\", algorithm=\"HS256\")\n\ndef check(tok):\n    return jwt.decode(tok, settings.SECRET_KEY, algorithms=[\"HS256\"])\n"),
    );
        dir.write(
        "src/main/java/corp/Jwt.java",
        format!("class Jwt {{\n    private final SecretKey key = Keys.hmacShaKeyFor(\"{java}\".getBytes(StandardCharsets.UTF_8));\n    private final SecretKey env = Keys.hmacShaKeyFor(secret.getBytes());\n}}\n"),
    );
        dir.write(
            "app/src/Token.kt",
            format!("val algorithm = Algorithm.HMAC256(\"{kotlin}\")\n"),
        );
        dir.write(
        "config/secrets.yml",
        format!("production:\n  secret_key_base: {rails}\ndevelopment:\n  secret_key_base: <%= ENV[\"SECRET_KEY_BASE\"] %>\n"),
    );
        dir.write(
            "site/settings.py",
            format!("DEBUG = False\nSECRET_KEY = '{django}'\n"),
        );
        dir.write(
        "web/app.py",
        format!("app = Flask(__name__)\napp.secret_key = \"{flask}\"\napp.config[\"SECRET_KEY\"] = os.environ[\"FLASK_SECRET\"]\n"),
    );
        let (code, report, _) = run_json(cmd.args(["scan", ".", "--format", "json"]));
        assert_eq!(code, 1);
        let mut got = places(&report);
        got.sort();
        let mut expected = vec![
            place("go-jwt-signing-key", "auth/jwt.go", 3),
            place("jwt-library-literal-secret", "api/session.ts", 2),
            place("jwt-library-literal-secret", "service/tokens.py", 4),
            place("java-hmac-literal-key", "src/main/java/corp/Jwt.java", 2),
            place("java-hmac-literal-key", "app/src/Token.kt", 1),
            place("rails-secret-key-base", "config/secrets.yml", 2),
            place("generic-framework-secret-key", "site/settings.py", 2),
            place("generic-framework-secret-key", "web/app.py", 2),
        ];
        expected.sort();
        assert_eq!(got, expected);
        for f in report["findings"].as_array().expect("findings") {
            assert_ne!(f["confidence"], "high", "name- and call-based: {f}");
        }
        let text = report.to_string();
        for value in [&go, &js, &py, &java, &kotlin, &django, &flask, &rails] {
            assert!(!text.contains(value.as_str()), "no plaintext in the report");
        }
    }
);
