//! Ingest: one queue message in, one idempotent store write, and a
//! [`PriceChanged`] event when the item's latest price moved to a new amount.
//!
//! The same code serves the `ingest` Lambda (SQS batches) and the in-process
//! worker in `serve`.

use rust_decimal::Decimal;
use std::sync::Arc;

use crate::bus::{Bus, BusError, DomainEvent, PriceChanged};
use crate::domain::{LatestPrice, Observation};
use crate::queue::QueueMessage;
use crate::store::{Recorded, Store, StoreError};

/// Where links to Telegram posts point.
pub const TELEGRAM_LINK_BASE: &str = "https://t.me";

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The message can never succeed: it goes to the dead-letter queue.
    #[error("malformed message: {0}")]
    Malformed(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Bus(#[from] BusError),
}

/// What one message did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ingested {
    /// A new observation was stored.
    Stored { price_changed: bool },
    /// Already stored (an SQS redelivery): nothing new was written or published.
    Duplicate,
}

pub struct Ingestor {
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
}

impl Ingestor {
    pub fn new(store: Arc<dyn Store>, bus: Arc<dyn Bus>) -> Self {
        Ingestor { store, bus }
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
            return Ok(Ingested::Duplicate);
        }
        let event = price_change(obs, &recorded);
        let price_changed = event.is_some();
        if let Some(e) = event {
            self.bus.publish(&[DomainEvent::PriceChanged(e)]).await?;
        }
        Ok(Ingested::Stored { price_changed })
    }
}

/// The event for a newly stored observation, if it changed the item's
/// price or availability (or the item is new).
fn price_change(obs: &Observation, recorded: &Recorded) -> Option<PriceChanged> {
    if !recorded.became_latest {
        return None;
    }
    let previous: Option<&LatestPrice> = recorded.previous.as_ref();
    let old_price = previous.and_then(|p| p.price.clone());
    let old_availability = previous.map(|p| p.availability);
    if previous.is_some() && old_price == obs.price && old_availability == Some(obs.availability) {
        return None;
    }
    let percent_change = match (&old_price, &obs.price) {
        // Checked: scraped amounts reach Decimal::MAX, and a change from
        // 0.01 to that does not fit (rust_decimal panics on overflow).
        (Some(o), Some(n)) if o.currency == n.currency && !o.amount.is_zero() => n
            .amount
            .checked_sub(o.amount)
            .and_then(|d| d.checked_div(o.amount))
            .and_then(|r| r.checked_mul(Decimal::ONE_HUNDRED))
            .map(|p| p.round_dp(2)),
        _ => None,
    };
    Some(PriceChanged {
        item_id: obs.item_id.clone(),
        source_id: obs.source_id.clone(),
        item_name: obs.item_name.clone(),
        series: obs.series.clone(),
        new_item: previous.is_none(),
        old_price,
        new_price: obs.price.clone(),
        old_availability,
        availability: obs.availability,
        percent_change,
        observation_id: obs.id.clone(),
        observed_at: obs.observed_at,
        link: obs.link(TELEGRAM_LINK_BASE),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Currency, ItemId, Money, Provenance};
    use chrono::{Duration, TimeZone, Utc};
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
            let recorded = Recorded {
                inserted: true,
                previous: Some(LatestPrice::from(&first)),
                became_latest: true,
            };
            let change = price_change(&second, &recorded).expect("the price moved");
            assert_eq!(change.percent_change, None, "{old} -> {new}");
        }
        let recorded = Recorded {
            inserted: true,
            previous: Some(LatestPrice::from(&obs("10", 0))),
            became_latest: true,
        };
        let change = price_change(&obs("15", 1), &recorded).unwrap();
        assert_eq!(change.percent_change, Some(Decimal::from(50)));
    }
}
