//! What every request passes before its route: limits on the request line and headers
//! (answered as problem+json), a safe character set for every path segment, a request id, and
//! one structured log line per request (method, path, status, time; never a body or a query,
//! so no personal data).

use std::time::Instant;

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use super::error::problem;

/// The longest request target (path and query) accepted.
pub const MAX_URI: usize = 8 << 10;
/// The most header bytes accepted.
pub const MAX_HEADERS: usize = 16 << 10;

/// Whether a path segment is safe: 1 to 128 of letters, digits, `.`, `_` and `-`.
fn safe_segment(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
}

pub async fn guard(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let mut id = [0u8; 6];
    let _ = getrandom::fill(&mut id);
    let id = hex::encode(id);
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let uri_len = request.uri().to_string().len();
    let header_bytes: usize = request
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.as_bytes().len() + 4)
        .sum();
    let refused = if uri_len > MAX_URI {
        Some(problem(
            StatusCode::URI_TOO_LONG,
            "uri-too-long",
            "The request's address is too long",
            format!("{uri_len} bytes; at most {MAX_URI}"),
            None,
        ))
    } else if header_bytes > MAX_HEADERS {
        Some(problem(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers-too-large",
            "The request's headers are too large",
            format!("{header_bytes} bytes of headers; at most {MAX_HEADERS}"),
            None,
        ))
    } else if path != "/" && !path.split('/').skip(1).all(safe_segment) {
        Some(problem(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "The request cannot be read",
            "every part of the path is 1 to 128 letters, digits, `.`, `_` or `-`".to_owned(),
            None,
        ))
    } else if let Some(length) = declared_length(&request)
        && length > body_limit(&path) as u64
    {
        // Read what the client sends before answering, so that it sees the answer rather
        // than a connection reset in the middle of its upload (up to a bound).
        let limit = body_limit(&path);
        if length <= DRAIN_LIMIT {
            let body = request.into_body();
            let _ = tokio::time::timeout(
                std::time::Duration::from_secs(10),
                axum::body::to_bytes(body, DRAIN_LIMIT as usize),
            )
            .await;
        }
        let mut r = problem(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            "The request body is too large",
            format!("{length} bytes; at most {limit}"),
            None,
        );
        r.headers_mut().insert(
            axum::http::header::CONNECTION,
            HeaderValue::from_static("close"),
        );
        return finish(r, &id, &method, &path, started);
    } else {
        None
    };
    let if_none_match = request
        .headers()
        .get(axum::http::header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut response = match refused {
        Some(r) => r,
        None => next.run(request).await,
    };
    response = with_instance(response, &path).await;
    if method == axum::http::Method::GET {
        response = with_etag(response, if_none_match.as_deref()).await;
    }
    response = finish(response, &id, &method, &path, started);
    response
}

/// The largest body given an `ETag` by its hash.
const ETAG_LIMIT: u64 = 8 << 20;

/// Every successful read carries an `ETag` (the handler's, or the SHA-256 of the body), and a
/// read whose `If-None-Match` names it is answered `304 Not Modified` without the body.
async fn with_etag(response: Response, if_none_match: Option<&str>) -> Response {
    use axum::body::HttpBody as _;
    if response.status() != StatusCode::OK
        || response
            .body()
            .size_hint()
            .exact()
            .is_none_or(|n| n > ETAG_LIMIT)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, ETAG_LIMIT as usize).await else {
        return Response::from_parts(parts, axum::body::Body::empty());
    };
    let tag = match parts.headers.get(axum::http::header::ETAG) {
        Some(t) => t.to_str().unwrap_or_default().to_owned(),
        None => {
            use sha2::Digest as _;
            let tag = format!("\"{}\"", &hex::encode(sha2::Sha256::digest(&bytes))[..32]);
            if let Ok(v) = HeaderValue::from_str(&tag) {
                parts.headers.insert(axum::http::header::ETAG, v);
            }
            tag
        }
    };
    if if_none_match.is_some_and(|sent| {
        sent.split(',')
            .any(|t| t.trim() == "*" || t.trim().trim_start_matches("W/") == tag)
    }) {
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers.remove(axum::http::header::CONTENT_LENGTH);
        return Response::from_parts(parts, axum::body::Body::empty());
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// A problem names the request it answers: its `instance` is the path asked for.
async fn with_instance(response: Response, path: &str) -> Response {
    let is_problem = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if !is_problem {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 << 20).await else {
        return Response::from_parts(parts, axum::body::Body::empty());
    };
    let body = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(mut map)) => {
            map.entry("instance")
                .or_insert_with(|| serde_json::Value::String(path.to_owned()));
            serde_json::to_vec(&map).unwrap_or_else(|_| bytes.to_vec())
        }
        _ => bytes.to_vec(),
    };
    let mut response = Response::from_parts(parts, axum::body::Body::from(body));
    response
        .headers_mut()
        .remove(axum::http::header::CONTENT_LENGTH);
    response
}

/// The largest body a route accepts.
fn body_limit(path: &str) -> usize {
    let segments: Vec<&str> = path.split('/').collect();
    if path == "/v1/import" {
        super::body::IMPORT_LIMIT
    } else if matches!(segments[..], ["", "v1", "awards", _, "uploads"]) {
        // A file on its own: its field's `max_bytes` bounds it while it streams.
        crate::server::state::UPLOAD_LIMIT
    } else if matches!(segments[..], ["", "awards", _, "apply"]) {
        // The application form with its files, each bounded by its field when uploaded.
        crate::server::state::FORM_WITH_FILES_LIMIT
    } else {
        crate::server::state::BODY_LIMIT
    }
}

/// The most of an oversized body read (and thrown away) before answering 413.
const DRAIN_LIMIT: u64 = 64 << 20;

fn declared_length(request: &Request) -> Option<u64> {
    request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// Adds the request id and logs the request.
fn finish(
    mut response: Response,
    id: &str,
    method: &axum::http::Method,
    path: &str,
    started: Instant,
) -> Response {
    if let Ok(v) = HeaderValue::from_str(id) {
        response.headers_mut().insert("x-request-id", v);
    }
    let shown: String = path.chars().take(200).collect();
    tracing::info!(
        target: "laurel::http",
        request_id = %id,
        method = %method,
        path = %shown.escape_debug(),
        status = response.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        "request"
    );
    response
}
