//! Per-judge normalisation over that judge's own applications in a category.

use rust_decimal::Decimal;

use super::arith::{self, Overflow};
use super::results::JudgeStats;
use crate::definition::wire::NormalisationMethod as NormalisationSpec;

/// A judge's statistics over their totals.
pub(crate) fn stats(totals: &[Decimal]) -> Result<JudgeStats, Overflow> {
    // Summed in value order: the same totals in any order (as stores and requests give them)
    // give the same statistics to the last of their 28 digits.
    let mut sorted = totals.to_vec();
    sorted.sort_by(|a, b| a.cmp(b).then(a.scale().cmp(&b.scale())));
    let totals = &sorted[..];
    let n = Decimal::from(totals.len());
    let mean = arith::div(arith::sum(totals.iter().copied())?, n)?;
    let mut squares = Decimal::ZERO;
    for t in totals {
        let d = arith::sub(*t, mean)?;
        squares = arith::add(squares, arith::mul(d, d)?)?;
    }
    let sd = arith::sqrt(arith::div(squares, n)?)?;
    Ok(JudgeStats {
        n: totals.len(),
        mean,
        sd,
        min: totals.iter().copied().min().unwrap_or_default(),
        max: totals.iter().copied().max().unwrap_or_default(),
    })
}

/// The normalised total, clamped to `bounds`, before rounding.
///
/// - `z_score`: z = (x − mean) / sd, placed at midpoint + z × range / 6 (so ±3 sd fill the
///   scale); a judge whose totals are all equal gives every application z = 0;
/// - `ratio_to_mean`: x / mean × midpoint (a judge whose mean is 0 gives the midpoint);
/// - `min_max`: the judge's lowest total maps to the scale's bottom and highest to its top (a
///   judge whose totals are all equal gives the midpoint).
pub(crate) fn normalise(
    method: NormalisationSpec,
    total: Decimal,
    judge: &JudgeStats,
    (lo, hi): (Decimal, Decimal),
) -> Result<Decimal, Overflow> {
    let range = arith::sub(hi, lo)?;
    let mid = arith::div(arith::add(lo, hi)?, Decimal::TWO)?;
    let value = match method {
        NormalisationSpec::None => total,
        NormalisationSpec::ZScore => {
            if judge.sd.is_zero() {
                mid
            } else {
                let z = arith::div(arith::sub(total, judge.mean)?, judge.sd)?;
                arith::add(mid, arith::div(arith::mul(z, range)?, Decimal::from(6))?)?
            }
        }
        NormalisationSpec::RatioToMean => {
            if judge.mean.is_zero() {
                mid
            } else {
                arith::mul(arith::div(total, judge.mean)?, mid)?
            }
        }
        NormalisationSpec::MinMax => {
            let spread = arith::sub(judge.max, judge.min)?;
            if spread.is_zero() {
                mid
            } else {
                arith::add(
                    lo,
                    arith::mul(arith::div(arith::sub(total, judge.min)?, spread)?, range)?,
                )?
            }
        }
    };
    Ok(value.clamp(lo, hi))
}

/// The method's name, for traces.
pub(crate) fn name(method: NormalisationSpec) -> &'static str {
    match method {
        NormalisationSpec::None => "none",
        NormalisationSpec::ZScore => "z_score",
        NormalisationSpec::RatioToMean => "ratio_to_mean",
        NormalisationSpec::MinMax => "min_max",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn z_score_by_hand() {
        // Totals 4, 6, 8: mean 6, population sd sqrt(8/3) = 1.632993...
        let s = stats(&[d("4"), d("6"), d("8")]).unwrap();
        assert_eq!(s.mean, d("6"));
        assert_eq!(s.sd.round_dp(6), d("1.632993"));
        // z(8) = 1.224745; 5 + 1.224745 × 10 / 6 = 7.041241...
        let v = normalise(NormalisationSpec::ZScore, d("8"), &s, (d("0"), d("10"))).unwrap();
        assert_eq!(v.round_dp(6), d("7.041241"));
        let mid = normalise(NormalisationSpec::ZScore, d("6"), &s, (d("0"), d("10"))).unwrap();
        assert_eq!(mid, d("5"));
    }

    #[test]
    fn other_methods_by_hand() {
        let s = stats(&[d("4"), d("6"), d("8")]).unwrap();
        assert_eq!(
            normalise(
                NormalisationSpec::RatioToMean,
                d("9"),
                &s,
                (d("0"), d("10"))
            )
            .unwrap(),
            d("7.5")
        );
        assert_eq!(
            normalise(NormalisationSpec::MinMax, d("6"), &s, (d("0"), d("10"))).unwrap(),
            d("5")
        );
        assert_eq!(
            normalise(NormalisationSpec::MinMax, d("8"), &s, (d("0"), d("10"))).unwrap(),
            d("10")
        );
        // Clamped: a generous judge's ratio cannot leave the scale.
        let low = stats(&[d("1"), d("1")]).unwrap();
        assert_eq!(
            normalise(
                NormalisationSpec::RatioToMean,
                d("3"),
                &low,
                (d("0"), d("10"))
            )
            .unwrap(),
            d("10")
        );
    }
}
