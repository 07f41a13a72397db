//! People: invitations, self-registration, sign-in links, sessions.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

use crate::server::answers::{
    Accepted, GrantsNow, KeyCaller, Me, PasskeyShown, PersonCaller, PersonShown, SessionsRevoked,
    SignedIn,
};
use crate::server::auth::{Caller, ClientAddr};
use crate::server::body;
use crate::server::error::ApiError;
use crate::server::mail::{self, Kind};
use crate::server::people::{
    Grant, INVITATION_TTL, Person, SIGN_IN_TTL, Token, email_key, new_token, normalise_email,
    plausible_email, token_key,
};
use crate::server::records::{AwardRecord, AwardState, KeyRecord, OwnerKind, Role};
use crate::server::session::{SessionState, clear_cookie, cookie_of};
use crate::server::state::AppState;
use crate::server::tx::Tx;
use crate::server::webhooks::random_id;
use crate::store::key_index::KeysBy;
use crate::store::{Tree, now};

use crate::server::domain::api_keys;
use crate::server::domain::awards::load_award;
use crate::server::domain::people::{begin_session, find, link_index, system};

/// An invitation.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Invitation {
    /// Their address.
    pub email: String,
    /// Their name.
    pub name: String,
    /// Their language (`en`, `ko`, ...); the award's default if absent.
    #[serde(default)]
    pub language: Option<String>,
    /// `judge`, `admin`, `auditor` or `applicant`.
    pub role: Role,
    /// For judges: their id among the award's registered judges.
    #[serde(default)]
    pub judge: Option<String>,
}

/// A registration, or a request for a sign-in link.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SignUp {
    /// The address.
    pub email: String,
    /// The name (registration only).
    #[serde(default)]
    pub name: Option<String>,
    /// The language (registration only).
    #[serde(default)]
    pub language: Option<String>,
}

/// A link's token.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct Redeem {
    /// The token from the link.
    pub token: String,
}

fn located(pointer: &str, message: String) -> ApiError {
    ApiError::located(pointer, message)
}

/// A role as an invitation names it, in `language` (`mail.role.*`).
fn role_name(role: Role, language: &str) -> String {
    let key = match role {
        Role::Judge => "mail.role.judge",
        Role::Admin => "mail.role.admin",
        Role::Auditor => "mail.role.auditor",
        Role::Applicant | Role::Integrator => "mail.role.applicant",
    };
    crate::server::words::t(language, key).to_owned()
}

/// The award's name in `language`, and its default language.
async fn award_texts(state: &AppState, record: &AwardRecord) -> Result<(String, String), ApiError> {
    let Some(v) = record.versions.last() else {
        return Ok((record.id.clone(), "en".to_owned()));
    };
    let loaded = state.loaded(&record.id, v.version).await?;
    let d = loaded.award.default_language.clone();
    Ok((loaded.award.name.get(&d, &d).to_owned(), d))
}

fn new_person(
    state: &AppState,
    email: &str,
    name: &str,
    language: &str,
) -> Result<Person, ApiError> {
    let id = random_id("p-", 8)?;
    Ok(Person {
        email: state.sealer.seal_value(
            &format!("people/{id}/email"),
            &json!(normalise_email(email)),
        ),
        name: state
            .sealer
            .seal_value(&format!("people/{id}/name"), &json!(name.trim())),
        id,
        language: language.to_owned(),
        grants: Vec::new(),
        verified: false,
        sessions_after: None,
        created_at: now(),
        passkeys: Vec::new(),
    })
}

/// The person at `email` (read for update), or a new one; and their address key.
fn find_or_create(
    state: &AppState,
    tx: &mut Tx<'_>,
    email: &str,
    name: &str,
    language: &str,
) -> Result<(Person, Vec<u8>), ApiError> {
    let k = email_key(&state.sealer, email);
    // Who the address names, read as the commit will require it: the decision to make a new
    // person rests on the same read as the commit's condition, so two requests that both find
    // nobody cannot both make one (the second is refused), and what another request granted
    // meanwhile is kept (or this commit is refused), never overwritten with an older copy.
    let existing = match tx.read_raw(Tree::PeopleByEmail, &k)? {
        Some(id) => tx.read::<Person>(Tree::People, &id)?,
        None => None,
    };
    let person = match existing {
        Some(p) => p,
        None => new_person(state, email, name, language)?,
    };
    Ok((person, k))
}

/// Writes a one-time link for `person` and queues the mail that carries it, in `tx`.
fn link_mail(
    state: &AppState,
    tx: &mut Tx<'_>,
    person: &Person,
    award: &str,
    ttl: chrono::Duration,
    kind: impl FnOnce(String) -> Kind,
) -> Result<(), ApiError> {
    let (token, k) = new_token()?;
    let expires = (chrono::Utc::now() + ttl).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    tx.put(Tree::Meta, link_index(&person.id), &expires);
    tx.put(
        Tree::Tokens,
        k,
        &Token {
            person: person.id.clone(),
            expires_at: expires,
        },
    );
    let link = format!("{}/sign-in?token={token}", state.public_url);
    let mail = mail::compose(
        &state.sealer.open_text(&person.email),
        &state.sealer.open_text(&person.name),
        &person.language,
        &kind(link.clone()),
    );
    mail::queue(tx, &state.sealer, award, &now(), &mail)
}

pub async fn invite(
    State(state): State<AppState>,
    caller: Caller,
    Path(award): Path<String>,
    bytes: Bytes,
) -> Result<(StatusCode, Json<GrantsNow>), ApiError> {
    caller.require(&[Role::Admin])?;
    let record = load_award(&state, &award)?;
    let b: Invitation = body::json(&bytes)?;
    if !plausible_email(&b.email) {
        return Err(located(
            "/email",
            format!("`{}` is not an e-mail address", b.email),
        ));
    }
    if b.name.trim().is_empty() {
        return Err(located("/name", "give the person's name".to_owned()));
    }
    let judge = match (b.role, &b.judge) {
        (Role::Judge, Some(j)) => {
            if state
                .store
                .get(
                    Tree::Judges,
                    &crate::store::key(&[award.as_bytes(), j.as_bytes()]),
                )?
                .is_none()
            {
                return Err(located(
                    "/judge",
                    format!("`{j}` is not a registered judge of `{award}`: register them first"),
                ));
            }
            Some(j.clone())
        }
        (Role::Judge, None) => {
            return Err(located(
                "/judge",
                "a judge's invitation names their judge id".to_owned(),
            ));
        }
        (Role::Integrator, _) => {
            return Err(located(
                "/role",
                "integrators use API keys, not invitations".to_owned(),
            ));
        }
        _ => None,
    };
    let (name, default_language) = award_texts(&state, &record).await?;
    let language = b.language.clone().unwrap_or(default_language);
    // The quota: people invited to this award who have not signed in yet.
    let waiting = crate::server::notices::people_of(&state, &award, &[])?
        .into_iter()
        .filter(|p| {
            !p.verified
                && p.grants
                    .iter()
                    .any(|g| g.award.as_deref() == Some(award.as_str()))
        })
        .count() as u64;
    if waiting >= state.quotas.invitations {
        return Err(ApiError::Quota(format!(
            "{waiting} people invited to `{award}` have not signed in yet: at most {} \
             (`laurel serve --invitations`)",
            state.quotas.invitations
        )));
    }
    let mut tx = Tx::new(&state);
    let (mut person, k) = find_or_create(&state, &mut tx, &b.email, &b.name, &language)?;
    // Administrators and auditors hold their role on every award.
    let grant = Grant {
        award: (!matches!(b.role, Role::Admin | Role::Auditor)).then(|| award.clone()),
        role: b.role,
        judge,
    };
    if !person.grants.contains(&grant) {
        person.grants.push(grant.clone());
    }
    tx.put(Tree::People, person.id.clone().into_bytes(), &person);
    tx.put_raw(Tree::PeopleByEmail, k, person.id.clone().into_bytes());
    let role = role_name(b.role, &person.language);
    link_mail(&state, &mut tx, &person, &award, INVITATION_TTL, |link| {
        Kind::Invitation {
            award_name: name.clone(),
            role: role.clone(),
            link,
        }
    })?;
    tx.commit(caller.audit(
        "person.invite",
        person.id.clone(),
        json!({ "award": award, "role": b.role, "judge": grant.judge }),
    ))?;
    Ok((
        StatusCode::CREATED,
        Json(GrantsNow {
            person: person.id,
            grants: person.grants,
        }),
    ))
}

/// Makes `email` an administrator of every award, once, and mails them a sign-in link: how
/// `laurel serve --admin-email` gives a new installation its first person. Whether it did.
pub(crate) fn invite_administrator(state: &AppState, email: &str) -> Result<bool, ApiError> {
    if !plausible_email(email) {
        return Err(located(
            "/email",
            format!("`{email}` is not an e-mail address"),
        ));
    }
    let mut tx = Tx::new(state);
    let name = email.split('@').next().unwrap_or(email).to_owned();
    let (mut person, k) = find_or_create(state, &mut tx, email, &name, "en")?;
    let grant = Grant {
        award: None,
        role: Role::Admin,
        judge: None,
    };
    if person.grants.contains(&grant) {
        return Ok(false);
    }
    person.grants.push(grant);
    tx.put(Tree::People, person.id.clone().into_bytes(), &person);
    tx.put_raw(Tree::PeopleByEmail, k, person.id.clone().into_bytes());
    link_mail(state, &mut tx, &person, "laurel", INVITATION_TTL, |link| {
        Kind::Invitation {
            award_name: "Laurel".to_owned(),
            role: role_name(Role::Admin, &person.language),
            link,
        }
    })?;
    tx.commit(system(
        "person.invite",
        &person.id,
        json!({ "role": "admin", "by": "--admin-email" }),
    ))?;
    Ok(true)
}

/// The same answer whatever happened, so that it tells nobody who has an account.
fn accepted() -> (StatusCode, Json<Accepted>) {
    (StatusCode::ACCEPTED, Json(Accepted::new()))
}

/// The client's address, as the connection gave it.
type Addr = Option<axum::Extension<ClientAddr>>;

fn client(addr: &Addr) -> String {
    addr.as_ref()
        .map_or_else(|| "unknown".to_owned(), |a| a.0.0.to_string())
}

/// Counts a request for a link against the address (50 free: an office shares one) and against
/// the account from that address (5 free): past either, each blocks that address for a growing
/// delay. Someone else's requests for an address never block its owner's own (they come from
/// elsewhere); how many links one address receives is bounded separately, silently
/// ([`mail_allowed`]).
async fn throttled(state: &AppState, addr: &Addr, email: &str) -> Result<(), ApiError> {
    let from = client(addr);
    let account = format!(
        "account:{}:{from}",
        String::from_utf8_lossy(&email_key(&state.sealer, email))
    );
    for (throttle, client) in [(&state.link_throttle, from), (&state.throttle, account)] {
        if let Some(wait) = throttle.failed_now(&client).await {
            let seconds = crate::server::throttle::retry_after(wait);
            return Err(ApiError::TooManyRequests {
                detail: format!("too many sign-in requests: try again in {seconds} seconds"),
                retry_after: seconds,
            });
        }
    }
    Ok(())
}

/// Whether another link may be mailed to `email` now, whoever asks: 10 without delay, then
/// each further one only after a growing delay (forgotten after 15 quiet minutes), so that
/// nobody can flood a mailbox; when not, the answer is the same, and no mail is sent.
async fn mail_allowed(state: &AppState, email: &str) -> bool {
    let mailbox = format!(
        "mailbox:{}",
        String::from_utf8_lossy(&email_key(&state.sealer, email))
    );
    state.mailbox_throttle.failed_now(&mailbox).await.is_none()
}

/// The least time a request for a link takes, whatever happens: the answer's timing tells
/// nobody whether the address has an account.
const LINK_FLOOR: std::time::Duration = std::time::Duration::from_millis(400);

/// Waits until `LINK_FLOOR` has passed since `started`.
async fn floor(started: std::time::Instant) {
    let left = LINK_FLOOR.saturating_sub(started.elapsed());
    tokio::time::sleep(left).await;
}

pub async fn register(
    State(state): State<AppState>,
    addr: Addr,
    Path(award): Path<String>,
    bytes: Bytes,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    let record = load_award(&state, &award)?;
    if record.registration_closed {
        return Err(ApiError::Conflict(format!(
            "`{award}` takes applicants by invitation only"
        )));
    }
    if record.state != AwardState::Open {
        return Err(ApiError::Conflict(format!(
            "`{award}` is not taking applications"
        )));
    }
    let b: SignUp = body::json(&bytes)?;
    if !plausible_email(&b.email) {
        return Err(located(
            "/email",
            format!("`{}` is not an e-mail address", b.email),
        ));
    }
    let name = b.name.clone().unwrap_or_default();
    if name.trim().is_empty() {
        return Err(located("/name", "give your name".to_owned()));
    }
    throttled(&state, &addr, &b.email).await?;
    let started = std::time::Instant::now();
    let (award_name, default_language) = award_texts(&state, &record).await?;
    if !mail_allowed(&state, &b.email).await {
        floor(started).await;
        return Ok(accepted());
    }
    let mut tx = Tx::new(&state);
    let language = b.language.clone().unwrap_or(default_language);
    let (mut person, k) = find_or_create(&state, &mut tx, &b.email, &name, &language)?;
    let grant = Grant {
        award: Some(award.clone()),
        role: Role::Applicant,
        judge: None,
    };
    if !person.grants.contains(&grant) {
        person.grants.push(grant);
    }
    tx.put(Tree::People, person.id.clone().into_bytes(), &person);
    tx.put_raw(Tree::PeopleByEmail, k, person.id.clone().into_bytes());
    link_mail(&state, &mut tx, &person, &award, SIGN_IN_TTL, |link| {
        Kind::Welcome {
            award_name: award_name.clone(),
            link,
        }
    })?;
    tx.commit(system(
        "person.register",
        &person.id,
        json!({ "award": award }),
    ))?;
    floor(started).await;
    Ok(accepted())
}

pub async fn sign_in(
    State(state): State<AppState>,
    addr: Addr,
    bytes: Bytes,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    let b: SignUp = body::json(&bytes)?;
    if !plausible_email(&b.email) {
        return Err(located(
            "/email",
            format!("`{}` is not an e-mail address", b.email),
        ));
    }
    throttled(&state, &addr, &b.email).await?;
    let started = std::time::Instant::now();
    let sent = send_sign_in_link(&state, &b.email).await;
    floor(started).await;
    sent.map(|()| accepted())
}

/// Mails a sign-in link to `email` if it has an account and the mailbox may receive another.
async fn send_sign_in_link(state: &AppState, email: &str) -> Result<(), ApiError> {
    let (Some(person), _) = find(state, email)? else {
        return Ok(());
    };
    if !mail_allowed(state, email).await {
        return Ok(());
    }
    let award = person
        .grants
        .iter()
        .find_map(|g| g.award.clone())
        .unwrap_or_default();
    let mut tx = Tx::new(state);
    link_mail(state, &mut tx, &person, &award, SIGN_IN_TTL, |link| {
        Kind::SignIn { link }
    })?;
    tx.commit(system("person.sign_in_link", &person.id, json!({})))?;
    Ok(())
}

/// Whether a request that would start a session comes from this server's own pages (or a
/// client that is no browser): a browser names the page's origin in `Origin` on every POST,
/// and another site's form posting someone else's token (login CSRF) is refused.
fn same_origin(state: &AppState, headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(origin) => {
            let ours = state.public_url.trim_end_matches('/');
            origin == ours
                || headers
                    .get(header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .is_some_and(|host| {
                        origin == format!("http://{host}") || origin == format!("https://{host}")
                    })
        }
    }
}

pub async fn redeem(
    State(state): State<AppState>,
    addr: Addr,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let token = if form {
        url_form_token(&bytes).ok_or_else(|| ApiError::BadRequest("send `token`".into()))?
    } else {
        body::json::<Redeem>(&bytes)?.token
    };
    if !same_origin(&state, &headers) {
        return Err(ApiError::Forbidden(
            "a sign-in link is redeemed from this server's own sign-in page".to_owned(),
        ));
    }
    let client = client(&addr);
    let mut tx = Tx::new(&state);
    let k = token_key(&token);
    // A valid link is never refused for its address's failures; a guess is counted, and
    // blocked past a few.
    let Some(t) = tx.read::<Token>(Tree::Tokens, &k)? else {
        if let Some(wait) = state.throttle.blocked_now(&client).await {
            let seconds = crate::server::throttle::retry_after(wait);
            return Err(ApiError::TooManyRequests {
                detail: format!(
                    "too many failed attempts from this address: try again in {seconds} seconds"
                ),
                retry_after: seconds,
            });
        }
        state.throttle.failed_now(&client).await;
        return Err(ApiError::Unauthorized(
            "this link was used already, or is not one of ours: ask for a new one".to_owned(),
        ));
    };
    tx.delete(Tree::Tokens, k);
    tx.delete(Tree::Meta, link_index(&t.person));
    let expired = chrono::DateTime::parse_from_rfc3339(&t.expires_at)
        .map(|e| e.to_utc() <= chrono::Utc::now())
        .unwrap_or(true);
    if expired {
        tx.commit(system("person.link_expired", &t.person, json!({})))?;
        return Err(ApiError::Unauthorized(
            "this link has expired: ask for a new one".to_owned(),
        ));
    }
    let (cookie, person, session) = begin_session(&state, tx, &t.person, "link")?;
    let csrf = session.csrf.clone();
    let mut response = if form {
        (StatusCode::SEE_OTHER, [(header::LOCATION, "/me")]).into_response()
    } else {
        Json(SignedIn {
            person: person.id,
            csrf,
            expires_at: session.expires_at,
        })
        .into_response()
    };
    response.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(response)
}

fn url_form_token(bytes: &[u8]) -> Option<String> {
    std::str::from_utf8(bytes)
        .ok()?
        .split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == "token")
        .map(|(_, v)| v.chars().filter(char::is_ascii_alphanumeric).collect())
}

pub async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: Caller,
    found: Option<axum::Extension<SessionState>>,
) -> Result<Response, ApiError> {
    let Some(axum::Extension(SessionState::Valid { person, .. })) = found else {
        return Err(ApiError::Forbidden(format!(
            "`{}` is an API key, not a session: an administrator revokes keys",
            caller.key
        )));
    };
    if let Some((token, _)) =
        cookie_of(&headers).and_then(|v| crate::server::people::read_cookie(&state.sealer, &v))
    {
        let mut tx = Tx::new(&state);
        tx.delete(Tree::Sessions, token_key(&token));
        tx.commit(system("session.end", &person.id, json!({})))?;
    }
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_str(&clear_cookie(&state))
            .map_err(|e| ApiError::Internal(e.to_string()))?,
    );
    Ok(r)
}

/// Who is calling: a person (signed in) or a key.
pub async fn me(
    State(state): State<AppState>,
    found: Option<axum::Extension<SessionState>>,
    caller: Caller,
) -> Result<Json<Me>, ApiError> {
    match found.map(|f| f.0) {
        Some(SessionState::Valid {
            person, csrf, owed, ..
        }) => Ok(Json(Me::Person(Box::new(PersonCaller {
            passkeys: person
                .passkeys
                .iter()
                .map(|p| PasskeyShown {
                    id: p.id.clone(),
                    label: p.label.clone(),
                    created_at: p.created_at.clone(),
                })
                .collect(),
            who: shown(&state, *person, None),
            csrf,
            second_factor: owed,
        })))),
        _ => Ok(Json(Me::Key(KeyCaller {
            key: caller.key,
            role: caller.role,
            subject: caller.subject,
        }))),
    }
}

/// A person as shown to themselves and to administrators.
fn shown(state: &AppState, p: Person, link_expires_at: Option<String>) -> PersonShown {
    PersonShown {
        name: state.sealer.open_text(&p.name),
        email: state.sealer.open_text(&p.email),
        link_expires_at,
        person: p.id,
        language: p.language,
        grants: p.grants,
        verified: p.verified,
    }
}

/// Everyone with an account (administrators), one page read from the store (keyset).
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Json<Vec<PersonShown>>, ApiError> {
    caller.require(&[Role::Admin])?;
    let Some(wanted) = crate::server::paging::Wanted::of(query.as_deref(), super::listings::PEOPLE)
    else {
        return Ok(Json(Vec::new())); // a `limit` that is none: the layer says so
    };
    let store = state.store.as_ref();
    let after = wanted.after.as_ref().map(|a| a.as_bytes().to_vec());
    let people = crate::server::paging::keyset(store, (Tree::People, b""), after, &wanted, |v| {
        let state = &state;
        async move {
            let p: Person = serde_json::from_slice(&v)
                .map_err(|e| ApiError::Internal(format!("a stored person: {e}")))?;
            // Until when the person's newest sign-in link works: an invitation's state.
            let link_expires_at = crate::store::get_json::<String>(
                state.store.as_ref(),
                Tree::Meta,
                &link_index(&p.id),
            )?;
            Ok(Some(shown(state, p, link_expires_at)))
        }
    })
    .await?;
    Ok(Json(people))
}

/// Ends every session a person has and revokes every API key they own (an administrator's act).
pub async fn revoke_sessions(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<SessionsRevoked>, ApiError> {
    caller.require(&[Role::Admin])?;
    let mut tx = Tx::new(&state);
    let mut person: Person = tx
        .read(Tree::People, id.as_bytes())?
        .ok_or_else(|| ApiError::NotFound(format!("no person `{id}`")))?;
    person.sessions_after = Some(now());
    tx.put(Tree::People, id.clone().into_bytes(), &person);
    let mut keys = Vec::new();
    let mut admin_keys_left = 0;
    let mut revokes_admin = false;
    // The person's keys and the other administrators' (read through the keys' index).
    let store = state.store.as_ref();
    let mut concerned = api_keys::find(store, KeysBy::Owner(&id))?;
    concerned.extend(api_keys::find(store, KeysBy::LiveAdmins)?);
    concerned.sort_by(|a, b| a.0.cmp(&b.0));
    concerned.dedup_by(|a, b| a.0 == b.0);
    for (hash, key) in concerned {
        let owned = key
            .owner
            .as_ref()
            .is_some_and(|o| o.kind == OwnerKind::Person && o.id == id);
        if owned && !key.revoked {
            let mut key: KeyRecord = tx
                .read(Tree::Keys, &hash)?
                .ok_or_else(|| ApiError::Conflict("the keys changed: try again".to_owned()))?;
            key.revoked = true;
            revokes_admin |= key.role == Role::Admin;
            keys.push(key.id.clone());
            tx.put(Tree::Keys, hash, &key);
        } else if key.role == Role::Admin && !key.revoked {
            // A condition of the commit: two revocations at once cannot both pass this check.
            tx.read::<KeyRecord>(Tree::Keys, &hash)?;
            admin_keys_left += 1;
        }
    }
    if revokes_admin && admin_keys_left == 0 {
        return Err(ApiError::Conflict(format!(
            "`{id}` holds the last administrator key: make another before ending their sessions"
        )));
    }
    tx.commit(caller.audit(
        "session.revoke_all",
        id.clone(),
        json!({ "keys_revoked": keys }),
    ))?;
    Ok(Json(SessionsRevoked {
        person: id,
        sessions_after: person.sessions_after,
        keys_revoked: keys,
    }))
}

/// Which of a person's roles on an award ends.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantRevocation {
    /// The role to take back (`judge`, `admin`, `auditor`, `applicant`).
    pub role: Role,
    /// Why, for the record.
    #[serde(default)]
    pub reason: Option<String>,
}

/// Takes back a person's role on an award (an invitation sent by mistake, a judge who left):
/// their sign-in links and sessions no longer give it; what they did stays recorded.
pub async fn revoke_grant(
    State(state): State<AppState>,
    caller: Caller,
    Path((award, id)): Path<(String, String)>,
    bytes: Bytes,
) -> Result<Json<GrantsNow>, ApiError> {
    caller.require(&[Role::Admin])?;
    load_award(&state, &award)?;
    let b: GrantRevocation = body::json(&bytes)?;
    let mut tx = Tx::new(&state);
    let mut person: Person = tx
        .read(Tree::People, id.as_bytes())?
        .ok_or_else(|| ApiError::NotFound(format!("no person `{id}`")))?;
    let before = person.grants.len();
    person
        .grants
        .retain(|g| !(g.role == b.role && g.award.as_deref() == Some(award.as_str())));
    if person.grants.len() == before {
        return Err(ApiError::NotFound(format!(
            "`{id}` has no such role on award `{award}`"
        )));
    }
    tx.put(Tree::People, id.clone().into_bytes(), &person);
    tx.commit(caller.audit(
        "person.revoke_grant",
        format!("{award}/{id}"),
        json!({ "role": b.role, "reason": b.reason }),
    ))?;
    Ok(Json(GrantsNow {
        person: id,
        grants: person.grants,
    }))
}
