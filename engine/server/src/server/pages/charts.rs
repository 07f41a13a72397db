//! An award at a glance, for its administrators: eligibility outcomes, each round's score
//! distribution per category and each judge's progress, drawn as server-rendered SVG. Every
//! chart has a title and its numbers beside it as a table, for screen readers and print.

use std::collections::BTreeMap;

use axum::Extension;
use axum::extract::{Path, State};
use axum::response::Response;
use maud::{Markup, html};
use rust_decimal::Decimal;

use super::Ctx;
use super::api::Api;
use super::apply::status_label;
use super::layout::page;
use super::public::text;
use crate::server::state::AppState;

/// A score distribution's bins: `[lo, hi)` (the last closed) and how many scores fall in each.
#[derive(Debug, PartialEq, Eq)]
pub struct Bin {
    pub lo: Decimal,
    pub hi: Decimal,
    pub count: usize,
}

/// Scores in `bins` equal bins from the lowest to the highest (exact: decimals, counts whole).
pub fn bins(scores: &[Decimal], bins: usize) -> Vec<Bin> {
    let (Some(lo), Some(hi)) = (scores.iter().min(), scores.iter().max()) else {
        return Vec::new();
    };
    let bins = bins.max(1);
    if lo == hi {
        return vec![Bin {
            lo: *lo,
            hi: *hi,
            count: scores.len(),
        }];
    }
    let width = (*hi - *lo) / Decimal::from(bins);
    let mut out: Vec<Bin> = (0..bins)
        .map(|i| Bin {
            lo: *lo + width * Decimal::from(i),
            hi: if i + 1 == bins {
                *hi
            } else {
                *lo + width * Decimal::from(i + 1)
            },
            count: 0,
        })
        .collect();
    for s in scores {
        let i = out.iter().position(|b| *s < b.hi).unwrap_or(bins - 1);
        out[i].count += 1;
    }
    out
}

/// Horizontal bars, a label before each and its count after (long labels fit).
fn bars(title: &str, rows: &[(String, usize)], colour: &str) -> Markup {
    let most = rows.iter().map(|r| r.1).max().unwrap_or(1).max(1) as f64;
    let (label_w, plot_w, row_h) = (230.0, 280.0, 26.0);
    let height = row_h * rows.len() as f64 + 8.0;
    html! {
        svg.chart role="img" aria-label=(title) viewBox={ "0 0 " (label_w + plot_w + 50.0) " " (height) } {
            title { (title) }
            line x1=(label_w) x2=(label_w) y1="0" y2=(height) stroke="#555" stroke-width="1" {}
            @for (i, (label, n)) in rows.iter().enumerate() {
                @let y = i as f64 * row_h + 4.0;
                @let w = *n as f64 / most * plot_w;
                text x=(label_w - 8.0) y=(y + 15.0) text-anchor="end" font-size="12" { (label) }
                rect x=(label_w) y=(y) width=(w.max(0.5)) height=(row_h - 8.0) fill=(colour) {}
                text x=(label_w + w + 6.0) y=(y + 15.0) font-size="12" { (n) }
            }
        }
    }
}

/// How many bins a distribution of `n` scores is drawn in: about the square root, 1 to 8.
fn bin_count(n: usize) -> usize {
    (1..=8).find(|k| k * k >= n).unwrap_or(8)
}

/// A chart and its numbers as a table.
fn chart_with_table(
    ctx: &Ctx,
    title: &str,
    head: &str,
    rows: &[(String, usize)],
    colour: &str,
) -> Markup {
    html! {
        figure {
            (bars(title, rows, colour))
            figcaption { (title) }
            details {
                summary { (ctx.t("charts.numbers")) }
                table {
                    thead { tr { th { (head) } th { (ctx.t("charts.count")) } } }
                    tbody { @for (label, n) in rows { tr { td { (label) } td { (n) } } } }
                }
            }
        }
    }
}

pub async fn page_for(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    ctx: Ctx,
    Path(award): Path<String>,
) -> Response {
    let (apps, s) = match super::public::with_entries(&state, &api, &ctx, &award).await {
        Ok(found) => found,
        Err(page) => return *page,
    };
    let a = &s.loaded.award;
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    for x in &apps {
        *outcomes
            .entry(if x["status"] == "withdrawn" {
                status_label(&ctx, "withdrawn")
            } else {
                super::apply::eligibility_label(&ctx, x)
            })
            .or_default() += 1;
    }
    let mut by_category: BTreeMap<String, usize> = BTreeMap::new();
    for x in apps.iter().filter(|x| x["status"] == "submitted") {
        let c = x["application"]["category"].as_str().unwrap_or_default();
        let name = a
            .category(c)
            .map_or_else(|| c.to_owned(), |c| text(&ctx, &s.loaded, &c.name));
        *by_category.entry(name).or_default() += 1;
    }
    // Each round with results: its score distribution per category.
    let mut rounds = Vec::new();
    for spec in a.judging_rounds() {
        let reply = api
            .get(
                &ctx,
                &format!("/v1/awards/{award}/rounds/{}/results", spec.id),
            )
            .await;
        if !reply.ok() {
            continue;
        }
        let mut per_category = Vec::new();
        for c in reply.json["results"]["categories"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let scores: Vec<Decimal> = c["ranking"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r["score"].as_str()?.parse().ok())
                .collect();
            if scores.is_empty() {
                continue;
            }
            let id = c["category"].as_str().unwrap_or_default();
            let name = a
                .category(id)
                .map_or_else(|| id.to_owned(), |c| text(&ctx, &s.loaded, &c.name));
            let rows: Vec<(String, usize)> = bins(&scores, bin_count(scores.len()))
                .into_iter()
                .map(|b| {
                    (
                        format!("{}–{}", b.lo.round_dp(2), b.hi.round_dp(2)),
                        b.count,
                    )
                })
                .collect();
            per_category.push((name, scores.len(), rows));
        }
        rounds.push((text(&ctx, &s.loaded, &spec.name), per_category));
    }
    let name = text(&ctx, &s.loaded, &a.name);
    let outcome_rows: Vec<(String, usize)> = outcomes.into_iter().collect();
    let category_rows: Vec<(String, usize)> = by_category.into_iter().collect();
    page(
        &ctx,
        &format!("{name} — {}", ctx.t("charts.title")),
        html! {
            h1 { (name) " — " (ctx.t("charts.title")) }
            p { a href={ "/awards/" (award) "/admin" } { (ctx.t("admin.back")) } }
            h2 { (ctx.t("charts.entries")) }
            (chart_with_table(&ctx, ctx.t("charts.eligibility"), ctx.t("app.eligibility"), &outcome_rows, "#0b5cad"))
            (chart_with_table(&ctx, ctx.t("charts.categories"), ctx.t("app.category"), &category_rows, "#1d6b33"))
            @for (round, per_category) in &rounds {
                h2 { (ctx.tf("charts.round_scores", &[("round", round)])) }
                @if per_category.is_empty() { p { (ctx.t("charts.no_scores")) } }
                @for (category, n, rows) in per_category {
                    (chart_with_table(&ctx, &ctx.tf("charts.distribution", &[("category", category), ("n", &n.to_string())]), ctx.t("charts.score_range"), rows, "#7a4d00"))
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn every_score_falls_in_one_bin_and_the_highest_in_the_last() {
        let scores: Vec<Decimal> = ["1", "1.5", "2", "4", "7", "7"]
            .iter()
            .map(|s| d(s))
            .collect();
        let b = super::bins(&scores, 3);
        assert_eq!(b.iter().map(|b| b.count).collect::<Vec<_>>(), vec![3, 1, 2]);
        assert_eq!((b[0].lo, b[2].hi), (d("1"), d("7")));
        assert_eq!(b.iter().map(|b| b.count).sum::<usize>(), scores.len());
        assert_eq!(
            (
                super::bin_count(1),
                super::bin_count(3),
                super::bin_count(30),
                super::bin_count(1000)
            ),
            (1, 2, 6, 8)
        );
        let same = super::bins(&[d("5"), d("5")], 4);
        assert_eq!(same.len(), 1);
        assert!(super::bins(&[], 4).is_empty());
    }
}
