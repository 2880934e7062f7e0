//! Inventory: the credentials an organisation knows, by fingerprint only, with versions, references and reset records (DESIGN §4).
//!
//! [`Inventory`] is the file's model (validated on load, written sorted);
//! [`Store`] reads and writes it atomically under a lock; [`Index`] answers
//! "which credential and version is this fingerprint or identifier" in O(1).
//! A scan builds its [`Index`] from one validating pass over borrowed strings
//! (`view`) and keeps those tables between runs while the file is unchanged
//! (`cache`), so a 100,000-credential inventory costs a scan a few percent.

mod cache;
mod error;
mod index;
mod model;
mod store;
mod view;

pub mod import;
pub use self::{
    error::InventoryError,
    index::{Index, Opened, ReferenceStatus},
};
pub use model::{
    Credential, Inventory, Reference, Revocation, Status, Timestamp, Version, DEFAULT_FILE,
};
pub use store::{load, Store};
