//! The store port: everything pricehound keeps. Two adapters implement it,
//! the SQLite store (the embedded default) and the DynamoDB store (the `aws`
//! crate); both pass the same conformance suite in `tests/`. The rules both
//! share are stated once: cursors, page sizes and sortable times here, the
//! user store's lifetimes, counters, usage windows and stored kinds in
//! [`rules`].
//!
//! The user store is split by what its consumers need: [`UserProfiles`],
//! [`Watches`], [`AlertStore`], [`TrackedPageStore`], [`UpdateGuard`],
//! [`Payloads`] and [`UsageLog`]; [`UserStore`] is all of them together.
//!
//! Every write is idempotent: recording an observation twice leaves one, and
//! an item's latest price only moves forward in time (by observed time, then
//! by observation id, so redelivery order never matters).

use async_trait::async_trait;
use base64::Engine;
use chrono::{DateTime, Utc};

use crate::domain::{
    Checkpoint, ItemId, LatestPrice, Observation, SeriesId, SeriesSummary, SourceHealth, SourceId,
    SourceRun,
};

pub mod rules;
mod users;

pub use rules::UPDATE_DEDUPE_TTL_HOURS;
pub use users::{
    AlertStore, Payloads, TrackedPageStore, Tracking, Untracking, UpdateGuard, UsageLog,
    UserProfiles, UserStore, Watches,
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend failed (I/O, network, throttling). Retrying may help.
    #[error("store backend error: {0}")]
    Backend(String),
    /// A stored record could not be read back: a bug or a hand-edited row.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A cursor that this store did not hand out.
    #[error("invalid cursor: pass back the `next_cursor` of the previous page unchanged")]
    BadCursor,
}

/// What recording an observation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// False when the observation was already stored (a redelivery).
    pub inserted: bool,
    /// The item's latest price before this write, if it had one.
    pub previous: Option<LatestPrice>,
    /// True when this observation became the item's latest price.
    pub became_latest: bool,
}

/// An opaque pagination cursor (URL-safe base64 of an adapter-specific key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(String);

impl Cursor {
    pub fn encode(raw: &str) -> Self {
        Cursor(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw))
    }
    pub fn from_param(param: &str) -> Self {
        Cursor(param.to_string())
    }
    pub fn decode(&self) -> Result<String, StoreError> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&self.0)
            .map_err(|_| StoreError::BadCursor)?;
        String::from_utf8(bytes).map_err(|_| StoreError::BadCursor)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One page of results and the cursor for the next, if there is more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<Cursor>,
}

/// The most observations a series statistic reads.
pub const SERIES_SCAN_LIMIT: u32 = 20_000;

/// The most a single page may hold.
pub const MAX_PAGE: u32 = 1000;

/// The first source id after every user page's (see
/// [`LatestQuery::hide_user_pages`]): the prefix with its last character,
/// '-', replaced by the next one, '.'.
pub const USER_PAGES_END: &str = "page.";
const _: () = assert!(
    crate::domain::USER_PAGE_PREFIX.len() == USER_PAGES_END.len()
        && crate::domain::USER_PAGE_PREFIX.as_bytes()[4] == b'-'
        && USER_PAGES_END.as_bytes()[4] == b'.'
);

#[derive(Debug, Clone, Default)]
pub struct LatestQuery {
    pub source: Option<SourceId>,
    pub limit: u32,
    pub cursor: Option<Cursor>,
    /// Leave out items of pages users pasted (source ids starting with
    /// [`crate::domain::USER_PAGE_PREFIX`]). Done by the store, so a page's
    /// cursor never names a hidden item.
    pub hide_user_pages: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    #[default]
    Ascending,
    Descending,
}

#[derive(Debug, Clone, Default)]
pub struct HistoryQuery {
    /// Inclusive lower bound on observed time.
    pub from: Option<DateTime<Utc>>,
    /// Exclusive upper bound on observed time.
    pub to: Option<DateTime<Utc>>,
    pub limit: u32,
    pub order: Order,
    pub cursor: Option<Cursor>,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// A short name for logs and `/api/health`: "sqlite" or "dynamodb".
    fn backend(&self) -> &'static str;

    /// A number that changes whenever anything stored changes, whoever wrote
    /// it (this process or another on the same database), read without a
    /// round trip; `None` when the store cannot tell cheaply. While it stays
    /// the same, an answer computed from the store is still right, so `serve`
    /// keeps whole answers of its public reads (`http::cache`). DynamoDB has
    /// no such number: the Lambda recomputes every read.
    fn data_version(&self) -> Option<u64> {
        None
    }

    /// Stores an observation in the item's history (once) and moves the
    /// item's latest price forward if it is newer.
    async fn record(&self, obs: &Observation) -> Result<Recorded, StoreError>;

    /// Latest price per item, ordered by source then item id.
    async fn latest_prices(&self, query: &LatestQuery) -> Result<Page<LatestPrice>, StoreError>;

    async fn latest_price(&self, item: &ItemId) -> Result<Option<LatestPrice>, StoreError>;

    /// An item's observations in a time range, ordered by time then id.
    async fn history(
        &self,
        item: &ItemId,
        query: &HistoryQuery,
    ) -> Result<Page<Observation>, StoreError>;

    async fn checkpoint(&self, source: &SourceId) -> Result<Option<Checkpoint>, StoreError>;

    /// Moves a source's checkpoint forward; an older checkpoint is ignored.
    async fn advance_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), StoreError>;

    /// A series' observations in `[from, to)`, newest first, at most
    /// [`SERIES_SCAN_LIMIT`] of them (statistics need a window, not all history).
    async fn series_observations(
        &self,
        series: &SeriesId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Observation>, StoreError>;

    /// Every series with at least one item, by id, with its item count.
    async fn list_series(&self) -> Result<Vec<SeriesSummary>, StoreError>;

    /// Updates a source's health with the outcome of one run.
    async fn record_source_run(&self, run: &SourceRun) -> Result<(), StoreError>;

    async fn source_health(&self, source: &SourceId) -> Result<Option<SourceHealth>, StoreError>;

    /// A cheap round trip, for health checks.
    async fn ping(&self) -> Result<(), StoreError>;
}

/// Clamps a requested page size into 1..=MAX_PAGE (0 means the default 100).
pub fn page_size(limit: u32) -> u32 {
    match limit {
        0 => 100,
        n => n.min(MAX_PAGE),
    }
}

/// Fixed-width UTC timestamp that sorts as text in time order.
pub fn sortable_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

pub fn parse_sortable_time(s: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| StoreError::Corrupt(format!("bad timestamp {s:?}")))
}
