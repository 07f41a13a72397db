//! Laurel's words, by language, for pages, mails and notices: the library's catalogue
//! (`laurel::words`, one JSON file per language in `engine/locales/`), with what only the
//! server needs (a browser's preferred language, a status word as a mail says it).

pub use laurel::words::{languages, speaks, t, tf};

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
}
