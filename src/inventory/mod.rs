//! Inventory: the credentials an organisation knows, by fingerprint only, with versions, references and reset records (DESIGN §4).
//!
//! [`Inventory`] is the file's model (validated on load, written sorted);
//! [`Store`] reads and writes it atomically under a lock; [`Index`] answers
//! "which credential and version is this fingerprint or identifier" in O(1).

mod error;
mod index;
mod model;
mod store;
mod view;

pub mod import;
pub use self::{
    error::InventoryError,
    index::{Index, ReferenceStatus},
};
pub use model::{Credential, Inventory, Reference, Status, Timestamp, Version, DEFAULT_FILE};
pub use store::{load, load_text, may_retire_references, read, Store};
