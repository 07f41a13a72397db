//! A round's draw as people read it: how many judges each entry has, the load per judge,
//! expertise matched, the pairs kept apart by a conflict of interest with the rule and reason,
//! and whether every judge can be compared with every other (what normalisation needs).

use maud::{Markup, html};
use serde_json::Value;

use super::Ctx;
use super::entries::Names;

/// The draw's coverage as facts and a table of the pairs kept apart.
pub fn coverage(ctx: &Ctx, c: &Value, names: &Names<'_>) -> Markup {
    let n = |k: &str| c[k].as_u64().unwrap_or_default().to_string();
    let kept: Vec<&Value> = c["kept_apart"].as_array().into_iter().flatten().collect();
    let groups = c["judge_groups"].as_u64().unwrap_or(1);
    html! {
        dl.facts {
            dt { (ctx.t("draw.per_entry")) } dd { (n("judges_per_application")) }
            dt { (ctx.t("draw.load")) } dd { (ctx.tf("draw.load_range", &[("min", &n("min_load")), ("max", &n("max_load"))])) }
            dt { (ctx.t("draw.assignments")) } dd { (n("assignments")) }
            dt { (ctx.t("draw.expertise")) } dd { (ctx.tf("draw.of", &[("n", &n("expertise_matched")), ("of", &n("assignments"))])) }
            dt { (ctx.t("draw.kept_apart")) } dd { (n("conflicts_avoided")) }
            dt { (ctx.t("draw.groups")) } dd {
                @if groups <= 1 { (ctx.t("draw.connected")) }
                @else { span.due { (ctx.tf("draw.disconnected", &[("n", &groups.to_string())])) } }
            }
        }
        @if !kept.is_empty() {
            table {
                caption { (ctx.t("draw.kept_apart")) }
                thead { tr { th { (ctx.t("admin.judge")) } th { (ctx.t("app.entry")) } th { (ctx.t("draw.rule")) } th { (ctx.t("admin.reason")) } } }
                tbody { @for k in &kept {
                    tr {
                        td { (names.judge(k["judge"].as_str().unwrap_or_default())) }
                        td { (super::entries::name(k["application"].as_str().unwrap_or_default(), names.entries)) }
                        td { (rule(ctx, k["rule"].as_str().unwrap_or_default())) }
                        td { (k["reason"].as_str().unwrap_or_default()) }
                    }
                } }
            }
        }
    }
}

fn rule(ctx: &Ctx, rule: &str) -> String {
    let key = format!("draw.rule.{rule}");
    let t = ctx.t(&key);
    if t == key {
        rule.replace('_', " ")
    } else {
        t.to_owned()
    }
}
