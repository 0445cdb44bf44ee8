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
    /// Alert messages one user gets per UTC day; checked before each send
    /// and spent by each message that went out.
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
        if self.users.payload(&key, now).await?.is_some() {
            return Ok(Delivery::Duplicate);
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
        let day = pricehound_core::store::rules::utc_day_start(now);
        if self.users.alert_quota_used(n.user, day).await? >= self.daily_cap {
            metrics::counter!(metric::ALERTS_SUPPRESSED, "reason" => metric::REASON_CAP)
                .increment(1);
            tracing::info!(
                user = n.user.0,
                "daily alert cap reached; notification dropped"
            );
            return Ok(Delivery::Capped);
        }
        self.limiter.wait(n.chat_id).await;
        match self.api.call(&n.method()).await {
            Ok(_) => {
                self.users
                    .put_payload(&key, "1", now + ChronoDuration::days(SENT_DAYS))
                    .await?;
                let event = UsageEvent {
                    user: n.user,
                    at: now,
                    kind: UsageKind::AlertSent,
                };
                if let Err(e) = self.users.record_usage(&event).await {
                    tracing::warn!(error = %e, "alert usage event not recorded");
                }
                // The daily cap is spent by what went out, not by what was
                // planned: a put-back or a redelivered plan spends nothing.
                if let Err(e) = self.users.alert_quota_hit(n.user, day).await {
                    tracing::warn!(error = %e, "alert quota not counted");
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
