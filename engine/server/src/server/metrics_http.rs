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
    let response = if state.traces {
        let span = span(&request, route.as_ref());
        let response = tracing::Instrument::instrument(next.run(request), span.clone()).await;
        let status = response.status();
        span.record("http.response.status_code", status.as_u16());
        if status.is_server_error() {
            span.record("otel.status_code", "ERROR");
        }
        response
    } else {
        next.run(request).await
    };
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

/// A request's span for the installation's OpenTelemetry collector: named by its method and
/// route template (never its ids), a child of the caller's trace when the request carries a
/// W3C `traceparent`.
fn span(request: &Request, route: Option<&MatchedPath>) -> tracing::Span {
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    let template = route.map_or("(no route)", MatchedPath::as_str);
    let span = tracing::info_span!(
        "request",
        otel.name = %format!("{} {template}", request.method()),
        otel.kind = "server",
        otel.status_code = tracing::field::Empty,
        http.request.method = %request.method(),
        http.route = template,
        http.response.status_code = tracing::field::Empty,
    );
    let parent = opentelemetry::global::get_text_map_propagator(|p| {
        p.extract(&opentelemetry_http::HeaderExtractor(request.headers()))
    });
    // A span no layer records (no collector) has no parent to set: nothing to do.
    let _ = span.set_parent(parent);
    span
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
    let count = |n: &std::sync::atomic::AtomicU64| n.load(std::sync::atomic::Ordering::Relaxed);
    for (name, help, value) in [
        (
            "laurel_store_commit_failures_total",
            "Commits refused (conflicts) or failed.",
            m.commit_failures.lock().map_or(0, |n| *n),
        ),
        (
            "laurel_scheduler_passes_total",
            "Passes of the clock's work (reminders, digests): when a task falls due or a commit changes what they depend on, at least once a minute.",
            count(&m.scheduler_passes),
        ),
        (
            "laurel_outbox_passes_total",
            "Looks of the outbox worker at the outbox: when a commit queues a message, when a retry or lease falls due, at least every 30 s.",
            count(&m.outbox_passes),
        ),
        (
            "laurel_limit_reruns_total",
            "Submissions, updates and withdrawals run again because another submission to the award changed its limit groups meanwhile (nothing of the first run written).",
            count(&m.limit_reruns),
        ),
    ] {
        one(&mut out, name, "counter", help, value);
    }
    store_section(&mut out, state.store.as_ref(), m);
    outbox_section(&mut out, state.store.as_ref(), m);
    plugin_section(&mut out, &laurel::pool_stats());
    one(
        &mut out,
        "laurel_log_lines_dropped_total",
        "counter",
        "Log lines dropped because the log's reader (a terminal, a pipe, a log collector) did not take them in time, or the log could not be written: requests never wait for the log.",
        super::log_lines::dropped(),
    );
    one(
        &mut out,
        "laurel_uptime_seconds",
        "gauge",
        "Seconds since this process started.",
        m.started.elapsed().as_secs(),
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

/// Store reads by operation, and flushes (commits per flush: commits over flushes).
fn store_section(out: &mut String, store: &dyn crate::store::Store, m: &super::metrics::Metrics) {
    out.push_str(
        "# HELP laurel_store_read_duration_seconds Store reads by operation (get, scan, last).\n",
    );
    out.push_str("# TYPE laurel_store_read_duration_seconds histogram\n");
    let reads = m.store_reads.lock().map(|r| r.clone()).unwrap_or_default();
    for (op, h) in &reads {
        h.write(
            out,
            "laurel_store_read_duration_seconds",
            &format!("op=\"{op}\""),
        );
    }
    if let Some((commits, flushes)) = store.flushes() {
        one(
            out,
            "laurel_store_commits_total",
            "counter",
            "Commits applied since the store was opened.",
            commits,
        );
        one(
            out,
            "laurel_store_flushes_total",
            "counter",
            "Flushes to the device that made commits durable (several commits share one).",
            flushes,
        );
    }
}

/// The outbox: messages waiting, how late the most overdue is, and delivery attempts by
/// result.
fn outbox_section(out: &mut String, store: &dyn crate::store::Store, m: &super::metrics::Metrics) {
    let waiting: Vec<super::webhooks::Message> =
        crate::store::scan_json(store, Tree::Outbox, b"").unwrap_or_default();
    let now = chrono::Utc::now();
    let lag = waiting
        .iter()
        .filter_map(|m| chrono::DateTime::parse_from_rfc3339(&m.next_attempt_at).ok())
        .map(|due| (now - due.to_utc()).num_milliseconds())
        .filter(|ms| *ms > 0)
        .max()
        .unwrap_or(0);
    one(
        out,
        "laurel_outbox_messages",
        "gauge",
        "Messages (mail, webhooks) waiting in the outbox.",
        waiting.len(),
    );
    one(
        out,
        "laurel_outbox_lag_seconds",
        "gauge",
        "How long the most overdue message has been due (0: none is).",
        format!("{:.3}", lag as f64 / 1000.0),
    );
    out.push_str("# HELP laurel_outbox_attempts_total Delivery attempts by result: delivered, retry (failed, tried again later), gave_up (failed for the last time).\n");
    out.push_str("# TYPE laurel_outbox_attempts_total counter\n");
    let attempts = m.deliveries.lock().map(|d| d.clone()).unwrap_or_default();
    for result in ["delivered", "retry", "gave_up"] {
        let _ = writeln!(
            out,
            "laurel_outbox_attempts_total{{result=\"{result}\"}} {}",
            attempts.get(result).copied().unwrap_or(0)
        );
    }
}

/// The plugin threads: jobs waiting and running, started, refused, and time spent waiting.
fn plugin_section(out: &mut String, p: &laurel::PoolStats) {
    for (name, kind, help, value) in [
        (
            "laurel_plugin_threads",
            "gauge",
            "Plugin threads.",
            p.threads as f64,
        ),
        (
            "laurel_plugin_jobs_waiting",
            "gauge",
            "Jobs waiting for a plugin thread.",
            p.waiting as f64,
        ),
        (
            "laurel_plugin_jobs_running",
            "gauge",
            "Jobs running on plugin threads.",
            p.running as f64,
        ),
        (
            "laurel_plugin_jobs_started_total",
            "counter",
            "Jobs started on plugin threads.",
            p.started as f64,
        ),
        (
            "laurel_plugin_jobs_refused_total",
            "counter",
            "Jobs refused because their lane or the pool was full (503).",
            p.refused as f64,
        ),
        (
            "laurel_plugin_job_wait_seconds_total",
            "counter",
            "Time jobs waited for a plugin thread, in all (over jobs started: the mean wait).",
            p.waited.as_secs_f64(),
        ),
    ] {
        one(out, name, kind, help, value);
    }
}

/// One series without labels: its help, its type and its value.
fn one(out: &mut String, name: &str, kind: &str, help: &str, value: impl std::fmt::Display) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
    let _ = writeln!(out, "{name} {value}");
}
