//! The notifier inside `pricehound serve`: the bus's price changes are
//! planned and queued as they come ([`queue_planned`], as the notify
//! function does), the in-memory outbox hands the notifications to a pool
//! of tasks sharing one rate limiter, and a notification Telegram throttled
//! goes back to the outbox with its `retry_after` as the delay, like the SQS
//! delay in AWS.

use chrono::Utc;
use std::sync::Arc;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinSet;

use super::notifier::{Notification, Notifier};
use super::outbox::{MemoryOutbox, Outbox, PlanError, next_attempt, queue_planned};
use super::sender::{Delivery, Sender};
use crate::bus::DomainEvent;

/// Most changes planned together.
const BATCH: usize = 500;

/// Runs until `stop` turns true; then finishes what is being sent.
pub async fn run(
    notifier: Arc<Notifier>,
    sender: Arc<Sender>,
    mut events: broadcast::Receiver<DomainEvent>,
    mut stop: watch::Receiver<bool>,
) {
    let (outbox, mut rx) = MemoryOutbox::new();
    let mut sending = JoinSet::new();
    loop {
        tokio::select! {
            event = events.recv() => {
                let mut changes = Vec::new();
                match event {
                    Ok(DomainEvent::PriceChanged(c)) => changes.push(c),
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::error!(missed = n, "notifier fell behind the bus; changes missed");
                        continue;
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                }
                while changes.len() < BATCH {
                    match events.try_recv() {
                        Ok(DomainEvent::PriceChanged(c)) => changes.push(c),
                        _ => break,
                    }
                }
                plan_and_queue(&notifier, &outbox, &changes).await;
            }
            Some(n) = rx.recv() => {
                let (sender, outbox) = (sender.clone(), outbox.clone());
                sending.spawn(async move { send(&sender, n, &outbox).await });
            }
            Some(_) = sending.join_next(), if !sending.is_empty() => {}
            _ = stopped(&mut stop) => break,
        }
    }
    sending.shutdown().await;
}

async fn plan_and_queue(
    notifier: &Notifier,
    outbox: &MemoryOutbox,
    changes: &[crate::bus::PriceChanged],
) {
    match queue_planned(notifier, outbox, changes, Utc::now()).await {
        Ok(_) => {}
        // The notifications are out; only the alerts' new state is lost
        // (they may fire again on the next change).
        Err(e @ PlanError::Apply(_)) => tracing::error!(error = %e, "alert state not stored"),
        Err(e) => tracing::error!(error = %e, changes = changes.len(), "alerts not planned"),
    }
}

async fn send(sender: &Sender, n: Notification, outbox: &MemoryOutbox) {
    let now = Utc::now();
    let (again, after) = match sender.deliver(&n, now).await {
        Ok(Delivery::RetryAfter(wait)) => (n, wait),
        Ok(Delivery::Failed(wait)) => match next_attempt(&n, now) {
            Some(again) => (again, wait),
            None => {
                tracing::error!(
                    notification = %n.id,
                    attempts = n.attempts + 1,
                    "notification given up after repeated failures"
                );
                return;
            }
        },
        Ok(_) => return,
        Err(e) => {
            tracing::warn!(error = %e, "notification store error; retrying in 5 s");
            (n, std::time::Duration::from_secs(5))
        }
    };
    if let Err(e) = outbox.put(std::slice::from_ref(&again), after).await {
        tracing::warn!(error = %e, "notification not put back");
    }
}

/// Resolves once `stop` is true (a `()` future, so the select stays `Send`).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}
