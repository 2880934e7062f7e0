//! Secrets hidden by an encoding (base64 in Kubernetes Secrets and Helm values,
//! Docker config `auth`, URL-encoding in connection strings): found, the decoding
//! named, the encoded line pointed at, and the fingerprint that of the plain value.
//! Fixtures: `fixtures/formats/decoding` (written by `fixtures/make-decoding.py`).

use crate::macros::{run, run_json, TestDir};
use serde_json::Value;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/formats/decoding");

/// One finding as the tests compare it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Found {
    path: String,
    line: u64,
    rule: String,
    decoding: Option<String>,
    file_kind: String,
    fingerprint: String,
}

/// Findings of `keytrace scan <FIXTURES>/<sub> --format json`, paths relative to the fixture dir.
fn scan(dir: &TestDir, sub: &str) -> Vec<Found> {
    let target = format!("{FIXTURES}/{sub}");
    let (_, v, _) = run_json(dir.command().args(["scan", &target, "--format", "json"]));
    let mut out: Vec<Found> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let path = f["location"]["path"].as_str().expect("path");
            Found {
                path: path
                    .split_once("formats/decoding/")
                    .map_or(path, |(_, p)| p)
                    .to_string(),
                line: f["location"]["line"].as_u64().expect("line"),
                rule: f["rule"].as_str().expect("rule").to_string(),
                decoding: f["context"]["decoding"].as_str().map(str::to_string),
                file_kind: f["context"]["file_kind"].as_str().unwrap_or("").to_string(),
                fingerprint: f["secret"]["fingerprint"].as_str().expect("fp").to_string(),
            }
        })
        .collect();
    out.sort();
    out
}

/// `(path, line, rule, decoding, file_kind)` of each finding, for exact comparison.
fn places(found: &[Found]) -> Vec<(&str, u64, &str, Option<&str>, &str)> {
    found
        .iter()
        .map(|f| {
            (
                f.path.as_str(),
                f.line,
                f.rule.as_str(),
                f.decoding.as_deref(),
                f.file_kind.as_str(),
            )
        })
        .collect()
}

/// The fingerprint of the finding at `path:line`.
fn fingerprint_at<'a>(found: &'a [Found], path: &str, line: u64) -> &'a str {
    found
        .iter()
        .find(|f| f.path == path && f.line == line)
        .unwrap_or_else(|| panic!("no finding at {path}:{line} in {found:#?}"))
        .fingerprint
        .as_str()
}

kttest!(plain_values_are_found_without_decoding, |dir, _cmd| {
    let found = scan(&dir, "plain");
    assert_eq!(
        places(&found),
        vec![
            ("plain/secrets.env", 1, "github-pat-classic", None, "dotenv"),
            ("plain/secrets.env", 2, "generic-password", None, "dotenv"),
            ("plain/secrets.env", 3, "generic-password", None, "dotenv"),
            ("plain/secrets.env", 4, "generic-password", None, "dotenv"),
            ("plain/secrets.env", 5, "generic-password", None, "dotenv"),
            ("plain/secrets.env", 6, "generic-password", None, "dotenv"),
            ("plain/tls.key", 1, "private-key-pkcs8", None, "key-file"),
        ]
    );
});

kttest!(kubernetes_secret_data_is_base64_decoded, |dir, _cmd| {
    let found = scan(&dir, "k8s/payments.yaml");
    let plain = scan(&dir, "plain");
    let p = "k8s/payments.yaml";
    assert_eq!(
        places(&found),
        vec![
            (p, 17, "github-pat-classic", Some("base64"), "k8s-manifest"),
            (p, 18, "generic-password", Some("base64"), "k8s-manifest"),
            // Wrapped over lines in a block scalar: reported at its first line.
            (p, 39, "private-key-pkcs8", Some("base64"), "k8s-manifest"),
            // stringData is read as written: no decoding.
            (p, 78, "generic-password", None, "k8s-manifest"),
        ]
    );
    for (line, plain_line, plain_path) in [
        (17, 1, "plain/secrets.env"),
        (18, 2, "plain/secrets.env"),
        (39, 1, "plain/tls.key"),
        (78, 3, "plain/secrets.env"),
    ] {
        assert_eq!(
            fingerprint_at(&found, p, line),
            fingerprint_at(&plain, plain_path, plain_line),
            "line {line}"
        );
    }
});

kttest!(
    helm_values_base64_is_decoded_twice_for_docker_config,
    |dir, _cmd| {
        let found = scan(&dir, "helm");
        let plain = scan(&dir, "plain");
        let p = "helm/values.yaml";
        assert_eq!(
            places(&found),
            vec![
                (
                    p,
                    6,
                    "docker-registry-auth",
                    Some("base64+base64"),
                    "helm-values"
                ),
                (p, 10, "generic-password", Some("base64"), "helm-values"),
            ]
        );
        assert_eq!(
            fingerprint_at(&found, p, 6),
            fingerprint_at(&plain, "plain/secrets.env", 4)
        );
        assert_eq!(
            fingerprint_at(&found, p, 10),
            fingerprint_at(&plain, "plain/secrets.env", 2)
        );
    }
);

kttest!(
    docker_config_auth_exposes_the_registry_password,
    |dir, _cmd| {
        let found = scan(&dir, "docker");
        let plain = scan(&dir, "plain");
        let p = "docker/.docker/config.json";
        assert_eq!(
            places(&found),
            vec![(
                p,
                5,
                "docker-registry-auth",
                Some("base64"),
                "docker-config"
            )]
        );
        assert_eq!(
            fingerprint_at(&found, p, 5),
            fingerprint_at(&plain, "plain/secrets.env", 4)
        );
    }
);

kttest!(
    dockerconfigjson_in_a_secret_is_decoded_twice,
    |dir, _cmd| {
        let found = scan(&dir, "k8s/regcred.yaml");
        let plain = scan(&dir, "plain");
        let p = "k8s/regcred.yaml";
        assert_eq!(
            places(&found),
            vec![(
                p,
                8,
                "docker-registry-auth",
                Some("base64+base64"),
                "k8s-manifest"
            )]
        );
        assert_eq!(
            fingerprint_at(&found, p, 8),
            fingerprint_at(&plain, "plain/secrets.env", 4)
        );
    }
);

kttest!(url_encoded_connection_passwords_are_decoded, |dir, _cmd| {
    let found = scan(&dir, "connection");
    let plain = scan(&dir, "plain");
    let p = "connection/app.env";
    let url = Some("url-encoding");
    assert_eq!(
        places(&found),
        vec![
            (p, 2, "postgres-uri-password", url, "dotenv"),
            (p, 3, "mongodb-uri-password", url, "dotenv"),
            (p, 4, "amqp-uri-password", url, "dotenv"),
            (p, 5, "redis-uri-password", url, "dotenv"),
        ]
    );
    let (pg, mongo) = (
        fingerprint_at(&plain, "plain/secrets.env", 5),
        fingerprint_at(&plain, "plain/secrets.env", 6),
    );
    for (line, want) in [(2, pg), (3, mongo), (4, pg), (5, mongo)] {
        assert_eq!(fingerprint_at(&found, p, line), want, "line {line}");
    }
});

kttest!(encodings_that_hide_nothing_report_nothing, |dir, _cmd| {
    assert_eq!(scan(&dir, "negatives"), vec![]);
});

kttest!(truncated_encodings_never_panic, |dir, cmd| {
    // Every prefix of every fixture: half a base64 value or half a Docker config is normal input.
    for sub in [
        "k8s/payments.yaml",
        "k8s/regcred.yaml",
        "helm/values.yaml",
        "docker/.docker/config.json",
    ] {
        let bytes = std::fs::read(format!("{FIXTURES}/{sub}")).expect("fixture");
        for cut in (1..bytes.len()).step_by(7) {
            dir.write(&format!("cuts/{cut}/{sub}"), &bytes[..cut]);
        }
    }
    let (code, _, stderr) = run(cmd.args(["scan", ".", "--format", "json"]));
    assert!(code == 0 || code == 1, "exit {code}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
});

kttest!(
    docker_config_in_an_escaped_json_string_is_decoded,
    |dir, cmd| {
        // A Docker config kept as a JSON string inside another JSON file (CI variables
        // exported as JSON, Terraform outputs): unescaped, then its `auth` decoded.
        let config =
            r#"{\"auths\": {\"ghcr.io\": {\"auth\": \"Y2ktYm90Ok1xN3YtS3oyIVJ3OXhMcA==\"}}}"#;
        dir.write(
            "ci-variables.json",
            format!("{{\n  \"name\": \"regcred\",\n  \"value\": \"{config}\"\n}}\n"),
        );
        dir.write(".env", "REGISTRY_PASSWORD=Mq7v-Kz2!Rw9xLp\n");
        let (_, stdout, _) = run(cmd.args(["scan", ".", "--format", "json"]));
        let v: Value = serde_json::from_str(&stdout).expect("json");
        let found = v["findings"].as_array().expect("findings");
        let summary: Vec<(&str, &str, u64, Option<&str>)> = found
            .iter()
            .map(|f| {
                (
                    f["location"]["path"].as_str().unwrap(),
                    f["rule"].as_str().unwrap(),
                    f["location"]["line"].as_u64().unwrap(),
                    f["context"]["decoding"].as_str(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                (".env", "generic-password", 1, None),
                (
                    "ci-variables.json",
                    "docker-registry-auth",
                    3,
                    Some("json-string+base64")
                ),
            ]
        );
        assert_eq!(
            found[0]["secret"]["fingerprint"],
            found[1]["secret"]["fingerprint"]
        );
    }
);

kttest!(old_docker_config_auth_id_still_resolves, |_dir, cmd| {
    let (code, stdout, stderr) = run(cmd.args(["rules", "explain", "docker-config-auth"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("docker-registry-auth"), "{stdout}");
});
