//! Evidence: the verify-reset record (what was checked, over which scope, with what
//! result), the holes that make a scope unable to prove absence, and its human form.

pub mod holes;
pub mod record;
pub mod text;
