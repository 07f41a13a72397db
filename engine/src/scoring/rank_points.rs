//! Rank-based judging: each judge's rankings of a category become one ranking, then points.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::results::RankTrace;
use crate::application::RankingSubmission;
use crate::definition::model::Ranking;
use crate::definition::wire::PointsSpec;
use crate::ids::JudgeId;

/// An application in one judge's rankings: its ranks per source, their sum, and its rank in
/// the tie-break source.
type Row<'a> = (&'a str, Vec<(&'a str, u32)>, u32, u32);

/// One judge's points for one application.
pub(crate) struct JudgePoints<'a> {
    pub judge: &'a JudgeId,
    pub application: &'a str,
    pub trace: RankTrace<'a>,
}

/// Every judge's points in a category. Applications that are not admitted are removed from
/// each ranking before places are counted.
pub(crate) fn points<'a>(
    spec: &'a Ranking,
    rankings: &[&'a RankingSubmission],
    admitted: &dyn Fn(&str) -> bool,
) -> Vec<JudgePoints<'a>> {
    let mut by_judge: BTreeMap<&JudgeId, Vec<&RankingSubmission>> = BTreeMap::new();
    for r in rankings {
        by_judge.entry(&r.judge).or_default().push(r);
    }
    let mut out = Vec::new();
    for (judge, mut rs) in by_judge {
        // Sources in the award's order, so traces read the same for every judge.
        rs.sort_by_key(|r| {
            let s = r.source.as_deref().unwrap_or("");
            spec.sources
                .iter()
                .position(|x| x == s)
                .unwrap_or(usize::MAX)
        });
        let Some(first) = rs.first() else { continue };
        let apps: Vec<&str> = first
            .order
            .iter()
            .map(|a| a.as_str())
            .filter(|a| admitted(a))
            .collect();
        let mut rows: Vec<Row<'_>> = apps
            .iter()
            .map(|app| {
                let ranks: Vec<(&str, u32)> = rs
                    .iter()
                    .map(|r| {
                        let place = r
                            .order
                            .iter()
                            .map(|a| a.as_str())
                            .filter(|a| admitted(a))
                            .position(|a| a == *app)
                            .map_or(0, |p| p as u32 + 1);
                        (r.source.as_deref().unwrap_or(""), place)
                    })
                    .collect();
                let combined = ranks.iter().map(|(_, r)| r).sum();
                let tie = spec
                    .tie_break_source
                    .as_deref()
                    .and_then(|s| ranks.iter().find(|(src, _)| *src == s).map(|(_, r)| *r))
                    .unwrap_or(0);
                (*app, ranks, combined, tie)
            })
            .collect();
        rows.sort_by(|a, b| (a.2, a.3, a.0).cmp(&(b.2, b.3, b.0)));
        let n = rows.len();
        for (i, (app, ranks, combined, _)) in rows.into_iter().enumerate() {
            let place = i as u32 + 1;
            let points = match &spec.points {
                PointsSpec::Table { table } => table.get(i).copied().unwrap_or(0),
                PointsSpec::Borda => (n - 1 - i) as u32,
            };
            out.push(JudgePoints {
                judge,
                application: app,
                trace: RankTrace {
                    ranks,
                    combined,
                    place,
                    points: Decimal::from(points),
                },
            });
        }
    }
    out
}
