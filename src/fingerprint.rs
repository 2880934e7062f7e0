//! Canonical form and fingerprints of secret values (DESIGN §4).
//!
//! One secret must hash the same wherever it is found: quoted or not, URL- or
//! JSON-escaped, a PEM key on one line or many. Everything here is pure.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::fmt::Write as _;

/// Puts a captured value in canonical form before hashing or comparing.
pub fn canonical(raw: &str) -> String {
    let mut unescaped = unescape_json(unquote(raw));
    // A multi-line key (PuTTY, PGP) saved on Windows is the same key.
    if unescaped.contains("\r\n") {
        unescaped = unescaped.replace("\r\n", "\n");
    }
    if let Some(body) = pem_body(&unescaped) {
        return body;
    }
    percent_decode(&unescaped)
}

/// Whether [`canonical`] undoes URL-encoding in `raw`: a finding then names the
/// decoding, so a reader knows why the value in the file differs from the secret.
pub fn undoes_url_encoding(raw: &str) -> bool {
    if !raw.contains('%') {
        return false;
    }
    let unescaped = unescape_json(unquote(raw));
    pem_body(&unescaped).is_none() && percent_decode(&unescaped) != unescaped
}

/// `raw` without surrounding whitespace and one pair of quotes.
fn unquote(raw: &str) -> &str {
    let mut s = raw.trim();
    for q in ['"', '\'', '`'] {
        if s.len() >= 2 && s.starts_with(q) && s.ends_with(q) {
            s = &s[1..s.len() - 1];
        }
    }
    s
}

/// For PEM or OpenSSH armour, the base64 body with all whitespace removed.
fn pem_body(s: &str) -> Option<String> {
    let begin = s.find("-----BEGIN ")?;
    let after_begin = s[begin + 11..].find("-----")? + begin + 16;
    let end = s[after_begin..].find("-----END ")? + after_begin;
    let body: String = s[after_begin..end]
        .lines()
        .filter(|l| !l.contains(':')) // headers such as Proc-Type: and DEK-Info:
        .flat_map(|l| l.chars())
        .filter(|c| !c.is_whitespace())
        .collect();
    Some(body)
}

/// Undoes JSON string escapes (`\n`, `\"`, `\uXXXX`); leaves invalid escapes as they are.
pub fn unescape_json(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.peek().copied() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some('/') => out.push('/'),
            Some('u') => {
                let hex: String = chars.clone().skip(1).take(4).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(ch) if hex.len() == 4 => {
                        out.push(ch);
                        for _ in 0..4 {
                            chars.next();
                        }
                    }
                    _ => {
                        out.push('\\');
                        continue;
                    }
                }
            }
            _ => {
                out.push('\\');
                continue;
            }
        }
        chars.next();
    }
    out
}

/// Undoes `%XX` URL-encoding when every escape is valid and the result is UTF-8.
fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok());
            match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                Some(b) => {
                    out.push(b);
                    i += 3;
                    continue;
                }
                None => return s.to_string(),
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

/// Computes fingerprints, keyed (HMAC) or not.
#[derive(Clone)]
pub struct Fingerprinter {
    key: Option<Vec<u8>>,
    /// The HMAC state after the key's blocks, cloned per value: the known-value pass
    /// computes a digest per candidate token, and this halves the compressions each costs.
    keyed: Option<Hmac<Sha256>>,
}

impl Fingerprinter {
    /// Plain `sha256:` fingerprints.
    pub fn sha256() -> Self {
        Fingerprinter {
            key: None,
            keyed: None,
        }
    }

    /// `hmac-sha256:` fingerprints under `key`, so low-entropy secrets cannot be brute-forced.
    pub fn hmac(key: &[u8]) -> Self {
        Fingerprinter {
            key: Some(key.to_vec()),
            keyed: Some(Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key size")),
        }
    }

    /// Short public digest naming the key without revealing it.
    pub fn key_id(&self) -> Option<String> {
        let key = self.key.as_ref()?;
        let digest = Sha256::digest([b"keytrace-fingerprint-key-id:".as_slice(), key].concat());
        Some(hex(&digest[..6]))
    }

    /// Fingerprint of a value that is already canonical.
    pub fn of_canonical(&self, canonical: &str) -> String {
        let scheme = match self.key {
            None => "sha256:",
            Some(_) => "hmac-sha256:",
        };
        format!("{scheme}{}", hex(&self.digest_of_canonical(canonical)))
    }

    /// The raw digest behind [`Fingerprinter::of_canonical`], without formatting hex:
    /// the known-value pass computes one per candidate token.
    pub fn digest_of_canonical(&self, canonical: &str) -> [u8; 32] {
        match &self.keyed {
            None => Sha256::digest(canonical.as_bytes()).into(),
            Some(keyed) => {
                let mut mac = keyed.clone();
                mac.update(canonical.as_bytes());
                mac.finalize().into_bytes().into()
            }
        }
    }

    /// Fingerprint of a raw captured value.
    pub fn of(&self, raw: &str) -> String {
        self.of_canonical(&canonical(raw))
    }
}

/// The 32-byte digest written in a `sha256:` or `hmac-sha256:` fingerprint.
pub fn digest_of_fingerprint(fingerprint: &str) -> Option<[u8; 32]> {
    let (_, hex) = fingerprint.split_once(':')?;
    let hex = hex.as_bytes();
    if hex.len() != 64 {
        return None;
    }
    let nibble = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    };
    let mut digest = [0u8; 32];
    for (out, pair) in digest.iter_mut().zip(hex.chunks_exact(2)) {
        *out = nibble(pair[0])? << 4 | nibble(pair[1])?;
    }
    Some(digest)
}

/// One value the known-value pass looks for, by the digest of its canonical
/// form; `length` (its canonical byte length, when the inventory records it)
/// lets the pass hash only tokens of that length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KnownValue {
    pub digest: [u8; 32],
    pub length: Option<u32>,
}

/// What the known-value pass looks for: values by digest, and identifiers
/// (e.g. AWS access key ids) literally. A plain list, so the matcher needs no inventory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownValues {
    pub values: Vec<KnownValue>,
    pub identifiers: Vec<String>,
}

impl KnownValues {
    /// Nothing to look for.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty() && self.identifiers.is_empty()
    }
}

/// Lowercase hex of `bytes`, as fingerprints and evidence digests print them.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// A short hint that helps a human recognise a value: the format's known prefix
/// plus at most two characters, at most six characters in all, and nothing for
/// values shorter than 16 characters.
pub fn hint(canonical: &str, prefix: Option<&str>) -> String {
    if canonical.chars().count() < 16 {
        return String::new();
    }
    let prefix_len = prefix
        .filter(|p| canonical.starts_with(p))
        .map_or(0, |p| p.chars().count());
    let take = (prefix_len + 2).min(6);
    canonical.chars().take(take).collect()
}

/// The redacted form shown in reports: the hint, then an ellipsis and the length.
pub fn redact(canonical: &str, prefix: Option<&str>) -> String {
    format!(
        "{}…({} chars)",
        hint(canonical, prefix),
        canonical.chars().count()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_forms_agree() {
        let pem_lines = "-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBg\nkqhkiG9w0BAQEF\n-----END PRIVATE KEY-----";
        let pem_json = "-----BEGIN PRIVATE KEY-----\\nMIIBVQIBADANBg\\nkqhkiG9w0BAQEF\\n-----END PRIVATE KEY-----";
        let pem_one_line =
            "-----BEGIN PRIVATE KEY----- MIIBVQIBADANBg kqhkiG9w0BAQEF -----END PRIVATE KEY-----";
        assert_eq!(canonical(pem_lines), "MIIBVQIBADANBgkqhkiG9w0BAQEF");
        assert_eq!(canonical(pem_json), canonical(pem_lines));
        assert_eq!(canonical(pem_one_line), canonical(pem_lines));
        let ppk =
            "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nPrivate-Lines: 1\nAAAAIGx0";
        assert_eq!(canonical(&ppk.replace('\n', "\r\n")), canonical(ppk));
        assert_eq!(canonical("\"p%40ss\""), "p@ss");
        assert_eq!(canonical("100%real"), "100%real");
        assert_eq!(canonical("a\\u0041\\\"b"), "aA\"b");
        assert!(undoes_url_encoding("p%40ss%2Fw0rd%21"));
        assert!(!undoes_url_encoding("100%real"));
        assert!(!undoes_url_encoding("Hv4%tQ9mZx!e"));
        assert!(!undoes_url_encoding("plain"));
    }

    #[test]
    fn hints_are_short() {
        assert_eq!(hint("ghp_AbCdEfGhIjKlMnOpQrStUv", Some("ghp_")), "ghp_Ab");
        assert_eq!(hint("AKIAZZZZZZZZZZZZZZZZ", Some("AKIA")), "AKIAZZ");
        assert_eq!(
            hint("sk-ant-api03-abcdefghijkl", Some("sk-ant-api03-")),
            "sk-ant"
        );
        assert_eq!(hint("short", None), "");
        assert_eq!(hint("0123456789abcdefgh", None), "01");
    }

    #[test]
    fn hmac_differs_and_names_key() {
        let plain = Fingerprinter::sha256().of("secret-value");
        let keyed = Fingerprinter::hmac(b"k1").of("secret-value");
        assert!(plain.starts_with("sha256:") && keyed.starts_with("hmac-sha256:"));
        assert_ne!(
            Fingerprinter::hmac(b"k1").key_id(),
            Fingerprinter::hmac(b"k2").key_id()
        );
    }
}
