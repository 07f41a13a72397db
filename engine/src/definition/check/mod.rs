//! Semantic checks of a schema-valid definition, and its lowering into the checked model.
//!
//! Each check reports every problem it finds and carries on, so one run lists them all; the
//! model is returned only when no error was found.

mod criteria;
mod form;
mod formulas;
mod plugins;
mod rounds;
mod rules;
mod scoring;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::defaults::{self, Defaults, FORMAT_VERSIONS};
use super::model::{Award, SpecialMentions, Timeline};
use super::wire::{AwardDefinition, FORMAT_VERSION, FieldType};
use crate::diagnostics::{Code, Diagnostic, Diagnostics};
pub(crate) use crate::suggest::closest;
use crate::text::Text;

pub use plugins::PluginFiles;

/// What the checks know about a field that conditions and tie-breaks may read.
#[derive(Debug, Clone)]
pub(crate) struct FieldInfo {
    pub field_type: FieldType,
    pub options: Vec<String>,
}

pub(crate) struct Checker<'a> {
    def: &'a AwardDefinition,
    files: &'a dyn PluginFiles,
    diags: Diagnostics,
    /// Award-wide fields by dotted path.
    award_fields: BTreeMap<String, FieldInfo>,
    /// Each category's own fields by dotted path.
    category_fields: HashMap<String, BTreeMap<String, FieldInfo>>,
    /// Plugins some rule or setting calls.
    used_plugins: BTreeSet<String>,
    /// The checked timeline, which relative dates count from.
    timeline: Option<Timeline>,
    /// The defaults the format version pins.
    defaults: Defaults,
}

/// Checks `def` (already schema-valid) and lowers it; `sha256` is the hash of its source.
pub(crate) fn check(
    def: &AwardDefinition,
    sha256: String,
    files: &dyn PluginFiles,
) -> (Diagnostics, Option<Award>) {
    let mut c = Checker {
        def,
        files,
        diags: Diagnostics::new(),
        award_fields: BTreeMap::new(),
        category_fields: HashMap::new(),
        used_plugins: BTreeSet::new(),
        timeline: None,
        defaults: Defaults::NEWEST,
    };
    let defaults = c.format_version();
    c.languages();
    let timeline = c.timeline();
    c.timeline.clone_from(&timeline);
    c.text(&def.name, "/name");
    c.opt_text(def.description.as_ref(), "/description");
    let plugins = c.plugins();
    let scales = c.scales();
    let fields = c.award_form();
    c.constants();
    let panels = c.panels();
    let mut categories = c.categories(&scales, &panels);
    let mut fields = fields;
    c.conditional_questions(&mut fields, &mut categories);
    c.sections();
    let applicant_types = c.applicant_types();
    let eligibility = c.award_rules();
    c.limits();
    let special_mentions = c.special_mentions();
    let scoring = c.scoring(&scales, &categories);
    let rounds = c.rounds(&categories);
    let conflicts = c.conflicts();
    c.unused_plugins();
    let Checker { diags, .. } = c;
    if diags.has_errors() {
        return (diags, None);
    }
    let (Some(timeline), Some(mut scoring)) = (timeline, scoring) else {
        return (diags, None);
    };
    // What the rubric leaves out takes its format version's default.
    let mut rounds = rounds;
    let min_marks = defaults.normalisation_min_marks;
    scoring.normalisation.min_marks.get_or_insert(min_marks);
    for r in &mut rounds {
        if let Some(n) = &mut r.normalisation {
            n.min_marks.get_or_insert(min_marks);
        }
    }
    let award = Award {
        id: def.id.clone(),
        name: def.name.clone(),
        edition: def.edition.clone(),
        description: def.description.clone(),
        default_language: def.languages.default.clone(),
        languages: def.languages.available.clone(),
        timeline,
        applicant_types,
        fields,
        sections: def.form.sections.clone(),
        eligibility,
        limits: def.limits.clone(),
        categories,
        special_mentions,
        scoring,
        plugins,
        rounds,
        conflicts,
        feedback: def.feedback.unwrap_or_default(),
        sha256,
    };
    (diags, Some(award))
}

impl<'a> Checker<'a> {
    fn error(&mut self, code: Code, pointer: impl Into<String>, message: impl Into<String>) {
        self.diags.push(Diagnostic::error(code, pointer, message));
    }

    fn push(&mut self, diagnostic: Diagnostic) {
        self.diags.push(diagnostic);
    }

    /// Checks the format version and notes each default the rubric relies on that differs in
    /// the newest version; returns the defaults it pins.
    fn format_version(&mut self) -> Defaults {
        let v = &self.def.format_version;
        let Some(defaults) = Defaults::of(v) else {
            self.push(
                Diagnostic::error(
                    Code::FormatVersion,
                    "/format_version",
                    format!("format version `{v}` is not supported"),
                )
                .with_hint(format!(
                    "this build of laurel reads format versions {}",
                    backticked(FORMAT_VERSIONS)
                )),
            );
            return Defaults::NEWEST;
        };
        self.defaults = defaults;
        for change in defaults::relied_on(self.def, v) {
            self.push(
                Diagnostic::note(
                    Code::FormatVersion,
                    "/format_version",
                    format!(
                        "format version `{v}` keeps `{}` at {}; from format version `{}` it is {} ({})",
                        change.setting, change.before, change.since, change.after, change.why
                    ),
                )
                .with_hint(format!(
                    "results stay as format version `{v}` computes them; to move to `{FORMAT_VERSION}` with the same results, write {} in the rubric's normalisation",
                    change.keep
                )),
            );
        }
        defaults
    }

    fn languages(&mut self) {
        let langs = &self.def.languages;
        self.unique(
            langs.available.iter().map(String::as_str).enumerate(),
            |i| format!("/languages/available/{i}"),
            "language",
        );
        if !langs.available.contains(&langs.default) {
            self.push(
                Diagnostic::error(
                    Code::UnknownLanguage,
                    "/languages/default",
                    format!("default language `{}` is not in `available`", langs.default),
                )
                .with_hint(format!("add `{}` to /languages/available", langs.default)),
            );
        }
    }

    fn timeline(&mut self) -> Option<Timeline> {
        let t = &self.def.timeline;
        let zone_ok = t.time_zone.parse::<chrono_tz::Tz>().is_ok();
        if !zone_ok {
            self.push(
                Diagnostic::error(
                    Code::Timeline,
                    "/timeline/time_zone",
                    format!("`{}` is not an IANA time zone", t.time_zone),
                )
                .with_hint(
                    "use a name from the tz database, such as `Asia/Seoul` or `Europe/Paris`",
                ),
            );
        }
        // Every date is read, and every problem said, at once; without a valid zone only
        // dates with an offset can be read.
        let zone = if zone_ok { t.time_zone.as_str() } else { "UTC" };
        let mut read = |name: &str, text: &str| match crate::time::parse_instant(text, zone) {
            Ok(at) => Some(at),
            Err(why) => {
                self.push(
                    Diagnostic::error(Code::Timeline, format!("/timeline/{name}"), why).with_hint(
                        format!(
                            "without an offset, a time is read in the award's time zone ({})",
                            t.time_zone
                        ),
                    ),
                );
                None
            }
        };
        let (opens, closes, results) = (
            read("opens", &t.opens),
            read("closes", &t.closes),
            read("results", &t.results),
        );
        if let (Some(opens), Some(closes)) = (opens, closes)
            && closes <= opens
        {
            self.error(
                Code::Timeline,
                "/timeline/closes",
                format!(
                    "applications close (`{}`) before they open (`{}`)",
                    t.closes, t.opens
                ),
            );
        }
        if let (Some(closes), Some(results)) = (closes, results)
            && results < closes
        {
            self.error(
                Code::Timeline,
                "/timeline/results",
                format!(
                    "results (`{}`) are announced before applications close (`{}`)",
                    t.results, t.closes
                ),
            );
        }
        Some(Timeline {
            time_zone: t.time_zone.clone(),
            opens: opens?,
            closes: closes?,
            results: results?,
        })
    }

    fn special_mentions(&mut self) -> Option<SpecialMentions> {
        let sm = self.def.special_mentions.as_ref()?;
        self.text(&sm.name, "/special_mentions/name");
        self.opt_text(sm.description.as_ref(), "/special_mentions/description");
        for (i, c) in sm.from_categories.iter().enumerate() {
            self.category_ref(
                c.as_str(),
                &format!("/special_mentions/from_categories/{i}"),
            );
        }
        Some(SpecialMentions {
            name: sm.name.clone(),
            description: sm.description.clone(),
            max: sm.max,
            from_categories: sm.from_categories.clone(),
        })
    }

    /// Checks that a text gives its default language and only declared languages.
    pub(crate) fn text(&mut self, text: &Text, pointer: &str) {
        let Some(languages) = text.languages() else {
            return;
        };
        let langs = &self.def.languages;
        let mut has_default = false;
        let mut unknown = Vec::new();
        for lang in languages {
            has_default |= lang == langs.default;
            if !langs.available.iter().any(|a| a == lang) {
                unknown.push(lang.to_owned());
            }
        }
        for lang in unknown {
            self.push(
                Diagnostic::error(
                    Code::UnknownLanguage,
                    format!("{pointer}/{lang}"),
                    format!("language `{lang}` is not declared in /languages/available"),
                )
                .with_hint(format!(
                    "declared languages: {}",
                    backticked(&langs.available)
                )),
            );
        }
        if !has_default {
            let default = langs.default.clone();
            self.push(
                Diagnostic::error(
                    Code::MissingTranslation,
                    pointer,
                    format!("text has no translation in the default language `{default}`"),
                )
                .with_hint(format!("add a `{default}` entry")),
            );
        }
    }

    pub(crate) fn opt_text(&mut self, text: Option<&Text>, pointer: &str) {
        if let Some(text) = text {
            self.text(text, pointer);
        }
    }

    /// Reports every identifier that appears twice, at its second and later places.
    pub(crate) fn unique<'x>(
        &mut self,
        items: impl Iterator<Item = (usize, &'x str)>,
        pointer: impl Fn(usize) -> String,
        what: &str,
    ) {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, id) in items {
            if let Some(&first) = seen.get(id) {
                self.push(
                    Diagnostic::error(
                        Code::DuplicateId,
                        pointer(i),
                        format!("duplicate {what} `{id}`"),
                    )
                    .with_hint(format!("first declared at {}", pointer(first))),
                );
            } else {
                seen.insert(id, i);
            }
        }
    }

    /// Reports `id` unless it is one of `known`; returns whether it resolved.
    pub(crate) fn reference<'x>(
        &mut self,
        known: impl Iterator<Item = &'x str> + Clone,
        id: &str,
        pointer: &str,
        what: &str,
    ) -> bool {
        if known.clone().any(|k| k == id) {
            return true;
        }
        let mut d = Diagnostic::error(
            Code::UnknownReference,
            pointer,
            format!("unknown {what} `{id}`"),
        );
        d = match closest(id, known.clone()) {
            Some(best) => d.with_hint(format!("did you mean `{best}`?")),
            None => {
                let all: Vec<String> = known.map(str::to_owned).collect();
                if all.is_empty() {
                    d.with_hint(format!("no {what} is declared"))
                } else {
                    d.with_hint(format!("declared: {}", backticked(&all)))
                }
            }
        };
        self.push(d);
        false
    }

    pub(crate) fn category_ref(&mut self, id: &str, pointer: &str) -> bool {
        let known = self.def.categories.iter().map(|c| c.id.as_str());
        self.reference(known, id, pointer, "category")
    }

    pub(crate) fn applicant_type_ref(&mut self, id: &str, pointer: &str) -> bool {
        let known = self.def.applicant_types.iter().map(|t| t.id.as_str());
        self.reference(known, id, pointer, "applicant type")
    }
}

/// `a`, `b`, `c`.
pub(crate) fn backticked<S: AsRef<str>>(items: &[S]) -> String {
    items
        .iter()
        .map(|s| format!("`{}`", s.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}
