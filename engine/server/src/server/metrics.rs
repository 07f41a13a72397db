//! Prometheus metrics at `GET /metrics` (an administrator's or auditor's key): requests and
//! their latency per route and status class, store commits and their latency, the outbox's
//! queue, and the process's uptime. Counted in process, read in the text exposition format.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::auth::Caller;
use super::error::ApiError;
use super::records::Role;
use super::state::AppState;
use crate::store::Tree;

/// The latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// A latency histogram.
#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, d: Duration) {
        let s = d.as_secs_f64();
        for (i, b) in BUCKETS.iter().enumerate() {
            if s <= *b {
                self.counts[i] += 1;
            }
        }
        self.count += 1;
        self.sum += s;
    }

    fn write(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {}",
                self.counts[i]
            );
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            self.count
        );
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{braces} {}", self.sum);
        let _ = writeln!(out, "{name}_count{braces} {}", self.count);
    }
}

/// Latency by route template, then by method and status class: a lookup by the template's
/// text, so that a request allocates nothing once its series exists.
type Requests = std::collections::HashMap<
    String,
    std::collections::HashMap<(axum::http::Method, &'static str), Histogram>,
>;

/// What the process counts.
#[derive(Debug)]
pub struct Metrics {
    started: Instant,
    /// (method, route template, status class) -> latency; keys shared, not copied, per request.
    requests: Mutex<Requests>,
    commits: Mutex<Histogram>,
    commit_failures: Mutex<u64>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            started: Instant::now(),
            requests: Mutex::default(),
            commits: Mutex::default(),
            commit_failures: Mutex::default(),
        }
    }
}

impl Metrics {
    /// Notes a store commit and how long it took (its flush included).
    pub fn commit(&self, took: Duration, ok: bool) {
        if let Ok(mut h) = self.commits.lock() {
            h.observe(took);
        }
        if !ok && let Ok(mut n) = self.commit_failures.lock() {
            *n += 1;
        }
    }
}

fn class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

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
