//! The notifier inside `pricehound serve`: the bus's price changes are
//! planned as they come, and sent by a pool of tasks sharing one rate
//! limiter; a notification Telegram throttled goes back after its
//! `retry_after` on a timer, like the SQS delay in AWS.

use chrono::Utc;
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinSet;

use super::notifier::{Notification, Notifier};
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
    let (tx, mut rx) = mpsc::unbounded_channel::<Notification>();
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
                plan_and_queue(&notifier, &changes, &tx).await;
            }
            Some(n) = rx.recv() => {
                let sender = sender.clone();
                let tx = tx.clone();
                sending.spawn(async move { send(&sender, n, tx).await });
            }
            Some(_) = sending.join_next(), if !sending.is_empty() => {}
            _ = stopped(&mut stop) => break,
        }
    }
    sending.shutdown().await;
}

async fn plan_and_queue(
    notifier: &Notifier,
    changes: &[crate::bus::PriceChanged],
    tx: &mpsc::UnboundedSender<Notification>,
) {
    let now = Utc::now();
    match notifier.plan(changes, now).await {
        Ok(plan) => {
            tracing::info!(
                changes = changes.len(),
                matched = plan.matched,
                notifications = plan.notifications.len(),
                capped = plan.capped,
                "alerts planned"
            );
            for n in &plan.notifications {
                let _ = tx.send(n.clone());
            }
            if let Err(e) = notifier.apply(&plan).await {
                tracing::error!(error = %e, "alert state not stored");
            }
        }
        Err(e) => tracing::error!(error = %e, changes = changes.len(), "alerts not planned"),
    }
}

async fn send(sender: &Sender, n: Notification, tx: mpsc::UnboundedSender<Notification>) {
    match sender.deliver(&n, Utc::now()).await {
        Ok(Delivery::RetryAfter(wait)) => {
            tokio::time::sleep(wait).await;
            let _ = tx.send(n);
        }
        Ok(_) => {}
        Err(e) => {
            tracing::warn!(error = %e, "notification store error; retrying in 5 s");
            tokio::time::sleep(std::time::Duration::from_secs(5)).await;
            let _ = tx.send(n);
        }
    }
}

/// Resolves once `stop` is true (a `()` future, so the select stays `Send`).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}
