//! Suggestions for a misspelt name: the closest known one.
//!
//! Suggesting is the only part of checking a definition whose cost is not linear in the
//! document (each unknown name is compared with every known one), so it is bounded: names
//! longer than [`LONGEST`] get no suggestion, candidates whose length alone rules them out are
//! skipped, and each check has a budget of [`BUDGET`] comparisons, after which no more
//! suggestions are made (the problems are still all reported).

use std::cell::Cell;

/// The longest name a suggestion is looked for.
const LONGEST: usize = 64;
/// Comparisons per check (see [`Budget`]).
pub(crate) const BUDGET: u32 = 100_000;

thread_local! {
    static LEFT: Cell<u32> = const { Cell::new(BUDGET) };
}

/// A fresh budget of comparisons for one check on this thread, for as long as it lives.
pub(crate) struct Budget {
    outer: u32,
}

impl Budget {
    pub(crate) fn start() -> Self {
        Self {
            outer: LEFT.with(|l| l.replace(BUDGET)),
        }
    }
}

impl Drop for Budget {
    fn drop(&mut self) {
        LEFT.with(|l| l.set(self.outer));
    }
}

/// Whether this check may still compare names for suggestions.
pub(crate) fn budget_left() -> bool {
    LEFT.with(|l| l.get() > 0)
}

/// The candidate closest to `input`, if it is close enough to be a likely typo.
pub(crate) fn closest<'x>(
    input: &str,
    candidates: impl Iterator<Item = &'x str>,
) -> Option<&'x str> {
    if input.len() > LONGEST {
        return None;
    }
    let n = input.chars().count();
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let allowed = 2.max(c.len() / 3);
        if n.abs_diff(c.chars().count()) > allowed {
            continue;
        }
        let spent = LEFT.with(|l| {
            let left = l.get();
            l.set(left.saturating_sub(1));
            left == 0
        });
        if spent {
            return None;
        }
        let d = strsim::damerau_levenshtein(input, c);
        if d <= allowed && best.is_none_or(|(b, _)| d < b) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_closest_and_stops_at_its_budget() {
        let _budget = Budget::start();
        assert_eq!(
            closest("weigth", ["weight", "height", "scale"].into_iter()),
            Some("weight")
        );
        assert_eq!(closest("zzzzzzzz", ["weight"].into_iter()), None);
        let names: Vec<String> = (0..1_000).map(|i| format!("name{i}")).collect();
        for _ in 0..BUDGET as usize / names.len() {
            let _ = closest("name_x", names.iter().map(String::as_str));
        }
        // The budget is spent: no more comparisons, no suggestion.
        assert_eq!(closest("name1", names.iter().map(String::as_str)), None);
        drop(_budget);
        let _fresh = Budget::start();
        assert_eq!(
            closest("name1", names.iter().map(String::as_str)),
            Some("name1")
        );
    }
}
