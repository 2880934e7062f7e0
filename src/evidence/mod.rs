//! Evidence: what a reset verification checked and concluded, kept in a tamper-evident,
//! hash-chained JSON Lines log (DESIGN §6).
//!
//! [`log`](append) appends and verifies records on their exact bytes: each line
//! carries its `seq`, the SHA-256 of the previous line (`prev`) and its own
//! `digest`, so an edited, removed, inserted or reordered record is named;
//! removal from the end is caught against an anchor (an earlier head digest)
//! kept outside the log. `render` prints the history for `keytrace audit show`.
//! `record` is the typed `verify-reset` record that becomes a log body, `holes`
//! names what a scope could not cover, and `text` prints a verdict for people.

mod error;
pub(crate) mod holes;
mod log;
pub(crate) mod record;
mod render;
pub(crate) mod text;

pub use self::error::EvidenceError;
pub use self::log::{append, read, record_count, verify, Appended, Log, Verified, ZERO_DIGEST};
pub use self::render::{render, ShowFormat};
