//! Where notifications wait: the notifications queue, a port with two
//! adapters. Planned messages go there before the alerts' state is stored
//! ([`queue_planned`]), and a message Telegram throttled goes back there
//! with its `retry_after` as the delay. In AWS it is SQS ([`SqsOutbox`],
//! with `DelaySeconds`); in `serve` it is [`DurableOutbox`], kept in the
//! SQLite store so a restart loses nothing; [`MemoryOutbox`] (a channel
//! with timers) serves tests.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use pricehound_core::delayed::DelayedQueue;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

use super::notifier::{Notification, Notifier, Plan};
use crate::bot::TrackJob;
use crate::bus::PriceChanged;
use crate::store::StoreError;

/// Why notifications were not queued. The caller retries the whole input
/// (notification ids make a second send of the same one a no-op).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboxError {
    /// The queue could not be reached: nothing was queued.
    #[error("the notifications queue is unavailable: {0}")]
    Unavailable(String),
    /// Some were queued and some were not.
    #[error("{failed} of {total} notification(s) not queued: {reason}")]
    Partial {
        failed: usize,
        total: usize,
        reason: String,
    },
}

#[async_trait]
pub trait Outbox: Send + Sync {
    /// Queues every notification, visible after `delay`.
    async fn put(&self, notifications: &[Notification], delay: Duration)
    -> Result<(), OutboxError>;

    /// `n` is done with (sent, a duplicate, dropped or given up): a queue
    /// that keeps messages until then forgets it. SQS needs nothing (the
    /// Lambda's success deletes the message), nor does memory.
    async fn delivered(&self, _n: &Notification) -> Result<(), OutboxError> {
        Ok(())
    }
}

/// Why planned changes were not handled; each step's own error.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("alerts not planned: {0}")]
    Plan(StoreError),
    #[error("planned notifications not queued: {0}")]
    Queue(OutboxError),
    #[error("notifications queued, but the alerts' new state not stored: {0}")]
    Apply(StoreError),
}

/// Plans the messages for `changes`, queues them, then stores the alerts'
/// new state, in that order: a crash between the steps re-plans the same
/// changes and queues the same notification ids again (sent once), rather
/// than storing a fired alert whose message was never queued. The one
/// sequence both the notify function and `serve` run; it logs the plan.
pub async fn queue_planned(
    notifier: &Notifier,
    outbox: &dyn Outbox,
    changes: &[PriceChanged],
    now: DateTime<Utc>,
) -> Result<Plan, PlanError> {
    let plan = notifier.plan(changes, now).await.map_err(PlanError::Plan)?;
    outbox
        .put(&plan.notifications, Duration::ZERO)
        .await
        .map_err(PlanError::Queue)?;
    notifier.apply(&plan).await.map_err(PlanError::Apply)?;
    tracing::info!(
        changes = changes.len(),
        matched = plan.matched,
        notifications = plan.notifications.len(),
        capped = plan.capped,
        "alerts planned"
    );
    Ok(plan)
}

/// The outbox of `pricehound serve`: notifications come out of the receiver
/// [`MemoryOutbox::new`] returns, at once or, with a delay, from a timer
/// task (what SQS's `DelaySeconds` does in AWS). Pending timers do not
/// survive a restart; neither does anything else in `serve`'s memory.
#[derive(Clone)]
pub struct MemoryOutbox {
    tx: mpsc::UnboundedSender<Notification>,
}

impl MemoryOutbox {
    pub fn new() -> (MemoryOutbox, mpsc::UnboundedReceiver<Notification>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (MemoryOutbox { tx }, rx)
    }
}

#[async_trait]
impl Outbox for MemoryOutbox {
    async fn put(
        &self,
        notifications: &[Notification],
        delay: Duration,
    ) -> Result<(), OutboxError> {
        if self.tx.is_closed() {
            return Err(OutboxError::Unavailable("serve is stopping".into()));
        }
        if delay.is_zero() {
            for n in notifications {
                self.tx
                    .send(n.clone())
                    .map_err(|_| OutboxError::Unavailable("serve is stopping".into()))?;
            }
            return Ok(());
        }
        let (tx, later) = (self.tx.clone(), notifications.to_vec());
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            for n in later {
                // The receiver is gone only when serve stops.
                let _ = tx.send(n);
            }
        });
        Ok(())
    }
}

/// How long a handed-out notification is leased: if `serve` dies while
/// sending it, it is due again after this (and its sent-id keeps a message
/// that did go out from going out twice).
pub const LEASE: Duration = Duration::from_secs(60);
/// How often the durable outbox looks for notifications that came due.
const PUMP_EVERY: Duration = Duration::from_millis(200);

/// `now + by`, saturating (a delay comes from Telegram's `retry_after`).
fn later(now: DateTime<Utc>, by: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(by)
        .ok()
        .and_then(|d| now.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The notifications queue kept in the store (`serve`): what waits, and
/// what waits out a 429, survives a restart. [`DurableOutbox::pump`] hands
/// out what is due; [`Outbox::delivered`] removes it.
pub struct DurableOutbox {
    queue: Arc<dyn DelayedQueue>,
    lease: Duration,
    /// Handed out by this process and not yet delivered or put back. A
    /// message can wait longer than its lease (a chat's messages go out at
    /// 1/s): when its lease runs out the pump renews it instead of handing
    /// it out a second time. After a crash the set is empty, and what was
    /// in flight comes round again once.
    in_flight: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl DurableOutbox {
    pub fn new(queue: Arc<dyn DelayedQueue>) -> Self {
        DurableOutbox {
            queue,
            lease: LEASE,
            in_flight: Default::default(),
        }
    }

    /// A lease other than [`LEASE`] (tests).
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    fn settle(&self, id: &str) {
        if let Ok(mut set) = self.in_flight.lock() {
            set.remove(id);
        }
    }

    /// Hands out the notifications as they come due (leased for the
    /// outbox's lease, renewed while in flight) until `stop` turns true or
    /// the receiver goes away.
    pub async fn pump(
        self: Arc<Self>,
        tx: mpsc::UnboundedSender<Notification>,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        let queue = self.queue.clone();
        loop {
            // Nobody to hand them to: lease nothing (a lease would hold
            // them back after a restart).
            if tx.is_closed() {
                return;
            }
            let now = Utc::now();
            match queue.lease_due(now, later(now, self.lease), 100).await {
                Ok(due) => {
                    for d in due {
                        match NotifyMessage::from_body(&d.body) {
                            Ok(NotifyMessage::Notification(n)) => {
                                let fresh = self
                                    .in_flight
                                    .lock()
                                    .map(|mut set| set.insert(n.id.clone()))
                                    .unwrap_or(true);
                                // Still being sent: its lease was renewed.
                                if !fresh {
                                    continue;
                                }
                                if tx.send(n).is_err() {
                                    return;
                                }
                            }
                            _ => {
                                tracing::error!(id = %d.id, "a stored notification does not parse; removed");
                                let _ = queue.remove(&d.id).await;
                            }
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "notifications not read; trying again"),
            }
            tokio::select! {
                _ = tokio::time::sleep(PUMP_EVERY) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    }
}

#[async_trait]
impl Outbox for DurableOutbox {
    async fn put(
        &self,
        notifications: &[Notification],
        delay: Duration,
    ) -> Result<(), OutboxError> {
        let due = later(Utc::now(), delay);
        for (i, n) in notifications.iter().enumerate() {
            let body = NotifyMessage::notification_body(n);
            self.settle(&n.id);
            if let Err(e) = self.queue.schedule(&n.id, &body, due).await {
                return Err(OutboxError::Partial {
                    failed: notifications.len() - i,
                    total: notifications.len(),
                    reason: e.to_string(),
                });
            }
        }
        Ok(())
    }

    async fn delivered(&self, n: &Notification) -> Result<(), OutboxError> {
        self.settle(&n.id);
        self.queue
            .remove(&n.id)
            .await
            .map_err(|e| OutboxError::Unavailable(e.to_string()))
    }
}

/// Tries after which a notification that keeps failing is given up: in
/// Lambda its record then fails and SQS moves it to the DLQ after its
/// receive count; in `serve` it is logged and dropped.
pub const MAX_ATTEMPTS: u32 = 8;
/// Hours after planning after which a failing notification is given up
/// (news of a price that old is no longer worth a retry).
pub const MAX_AGE_HOURS: i64 = 24;

/// The notification to put back after a failed try, with its attempt
/// counted; None once it has had [`MAX_ATTEMPTS`] or is older than
/// [`MAX_AGE_HOURS`].
pub fn next_attempt(n: &Notification, now: DateTime<Utc>) -> Option<Notification> {
    let attempts = n.attempts.saturating_add(1);
    let too_old = n
        .planned_at
        .is_some_and(|at| now.signed_duration_since(at) > chrono::Duration::hours(MAX_AGE_HOURS));
    if attempts >= MAX_ATTEMPTS || too_old {
        return None;
    }
    let mut again = n.clone();
    again.attempts = attempts;
    Some(again)
}

/// A message for the notify function: on the notifications queue, a
/// `PriceChanged` event as the EventBridge rule delivers it or a
/// notification put back; on the track jobs queue, a pasted page to read
/// for a user (the api function cannot wait for it: see
/// `telegram::bot::tracking`). Track jobs queued on the notifications queue
/// before the track jobs queue existed are still read.
#[derive(Debug, Clone, PartialEq)]
pub enum NotifyMessage {
    Change(PriceChanged),
    Notification(Notification),
    Track(TrackJob),
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    notification: Notification,
}

#[derive(Serialize, Deserialize)]
struct TrackEnvelope {
    track: TrackJob,
}

#[derive(Deserialize)]
struct EventBridgeEnvelope {
    #[serde(rename = "detail-type")]
    detail_type: String,
    detail: serde_json::Value,
}

impl NotifyMessage {
    /// Reads an SQS body; the error says what was expected.
    pub fn from_body(body: &str) -> Result<NotifyMessage, String> {
        let value: serde_json::Value =
            serde_json::from_str(body).map_err(|e| format!("body is not JSON: {e}"))?;
        if value.get("notification").is_some() {
            let e: Envelope =
                serde_json::from_value(value).map_err(|e| format!("bad notification: {e}"))?;
            return Ok(NotifyMessage::Notification(e.notification));
        }
        if value.get("track").is_some() {
            let e: TrackEnvelope =
                serde_json::from_value(value).map_err(|e| format!("bad track job: {e}"))?;
            return Ok(NotifyMessage::Track(e.track));
        }
        let e: EventBridgeEnvelope = serde_json::from_value(value)
            .map_err(|e| format!("neither a notification nor an EventBridge event: {e}"))?;
        if e.detail_type != "PriceChanged" {
            return Err(format!("unexpected detail-type {:?}", e.detail_type));
        }
        serde_json::from_value(e.detail)
            .map(NotifyMessage::Change)
            .map_err(|e| format!("bad PriceChanged detail: {e}"))
    }

    /// The SQS body of a notification put back on the queue.
    pub fn notification_body(n: &Notification) -> String {
        serde_json::to_string(&Envelope {
            notification: n.clone(),
        })
        .expect("notifications serialise")
    }

    /// The SQS body of a track job.
    pub fn track_body(job: &TrackJob) -> String {
        serde_json::to_string(&TrackEnvelope { track: job.clone() }).expect("track jobs serialise")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::user::{Lang, UserId};

    fn notification(n: i64) -> Notification {
        Notification {
            id: format!("n-{n}"),
            user: UserId(n),
            alert_id: crate::domain::user::AlertId::random(),
            chat_id: n,
            text: format!("price {n}"),
            keyboard: Default::default(),
            attempts: 0,
            planned_at: None,
        }
    }

    #[test]
    fn a_failing_notification_is_tried_a_bounded_number_of_times_and_hours() {
        let now = chrono::Utc::now();
        let mut n = notification(1);
        n.planned_at = Some(now);
        let mut tries = 1;
        while let Some(again) = next_attempt(&n, now) {
            assert_eq!(again.attempts, n.attempts + 1);
            n = again;
            tries += 1;
        }
        assert_eq!(tries, MAX_ATTEMPTS, "the first try and the retries");
        let mut fresh = notification(2);
        fresh.planned_at = Some(now - chrono::Duration::hours(MAX_AGE_HOURS + 1));
        assert!(next_attempt(&fresh, now).is_none(), "too old to retry");
        // Queued before the fields existed: bounded by attempts alone.
        let mut body = serde_json::to_value(notification(3)).unwrap();
        let fields = body.as_object_mut().unwrap();
        fields.remove("attempts");
        fields.remove("planned_at");
        let old: Notification = serde_json::from_value(body).unwrap();
        assert_eq!((old.attempts, old.planned_at), (0, None));
        assert_eq!(next_attempt(&old, now).map(|n| n.attempts), Some(1));
        let worn = Notification {
            attempts: u32::MAX,
            ..old
        };
        assert!(next_attempt(&worn, now).is_none(), "no overflow");
    }

    #[tokio::test(start_paused = true)]
    async fn the_memory_outbox_hands_out_now_or_after_the_delay() {
        let (outbox, mut rx) = MemoryOutbox::new();
        outbox
            .put(&[notification(1), notification(2)], Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(rx.try_recv().map(|n| n.user), Ok(UserId(1)));
        assert_eq!(rx.try_recv().map(|n| n.user), Ok(UserId(2)));
        outbox
            .put(&[notification(3)], Duration::from_secs(30))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_secs(29)).await;
        assert!(rx.try_recv().is_err(), "not before its delay");
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(rx.try_recv().map(|n| n.user), Ok(UserId(3)));
        drop(rx);
        assert!(matches!(
            outbox.put(&[notification(4)], Duration::ZERO).await,
            Err(OutboxError::Unavailable(_))
        ));
    }

    #[test]
    fn track_jobs_round_trip_through_the_queue_body() {
        let job = TrackJob {
            url: "https://shop.example/p/1".into(),
            user: UserId(7_000_000_001),
            chat_id: 7_000_000_001,
            lang: Lang::Ar,
        };
        let body = NotifyMessage::track_body(&job);
        assert_eq!(
            NotifyMessage::from_body(&body),
            Ok(NotifyMessage::Track(job))
        );
        assert!(
            NotifyMessage::from_body(r#"{"track":{"url":1}}"#)
                .unwrap_err()
                .starts_with("bad track job")
        );
    }
}
