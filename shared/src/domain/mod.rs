//! The types every other module speaks: sources, items, observations, money.
//!
//! Nothing here knows about HTTP, SQLite or AWS. Constructors validate, so a
//! value of these types is always well-formed (an id is never empty, a
//! currency is always an ISO 4217 code, money is never a float).

mod ids;
mod money;

pub use ids::{IdError, ItemId, ObservationId, SeriesId, SourceId, slug};
pub use money::{Currency, CurrencyError, Money};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where an observation came from. Its [`Provenance::key`] is what makes an
/// observation id deterministic: the same post or page fetch seen twice gives
/// the same key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Provenance {
    /// A post in a public Telegram channel. Edited posts keep their id, so an
    /// edit re-read later is still the same observation.
    TelegramPost { channel: String, post_id: u64 },
    /// A fetched web page (catalogue, product page, JSON feed). The fetch
    /// time is part of the key: the same listing on tomorrow's run is a new
    /// observation, a redelivered message of today's run is not.
    Page {
        url: String,
        fetched_at: DateTime<Utc>,
    },
}

impl Provenance {
    pub fn key(&self) -> String {
        match self {
            Provenance::TelegramPost { channel, post_id } => format!("tg:{channel}/{post_id}"),
            Provenance::Page { url, fetched_at } => {
                format!("page:{url}@{}", fetched_at.timestamp_millis())
            }
        }
    }

    /// A link a person can open to check the price at its source.
    pub fn link(&self, telegram_base: &str) -> String {
        match self {
            Provenance::TelegramPost { channel, post_id } => {
                format!(
                    "{}/{channel}/{post_id}",
                    telegram_base.trim_end_matches('/')
                )
            }
            Provenance::Page { url, .. } => url.clone(),
        }
    }
}

/// One price of one item at one time, as a source showed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    pub id: ObservationId,
    pub source_id: SourceId,
    pub item_id: ItemId,
    /// The item's name as the source shows it (a label in a post, a listing title).
    pub item_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<SeriesId>,
    pub price: Money,
    /// When the source published the price (the post date), or when the page was fetched.
    pub observed_at: DateTime<Utc>,
    pub provenance: Provenance,
}

impl Observation {
    /// Builds an observation whose id is derived from the item and the provenance.
    pub fn new(
        source_id: SourceId,
        item_id: ItemId,
        item_name: impl Into<String>,
        series: Option<SeriesId>,
        price: Money,
        observed_at: DateTime<Utc>,
        provenance: Provenance,
    ) -> Self {
        let id = ObservationId::derive(&item_id, &provenance);
        Observation {
            id,
            source_id,
            item_id,
            item_name: item_name.into(),
            series,
            price,
            observed_at,
            provenance,
        }
    }

    /// True when `self` is newer than `other` in the store's total order:
    /// by time, then by id, so two stores agree on which one is "latest".
    pub fn is_newer_than(&self, observed_at: DateTime<Utc>, id: &ObservationId) -> bool {
        (self.observed_at, &self.id) > (observed_at, id)
    }
}

/// The latest known price of an item, with what the store knows of the item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatestPrice {
    pub item_id: ItemId,
    pub source_id: SourceId,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<SeriesId>,
    pub price: Money,
    pub observed_at: DateTime<Utc>,
    pub observation_id: ObservationId,
    pub provenance: Provenance,
}

impl From<&Observation> for LatestPrice {
    fn from(o: &Observation) -> Self {
        LatestPrice {
            item_id: o.item_id.clone(),
            source_id: o.source_id.clone(),
            name: o.item_name.clone(),
            series: o.series.clone(),
            price: o.price.clone(),
            observed_at: o.observed_at,
            observation_id: o.id.clone(),
            provenance: o.provenance.clone(),
        }
    }
}

/// How far a source has been read, so each post is read once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub source_id: SourceId,
    /// The highest Telegram post id read so far.
    pub last_post_id: u64,
    pub updated_at: DateTime<Utc>,
}
