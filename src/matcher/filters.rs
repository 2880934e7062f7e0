//! Rejects captures that are placeholders, references or documented examples rather than values.

/// Substrings (lower-case) that mark a placeholder or a template, not a secret.
const PLACEHOLDER_MARKS: &[&str] = &[
    "${",
    "{{",
    "$(",
    "%(",
    "xxxx",
    "****",
    "....",
    "example",
    "placeholder",
    "changeme",
    "change_me",
    "your_",
    "your-",
    "yourkey",
    "dummy",
    "redacted",
    "sample",
    "insert",
    "replace",
];

/// Code that reads a secret from elsewhere: the capture names a reference, not a value.
const REFERENCE_MARKS: &[&str] = &[
    "os.environ",
    "process.env",
    "getenv(",
    "env[",
    "env(",
    "secrets.",
    "vault:",
    "secretkeyref",
    "valuefrom",
    "lookup(",
    "import.meta.env",
    // Secret-manager names: GCP `projects/p/secrets/s/versions/v`, Docker and Kubernetes
    // mounts `/run/secrets/x`, AWS Secrets Manager and SSM ARNs, 1Password `op://`,
    // Azure Key Vault URIs.
    "/secrets/",
    "arn:aws:secretsmanager:",
    "arn:aws:ssm:",
    "op://",
    ".vault.azure.net",
];

/// Reference schemes (DESIGN §4) whose name holds a secret-like keyword: in
/// `k8s-secret:payments/db-creds` the capture after the colon names a secret, it is not one.
const SECRET_NAMED_SCHEMES: &[&[u8]] = &[b"github-secret:", b"k8s-secret:"];

/// Whether the capture starting right after `before` is the name in a `scheme:name`
/// reference string (an inventory, a README listing references).
pub(crate) fn follows_reference_scheme(before: &[u8]) -> bool {
    SECRET_NAMED_SCHEMES.iter().any(|scheme| {
        before.len() >= scheme.len()
            && before[before.len() - scheme.len()..].eq_ignore_ascii_case(scheme)
    })
}

/// Whether the capture at `at` is a value of a SealedSecret's `encryptedData:` map:
/// ciphertext only the cluster's controller can open (DESIGN §3), never a secret.
pub(crate) fn in_sealed_ciphertext(bytes: &[u8], at: usize) -> bool {
    let indent = |line: &[u8]| line.iter().take_while(|&&b| b == b' ').count();
    let start = memchr::memrchr(b'\n', &bytes[..at]).map_or(0, |i| i + 1);
    let need = indent(&bytes[start..]);
    if need == 0 {
        return false;
    }
    // The direct parent, the nearest line above that is indented less, decides; only
    // then is the whole document searched for its kind (this runs per candidate).
    bytes[..start]
        .split(|&b| b == b'\n')
        .rev()
        .map(|line| (indent(line), line.trim_ascii()))
        .find(|(own, content)| !content.is_empty() && !content.starts_with(b"#") && *own < need)
        .is_some_and(|(_, content)| content == b"encryptedData:")
        && memchr::memmem::find(bytes, b"kind: SealedSecret").is_some()
}

/// MD5, SHA-1 and SHA-256 of nothing: test fixtures and defaults, never a key.
const EMPTY_INPUT_DIGESTS: [&str; 3] = [
    "d41d8cd98f00b204e9800998ecf8427e",
    "da39a3ee5e6b4b0d3255bfef95601890afd80709",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
];

/// Why a capture is not reported, if it is not.
pub(crate) fn rejection(value: &str) -> Option<&'static str> {
    let lower = value.to_ascii_lowercase();
    if PLACEHOLDER_MARKS.iter().any(|m| lower.contains(m)) {
        return Some("placeholder");
    }
    if REFERENCE_MARKS.iter().any(|m| lower.contains(m)) {
        return Some("reference");
    }
    if let Some(open) = value.find('<') {
        if value[open..].contains('>') {
            return Some("placeholder");
        }
    }
    let bytes = value.as_bytes();
    // `f("DB_PASSWORD", default="")`: a keyword argument's name, not the value.
    if let Some((&b'=', name)) = bytes.split_last() {
        if !name.is_empty() && name.iter().all(|&b| b.is_ascii_lowercase() || b == b'_') {
            return Some("reference");
        }
    }
    // A call, not a literal: Python `password=dict(type='str', no_log=True)`,
    // `password = FieldAttribute(isa='string')`.
    if is_call_expression(bytes) {
        return Some("code");
    }
    // A template variable: ansible-test's `@ESXI1_PASSWORD`, autoconf's `@DB_PASSWORD@`.
    if let Some(name) = value.strip_prefix('@') {
        let name = name.strip_suffix('@').unwrap_or(name);
        if name.len() >= 3
            && name
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        {
            return Some("reference");
        }
    }
    // A Google API resource kind (`identitytoolkit#VerifyPasswordResponse`, `drive#file`).
    if let Some((service, kind)) = value.split_once('#') {
        if !service.is_empty()
            && !kind.is_empty()
            && service.bytes().all(|b| b.is_ascii_lowercase())
            && kind.bytes().all(|b| b.is_ascii_alphabetic())
        {
            return Some("reference");
        }
    }
    // An AWS KMS ciphertext blob (version bytes 01 02 02 00 78, base64 `AQICAH`; `AQIBAH`
    // for the older format): only a KMS Decrypt call with the key's grant opens it.
    if value.starts_with("AQICAH") || value.starts_with("AQIBAH") {
        return Some("ciphertext");
    }
    if EMPTY_INPUT_DIGESTS.contains(&lower.as_str()) {
        return Some("digest of empty input");
    }
    if let Some(&first) = bytes.first() {
        if bytes.iter().all(|&b| b == first) {
            return Some("repeated character");
        }
    }
    if has_ascending_run(bytes, 8) {
        return Some("sequential characters");
    }
    None
}

/// `name(` then nothing, `)`, or a keyword argument's `name=`: what an unquoted value
/// cut at its first space looks like when it is a call in code.
fn is_call_expression(bytes: &[u8]) -> bool {
    let Some(open) = bytes.iter().position(|&b| b == b'(') else {
        return false;
    };
    let callee = &bytes[..open];
    let rest = &bytes[open + 1..];
    let word = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    callee.len() >= 3
        && callee
            .first()
            .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
        && callee.iter().all(|b| word(b) || *b == b'.')
        && (rest.is_empty()
            || rest == b")"
            || rest.split_last().is_some_and(|(&last, name)| {
                last == b'=' && !name.is_empty() && name.iter().all(word)
            }))
}

fn has_ascending_run(bytes: &[u8], len: usize) -> bool {
    let mut run = 1;
    for w in bytes.windows(2) {
        if w[0].is_ascii_alphanumeric() && w[1] == w[0] + 1 {
            run += 1;
            if run >= len {
                return true;
            }
        } else {
            run = 1;
        }
    }
    false
}

/// A UUID in canonical 8-4-4-4-12 form: an identifier, not a low-confidence secret.
pub(crate) fn is_uuid(value: &str) -> bool {
    let b = value.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_rejected() {
        for v in [
            "${GITHUB_TOKEN}",
            "{{ .Values.token }}",
            "<your-token>",
            "xxxxxxxxxxxx",
            "AKIAIOSFODNN7EXAMPLE",
            "os.environ['TOKEN']",
            "aaaaaaaaaaaa",
            "abcdefgh1234",
            "0123456789",
            "changeme",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "dict(type=",
            "FieldAttribute(isa=",
            "get_password()",
            "@ESXI1_PASSWORD",
            "@DB_PASSWORD@",
        ] {
            assert!(rejection(v).is_some(), "{v} should be rejected");
        }
        for v in [
            "ghp_Zq3Vn8RkT2wLp5YsB7xHc4JmD9fGa10abcde",
            "s3cr3t-P4ss!word",
            "hunter2hunter2",
            "Tq4(mZ8x!",
            "P@ssw0rd(2024)",
            "@Zx9!kq2Lm",
        ] {
            assert_eq!(rejection(v), None, "{v} should pass");
        }
    }

    #[test]
    fn keyword_names_and_kms_ciphertext_are_not_values() {
        assert_eq!(rejection("default="), Some("reference"));
        assert_eq!(rejection("fallback_value="), Some("reference"));
        assert_eq!(rejection("dGVzdDEyMw=="), None);
        assert_eq!(
            rejection("identitytoolkit#VerifyPasswordResponse"),
            Some("reference")
        );
        assert_eq!(rejection("Tq7#vLz2Wm"), None);
        assert_eq!(
            rejection("AQICAHhJ4kz0gq1Q2w3e4r5t6y7u8i9o0pAbCdEf"),
            Some("ciphertext")
        );
    }

    #[test]
    fn secret_manager_names_are_references() {
        for v in [
            "projects/123/secrets/db/versions/latest",
            "/run/secrets/db_password",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbC123",
            "arn:aws:ssm:eu-west-1:123456789012:parameter/api/token",
            "op://Production/Stripe/credential",
            "https://kv-prod.vault.azure.net/secrets/db-password/1a2b3c",
        ] {
            assert_eq!(rejection(v), Some("reference"), "{v}");
        }
    }

    #[test]
    fn reference_strings_name_secrets() {
        assert!(follows_reference_scheme(b"  \"k8s-secret:"));
        assert!(follows_reference_scheme(b"github-secret:"));
        assert!(!follows_reference_scheme(b"client_secret: "));
        assert!(!follows_reference_scheme(b"secret:"));
    }

    #[test]
    fn sealed_secret_values_are_ciphertext() {
        let doc = b"apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nspec:\n  encryptedData:\n    # comment\n    password: AgBy3i4OJSWK\n  template:\n    password: plain123\n";
        let at = |needle: &[u8]| memchr::memmem::find(doc, needle).expect("needle");
        assert!(in_sealed_ciphertext(doc, at(b"AgBy")));
        assert!(!in_sealed_ciphertext(doc, at(b"plain123")));
        let plain = b"kind: Secret\nstringData:\n  password: AgBy3i4OJSWK\n";
        assert!(!in_sealed_ciphertext(plain, 30));
    }

    #[test]
    fn uuid_shape() {
        assert!(is_uuid("123e4567-e89b-12d3-a456-426614174000"));
        assert!(!is_uuid("123e4567e89b12d3a456426614174000"));
    }
}
