//! Laurel's words, by language: one JSON catalogue per language in `engine/locales/` for
//! everything Laurel says in its own words (the built-in eligibility rule and the form schema's
//! descriptions here; the server's pages, mails and notices), embedded at build time
//! (`build.rs`); a language is added by adding its file. A string missing from a catalogue
//! falls back to English, then to its key.

use std::collections::BTreeMap;
use std::sync::OnceLock;

include!(concat!(env!("OUT_DIR"), "/locales.rs"));

type Catalogue = BTreeMap<String, String>;

/// Every catalogue, by language tag.
fn all() -> &'static BTreeMap<&'static str, Catalogue> {
    static ALL: OnceLock<BTreeMap<&'static str, Catalogue>> = OnceLock::new();
    ALL.get_or_init(|| {
        CATALOGUES
            .iter()
            .map(|(lang, text)| (*lang, serde_json::from_str(text).unwrap_or_default()))
            .collect()
    })
}

/// The languages Laurel speaks (those with a catalogue).
pub fn languages() -> Vec<&'static str> {
    all().keys().copied().collect()
}

/// Whether Laurel speaks `lang` (a primary tag: `en`, `ko`).
pub fn speaks(lang: &str) -> bool {
    all().contains_key(lang)
}

/// The string `key` in `lang`: English where that catalogue lacks it, the key itself where
/// English does too.
pub fn t<'a>(lang: &str, key: &'a str) -> &'a str
where
    'static: 'a,
{
    let primary = lang.split('-').next().unwrap_or(lang);
    all()
        .get(primary)
        .and_then(|c| c.get(key))
        .or_else(|| all().get("en").and_then(|c| c.get(key)))
        .map_or(key, String::as_str)
}

/// The string `key` in `lang` with its `{name}` placeholders filled.
pub fn tf(lang: &str, key: &str, args: &[(&str, &str)]) -> String {
    let mut text = t(lang, key).to_owned();
    for (name, value) in args {
        text = text.replace(&format!("{{{name}}}"), value);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogue_has_every_english_string_and_no_other() {
        let en = &all()["en"];
        assert!(en.len() > 50, "{}", en.len());
        for (lang, catalogue) in all() {
            let missing: Vec<&String> = en.keys().filter(|k| !catalogue.contains_key(*k)).collect();
            let extra: Vec<&String> = catalogue.keys().filter(|k| !en.contains_key(*k)).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{lang}: missing {missing:?}, extra {extra:?}"
            );
        }
        assert!(speaks("ko"));
    }

    #[test]
    fn placeholders_are_filled_and_regional_tags_read_their_language() {
        assert_eq!(tf("en", "missing.key {x}", &[("x", "1")]), "missing.key 1");
        assert_eq!(
            t("ko-KR", "rule.unknown_category"),
            t("ko", "rule.unknown_category")
        );
        assert_ne!(
            t("ko", "rule.unknown_category"),
            t("en", "rule.unknown_category")
        );
    }
}
