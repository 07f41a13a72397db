//! Laurel's own words that applicants read (the built-in eligibility rule, the application
//! schema's descriptions), in the languages Laurel knows; an award in another language gets
//! them in English.

use std::collections::BTreeMap;

use crate::definition::model::Award;
use crate::text::Text;

/// A placeholder's name and its value in a language.
pub(crate) type Arg<'a> = (&'a str, &'a dyn Fn(&str) -> String);

/// A message of Laurel's, in English and Korean, with `{name}` placeholders.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Builtin {
    en: &'static str,
    ko: &'static str,
}

pub(crate) const CATEGORY_ADMITS: Builtin = Builtin {
    en: "{category} admits only these applicants: {admitted}; this application is from `{applicant}`",
    ko: "{category} 부문은 다음 신청자만 받습니다: {admitted}. 이 신청은 `{applicant}`의 신청입니다",
};

pub(crate) const UNKNOWN_CATEGORY: Builtin = Builtin {
    en: "unknown category `{category}`",
    ko: "알 수 없는 부문 `{category}`",
};

pub(crate) const SCHEMA_TITLE: Builtin = Builtin {
    en: "Application to {award}",
    ko: "{award} 신청서",
};

pub(crate) const SCHEMA_ID: Builtin = Builtin {
    en: "The application's identifier, unique within the award.",
    ko: "신청서 식별자 (이 상에서 고유).",
};

pub(crate) const SCHEMA_CATEGORY: Builtin = Builtin {
    en: "The category applied to.",
    ko: "신청하는 부문.",
};

pub(crate) const SCHEMA_APPLICANT_TYPE: Builtin = Builtin {
    en: "The kind of applicant.",
    ko: "신청자 유형.",
};

impl Builtin {
    /// The message in `language` (English when Laurel does not know it), placeholders filled
    /// by `args` (each a function of the language, for values that are translated too).
    pub(crate) fn render(&self, language: &str, args: &[Arg<'_>]) -> String {
        let template = match language.split('-').next() {
            Some("ko") => self.ko,
            _ => self.en,
        };
        let mut out = template.to_owned();
        for (name, value) in args {
            out = out.replace(&format!("{{{name}}}"), &value(language));
        }
        out
    }

    /// The message in each of the award's languages.
    pub(crate) fn text(&self, award: &Award, args: &[Arg<'_>]) -> Text {
        let mut map = BTreeMap::new();
        for language in std::iter::once(&award.default_language).chain(award.languages.iter()) {
            map.entry(language.clone())
                .or_insert_with(|| self.render(language, args));
        }
        if map.len() == 1 {
            return Text::Plain(map.into_values().next().unwrap_or_default());
        }
        Text::Translated(map)
    }
}
