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
        (Some(o), Some(n)) if o.currency == n.currency && !o.amount.is_zero() => {
            Some(((n.amount - o.amount) / o.amount * Decimal::ONE_HUNDRED).round_dp(2))
        }
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
