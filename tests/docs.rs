//! The rubric author's guide (`docs/authoring.md`) keeps up with the schema: every setting and
//! every value of the award definition's schema is named in it, and every JSON example in it
//! is JSON.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn collect(v: &Value, names: &mut BTreeSet<String>, values: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            if let Some(Value::Object(props)) = map.get("properties") {
                names.extend(props.keys().cloned());
            }
            for key in ["enum", "const"] {
                match map.get(key) {
                    Some(Value::Array(items)) => {
                        values.extend(items.iter().filter_map(|x| x.as_str().map(str::to_owned)));
                    }
                    Some(Value::String(s)) => {
                        values.insert(s.clone());
                    }
                    _ => {}
                }
            }
            for x in map.values() {
                collect(x, names, values);
            }
        }
        Value::Array(items) => {
            for x in items {
                collect(x, names, values);
            }
        }
        _ => {}
    }
}

#[test]
fn every_setting_of_the_schema_is_in_the_authors_guide() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("schemas/award.schema.json")).unwrap(),
    )
    .unwrap();
    let guide = std::fs::read_to_string(root().join("docs/authoring.md")).unwrap();
    let (mut names, mut values) = (BTreeSet::new(), BTreeSet::new());
    collect(&schema, &mut names, &mut values);
    assert!(names.len() > 150, "{names:?}");
    let missing: Vec<&String> = names
        .iter()
        .chain(values.iter())
        .filter(|n| !guide.contains(&format!("`{n}`")) && !guide.contains(&format!("\"{n}\"")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/authoring.md does not name {missing:?}"
    );
}

#[test]
fn every_json_example_of_the_guide_is_json() {
    let guide = std::fs::read_to_string(root().join("docs/authoring.md")).unwrap();
    let mut blocks = 0;
    for block in guide.split("```json\n").skip(1) {
        let text = block.split("\n```").next().unwrap();
        // A fragment of an object (`"key": ...` pairs) is read inside braces.
        let ok = serde_json::from_str::<Value>(text).is_ok()
            || serde_json::from_str::<Value>(&format!("{{{text}}}")).is_ok();
        assert!(ok, "not JSON:\n{text}");
        blocks += 1;
    }
    assert!(blocks >= 10, "{blocks}");
}

/// Every source file under `folder`, as paths relative to it.
fn sources(folder: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(folder).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// ARCHITECTURE.md's code map stays true: it names every source file and every folder of the
/// library and the server, and no file that does not exist.
#[test]
fn the_code_map_names_every_source_file_and_no_other() {
    let doc = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let start = doc.find("## Code map").unwrap();
    let end = start + doc[start..].find("## Invariants").unwrap();
    let map = &doc[start..end];
    let words: BTreeSet<&str> = map
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.' || c == '/'))
        .filter(|w| !w.is_empty())
        .collect();
    let named = |w: &str| {
        words.contains(w) || map.contains(&format!(" {w}")) || map.contains(&format!("{w} "))
    };
    let mut files = Vec::new();
    for folder in ["engine/src", "engine/server/src"] {
        sources(&root().join(folder), &mut files);
    }
    let mut missing = Vec::new();
    for f in &files {
        let name = f.file_name().unwrap().to_str().unwrap();
        let folder = f.parent().unwrap().file_name().unwrap().to_str().unwrap();
        if !named(name) {
            missing.push(f.strip_prefix(root()).unwrap().display().to_string());
        }
        if !["src"].contains(&folder) && !named(&format!("{folder}/")) {
            missing.push(format!("{folder}/ (the folder of {name})"));
        }
    }
    assert!(
        missing.is_empty(),
        "the code map does not name: {missing:?}"
    );
    let existing: BTreeSet<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .chain(["build.rs".to_owned()])
        .collect();
    let stale: Vec<&&str> = words
        .iter()
        .filter(|w| w.ends_with(".rs") && !w.contains('/') && !existing.contains(**w))
        .collect();
    assert!(
        stale.is_empty(),
        "the code map names files that do not exist: {stale:?}"
    );
}

/// The server is built in floors: `mod.rs` composes the routes, the OpenAPI document and the
/// pages; routes and pages are adapters over `domain/` and the modules below it, and nothing
/// below imports a route or a page (a handler is never another's library).
#[test]
fn lower_floors_never_import_routes_or_pages() {
    let server = root().join("engine/server/src/server");
    let mut files = Vec::new();
    sources(&server, &mut files);
    let mut upward = Vec::new();
    for f in &files {
        let rel = f
            .strip_prefix(&server)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let top = rel.starts_with("routes/")
            || rel.starts_with("pages/")
            || rel == "mod.rs"
            // The document describes the routes' request types.
            || rel.starts_with("openapi/");
        if top {
            continue;
        }
        let text = std::fs::read_to_string(f).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            if code.contains("routes::") || code.contains("pages::") {
                upward.push(format!("{rel}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(upward.is_empty(), "imports from a floor above: {upward:#?}");
}

/// Every file under `folder`, relative to it, with `/` between names.
fn files_under(folder: &Path, at: &Path, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(at).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(folder, &path, out);
        } else {
            let relative = path.strip_prefix(folder).unwrap();
            out.insert(relative.to_string_lossy().replace('\\', "/"));
        }
    }
}

/// The sled the server is built with is sled 0.34.7 as published, but for the files its
/// patch names (`vendor/sled/PATCH.md`): every other file hashes as the published one did, and
/// none is added or missing.
#[test]
fn the_vendored_sled_is_the_published_one_but_for_its_patch() {
    use sha2::Digest as _;
    let folder = root().join("vendor/sled");
    let patched = [
        "src/threadpool.rs",
        "src/lib.rs",
        "Cargo.toml",
        "src/pagecache/iobuf.rs",
        "src/pagecache/iterator.rs",
        "src/pagecache/segment.rs",
        "src/pagecache/snapshot.rs",
        "src/pagecache/blob_io.rs",
        "src/pagecache/mod.rs",
        "src/pagecache/logger.rs",
    ];
    let listed = std::fs::read_to_string(folder.join("UPSTREAM.sha256")).unwrap();
    let mut upstream = std::collections::BTreeMap::new();
    for line in listed.lines() {
        let (hash, name) = line.split_once("  ").unwrap();
        upstream.insert(name.to_owned(), hash.to_owned());
    }
    let mut present = BTreeSet::new();
    files_under(&folder, &folder, &mut present);
    let ours: BTreeSet<String> = ["PATCH.md", "UPSTREAM.sha256"].map(String::from).into();
    let copied: BTreeSet<String> = present.difference(&ours).cloned().collect();
    let published: BTreeSet<String> = upstream.keys().cloned().collect();
    assert_eq!(copied, published, "files added or missing in vendor/sled");
    for (name, hash) in &upstream {
        let bytes = std::fs::read(folder.join(name)).unwrap();
        let now = hex::encode(sha2::Sha256::digest(&bytes));
        if patched.contains(&name.as_str()) {
            assert_ne!(&now, hash, "{name}: the patch is missing");
            if name.ends_with(".rs") {
                assert!(
                    String::from_utf8_lossy(&bytes).contains("Laurel's patch"),
                    "{name}: a patched line says so"
                );
            }
        } else {
            assert_eq!(&now, hash, "{name} differs from the published sled 0.34.7");
        }
    }
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    assert!(
        manifest.contains("sled = { path = \"vendor/sled\" }"),
        "the workspace builds with the patched copy"
    );
}
