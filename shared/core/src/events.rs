//! Domain events: what ingest raises when an item's price or availability
//! moves. They are the core's own types; the [`crate::bus`] port carries
//! them (EventBridge in AWS, a broadcast channel in `serve`) and the alert
//! rules ([`crate::alerts`]) read them.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::{Availability, ItemId, LatestPrice, Money, ObservationId, SeriesId, SourceId};

/// Where links to Telegram posts point.
pub const TELEGRAM_LINK_BASE: &str = "https://t.me";

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

/// The event for an item's latest price moving from `previous` (None: the
/// item is new) to `latest`, if its price or availability changed.
///
/// It is derived from what the store holds, before and after, never from
/// the message that caused the write: the SQLite store calls it inside the
/// transaction that moves the latest price (and keeps the event in its
/// outbox), the `events` Lambda calls it on the old and new images of the
/// LATEST record that the DynamoDB stream carries. So an event exists
/// exactly when the stored latest price changed, whatever failed around it.
pub fn price_change(previous: Option<&LatestPrice>, latest: &LatestPrice) -> Option<PriceChanged> {
    if let Some(p) = previous {
        if !latest.is_newer_than(p) {
            return None;
        }
        if p.price == latest.price && p.availability == latest.availability {
            return None;
        }
    }
    let old_price = previous.and_then(|p| p.price.clone());
    let percent_change = match (&old_price, &latest.price) {
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
        item_id: latest.item_id.clone(),
        source_id: latest.source_id.clone(),
        item_name: latest.name.clone(),
        series: latest.series.clone(),
        new_item: previous.is_none(),
        old_price,
        new_price: latest.price.clone(),
        old_availability: previous.map(|p| p.availability),
        availability: latest.availability,
        percent_change,
        observation_id: latest.observation_id.clone(),
        observed_at: latest.observed_at,
        link: latest.link(TELEGRAM_LINK_BASE),
    })
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
