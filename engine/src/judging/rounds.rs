//! What a round judges (a subset of criteria, its own aggregation) and who goes on from it.

use rust_decimal::Decimal;

use crate::definition::model::Award;
use crate::definition::wire::{AdvanceSpec, RoundSpec};
use crate::scoring::Results;

impl Award {
    /// The award as a round judges it: only the round's criteria (all when it names none) and
    /// the round's aggregation when it has one.
    pub fn for_round(&self, round: &RoundSpec) -> Award {
        let mut award = self.clone();
        if !round.criteria.is_empty() {
            for c in &mut award.categories {
                c.criteria.retain(|x| round.criteria.contains(&x.id));
            }
        }
        if let Some(a) = round.aggregation {
            award.scoring.aggregation = a;
        }
        award
    }
}

/// The applications that go on from a round, by its rule, best first per category; `None` for
/// a rule an administrator decides (`decision`).
pub fn advancing(round: &RoundSpec, results: &Results<'_>) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for c in &results.categories {
        let ranked = &c.ranking;
        let take = match &round.advance {
            AdvanceSpec::Decision => return None,
            AdvanceSpec::Eligible => ranked.len() + c.unscored.len(),
            AdvanceSpec::TopN { n } => *n as usize,
            AdvanceSpec::TopFraction { fraction } => {
                let n = (Decimal::from(ranked.len()) * fraction).ceil();
                n.to_string().parse::<usize>().unwrap_or(0)
            }
            AdvanceSpec::Threshold { score } => ranked.iter().filter(|p| p.score >= *score).count(),
        };
        if matches!(round.advance, AdvanceSpec::Eligible) {
            out.extend(ranked.iter().map(|p| p.application.to_string()));
            out.extend(c.unscored.iter().map(|u| u.application.to_string()));
            continue;
        }
        // Everyone tied with the last place taken goes on too.
        let cutoff = ranked.get(take.saturating_sub(1)).map(|p| p.rank);
        out.extend(
            ranked
                .iter()
                .filter(|p| take > 0 && cutoff.is_some_and(|r| p.rank <= r))
                .map(|p| p.application.to_string()),
        );
    }
    Some(out)
}
