//! A round's jury diagnostics for its administrators: the warnings first, then per category the
//! agreement, each judge's severity (drawn), and each application's rank interval (drawn), as
//! inline SVG made on the server (no script, no library in the browser).

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use maud::{Markup, html};
use serde_json::Value;

use super::Ctx;
use super::api::Api;
use super::layout::{page, problem, redirect};

fn f(v: &Value) -> Option<f64> {
    v.as_f64()
}

fn shown(v: &Value) -> String {
    f(v).map_or_else(|| "–".to_owned(), |x| format!("{x:.3}"))
}

/// A rank: whole when it is, one place otherwise.
fn rank(v: &Value) -> String {
    match f(v) {
        Some(x) if x.fract() == 0.0 => format!("{x:.0}"),
        Some(x) => format!("{x:.1}"),
        None => "–".to_owned(),
    }
}

fn interval(v: &Value) -> String {
    match v.as_array().map(|a| (f(&a[0]), f(&a[1]))) {
        Some((Some(lo), Some(hi))) => format!("{lo:.3} – {hi:.3}"),
        _ => String::new(),
    }
}

/// A judge's severity, its 95% interval when there is one.
fn severity_interval(j: &Value) -> Option<(f64, f64)> {
    let i = j["severity_interval"].as_array()?;
    Some((f(i.first()?)?, f(i.get(1)?)?))
}

/// A judge's row in the severity chart: name, severity, flagged, interval.
type SeverityRow<'a> = (&'a str, f64, bool, Option<(f64, f64)>);

/// Each judge's severity as a bar from zero with its 95% interval as a whisker: left severe,
/// right lenient; flagged judges dark.
fn severity_chart(ctx: &Ctx, judges: &[Value]) -> Markup {
    let rows: Vec<SeverityRow<'_>> = judges
        .iter()
        .filter_map(|j| {
            Some((
                j["judge"].as_str()?,
                f(&j["severity"])?,
                j["flags"].as_array().is_some_and(|a| !a.is_empty()),
                severity_interval(j),
            ))
        })
        .collect();
    let reach = rows
        .iter()
        .map(|r| r.3.map_or(r.1.abs(), |(lo, hi)| lo.abs().max(hi.abs())))
        .fold(0.5f64, f64::max)
        * 1.1;
    let (label_w, plot_w, row_h) = (170.0, 320.0, 22.0);
    let mid = label_w + plot_w / 2.0;
    let x = |v: f64| mid + v / reach * plot_w / 2.0;
    let height = row_h * rows.len() as f64 + 24.0;
    html! {
        svg.chart role="img" viewBox={ "0 0 " (label_w + plot_w + 70.0) " " (height) }
            aria-label=(ctx.t("diag.severity_chart")) {
            title { (ctx.t("diag.severity_chart")) }
            line x1=(mid) x2=(mid) y1="0" y2=(height - 18.0) stroke="#555" stroke-width="1" {}
            @for (i, (judge, s, flagged, whisker)) in rows.iter().enumerate() {
                @let y = i as f64 * row_h + 4.0;
                text x=(label_w - 8.0) y=(y + 14.0) text-anchor="end" font-size="12" { (judge) }
                rect x=(x(s.min(0.0))) y=(y) width=((x(s.abs()) - mid).max(1.0)) height=(row_h - 6.0)
                    fill=(if *flagged { "#b3261e" } else { "#7a9cc6" }) {}
                @if let Some((lo, hi)) = whisker {
                    line x1=(x(*lo)) x2=(x(*hi)) y1=(y + (row_h - 6.0) / 2.0) y2=(y + (row_h - 6.0) / 2.0) stroke="#222" stroke-width="1.5" {}
                }
                text x=(x(whisker.map_or(*s, |(lo, hi)| if *s < 0.0 { lo } else { hi })) + if *s < 0.0 { -4.0 } else { 4.0 }) y=(y + 14.0)
                    text-anchor=(if *s < 0.0 { "end" } else { "start" }) font-size="11" { (format!("{s:+.2}")) }
            }
            text x=(label_w) y=(height - 4.0) font-size="11" { (ctx.t("diag.severe")) }
            text x=(label_w + plot_w) y=(height - 4.0) font-size="11" text-anchor="end" { (ctx.t("diag.lenient")) }
        }
    }
}

/// A category's agreement rows: overall, what the rubric ranks by, each criterion.
fn agreement_rows<'a>(ctx: &Ctx, c: &'a Value) -> Vec<(String, &'a Value)> {
    let mut rows = vec![(ctx.t("diag.overall").to_owned(), &c["overall"])];
    if c["ranked_by"].is_object() {
        rows.push((ctx.t("diag.ranked_by").to_owned(), &c["ranked_by"]));
    }
    for k in c["criteria"].as_array().into_iter().flatten() {
        rows.push((k["criterion"].as_str().unwrap_or_default().to_owned(), k));
    }
    rows
}

/// A row of the agreement chart: label, alpha, interval.
type AgreementRow = (String, f64, Option<(f64, f64)>);

/// Agreement per row (overall, what the rubric ranks by, each criterion): alpha as a dot, its
/// 95% interval as a line, on a scale from −0.2 to 1 with Krippendorff's 0.667 and 0.800 marked.
fn agreement_chart(ctx: &Ctx, rows: &[(String, &Value)]) -> Markup {
    let rows: Vec<AgreementRow> = rows
        .iter()
        .filter_map(|(label, a)| {
            let whisker = a["interval"]
                .as_array()
                .and_then(|i| Some((f(i.first()?)?, f(i.get(1)?)?)));
            Some((label.as_str(), f(&a["alpha"])?, whisker))
        })
        .map(|(label, alpha, whisker)| {
            let short: String = label.chars().take(26).collect();
            let label = if short.len() < label.len() {
                format!("{}…", short.trim_end())
            } else {
                short
            };
            (label, alpha, whisker)
        })
        .collect();
    let (label_w, plot_w, row_h) = (190.0, 300.0, 20.0);
    let (lo, hi) = (-0.2f64, 1.0f64);
    let x = |v: f64| label_w + (v.clamp(lo, hi) - lo) / (hi - lo) * plot_w;
    let height = row_h * rows.len() as f64 + 26.0;
    html! {
        svg.chart role="img" viewBox={ "0 0 " (label_w + plot_w + 20.0) " " (height) }
            aria-label=(ctx.t("diag.agreement_chart")) {
            title { (ctx.t("diag.agreement_chart")) }
            @for (mark, colour) in [(0.0, "#999"), (0.667, "#b07d00"), (0.8, "#1b5e20")] {
                line x1=(x(mark)) x2=(x(mark)) y1="0" y2=(height - 18.0) stroke=(colour) stroke-width="1" stroke-dasharray="3 3" {}
                text x=(x(mark)) y=(height - 4.0) font-size="10" text-anchor="middle" { (format!("{mark}")) }
            }
            @for (i, (label, alpha, whisker)) in rows.iter().enumerate() {
                @let y = i as f64 * row_h + 10.0;
                text x=(label_w - 8.0) y=(y + 4.0) text-anchor="end" font-size="11" { (label) }
                @if let Some((a, b)) = whisker {
                    line x1=(x(*a)) x2=(x(*b)) y1=(y) y2=(y) stroke="#7a9cc6" stroke-width="3" stroke-linecap="round" {}
                }
                circle cx=(x(*alpha)) cy=(y) r="4" fill="#222" {}
            }
        }
    }
}

/// Each application's 5th-95th percentile of rank as a line, its median a dot, its published
/// rank a tick; winners dark.
fn rank_chart(ctx: &Ctx, applications: &[Value], winners: u64) -> Markup {
    let rows: Vec<&Value> = applications.iter().take(25).collect();
    let worst = applications
        .iter()
        .filter_map(|a| f(&a["rank_p95"]).or(f(&a["rank"])))
        .fold(1.0f64, f64::max);
    let (label_w, plot_w, row_h) = (170.0, 320.0, 20.0);
    let x = |rank: f64| label_w + (rank - 1.0) / (worst - 1.0).max(1.0) * plot_w;
    let height = row_h * rows.len() as f64 + 24.0;
    html! {
        svg.chart role="img" viewBox={ "0 0 " (label_w + plot_w + 30.0) " " (height) }
            aria-label=(ctx.t("diag.rank_chart")) {
            title { (ctx.t("diag.rank_chart")) }
            @for (i, a) in rows.iter().enumerate() {
                @let y = i as f64 * row_h + 10.0;
                @let rank = a["rank"].as_u64().unwrap_or(0);
                @let colour = if rank <= winners { "#1b5e20" } else { "#7a9cc6" };
                text x=(label_w - 8.0) y=(y + 4.0) text-anchor="end" font-size="12" {
                    (rank) ". " (a["label"].as_str().or(a["application"].as_str()).unwrap_or_default())
                }
                @if let (Some(lo), Some(hi)) = (f(&a["rank_p05"]), f(&a["rank_p95"])) {
                    line x1=(x(lo)) x2=(x(hi).max(x(lo) + 2.0)) y1=(y) y2=(y) stroke=(colour) stroke-width="4" stroke-linecap="round" {}
                }
                @if let Some(m) = f(&a["rank_median"]) {
                    circle cx=(x(m)) cy=(y) r="4" fill="#fff" stroke=(colour) stroke-width="2" {}
                }
                line x1=(x(rank as f64)) x2=(x(rank as f64)) y1=(y - 7.0) y2=(y + 7.0) stroke="#222" stroke-width="2" {}
            }
            text x=(label_w) y=(height - 4.0) font-size="11" { "1" }
            text x=(label_w + plot_w) y=(height - 4.0) font-size="11" text-anchor="end" { (worst as u64) }
        }
    }
}

/// Ranks, their 5th-95th percentiles and chances, the first 25.
fn rank_table(ctx: &Ctx, applications: &Value, top_k: &Value) -> Markup {
    html! {
        div.scroll tabindex="0" { table {
            thead { tr { th { (ctx.t("diag.rank")) } th { (ctx.t("diag.application")) } th { "5–95%" } th { (ctx.t("diag.p_win")) } th { (ctx.t("diag.p_top").replace("{k}", &top_k.to_string())) } } }
            tbody {
                @for a in applications.as_array().into_iter().flatten().take(25) {
                    tr { td { (a["rank"]) } th scope="row" { (a["application"].as_str().unwrap_or_default()) }
                         td { (rank(&a["rank_p05"])) " – " (rank(&a["rank_p95"])) }
                         td { (shown(&a["p_winner"])) } td { (shown(&a["p_top_k"])) } }
                }
            }
        } }
    }
}

fn category(ctx: &Ctx, c: &Value, winners: u64) -> Markup {
    let judges = c["judge_reports"].as_array().cloned().unwrap_or_default();
    html! {
        h2 { (c["category"].as_str().unwrap_or_default()) }
        @if c["evaluations"].as_u64().unwrap_or(0) > 0 {
        p { (c["judges"]) " " (ctx.t("diag.judges_on")) " " (c["applications"]) " " (ctx.t("diag.applications")) ", "
            (c["evaluations"]) " " (ctx.t("diag.evaluations")) }
        h3 { (ctx.t("diag.agreement")) }
        (agreement_chart(ctx, &agreement_rows(ctx, c)))
        div.scroll tabindex="0" { table {
            thead { tr { th { (ctx.t("diag.what")) } th { "α" } th { (ctx.t("diag.interval")) } th { (ctx.t("diag.reading")) } } }
            tbody {
                tr { th scope="row" { (ctx.t("diag.overall")) } td { (shown(&c["overall"]["alpha"])) } td { (interval(&c["overall"]["interval"])) } td { (c["overall"]["reading"].as_str().unwrap_or_default()) } }
                @if c["ranked_by"].is_object() {
                    tr { th scope="row" { (ctx.t("diag.ranked_by")) } td { (shown(&c["ranked_by"]["alpha"])) } td { (interval(&c["ranked_by"]["interval"])) } td { (c["ranked_by"]["reading"].as_str().unwrap_or_default()) } }
                }
                @for k in c["criteria"].as_array().into_iter().flatten() {
                    tr { th scope="row" { (k["criterion"].as_str().unwrap_or_default()) } td { (shown(&k["alpha"])) } td { (interval(&k["interval"])) } td { (k["reading"].as_str().unwrap_or_default()) } }
                }
                @for k in c["indicators"].as_array().into_iter().flatten() {
                    tr { th scope="row" { small { (k["indicator"].as_str().unwrap_or_default()) } } td { (shown(&k["alpha"])) } td { (interval(&k["interval"])) }
                         td { (k["reading"].as_str().unwrap_or_default())
                              @if !k["ordinal_alpha"].is_null() { br; small { (ctx.t("diag.ordinal")) " " (shown(&k["ordinal_alpha"])) } } } }
                }
            }
        } }
        @match c.get("icc").filter(|i| !i.is_null()) {
            Some(i) => p { "ICC (" (i["model"].as_str().unwrap_or_default()) "): " (shown(&i["panel"]))
                @if !i["interval"].is_null() { " [" (interval(&i["interval"])) "]" }
                " " (i["reading"].as_str().unwrap_or_default()) }
            None => p { (ctx.t("diag.icc_na")) }
        }
        @if let Some(i) = c.get("ranked_by_icc").filter(|i| !i.is_null()) {
            p { (ctx.t("diag.ranked_by")) ", ICC (" (i["model"].as_str().unwrap_or_default()) "): " (shown(&i["panel"]))
                @if !i["interval"].is_null() { " [" (interval(&i["interval"])) "]" }
                " " (i["reading"].as_str().unwrap_or_default()) }
        }
        h3 { (ctx.t("diag.judges")) }
        @if judges.iter().any(|j| f(&j["severity"]).is_some()) {
            (severity_chart(ctx, &judges))
        } @else {
            p { (ctx.t("diag.severity_na")) }
        }
        div.scroll tabindex="0" { table {
            thead { tr { th { (ctx.t("admin.judge")) } th { (ctx.t("diag.severity")) } th { (ctx.t("diag.consistency")) } th { (ctx.t("diag.outlying")) } th { (ctx.t("diag.halo")) } th { (ctx.t("diag.flags")) } } }
            tbody {
                @for j in &judges {
                    tr { th scope="row" { (j["judge"].as_str().unwrap_or_default()) } td { (shown(&j["severity"]))
                            @if let Some((lo, hi)) = severity_interval(j) { br; small { (format!("{lo:+.2} … {hi:+.2}")) } } }
                         td { (shown(&j["consistency"])) }
                         td { (j["outlying_marks"]) } td { (j["halo"]) }
                         td { (j["flags"].as_array().into_iter().flatten().filter_map(Value::as_str).collect::<Vec<_>>().join("; ")) } }
                }
            }
        } }
        }
        @if let Some(r) = c.get("robustness").filter(|r| !r.is_null()) {
            h3 { (ctx.t("diag.robustness")) }
            @if r["draws"].as_u64().unwrap_or(0) > 0 {
                p { (ctx.t("diag.sampling").replace("{draws}", &r["draws"].to_string())) " "
                    @if r["winners_robust"].as_bool() == Some(true) { (ctx.t("diag.robust")) } @else { strong { (ctx.t("diag.not_robust")) } } }
                (rank_chart(ctx, r["applications"].as_array().map_or(&[][..], Vec::as_slice), winners))
                (rank_table(ctx, &r["applications"], &r["top_k"]))
            }
            @if let Some(m) = r.get("methods").filter(|m| !m.is_null()) {
                h3 { (ctx.t("diag.methods")) }
                p { (ctx.t("diag.methods_intro").replace("{draws}", &m["draws"].to_string())) " "
                    (m["varied"].as_array().into_iter().flatten().filter_map(Value::as_str).collect::<Vec<_>>().join("; ")) ". "
                    @if m["winners_robust"].as_bool() == Some(true) { (ctx.t("diag.robust")) } @else { strong { (ctx.t("diag.not_robust")) } } }
                (rank_table(ctx, &m["applications"], &r["top_k"]))
            }
            h3 { (ctx.t("diag.sensitivity")) }
            ol {
                @for s in r["sensitivity"].as_array().into_iter().flatten().take(6) {
                    li { (s["factor"].as_str().unwrap_or_default()) ": " (shown(&s["mean_rank_shift"])) " " (ctx.t("diag.places")) }
                }
            }
        }
    }
}

pub async fn page_for_round(
    State(state): State<crate::server::state::AppState>,
    Extension(api): Extension<Api>,
    ctx: Ctx,
    Path((award, round)): Path<(String, String)>,
    Query(query): Query<std::collections::BTreeMap<String, String>>,
) -> Response {
    // The diagnosis runs as a job: this page starts it, then follows it to its end.
    // `?draws=` passes through (a quicker look with fewer draws); the API checks it.
    let base = format!("/v1/awards/{award}/rounds/{round}/diagnostics/jobs");
    let Some(job) = query
        .get("job")
        .filter(|j| j.len() <= 64 && j.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    else {
        let draws = query
            .get("draws")
            .filter(|d| d.bytes().all(|b| b.is_ascii_digit()) && !d.is_empty())
            .map(|d| format!("?draws={d}"))
            .unwrap_or_default();
        let started = api
            .post(&ctx, &format!("{base}{draws}"), &Value::Null)
            .await;
        if !started.ok() {
            return problem(&ctx, &started);
        }
        let id = started.json["id"].as_str().unwrap_or_default();
        return redirect(&format!(
            "/awards/{award}/admin/rounds/{round}/diagnostics?job={id}"
        ));
    };
    let status = api.get(&ctx, &format!("{base}/{job}")).await;
    if !status.ok() {
        return problem(&ctx, &status);
    }
    match status.json["state"].as_str() {
        Some("done") => {}
        Some("running") => {
            let (done, total) = (
                status.json["done"].as_u64().unwrap_or(0),
                status.json["total"].as_u64().unwrap_or(0),
            );
            return page(
                &ctx,
                &format!("{} · {round}", ctx.t("admin.diagnostics")),
                html! {
                    h1 { (ctx.t("admin.diagnostics")) " · " (round) }
                    div data-poll="1" role="status" {
                        p { (ctx.t("diag.running")
                            .replace("{done}", &done.to_string())
                            .replace("{total}", &total.to_string())) }
                        progress value=(done) max=(total.max(1)) aria-label=(ctx.t("diag.running_label")) {}
                    }
                    p { a href={ "/awards/" (award) "/admin/rounds/" (round) "/diagnostics?job=" (job) } { (ctx.t("diag.look_again")) } }
                },
            );
        }
        _ => {
            let why = status.json["problem"].as_str().unwrap_or_default();
            return page(
                &ctx,
                &format!("{} · {round}", ctx.t("admin.diagnostics")),
                html! {
                    h1 { (ctx.t("admin.diagnostics")) " · " (round) }
                    div.warning role="alert" { p { (ctx.t("diag.failed")) " " (why) } }
                    p { a href={ "/awards/" (award) "/admin/rounds/" (round) "/diagnostics" } { (ctx.t("diag.run_again")) } }
                },
            );
        }
    }
    let reply = super::api::Reply {
        json: status.json["result"].clone(),
        ..status
    };
    // Judges by name and entries by title, in the tables and the charts alike.
    let judges: std::collections::BTreeMap<String, String> = api
        .all(&ctx, &format!("/v1/awards/{award}/judges?limit=1000"))
        .await
        .unwrap_or_default()
        .iter()
        .filter_map(|j| Some((j["id"].as_str()?.to_owned(), j["name"].as_str()?.to_owned())))
        .collect();
    let titles =
        super::entries::titles_of(&api.applications(&ctx, &award).await.unwrap_or_default());
    // Categories, criteria and indicators by name in the page's language.
    let mut names: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    if let Some(s) = super::public::shown(&state, &award).await {
        for c in &s.loaded.award.categories {
            names.insert(
                c.id.to_string(),
                super::public::text(&ctx, &s.loaded, &c.name),
            );
            for k in &c.criteria {
                names.insert(
                    k.id.to_string(),
                    super::public::text(&ctx, &s.loaded, &k.name),
                );
                for i in &k.indicators {
                    names.insert(
                        i.id.to_string(),
                        super::public::text(&ctx, &s.loaded, &i.name),
                    );
                }
            }
        }
    }
    let rename = |v: &mut Value| {
        if let Some(name) = v.as_str().and_then(|id| names.get(id)) {
            *v = Value::String(name.clone());
        }
    };
    let mut named = reply.json.clone();
    for c in named["categories"].as_array_mut().into_iter().flatten() {
        rename(&mut c["category"]);
        for k in c["criteria"].as_array_mut().into_iter().flatten() {
            rename(&mut k["criterion"]);
        }
        for k in c["indicators"].as_array_mut().into_iter().flatten() {
            rename(&mut k["indicator"]);
        }
        for j in c["judge_reports"].as_array_mut().into_iter().flatten() {
            if let Some(name) = j["judge"].as_str().and_then(|id| judges.get(id)) {
                j["judge"] = Value::String(name.clone());
            }
        }
        let robustness = &mut c["robustness"];
        let mut lists = vec![robustness["applications"].take()];
        lists.push(robustness["methods"]["applications"].take());
        for a in lists.iter_mut().filter_map(Value::as_array_mut).flatten() {
            if let Some(title) = a["application"].as_str().and_then(|id| titles.get(id)) {
                let short: String = title.chars().take(18).collect();
                a["label"] = Value::String(if short.len() < title.len() {
                    format!("{}…", short.trim_end())
                } else {
                    short
                });
                a["application"] = Value::String(title.clone());
            }
        }
        let [sampled, methods] = [lists.remove(0), lists.remove(0)];
        if !robustness.is_null() {
            robustness["applications"] = sampled;
        }
        if robustness["methods"].is_object() {
            robustness["methods"]["applications"] = methods;
        }
    }
    // The warnings and the choices that move the ranking quote ids: names in their place.
    let mut every_name = names.clone();
    every_name.extend(judges.iter().map(|(k, v)| (k.clone(), v.clone())));
    every_name.extend(titles.iter().map(|(k, v)| (k.clone(), v.clone())));
    for w in named["warnings"].as_array_mut().into_iter().flatten() {
        if let Some(text) = w.as_str() {
            *w = Value::String(super::entries::with_names(text, &every_name));
        }
    }
    for c in named["categories"].as_array_mut().into_iter().flatten() {
        for s in c["robustness"]["sensitivity"]
            .as_array_mut()
            .into_iter()
            .flatten()
        {
            if let Some(text) = s["factor"].as_str() {
                s["factor"] = Value::String(super::entries::with_names(text, &every_name));
            }
        }
    }
    let d = &named;
    page(
        &ctx,
        &format!("{} · {round}", ctx.t("admin.diagnostics")),
        html! {
            h1 { (ctx.t("admin.diagnostics")) " · " (round) }
            p { (ctx.t("diag.intro")) }
            @let warnings: Vec<&str> = d["warnings"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            @if warnings.is_empty() { p { (ctx.t("diag.no_warnings")) } }
            @else {
                div.warning role="status" { ul { @for w in &warnings { li { (w) } } } }
            }
            @for c in d["categories"].as_array().into_iter().flatten() {
                (category(&ctx, c, c["robustness"]["winners"].as_u64().unwrap_or(0)))
            }
            p { a href={ "/awards/" (award) "/admin" } { (ctx.t("admin.back")) } }
        },
    )
}
