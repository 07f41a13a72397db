//! The API, called in process: a page's change is a request to the API's own router (no
//! socket, no second implementation), carrying the page's session, so that every role rule,
//! check and audit record is the API's.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{Method, Request, StatusCode, header};
use serde_json::Value;
use tower::ServiceExt as _;

use super::Ctx;

/// The API's routes, with the server's state.
#[derive(Clone)]
pub struct Api(pub Router);

/// What the API answered.
pub struct Reply {
    /// Its status.
    pub status: StatusCode,
    /// Its body read as JSON (`Null` when it is not JSON).
    pub json: Value,
    /// Its headers.
    pub headers: axum::http::HeaderMap,
}

impl Reply {
    /// A request the page could not read.
    pub fn bad_request(why: &str) -> Reply {
        Reply {
            status: StatusCode::BAD_REQUEST,
            json: serde_json::json!({ "detail": why }),
            headers: axum::http::HeaderMap::new(),
        }
    }

    /// Whether it succeeded.
    pub fn ok(&self) -> bool {
        self.status.is_success()
    }

    /// A problem's detail, or the status.
    pub fn detail(&self) -> String {
        self.json
            .get("detail")
            .and_then(Value::as_str)
            .map_or_else(|| self.status.to_string(), str::to_owned)
    }

    /// A 422's located problems: (pointer, message).
    pub fn problems(&self) -> Vec<(String, String)> {
        self.json
            .get("errors")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|e| {
                (
                    e.get("pointer")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    e.get("message")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                )
            })
            .collect()
    }
}

/// The largest answer a page reads.
const LIMIT: usize = 64 << 20;

impl Api {
    /// Calls the API as the page's visitor.
    pub async fn call(
        &self,
        ctx: &Ctx,
        method: Method,
        path: &str,
        body: Option<(Bytes, &str)>,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        if let Some((_, content_type)) = &body {
            request = request.header(header::CONTENT_TYPE, *content_type);
        }
        let mut request = match request.body(body.map_or_else(Body::empty, |(b, _)| Body::from(b)))
        {
            Ok(r) => r,
            Err(e) => return failed(&e.to_string()),
        };
        if let Some(session) = &ctx.session {
            request.extensions_mut().insert(session.clone());
        }
        if let Some(client) = ctx.client {
            request.extensions_mut().insert(client);
        }
        let response = match self.0.clone().oneshot(request).await {
            Ok(r) => r,
            Err(e) => return failed(&e.to_string()),
        };
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), LIMIT)
            .await
            .unwrap_or_default();
        Reply {
            status,
            json: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            headers,
        }
    }

    /// `GET path`.
    pub async fn get(&self, ctx: &Ctx, path: &str) -> Reply {
        self.call(ctx, Method::GET, path, None).await
    }

    /// Every item of a paged list: `GET path`, then each page its `Link: rel="next"` names,
    /// so that a page never shows the first page of a list as the whole of it. The first
    /// refusal is returned as it came.
    pub async fn all(&self, ctx: &Ctx, path: &str) -> Result<Vec<Value>, Reply> {
        let mut items = Vec::new();
        let mut next = Some(path.to_owned());
        while let Some(at) = next.take() {
            let reply = self.get(ctx, &at).await;
            if !reply.ok() {
                return Err(reply);
            }
            items.extend(reply.json.as_array().cloned().unwrap_or_default());
            next = reply
                .headers
                .get(axum::http::header::LINK)
                .and_then(|v| v.to_str().ok())
                .and_then(next_link);
        }
        Ok(items)
    }

    /// Every application of `award` the visitor may see (every page of the list).
    pub async fn applications(&self, ctx: &Ctx, award: &str) -> Result<Vec<Value>, Reply> {
        self.all(ctx, &format!("/v1/awards/{award}/applications?limit=1000"))
            .await
    }

    /// `method path` with a JSON body.
    pub async fn send(&self, ctx: &Ctx, method: Method, path: &str, body: &Value) -> Reply {
        let bytes = Bytes::from(body.to_string());
        self.call(ctx, method, path, Some((bytes, "application/json")))
            .await
    }

    /// `POST path` with a JSON body.
    pub async fn post(&self, ctx: &Ctx, path: &str, body: &Value) -> Reply {
        self.send(ctx, Method::POST, path, body).await
    }
}

fn failed(why: &str) -> Reply {
    Reply {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        json: serde_json::json!({ "detail": why }),
        headers: axum::http::HeaderMap::new(),
    }
}

/// The target of a `Link` header's `rel="next"`, as a path.
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        params
            .split(';')
            .any(|p| p.trim().trim_start_matches("rel=").trim_matches('"') == "next")
            .then(|| {
                target
                    .trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_owned()
            })
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_next_link_is_read_from_its_header() {
        assert_eq!(
            super::next_link("</v1/awards/a/applications?limit=2&after=app-2>; rel=\"next\"")
                .as_deref(),
            Some("/v1/awards/a/applications?limit=2&after=app-2")
        );
        assert_eq!(super::next_link("</x>; rel=\"prev\""), None);
    }
}
