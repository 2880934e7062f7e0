//! Checks the habits in STYLE.md that a grep can check: stage imports point one
//! way, `main.rs` stays thin, `anyhow` stays at the CLI edge, stage surfaces stay small.

use std::path::Path;

fn sources_under(dir: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut stack = vec![root];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read src") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push((
                    p.display().to_string(),
                    std::fs::read_to_string(&p).expect("read"),
                ));
            }
        }
    }
    out.sort();
    out
}

fn forbid(dir: &str, needles: &[&str]) {
    for (path, text) in sources_under(dir) {
        for n in needles {
            assert!(
                !text.contains(n),
                "{path} names `{n}`: stage imports must point one way (STYLE.md habit 2)"
            );
        }
    }
}

#[test]
fn stage_imports_point_one_way() {
    forbid(
        "src/matcher",
        &[
            "git2::",
            "ignore::",
            "crate::source",
            "crate::report",
            "crate::link",
        ],
    );
    forbid(
        "src/source",
        &[
            "crate::rules",
            "crate::matcher",
            "crate::report",
            "crate::link",
        ],
    );
    forbid(
        "src/report",
        &[
            "crate::matcher",
            "crate::rules",
            "crate::link",
            "git2::",
            "ignore::",
        ],
    );
    forbid(
        "src/inventory",
        &[
            "crate::matcher",
            "crate::report",
            "crate::source",
            "crate::link",
            "crate::cli",
            "git2::",
            "ignore::",
        ],
    );
    forbid(
        "src/evidence",
        &[
            "crate::matcher",
            "crate::source",
            "crate::report",
            "crate::cli",
            "git2::",
            "ignore::",
        ],
    );
    forbid(
        "src/link",
        &["crate::report", "crate::source", "git2::", "ignore::"],
    );
}

#[test]
fn main_is_thin() {
    let main = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/main.rs"))
        .expect("main.rs");
    assert!(
        main.lines().count() <= 60,
        "src/main.rs must stay at most 60 lines"
    );
}

#[test]
fn anyhow_only_at_the_cli_edge() {
    for (path, text) in sources_under("src") {
        let edge = path.contains("/src/cli/") || path.ends_with("/src/main.rs");
        assert!(
            edge || !text.contains("anyhow"),
            "{path} uses anyhow; library modules return typed errors"
        );
    }
}

#[test]
fn stage_modules_have_small_documented_surfaces() {
    for stage in [
        "source",
        "rules",
        "matcher",
        "context",
        "inventory",
        "link",
        "report",
        "evidence",
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("src/{stage}/mod.rs"));
        let text = std::fs::read_to_string(&path).expect("stage mod.rs");
        assert!(
            text.starts_with("//! "),
            "{stage}/mod.rs must open with a //! line stating its job"
        );
        let public = text
            .lines()
            .filter(|l| {
                [
                    "pub struct",
                    "pub enum",
                    "pub trait",
                    "pub fn",
                    "pub mod",
                    "pub use",
                    "pub static",
                    "pub const",
                    "pub type",
                ]
                .iter()
                .any(|p| l.starts_with(p))
            })
            .count();
        assert!(
            public <= 4,
            "{stage}/mod.rs exposes {public} pub items; at most 4"
        );
    }
}
