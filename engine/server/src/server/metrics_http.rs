//! `GET /metrics` (an administrator's or auditor's key) in Prometheus's text format, and the
//! layer that times every request by its route's template.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::auth::Caller;
use super::error::ApiError;
use super::metrics::{Histogram, class};
use super::records::Role;
use super::state::AppState;
use crate::store::Tree;

/// The layer that times every request by its route's template (never its filled path, so that
/// ids do not multiply the series).
pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().cloned();
    let method = request.method().clone();
    let started = Instant::now();
    let response = next.run(request).await;
    let took = started.elapsed();
    if let (Some(route), Ok(mut all)) = (route, state.metrics.requests.lock()) {
        if !all.contains_key(route.as_str()) {
            all.insert(route.as_str().to_owned(), Default::default());
        }
        if let Some(series) = all.get_mut(route.as_str()) {
            series
                .entry((method, class(response.status().as_u16())))
                .or_default()
                .observe(took);
        }
    }
    response
}

/// Escapes a label value.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// `GET /metrics`.
pub async fn serve(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    caller.require(&[Role::Admin, Role::Auditor])?;
    let m = &state.metrics;
    let mut out = String::new();
    out.push_str("# HELP laurel_http_request_duration_seconds Requests by route template, method and status class.\n");
    out.push_str("# TYPE laurel_http_request_duration_seconds histogram\n");
    let requests: BTreeMap<(String, String, &'static str), Histogram> = m
        .requests
        .lock()
        .map(|r| {
            r.iter()
                .flat_map(|(route, series)| {
                    series.iter().map(move |((method, status), h)| {
                        ((method.to_string(), route.clone(), *status), h.clone())
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    for ((method, route, status), h) in &requests {
        h.write(
            &mut out,
            "laurel_http_request_duration_seconds",
            &format!(
                "method=\"{}\",route=\"{}\",status=\"{status}\"",
                label(method),
                label(route)
            ),
        );
    }
    out.push_str(
        "# HELP laurel_store_commit_duration_seconds Store commits (batch, audit record, flush).\n",
    );
    out.push_str("# TYPE laurel_store_commit_duration_seconds histogram\n");
    m.commits
        .lock()
        .map(|h| h.clone())
        .unwrap_or_default()
        .write(&mut out, "laurel_store_commit_duration_seconds", "");
    out.push_str(
        "# HELP laurel_store_commit_failures_total Commits refused (conflicts) or failed.\n",
    );
    out.push_str("# TYPE laurel_store_commit_failures_total counter\n");
    let _ = writeln!(
        out,
        "laurel_store_commit_failures_total {}",
        m.commit_failures.lock().map_or(0, |n| *n)
    );
    out.push_str("# HELP laurel_scheduler_passes_total Passes of the clock's work (reminders, digests): when a task falls due or a commit changes what they depend on, at least once a minute.\n");
    out.push_str("# TYPE laurel_scheduler_passes_total counter\n");
    let _ = writeln!(
        out,
        "laurel_scheduler_passes_total {}",
        m.scheduler_passes
            .load(std::sync::atomic::Ordering::Relaxed)
    );
    out.push_str("# HELP laurel_outbox_passes_total Looks of the outbox worker at the outbox: when a commit queues a message, when a retry or lease falls due, at least every 30 s.\n");
    out.push_str("# TYPE laurel_outbox_passes_total counter\n");
    let _ = writeln!(
        out,
        "laurel_outbox_passes_total {}",
        m.outbox_passes.load(std::sync::atomic::Ordering::Relaxed)
    );
    let queued = state.store.scan(Tree::Outbox, b"").map_or(0, |q| q.len());
    out.push_str(
        "# HELP laurel_outbox_messages Messages (mail, webhooks) waiting in the outbox.\n",
    );
    out.push_str("# TYPE laurel_outbox_messages gauge\n");
    let _ = writeln!(out, "laurel_outbox_messages {queued}");
    out.push_str("# HELP laurel_uptime_seconds Seconds since this process started.\n");
    out.push_str("# TYPE laurel_uptime_seconds gauge\n");
    let _ = writeln!(
        out,
        "laurel_uptime_seconds {}",
        m.started.elapsed().as_secs()
    );
    out.push_str("# HELP laurel_build_info The running version.\n");
    out.push_str("# TYPE laurel_build_info gauge\n");
    let _ = writeln!(
        out,
        "laurel_build_info{{version=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION")
    );
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response())
}
