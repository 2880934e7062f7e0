//! keytrace: a scanner for secrets and credential drift.
//!
//! Pipeline (DESIGN §2): [`source`] → [`matcher`] → [`link`] → [`report`], with
//! [`rules`] feeding the matcher and [`context`] naming file kinds.

mod atomic_file;
pub mod baseline;
pub mod cli;
pub mod config;
pub mod context;
pub mod diag;
pub mod estate;
pub mod evidence;
pub mod fingerprint;
pub mod inventory;
pub mod link;
pub mod matcher;
pub mod report;
pub mod rules;
pub mod scan;
pub mod source;
pub mod sweep;
pub mod time;
pub mod types;

pub use cli::{Cli, ExitStatus};

/// Runs a parsed command line; errors are printed and become exit status 2.
pub fn run(cli: &Cli) -> ExitStatus {
    cli::execute(cli)
}
