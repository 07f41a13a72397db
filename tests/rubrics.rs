//! The shipped rubrics are valid, and the Seoul rubric says what the seed says.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use laurel::{Award, PluginFiles, check_definition};

struct Beside(PathBuf);

impl PluginFiles for Beside {
    fn read(&self, path: &str) -> std::io::Result<Vec<u8>> {
        std::fs::read(self.0.join(path))
    }
}

fn rubric_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../rubrics")
        .join(name)
}

fn load(name: &str) -> Award {
    let dir = rubric_dir(name);
    let source = std::fs::read_to_string(dir.join("award.json")).unwrap();
    let report = check_definition(&source, &Beside(dir));
    assert!(
        report.diagnostics.is_empty(),
        "{name}: {:#?}",
        report.diagnostics
    );
    report.award.unwrap()
}

fn english(text: &laurel::Text) -> String {
    text.get("en", "en").to_owned()
}

#[test]
fn seoul_has_the_seeds_categories_and_applicant_types() {
    let award = load("seoul-smart-city-prize-2023");
    let categories: Vec<(String, Vec<&str>)> = award
        .categories
        .iter()
        .map(|c| {
            (
                english(&c.name),
                c.applicant_types.iter().map(|t| t.as_str()).collect(),
            )
        })
        .collect();
    assert_eq!(
        categories,
        vec![
            (
                "Tech-InnovaCity".to_owned(),
                vec!["city", "corporation", "institution"]
            ),
            (
                "Human-CentriCity".to_owned(),
                vec!["city", "corporation", "institution"]
            ),
            ("Leadership".to_owned(), vec!["individual"]),
        ]
    );
    let mentions = award.special_mentions.as_ref().unwrap();
    assert_eq!(english(&mentions.name), "Special Mention");
}

/// The seed's evaluation tables, transcribed by hand: criterion → indicators, per category.
fn seed_tables() -> BTreeMap<&'static str, Vec<(&'static str, Vec<&'static str>)>> {
    let governance = vec![
        "Transparency",
        "Institution and Policy",
        "Accountability",
        "Monitoring and Evaluation",
        "Digital Compatibility",
    ];
    let data = vec![
        "Advocacy for Data Security (Privacy, Transparency, Data Sovereignty, Rights-Respecting)",
        "Data Management Strategy",
        "Organizational Responsibility",
        "Encryption of Private Data",
    ];
    let ppp = "Collaborative Effort (PPP & PPPP - Public Private People Partnership)";
    BTreeMap::from([
        (
            "Tech-InnovaCity",
            vec![
                (
                    "Relevance to the Theme",
                    vec![
                        "Technological Novelty",
                        "Transformative Implementation of Existing Technology",
                    ],
                ),
                (
                    "Aim of Efficiency",
                    vec![
                        "User Friendliness",
                        "Application Complexity",
                        "Technological Applicability",
                    ],
                ),
                ("Governance", governance.clone()),
                (
                    "Promotion of Multidisciplinary Teamwork",
                    vec![ppp, "Stakeholder Diversity"],
                ),
                ("Data Security and Ethics", data.clone()),
            ],
        ),
        (
            "Human-CentriCity",
            vec![
                (
                    "Relevance to the Theme",
                    vec![
                        "Addressing Digital Divide",
                        "DE&I (Diversity, Equity, and Inclusion)",
                        "Environmental Sustainability",
                    ],
                ),
                (
                    "Aim of Efficiency",
                    vec![
                        "User Friendliness",
                        "Service Accessibility",
                        "Technological Applicability",
                    ],
                ),
                ("Governance", governance),
                (
                    "Promotion of Multidisciplinary Teamwork",
                    vec![ppp, "Stakeholder Diversity", "Citizen Voices"],
                ),
                ("Data Security and Ethics", data),
            ],
        ),
        (
            "Leadership",
            vec![
                (
                    "Relevance to the Theme",
                    vec![
                        "Technological Novelty",
                        "Creative and Innovative Application of Technology and Data",
                    ],
                ),
                (
                    "Impact",
                    vec![
                        "Impact on the quality of life of citizens",
                        "Impact on the smart city field and community",
                    ],
                ),
                (
                    "Collaborative Effort",
                    vec![
                        "Cross-sector Partnerships (PPP & PPPP - Public Private People Partnership)",
                        "Incorporation of citizens' voices",
                    ],
                ),
                (
                    "Communication and Engagement",
                    vec![
                        "Campaigns, conferences, or other engagement efforts for knowledge-sharing and promotion of values",
                        "Effective use of social media to disseminate new ideas",
                    ],
                ),
            ],
        ),
    ])
}

#[test]
fn seoul_has_every_criterion_and_indicator_of_the_seed_with_equal_weights() {
    let award = load("seoul-smart-city-prize-2023");
    let seed = seed_tables();
    for category in &award.categories {
        let name = english(&category.name);
        let expected = &seed[name.as_str()];
        let got: Vec<(String, Vec<String>)> = category
            .criteria
            .iter()
            .map(|c| {
                (
                    english(&c.name),
                    c.indicators.iter().map(|i| english(&i.name)).collect(),
                )
            })
            .collect();
        let expected: Vec<(String, Vec<String>)> = expected
            .iter()
            .map(|(c, is)| {
                (
                    (*c).to_owned(),
                    is.iter().map(|i| (*i).to_owned()).collect(),
                )
            })
            .collect();
        assert_eq!(got, expected, "{name}");
        for c in &category.criteria {
            assert_eq!(c.weight, rust_decimal::Decimal::ONE);
            assert!(
                c.indicators
                    .iter()
                    .all(|i| i.weight == rust_decimal::Decimal::ONE)
            );
        }
    }
}

#[test]
fn every_seoul_text_is_in_english_and_korean() {
    let text =
        std::fs::read_to_string(rubric_dir("seoul-smart-city-prize-2023").join("award.json"))
            .unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    fn walk(v: &serde_json::Value, at: &str, count: &mut usize) {
        match v {
            serde_json::Value::Object(m) => {
                if m.contains_key("en") || m.contains_key("ko") {
                    assert!(
                        m.contains_key("en") && m.contains_key("ko"),
                        "{at} lacks a language"
                    );
                    *count += 1;
                }
                for (k, c) in m {
                    walk(c, &format!("{at}/{k}"), count);
                }
            }
            serde_json::Value::Array(a) => {
                for (i, c) in a.iter().enumerate() {
                    walk(c, &format!("{at}/{i}"), count);
                }
            }
            _ => {}
        }
    }
    let mut count = 0;
    walk(&value, "", &mut count);
    assert!(count > 100, "only {count} texts");
}

#[test]
fn seoul_declares_the_context_variables_for_the_statistical_formula() {
    let award = load("seoul-smart-city-prize-2023");
    let context: Vec<&str> = award
        .fields
        .iter()
        .filter(|f| f.tags.iter().any(|t| t == "context"))
        .map(|f| f.id.as_str())
        .collect();
    for needed in [
        "population",
        "gdp_per_capita_usd",
        "internet_penetration_pct",
        "digital_maturity",
    ] {
        assert!(
            context.contains(&needed),
            "missing context variable {needed}"
        );
    }
}

#[test]
fn the_partner_prize_differs_in_shape() {
    let seoul = load("seoul-smart-city-prize-2023");
    let partner = load("civic-tech-fellowship-2025");
    assert_ne!(partner.default_language, seoul.default_language);
    assert!(
        partner
            .categories
            .iter()
            .all(|c| seoul.category(c.id.as_str()).is_none())
    );
    assert!(
        partner
            .applicant_types
            .iter()
            .all(|t| seoul.applicant_type(t.id.as_str()).is_none())
    );
    assert!(matches!(
        partner.scoring.scale.kind,
        laurel::ScaleKind::Levels(_)
    ));
    let weights: Vec<String> = partner.categories[0]
        .criteria
        .iter()
        .map(|c| c.weight.to_string())
        .collect();
    assert_eq!(weights, ["0.45", "0.35", "0.2"]);
}

/// What `admission_calls_plugins` says of the Seoul rubric is what checking and deciding do:
/// every example application for which it says no plugin is called is checked and decided the
/// same without any plugin loaded as with the rubric's own; the leadership prize's nomination
/// rule is a plugin, the other categories' rules are not.
#[test]
fn an_application_whose_admission_calls_no_plugin_is_admitted_the_same_without_plugins() {
    let name = "seoul-smart-city-prize-2023";
    let award = load(name);
    let plugins = laurel::load_plugins(&award, &Beside(rubric_dir(name))).unwrap();
    let none = laurel::PluginSet::none();
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
        .join("applications.json");
    let apps: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let admit = |app: &serde_json::Value, set: &laurel::PluginSet| {
        let document = serde_json::Value::Array(vec![app.clone()]);
        let (diagnostics, checked) = laurel::check_applications(&award, &document, set);
        let decisions: Vec<_> = checked
            .unwrap_or_default()
            .iter()
            .map(|a| serde_json::to_value(laurel::decide(&award, a, set)).unwrap())
            .collect();
        (format!("{diagnostics:?}"), decisions)
    };
    let (mut with, mut without) = (0, 0);
    for app in &apps {
        let category = app["category"].as_str().unwrap();
        let applicant_type = app["applicant_type"].as_str().unwrap();
        let calls = laurel::admission_calls_plugins(&award, category, applicant_type);
        assert_eq!(
            calls,
            category == "leadership",
            "{category}/{applicant_type}"
        );
        if calls {
            with += 1;
            continue;
        }
        without += 1;
        assert_eq!(admit(app, &plugins), admit(app, &none), "{}", app["id"]);
    }
    // Both kinds are among the examples, and a leadership nomination does need its plugin.
    assert!(with > 0 && without > 40, "{with} with, {without} without");
    let leadership = apps.iter().find(|a| a["category"] == "leadership").unwrap();
    assert_ne!(admit(leadership, &plugins), admit(leadership, &none));
}
