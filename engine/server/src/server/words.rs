//! Laurel's words, by language: one JSON catalogue per language in `locales/` for pages, mails
//! and notices alike, embedded at build time (`build.rs`); a language is added by adding its
//! file. A string missing from a catalogue falls back to English, then to its key.

use std::collections::BTreeMap;
use std::sync::OnceLock;

include!(concat!(env!("OUT_DIR"), "/locales.rs"));

type Catalogue = BTreeMap<String, String>;

fn all() -> &'static BTreeMap<&'static str, Catalogue> {
    static ALL: OnceLock<BTreeMap<&'static str, Catalogue>> = OnceLock::new();
    ALL.get_or_init(|| {
        CATALOGUES
            .iter()
            .map(|(lang, text)| (*lang, serde_json::from_str(text).unwrap_or_default()))
            .collect()
    })
}

/// The languages the interface speaks.
pub fn languages() -> Vec<&'static str> {
    all().keys().copied().collect()
}

/// Whether the interface speaks `lang`.
pub fn speaks(lang: &str) -> bool {
    all().contains_key(lang)
}

/// The string `key` in `lang`.
pub fn t<'a>(lang: &str, key: &'a str) -> &'a str
where
    'static: 'a,
{
    all()
        .get(lang)
        .and_then(|c| c.get(key))
        .or_else(|| all().get("en").and_then(|c| c.get(key)))
        .map_or(key, String::as_str)
}

/// The string `key` in `lang` with `{name}` placeholders filled.
pub fn tf(lang: &str, key: &str, args: &[(&str, &str)]) -> String {
    let mut text = t(lang, key).to_owned();
    for (name, value) in args {
        text = text.replace(&format!("{{{name}}}"), value);
    }
    text
}

/// The best of the interface's languages for an `Accept-Language` header.
pub fn from_accept(header: &str) -> Option<String> {
    let mut ranked: Vec<(u32, String)> = header
        .split(',')
        .filter_map(|part| {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next()?.trim().to_ascii_lowercase();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            // Quality in thousandths: no float reaches a decision beyond the order.
            let q = (q.clamp(0.0, 1.0) * 1000.0) as u32;
            let primary = tag.split('-').next()?.to_owned();
            speaks(&primary).then_some((q, primary))
        })
        .collect();
    ranked.sort_by_key(|r| std::cmp::Reverse(r.0));
    ranked.into_iter().find(|(q, _)| *q > 0).map(|(_, l)| l)
}

/// A status or outcome word as a mail says it within a sentence (`mail.word.*`), in `lang`;
/// the token with spaces for underscores when the catalogue has no word for it.
pub fn mail_word(lang: &str, token: &str) -> String {
    let key = format!("mail.word.{token}");
    let word = t(lang, &key);
    if word == key {
        token.replace('_', " ")
    } else {
        word.to_owned()
    }
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
    fn accept_language_picks_the_best_spoken() {
        assert_eq!(
            from_accept("ko-KR,ko;q=0.9,en;q=0.8").as_deref(),
            Some("ko")
        );
        assert_eq!(from_accept("fr-FR, en;q=0.5").as_deref(), Some("en"));
        assert_eq!(from_accept("fr-FR").as_deref(), None);
        assert_eq!(from_accept("en;q=0.2, ko;q=0.7").as_deref(), Some("ko"));
    }

    #[test]
    fn mail_words_come_from_the_catalogue_with_the_token_as_fallback() {
        assert_eq!(mail_word("en", "not_awarded"), "not awarded");
        assert_eq!(mail_word("ko", "winner"), "수상");
        assert_eq!(mail_word("ko", "some_new_state"), "some new state");
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(tf("en", "missing.key {x}", &[("x", "1")]), "missing.key 1");
    }
}
