//! The outbox worker: sends what the outbox holds, retrying with backoff. A message is leased
//! (a conditional commit) before it is sent, so two workers never send it at once, and its
//! attempt is recorded after; a worker killed between the two leaves the lease to run out,
//! and the message is sent again: at least once, always with the same `webhook-id`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::json;

use super::error::ApiError;
use super::tx::Tx;
use super::webhooks::{Attempt, Endpoint, Message, MessageState, endpoint_key, signature};
use crate::server::state::AppState;
use crate::store::{AuditEntry, Tree, get_json, json as to_json, key, scan_json};

/// How deliveries are paced.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The wait before each retry: the n-th failure waits the n-th (the last one ends it).
    pub schedule: Vec<Duration>,
    /// How long one attempt may take.
    pub timeout: Duration,
    /// The longest the worker sleeps when no commit wakes it and nothing it knows of falls due
    /// sooner (a retry or a lease running out wakes it when due): what another process queued
    /// and did not deliver is sent within this.
    pub tick: Duration,
    /// Where mail goes.
    pub mail: super::mail::MailConfig,
}

impl Default for Delivery {
    /// Standard Webhooks' suggested schedule: about a day in all.
    fn default() -> Self {
        Self {
            schedule: [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000]
                .into_iter()
                .map(Duration::from_secs)
                .collect(),
            timeout: Duration::from_secs(10),
            tick: Duration::from_secs(30),
            mail: super::mail::MailConfig::Folder {
                dir: "laurel-mail".into(),
                from: "Laurel <laurel@localhost>".to_owned(),
            },
        }
    }
}

/// Reads `5s,5m,2h,250ms` as durations.
pub fn parse_schedule(text: &str) -> Result<Vec<Duration>, String> {
    text.split(',')
        .map(|part| {
            let part = part.trim();
            let (n, unit) = part
                .find(|c: char| !c.is_ascii_digit())
                .map(|i| part.split_at(i))
                .ok_or_else(|| format!("`{part}` has no unit (ms, s, m or h)"))?;
            let n: u64 = n
                .parse()
                .map_err(|_| format!("`{part}` is not a number and a unit"))?;
            Ok(match unit {
                "ms" => Duration::from_millis(n),
                "s" => Duration::from_secs(n),
                "m" => Duration::from_secs(n * 60),
                "h" => Duration::from_secs(n * 3_600),
                other => return Err(format!("unknown unit `{other}` in `{part}`")),
            })
        })
        .collect()
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn parse(t: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(t).ok().map(|t| t.to_utc())
}

/// The shortest time between two looks at the outbox: commits that queue messages faster
/// than this are looked at together, so that a long outbox (an endpoint down during a rush)
/// is not read again for every commit.
const FLOOR: Duration = Duration::from_millis(200);

/// Runs the worker until the process ends. It looks at the outbox when a commit queues a
/// message, when the soonest retry or lease it knows of falls due, and after `tick` at the
/// latest; never on a fixed beat.
pub async fn run(state: AppState, delivery: Arc<Delivery>) {
    let mut wait = FLOOR;
    loop {
        tokio::time::sleep(FLOOR).await;
        tokio::select! {
            () = tokio::time::sleep(wait.saturating_sub(FLOOR)) => {}
            () = state.outbox_wake.notified() => {}
        }
        state
            .metrics
            .outbox_passes
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (due, soonest) = match due_messages(&state) {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!("outbox: {e:?}");
                wait = delivery.tick;
                continue;
            }
        };
        wait = soonest
            .and_then(|s| (s - Utc::now()).to_std().ok())
            .unwrap_or(delivery.tick)
            .clamp(FLOOR, delivery.tick.max(FLOOR));
        for m in due {
            if let Err(e) = deliver_one(&state, &delivery, m).await {
                tracing::warn!("outbox: {e:?}");
            }
        }
    }
}

/// The messages due now, and the soonest instant another one falls due (its next attempt,
/// or its lease running out).
fn due_messages(state: &AppState) -> Result<(Vec<Message>, Option<DateTime<Utc>>), ApiError> {
    let now = Utc::now();
    let all: Vec<Message> = scan_json(state.store.as_ref(), Tree::Outbox, b"")?;
    let mut soonest: Option<DateTime<Utc>> = None;
    let mut due = Vec::new();
    for m in all {
        let next = parse(&m.next_attempt_at).filter(|t| *t > now);
        let leased = m
            .leased_until
            .as_deref()
            .and_then(parse)
            .filter(|t| *t > now);
        match next.max(leased) {
            None => due.push(m),
            Some(t) if m.state != MessageState::Failed => {
                soonest = Some(soonest.map_or(t, |s| s.min(t)));
            }
            Some(_) => {}
        }
    }
    Ok((due, soonest))
}

fn system(action: &str, m: &Message, detail: serde_json::Value) -> AuditEntry {
    AuditEntry {
        actor: "system (outbox)".into(),
        action: action.into(),
        target: format!("{}/{}/{}", m.award, m.endpoint, m.id),
        detail,
    }
}

async fn deliver_one(
    state: &AppState,
    delivery: &Delivery,
    message: Message,
) -> Result<(), ApiError> {
    // Lease it: only one worker gets past this commit.
    let mut tx = Tx::new(state);
    let Some(current) = tx.read::<Message>(Tree::Outbox, message.id.as_bytes())? else {
        return Ok(());
    };
    // Read again, now: another worker (another process on the same database) may have leased
    // it since the list was read; the lease it holds is honoured, and the commit below fails
    // if one is taken meanwhile.
    let now = Utc::now();
    let leased_by_another = current
        .leased_until
        .as_deref()
        .and_then(parse)
        .is_some_and(|t| t > now);
    let not_due = parse(&current.next_attempt_at).is_some_and(|t| t > now);
    if leased_by_another || not_due {
        return Ok(());
    }
    let mut leased = current.clone();
    let lease = delivery.timeout + Duration::from_secs(2);
    leased.leased_until = Some(stamp(
        Utc::now() + chrono::Duration::from_std(lease).unwrap_or_default(),
    ));
    tx.put(Tree::Outbox, leased.id.clone().into_bytes(), &leased);
    if tx
        .commit(system(
            "outbox.lease",
            &leased,
            json!({ "attempt": leased.attempts.len() + 1 }),
        ))
        .is_err()
    {
        return Ok(()); // another worker has it
    }
    let endpoint: Option<Endpoint> = get_json(
        state.store.as_ref(),
        Tree::Webhooks,
        &endpoint_key(&leased.award, &leased.endpoint),
    )?;
    let started = Instant::now();
    let at = Utc::now();
    let outcome = if let Some(sealed) = &leased.mail {
        let mail: Option<super::mail::Mail> = state
            .sealer
            .open_value(sealed)
            .and_then(|v| serde_json::from_value(v).ok());
        match mail {
            None => Err((
                None,
                "the mail cannot be opened with this data key".to_owned(),
            )),
            Some(mail) => {
                let (config, id, timeout) =
                    (delivery.mail.clone(), leased.id.clone(), delivery.timeout);
                tokio::task::spawn_blocking(move || {
                    super::mail::send(&config, &id, &mail, timeout)
                        .map(|()| 250)
                        .map_err(|e| (None, e))
                })
                .await
                .unwrap_or_else(|e| Err((None, format!("the sender failed: {e}"))))
            }
        }
    } else {
        match endpoint.filter(|e| e.enabled) {
            None => Err((None, "the endpoint was removed or disabled".to_owned())),
            Some(e) => {
                let secret = state.sealer.open_text(&e.secret);
                let (url, m, timeout) = (e.url.clone(), leased.clone(), delivery.timeout);
                let private = state.webhooks_to_private;
                tokio::task::spawn_blocking(move || post(&url, &secret, &m, timeout, private))
                    .await
                    .unwrap_or_else(|e| Err((None, format!("the sender failed: {e}"))))
            }
        }
    };
    let attempt = Attempt {
        at: stamp(at),
        status: match &outcome {
            Ok(s) => Some(*s),
            Err((s, _)) => *s,
        },
        error: outcome.as_ref().err().map(|(_, e)| e.clone()),
        ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    };
    record(state, delivery, &leased, attempt, outcome.is_ok())
}

/// Records an attempt: done (moved to the delivery log), or due again after its backoff.
fn record(
    state: &AppState,
    delivery: &Delivery,
    leased: &Message,
    attempt: Attempt,
    ok: bool,
) -> Result<(), ApiError> {
    let mut tx = Tx::new(state);
    // It must still be the one leased (a redelivery on demand may have reset it).
    tx.read::<Message>(Tree::Outbox, leased.id.as_bytes())?;
    let mut m = leased.clone();
    m.leased_until = None;
    m.attempts.push(attempt.clone());
    let failures = m.attempts.len().saturating_sub(m.retries_from);
    let wait = delivery.schedule.get(failures.saturating_sub(1)).copied();
    m.state = match (ok, wait) {
        (true, _) => MessageState::Delivered,
        (false, None) => MessageState::Failed,
        (false, Some(w)) => {
            m.next_attempt_at =
                stamp(Utc::now() + chrono::Duration::from_std(w).unwrap_or_default());
            MessageState::Pending
        }
    };
    let log_key = key(&[m.award.as_bytes(), m.endpoint.as_bytes(), m.id.as_bytes()]);
    if m.state == MessageState::Pending {
        tx.put(Tree::Outbox, m.id.clone().into_bytes(), &m);
    } else {
        tx.delete(Tree::Outbox, m.id.clone().into_bytes());
        tx.put_raw(Tree::Deliveries, log_key, to_json(&m));
    }
    let action = match m.state {
        MessageState::Delivered => "outbox.delivered",
        MessageState::Failed => "outbox.failed",
        MessageState::Pending => "outbox.retry",
    };
    state.metrics.delivery(match m.state {
        MessageState::Delivered => "delivered",
        MessageState::Failed => "gave_up",
        MessageState::Pending => "retry",
    });
    tx.commit(system(
        action,
        &m,
        json!({ "attempt": failures, "status": attempt.status, "error": attempt.error, "next_attempt_at": (m.state == MessageState::Pending).then_some(&m.next_attempt_at) }),
    ))?;
    Ok(())
}

/// One POST: `Ok(status)` for a 2xx, else the status (if any) and why.
fn post(
    url: &str,
    secret: &str,
    m: &Message,
    timeout: Duration,
    allow_private: bool,
) -> Result<u16, (Option<u16>, String)> {
    let timestamp = Utc::now().timestamp();
    let sig = signature(secret, &m.id, timestamp, &m.body)
        .ok_or_else(|| (None, "the endpoint's secret cannot be read".to_owned()))?;
    // Checked again on every connection: a name may resolve elsewhere now.
    crate::server::outbound::check_url(url, allow_private).map_err(|why| (None, why))?;
    let agent = crate::server::outbound::agent(timeout, allow_private);
    let response = agent
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", &m.id)
        .header("webhook-timestamp", &timestamp.to_string())
        .header("webhook-signature", &sig)
        .header("user-agent", concat!("laurel/", env!("CARGO_PKG_VERSION")))
        .send(m.body.as_bytes())
        .map_err(|e| match e {
            ureq::Error::ConnectionFailed => (
                None,
                "the address is loopback, private, link-local or reserved: not delivered"
                    .to_owned(),
            ),
            other => (None, other.to_string()),
        })?;
    let status = response.status().as_u16();
    if (200..300).contains(&status) {
        Ok(status)
    } else {
        Err((Some(status), format!("the receiver answered {status}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_read_units() {
        assert_eq!(
            parse_schedule("250ms, 5s,2m,1h").unwrap(),
            vec![
                Duration::from_millis(250),
                Duration::from_secs(5),
                Duration::from_secs(120),
                Duration::from_secs(3_600)
            ]
        );
        assert!(parse_schedule("5").is_err());
        assert!(parse_schedule("5d").is_err());
    }
}
