//! Ingest: one queue message in, one idempotent store write.
//!
//! Ingest publishes nothing itself. The event that a price changed is
//! derived from what the write stored ([`crate::events::price_change`]) and
//! kept by the store with the write: in SQLite's outbox, drained to the bus
//! by [`crate::relay::Relay`]; in DynamoDB's stream, read by the `events`
//! function. So a publish that fails, or a crash after the write, can delay
//! an event but never lose it, and a redelivered message raises nothing.
//!
//! The same code serves the `ingest` Lambda (SQS batches) and the in-process
//! worker in `serve`.

use std::sync::Arc;

use crate::domain::{LatestPrice, Observation};
use crate::events::price_change;
use crate::metric;
use crate::queue::QueueMessage;
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The message can never succeed: it goes to the dead-letter queue.
    #[error("malformed message: {0}")]
    Malformed(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What one message did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ingested {
    /// A new observation was stored; `price_changed` when it moved the
    /// item's latest price or availability (the store keeps the event).
    Stored { price_changed: bool },
    /// Already stored (an SQS redelivery): nothing new was written.
    Duplicate,
}

pub struct Ingestor {
    store: Arc<dyn Store>,
}

impl Ingestor {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Ingestor { store }
    }

    /// Parses and ingests one message body.
    pub async fn ingest_body(&self, body: &str) -> Result<Ingested, IngestError> {
        let message = QueueMessage::from_json(body).map_err(|e| {
            IngestError::Malformed(format!(
                "not a pricehound queue message ({e}); body starts with {:?}",
                body.chars().take(80).collect::<String>()
            ))
        })?;
        self.ingest(&message).await
    }

    pub async fn ingest(&self, message: &QueueMessage) -> Result<Ingested, IngestError> {
        match message {
            QueueMessage::Observation(obs) => self.ingest_observation(obs).await,
        }
    }

    async fn ingest_observation(&self, obs: &Observation) -> Result<Ingested, IngestError> {
        // The id is derived from the item and provenance; a body whose id
        // does not match was tampered with or built by a buggy producer.
        if crate::domain::ObservationId::derive(&obs.item_id, &obs.provenance) != obs.id {
            return Err(IngestError::Malformed(format!(
                "observation {} does not match its item and provenance",
                obs.id
            )));
        }
        if obs.item_id.source_id() != obs.source_id {
            return Err(IngestError::Malformed(format!(
                "item {} does not belong to source {}",
                obs.item_id, obs.source_id
            )));
        }
        let recorded = self.store.record(obs).await?;
        if !recorded.inserted {
            metrics::counter!(metric::OBSERVATIONS_DUPLICATE).increment(1);
            return Ok(Ingested::Duplicate);
        }
        let price_changed = recorded.became_latest
            && price_change(recorded.previous.as_ref(), &LatestPrice::from(obs)).is_some();
        metrics::counter!(metric::OBSERVATIONS_STORED).increment(1);
        if price_changed {
            metrics::counter!(metric::PRICE_CHANGES).increment(1);
        }
        Ok(Ingested::Stored { price_changed })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Currency, ItemId, Money, Provenance};
    use chrono::{Duration, TimeZone, Utc};
    use rust_decimal::Decimal;
    use std::str::FromStr;

    fn obs(amount: &str, minutes: i64) -> Observation {
        let id = ItemId::new("olx-gpu:huge").unwrap();
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::minutes(minutes);
        Observation::new(
            id.source_id(),
            id,
            "huge",
            None,
            Money::new(
                Decimal::from_str(amount).unwrap(),
                Currency::new("BGN").unwrap(),
            ),
            at,
            Provenance::Page {
                url: "https://shop.example/p".into(),
                fetched_at: at,
            },
        )
    }

    /// Regression: the percent change of a move the size of Decimal's range
    /// panicked ("Multiplication overflowed") inside ingest.
    #[test]
    fn a_change_too_big_for_a_percentage_has_none() {
        let max = Decimal::MAX.to_string();
        for (old, new) in [
            ("0.01", max.as_str()),
            ("0.0000000000000000000000000001", "1000"),
            ("-79228162514264337593543950335", max.as_str()),
        ] {
            let first = obs(old, 0);
            let second = obs(new, 1);
            let change = price_change(
                Some(&LatestPrice::from(&first)),
                &LatestPrice::from(&second),
            )
            .expect("the price moved");
            assert_eq!(change.percent_change, None, "{old} -> {new}");
        }
        let change = price_change(
            Some(&LatestPrice::from(&obs("10", 0))),
            &LatestPrice::from(&obs("15", 1)),
        )
        .unwrap();
        assert_eq!(change.percent_change, Some(Decimal::from(50)));
    }
}
