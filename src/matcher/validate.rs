//! Structural validators and entropy: cheap checks that turn a regex hit into a confident match.

use crate::rules::model::Validator;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;

/// Shannon entropy in bits per byte.
pub(crate) fn shannon_entropy(s: &str) -> f64 {
    if s.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for b in s.bytes() {
        counts[b as usize] += 1;
    }
    let len = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / len;
            -p * p.log2()
        })
        .sum()
}

/// Runs the rule's validator on a canonical capture.
pub(crate) fn validate(v: Validator, value: &str, raw: &str) -> bool {
    match v {
        Validator::Crc32Base62 => crc32_base62(value),
        Validator::Jwt => jwt_payload(value).is_some(),
        Validator::JwtRoleAnon => jwt_payload(value)
            .is_some_and(|p| p.get("role").and_then(serde_json::Value::as_str) == Some("anon")),
        Validator::Pem => pem(raw),
        Validator::Base64 => decode_std(value).is_some_and(|d| d.len() >= 16),
        Validator::Base64Len64 => decode_std(value).is_some_and(|d| d.len() == 64),
    }
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Base62 encoding of a CRC32, left-padded with `0` to six characters.
pub(crate) fn base62_crc32(data: &[u8]) -> String {
    let mut n = crc32fast::hash(data);
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8(out.to_vec()).expect("ascii")
}

fn crc32_base62(token: &str) -> bool {
    let body = token.rsplit('_').next().unwrap_or(token);
    if body.len() < 7 || !body.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    let (data, check) = body.split_at(body.len() - 6);
    base62_crc32(data.as_bytes()) == check
}

/// The payload of a JWT whose header and payload decode to JSON objects and whose header has `alg`.
fn jwt_payload(token: &str) -> Option<serde_json::Value> {
    let mut parts = token.split('.');
    let (Some(h), Some(p)) = (parts.next(), parts.next()) else {
        return None;
    };
    let object = |seg: &str| {
        URL_SAFE_NO_PAD
            .decode(seg.trim_end_matches('='))
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .filter(serde_json::Value::is_object)
    };
    match (object(h), object(p)) {
        (Some(header), Some(payload)) if header.get("alg").is_some() => Some(payload),
        _ => None,
    }
}

fn pem(raw: &str) -> bool {
    let text = crate::fingerprint::unescape_json(raw);
    let Some(begin) = text.find("-----BEGIN ") else {
        return false;
    };
    let Some(header_end) = text[begin + 11..].find("-----").map(|i| begin + 11 + i + 5) else {
        return false;
    };
    let Some(end) = text[header_end..].find("-----END ").map(|i| header_end + i) else {
        return false;
    };
    let body: String = text[header_end..end]
        .lines()
        .map(str::trim)
        .filter(|l| !l.contains(':') && !l.starts_with('='))
        .flat_map(str::chars)
        .filter(|c| !c.is_whitespace() && *c != '"' && *c != '\\')
        .collect();
    let Some(decoded) = decode_std(&body) else {
        return false;
    };
    if text[begin..header_end].contains("OPENSSH") {
        return decoded.starts_with(b"openssh-key-v1\0");
    }
    decoded.len() >= 40
}

/// Standard base64, padding optional.
pub(crate) fn decode_std(s: &str) -> Option<Vec<u8>> {
    let trimmed = s.trim_end_matches('=');
    let padded = match trimmed.len() % 4 {
        0 => trimmed.to_string(),
        2 => format!("{trimmed}=="),
        3 => format!("{trimmed}="),
        _ => return None,
    };
    STANDARD.decode(padded).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_checksum_round_trip() {
        let random = "Zq3Vn8RkT2wLp5YsB7xHc4JmD9fGa1";
        let token = format!("ghp_{random}{}", base62_crc32(random.as_bytes()));
        assert!(validate(Validator::Crc32Base62, &token, &token));
        let wrong = format!("ghp_{random}AAAAAA");
        assert!(!validate(Validator::Crc32Base62, &wrong, &wrong));
    }

    #[test]
    fn jwt_needs_alg() {
        let good = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";
        assert!(validate(Validator::Jwt, good, good));
        let no_alg = "eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiJ4In0.c2ln";
        assert!(!validate(Validator::Jwt, no_alg, no_alg));
    }

    #[test]
    fn entropy_orders_values() {
        assert!(shannon_entropy("aaaaaaaa") < 0.1);
        assert!(shannon_entropy("Zq3Vn8RkT2wLp5Ys") > 3.5);
    }
}
