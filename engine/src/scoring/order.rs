//! Ranking a category: by score, then each tie-break step in turn; applications still tied
//! share a rank (1, 2, 2, 4).

use std::cmp::Ordering;
use std::collections::HashMap;

use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::application::Application;
use crate::definition::model::TieBreak;
use crate::definition::wire::{Hook, SortOrder};
use crate::eligibility::lookup;
use crate::plugin::{PluginSet, hooks};

/// An application ready to be ranked.
pub(crate) struct Candidate<'a> {
    pub app: &'a Application,
    pub score: Decimal,
    pub criteria: HashMap<&'a str, Decimal>,
    /// The panel's value of each indicator (with `aggregate_at: indicator`).
    pub indicators: Vec<(&'a str, Decimal)>,
}

/// A candidate's place.
pub(crate) struct Place {
    pub index: usize,
    pub rank: u32,
    pub tied: bool,
    pub tie_broken_by: Option<String>,
}

/// Ranks `candidates`; returns places best first, and warnings (a tie-break plugin that failed).
pub(crate) fn rank(
    candidates: &[Candidate<'_>],
    chain: &[TieBreak],
    plugins: &PluginSet,
) -> (Vec<Place>, Vec<String>) {
    let mut warnings = Vec::new();
    let mut sorted: Vec<usize> = (0..candidates.len()).collect();
    sorted.sort_by(|&a, &b| {
        candidates[b]
            .score
            .cmp(&candidates[a].score)
            .then_with(|| candidates[a].app.id.cmp(&candidates[b].app.id))
    });
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for i in sorted {
        match groups.last_mut() {
            Some(g)
                if g.first()
                    .is_some_and(|&f| candidates[f].score == candidates[i].score) =>
            {
                g.push(i)
            }
            _ => groups.push(vec![i]),
        }
    }
    let mut broken_by: HashMap<usize, String> = HashMap::new();
    for step in chain {
        let mut next = Vec::new();
        for group in groups {
            if group.len() < 2 {
                next.push(group);
                continue;
            }
            let split = match step {
                TieBreak::Criterion { criterion } => split_by(
                    &group,
                    |i| {
                        candidates[i]
                            .criteria
                            .get(criterion.as_str())
                            .copied()
                            .map(Key::Number)
                    },
                    SortOrder::Desc,
                ),
                TieBreak::Field { field, order } => {
                    split_by(&group, |i| field_key(candidates[i].app, field), *order)
                }
                TieBreak::Plugin { plugin } => {
                    match plugin_order(candidates, &group, plugin, plugins) {
                        Ok(order) => order.into_iter().map(|i| vec![i]).collect(),
                        Err(e) => {
                            warnings.push(format!(
                                "tie-break plugin `{plugin}` left a tie unbroken: {e}"
                            ));
                            vec![group.clone()]
                        }
                    }
                }
            };
            if split.len() > 1 {
                let label = label(step);
                for &i in &group {
                    broken_by.entry(i).or_insert_with(|| label.clone());
                }
            }
            next.extend(split);
        }
        groups = next;
    }
    let mut places = Vec::new();
    let mut position = 0u32;
    for group in groups {
        let rank = position + 1;
        let tied = group.len() > 1;
        for i in group {
            places.push(Place {
                index: i,
                rank,
                tied,
                tie_broken_by: broken_by.remove(&i),
            });
            position += 1;
        }
    }
    (places, warnings)
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Number(Decimal),
    Text(String),
}

fn field_key(app: &Application, field: &str) -> Option<Key> {
    let v = lookup(&app.fields, field)?;
    crate::eligibility::decimal(v)
        .map(Key::Number)
        .or_else(|| v.as_str().map(|s| Key::Text(s.to_owned())))
}

/// Splits a group by a key; a missing key sorts last; equal keys stay together.
fn split_by(
    group: &[usize],
    key: impl Fn(usize) -> Option<Key>,
    order: SortOrder,
) -> Vec<Vec<usize>> {
    // Equal keys keep the group's order (applications by id), never the inputs' order.
    let position: HashMap<usize, usize> = group.iter().enumerate().map(|(p, &i)| (i, p)).collect();
    let mut keyed: Vec<(Option<Key>, usize)> = group.iter().map(|&i| (key(i), i)).collect();
    keyed.sort_by(|(a, ia), (b, ib)| {
        let ord = match (a, b) {
            (Some(x), Some(y)) => match order {
                SortOrder::Desc => y.cmp(x),
                SortOrder::Asc => x.cmp(y),
            },
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        ord.then(position.get(ia).cmp(&position.get(ib)))
    });
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut last: Option<Option<Key>> = None;
    for (k, i) in keyed {
        match (&last, out.last_mut()) {
            (Some(prev), Some(g)) if *prev == k => g.push(i),
            _ => out.push(vec![i]),
        }
        last = Some(k);
    }
    out
}

fn plugin_order(
    candidates: &[Candidate<'_>],
    group: &[usize],
    plugin: &crate::ids::PluginId,
    plugins: &PluginSet,
) -> Result<Vec<usize>, String> {
    let tied: Vec<Value> = group
        .iter()
        .map(|&i| {
            // Every criterion's panel score too, in id order, so that a plugin can apply rules
            // such as "the better second run wins".
            let criteria: std::collections::BTreeMap<&str, Decimal> = candidates[i]
                .criteria
                .iter()
                .map(|(k, v)| (*k, *v))
                .collect();
            let indicators: std::collections::BTreeMap<&str, Decimal> =
                candidates[i].indicators.iter().copied().collect();
            json!({
                "application": candidates[i].app,
                "score": candidates[i].score,
                "criteria": criteria,
                "indicators": indicators,
            })
        })
        .collect();
    let output: hooks::TieBreakOutput = plugins
        .call(plugin, Hook::TieBreak, &json!({ "tied": tied }))
        .and_then(|out| hooks::parse(plugin.as_str(), Hook::TieBreak, out.value))
        .map_err(|e| e.to_string())?;
    let order = output.order;
    let mut result = Vec::new();
    for id in order {
        let i = group
            .iter()
            .copied()
            .find(|&i| candidates[i].app.id.as_str() == id.as_str())
            .ok_or_else(|| {
                format!(
                    "`order` names `{}`, which is not among the tied",
                    crate::plugin::clean(&id, 100)
                )
            })?;
        if result.contains(&i) {
            return Err(format!(
                "`order` names `{}` twice",
                crate::plugin::clean(&id, 100)
            ));
        }
        result.push(i);
    }
    if result.len() != group.len() {
        return Err("`order` does not name every tied application".to_owned());
    }
    Ok(result)
}

fn label(step: &TieBreak) -> String {
    match step {
        TieBreak::Criterion { criterion } => format!("criterion `{criterion}`"),
        TieBreak::Field { field, .. } => format!("field `{field}`"),
        TieBreak::Plugin { plugin } => format!("plugin `{plugin}`"),
    }
}
