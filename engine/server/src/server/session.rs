//! Sessions on requests: a middleware reads the session cookie, checks it (MAC, absolute and
//! idle expiry, revocation, CSRF on changes) and leaves who is calling in the request's
//! extensions for the `Caller` extractor; on the way out it refreshes the cookie's last-seen
//! time every few minutes.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::caller::Caller;
use super::error::ApiError;
use super::people::{
    ABSOLUTE, COOKIE, IDLE, Person, Session, cookie_value, read_cookie, role_on, token_key,
};
use super::records::{KeyOwner, OwnerKind};
use crate::server::state::AppState;
use crate::store::{Tree, get_json};

/// The cookie's last-seen time is refreshed when older than this.
const REFRESH_SECONDS: i64 = 300;

/// What the middleware found: a signed-in person (the role is resolved per award by the
/// extractor), or a session that failed, with why.
#[derive(Debug, Clone)]
pub enum SessionState {
    /// A valid session.
    Valid {
        /// The person.
        person: Box<Person>,
        /// The session's CSRF token.
        csrf: String,
        /// The second factor still owed (`passkey`, `enroll`), if any.
        owed: Option<String>,
        /// Where the session is stored.
        key: Vec<u8>,
    },
    /// A cookie was sent but does not hold.
    Invalid(String),
}

/// The value of the session cookie, if the request has one.
pub fn cookie_of(headers: &axum::http::HeaderMap) -> Option<String> {
    cookie_named(headers, COOKIE)
}

/// The value of the cookie `name`, if the request has one.
pub fn cookie_named(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// A `Set-Cookie` value for a session token.
pub fn set_cookie(state: &AppState, token: &str, seen: i64) -> String {
    format!(
        "{COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        cookie_value(&state.sealer, token, seen),
        ABSOLUTE.num_seconds(),
        if state.secure_cookies { "; Secure" } else { "" }
    )
}

/// A `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(state: &AppState) -> String {
    format!(
        "{COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}",
        if state.secure_cookies { "; Secure" } else { "" }
    )
}

fn check(state: &AppState, value: &str) -> Result<(SessionState, Option<String>), ApiError> {
    let invalid = |why: &str| Ok((SessionState::Invalid(why.to_owned()), None));
    let Some((token, seen)) = read_cookie(&state.sealer, value) else {
        return invalid("the session cookie is not one this server made: sign in again");
    };
    let now = chrono::Utc::now();
    let Some(session) =
        get_json::<Session>(state.store.as_ref(), Tree::Sessions, &token_key(&token))?
    else {
        return invalid("the session has ended: sign in again");
    };
    let ends = chrono::DateTime::parse_from_rfc3339(&session.expires_at).map(|t| t.to_utc());
    if ends.is_ok_and(|t| t <= now) || ends.is_err() {
        return invalid("the session has ended (7 days after sign-in): sign in again");
    }
    if now.timestamp() - seen > IDLE.num_seconds() {
        return invalid("the session ended after 8 hours without activity: sign in again");
    }
    let Some(person) = get_json::<Person>(
        state.store.as_ref(),
        Tree::People,
        session.person.as_bytes(),
    )?
    else {
        return invalid("the account no longer exists");
    };
    if person
        .sessions_after
        .as_deref()
        .is_some_and(|after| session.created_at.as_str() < after)
    {
        return invalid("an administrator ended this session: sign in again");
    }
    let refresh = (now.timestamp() - seen > REFRESH_SECONDS)
        .then(|| set_cookie(state, &token, now.timestamp()));
    Ok((
        SessionState::Valid {
            person: Box::new(person),
            csrf: session.csrf,
            owed: session.second_factor,
            key: token_key(&token),
        },
        refresh,
    ))
}

/// The middleware.
pub async fn layer(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let has_key = request.headers().contains_key(header::AUTHORIZATION);
    let Some(value) = cookie_of(request.headers()).filter(|_| !has_key) else {
        return next.run(request).await;
    };
    let (found, refresh) = match check(&state, &value) {
        Ok(x) => x,
        Err(e) => return e.into_response(),
    };
    if let SessionState::Valid { csrf, .. } = &found {
        let changes = !matches!(
            *request.method(),
            Method::GET | Method::HEAD | Method::OPTIONS
        );
        let sent = request
            .headers()
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        // Pages check their forms' own token (a form cannot send a header); signing in and
        // registering carry their own proof (a mailed token), and a signed-in person follows
        // another link, for another award, with the session they have.
        let path = request.uri().path();
        let registering = path
            .strip_prefix("/v1/awards/")
            .and_then(|rest| rest.strip_suffix("/register"))
            .is_some_and(|award| !award.is_empty() && !award.contains('/'));
        let exempt = !path.starts_with("/v1/")
            || path == "/v1/sign-in"
            || path == "/v1/sign-in/redeem"
            || registering;
        if changes && sent != csrf && !exempt {
            return ApiError::Forbidden(
                "a change made with a session needs the `x-csrf-token` header of the session"
                    .to_owned(),
            )
            .into_response();
        }
    }
    // A session that owes its second factor may only pay it (or end).
    if let SessionState::Valid {
        owed: Some(step), ..
    } = &found
    {
        let path = request.uri().path();
        if !second_factor_path(path) {
            if path.starts_with("/v1/") {
                return ApiError::Unauthorized(format!(
                    "finish signing in: {}",
                    if step == "enroll" {
                        "an administrator registers a passkey (POST /v1/me/passkeys)"
                    } else {
                        "use your passkey (POST /v1/sign-in/passkey)"
                    }
                ))
                .into_response();
            }
            let to = if step == "enroll" {
                "/me/passkeys"
            } else {
                "/sign-in/passkey"
            };
            return (axum::http::StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response();
        }
    }
    request.extensions_mut().insert(found);
    let mut response = next.run(request).await;
    if let Some(cookie) = refresh.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// What a session that owes its second factor may reach: paying it, ending, the assets.
fn second_factor_path(path: &str) -> bool {
    matches!(
        path,
        "/v1/me"
            | "/v1/me/passkeys"
            | "/v1/me/passkeys/options"
            | "/v1/sign-in/passkey"
            | "/v1/sign-in/passkey/options"
            | "/v1/sign-out"
            | "/sign-in/passkey"
            | "/me/passkeys"
            | "/sign-out"
    ) || path.starts_with("/assets/")
}

/// The award a path is about (`/v1/awards/{award}/...`).
pub fn award_of(path: &str) -> Option<&str> {
    path.strip_prefix("/v1/awards/")
        .and_then(|rest| rest.split('/').next())
        .filter(|a| !a.is_empty())
}

/// The caller a valid session makes on `path`.
pub fn caller(person: &Person, path: &str) -> Result<Caller, ApiError> {
    let award = award_of(path);
    let (role, subject) = role_on(person, award).ok_or_else(|| {
        ApiError::Forbidden(match award {
            Some(a) => format!("you have no role in award `{a}`"),
            None => "you have no role yet".to_owned(),
        })
    })?;
    Ok(Caller {
        key: person.id.clone(),
        role,
        subject,
        award: award.map(str::to_owned),
        owner: Some(KeyOwner {
            kind: OwnerKind::Person,
            id: person.id.clone(),
        }),
    })
}
