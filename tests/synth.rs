//! Synthetic credentials in real formats, generated per test so no literal looks like a live key.

/// Deterministic pseudo-random characters (xorshift), seeded per value.
pub struct Synth(u64);

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

impl Synth {
    pub fn new(seed: u64) -> Self {
        Synth(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// `n` characters drawn from `alphabet`.
    pub fn chars(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n)
            .map(|_| alphabet[(self.next() % alphabet.len() as u64) as usize] as char)
            .collect()
    }

    pub fn base62(&mut self, n: usize) -> String {
        self.chars(BASE62, n)
    }

    /// A classic GitHub token with a valid CRC32 checksum.
    pub fn github_pat(&mut self) -> String {
        let random = self.base62(30);
        format!("ghp_{random}{}", base62_crc32(random.as_bytes()))
    }

    /// An AWS access key id and secret access key.
    pub fn aws_pair(&mut self) -> (String, String) {
        let id = format!(
            "AKIA{}",
            self.chars(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
        );
        let secret = self.chars(
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
            40,
        );
        (id, secret)
    }

    /// A Slack bot token.
    pub fn slack_bot(&mut self) -> String {
        let a = self.chars(b"0123456789", 12);
        let b = self.chars(b"0123456789", 13);
        format!("xoxb-{a}-{b}-{}", self.base62(24))
    }

    /// A Stripe live secret key.
    pub fn stripe_live(&mut self) -> String {
        format!("sk_live_{}", self.base62(99))
    }

    /// A password that passes for a real one.
    pub fn password(&mut self) -> String {
        format!("{}-{}!{}", self.base62(6), self.base62(5), self.base62(5))
    }
}

/// Base62 CRC32 checksum as GitHub and npm tokens carry it.
pub fn base62_crc32(data: &[u8]) -> String {
    let mut n = crc32fast_hash(data);
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8(out.to_vec()).expect("ascii")
}

/// CRC32 (IEEE), written out so the tests do not share the code under test.
fn crc32fast_hash(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
