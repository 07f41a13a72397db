//! The pages' side of the catalogue of words ([`crate::server::words`]): a language's name.

pub use crate::server::words::{from_accept, languages, speaks, t, tf};

/// A language's name in the page's language ("Korean", "한국어"), or its tag when the
/// catalogue has no name for it.
pub fn language_name(ctx: &super::Ctx, tag: &str) -> String {
    let key = format!("language.{tag}");
    let name = ctx.t(&key);
    if name == key {
        tag.to_owned()
    } else {
        name.to_owned()
    }
}
