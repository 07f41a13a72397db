//! Identity facts compared as codes, not as typed text: a country is an ISO 3166-1 alpha-2
//! code (`KR`), whatever name it was written with ("Republic of Korea", "대한민국", "South
//! Korea"); organisations and cities are compared normalised (case, accents, punctuation and
//! spacing aside). Conflicts of interest rest on these comparisons.

use std::collections::HashMap;
use std::sync::OnceLock;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// The countries: codes, names in the languages forms show them in, and other names (written
/// by `engine/data/countries.py` from CLDR and ISO 3166-1).
const DATA: &str = include_str!("../data/countries.tsv");

struct Country {
    code: &'static str,
    /// Names in `Table::languages`' order; empty where CLDR has none.
    names: Vec<&'static str>,
}

struct Table {
    languages: Vec<&'static str>,
    countries: Vec<Country>,
    /// Normalised name (or code) → the country's index; `None` for a name two countries share.
    by_name: HashMap<String, Option<usize>>,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut lines = DATA.lines().filter(|l| !l.starts_with('#'));
        let header: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
        // code, the languages, other names.
        let languages = header
            .get(1..header.len().saturating_sub(1))
            .unwrap_or_default()
            .to_vec();
        let mut countries = Vec::new();
        let mut by_name: HashMap<String, Option<usize>> = HashMap::new();
        for line in lines {
            let cols: Vec<&str> = line.split('\t').collect();
            let Some((&code, rest)) = cols.split_first() else {
                continue;
            };
            let names: Vec<&str> = rest.iter().take(languages.len()).copied().collect();
            let other = rest.get(languages.len()).copied().unwrap_or_default();
            let index = countries.len();
            for name in std::iter::once(code)
                .chain(names.iter().copied())
                .chain(other.split('|'))
                .filter(|n| !n.is_empty())
            {
                let slot = by_name.entry(normalised(name)).or_insert(Some(index));
                if *slot != Some(index) {
                    *slot = None;
                }
            }
            countries.push(Country { code, names });
        }
        Table {
            languages,
            countries,
            by_name,
        }
    })
}

/// Text as identity comparisons see it: compatibility-decomposed, accents on Latin letters
/// dropped, lower case, and any run of characters other than letters and digits one space.
/// "Seoul Metropolitan Gov't." and "seoul metropolitan gov t" are the same; "São Paulo" and
/// "Sao Paulo" too.
pub fn normalised(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut gap = false;
    let mut latin = false;
    for c in text.nfkd() {
        if is_combining_mark(c) {
            // An accent on a Latin letter is dropped; other scripts' marks are letters' parts.
            if !latin {
                out.push(c);
            }
            continue;
        }
        if c.is_alphanumeric() {
            if gap && !out.is_empty() {
                out.push(' ');
            }
            gap = false;
            latin = c < '\u{0250}';
            out.extend(c.to_lowercase());
        } else {
            gap = true;
            latin = false;
        }
    }
    out
}

/// Whether two identity facts (an organisation's or a city's name) are the same, normalised;
/// an empty one is the same as nothing.
pub fn same_name(a: &str, b: &str) -> bool {
    let a = normalised(a);
    !a.is_empty() && a == normalised(b)
}

/// The ISO 3166-1 alpha-2 code of a country written as its code (any case) or any of its
/// names in the languages Laurel knows; `None` for text that names no country, or several.
pub fn country_code(text: &str) -> Option<&'static str> {
    let t = table();
    let index = (*t.by_name.get(&normalised(text))?)?;
    t.countries.get(index).map(|c| c.code)
}

/// The country a misspelt name most likely means (a code and its English name), for an error
/// message's suggestion; `None` when no name is close.
pub fn country_suggestion(text: &str) -> Option<(&'static str, &'static str)> {
    let t = table();
    let wanted = normalised(text);
    if wanted.is_empty() || wanted.chars().count() > 64 {
        return None;
    }
    let n = wanted.chars().count();
    let allowed = 2.max(n / 4);
    let (_, index) = t
        .by_name
        .iter()
        .filter_map(|(name, index)| Some((name, (*index)?)))
        .filter(|(name, _)| name.chars().count().abs_diff(n) <= allowed)
        .map(|(name, index)| (strsim::levenshtein(&wanted, name), index))
        .filter(|(d, _)| *d <= allowed)
        .min()?;
    let code = t.countries.get(index)?.code;
    Some((code, country_name(code, "en").unwrap_or(code)))
}

/// Whether `code` is an ISO 3166-1 alpha-2 code, exactly as written (upper case).
pub fn is_country_code(code: &str) -> bool {
    table().countries.iter().any(|c| c.code == code)
}

/// Every country code, in order.
pub fn country_codes() -> impl Iterator<Item = &'static str> {
    table().countries.iter().map(|c| c.code)
}

/// A country's name in `language` (a BCP 47 tag: `ko`, `zh-Hant`, `pt-BR`), falling back to
/// its base language, then to English; `None` for an unknown code.
pub fn country_name(code: &str, language: &str) -> Option<&'static str> {
    let t = table();
    let country = t.countries.iter().find(|c| c.code == code)?;
    let at = |lang: &str| {
        t.languages
            .iter()
            .position(|l| l.eq_ignore_ascii_case(lang))
            .and_then(|i| country.names.get(i).copied())
            .filter(|n| !n.is_empty())
    };
    let base = language.split(['-', '_']).next().unwrap_or(language);
    at(language).or_else(|| at(base)).or_else(|| at("en"))
}

/// Every country as (code, name in `language`), sorted by name as that language's reader
/// looks for it (normalised, so that "Åland" sorts with the A's).
pub fn countries_in(language: &str) -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(String, &'static str, &'static str)> = country_codes()
        .map(|code| {
            let name = country_name(code, language).unwrap_or(code);
            (normalised(name), code, name)
        })
        .collect();
    out.sort();
    out.into_iter()
        .map(|(_, code, name)| (code, name))
        .collect()
}

/// Whether two countries are the same: both resolved to codes when they can be (a code or
/// any name), compared normalised otherwise.
pub fn same_country(a: &str, b: &str) -> bool {
    match (country_code(a), country_code(b)) {
        (Some(x), Some(y)) => x == y,
        _ => same_name(a, b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_any_language_are_one_code() {
        for name in [
            "KR",
            "kr",
            "KOR",
            "Republic of Korea",
            "Korea, Republic of",
            "South Korea",
            "대한민국",
            "한국",
            "Corée du Sud",
            "韓国",
        ] {
            assert_eq!(country_code(name), Some("KR"), "{name}");
        }
        assert_eq!(
            country_code("Democratic People's Republic of Korea"),
            Some("KP")
        );
        assert_eq!(country_code("Türkiye"), Some("TR"));
        assert_eq!(country_code("turkiye"), Some("TR"));
        assert_eq!(country_code("Atlantis"), None);
        assert!(same_country("Republic of Korea", "대한민국"));
        assert!(!same_country("South Korea", "North Korea"));
    }

    #[test]
    fn every_code_has_a_name_in_every_language_forms_use() {
        let codes: Vec<&str> = country_codes().collect();
        assert_eq!(codes.len(), 249);
        for code in codes {
            assert_eq!(code.len(), 2);
            assert!(code.chars().all(|c| c.is_ascii_uppercase()), "{code}");
            for lang in ["en", "ko"] {
                assert!(country_name(code, lang).is_some_and(|n| !n.is_empty()));
            }
        }
        assert_eq!(country_name("KR", "ko-KR"), Some("대한민국"));
        assert_eq!(country_name("KR", "zh-Hant"), Some("南韓"));
        assert_eq!(country_name("KR", "xx"), Some("South Korea"));
    }

    #[test]
    fn names_compare_without_case_accents_or_punctuation() {
        assert!(same_name("São Paulo", "sao paulo"));
        assert!(same_name(
            " Seoul  Metropolitan Gov't.",
            "seoul metropolitan gov t"
        ));
        assert!(same_name("ＳＥＯＵＬ", "Seoul"));
        assert!(!same_name("", ""));
        assert!(!same_name("Seoul", "Busan"));
        // Marks that are part of a script's letters are kept.
        assert_ne!(normalised("कि"), normalised("क"));
    }
}
