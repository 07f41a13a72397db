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
    let got = pairs(diagnostics.iter());
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

/// Seoul's rubric, changed by `edit`, checked.
fn seoul_with(edit: impl FnOnce(&mut serde_json::Value)) -> laurel::Award {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let folder = root.join("rubrics/seoul-smart-city-prize-2023");
    let mut def: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("award.json")).unwrap()).unwrap();
    edit(&mut def);
    let report =
        laurel::check_definition(&def.to_string(), &|p: &str| std::fs::read(folder.join(p)));
    report
        .award
        .unwrap_or_else(|| panic!("{:?}", report.diagnostics))
}

fn example(id: &str) -> serde_json::Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let all: Vec<serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(
            root.join("examples/seoul-smart-city-prize-2023/applications.json"),
        )
        .unwrap(),
    )
    .unwrap();
    all.into_iter().find(|a| a["id"] == id).unwrap()
}

/// (code, pointer) of each diagnostic.
fn pairs<'d>(
    diagnostics: impl Iterator<Item = &'d laurel::Diagnostic>,
) -> BTreeSet<(String, String)> {
    diagnostics
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
        .collect()
}

/// (code, pointer) of every error checking `apps` gives.
fn errors(award: &laurel::Award, apps: &[serde_json::Value]) -> BTreeSet<(String, String)> {
    let (diagnostics, _) = laurel::check_applications(
        award,
        &serde_json::Value::Array(apps.to_vec()),
        &laurel::PluginSet::none(),
    );
    pairs(
        diagnostics
            .iter()
            .filter(|d| d.severity == laurel::Severity::Error),
    )
}

#[test]
fn a_conditional_question_is_answered_only_when_asked_and_required_only_then() {
    // Seoul asks for a nominator (and the candidate's permission) only of a nomination, and
    // for a letter of recommendation only of a self-nomination.
    let award = seoul_with(|_| {});
    let (nominated, own) = (example("app-058"), example("app-057"));
    assert_eq!(nominated["fields"]["nomination_type"], "nominated");
    assert_eq!(own["fields"]["nomination_type"], "self");
    assert!(errors(&award, &[nominated.clone(), own.clone()]).is_empty());
    // Answers to questions not asked are refused, each located.
    let mut nominated_with_letter = nominated.clone();
    nominated_with_letter["fields"]["recommendation_letter"] =
        own["fields"]["recommendation_letter"].clone();
    let mut own_with_nominator = own.clone();
    own_with_nominator["fields"]["nominator"] = nominated["fields"]["nominator"].clone();
    own_with_nominator["fields"]["candidate_permission"] = serde_json::json!(true);
    let expected: BTreeSet<(String, String)> = [
        ("condition", "/0/fields/recommendation_letter"),
        ("condition", "/1/fields/nominator"),
        ("condition", "/1/fields/candidate_permission"),
    ]
    .into_iter()
    .map(|(c, p)| (c.to_owned(), p.to_owned()))
    .collect();
    assert_eq!(
        errors(&award, &[nominated_with_letter, own_with_nominator]),
        expected
    );
    // The form's schema no longer requires a conditional question; the condition does, when
    // it holds: a required letter is missing from a self-nomination only.
    let strict = seoul_with(|def| {
        for c in def["categories"].as_array_mut().unwrap() {
            for f in c
                .get_mut("fields")
                .and_then(|f| f.as_array_mut())
                .into_iter()
                .flatten()
            {
                if f["id"] == "recommendation_letter" {
                    f["required"] = serde_json::json!(true);
                }
            }
        }
    });
    let mut own_without = own.clone();
    own_without["fields"]
        .as_object_mut()
        .unwrap()
        .remove("recommendation_letter");
    assert_eq!(
        errors(&strict, &[nominated, own_without.clone()]),
        [("schema".to_owned(), "/1/fields".to_owned())]
            .into_iter()
            .collect()
    );
    let schema = laurel::application_schema(&strict);
    assert!(
        !schema
            .to_string()
            .contains("\"required\":[\"recommendation_letter\"")
    );
    // Asked and answered: accepted.
    assert!(errors(&strict, &[own]).is_empty());
    let _ = own_without;
}

/// A date's bounds are checked wherever the date is: at the top, in a group, in each item of a
/// list of groups; each date out of its bounds is reported at its own place, and a date
/// without bounds (or a field that is not a date) beside them is not.
#[test]
fn dates_are_held_to_their_bounds_at_any_depth() {
    let award =
        seoul_with(|def| {
            let label = serde_json::json!({"en": "x"});
            def["form"]["fields"].as_array_mut().unwrap().push(serde_json::json!({
            "id": "milestones",
            "type": "group",
            "label": label,
            "fields": [
                {"id": "kickoff", "type": "date", "label": label, "not_before": "2020-01-01"},
                {"id": "note", "type": "short_text", "label": label},
                {"id": "steps", "type": "list", "label": label, "item": {
                    "id": "step", "type": "group", "label": label, "fields": [
                        {"id": "due", "type": "date", "label": label,
                         "not_before": "2021-01-01", "not_after": "2021-12-31"},
                        {"id": "free", "type": "date", "label": label}
                    ]
                }}
            ]
        }));
            def["form"]["sections"][0]["fields"]
                .as_array_mut()
                .unwrap()
                .push(serde_json::json!("milestones"));
        });
    let mut app = example("app-057");
    app["fields"]["milestones"] = serde_json::json!({
        "kickoff": "2019-12-31",
        "note": "n",
        "steps": [
            {"due": "2021-06-01", "free": "1900-01-01"},
            {"due": "2022-01-01", "free": "2999-01-01"},
            {"due": "2020-12-31"}
        ]
    });
    let expected: BTreeSet<(String, String)> = [
        "/0/fields/milestones/kickoff",
        "/0/fields/milestones/steps/1/due",
        "/0/fields/milestones/steps/2/due",
    ]
    .into_iter()
    .map(|p| ("schema".to_owned(), p.to_owned()))
    .collect();
    assert_eq!(errors(&award, &[app]), expected);
}
