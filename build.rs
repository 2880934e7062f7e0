//! Embeds every `rules/*.toml` file in the binary, so a release build carries its rule set,
//! each with the same tables as JSON (reading JSON is several times cheaper than TOML, and
//! rule loading is most of a small scan), and sets `KEYTRACE_BUILD_ID`, a digest of the
//! code it is built from.

use sha2::{Digest, Sha256};
use std::{
    env, fs,
    path::{Path, PathBuf},
};

fn main() {
    // Read at run time, not `env!`: a build script compiled in another checkout
    // (a shared or copied target dir) must still embed this checkout's rules.
    let manifest_dir = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&manifest_dir).join("rules");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = fs::read_dir(&dir)
        .expect("rules/ directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    let mut out = String::from(
        "/// `(file name, contents, the same as JSON)` of every embedded rule file; the JSON is\n\
         /// empty when the file is not valid TOML (loading it then reports the TOML error).\n\
         static EMBEDDED_RULE_FILES: &[(&str, &str, &str)] = &[\n",
    );
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let name = f.file_name().unwrap().to_string_lossy();
        let text = fs::read_to_string(f).expect("read rule file");
        let json = text
            .parse::<toml::Table>()
            .map(|table| serde_json::to_string(&table).expect("TOML as JSON"))
            .unwrap_or_default();
        let json_path = out_dir.join(format!("{name}.json"));
        fs::write(&json_path, json).expect("write rule JSON");
        out.push_str(&format!(
            "    ({name:?}, include_str!({:?}), include_str!({:?})),\n",
            f.display().to_string(),
            json_path.display().to_string()
        ));
    }
    out.push_str("];\n");
    let dest = out_dir.join("embedded_rules.rs");
    fs::write(dest, out).expect("write embedded_rules.rs");
    build_id(Path::new(&manifest_dir));
}

/// `KEYTRACE_BUILD_ID`: SHA-256 over every source file, the embedded rule files and the
/// locked dependency versions, so that what one build cached (a sweep cache) is not trusted
/// by a build of other code or rules under the same crate version. Digesting the embedded
/// rules here, once, spares every sweep hashing them again; user rules are digested when
/// they are loaded.
fn build_id(root: &Path) {
    let src = root.join("src");
    println!("cargo:rerun-if-changed={}", src.display());
    println!(
        "cargo:rerun-if-changed={}",
        root.join("Cargo.lock").display()
    );
    let mut files = vec![root.join("Cargo.lock"), root.join("build.rs")];
    let mut dirs = vec![src, root.join("rules")];
    while let Some(d) = dirs.pop() {
        for e in fs::read_dir(&d).expect("src/ directory").flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut h = Sha256::new();
    for f in &files {
        let rel: PathBuf = f.strip_prefix(root).unwrap_or(f).to_path_buf();
        h.update(rel.to_string_lossy().as_bytes());
        h.update([0]);
        h.update(fs::read(f).unwrap_or_default());
        h.update([0]);
    }
    let digest: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    println!("cargo:rustc-env=KEYTRACE_BUILD_ID={}", &digest[..16]);
}
