//! The EventBridge adapter of [`Bus`]: ingest publishes domain events to the
//! app's custom bus, and a rule routes them to the notifications queue.
//!
//! `PutEvents` takes at most 10 entries (and 256 KiB) per call and accepts
//! or refuses each entry on its own: a call that returns 200 can still have
//! lost some events, which only `FailedEntryCount` tells. Refused entries are
//! retried ([`crate::batch`], shared with SQS); what is still refused after
//! that is reported, never dropped.

use async_trait::async_trait;
use aws_sdk_eventbridge::Client;
use aws_sdk_eventbridge::error::DisplayErrorContext;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;

use crate::batch;
use pricehound_core::bus::{Bus, BusError, DomainEvent, EVENT_SOURCE};

/// The most entries one `PutEvents` call may hold.
pub const MAX_BATCH_ENTRIES: usize = 10;
/// The most one `PutEvents` call may carry, counted the way EventBridge does.
pub const MAX_BATCH_BYTES: usize = 256 * 1024;

const LIMITS: batch::Limits = batch::Limits {
    entries: MAX_BATCH_ENTRIES,
    bytes: MAX_BATCH_BYTES,
};

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

    /// One `PutEvents` call with `entries[i]` for each index.
    async fn call(
        &self,
        entries: &[Entry],
        indexes: Vec<usize>,
    ) -> Result<Vec<(usize, batch::Answer)>, String> {
        let request = indexes
            .iter()
            .map(|&i| {
                PutEventsRequestEntry::builder()
                    .source(EVENT_SOURCE)
                    .detail_type(entries[i].detail_type)
                    .detail(&entries[i].detail)
                    .event_bus_name(&self.bus_name)
                    .build()
            })
            .collect::<Vec<_>>();
        let out = self
            .client
            .put_events()
            .set_entries(Some(request))
            .send()
            .await
            .map_err(|e| {
                format!(
                    "EventBridge PutEvents to bus {} failed: {}",
                    self.bus_name,
                    DisplayErrorContext(&e)
                )
            })?;
        // Result entries are in request order, one per request entry; a
        // missing one is left out of the answer, so it is retried.
        Ok(indexes
            .iter()
            .zip(out.entries())
            .map(|(&i, r)| {
                let answer = if r.error_code().is_none() && r.event_id().is_some() {
                    batch::Answer::Sent
                } else {
                    batch::Answer::Refused {
                        reason: format!(
                            "{}: {}",
                            r.error_code().unwrap_or("no error code"),
                            r.error_message().unwrap_or("no message")
                        ),
                        retry: true,
                    }
                };
                (i, answer)
            })
            .collect())
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
        let sizes: Vec<usize> = entries.iter().map(Entry::size).collect();
        let outcome = batch::send_all(&sizes, LIMITS, |indexes| self.call(&entries, indexes)).await;

        if outcome.failed.is_empty() {
            return Ok(());
        }
        if let (0, Some(reason)) = (outcome.sent, outcome.fatal) {
            return Err(BusError::Backend(reason));
        }
        let count = outcome.failed.len();
        let mut reasons: Vec<String> = outcome
            .failed
            .into_iter()
            .map(|(i, reason)| format!("{} event: {reason}", entries[i].detail_type))
            .collect();
        reasons.sort();
        reasons.dedup();
        Err(BusError::Partial {
            count,
            reason: reasons.join("; "),
        })
    }
}
