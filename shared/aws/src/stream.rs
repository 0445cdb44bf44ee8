//! The `events` function's work: the DynamoDB stream of the table in,
//! `PriceChanged` events out to the bus.
//!
//! The stream is the DynamoDB side of the outbox: every change of an item's
//! LATEST record is in it, with the record before and after
//! (NEW_AND_OLD_IMAGES), for 24 hours, in order per item. The event is
//! derived from those two images by the same rule the SQLite store applies
//! ([`price_change`]), so ingest publishes nothing and a failure anywhere
//! between the write and the bus delays an event, never loses it.
//!
//! Why a function and not an EventBridge Pipe: a Pipe can filter and
//! reshape, but the event needs the percent change and the rule that an
//! unchanged price raises nothing, so a Pipe would need a Lambda enrichment
//! anyway, and then two resources hold what one small function does.

use aws_lambda_events::event::dynamodb::{Event as DynamoDbEvent, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

use pricehound_core::bus::{Bus, DomainEvent};
use pricehound_core::events::price_change;

use crate::dynamo::latest_from_image;

/// How many events one bus call carries: EventBridge's PutEvents limit, so
/// a failure points at a chunk the bus either took or did not.
const CHUNK: usize = 10;

/// The event a stream record carries, if any. Err for an image that is not
/// a valid LATEST record: retrying cannot fix it, so after the mapping's
/// retries the batch goes to the function's on-failure queue.
pub fn change_of(record: &EventRecord) -> Result<Option<DomainEvent>, String> {
    if record.event_name == "REMOVE" {
        return Ok(None);
    }
    let image =
        |item: &serde_dynamo::Item| -> HashMap<String, AttributeValue> { item.clone().into() };
    let new = latest_from_image(&image(&record.change.new_image))
        .map_err(|e| format!("new image: {e}"))?;
    let Some(new) = new else {
        return Ok(None);
    };
    let old = if record.change.old_image.is_empty() {
        None
    } else {
        latest_from_image(&image(&record.change.old_image))
            .map_err(|e| format!("old image: {e}"))?
    };
    Ok(price_change(old.as_ref(), &new).map(DomainEvent::PriceChanged))
}

/// Publishes the changes of a stream batch in order. On a failure it
/// reports the first record not known to be published, and Lambda retries
/// the batch from there (ReportBatchItemFailures on a stream), so nothing
/// after it is skipped; a chunk the bus took in part may be published
/// twice, which the alert rules absorb (a fired alert is disarmed).
pub async fn publish_changes(bus: &dyn Bus, event: DynamoDbEvent) -> DynamoDbEventResponse {
    // (sequence number of the record, its event)
    let mut pending: Vec<(String, DomainEvent)> = Vec::new();
    let mut failed_at: Option<String> = None;
    for record in &event.records {
        let seq = record.change.sequence_number.clone().unwrap_or_default();
        match change_of(record) {
            Ok(Some(event)) => pending.push((seq, event)),
            Ok(None) => {}
            Err(e) => {
                tracing::error!(sequence_number = %seq, error = %e, "stream record is not a valid LATEST record");
                failed_at = Some(seq);
                break;
            }
        }
    }
    for chunk in pending.chunks(CHUNK) {
        let events: Vec<DomainEvent> = chunk.iter().map(|(_, e)| e.clone()).collect();
        if let Err(e) = bus.publish(&events).await {
            let first = chunk
                .first()
                .map(|(seq, _)| seq.clone())
                .unwrap_or_default();
            tracing::warn!(sequence_number = %first, error = %e, "publishing price events failed; the batch is retried from here");
            failed_at = Some(first);
            break;
        }
        metrics::counter!(pricehound_core::metric::EVENTS_PUBLISHED).increment(events.len() as u64);
        tracing::info!(events = events.len(), "price events published");
    }
    let mut response = DynamoDbEventResponse::default();
    if let Some(seq) = failed_at {
        let mut failure = DynamoDbBatchItemFailure::default();
        failure.item_identifier = Some(seq);
        response.batch_item_failures.push(failure);
    }
    response
}
