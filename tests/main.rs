//! Integration tests: the real `keytrace` binary on fixture trees made in temp dirs.

#[macro_use]
mod macros;
mod architecture;
mod decoding;
mod estate;
mod formats_text;
mod formats_yaml;
mod git;
mod inventory;
mod known_values;
mod rules_check;
mod sarif;
mod scan;
mod synth;
