//! The notifier inside `pricehound serve`: the bus's price changes are
//! planned and queued as they come ([`queue_planned`], as the notify
//! function does); the outbox hands the notifications to a pool of tasks
//! sharing one rate limiter, and a notification Telegram throttled goes
//! back to the outbox with its `retry_after` as the delay, like the SQS
//! delay in AWS. `serve` runs it on the durable outbox ([`run_durable`]),
//! so what waits survives a restart; tests may run it in memory ([`run`]).

use chrono::Utc;
use pricehound_core::delayed::DelayedQueue;
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinSet;

use super::notifier::{Notification, Notifier};
use super::outbox::{DurableOutbox, MemoryOutbox, Outbox, PlanError, next_attempt, queue_planned};
use super::sender::{Delivery, Sender};
use crate::bus::DomainEvent;

/// Most changes planned together.
const BATCH: usize = 500;

/// [`run_with`] on an in-memory outbox: what waits is lost on exit.
pub async fn run(
    notifier: Arc<Notifier>,
    sender: Arc<Sender>,
    events: broadcast::Receiver<DomainEvent>,
    stop: watch::Receiver<bool>,
) {
    let (outbox, rx) = MemoryOutbox::new();
    run_with(notifier, sender, events, stop, Arc::new(outbox), rx).await;
}

/// [`run_with`] on the notifications queue kept in the store: queued
/// notifications and put-backs survive a restart or a crash.
pub async fn run_durable(
    notifier: Arc<Notifier>,
    sender: Arc<Sender>,
    events: broadcast::Receiver<DomainEvent>,
    stop: watch::Receiver<bool>,
    queue: Arc<dyn DelayedQueue>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let outbox = Arc::new(DurableOutbox::new(queue));
    let pump = tokio::spawn(outbox.clone().pump(tx, stop.clone()));
    // The pump ends with this task, aborted or not: it must not lease
    // messages nobody will send.
    let _pump = AbortOnDrop(pump.abort_handle());
    run_with(notifier, sender, events, stop, outbox, rx).await;
}

struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs until `stop` turns true; then finishes what is being sent.
/// `outbox` takes planned notifications and put-backs; `due` yields them
/// when they are due.
pub async fn run_with(
    notifier: Arc<Notifier>,
    sender: Arc<Sender>,
    mut events: broadcast::Receiver<DomainEvent>,
    mut stop: watch::Receiver<bool>,
    outbox: Arc<dyn Outbox>,
    mut due: mpsc::UnboundedReceiver<Notification>,
) {
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
                plan_and_queue(&notifier, outbox.as_ref(), &changes).await;
            }
            Some(n) = due.recv() => {
                let (sender, outbox) = (sender.clone(), outbox.clone());
                sending.spawn(async move { send(&sender, n, outbox.as_ref()).await });
            }
            Some(_) = sending.join_next(), if !sending.is_empty() => {}
            _ = stopped(&mut stop) => break,
        }
    }
    sending.shutdown().await;
}

async fn plan_and_queue(
    notifier: &Notifier,
    outbox: &dyn Outbox,
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

async fn send(sender: &Sender, n: Notification, outbox: &dyn Outbox) {
    let now = Utc::now();
    let (again, after) = match sender.deliver(&n, now).await {
        Ok(Delivery::RetryAfter(wait) | Delivery::InFlight(wait)) => (n, wait),
        Ok(Delivery::Failed(wait)) => match next_attempt(&n, now) {
            Some(again) => (again, wait),
            None => {
                tracing::error!(
                    notification = %n.id,
                    attempts = n.attempts + 1,
                    "notification given up after repeated failures"
                );
                done(outbox, &n).await;
                return;
            }
        },
        Ok(_) => {
            done(outbox, &n).await;
            return;
        }
        Err(e) => {
            tracing::warn!(error = %e, "notification store error; retrying in 5 s");
            (n, std::time::Duration::from_secs(5))
        }
    };
    if let Err(e) = outbox.put(std::slice::from_ref(&again), after).await {
        tracing::warn!(error = %e, "notification not put back");
    }
}

/// Tells the outbox `n` is done with; if that fails, its lease runs out,
/// it is handed out again, and the sender's sent-id check skips it.
async fn done(outbox: &dyn Outbox, n: &Notification) {
    if let Err(e) = outbox.delivered(n).await {
        tracing::warn!(error = %e, notification = %n.id, "notification not removed from the queue");
    }
}

/// Resolves once `stop` is true (a `()` future, so the select stays `Send`).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}
