//! The frame of every page, the headers every page carries (a CSP without inline script),
//! and the answers pages share: a redirect, a problem, the sign-in wall, the CSRF check.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

use super::api::Reply;
use super::{Ctx, LANG_COOKIE, i18n};

/// The policy of every page: scripts and styles from this server only, nothing inline.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// A page with the frame, as a response.
pub fn page(ctx: &Ctx, title: &str, body: Markup) -> Response {
    page_with(ctx, StatusCode::OK, title, body)
}

/// A page with a status.
pub fn page_with(ctx: &Ctx, status: StatusCode, title: &str, body: Markup) -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang=(ctx.lang) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Laurel" }
                link rel="stylesheet" href="/assets/laurel.css";
                script src="/assets/laurel.js" defer {}
            }
            body {
                a.skip href="#main" { (ctx.t("nav.skip")) }
                header.top {
                    nav aria-label=(ctx.t("nav.label")) {
                        a.brand href="/" { "Laurel" }
                        ul {
                            @if let Some(person) = &ctx.person {
                                li { a href="/me" { (ctx.t("nav.me")) } }
                                @if person.grants.iter().any(|g| g.role == super::super::records::Role::Judge) {
                                    li { a href="/work" { (ctx.t("nav.work")) } }
                                }
                                li {
                                    form method="post" action="/sign-out" {
                                        input type="hidden" name="csrf" value=(ctx.csrf);
                                        button.link type="submit" { (ctx.t("nav.sign_out")) }
                                    }
                                }
                            } @else {
                                li { a href="/sign-in" { (ctx.t("nav.sign_in")) } }
                            }
                            li { a href="/playground" { (ctx.t("nav.playground")) } }
                        }
                        ul.langs aria-label=(ctx.t("nav.language")) {
                            @for lang in i18n::languages() {
                                li {
                                    @if lang == ctx.lang {
                                        span aria-current="true" { (i18n::t(lang, "lang.name")) }
                                    } @else {
                                        a href={ (ctx.path) "?lang=" (lang) } lang=(lang) { (i18n::t(lang, "lang.name")) }
                                    }
                                }
                            }
                        }
                    }
                }
                main #main {
                    (body)
                }
                footer { p { (ctx.t("footer.text")) " · " a href="/v1/openapi.json" { "API" } } }
            }
        }
    };
    let mut response = (status, axum::response::Html(markup.into_string())).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{LANG_COOKIE}={}; Path=/; SameSite=Lax; Max-Age=31536000",
        ctx.lang
    )) {
        headers.append(header::SET_COOKIE, v);
    }
    response
}

/// `303 See Other` to `to`.
pub fn redirect(to: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(
            header::LOCATION,
            HeaderValue::from_str(to).unwrap_or(HeaderValue::from_static("/")),
        )],
    )
        .into_response()
}

/// A page telling what the API refused, and why; the sign-in page when nobody is signed in.
pub fn problem(ctx: &Ctx, reply: &Reply) -> Response {
    if reply.status == StatusCode::UNAUTHORIZED && ctx.person.is_none() {
        return redirect("/sign-in");
    }
    let title = match reply.status.as_u16() {
        401 => ctx.t("problem.401"),
        403 => ctx.t("problem.403"),
        404 => ctx.t("problem.404"),
        409 => ctx.t("problem.409"),
        422 => ctx.t("problem.422"),
        429 => ctx.t("problem.429"),
        _ => ctx.t("problem.other"),
    };
    page_with(
        ctx,
        reply.status,
        title,
        html! {
            h1 { (title) }
            // People read words, not the API's: a refusal says what it means for them; other
            // details lose the API's code marks, and a located problem names its field.
            p.problem role="alert" { (match reply.status.as_u16() {
                403 => ctx.t("problem.403_detail").to_owned(),
                401 => ctx.t("problem.401_detail").to_owned(),
                _ => plain_words(&reply.detail()),
            }) }
            @for (pointer, message) in reply.problems() {
                p.problem {
                    @if let Some(field) = pointer.rsplit('/').find(|p| !p.is_empty() && p.parse::<usize>().is_err()) {
                        strong { (field.replace('_', " ")) } ": "
                    }
                    (plain_words(&message))
                }
            }
            p { a href="/" { (ctx.t("problem.home")) } }
        },
    )
}

/// A message of the library for a rubric's author: what it marks as code (an id, a value:
/// "weight `-2` is negative") set as code, without the marks; a mark left unmatched is dropped.
pub fn marked(message: &str) -> Markup {
    let parts: Vec<&str> = message.split('`').collect();
    // An even count of parts: the last mark has no match, and what follows it is text.
    let matched = if parts.len() % 2 == 1 {
        parts.len()
    } else {
        parts.len() - 1
    };
    html! {
        @for (i, part) in parts.iter().enumerate() {
            @if i % 2 == 1 && i < matched { code { (part) } } @else { (part) }
        }
    }
}

/// A message of the API as people read it: without its code marks.
fn plain_words(message: &str) -> String {
    message.replace('`', "")
}

/// A page for a form whose token does not match the session's (or no session).
pub fn check_csrf(ctx: &Ctx, sent: &str) -> Result<(), Box<Response>> {
    if ctx.person.is_none() {
        return Err(Box::new(redirect("/sign-in")));
    }
    if sent.is_empty() || sent != ctx.csrf {
        return Err(Box::new(page_with(
            ctx,
            StatusCode::FORBIDDEN,
            ctx.t("problem.403"),
            html! { h1 { (ctx.t("problem.403")) } p.problem role="alert" { (ctx.t("problem.csrf")) } },
        )));
    }
    Ok(())
}

/// The hidden CSRF field of a form.
pub fn csrf_field(ctx: &Ctx) -> Markup {
    html! { input type="hidden" name="csrf" value=(ctx.csrf); }
}

/// An instant shown in the award's time zone, with the zone's name.
pub fn when(instant: &chrono::DateTime<chrono::FixedOffset>, zone: &str) -> String {
    laurel::show_instant(*instant, zone)
}

/// How long is left until a moment, in words ("3 days", "5 hours", "20 minutes").
pub fn time_left(ctx: &super::Ctx, left: chrono::TimeDelta) -> String {
    let minutes = left.num_minutes().max(0);
    let (n, unit) = if minutes >= 2 * 24 * 60 {
        (minutes / (24 * 60), "time.days")
    } else if minutes >= 2 * 60 {
        (minutes / 60, "time.hours")
    } else {
        (minutes, "time.minutes")
    };
    ctx.tf(unit, &[("n", &n.to_string())])
}

/// An RFC 3339 instant as written by the API, shown in `zone`; any other text as it is.
pub fn when_in(text: &str, zone: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(text).map_or_else(|_| text.to_owned(), |t| when(&t, zone))
}

/// A stored value as a person reads it: text as is, lists joined, objects as `key: value`,
/// nothing as a dash.
/// A decimal as people read it: as it is up to four places; past them (a rubric that does not
/// round, 3.6666…), rounded to two with "≈" before it, so that the number shown never passes
/// for exact.
pub fn shown_decimal(d: rust_decimal::Decimal) -> String {
    let d = d.normalize();
    if d.scale() <= 4 {
        return d.to_string();
    }
    let rounded = d.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    format!("≈{}", rounded.normalize())
}

pub fn readable(v: &serde_json::Value) -> String {
    use serde_json::Value;
    match v {
        Value::Null => "—".to_owned(),
        Value::String(s) => s.clone(),
        Value::Array(a) if a.is_empty() => "—".to_owned(),
        Value::Array(a) => a.iter().map(readable).collect::<Vec<_>>().join(", "),
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| format!("{k}: {}", readable(v)))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

/// What an action did, in words: the action's own sentence, or a plain "Done." for a name the
/// page does not know (the query is the browser's to change), never the action's id.
pub fn done_text(ctx: &super::Ctx, action: &str) -> String {
    let key = format!("done.{action}");
    let text = ctx.t(&key);
    if text == key {
        ctx.t("done.other").to_owned()
    } else {
        text.to_owned()
    }
}

/// The first value of `name` in a form read as pairs (a form whose fields may repeat).
pub fn first(pairs: &[(String, String)], name: &str) -> String {
    pairs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    #[test]
    fn a_long_decimal_is_shown_rounded_and_marked_as_such() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(super::shown_decimal(d("7.50")), "7.5");
        assert_eq!(super::shown_decimal(d("12.3456")), "12.3456");
        assert_eq!(
            super::shown_decimal(d("3.6666666666666666666666666667")),
            "≈3.67"
        );
        assert_eq!(super::shown_decimal(d("-1.23456")), "≈-1.23");
        assert_eq!(super::shown_decimal(d("0.999999")), "≈1");
    }

    #[test]
    fn a_message_shows_its_code_as_code_without_the_marks() {
        let html = |m: &str| super::marked(m).into_string();
        assert_eq!(
            html("criterion weight `-2` is negative"),
            "criterion weight <code>-2</code> is negative"
        );
        assert_eq!(
            html("`a` and `b<c>`"),
            "<code>a</code> and <code>b&lt;c&gt;</code>"
        );
        assert_eq!(html("no marks"), "no marks");
        // An unmatched mark is dropped; what follows it is text.
        assert_eq!(html("`x` then `y"), "<code>x</code> then y");
    }
}
