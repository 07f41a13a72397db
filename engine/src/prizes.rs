//! Prizes by winning place: which prize each winner receives, and whether its money is
//! withheld (the winner is eligible without prize money). One rule for the offline score and
//! the final results of rounds.

use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::definition::wire::PrizeSpec;
use crate::eligibility::Decision;

/// A prize given to a winner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AwardedPrize {
    /// The winning place it is for.
    pub place: u32,
    /// Its name.
    pub name: crate::text::Text,
    /// The money it carries (`None` when it has none, or it is withheld).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<Decimal>,
    /// The money's currency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Why the money is withheld (the winner is eligible without prize money).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withheld: Option<String>,
}

/// A winner, as prizes see it: their rank (`None` when a committee chose them without one)
/// and why their prize money is withheld, if it is.
pub(crate) struct PrizeWinner {
    pub rank: Option<u32>,
    pub no_prize: Option<String>,
}

/// The prize of each winner (given in the order of their places): the winning place is the
/// rank among the winners (tied winners share a place and its prize), or the order given when
/// there is no rank.
pub(crate) fn award(prizes: &[PrizeSpec], winners: &[PrizeWinner]) -> Vec<Option<AwardedPrize>> {
    winners
        .iter()
        .enumerate()
        .map(|(k, w)| {
            let place = match w.rank {
                Some(r) => {
                    1 + winners
                        .iter()
                        .filter(|x| x.rank.is_some_and(|x| x < r))
                        .count() as u32
                }
                None => k as u32 + 1,
            };
            let p = prizes.iter().find(|p| p.place == place)?;
            Some(AwardedPrize {
                place,
                name: p.name.clone(),
                amount: if w.no_prize.is_some() { None } else { p.amount },
                currency: p.currency.clone(),
                withheld: w.no_prize.clone(),
            })
        })
        .collect()
}

/// Why an application's prize money is withheld: the message of its first failed rule whose
/// outcome is `no_prize`, in `language`.
pub(crate) fn withheld_by(decision: &Decision, language: &str) -> Option<String> {
    decision
        .failures
        .iter()
        .find(|f| f.outcome == crate::definition::wire::Outcome::NoPrize)
        .map(|f| f.message.get(language, language).to_owned())
}
