//! Estate report rendering: a sweep report for people, as a terminal summary or one
//! self-contained HTML page.
//!
//! It only formats what `keytrace sweep` wrote: every value it shows is one the report
//! already holds redacted, and every string that came from a repository (paths, rule ids,
//! repository names) is escaped for the page it lands in.

mod html;
mod terminal;
mod view;

pub use html::html;
pub use terminal::{summary, Style};
