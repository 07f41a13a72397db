//! How a panel's values combine.

use rust_decimal::Decimal;

use super::arith::{self, Overflow};
use crate::definition::wire::AggregationSpec;

/// Why a panel's values could not be combined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AggregateError {
    /// Too few values for the method.
    TooFew {
        needed: usize,
        got: usize,
        why: String,
    },
    /// The values cannot leave the middle `count` with as many dropped at each end.
    Uneven { count: usize, got: usize },
    /// Arithmetic overflow.
    Overflow,
}

impl From<Overflow> for AggregateError {
    fn from(_: Overflow) -> Self {
        AggregateError::Overflow
    }
}

impl std::fmt::Display for AggregateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AggregateError::TooFew { needed, got, why } => {
                write!(f, "{why} needs at least {needed} values, got {got}")
            }
            AggregateError::Uneven { count, got } => write!(
                f,
                "the sum of the {count} middle values drops as many values at each end, so it needs {count}, {}, {}, ... values; got {got}",
                count + 2,
                count + 4
            ),
            AggregateError::Overflow => f.write_str("arithmetic overflow"),
        }
    }
}

/// The result: the value and which inputs (by position in `values`) were dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Aggregated {
    pub value: Decimal,
    pub dropped: Vec<usize>,
}

/// Combines `values`; ties in sorting are broken by position, so the result is deterministic.
pub(crate) fn aggregate(
    spec: AggregationSpec,
    values: &[Decimal],
) -> Result<Aggregated, AggregateError> {
    let n = values.len();
    if n == 0 {
        return Err(AggregateError::TooFew {
            needed: 1,
            got: 0,
            why: "aggregation".to_owned(),
        });
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| values[a].cmp(&values[b]).then(a.cmp(&b)));
    let sorted = |i: usize| values[order[i]];
    let mean_of = |idx: &[usize]| -> Result<Decimal, Overflow> {
        let total = arith::sum(idx.iter().map(|&i| values[i]))?;
        arith::div(total, Decimal::from(idx.len()))
    };
    let kept = |drop_low: usize, drop_high: usize| -> (Vec<usize>, Vec<usize>) {
        let kept = order[drop_low..n - drop_high].to_vec();
        let mut dropped: Vec<usize> = order[..drop_low]
            .iter()
            .chain(&order[n - drop_high..])
            .copied()
            .collect();
        dropped.sort_unstable();
        (kept, dropped)
    };
    Ok(match spec {
        AggregationSpec::Mean => Aggregated {
            value: mean_of(&order)?,
            dropped: Vec::new(),
        },
        AggregationSpec::Sum => Aggregated {
            // In value order, as the mean: the same marks in any order give the same sum to
            // the last of its 28 digits.
            value: arith::sum(order.iter().map(|&i| values[i]))?,
            dropped: Vec::new(),
        },
        AggregationSpec::Best => Aggregated {
            value: sorted(n - 1),
            dropped: Vec::new(),
        },
        AggregationSpec::Median => {
            let value = if n % 2 == 1 {
                sorted(n / 2)
            } else {
                arith::div(arith::add(sorted(n / 2 - 1), sorted(n / 2))?, Decimal::TWO)?
            };
            Aggregated {
                value,
                dropped: Vec::new(),
            }
        }
        AggregationSpec::TrimmedMean { trim } => {
            let k = trim as usize;
            if n <= 2 * k {
                return Err(AggregateError::TooFew {
                    needed: 2 * k + 1,
                    got: n,
                    why: format!("a trimmed mean dropping {k} at each end"),
                });
            }
            let (kept, dropped) = kept(k, k);
            Aggregated {
                value: mean_of(&kept)?,
                dropped,
            }
        }
        AggregationSpec::MiddleSum { count } => {
            let c = count as usize;
            if n >= c && (n - c) % 2 == 1 {
                return Err(AggregateError::Uneven { count: c, got: n });
            }
            if n < c {
                return Err(AggregateError::TooFew {
                    needed: c,
                    got: n,
                    why: format!(
                        "the sum of the {c} middle values (with as many dropped at each end)"
                    ),
                });
            }
            let k = (n - c) / 2;
            let (kept, dropped) = kept(k, k);
            Aggregated {
                value: arith::sum(kept.iter().map(|&i| values[i]))?,
                dropped,
            }
        }
    })
}

/// The method's name, for traces.
pub(crate) fn name(spec: AggregationSpec) -> &'static str {
    match spec {
        AggregationSpec::Mean => "mean",
        AggregationSpec::Median => "median",
        AggregationSpec::TrimmedMean { .. } => "trimmed_mean",
        AggregationSpec::Sum => "sum",
        AggregationSpec::MiddleSum { .. } => "middle_sum",
        AggregationSpec::Best => "best",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ds(v: &[&str]) -> Vec<Decimal> {
        v.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn a_middle_sum_says_which_counts_it_takes() {
        let six = ds(&["7", "3", "9", "5", "6", "8"]);
        let e = aggregate(AggregationSpec::MiddleSum { count: 3 }, &six).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the sum of the 3 middle values drops as many values at each end, so it needs 3, 5, 7, ... values; got 6"
        );
        let e = aggregate(AggregationSpec::MiddleSum { count: 3 }, &six[..2]).unwrap_err();
        assert!(
            e.to_string().ends_with("needs at least 3 values, got 2"),
            "{e}"
        );
        // Five values: the middle three of 3, 5, 6, 7, 9 are 5 + 6 + 7.
        let v = aggregate(AggregationSpec::MiddleSum { count: 3 }, &six[..5]).unwrap();
        assert_eq!(v.value, "18".parse().unwrap());
    }

    #[test]
    fn methods_by_hand() {
        let v = ds(&["7", "3", "9", "5", "6"]);
        assert_eq!(
            aggregate(AggregationSpec::Mean, &v).unwrap().value,
            "6".parse().unwrap()
        );
        assert_eq!(
            aggregate(AggregationSpec::Median, &v).unwrap().value,
            "6".parse().unwrap()
        );
        assert_eq!(
            aggregate(AggregationSpec::Sum, &v).unwrap().value,
            "30".parse().unwrap()
        );
        assert_eq!(
            aggregate(AggregationSpec::Best, &v).unwrap().value,
            "9".parse().unwrap()
        );
        // Drop 3 and 9: (7 + 5 + 6) / 3 = 6; dropped positions 1 and 2.
        let t = aggregate(AggregationSpec::TrimmedMean { trim: 1 }, &v).unwrap();
        assert_eq!((t.value, t.dropped), ("6".parse().unwrap(), vec![1, 2]));
        // Middle 3 of 5: 5 + 6 + 7.
        assert_eq!(
            aggregate(AggregationSpec::MiddleSum { count: 3 }, &v)
                .unwrap()
                .value,
            "18".parse().unwrap()
        );
        assert_eq!(
            aggregate(AggregationSpec::Median, &ds(&["1", "4", "2", "10"]))
                .unwrap()
                .value,
            "3".parse().unwrap()
        );
    }

    #[test]
    fn too_few_values() {
        assert!(aggregate(AggregationSpec::TrimmedMean { trim: 1 }, &ds(&["1", "2"])).is_err());
        assert!(
            aggregate(
                AggregationSpec::MiddleSum { count: 3 },
                &ds(&["1", "2", "3", "4"])
            )
            .is_err()
        );
        assert!(aggregate(AggregationSpec::Mean, &[]).is_err());
    }
}
