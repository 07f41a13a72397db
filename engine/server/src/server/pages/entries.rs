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
