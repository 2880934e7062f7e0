//! Evidence: a tamper-evident, hash-chained JSON Lines log of reset verifications (DESIGN §6).
//!
//! `log` appends and verifies records on their exact bytes: each line
//! carries its `seq`, the SHA-256 of the previous line (`prev`) and its own
//! `digest`, so an edited, removed, inserted or reordered record is named;
//! removal from the end is caught against an anchor (an earlier head digest)
//! kept outside the log. `render` prints the history for `keytrace audit show`.
//! The typed `verify-reset` record that becomes a log body goes in `record`
//! (one `pub` item is left for it).

mod error;
mod log;
mod render;

pub use self::error::EvidenceError;
pub use self::log::{append, read, record_count, verify, Appended, Log, Verified, ZERO_DIGEST};
pub use self::render::{render, ShowFormat};
