//! Domain events: what ingest raises when an item's price or availability
//! moves. They are the core's own types; the [`crate::bus`] port carries
//! them (EventBridge in AWS, a broadcast channel in `serve`) and the alert
//! rules ([`crate::alerts`]) read them.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::{Availability, ItemId, Money, ObservationId, SeriesId, SourceId};

/// Events carry `source = "pricehound"` and this `detail-type` on EventBridge.
pub const EVENT_SOURCE: &str = "pricehound";

/// An item's latest price or availability changed, or the item was seen
/// for the first time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceChanged {
    pub item_id: ItemId,
    pub source_id: SourceId,
    pub item_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<SeriesId>,
    /// True when this is the first observation of the item.
    pub new_item: bool,
    /// None when the item is new or had no price.
    pub old_price: Option<Money>,
    /// None when the source shows no price now (e.g. out of stock).
    pub new_price: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_availability: Option<Availability>,
    pub availability: Availability,
    /// Percent change from the old price (same currency only), rounded to 2 places.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent_change: Option<Decimal>,
    pub observation_id: ObservationId,
    pub observed_at: DateTime<Utc>,
    /// A link to the price at its source.
    pub link: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "detail", rename_all = "snake_case")]
pub enum DomainEvent {
    PriceChanged(PriceChanged),
}

impl DomainEvent {
    /// EventBridge `detail-type`.
    pub fn detail_type(&self) -> &'static str {
        match self {
            DomainEvent::PriceChanged(_) => "PriceChanged",
        }
    }

    /// EventBridge `detail`: the event's own JSON.
    pub fn detail_json(&self) -> String {
        match self {
            DomainEvent::PriceChanged(e) => serde_json::to_string(e),
        }
        .expect("events always serialise")
    }
}
