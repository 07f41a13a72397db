//! Embeds every string catalogue in `locales/` (`en.json`, `ko.json`, ...): a language is added
//! by adding its file, without code.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let dir =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default()).join("locales");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut found: Vec<(String, PathBuf)> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .filter_map(|p| Some((p.file_stem()?.to_str()?.to_owned(), p)))
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    let mut out = String::from(
        "/// Every catalogue: its language tag and its JSON text.\npub static CATALOGUES: &[(&str, &str)] = &[\n",
    );
    for (lang, path) in &found {
        println!("cargo:rerun-if-changed={}", path.display());
        let _ = writeln!(
            out,
            "    ({lang:?}, include_str!({:?})),",
            path.display().to_string()
        );
    }
    out.push_str("];\n");
    let target = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("locales.rs");
    if let Err(e) = std::fs::write(&target, out) {
        // Cargo shows this line; the build then fails where the catalogues are included.
        println!("cargo:warning=cannot write {}: {e}", target.display());
    }
}
