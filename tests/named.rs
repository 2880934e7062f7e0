//! Named-value rules (issue 14 point 1): a value with no prefix, found by the name it is
//! assigned to, in every format the named-value scanner reads, through the real binary.

use crate::macros::{finding_places as places, place, run_json};
use crate::synth::Synth;

const HEX: &[u8] = b"0123456789abcdef";

/// One planted value: the rule that must report it, the file, the file's text with `{}`
/// for the value (`{ac}` and `{sk}` for a Twilio account and API key SID beside it),
/// the value's line, and how to make the value.
struct Plant {
    rule: &'static str,
    path: &'static str,
    text: &'static str,
    line: u64,
    value: fn(&mut Synth) -> String,
}

fn hex32(s: &mut Synth) -> String {
    s.chars(HEX, 32)
}

/// 64 random bytes in standard base64, as Azure Storage account keys are.
fn azure_key(s: &mut Synth) -> String {
    use base64::Engine as _;
    let bytes: Vec<u8> = (0..64)
        .map(|_| u8::from_str_radix(&s.chars(HEX, 2), 16).expect("hex"))
        .collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Writes one file per plant; each value is reported once, by its rule, at its line,
/// and never in plaintext.
fn assert_found_by_name(
    dir: &crate::macros::TestDir,
    cmd: &mut std::process::Command,
    seed: u64,
    plants: &[Plant],
) {
    let mut synth = Synth::new(seed);
    let mut values = Vec::new();
    let mut want = Vec::new();
    for plant in plants {
        let value = (plant.value)(&mut synth);
        let ac = format!("AC{}", synth.chars(HEX, 32));
        let sk = format!("SK{}", synth.chars(HEX, 32));
        let text = plant
            .text
            .replace("{ac}", &ac)
            .replace("{sk}", &sk)
            .replace("{}", &value);
        dir.write(plant.path, text);
        want.push(place(plant.rule, plant.path, plant.line));
        values.push(value);
    }
    let (_, report, _) = run_json(cmd.args(["scan", ".", "--format", "json"]));
    let mut got = places(&report);
    got.sort();
    want.sort();
    assert_eq!(got, want);
    let text = report.to_string();
    assert!(
        values.iter().all(|v| !text.contains(v.as_str())),
        "no plaintext"
    );
}

// One Datadog API key per file, each in a different format.
kttest!(
    datadog_keys_are_found_by_name_in_every_format,
    |dir, cmd| {
        let dd = |path, text, line| Plant {
            rule: "datadog-api-key",
            path,
            text,
            line,
            value: hex32,
        };
        assert_found_by_name(&dir, &mut cmd, 1401, &[
            dd("config/datadog.yaml", "datadog:\n  site: datadoghq.eu\n  api_key: \"{}\"\n", 3),
            dd("config/monitor.json", "{\n  \"datadog\": {\n    \"apiKey\": \"{}\"\n  }\n}\n", 3),
            dd(".env", "DD_SITE=datadoghq.eu\nDD_API_KEY={}\n", 2),
            dd("app.properties", "datadog.site=datadoghq.eu\ndatadog.api.key={}\n", 2),
            dd(
                "k8s/agent.yaml",
                "spec:\n  containers:\n    - name: agent\n      env:\n        - name: DD_API_KEY\n          value: {}\n",
                6,
            ),
            dd(
                "src/Metrics.java",
                "public final class Metrics {\n    private static final String DATADOG_API_KEY = \"{}\";\n}\n",
                2,
            ),
            dd("metrics/client.go", "package metrics\n\nconst ddApiKey = \"{}\"\n", 3),
            dd("metrics.py", "import os\n\nDD_API_KEY = '{}'\n", 3),
            dd("metrics.js", "module.exports = {\n  datadogApiKey: `{}`,\n};\n", 2),
        ]);
    }
);

fn mailgun(s: &mut Synth) -> String {
    format!("key-{}", s.chars(HEX, 32))
}
fn base62_32(s: &mut Synth) -> String {
    s.base62(32)
}
fn hex20(s: &mut Synth) -> String {
    s.chars(HEX, 20)
}
fn hex64(s: &mut Synth) -> String {
    s.chars(HEX, 64)
}
fn okta(s: &mut Synth) -> String {
    format!(
        "00{}",
        s.chars(
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
            40
        )
    )
}

// Credentials that only their name identifies (issue 14 point 1), each vendor in at
// least three formats: Mailgun under a `mailgun:` block and as env entries, Twilio auth
// tokens and API key secrets by vendor name and as Java/C#/Python constants next to
// their SIDs, Algolia admin keys, Pusher secrets, Sentry and Okta tokens, Azure
// Storage account keys.
kttest!(
    vendor_values_are_found_by_name_in_each_format,
    |dir, cmd| {
        let p = |rule, path, text, line, value| Plant {
            rule,
            path,
            text,
            line,
            value,
        };
        assert_found_by_name(&dir, &mut cmd, 1404, &[
            p("mailgun-api-key", "mail/config.yml", "mailgun:\n  domain: mg.corp-mail.net\n  region: eu\n  api_key: {}\n", 4, mailgun),
            p("mailgun-api-key", "mail/.env", "MAILGUN_DOMAIN=mg.corp-mail.net\nMAILGUN_API_KEY={}\n", 2, mailgun),
            p("mailgun-api-key", "mail/services.php", "<?php\nreturn [\n    'mailgun' => [\n        'domain' => env('MAILGUN_DOMAIN'),\n        'secret' => '{}',\n    ],\n];\n", 5, mailgun),
            p("mailgun-api-key", "mail/k8s.yaml", "env:\n  - name: MAILGUN_API_KEY\n    value: \"{}\"\n", 3, mailgun),
            p("twilio-auth-token", "sms/Sms.java", "public class Sms {\n    static final String TWILIO_API_KEY_SID = \"{sk}\";\n    static final String TWILIO_API_KEY_SECRET = \"{}\";\n}\n", 3, base62_32),
            p("twilio-auth-token", "sms/twilio.json", "{\n  \"twilio\": {\n    \"accountSid\": \"{ac}\",\n    \"authToken\": \"{}\"\n  }\n}\n", 4, hex32),
            p("twilio-auth-token", "sms/.env", "TWILIO_ACCOUNT_SID={ac}\nTWILIO_AUTH_TOKEN={}\n", 2, hex32),
            p("twilio-auth-token-by-account-sid", "sms/Example.java", "public class Example {\n    public static final String ACCOUNT_SID = \"{ac}\";\n    public static final String AUTH_TOKEN = \"{}\";\n}\n", 3, hex32),
            p("twilio-auth-token-by-account-sid", "sms/Program.cs", "class Program {\n    static void Main() {\n        const string accountSid = \"{ac}\";\n        const string authToken = \"{}\";\n    }\n}\n", 4, hex32),
            p("twilio-api-key-secret", "sms/send.py", "api_key = '{sk}'\napi_secret = '{}'\nclient = Client(api_key, api_secret, account_sid)\n", 2, base62_32),
            p("twilio-api-key-secret", "sms/Keys.cs", "const string apiKeySid = \"{sk}\";\nconst string apiKeySecret = \"{}\";\n", 2, base62_32),
            p("algolia-admin-api-key", "search/.env", "ALGOLIA_APP_ID=HX7QW2LM9T\nALGOLIA_ADMIN_API_KEY={}\n", 2, hex32),
            p("algolia-admin-api-key", "search/index.js", "const ALGOLIA_APP_ID = 'HX7QW2LM9T';\nconst ALGOLIA_ADMIN_KEY = '{}';\n", 2, hex32),
            p("algolia-admin-api-key", "search/scout.php", "<?php\nreturn [\n    'algolia' => [\n        'id' => env('ALGOLIA_APP_ID'),\n        'secret' => '{}',\n    ],\n];\n", 5, hex32),
            p("pusher-app-secret", "push/.env", "PUSHER_APP_ID=1583627\nPUSHER_APP_SECRET={}\n", 2, hex20),
            p("pusher-app-secret", "push/pusher.rb", "Pusher.app_id = '1583627'\nPusher.secret = '{}'\n", 2, hex20),
            p("pusher-app-secret", "push/server.js", "const pusher = new Pusher({\n  appId: \"1583627\",\n  secret: \"{}\",\n  cluster: \"eu\",\n});\n", 3, hex20),
            p("sentry-auth-token-legacy", "sentry/.env", "SENTRY_ORG=acme\nSENTRY_AUTH_TOKEN={}\n", 2, hex64),
            p("sentry-auth-token-legacy", "sentry/sentry.properties", "defaults.url=https://sentry.io/\ndefaults.org=acme\nauth.token={}\n", 3, hex64),
            p("sentry-auth-token-legacy", "sentry/build.gradle", "sentry {\n    org = \"acme\"\n    authToken = \"{}\"\n}\n", 3, hex64),
            p("okta-api-token", "okta/okta.yaml", "okta:\n  client:\n    orgUrl: https://acme.okta.com\n    token: {}\n", 4, okta),
            p("okta-api-token", "okta/main.tf", "provider \"okta\" {\n  org_name  = \"acme\"\n  api_token = \"{}\"\n}\n", 3, okta),
            p("okta-api-token", "okta/application.properties", "okta.client.orgUrl=https://acme.okta.com\nokta.client.token={}\n", 2, okta),
            p("azure-storage-account-key", "azure/.env", "AZURE_STORAGE_ACCOUNT=acmemedia\nAZURE_STORAGE_KEY={}\n", 2, azure_key),
            p("azure-storage-account-key", "azure/appsettings.json", "{\n  \"Storage\": {\n    \"AccountName\": \"acmeapi\",\n    \"AccountKey\": \"{}\"\n  }\n}\n", 4, azure_key),
            p("azure-storage-account-key", "azure/backend.tf", "terraform {\n  backend \"azurerm\" {\n    storage_account_name = \"acmetf\"\n    access_key           = \"{}\"\n  }\n}\n", 4, azure_key),
        ]);
    }
);

// Next to the vendor's name or identifier only: an auth token with no Twilio account
// SID near it, an API secret with no key SID, placeholders and references under vendor
// names, and a value of the wrong length are not vendor findings.
kttest!(
    vendor_names_skip_placeholders_references_and_strangers,
    |dir, cmd| {
        let mut synth = Synth::new(1405);
        let (token, secret) = (synth.chars(HEX, 32), synth.base62(32));
        dir.write(
            "sms/Config.java",
            format!("class Config {{\n    static final String AUTH_TOKEN = \"{token}\";\n    static final String API_SECRET_HASH = \"{secret}\";\n}}\n"),
        );
        dir.write(
            "config/app.yml",
            format!(
                "mailgun:\n  api_key: ${{MAILGUN_API_KEY}}\ntwilio:\n  auth_token: <your-auth-token>\nokta:\n  client:\n    token: \"{{{{ .Values.okta.token }}}}\"\npusher:\n  secret: {short}\nalgolia:\n  apiKey: {search}\n",
                short = synth.chars(HEX, 19),
                search = synth.chars(HEX, 32),
            ),
        );
        dir.write(
            ".github/workflows/ci.yml",
            "env:\n  SENTRY_AUTH_TOKEN: ${{ secrets.SENTRY_AUTH_TOKEN }}\n  AZURE_STORAGE_KEY: ${{ secrets.AZURE_STORAGE_KEY }}\n",
        );
        let (code, report, _) = run_json(cmd.args(["scan", ".", "--format", "json"]));
        let vendor: Vec<_> = places(&report)
            .into_iter()
            .filter(|(rule, _, _)| !rule.starts_with("generic-"))
            .collect();
        assert_eq!(vendor, Vec::new(), "{report}");
        assert!(code == 0 || code == 1);
    }
);

// The name alone is not enough: placeholders, lookups, comparisons and values of the
// wrong shape under the right name are not vendor findings; neither is the right shape
// under another name. A 32-hex value under a key name is still a low-confidence generic
// one (it may be the key without its dashes).
kttest!(
    named_rules_skip_placeholders_lookups_and_wrong_shapes,
    |dir, cmd| {
        let mut synth = Synth::new(1402);
        let short = synth.chars(HEX, 31);
        let uuid = format!(
            "{}-{}-{}-{}-{}",
            synth.chars(HEX, 8),
            synth.chars(HEX, 4),
            synth.chars(HEX, 4),
            synth.chars(HEX, 4),
            synth.chars(HEX, 12)
        );
        let hex = synth.chars(HEX, 32);
        dir.write(
        ".env",
        format!("DD_API_KEY=${{DD_API_KEY}}\nDD_APP_KEY=<your-app-key>\nDD_API_KEY={short}\nHEROKU_API_KEY={hex}\n"),
    );
        dir.write(
        "k8s/agent.yaml",
        "env:\n  - name: DD_API_KEY\n    valueFrom:\n      secretKeyRef:\n        name: datadog\n        key: api-key\n  - name: DD_APP_KEY\n    value: \"{{ .Values.datadog.appKey }}\"\n",
    );
        dir.write(
            "check.py",
            format!("if DD_API_KEY == \"{hex}\":\n    pass\nheroku_app_id = \"{uuid}\"\n"),
        );
        dir.write(
            "client.js",
            "const datadogApiKey = process.env.DD_API_KEY;\n",
        );
        let (code, report, _) = run_json(cmd.args(["scan", ".", "--format", "json"]));
        assert_eq!(
            places(&report),
            vec![("generic-hex-secret".to_string(), ".env".to_string(), 4)],
            "{report}"
        );
        assert_eq!(code, 1);
    }
);

// A value that a named rule and a generic secret-named rule both see is reported once,
// by the named rule; Heroku and Contentful keys are found by name in several formats.
kttest!(
    named_values_are_reported_once_by_the_vendor_rule,
    |dir, cmd| {
        let mut synth = Synth::new(1403);
        let uuid = format!(
            "{}-{}-4{}-a{}-{}",
            synth.chars(HEX, 8),
            synth.chars(HEX, 4),
            synth.chars(HEX, 3),
            synth.chars(HEX, 3),
            synth.chars(HEX, 12)
        );
        let cf: String = synth.base62(43);
        dir.write(
            "deploy.sh",
            format!("#!/bin/sh\nexport HEROKU_API_KEY=\"{uuid}\"\n"),
        );
        dir.write(
            "site/config.toml",
            format!("[contentful]\nspace = \"k3n8qz1w0rpl\"\naccess_token = \"{cf}\"\n"),
        );
        let (_, report, _) = run_json(cmd.args(["scan", ".", "--format", "json"]));
        let mut got = places(&report);
        got.sort();
        assert_eq!(
            got,
            vec![
                place("contentful-delivery-token", "site/config.toml", 3),
                place("heroku-api-key", "deploy.sh", 2),
            ]
        );
        let text = report.to_string();
        assert!(!text.contains(&uuid) && !text.contains(&cf), "no plaintext");
    }
);
