//! Entries by name: an application is shown by its title (the form's field tagged `title`),
//! its id second and smaller; an entry without a name shows its id alone.

use std::collections::BTreeMap;

use maud::{Markup, html};
use serde_json::Value;

/// Each entry's name from a list the API answered (`id` and `title` of each item).
pub fn titles_of(items: &[Value]) -> BTreeMap<String, String> {
    items
        .iter()
        .filter_map(|x| {
            Some((
                x["id"].as_str()?.to_owned(),
                x["title"].as_str()?.to_owned(),
            ))
        })
        .collect()
}

/// An entry's name, its id beside it.
pub fn name(id: &str, titles: &BTreeMap<String, String>) -> Markup {
    html! {
        @match titles.get(id) {
            Some(title) => { (title) span.entry-id { (id) } }
            None => { (id) }
        }
    }
}

/// An entry's name as a link to `href`.
pub fn link(href: &str, id: &str, titles: &BTreeMap<String, String>) -> Markup {
    html! { a href=(href) { (name(id, titles)) } }
}

/// An entry's name as plain text (for a title or a label): "Name (id)", or the id.
pub fn plain(id: &str, titles: &BTreeMap<String, String>) -> String {
    titles
        .get(id)
        .map_or_else(|| id.to_owned(), |t| format!("{t} ({id})"))
}

/// The names a page shows for ids: entries by title, judges by name.
pub struct Names<'a> {
    /// Entries by title.
    pub entries: &'a BTreeMap<String, String>,
    /// Judges by name.
    pub judges: &'a BTreeMap<String, String>,
}

impl Names<'_> {
    /// A judge's name, or their id.
    pub fn judge(&self, id: &str) -> String {
        self.judges
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_owned())
    }
}

/// The entries' ids a round's detail, a results list or a list of mentions names: each
/// `application`, each of `entrants`, each judge's `assignments`, each of `advanced`.
pub fn ids_in(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    match v {
        Value::Array(items) => {
            for x in items {
                match x {
                    Value::String(id) => out.push(id.clone()),
                    Value::Object(_) => out.extend(ids_in(x)),
                    _ => {}
                }
            }
        }
        Value::Object(m) => {
            if let Some(id) = m.get("application").and_then(Value::as_str) {
                out.push(id.to_owned());
            }
            for k in ["entrants", "advanced"] {
                if let Some(x) = m.get(k) {
                    out.extend(ids_in(x));
                }
            }
            if let Some(Value::Object(by_judge)) = m.get("assignments") {
                for x in by_judge.values() {
                    out.extend(ids_in(x));
                }
            }
        }
        _ => {}
    }
    out
}

/// Adds the names of the entries `ids` that `titles` lacks, each read as the visitor may see
/// it: a page names what it shows, without reading every entry of the award.
pub async fn add_titles(
    api: &super::api::Api,
    ctx: &super::Ctx,
    award: &str,
    titles: &mut BTreeMap<String, String>,
    ids: Vec<String>,
) {
    let wanted: std::collections::BTreeSet<String> = ids
        .into_iter()
        .filter(|id| !titles.contains_key(id))
        .collect();
    for id in wanted {
        let reply = api
            .get(
                ctx,
                &format!(
                    "/v1/awards/{award}/applications/{}",
                    crate::server::paging::encode(&id)
                ),
            )
            .await;
        if let Some(title) = reply.json["title"].as_str() {
            titles.insert(id, title.to_owned());
        }
    }
}

/// `text` with each id it quotes (`` `id` ``) replaced by its name here (a judge's, an
/// entry's title, a category's, a criterion's or an indicator's); an id without a name stays,
/// its quotes dropped.
pub fn with_names(text: &str, names: &std::collections::BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, part) in text.split('`').enumerate() {
        if i % 2 == 1 {
            out.push_str(names.get(part).map_or(part, String::as_str));
        } else {
            out.push_str(part);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::with_names;

    #[test]
    fn quoted_ids_become_names_and_unknown_ones_lose_their_quotes() {
        let names = [
            ("leadership".to_owned(), "Leadership".to_owned()),
            ("app-060".to_owned(), "Candidate 4".to_owned()),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            with_names(
                "category `leadership`: the winners depend on the jury: `app-060`, `app-9` win",
                &names
            ),
            "category Leadership: the winners depend on the jury: Candidate 4, app-9 win"
        );
    }
}
