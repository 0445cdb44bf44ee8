//! The types every other module speaks: sources, items, observations, money.
//!
//! Nothing here knows about HTTP, SQLite or AWS. Constructors validate, so a
//! value of these types is always well-formed (an id is never empty, a
//! currency is always an ISO 4217 code, money is never a float).

mod change;
mod ids;
mod money;

pub use change::LastChange;
pub use ids::{IdError, ItemId, ObservationId, SeriesId, SourceId, USER_PAGE_PREFIX, slug};
pub use money::{Currency, CurrencyError, Money};

pub mod stats;
pub mod user;

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

/// Whether the source offered the item when it was observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    /// The source says nothing either way (most channel posts).
    #[default]
    Unknown,
    InStock,
    OutOfStock,
}

impl Availability {
    pub fn as_str(&self) -> &'static str {
        match self {
            Availability::Unknown => "unknown",
            Availability::InStock => "in_stock",
            Availability::OutOfStock => "out_of_stock",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "unknown" => Some(Availability::Unknown),
            "in_stock" => Some(Availability::InStock),
            "out_of_stock" => Some(Availability::OutOfStock),
            _ => None,
        }
    }
}

/// What a page says about an item besides its price; all optional.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ItemDetails {
    /// The item's own page (a listing, a product page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
}

impl ItemDetails {
    pub fn is_empty(&self) -> bool {
        self.url.is_none() && self.image.is_none() && self.brand.is_none()
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
    /// None when the source shows no price (an out-of-stock product page):
    /// never a price borrowed from elsewhere, never zero.
    pub price: Option<Money>,
    #[serde(default)]
    pub availability: Availability,
    #[serde(default, skip_serializing_if = "ItemDetails::is_empty")]
    pub details: ItemDetails,
    /// When the source published the price (the post date), or when the page was fetched.
    pub observed_at: DateTime<Utc>,
    pub provenance: Provenance,
}

impl Observation {
    /// Builds a priced observation whose id is derived from the item and the
    /// provenance; availability unknown, no details (see the `with_` methods).
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
            price: Some(price),
            availability: Availability::Unknown,
            details: ItemDetails::default(),
            observed_at,
            provenance,
        }
    }

    /// The same observation without a price (the id does not depend on it).
    pub fn without_price(mut self) -> Self {
        self.price = None;
        self
    }

    pub fn with_availability(mut self, availability: Availability) -> Self {
        self.availability = availability;
        self
    }

    pub fn with_details(mut self, details: ItemDetails) -> Self {
        self.details = details;
        self
    }

    /// The link a person can open: the item's own page if known, else its provenance.
    pub fn link(&self, telegram_base: &str) -> String {
        self.details
            .url
            .clone()
            .unwrap_or_else(|| self.provenance.link(telegram_base))
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
    pub price: Option<Money>,
    #[serde(default)]
    pub availability: Availability,
    #[serde(default, skip_serializing_if = "ItemDetails::is_empty")]
    pub details: ItemDetails,
    pub observed_at: DateTime<Utc>,
    pub observation_id: ObservationId,
    pub provenance: Provenance,
    /// The item's last price change, kept by the stores (see
    /// [`LastChange::after`]); None until its price first moves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<LastChange>,
}

impl LatestPrice {
    /// The last change in percent against the current price.
    pub fn change_percent(&self) -> Option<rust_decimal::Decimal> {
        self.change.as_ref()?.percent(self.price.as_ref()?)
    }

    /// True when `self` comes after `other` in the store's total order
    /// (time, then observation id).
    pub fn is_newer_than(&self, other: &LatestPrice) -> bool {
        (self.observed_at, &self.observation_id) > (other.observed_at, &other.observation_id)
    }

    /// The link a person can open: the item's own page if known, else its provenance.
    pub fn link(&self, telegram_base: &str) -> String {
        self.details
            .url
            .clone()
            .unwrap_or_else(|| self.provenance.link(telegram_base))
    }
}

impl From<&Observation> for LatestPrice {
    fn from(o: &Observation) -> Self {
        LatestPrice {
            item_id: o.item_id.clone(),
            source_id: o.source_id.clone(),
            name: o.item_name.clone(),
            series: o.series.clone(),
            price: o.price.clone(),
            availability: o.availability,
            details: o.details.clone(),
            observed_at: o.observed_at,
            observation_id: o.id.clone(),
            provenance: o.provenance.clone(),
            change: None,
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

/// The outcome of one scrape of one source, recorded for source health.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRun {
    pub source_id: SourceId,
    pub at: DateTime<Utc>,
    /// Ok(items seen) or Err(what went wrong).
    pub outcome: Result<u32, String>,
}

/// How a source has been doing: what `GET /api/sources` shows so a broken
/// selector or a blocked site is noticed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SourceHealth {
    pub source_id: SourceId,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_error_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// Failures since the last success.
    pub consecutive_failures: u32,
    /// Items seen by the last successful run.
    pub items_seen: u32,
    pub runs: u64,
}

/// A series and how many items belong to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeriesSummary {
    pub series: SeriesId,
    pub items: u64,
}
