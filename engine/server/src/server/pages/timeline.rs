//! The call's timeline on the dashboard: when applications open and close, in the award's
//! time zone, what that means now (a call opened after its closing date takes nobody), and a
//! form that moves the dates (`POST …/timeline`), offering new dates when the old ones passed.

use axum::Extension;
use axum::extract::Path;
use axum::response::Response;
use chrono::{DateTime, Utc};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;

use super::Ctx;
use super::api::Api;
use super::layout::{check_csrf, csrf_field, problem, redirect, time_left, when};
use super::public::Shown;
use crate::server::records::AwardState;

/// Where the call stands against its dates.
#[derive(Debug, PartialEq, Eq)]
pub enum Standing {
    /// Before it opens.
    NotYet,
    /// Between its dates.
    Running,
    /// After it closed.
    Passed,
}

/// Where `now` falls in the window `[opens, closes)`.
pub fn standing(opens: DateTime<Utc>, closes: DateTime<Utc>, now: DateTime<Utc>) -> Standing {
    if now < opens {
        Standing::NotYet
    } else if now < closes {
        Standing::Running
    } else {
        Standing::Passed
    }
}

/// A `datetime-local` value in `zone`.
fn local(at: DateTime<Utc>, zone: &str) -> String {
    zone.parse::<chrono_tz::Tz>().map_or_else(
        |_| at.format("%Y-%m-%dT%H:%M").to_string(),
        |tz| at.with_timezone(&tz).format("%Y-%m-%dT%H:%M").to_string(),
    )
}

/// The call's dates and the form that moves them.
pub fn section(ctx: &Ctx, award: &str, s: &Shown, now: DateTime<Utc>) -> Markup {
    let zone = s.loaded.award.timeline.time_zone.as_str();
    let (opens, closes) = s.record.window(&s.loaded.award);
    let standing = standing(opens, closes, now);
    let show = |t: DateTime<Utc>| when(&t.fixed_offset(), zone);
    // Dates that passed are offered again from the next hour, as long as the call was.
    let (offer_opens, offer_closes) = if standing == Standing::Passed {
        let start = now + chrono::TimeDelta::hours(1);
        (
            start,
            start + (closes - opens).max(chrono::TimeDelta::days(1)),
        )
    } else {
        (opens, closes)
    };
    let taking = s.record.state != AwardState::Closed;
    html! {
        dl.facts {
            dt { (ctx.t("timeline.opens")) } dd { (show(opens)) }
            dt { (ctx.t("timeline.closes")) } dd { (show(closes))
                @if standing == Standing::Running && s.record.state == AwardState::Open { " · " (ctx.tf("timeline.left", &[("left", &time_left(ctx, closes - now))])) } }
            dt { (ctx.t("timeline.now")) } dd { (show(now)) }
        }
        @if taking && standing == Standing::Passed {
            p.warning role="status" { (ctx.tf("timeline.passed", &[("closes", &show(closes))])) }
        }
        @if taking && standing == Standing::NotYet {
            p.notice { (ctx.tf("timeline.not_yet", &[("opens", &show(opens))])) }
        }
        details open[taking && standing == Standing::Passed] {
            summary { (ctx.t("timeline.move")) }
            form.stack method="post" action={ "/awards/" (award) "/admin/timeline" } {
                (csrf_field(ctx))
                p.help { (ctx.tf("timeline.zone", &[("zone", zone)])) }
                div.field { label for="t-opens" { (ctx.t("timeline.opens")) }
                    input #t-opens type="datetime-local" name="opens" value=(local(offer_opens, zone)) required; }
                div.field { label for="t-closes" { (ctx.t("timeline.closes")) }
                    input #t-closes type="datetime-local" name="closes" value=(local(offer_closes, zone)) required; }
                div.field { label for="t-reason" { (ctx.t("timeline.reason")) }
                    input #t-reason type="text" name="reason" required; }
                div.actions { button type="submit" { (ctx.t("timeline.move_button")) } }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct Move {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    opens: String,
    #[serde(default)]
    closes: String,
    #[serde(default)]
    reason: String,
}

/// Moves the call's dates (read in the award's time zone).
pub async fn reschedule(
    Extension(api): Extension<Api>,
    ctx: Ctx,
    Path(award): Path<String>,
    axum::Form(form): axum::Form<Move>,
) -> Response {
    if let Err(r) = check_csrf(&ctx, &form.csrf) {
        return *r;
    }
    if form.reason.trim().is_empty() {
        return problem(
            &ctx,
            &super::api::Reply::bad_request(ctx.t("timeline.reason_needed")),
        );
    }
    let reply = api
        .post(
            &ctx,
            &format!("/v1/awards/{award}/timeline"),
            &json!({ "opens": form.opens, "closes": form.closes, "reason": form.reason }),
        )
        .await;
    if !reply.ok() {
        return problem(&ctx, &reply);
    }
    redirect(&format!("/awards/{award}/admin?done=timeline"))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    #[test]
    fn the_window_is_half_open() {
        let at = |h| chrono::Utc.with_ymd_and_hms(2026, 1, 1, h, 0, 0).unwrap();
        assert_eq!(
            super::standing(at(2), at(4), at(1)),
            super::Standing::NotYet
        );
        assert_eq!(
            super::standing(at(2), at(4), at(2)),
            super::Standing::Running
        );
        assert_eq!(
            super::standing(at(2), at(4), at(4)),
            super::Standing::Passed
        );
    }

    #[test]
    fn a_form_date_is_written_in_the_awards_zone() {
        let t = chrono::Utc.with_ymd_and_hms(2023, 5, 31, 9, 0, 0).unwrap();
        assert_eq!(super::local(t, "Asia/Seoul"), "2023-05-31T18:00");
    }
}
