//! A jury from a file: a CSV file's judges (a header row naming the columns, then a judge a
//! row) read and checked whole, every problem said by line before anything is added; then
//! each judge added or updated through the API and those with an address invited.

use std::collections::BTreeMap;

use axum::Extension;
use axum::extract::{Multipart, Path, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;

use super::Ctx;
use super::api::Api;
use super::jury::{JudgeForm, Typed, invite, judge_body, new_id, render};
use super::layout::{check_csrf, problem, redirect};
use crate::server::state::AppState;

/// One row of a jury file, read.
struct Row {
    line: usize,
    form: JudgeForm,
}

/// Reads a jury file: a header row naming the columns (`name`, `email`, `organisation`,
/// `city`, `country`, `expertise`, in English or Korean, any order), then one judge a row.
/// Every problem of every row is returned, located by line.
fn read_rows(ctx: &Ctx, text: &str) -> Result<Vec<Row>, Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let column = |h: &str| -> Option<&'static str> {
        Some(
            match h
                .trim()
                .trim_start_matches('\u{feff}')
                .to_lowercase()
                .as_str()
            {
                "name" | "이름" => "name",
                "email" | "e-mail" | "이메일" => "email",
                "organisation" | "organization" | "기관" | "소속" => "organisation",
                "city" | "도시" => "city",
                "country" | "국가" => "country",
                "expertise" | "전문분야" | "전문 분야" => "expertise",
                _ => return None,
            },
        )
    };
    let headers: Vec<Option<&str>> = match reader.headers() {
        Ok(h) => h.iter().map(column).collect(),
        Err(e) => {
            return Err(vec![
                ctx.tf("jury.csv_unreadable", &[("why", &e.to_string())]),
            ]);
        }
    };
    let mut problems = Vec::new();
    if !headers.contains(&Some("name")) {
        problems.push(ctx.t("jury.csv_no_name").to_owned());
        return Err(problems);
    }
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                problems.push(ctx.tf(
                    "jury.csv_line",
                    &[("line", &line.to_string()), ("why", &e.to_string())],
                ));
                continue;
            }
        };
        if record.iter().all(str::is_empty) {
            continue;
        }
        let mut form = JudgeForm::default();
        for (value, column) in record.iter().zip(&headers) {
            let slot = match column {
                Some("name") => &mut form.name,
                Some("email") => &mut form.email,
                Some("organisation") => &mut form.organisation,
                Some("city") => &mut form.city,
                Some("country") => &mut form.country,
                Some("expertise") => &mut form.expertise,
                _ => continue,
            };
            *slot = value.to_owned();
        }
        let mut said = |why: String| {
            problems.push(ctx.tf(
                "jury.csv_line",
                &[("line", &line.to_string()), ("why", &why)],
            ));
        };
        if form.name.is_empty() {
            said(ctx.t("jury.name_needed").to_owned());
        }
        if !form.email.is_empty() && !crate::server::people::plausible_email(&form.email) {
            said(ctx.tf("jury.email_bad", &[("email", &form.email)]));
        }
        if !form.country.is_empty() {
            match laurel::country_code(&form.country) {
                Some(code) => form.country = code.to_owned(),
                None => said(match laurel::country_suggestion(&form.country) {
                    Some((code, name)) => ctx.tf(
                        "jury.country_suggest",
                        &[("country", &form.country), ("code", code), ("name", name)],
                    ),
                    None => ctx.tf("jury.country_unknown", &[("country", &form.country)]),
                }),
            }
        }
        rows.push(Row { line, form });
    }
    if rows.is_empty() && problems.is_empty() {
        problems.push(ctx.t("jury.csv_empty").to_owned());
    }
    if problems.is_empty() {
        Ok(rows)
    } else {
        Err(problems)
    }
}

/// Adds (or updates, by name) every judge of a file and invites those with an address; a
/// file with any problem adds nobody.
pub async fn import(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    ctx: Ctx,
    Path(award): Path<String>,
    mut multipart: Multipart,
) -> Response {
    // Nothing of the body is read for a visitor who is not signed in.
    if ctx.person.is_none() {
        return redirect("/sign-in");
    }
    // A form that cannot be read says so (not, for want of its token, that it is out of date).
    let mut parts: BTreeMap<String, String> = BTreeMap::new();
    let read = match super::multipart::read(&mut multipart).await {
        Ok(read) => read,
        Err(reply) => return problem(&ctx, &reply),
    };
    for part in read {
        let text = match part.text(&ctx) {
            Ok(t) => t,
            Err(reply) => return problem(&ctx, &reply),
        };
        if !text.trim().is_empty() {
            parts.insert(part.name, text);
        }
    }
    if let Err(r) = check_csrf(&ctx, parts.get("csrf").map_or("", String::as_str)) {
        return *r;
    }
    let text = parts
        .get("file")
        .or_else(|| parts.get("text"))
        .cloned()
        .unwrap_or_default();
    let rows = match read_rows(&ctx, &text) {
        Ok(rows) => rows,
        Err(csv_problems) => {
            let typed = Typed {
                csv: text,
                csv_problems,
                ..Typed::default()
            };
            return render(
                &state,
                &api,
                &ctx,
                &award,
                &typed,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let existing = api
        .all(&ctx, &format!("/v1/awards/{award}/judges?limit=1000"))
        .await
        .unwrap_or_default();
    let mut taken: Vec<String> = existing
        .iter()
        .filter_map(|j| j["id"].as_str().map(str::to_owned))
        .collect();
    for row in &rows {
        // A judge already on the jury under the same name is updated, not added twice.
        let id = existing
            .iter()
            .find(|j| {
                j["name"]
                    .as_str()
                    .is_some_and(|n| laurel::same_name(n, &row.form.name))
            })
            .and_then(|j| j["id"].as_str().map(str::to_owned))
            .unwrap_or_else(|| new_id(&row.form.name, &taken));
        taken.push(id.clone());
        let reply = api
            .send(
                &ctx,
                Method::PUT,
                &format!("/v1/awards/{award}/judges/{id}"),
                &judge_body(&id, &row.form),
            )
            .await;
        if !reply.ok() {
            let csv_problems = vec![ctx.tf(
                "jury.csv_line",
                &[("line", &row.line.to_string()), ("why", &reply.detail())],
            )];
            let typed = Typed {
                csv: text,
                csv_problems,
                ..Typed::default()
            };
            return render(&state, &api, &ctx, &award, &typed, None, reply.status).await;
        }
        if !row.form.email.is_empty() {
            let invited =
                invite(&api, &ctx, &award, &id, &row.form.email, &row.form.name, "").await;
            if !invited.ok() {
                return problem(&ctx, &invited);
            }
        }
    }
    redirect(&format!("/awards/{award}/admin/jury?done=judges_imported"))
}
