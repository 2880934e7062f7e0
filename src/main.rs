//! The `keytrace` binary: parse the command line, run it, exit with its status.

use clap::Parser;

fn main() {
    let cli = keytrace::Cli::parse();
    let status = keytrace::run(&cli);
    std::process::exit(status as i32);
}
