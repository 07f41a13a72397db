//! One error type for every route, rendered as RFC 9457 problem+json. A 5xx never shows
//! internals: the detail is logged with an id, and the response carries only the id.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use laurel::Diagnostic;
use serde::Serialize;

/// An error a route returns.
#[derive(Debug)]
pub enum ApiError {
    /// 400: the request cannot be read.
    BadRequest(String),
    /// 401: no valid API key.
    Unauthorized(String),
    /// 403: the key's role may not do this.
    Forbidden(String),
    /// 404: no such resource.
    NotFound(String),
    /// 409: the resource's state forbids it.
    Conflict(String),
    /// 422: the content is invalid; every problem located.
    Invalid {
        title: String,
        diagnostics: Vec<Diagnostic>,
    },
    /// 500: something broke on our side.
    Internal(String),
    /// 413: the content is larger than allowed.
    TooLarge(String),
    /// 415: the content is not of a type accepted.
    UnsupportedMediaType(String),
    /// 429: too many failed attempts from this client; try again after the seconds given.
    TooManyRequests {
        /// Why.
        detail: String,
        /// Seconds to wait (`Retry-After`).
        retry_after: u64,
    },
    /// 503: the server is too busy now; try again after a second.
    Unavailable(String),
    /// 503: the disk refused a write, failed a read or returned damaged data, and the server
    /// serves no data until it is restarted.
    StorageFailed(String),
    /// 429: a quota (uploads, drafts, invitations, webhooks) is used up; no wait frees it.
    Quota(String),
    /// 412: the resource changed since the `ETag` the request's `If-Match` names.
    PreconditionFailed(String),
    /// 409 with a report: the change needs to be confirmed, knowing what it changes.
    NeedsConfirmation {
        detail: String,
        /// What the change would do, application by application.
        impact: serde_json::Value,
    },
}

impl ApiError {
    /// 422 with one problem at `pointer` in the request's body: content that reads well but
    /// says something the service cannot do.
    pub fn located(pointer: &str, message: impl Into<String>) -> Self {
        ApiError::Invalid {
            title: "The request is invalid".to_owned(),
            diagnostics: vec![Diagnostic::error(laurel::Code::Schema, pointer, message)],
        }
    }
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a [Diagnostic]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    impact: Option<serde_json::Value>,
}

/// A problem+json response.
pub fn problem(
    status: StatusCode,
    slug: &str,
    title: &str,
    detail: String,
    errors: Option<&[Diagnostic]>,
) -> Response {
    let body = Problem {
        kind: format!("/problems/{slug}"),
        title,
        status: status.as_u16(),
        detail,
        errors,
        impact: None,
    };
    let mut response = (status, serde_json::to_vec(&body).unwrap_or_default()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::BadRequest(d) => problem(
                StatusCode::BAD_REQUEST,
                "bad-request",
                "The request cannot be read",
                d,
                None,
            ),
            ApiError::Unauthorized(d) => problem(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "An API key is needed",
                d,
                None,
            ),
            ApiError::Forbidden(d) => problem(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Not allowed for this key",
                d,
                None,
            ),
            ApiError::NotFound(d) => {
                problem(StatusCode::NOT_FOUND, "not-found", "Not found", d, None)
            }
            ApiError::Conflict(d) => problem(
                StatusCode::CONFLICT,
                "conflict",
                "Not possible in the current state",
                d,
                None,
            ),
            ApiError::Invalid { title, diagnostics } => {
                let errors = diagnostics.iter().filter(|d| d.is_error()).count();
                problem(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid",
                    &title,
                    if errors == 1 {
                        "1 problem; it is located in `errors`".to_owned()
                    } else {
                        format!("{errors} problems; each is located in `errors`")
                    },
                    Some(&diagnostics),
                )
            }
            ApiError::NeedsConfirmation { detail, impact } => {
                let body = Problem {
                    kind: "/problems/needs-confirmation".to_owned(),
                    title: "The change needs to be confirmed",
                    status: 409,
                    detail,
                    errors: None,
                    impact: Some(impact),
                };
                let mut r = (
                    StatusCode::CONFLICT,
                    serde_json::to_vec(&body).unwrap_or_default(),
                )
                    .into_response();
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/problem+json"),
                );
                r
            }
            ApiError::TooLarge(d) => problem(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                "The content is too large",
                d,
                None,
            ),
            ApiError::UnsupportedMediaType(d) => problem(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "The content's type is not accepted",
                d,
                None,
            ),
            ApiError::TooManyRequests {
                detail,
                retry_after,
            } => {
                let mut r = problem(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too-many-requests",
                    "Too many failed attempts",
                    detail,
                    None,
                );
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
                r
            }
            ApiError::Quota(d) => problem(
                StatusCode::TOO_MANY_REQUESTS,
                "quota",
                "A quota is used up",
                d,
                None,
            ),
            ApiError::PreconditionFailed(d) => problem(
                StatusCode::PRECONDITION_FAILED,
                "precondition-failed",
                "The resource changed since you read it",
                d,
                None,
            ),
            ApiError::Unavailable(d) => {
                let mut r = problem(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "The server is busy",
                    d,
                    None,
                );
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                r
            }
            ApiError::StorageFailed(d) => problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "storage-failed",
                "The server's storage failed",
                d,
                None,
            ),
            ApiError::Internal(message) => {
                let mut id = [0u8; 6];
                let _ = getrandom::fill(&mut id);
                let id = hex::encode(id);
                tracing::error!(error_id = %id, "{message}");
                problem(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Internal error",
                    format!("error id {id}; the details are in the server's log"),
                    None,
                )
            }
        }
    }
}

/// Turns the bare error responses of axum and tower (404, 405, 408, 413, ...) into problem+json.
pub async fn problem_for_bare_errors(response: Response) -> Response {
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| {
            v.as_bytes().starts_with(b"application/problem+json")
                || v.as_bytes().starts_with(b"text/html")
        });
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return response;
    }
    let (slug, title) = match status {
        StatusCode::NOT_FOUND => ("not-found", "Not found"),
        StatusCode::METHOD_NOT_ALLOWED => ("method-not-allowed", "Method not allowed"),
        StatusCode::REQUEST_TIMEOUT => ("timeout", "The request took too long"),
        StatusCode::PAYLOAD_TOO_LARGE => ("too-large", "The request body is too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported-media-type", "Send JSON"),
        s if s.is_server_error() => ("internal", "Internal error"),
        _ => ("bad-request", "The request cannot be read"),
    };
    let detail = if status.is_server_error() {
        "the details are in the server's log".to_owned()
    } else {
        let bytes = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes).trim().to_owned();
        if text.is_empty() {
            title.to_lowercase()
        } else {
            text
        }
    };
    problem(status, slug, title, detail, None)
}
