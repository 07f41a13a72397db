//! The few distributions the jury statistics need, drawn from the seeded [`Draw`] so that a
//! seed gives the same numbers on any machine: normal and chi-square draws, Student's t tail
//! probability, and Benjamini–Hochberg's false discovery rate.

use crate::random::Draw;

/// A standard normal draw (Box–Muller; one of the pair is used, so draws stay independent of
/// how many are asked for).
pub(crate) fn normal(draw: &mut Draw) -> f64 {
    let u = 1.0 - draw.unit(); // (0, 1]
    let v = draw.unit();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// A Gamma(`shape`, 1) draw (Marsaglia and Tsang 2000; below shape 1 by the boost
/// Gamma(a) = Gamma(a + 1) · U^(1/a)).
pub(crate) fn gamma(draw: &mut Draw, shape: f64) -> f64 {
    if shape < 1.0 {
        let u = 1.0 - draw.unit();
        return gamma(draw, shape + 1.0) * u.powf(1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x = normal(draw);
        let v = (1.0 + c * x).powi(3);
        if v <= 0.0 {
            continue;
        }
        let u = 1.0 - draw.unit();
        if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
            return d * v;
        }
    }
}

/// A chi-square draw with `df` degrees of freedom.
pub(crate) fn chi_square(draw: &mut Draw, df: f64) -> f64 {
    2.0 * gamma(draw, df / 2.0)
}

/// P(|T| ≥ |t|) for Student's t with `df` degrees of freedom: I_{df/(df+t²)}(df/2, 1/2).
pub(crate) fn t_two_sided(t: f64, df: f64) -> f64 {
    if !t.is_finite() {
        return 0.0;
    }
    incomplete_beta(df / 2.0, 0.5, df / (df + t * t))
}

/// The regularised incomplete beta function I_x(a, b) (continued fraction, Numerical Recipes
/// 6.4).
fn incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front =
        (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_fraction(b, a, 1.0 - x) / b
    }
}

fn beta_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let guard = |v: f64| if v.abs() < TINY { TINY } else { v };
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 / guard(1.0 - qab * x / qap);
    let mut h = d;
    for m in 1..300 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 / guard(1.0 + aa * d);
        c = guard(1.0 + aa / c);
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 / guard(1.0 + aa * d);
        c = guard(1.0 + aa / c);
        let delta = d * c;
        h *= delta;
        if (delta - 1.0).abs() < 1e-14 {
            break;
        }
    }
    h
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// Which of `p_values` Benjamini and Hochberg (1995) reject at false discovery rate `q`.
pub(crate) fn benjamini_hochberg(p_values: &[f64], q: f64) -> Vec<bool> {
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|a, b| p_values[*a].total_cmp(&p_values[*b]));
    let cut = order
        .iter()
        .enumerate()
        .rev()
        .find(|(rank, i)| p_values[**i] <= q * (*rank + 1) as f64 / m as f64)
        .map_or(0, |(rank, _)| rank + 1);
    let mut rejected = vec![false; m];
    for i in &order[..cut] {
        rejected[*i] = true;
    }
    rejected
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tails_match_tables() {
        // scipy: 2 * t.sf(2.0, 5), 2 * t.sf(1.0, 30).
        assert!((t_two_sided(2.0, 5.0) - 0.101_939_479).abs() < 1e-8);
        assert!((t_two_sided(-1.0, 30.0) - 0.325_308_615).abs() < 1e-8);
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-12);
        assert_eq!(t_two_sided(0.0, 4.0), 1.0);
    }

    #[test]
    fn chi_square_draws_have_their_mean_and_variance() {
        let mut draw = Draw::new(7);
        for df in [1.0, 6.0, 27.0] {
            let xs: Vec<f64> = (0..40_000).map(|_| chi_square(&mut draw, df)).collect();
            let mean = xs.iter().sum::<f64>() / xs.len() as f64;
            let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
            assert!(
                (mean - df).abs() < 0.05 * df.max(1.0),
                "df {df}: mean {mean}"
            );
            assert!(
                (var - 2.0 * df).abs() < 0.1 * 2.0 * df,
                "df {df}: variance {var}"
            );
        }
    }

    #[test]
    fn benjamini_hochberg_steps_up() {
        // m = 5, q = 0.05: thresholds 0.01, 0.02, 0.03, 0.04, 0.05; the largest k with
        // p(k) ≤ k q / m is 3 (0.029 ≤ 0.03), so the three smallest are rejected although
        // 0.025 > 0.02.
        let p = [0.029, 0.2, 0.001, 0.025, 0.5];
        assert_eq!(
            benjamini_hochberg(&p, 0.05),
            vec![true, false, true, true, false]
        );
        assert_eq!(benjamini_hochberg(&[0.5, 0.9], 0.05), vec![false, false]);
    }
}
