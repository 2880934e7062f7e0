//! Integration tests: the real `keytrace` binary on fixture trees made in temp dirs.

#[macro_use]
mod macros;
mod action;
mod architecture;
mod audit;
mod baseline;
mod decoding;
mod detection;
mod estate;
mod examples;
mod formats_text;
mod formats_yaml;
mod git;
mod gitlab;
mod hooks;
mod inventory;
mod known_values;
mod named;
mod reports;
mod repos;
mod rules_check;
mod sarif;
mod scan;
mod sweep;
mod sweep_cache;
mod sweep_report;
mod synth;
mod verify_reset;
