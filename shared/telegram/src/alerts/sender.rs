//! Sending notifications within Telegram's limits: about one message per
//! second per chat and about 25 per second overall per running notifier.
//! A 429 is never slept out here: the notification goes back to its queue
//! with the `retry_after` delay (SQS `DelaySeconds` in AWS, a timer in
//! `serve`), so a Lambda never idles while billed.

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::notifier::Notification;
use crate::api::{BotApi, BotError};
use crate::domain::user::{UsageEvent, UsageKind};
use crate::store::{StoreError, UserStore};
use pricehound_core::metric;

/// Spacing between messages to one chat.
pub const PER_CHAT: Duration = Duration::from_secs(1);
/// Spacing between any two messages: 25 per second.
pub const OVERALL: Duration = Duration::from_millis(40);
/// How long a sent notification's id is remembered (redeliveries come sooner).
const SENT_DAYS: i64 = 7;
/// Extra tries at recording a sent notification (50 ms, 200 ms, 800 ms apart).
const SENT_RECORD_RETRIES: u32 = 3;
/// The record of a notification that went out.
const SENT: &str = "1";
/// The claim of a notification being sent.
const SENDING: &str = "sending";
/// How long a claim holds off other deliveries of one notification: longer
/// than a Bot API call may take ([`crate::api::CALL_TIMEOUT`]), so only a
/// sender that crashed mid-send lets its claim lapse.
pub const SENDING_LEASE: Duration = Duration::from_secs(120);

/// What a notification's record says when it is there before a send.
fn seen_before(value: &str) -> Delivery {
    if value == SENT {
        Delivery::Duplicate
    } else {
        Delivery::InFlight(SENDING_LEASE)
    }
}

/// Waits until a message to `chat` may go: per-chat and overall spacing, on
/// tokio's clock (so tests run it on a paused clock).
#[derive(Default)]
pub struct RateLimiter {
    state: Mutex<LimiterState>,
}

#[derive(Default)]
struct LimiterState {
    next_per_chat: HashMap<i64, Instant>,
    next_overall: Option<Instant>,
}

impl RateLimiter {
    /// Reserves the next slot for `chat` and sleeps until it.
    pub async fn wait(&self, chat: i64) {
        let at = {
            let mut s = self.state.lock().await;
            let now = Instant::now();
            let chat_next = s.next_per_chat.get(&chat).copied().unwrap_or(now);
            let overall_next = s.next_overall.unwrap_or(now);
            let at = now.max(chat_next).max(overall_next);
            s.next_per_chat.insert(chat, at + PER_CHAT);
            s.next_overall = Some(at + OVERALL);
            if s.next_per_chat.len() > 10_000 {
                s.next_per_chat.retain(|_, t| *t > now);
            }
            at
        };
        tokio::time::sleep_until(at).await;
    }

    /// Telegram said "too many requests" for `chat`: nothing more to it
    /// until `after` has passed.
    pub async fn hold(&self, chat: i64, after: Duration) {
        let mut s = self.state.lock().await;
        let until = Instant::now() + after;
        let e = s.next_per_chat.entry(chat).or_insert(until);
        *e = (*e).max(until);
    }
}

/// How long a notification waits after a failed try.
pub const FAILED_RETRY_DELAY: Duration = Duration::from_secs(5);

/// What became of one notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// Already sent (a redelivered or re-planned notification).
    Duplicate,
    /// Telegram asked to wait (429): put it back and try again after this
    /// long. Not a failure: it does not count as an attempt.
    RetryAfter(Duration),
    /// Another delivery of the same notification is being sent: put it back
    /// and look again after this long (by then it is sent, or its sender
    /// crashed and the claim lapsed). Not an attempt.
    InFlight(Duration),
    /// The call failed in a way that may pass (network, 5xx): try again
    /// after this long, as one more attempt ([`super::outbox::next_attempt`]).
    Failed(Duration),
    /// The user blocked the bot: their alerts were paused.
    Blocked,
    /// The user already had the day's allowance of alert messages.
    Capped,
    /// Telegram refused it for good (e.g. the chat is gone); dropped.
    Dropped(String),
}

pub struct Sender {
    pub api: BotApi,
    pub users: Arc<dyn UserStore>,
    pub limiter: RateLimiter,
    /// Alert messages one user gets per UTC day: a place is reserved before
    /// each send and given back when nothing went out.
    pub daily_cap: u32,
}

impl Sender {
    pub fn new(api: BotApi, users: Arc<dyn UserStore>) -> Self {
        Sender {
            api,
            users,
            limiter: RateLimiter::default(),
            daily_cap: super::rules::AlertPolicy::default().daily_cap,
        }
    }

    /// The per-user daily cap of the alert policy (`PRICEHOUND_ALERT_DAILY_CAP`).
    pub fn with_daily_cap(mut self, daily_cap: u32) -> Self {
        self.daily_cap = daily_cap;
        self
    }

    /// Sends one notification once: skipped if its id was sent before,
    /// remembered after it was.
    pub async fn deliver(
        &self,
        n: &Notification,
        now: DateTime<Utc>,
    ) -> Result<Delivery, StoreError> {
        let key = format!("sent:{}", n.id);
        if let Some(seen) = self.users.payload(&key, now).await? {
            return Ok(seen_before(&seen));
        }
        // An alert deleted or muted after it was planned sends nothing.
        let on = self
            .users
            .alerts(n.user)
            .await?
            .iter()
            .any(|a| a.id == n.alert_id && a.active);
        if !on {
            tracing::info!(alert = %n.alert_id, "alert deleted or muted since it fired; not sent");
            return Ok(Delivery::Dropped("the alert was deleted or muted".into()));
        }
        // The cap is enforced here, where it is spent: plans made apart (one
        // change at a time, in several invocations) cannot add up past it.
        // The place is reserved before the send (one atomic add), so two
        // sends for one user at once cannot both take the last place, and
        // given back if nothing went out. A crash between the two costs the
        // user one message of the day, never a message over the cap.
        let day = pricehound_core::store::rules::utc_day_start(now);
        if self.users.alert_quota_hit(n.user, day).await? > self.daily_cap {
            self.release_quota(n, day).await;
            metrics::counter!(metric::ALERTS_SUPPRESSED, "reason" => metric::REASON_CAP)
                .increment(1);
            tracing::info!(
                user = n.user.0,
                "daily alert cap reached; notification dropped"
            );
            return Ok(Delivery::Capped);
        }
        let delivery = self.send(n, &key, now).await;
        // An error here is the store's, before the send (the claim) or while
        // pausing a blocked user: the place stays spent, erring toward
        // fewer messages, never more.
        if !matches!(delivery, Ok(Delivery::Sent) | Err(_)) {
            self.release_quota(n, day).await;
        }
        delivery
    }

    /// Gives back a reserved place in the day's cap. A failure only costs
    /// the user one message of the day, so it is logged, not raised.
    async fn release_quota(&self, n: &Notification, day: DateTime<Utc>) {
        if let Err(e) = self.users.alert_quota_release(n.user, day).await {
            tracing::warn!(error = %e, "alert quota place not given back");
        }
    }

    /// Records that `key` went out, over its claim. Telegram has no
    /// idempotency key, so this record is what stops a later delivery of
    /// the same notification from sending it again: a store error is
    /// retried briefly. If it still fails, the message did go out, so it is
    /// reported sent; the claim holds off redeliveries for its lease.
    async fn remember_sent(&self, key: &str, now: DateTime<Utc>) {
        let expires = now + ChronoDuration::days(SENT_DAYS);
        let mut backoff = Duration::from_millis(50);
        for attempt in 0..=SENT_RECORD_RETRIES {
            match self.users.put_payload(key, SENT, expires).await {
                Ok(()) => return,
                Err(e) if attempt < SENT_RECORD_RETRIES => {
                    tracing::warn!(error = %e, "sent notification not recorded; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff *= 4;
                }
                Err(e) => {
                    tracing::error!(error = %e, "sent notification not recorded; a redelivery after the claim's lease could send it again");
                }
            }
        }
    }

    /// Frees the claim on a notification that did not go out, so its retry
    /// need not wait out the lease. A failure only delays that retry.
    async fn unclaim(&self, key: &str, now: DateTime<Utc>) {
        if let Err(e) = self.users.put_payload(key, "", now).await {
            tracing::warn!(error = %e, "notification claim not freed; its retry waits for the lease");
        }
    }

    /// One try at the Bot API, at the rate limiter's pace, under a claim on
    /// the notification (so two deliveries of it never both go out), and
    /// what the answer means.
    async fn send(
        &self,
        n: &Notification,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<Delivery, StoreError> {
        self.limiter.wait(n.chat_id).await;
        let lease = now + ChronoDuration::from_std(SENDING_LEASE).unwrap_or_default();
        if !self.users.claim_payload(key, SENDING, lease, now).await? {
            let seen = self.users.payload(key, now).await?;
            return Ok(seen
                .as_deref()
                .map_or(Delivery::InFlight(SENDING_LEASE), seen_before));
        }
        let answer = self.api.call(&n.method()).await;
        if answer.is_err() {
            self.unclaim(key, now).await;
        }
        match answer {
            Ok(_) => {
                self.remember_sent(key, now).await;
                let event = UsageEvent {
                    user: n.user,
                    at: now,
                    kind: UsageKind::AlertSent,
                };
                if let Err(e) = self.users.record_usage(&event).await {
                    tracing::warn!(error = %e, "alert usage event not recorded");
                }
                metrics::counter!(metric::ALERTS_SENT).increment(1);
                Ok(Delivery::Sent)
            }
            Err(BotError::RetryAfter { seconds, .. }) => {
                metrics::counter!(metric::TELEGRAM_THROTTLED).increment(1);
                let wait = Duration::from_secs(seconds.max(1));
                self.limiter.hold(n.chat_id, wait).await;
                tracing::info!(
                    chat_id = n.chat_id,
                    retry_after = seconds,
                    "notification throttled by Telegram; put back"
                );
                Ok(Delivery::RetryAfter(wait))
            }
            // A chat that is gone is as final as a block: stop alerting it.
            Err(e)
                if e.is_blocked()
                    || matches!(&e, BotError::BadRequest { description } if description.contains("chat not found")) =>
            {
                let paused = self.users.mark_blocked(n.user).await?;
                tracing::info!(
                    alerts_paused = paused,
                    "user blocked the bot; alerts paused"
                );
                Ok(Delivery::Blocked)
            }
            Err(e) if e.is_retryable() => {
                metrics::counter!(metric::TELEGRAM_ERRORS).increment(1);
                tracing::warn!(chat_id = n.chat_id, error = %e, attempts = n.attempts, "notification failed");
                Ok(Delivery::Failed(FAILED_RETRY_DELAY))
            }
            Err(e) => {
                metrics::counter!(metric::TELEGRAM_ERRORS).increment(1);
                tracing::warn!(chat_id = n.chat_id, error = %e, "notification refused; dropped");
                Ok(Delivery::Dropped(e.to_string()))
            }
        }
    }
}
