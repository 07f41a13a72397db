//! Lists come in pages: `limit` (500 by default, at most 1000) and `after` (the id of the last
//! item of the previous page; in a list in id order, an item that has gone since still marks
//! the place), a `Link: <...>; rel="next"` header while more remain, and the
//! list's declared filters (`?status=`, `?category=`, ...). One layer does it for every list,
//! over the list its handler answers, so every list pages and filters alike.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::server::error::ApiError;

/// The default page.
pub const DEFAULT_LIMIT: usize = 500;
/// The largest page.
pub const MAX_LIMIT: usize = 1000;

/// How a list is paged: where each item's id is, and its filters (query name, JSON pointer).
#[derive(Clone, Copy)]
pub struct Listing {
    pub id: &'static [&'static str],
    pub filters: &'static [(&'static str, &'static str)],
}

/// The id of an item: the first of `pointers` that holds a string (ids of marks are pairs).
fn id_of(item: &Value, pointers: &[&str]) -> String {
    pointers
        .iter()
        .filter_map(|p| item.pointer(p).and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether the items' ids ascend strictly.
fn in_id_order(items: &[Value], pointers: &[&str]) -> bool {
    items
        .windows(2)
        .all(|w| id_of(&w[0], pointers) < id_of(&w[1], pointers))
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes a query value (RFC 3986 unreserved characters kept).
pub(crate) fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A query string's names and values, decoded.
fn pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or_default()
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// What a request asks of a list, for a handler that reads only one page from the store
/// (keyset: from the key after `after`): the layer still pages, filters and links what it
/// answers, so the answer is the same as over the whole list.
pub(crate) struct Wanted {
    /// The page's size.
    pub limit: usize,
    /// The id the page comes after.
    pub after: Option<String>,
    /// (JSON pointer, wanted value) of each filter asked.
    filters: Vec<(&'static str, String)>,
}

impl Wanted {
    /// The request's page, or `None` when its `limit` is not one (the layer answers that).
    pub fn of(query: Option<&str>, listing: Listing) -> Option<Wanted> {
        let query = pairs(query);
        let get = |name: &str| {
            query
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let limit = match get("limit").map(|l| l.parse::<usize>()) {
            None => DEFAULT_LIMIT,
            Some(Ok(n)) if (1..=MAX_LIMIT).contains(&n) => n,
            Some(_) => return None,
        };
        Some(Wanted {
            limit,
            after: get("after").filter(|a| !a.is_empty()),
            filters: listing
                .filters
                .iter()
                .filter_map(|(name, pointer)| get(name).map(|v| (*pointer, v)))
                .collect(),
        })
    }

    /// The value asked of the filter at `pointer`, if one was.
    pub fn wants(&self, pointer: &str) -> Option<&str> {
        self.filters
            .iter()
            .find(|(p, _)| *p == pointer)
            .map(|(_, v)| v.as_str())
    }

    /// Whether an item passes the filters asked.
    pub fn matches(&self, item: &Value) -> bool {
        self.filters
            .iter()
            .all(|(pointer, wanted)| item.pointer(pointer).is_some_and(|v| text(v) == *wanted))
    }
}

pub async fn layer(State(listing): State<Listing>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let query = pairs(request.uri().query());
    let Some(wanted) = Wanted::of(request.uri().query(), listing) else {
        return ApiError::BadRequest(format!("`limit` is a number from 1 to {MAX_LIMIT}"))
            .into_response();
    };
    let (limit, after) = (wanted.limit, wanted.after.clone());
    let response = next.run(request).await;
    if response.status() != StatusCode::OK {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 256 << 20).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let Ok(Value::Array(items)) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let filtered: Vec<Value> = items
        .into_iter()
        .filter(|item| wanted.matches(item))
        .collect();
    let start = match &after {
        None => 0,
        Some(a) => match filtered.iter().position(|i| id_of(i, listing.id) == *a) {
            Some(p) => p + 1,
            // The cursor's item is gone (or never was). A list in id order goes on after where
            // it would be (keyset paging: nothing is skipped or repeated); in another order
            // (rounds in the award's order) there is no such place.
            None if in_id_order(&filtered, listing.id) => filtered
                .iter()
                .position(|i| id_of(i, listing.id).as_str() > a.as_str())
                .unwrap_or(filtered.len()),
            None => {
                return ApiError::located(
                    "/after",
                    format!("`after={a}` names no item of this list (it may have gone): start again without `after`"),
                )
                .into_response();
            }
        },
    };
    let page: Vec<Value> = filtered.iter().skip(start).take(limit).cloned().collect();
    if start + page.len() < filtered.len()
        && let Some(last) = page.last()
    {
        let mut next_query: Vec<String> = query
            .iter()
            .filter(|(k, _)| k != "after" && k != "limit")
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        next_query.push(format!("limit={limit}"));
        next_query.push(format!("after={}", encode(&id_of(last, listing.id))));
        if let Ok(v) =
            HeaderValue::from_str(&format!("<{path}?{}>; rel=\"next\"", next_query.join("&")))
        {
            parts.headers.insert(header::LINK, v);
        }
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    let body = serde_json::to_vec(&page).unwrap_or_default();
    Response::from_parts(parts, Body::from(body))
}

/// Reads one page of a list straight from `tree`, in key order under `from`, starting after
/// the key `after` names: a page costs the same whatever the tree holds. `show` turns an
/// entry into the item the caller sees (none: one they may not see); items then pass the
/// request's filters. One item more than the page is read, so that the paging layer knows
/// whether a next page exists and links it.
pub(crate) async fn keyset<T, F, Fut>(
    store: &dyn crate::store::Store,
    (tree, from): (crate::store::Tree, &[u8]),
    after: Option<Vec<u8>>,
    wanted: &Wanted,
    mut show: F,
) -> Result<Vec<T>, ApiError>
where
    T: serde::Serialize,
    F: FnMut(Vec<u8>) -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>, ApiError>>,
{
    let mut cursor = after;
    let chunk = (wanted.limit + 1).max(64);
    let mut out = Vec::new();
    loop {
        let entries = store.scan_from(tree, from, cursor.as_deref(), chunk)?;
        let read = entries.len();
        for (k, v) in entries {
            cursor = Some(k);
            if let Some(item) = show(v).await?
                && (wanted.filters.is_empty()
                    || wanted.matches(&serde_json::to_value(&item).unwrap_or(Value::Null)))
            {
                out.push(item);
                if out.len() > wanted.limit {
                    return Ok(out);
                }
            }
        }
        if read < chunk {
            return Ok(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_decode_and_encode_back() {
        assert_eq!(decode("a%2Fb+c"), "a/b c");
        assert_eq!(encode("a/b c"), "a%2Fb%20c");
        assert_eq!(decode(&encode("judge-kim/app-001")), "judge-kim/app-001");
        assert_eq!(
            decode("%E1%84"),
            "\u{fffd}",
            "a cut sequence is not a panic"
        );
        assert_eq!(decode("%zz%"), "%zz%");
    }
}
