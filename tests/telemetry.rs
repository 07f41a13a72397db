//! Traces for an OpenTelemetry collector: the real server, given a collector's address in the
//! standard environment, sends each request as a span named by its route's template, in the
//! caller's trace when the request carries `traceparent`, with each commit a span within it.
//! A receiver on 127.0.0.1 stands for the collector (OTLP over HTTP, JSON).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::receiver::Receiver;
use support::{Server, root};

const TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
const CALLER_SPAN: &str = "b7ad6b7169203331";

/// Every span the collector received, with its resource's attributes.
fn spans(bodies: &[support::receiver::Received]) -> Vec<(Value, Value)> {
    let mut out = Vec::new();
    for b in bodies {
        let Ok(v) = serde_json::from_str::<Value>(&b.body) else {
            continue;
        };
        for rs in v["resourceSpans"].as_array().into_iter().flatten() {
            for ss in rs["scopeSpans"].as_array().into_iter().flatten() {
                for span in ss["spans"].as_array().into_iter().flatten() {
                    out.push((rs["resource"]["attributes"].clone(), span.clone()));
                }
            }
        }
    }
    out
}

/// An attribute's value as text, whatever its OTLP type.
fn attribute(attributes: &Value, key: &str) -> Option<String> {
    let a = attributes.as_array()?.iter().find(|a| a["key"] == key)?;
    let v = &a["value"];
    ["stringValue", "intValue", "boolValue", "doubleValue"]
        .iter()
        .find_map(|t| match &v[*t] {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        })
}

/// A POST of `body`, or a GET without one, in the caller's trace.
fn send(server: &Server, path: &str, key: &str, body: Option<&Value>) -> u16 {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!("{}{path}", server.url);
    let traceparent = format!("00-{TRACE}-{CALLER_SPAN}-01");
    let auth = format!("Bearer {key}");
    let response = match body {
        Some(b) => agent
            .post(&url)
            .header("authorization", &auth)
            .header("traceparent", &traceparent)
            .header("content-type", "application/json")
            .send(b.to_string().as_bytes()),
        None => agent
            .get(&url)
            .header("authorization", &auth)
            .header("traceparent", &traceparent)
            .call(),
    }
    .unwrap();
    response.status().as_u16()
}

#[test]
fn requests_and_their_commits_are_spans_in_the_callers_trace() {
    let collector = Receiver::start(0);
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(
        dir.path(),
        &root().join("rubrics"),
        &[
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", collector.url.as_str()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
            ("OTEL_SERVICE_NAME", "laurel-under-test"),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ],
    );
    let admin = server.admin.clone().unwrap();
    let created = send(
        &server,
        "/v1/awards",
        &admin,
        Some(&support::small_award("traced-award", "Traced")),
    );
    assert_eq!(created, 201);
    assert_eq!(send(&server, "/v1/awards/traced-award", &admin, None), 200);
    let got = collector.wait_for(Duration::from_secs(20), |got| {
        let spans = spans(got);
        spans.iter().any(|(_, s)| s["name"] == "commit")
            && spans
                .iter()
                .any(|(_, s)| s["name"] == "GET /v1/awards/{award}")
    });
    let spans = spans(&got);
    let named = |name: &str| {
        spans
            .iter()
            .find(|(_, s)| s["name"] == name)
            .unwrap_or_else(|| {
                let names: Vec<&Value> = spans.iter().map(|(_, s)| &s["name"]).collect();
                panic!("no span `{name}` among {names:?}")
            })
            .clone()
    };
    let (resource, create) = named("POST /v1/awards");
    assert_eq!(
        attribute(&resource, "service.name").as_deref(),
        Some("laurel-under-test")
    );
    // In the caller's trace, under the caller's span, a server span.
    assert_eq!(
        create["traceId"].as_str().map(str::to_lowercase).as_deref(),
        Some(TRACE)
    );
    assert_eq!(
        create["parentSpanId"]
            .as_str()
            .map(str::to_lowercase)
            .as_deref(),
        Some(CALLER_SPAN)
    );
    assert_eq!(create["kind"], json!(2), "SPAN_KIND_SERVER");
    assert_eq!(
        attribute(&create["attributes"], "http.response.status_code").as_deref(),
        Some("201")
    );
    assert_eq!(
        attribute(&create["attributes"], "http.route").as_deref(),
        Some("/v1/awards")
    );
    // The commit, within the request that made it.
    let commits: Vec<&Value> = spans
        .iter()
        .map(|(_, s)| s)
        .filter(|s| s["name"] == "commit" && s["parentSpanId"] == create["spanId"])
        .collect();
    assert_eq!(commits.len(), 1, "{spans:?}");
    assert_eq!(
        attribute(&commits[0]["attributes"], "laurel.action").as_deref(),
        Some("award.create")
    );
    assert!(attribute(&commits[0]["attributes"], "laurel.audit_seq").is_some());
    // Named by the route's template, never by the ids it was called with.
    let (_, read) = named("GET /v1/awards/{award}");
    assert_eq!(
        attribute(&read["attributes"], "http.response.status_code").as_deref(),
        Some("200")
    );
    assert!(
        !spans.iter().any(|(_, s)| s["name"]
            .as_str()
            .is_some_and(|n| n.contains("traced-award"))),
        "a span named by an id"
    );
}
