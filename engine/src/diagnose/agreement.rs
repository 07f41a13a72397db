//! Agreement between judges: Krippendorff's alpha (interval and ordinal metrics, missing marks
//! allowed) and
//! intraclass correlation, with a reading in plain words (their intervals come from the
//! variance-components model).
//!
//! Statistics about judges are not scores: they are computed in binary floating point and shown
//! to three places, and no score depends on them.

use schemars::JsonSchema;
use serde::Serialize;

/// Krippendorff's alpha, interval metric, over units (applications) that each hold the values
/// their judges gave; units with fewer than two values are not pairable and are left out.
/// `None` when fewer than two values are pairable or every pairable value is the same.
pub(crate) fn alpha_interval(units: &[Vec<f64>]) -> Option<f64> {
    let (mut n, mut sum, mut squares, mut within) = (0usize, 0.0, 0.0, 0.0);
    for values in units.iter().filter(|v| v.len() >= 2) {
        let m = values.len() as f64;
        let s: f64 = values.iter().sum();
        let q: f64 = values.iter().map(|v| v * v).sum();
        // Σ over ordered pairs i ≠ j of (vi − vj)² = 2(m Σv² − (Σv)²).
        within += 2.0 * (m * q - s * s) / (m - 1.0);
        n += values.len();
        sum += s;
        squares += q;
    }
    if n < 2 {
        return None;
    }
    let n = n as f64;
    let observed = within / n;
    let expected = 2.0 * (n * squares - sum * sum) / (n * (n - 1.0));
    if expected <= f64::EPSILON * squares.max(1.0) {
        return None;
    }
    Some(1.0 - observed / expected)
}

/// Krippendorff's alpha with the ordinal metric: marks are ordered steps, and the distance
/// between two is the number of marks given between them (their ranks among all pairable
/// marks), not their numeric difference. The categories are the values given. `None` as
/// [`alpha_interval`].
pub(crate) fn alpha_ordinal(units: &[Vec<f64>]) -> Option<f64> {
    let pairable: Vec<&Vec<f64>> = units.iter().filter(|u| u.len() >= 2).collect();
    let mut values: Vec<f64> = pairable.iter().flat_map(|u| u.iter().copied()).collect();
    values.sort_by(f64::total_cmp);
    values.dedup();
    let v = values.len();
    if v < 2 {
        return None;
    }
    let at = |x: f64| values.partition_point(|y| *y < x);
    // The coincidence matrix: each ordered pair within a unit, weighted 1 / (m - 1).
    let mut o = vec![vec![0.0; v]; v];
    for u in &pairable {
        let w = 1.0 / (u.len() as f64 - 1.0);
        for (i, x) in u.iter().enumerate() {
            for (j, y) in u.iter().enumerate() {
                if i != j {
                    o[at(*x)][at(*y)] += w;
                }
            }
        }
    }
    let n_c: Vec<f64> = o.iter().map(|row| row.iter().sum()).collect();
    let n: f64 = n_c.iter().sum();
    // Cumulative counts: δ²(c, k) = (Σ_{g=c..k} n_g − (n_c + n_k) / 2)².
    let mut cumulative = vec![0.0; v + 1];
    for c in 0..v {
        cumulative[c + 1] = cumulative[c] + n_c[c];
    }
    let delta = |c: usize, k: usize| {
        let (lo, hi) = (c.min(k), c.max(k));
        (cumulative[hi + 1] - cumulative[lo] - (n_c[lo] + n_c[hi]) / 2.0).powi(2)
    };
    let (mut observed, mut expected) = (0.0, 0.0);
    for c in 0..v {
        for k in 0..v {
            let d = delta(c, k);
            observed += o[c][k] * d;
            expected += n_c[c] * n_c[k] * d;
        }
    }
    if expected <= 0.0 {
        return None;
    }
    Some(1.0 - (n - 1.0) * observed / expected)
}

/// The six intraclass correlations of a complete table (`rows` targets × `k` raters), as
/// Shrout and Fleiss (1979) and pingouin define them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, JsonSchema)]
pub struct Icc {
    /// One-way random, single rater.
    pub icc1: f64,
    /// Two-way random, absolute agreement, single rater; `None` where judges are not crossed
    /// with applications (a one-way design: the "raters" are not the same people throughout).
    pub icc2: Option<f64>,
    /// Two-way mixed, consistency, single rater; `None` in a one-way design.
    pub icc3: Option<f64>,
    /// One-way random, the mean of k raters.
    pub icc1k: f64,
    /// Two-way random, absolute agreement, the mean of k raters; `None` in a one-way design.
    pub icc2k: Option<f64>,
    /// Two-way mixed, consistency, the mean of k raters; `None` in a one-way design.
    pub icc3k: Option<f64>,
}

/// ICCs of `table[target][rater]`; `None` below 2 × 2 or without variation between targets.
pub(crate) fn icc(table: &[Vec<f64>]) -> Option<Icc> {
    let n = table.len();
    let k = table.first()?.len();
    if n < 2 || k < 2 || table.iter().any(|r| r.len() != k) {
        return None;
    }
    // A table whose targets are all one (a bootstrap resample can be) has no between-targets
    // variance to speak of; floating point would give a meaningless huge negative value.
    if table.iter().all(|r| r == &table[0]) {
        return None;
    }
    let (nf, kf) = (n as f64, k as f64);
    let grand = table.iter().flatten().sum::<f64>() / (nf * kf);
    let row_means: Vec<f64> = table.iter().map(|r| r.iter().sum::<f64>() / kf).collect();
    let col_means: Vec<f64> = (0..k)
        .map(|j| table.iter().map(|r| r[j]).sum::<f64>() / nf)
        .collect();
    let ss_total: f64 = table.iter().flatten().map(|v| (v - grand).powi(2)).sum();
    let ss_rows: f64 = kf * row_means.iter().map(|m| (m - grand).powi(2)).sum::<f64>();
    let ss_cols: f64 = nf * col_means.iter().map(|m| (m - grand).powi(2)).sum::<f64>();
    let msr = ss_rows / (nf - 1.0);
    let msc = ss_cols / (kf - 1.0);
    let mse = (ss_total - ss_rows - ss_cols) / ((nf - 1.0) * (kf - 1.0));
    let msw = (ss_total - ss_rows) / (nf * (kf - 1.0));
    let scale = ss_total / (nf * kf) + f64::MIN_POSITIVE;
    if msr <= 1e-12 * scale {
        return None;
    }
    Some(Icc {
        icc1: (msr - msw) / (msr + (kf - 1.0) * msw),
        icc2: Some((msr - mse) / (msr + (kf - 1.0) * mse + kf * (msc - mse) / nf)),
        icc3: Some((msr - mse) / (msr + (kf - 1.0) * mse)),
        icc1k: (msr - msw) / msr,
        icc2k: Some((msr - mse) / (msr + (msc - mse) / nf)),
        icc3k: Some((msr - mse) / msr),
    })
}

/// The fewest units (applications marked by two judges or more) an interval or a verbal
/// reading rests on: with fewer, they would claim more than the data show.
pub(crate) const MIN_UNITS: usize = 5;

/// The `q` quantile of sorted `values`, by linear interpolation between closest ranks.
pub(crate) fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let at = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (at.floor() as usize, at.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo as f64)
}

/// Krippendorff's own reading of alpha (2004): at least 0.800 to rely on, 0.667 for tentative
/// conclusions.
pub(crate) fn read_alpha(alpha: f64) -> &'static str {
    if alpha >= 0.8 {
        "good agreement"
    } else if alpha >= 0.667 {
        "moderate agreement: tentative conclusions only"
    } else if alpha > 0.0 {
        "poor agreement"
    } else {
        "no agreement beyond chance"
    }
}

/// Koo and Li's reading of an ICC (2016).
pub(crate) fn read_icc(icc: f64) -> &'static str {
    if icc >= 0.9 {
        "excellent reliability"
    } else if icc >= 0.75 {
        "good reliability"
    } else if icc >= 0.5 {
        "moderate reliability"
    } else {
        "poor reliability"
    }
}

/// Pearson's correlation; `None` below three pairs or without variation.
pub(crate) fn pearson(pairs: &[(f64, f64)]) -> Option<f64> {
    if pairs.len() < 3 {
        return None;
    }
    let n = pairs.len() as f64;
    let (mx, my) = (
        pairs.iter().map(|p| p.0).sum::<f64>() / n,
        pairs.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in pairs {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx).powi(2);
        syy += (y - my).powi(2);
    }
    if sxx <= 0.0 || syy <= 0.0 {
        return None;
    }
    Some(sxy / (sxx * syy).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_judges_agree_fully_and_relabelling_changes_nothing() {
        let units = vec![
            vec![1.0, 1.0],
            vec![4.0, 4.0, 4.0],
            vec![7.0, 7.0],
            vec![2.0],
        ];
        assert_eq!(alpha_interval(&units), Some(1.0));
        let a = vec![vec![1.0, 2.0], vec![5.0, 3.0, 4.0], vec![9.0, 7.0]];
        let mut b: Vec<Vec<f64>> = a
            .iter()
            .rev()
            .map(|u| u.iter().rev().copied().collect())
            .collect();
        b.rotate_left(1);
        assert!((alpha_interval(&a).unwrap() - alpha_interval(&b).unwrap()).abs() < 1e-12);
        // No variation at all: no alpha.
        assert_eq!(alpha_interval(&[vec![3.0, 3.0], vec![3.0, 3.0]]), None);
    }

    #[test]
    fn percentiles_interpolate() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(percentile(&v, 0.5), 3.0);
        assert_eq!(percentile(&v, 0.25), 2.0);
        assert!((percentile(&v, 0.1) - 1.4).abs() < 1e-12);
    }
}
