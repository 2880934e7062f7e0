//! Named-value rules (issue 14 point 1): a value with no prefix, found by the name it is
//! assigned to, in every format the named-value scanner reads, through the real binary.

use crate::macros::{finding_places as places, place, run_json};
use crate::synth::Synth;

const HEX: &[u8] = b"0123456789abcdef";

// One Datadog API key per file, each in a different format; every one is reported once,
// by the named rule, at the line that holds the value, and never in plaintext.
kttest!(
    datadog_keys_are_found_by_name_in_every_format,
    |dir, cmd| {
        let mut synth = Synth::new(1401);
        let mut keys = Vec::new();
        let mut want = Vec::new();
        let files: &[(&str, &str, u64)] = &[
        ("config/datadog.yaml", "datadog:\n  site: datadoghq.eu\n  api_key: \"{}\"\n", 3),
        ("config/monitor.json", "{\n  \"datadog\": {\n    \"apiKey\": \"{}\"\n  }\n}\n", 3),
        (".env", "DD_SITE=datadoghq.eu\nDD_API_KEY={}\n", 2),
        ("app.properties", "datadog.site=datadoghq.eu\ndatadog.api.key={}\n", 2),
        (
            "k8s/agent.yaml",
            "spec:\n  containers:\n    - name: agent\n      env:\n        - name: DD_API_KEY\n          value: {}\n",
            6,
        ),
        (
            "src/Metrics.java",
            "public final class Metrics {\n    private static final String DATADOG_API_KEY = \"{}\";\n}\n",
            2,
        ),
        ("metrics/client.go", "package metrics\n\nconst ddApiKey = \"{}\"\n", 3),
        ("metrics.py", "import os\n\nDD_API_KEY = '{}'\n", 3),
        ("metrics.js", "module.exports = {\n  datadogApiKey: `{}`,\n};\n", 2),
    ];
        for (path, template, line) in files {
            let key = synth.chars(HEX, 32);
            dir.write(path, template.replace("{}", &key));
            want.push(("datadog-api-key".to_string(), path.to_string(), *line));
            keys.push(key);
        }
        let (_, report, _) = run_json(cmd.args(["scan", ".", "--format", "json"]));
        let mut got = places(&report);
        got.sort();
        want.sort();
        assert_eq!(got, want);
        let text = report.to_string();
        assert!(
            keys.iter().all(|k| !text.contains(k.as_str())),
            "no plaintext"
        );
    }
);

// The name alone is not enough: placeholders, lookups, comparisons and values of the
// wrong shape under the right name are not findings; neither is the right shape under
// another name.
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
        assert_eq!(places(&report), Vec::new(), "{report}");
        assert_eq!(code, 0);
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
