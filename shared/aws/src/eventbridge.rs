//! The EventBridge adapter of [`Bus`]: ingest publishes domain events to the
//! app's custom bus, and a rule routes them to the notifications queue.
//!
//! `PutEvents` takes at most 10 entries (and 256 KiB) per call and accepts
//! or refuses each entry on its own: a call that returns 200 can still have
//! lost some events, which only `FailedEntryCount` tells. Refused entries are
//! retried; what is still refused after that is reported, never dropped.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_eventbridge::Client;
use aws_sdk_eventbridge::error::DisplayErrorContext;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;

use pricehound_core::bus::{Bus, BusError, DomainEvent, EVENT_SOURCE};

/// The most entries one `PutEvents` call may hold.
pub const MAX_BATCH_ENTRIES: usize = 10;
/// The most one `PutEvents` call may carry, counted the way EventBridge does.
pub const MAX_BATCH_BYTES: usize = 256 * 1024;
/// Tries per entry, counting the first.
const ATTEMPTS: u32 = 3;
const BACKOFF: Duration = Duration::from_millis(100);

/// Publishes domain events to one EventBridge bus. Cheap to clone.
#[derive(Clone, Debug)]
pub struct EventBridgeBus {
    client: Client,
    bus_name: String,
}

/// One event as it goes on the wire.
struct Entry {
    detail_type: &'static str,
    detail: String,
}

impl Entry {
    /// EventBridge's entry size: source, detail-type and detail in UTF-8
    /// bytes, plus 14 bytes for the time field.
    fn size(&self) -> usize {
        EVENT_SOURCE.len() + self.detail_type.len() + self.detail.len() + 14
    }
}

impl EventBridgeBus {
    pub fn new(client: Client, bus_name: impl Into<String>) -> Self {
        EventBridgeBus {
            client,
            bus_name: bus_name.into(),
        }
    }

    pub fn bus_name(&self) -> &str {
        &self.bus_name
    }

    /// Publishes one batch with retries of the refused entries. Returns how
    /// many were published and, per unpublished entry, why; `Err` when the
    /// call itself failed (the next batches would fail the same way).
    async fn put_batch(&self, batch: &[Entry]) -> (usize, Vec<String>, Option<String>) {
        let mut published = 0;
        let mut pending: Vec<usize> = (0..batch.len()).collect();
        let mut last_reason = String::new();
        for attempt in 1..=ATTEMPTS {
            if attempt > 1 {
                tokio::time::sleep(BACKOFF * 2u32.pow(attempt - 2)).await;
            }
            let entries = pending
                .iter()
                .map(|&i| {
                    PutEventsRequestEntry::builder()
                        .source(EVENT_SOURCE)
                        .detail_type(batch[i].detail_type)
                        .detail(&batch[i].detail)
                        .event_bus_name(&self.bus_name)
                        .build()
                })
                .collect::<Vec<_>>();
            let out = match self
                .client
                .put_events()
                .set_entries(Some(entries))
                .send()
                .await
            {
                Ok(out) => out,
                Err(e) => {
                    let reason = format!(
                        "EventBridge PutEvents to bus {} failed: {}",
                        self.bus_name,
                        DisplayErrorContext(&e)
                    );
                    let failed = vec![reason.clone(); pending.len()];
                    return (published, failed, Some(reason));
                }
            };
            // Result entries are in request order, one per request entry.
            let results = out.entries();
            let mut retry = Vec::new();
            for (n, &i) in pending.iter().enumerate() {
                match results.get(n) {
                    Some(r) if r.error_code().is_none() && r.event_id().is_some() => {
                        published += 1;
                    }
                    Some(r) => {
                        last_reason = format!(
                            "{}: {}",
                            r.error_code().unwrap_or("no error code"),
                            r.error_message().unwrap_or("no message")
                        );
                        retry.push(i);
                    }
                    None => {
                        last_reason = "entry missing from the PutEvents result".into();
                        retry.push(i);
                    }
                }
            }
            pending = retry;
            if pending.is_empty() {
                break;
            }
        }
        let failed = pending
            .iter()
            .map(|_| format!("still failing after {ATTEMPTS} attempts: {last_reason}"))
            .collect();
        (published, failed, None)
    }
}

#[async_trait]
impl Bus for EventBridgeBus {
    /// Publishes every event. [`BusError::Backend`] when the calls failed
    /// and nothing was published, [`BusError::Partial`] with the count of
    /// unpublished events otherwise.
    async fn publish(&self, events: &[DomainEvent]) -> Result<(), BusError> {
        let entries: Vec<Entry> = events
            .iter()
            .map(|e| Entry {
                detail_type: e.detail_type(),
                detail: e.detail_json(),
            })
            .collect();

        let mut published = 0;
        let mut failed: Vec<String> = Vec::new();
        let mut fatal: Option<String> = None;
        let mut batch: Vec<Entry> = Vec::new();
        let mut bytes = 0;
        let mut entries = entries.into_iter().peekable();
        while let Some(entry) = entries.next() {
            if entry.size() > MAX_BATCH_BYTES {
                failed.push(format!(
                    "a {} event of {} bytes is over the PutEvents limit of {MAX_BATCH_BYTES}",
                    entry.detail_type,
                    entry.size()
                ));
            } else {
                bytes += entry.size();
                batch.push(entry);
            }
            let full = entries.peek().is_none_or(|next| {
                batch.len() == MAX_BATCH_ENTRIES || bytes + next.size() > MAX_BATCH_BYTES
            });
            if !full || batch.is_empty() {
                continue;
            }
            let this = std::mem::take(&mut batch);
            bytes = 0;
            if let Some(reason) = &fatal {
                failed.extend(this.iter().map(|_| reason.clone()));
                continue;
            }
            let (ok, errors, call_error) = self.put_batch(&this).await;
            published += ok;
            failed.extend(errors);
            fatal = call_error;
        }

        if failed.is_empty() {
            return Ok(());
        }
        if let (0, Some(reason)) = (published, fatal) {
            return Err(BusError::Backend(reason));
        }
        let count = failed.len();
        failed.dedup();
        Err(BusError::Partial {
            count,
            reason: failed.join("; "),
        })
    }
}
