//! Every broken definition under `tests/invalid/` reports exactly the errors its `.expected`
//! file lists (written by hand), and its full diagnostics match the reviewed snapshot; mutated
//! and truncated definitions never make the validator panic.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use laurel::{PluginFiles, check_definition};
use proptest::prelude::*;

struct Beside(PathBuf);

impl PluginFiles for Beside {
    fn read(&self, path: &str) -> std::io::Result<Vec<u8>> {
        std::fs::read(self.0.join(path))
    }
}

fn check_file(path: &Path) -> laurel::DefinitionReport {
    let source = std::fs::read_to_string(path).unwrap();
    check_definition(&source, &Beside(path.parent().unwrap().to_path_buf()))
}

fn expected(path: &Path) -> BTreeSet<(String, String)> {
    let text = std::fs::read_to_string(path.with_extension("").with_extension("expected")).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (code, pointer) = l.split_once('\t').unwrap_or((l, ""));
            (code.to_owned(), pointer.to_owned())
        })
        .collect()
}

#[test]
fn invalid_definitions_report_exactly_the_expected_errors() {
    insta::glob!("invalid/*.award.json", |path| {
        let report = check_file(path);
        assert!(
            report.award.is_none(),
            "{} lowered despite errors",
            path.display()
        );
        let got: BTreeSet<(String, String)> = report
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| {
                let code = serde_json::to_value(d.code).unwrap();
                (code.as_str().unwrap().to_owned(), d.pointer.clone())
            })
            .collect();
        assert_eq!(got, expected(path), "{}", path.display());
        for d in report.diagnostics.iter() {
            assert!(d.line.is_some() && d.column.is_some(), "unlocated: {d}");
        }
        insta::assert_json_snapshot!(report.diagnostics);
    });
}

#[test]
fn valid_definitions_have_no_diagnostics() {
    insta::glob!("valid/*.award.json", |path| {
        let report = check_file(path);
        assert!(report.diagnostics.is_empty(), "{:#?}", report.diagnostics);
        assert!(report.award.is_some());
    });
}

#[test]
fn the_award_sha256_is_that_of_the_exact_bytes() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/valid/minimal.award.json");
    let bytes = std::fs::read(&path).unwrap();
    let award = check_file(&path).award.unwrap();
    // Independent: the digest of the file as `sha256sum` computes it.
    use sha2::Digest;
    assert_eq!(award.sha256, hex::encode(sha2::Sha256::digest(&bytes)));
}

fn seoul() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../rubrics/seoul-smart-city-prize-2023/award.json");
    std::fs::read_to_string(path).unwrap()
}

/// Replaces the value at a random node of `value` by `replacement`.
fn mutate(value: &mut serde_json::Value, mut pick: usize, replacement: serde_json::Value) {
    fn nodes(v: &serde_json::Value, at: String, out: &mut Vec<String>) {
        out.push(at.clone());
        match v {
            serde_json::Value::Object(m) => {
                for (k, c) in m {
                    nodes(
                        c,
                        format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                        out,
                    );
                }
            }
            serde_json::Value::Array(a) => {
                for (i, c) in a.iter().enumerate() {
                    nodes(c, format!("{at}/{i}"), out);
                }
            }
            _ => {}
        }
    }
    let mut all = Vec::new();
    nodes(value, String::new(), &mut all);
    pick %= all.len();
    if let Some(node) = value.pointer_mut(&all[pick]) {
        *node = replacement;
    }
}

fn any_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(|n| serde_json::json!(n)),
        (-1.0e6f64..1.0e6).prop_map(|n| serde_json::json!(n)),
        "[a-z_./ -]{0,12}".prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn truncated_definitions_never_panic(cut in 0usize..80_000) {
        let source = seoul();
        let mut end = cut.min(source.len());
        while !source.is_char_boundary(end) {
            end -= 1;
        }
        let report = check_definition(&source[..end], &std::collections::BTreeMap::new());
        if end < source.len() {
            prop_assert!(report.award.is_none());
            prop_assert!(report.diagnostics.has_errors());
        }
    }

    #[test]
    fn mutated_definitions_never_panic_and_errors_are_located(pick in any::<usize>(), replacement in any_json()) {
        let mut value: serde_json::Value = serde_json::from_str(&seoul()).unwrap();
        mutate(&mut value, pick, replacement);
        let text = serde_json::to_string_pretty(&value).unwrap();
        let report = check_definition(&text, &std::collections::BTreeMap::new());
        prop_assert_eq!(report.award.is_some(), !report.diagnostics.has_errors());
        for d in report.diagnostics.iter() {
            prop_assert!(d.line.is_some(), "unlocated diagnostic {}", d);
            prop_assert!(d.pointer.is_empty() || d.pointer.starts_with('/'));
        }
    }
}
