//! A variance-components model of a panel's marks: mark = mean + application + judge +
//! residual, applications and judges both random (the jury is one draw of the judges who could
//! have been asked). Fitted by least squares with the applications absorbed (the judges'
//! reduced normal equations), it gives:
//!
//! - each judge's effect (severe below zero, lenient above) relative to the average judge,
//!   adjusted for which applications they marked, with its standard error;
//! - each mark's residual after its application's level and its judge's effect, with its
//!   leverage, for outliers;
//! - intervals for the agreement a panel drawn from the same judges would reach (a single
//!   judge's, and the panel mean's), by generalized pivotal quantities (Weerahandi 1993;
//!   Cappelleri and Ting 2003 for intraclass correlations). Both the applications and the
//!   judges are sampled: an interval that resamples applications alone treats the judges as
//!   fixed and covers far less than it claims when judges differ in severity.
//!
//! When the judges cannot be told apart from the applications (judges who share no
//! application), the judge effect is not estimable and the model is one-way (judge and residual
//! together), as the intraclass correlation's one-way form is.

use super::distributions::chi_square;
use crate::random::Draw;

/// One mark as the model sees it: application and judge (any indices) and value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Cell {
    pub app: usize,
    pub judge: usize,
    pub value: f64,
}

/// The fitted model.
#[derive(Debug, Clone)]
pub(crate) struct Fit {
    apps: usize,
    judges: usize,
    per_app: f64,
    /// Whether judge effects are estimable (the design connects every judge to every other).
    two_way: bool,
    residual: f64,
    df_residual: f64,
    var_apps: f64,
    noise_apps: f64,
    var_judges: f64,
    noise_judges: f64,
    /// Per judge index of the input: (effect, standard error), when the judge marked.
    effects: Vec<Option<(f64, f64)>>,
    /// Per cell, in input order: (residual, leverage).
    residuals: Vec<(f64, f64)>,
}

/// The inverse of a square matrix by Gauss–Jordan elimination with partial pivoting; `None`
/// when it is singular (to working precision).
fn invert(mut a: Vec<Vec<f64>>) -> Option<Vec<Vec<f64>>> {
    let n = a.len();
    let scale = a
        .iter()
        .flatten()
        .fold(0.0f64, |m, v| m.max(v.abs()))
        .max(f64::MIN_POSITIVE);
    let mut inv: Vec<Vec<f64>> = (0..n)
        .map(|i| (0..n).map(|j| f64::from(u8::from(i == j))).collect())
        .collect();
    for col in 0..n {
        let pivot = (col..n).max_by(|x, y| a[*x][col].abs().total_cmp(&a[*y][col].abs()))?;
        if a[pivot][col].abs() <= 1e-10 * scale {
            return None;
        }
        a.swap(col, pivot);
        inv.swap(col, pivot);
        let p = a[col][col];
        for v in a[col].iter_mut() {
            *v /= p;
        }
        for v in inv[col].iter_mut() {
            *v /= p;
        }
        for row in 0..n {
            if row != col {
                let f = a[row][col];
                if f != 0.0 {
                    for c in 0..n {
                        a[row][c] -= f * a[col][c];
                        inv[row][c] -= f * inv[col][c];
                    }
                }
            }
        }
    }
    Some(inv)
}

fn sample_variance(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)
}

/// Fits the model to `cells` (at most one per application and judge). `None` with fewer than
/// two applications, or no residual degree of freedom.
pub(crate) fn fit(cells: &[Cell]) -> Option<Fit> {
    let dense = |pick: fn(&Cell) -> usize| {
        let mut ids: Vec<usize> = cells.iter().map(pick).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    let (app_ids, judge_ids) = (dense(|c| c.app), dense(|c| c.judge));
    let (n, k) = (app_ids.len(), judge_ids.len());
    if n < 2 {
        return None;
    }
    let at = |ids: &[usize], id: usize| ids.binary_search(&id).unwrap_or(0);
    let rows: Vec<(usize, usize, f64)> = cells
        .iter()
        .map(|c| (at(&app_ids, c.app), at(&judge_ids, c.judge), c.value))
        .collect();
    let mut by_app: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n];
    let mut counts = vec![0usize; k];
    for &(a, j, v) in &rows {
        by_app[a].push((j, v));
        counts[j] += 1;
    }
    let means: Vec<f64> = by_app
        .iter()
        .map(|m| m.iter().map(|x| x.1).sum::<f64>() / m.len() as f64)
        .collect();
    // Reduced normal equations for the judges: C b = q, C = diag(n_j) - Σ_i v_i v_i' / m_i.
    let pinv = (k >= 2)
        .then(|| {
            let mut c = vec![vec![0.0; k]; k];
            for (j, count) in counts.iter().enumerate() {
                c[j][j] += *count as f64;
            }
            for marks in &by_app {
                let w = 1.0 / marks.len() as f64;
                for (x, _) in marks {
                    for (y, _) in marks {
                        c[*x][*y] -= w;
                    }
                }
            }
            // C has the constant vector as its null space when the design is connected: its
            // pseudo-inverse (the sum-zero solution) is (C + 11'/k)⁻¹ − 11'/k.
            let kf = k as f64;
            for row in c.iter_mut() {
                for v in row.iter_mut() {
                    *v += 1.0 / kf;
                }
            }
            let mut p = invert(c)?;
            for row in p.iter_mut() {
                for v in row.iter_mut() {
                    *v -= 1.0 / kf;
                }
            }
            Some(p)
        })
        .flatten();
    let mut effects = vec![0.0; k];
    if let Some(p) = &pinv {
        let mut q = vec![0.0; k];
        for (a, marks) in by_app.iter().enumerate() {
            for (j, v) in marks {
                q[*j] += v - means[a];
            }
        }
        for (j, e) in effects.iter_mut().enumerate() {
            *e = (0..k).map(|x| p[j][x] * q[x]).sum();
        }
    }
    let levels: Vec<f64> = by_app
        .iter()
        .zip(&means)
        .map(|(marks, mean)| {
            mean - marks.iter().map(|(j, _)| effects[*j]).sum::<f64>() / marks.len() as f64
        })
        .collect();
    // u_i' P u_i and x' P x with u_i the application's judges averaged.
    let quad = |p: &Vec<Vec<f64>>, weights: &[(usize, f64)]| -> f64 {
        weights
            .iter()
            .map(|(x, wx)| {
                weights
                    .iter()
                    .map(|(y, wy)| wx * wy * p[*x][*y])
                    .sum::<f64>()
            })
            .sum()
    };
    let residuals: Vec<(f64, f64)> = rows
        .iter()
        .map(|&(a, j, v)| {
            let m = by_app[a].len() as f64;
            let leverage = 1.0 / m
                + pinv.as_ref().map_or(0.0, |p| {
                    let mut x: Vec<(usize, f64)> =
                        by_app[a].iter().map(|(y, _)| (*y, -1.0 / m)).collect();
                    x.push((j, 1.0));
                    quad(p, &x)
                });
            (v - levels[a] - effects[j], leverage)
        })
        .collect();
    let two_way = pinv.is_some();
    let df_residual = rows.len() as f64 - n as f64 - if two_way { (k - 1) as f64 } else { 0.0 };
    if df_residual < 1.0 {
        return None;
    }
    let residual = residuals.iter().map(|(r, _)| r * r).sum::<f64>() / df_residual;
    let noise_apps = by_app
        .iter()
        .map(|marks| {
            let m = marks.len() as f64;
            1.0 / m
                + pinv.as_ref().map_or(0.0, |p| {
                    let u: Vec<(usize, f64)> = marks.iter().map(|(j, _)| (*j, 1.0 / m)).collect();
                    quad(p, &u)
                })
        })
        .sum::<f64>()
        / n as f64;
    let noise_judges = pinv.as_ref().map_or(0.0, |p| {
        (0..k).map(|j| p[j][j]).sum::<f64>() / (k as f64 - 1.0)
    });
    let mut by_judge = vec![None; cells.iter().map(|c| c.judge + 1).max().unwrap_or(0)];
    if let Some(p) = &pinv {
        for (j, id) in judge_ids.iter().enumerate() {
            by_judge[*id] = Some((effects[j], (residual * p[j][j]).max(0.0).sqrt()));
        }
    }
    Some(Fit {
        apps: n,
        judges: k,
        per_app: rows.len() as f64 / n as f64,
        two_way,
        residual,
        df_residual,
        var_apps: sample_variance(&levels),
        noise_apps,
        var_judges: if k >= 2 {
            sample_variance(&effects)
        } else {
            0.0
        },
        noise_judges,
        effects: by_judge,
        residuals,
    })
}

/// 95% intervals from the model, for a single judge's agreement (what alpha and the
/// single-rater ICC estimate) and for the panel mean's (what ICC(·,k) estimates).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Intervals {
    pub single: [f64; 2],
    pub panel: [f64; 2],
}

impl Fit {
    /// The judge `judge`'s effect and its standard error, when judges are separable.
    pub(crate) fn effect(&self, judge: usize) -> Option<(f64, f64)> {
        self.effects.get(judge).copied().flatten()
    }

    /// Per cell, in input order: the residual and its leverage.
    pub(crate) fn residuals(&self) -> &[(f64, f64)] {
        &self.residuals
    }

    /// The residual variance and its degrees of freedom.
    pub(crate) fn residual(&self) -> (f64, f64) {
        (self.residual, self.df_residual)
    }

    /// Generalized pivotal intervals from `draws` draws of `seed`; `None` without draws or
    /// when no draw has any variance.
    pub(crate) fn intervals(&self, draws: u32, seed: u64) -> Option<Intervals> {
        if draws == 0 {
            return None;
        }
        let mut draw = Draw::new(seed);
        let (mut single, mut panel) = (Vec::new(), Vec::new());
        let (n, k) = (self.apps as f64, self.judges as f64);
        for _ in 0..draws {
            let e = self.df_residual * self.residual / chi_square(&mut draw, self.df_residual);
            let judges = if self.two_way {
                ((k - 1.0) * self.var_judges / chi_square(&mut draw, k - 1.0)
                    - self.noise_judges * e)
                    .max(0.0)
            } else {
                0.0
            };
            let apps = ((n - 1.0) * self.var_apps / chi_square(&mut draw, n - 1.0)
                - self.noise_apps * e)
                .max(0.0);
            let total = apps + judges + e;
            if total > 0.0 && total.is_finite() {
                single.push(apps / total);
                panel.push(apps / (apps + (judges + e) / self.per_app));
            }
        }
        if single.len() * 2 < draws as usize {
            return None;
        }
        let bounds = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            [
                super::agreement::percentile(&v, 0.025),
                super::agreement::percentile(&v, 0.975),
            ]
        };
        Some(Intervals {
            single: bounds(single),
            panel: bounds(panel),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::distributions::normal;

    /// Marks from the model with known parts: `per` of `judges` judges on each application.
    fn simulate(
        draw: &mut Draw,
        apps: usize,
        judges: usize,
        per: usize,
        sd: (f64, f64, f64),
    ) -> Vec<Cell> {
        let a: Vec<f64> = (0..apps).map(|_| sd.0 * normal(draw)).collect();
        let b: Vec<f64> = (0..judges).map(|_| sd.1 * normal(draw)).collect();
        let mut cells = Vec::new();
        for (i, level) in a.iter().enumerate() {
            let mut chosen: Vec<usize> = (0..judges).collect();
            for x in 0..per {
                let y = x + draw.below(judges - x);
                chosen.swap(x, y);
            }
            for j in &chosen[..per] {
                cells.push(Cell {
                    app: i,
                    judge: *j,
                    value: 5.0 + level + b[*j] + sd.2 * normal(draw),
                });
            }
        }
        cells
    }

    /// The simulation study the intervals are held to: designs like the Seoul example's (7
    /// judges, 5 or all 7 on each application; 12 or 28 applications; judge severity SD 0, 0.5
    /// and 1.1 marks against an application SD and a residual SD of 1), 1,000 replicates each:
    /// the nominal 95% intervals for a single judge's agreement cover the true value
    /// σa² / (σa² + σj² + σe²) in 93–97% of them, and the panel mean's
    /// σa² / (σa² + (σj² + σe²) / m) too.
    #[test]
    fn intervals_cover_their_nominal_95_percent_across_designs() {
        let mut draw = Draw::new(2026);
        let mut report = Vec::new();
        for per in [5usize, 7] {
            for apps in [12usize, 28] {
                for severity in [0.0, 0.5, 1.1] {
                    let truth = 1.0 / (1.0 + severity * severity + 1.0);
                    let truth_panel = 1.0 / (1.0 + (severity * severity + 1.0) / per as f64);
                    let replicates = 1000;
                    let (mut hits, mut hits_panel) = (0, 0);
                    for r in 0..replicates {
                        let cells = simulate(&mut draw, apps, 7, per, (1.0, severity, 1.0));
                        let seed = (report.len() as u64) << 32 | r;
                        let i = fit(&cells).unwrap().intervals(1000, seed).unwrap();
                        hits += usize::from(i.single[0] <= truth && truth <= i.single[1]);
                        hits_panel +=
                            usize::from(i.panel[0] <= truth_panel && truth_panel <= i.panel[1]);
                    }
                    let cover = hits as f64 / replicates as f64;
                    let cover_panel = hits_panel as f64 / replicates as f64;
                    report.push(format!(
                        "{apps} applications, {per} of 7 judges, severity SD {severity}: {cover:.3} / {cover_panel:.3}"
                    ));
                    assert!(
                        (0.93..=0.97).contains(&cover) && (0.93..=0.97).contains(&cover_panel),
                        "{}",
                        report.join("\n")
                    );
                }
            }
        }
        println!("{}", report.join("\n"));
    }

    #[test]
    fn judge_effects_recover_the_severities_and_sum_to_zero() {
        // No residual: the effects are the severities, centred.
        let severities = [-1.0, 0.0, 0.5, 0.5];
        let levels = [3.0, 6.0, 4.0, 8.0, 5.0];
        let mut cells = Vec::new();
        for (i, level) in levels.iter().enumerate() {
            for (j, s) in severities.iter().enumerate() {
                // An incomplete design: application i skips judge i % 4.
                if j != i % 4 {
                    cells.push(Cell {
                        app: i,
                        judge: j,
                        value: level + s,
                    });
                }
            }
        }
        let f = fit(&cells).unwrap();
        for (j, s) in severities.iter().enumerate() {
            let (effect, se) = f.effect(j).unwrap();
            assert!((effect - (s - 0.0)).abs() < 1e-9, "judge {j}: {effect}");
            assert!(se.abs() < 1e-6);
        }
        assert!(f.residuals().iter().all(|(r, _)| r.abs() < 1e-9));
    }

    #[test]
    fn judges_who_share_nothing_give_a_one_way_model() {
        // Two groups of judges on separate applications: not connected.
        let mut cells = Vec::new();
        for i in 0..6usize {
            let base = if i < 3 { 0 } else { 2 };
            for j in [base, base + 1] {
                cells.push(Cell {
                    app: i,
                    judge: j,
                    value: (i * 2 + j) as f64 % 5.0,
                });
            }
        }
        let f = fit(&cells).unwrap();
        assert!(f.effect(0).is_none());
        assert!(f.intervals(200, 1).is_some());
    }
}
