//! Suggestions for a misspelt name: the closest known one.

/// The candidate closest to `input`, if it is close enough to be a likely typo.
pub(crate) fn closest<'x>(
    input: &str,
    candidates: impl Iterator<Item = &'x str>,
) -> Option<&'x str> {
    candidates
        .map(|c| (strsim::damerau_levenshtein(input, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}
