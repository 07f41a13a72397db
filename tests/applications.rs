//! Applications are checked against the schema generated from the award's form: every problem
//! of every application, located.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::Path;

#[test]
fn bad_applications_report_exactly_the_expected_errors() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let folder = root.join("rubrics/seoul-smart-city-prize-2023");
    let source = std::fs::read_to_string(folder.join("award.json")).unwrap();
    let award = laurel::check_definition(&source, &|p: &str| std::fs::read(folder.join(p)))
        .award
        .unwrap();
    let text = std::fs::read_to_string(root.join("tests/applications/bad.json")).unwrap();
    let (mut diagnostics, apps) = laurel::check_applications(
        &award,
        &serde_json::from_str(&text).unwrap(),
        &laurel::PluginSet::none(),
    );
    assert!(apps.is_none());
    diagnostics.locate_in(&text);
    let got: BTreeSet<(String, String)> = diagnostics
        .iter()
        .map(|d| {
            (
                serde_json::to_value(d.code)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned(),
                d.pointer.clone(),
            )
        })
        .collect();
    let expected: BTreeSet<(String, String)> =
        std::fs::read_to_string(root.join("tests/applications/bad.expected"))
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| {
                let (c, p) = l.split_once('\t').unwrap();
                (c.to_owned(), p.to_owned())
            })
            .collect();
    assert_eq!(got, expected);
    assert!(diagnostics.iter().all(|d| d.line.is_some()));
    insta::assert_json_snapshot!(diagnostics);
}
