//! The store port: everything pricehound keeps. Two adapters implement it,
//! the SQLite store (the embedded default) and the DynamoDB store (the `aws`
//! crate); both pass the same conformance suite in `tests/`. The rules both
//! share are stated once: cursors, page sizes and sortable times here, the
//! user store's lifetimes, counters, usage windows and stored kinds in
//! [`rules`].
//!
//! Every write is idempotent: recording an observation twice leaves one, and
//! an item's latest price only moves forward in time (by observed time, then
//! by observation id, so redelivery order never matters).

use async_trait::async_trait;
use base64::Engine;
use chrono::{DateTime, Utc};

use crate::domain::user::{
    Alert, AlertId, AlertTarget, Contact, Lang, TrackedPage, UsageEvent, UsageStats, User, UserId,
    Watch,
};
use crate::domain::{
    Checkpoint, ItemId, LatestPrice, Observation, SeriesId, SeriesSummary, SourceHealth, SourceId,
    SourceRun,
};

pub mod rules;

pub use rules::UPDATE_DEDUPE_TTL_HOURS;

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

/// What [`UserStore::track_page`] changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tracking {
    /// The page was not tracked by anyone before.
    pub page_added: bool,
    /// The user was not among the page's trackers before.
    pub user_added: bool,
}

/// What [`UserStore::untrack_page`] changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Untracking {
    /// The user was tracking the page.
    pub was_tracking: bool,
    /// Nobody tracks the page any more: it left the tracked set.
    pub page_removed: bool,
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

/// What the bot keeps about its users: the user records, watches, alerts,
/// the webhook's update dedupe, the per-user throttle, short-lived callback
/// payloads and usage events. Implemented by the same adapters as [`Store`]
/// and checked by the same conformance suite.
#[async_trait]
pub trait UserStore: Send + Sync + 'static {
    /// Marks `update_id` as taken; true the first time, false for a retry
    /// within [`UPDATE_DEDUPE_TTL_HOURS`]. One conditional write, so two
    /// concurrent deliveries of one update cannot both win.
    async fn claim_update(&self, update_id: i64, now: DateTime<Utc>) -> Result<bool, StoreError>;

    /// Creates the user on first contact (keeping the contact's referrer) or
    /// updates names, language code and last seen; clears `blocked`.
    /// Returns the stored user and whether this was the first contact.
    async fn touch_user(&self, contact: &Contact) -> Result<(User, bool), StoreError>;

    async fn user(&self, id: UserId) -> Result<Option<User>, StoreError>;

    /// Sets (or with None clears) the language the user picked.
    async fn set_language(&self, id: UserId, lang: Option<Lang>) -> Result<(), StoreError>;

    /// Marks the user as having blocked the bot and deactivates their
    /// alerts; returns how many alerts were deactivated.
    async fn mark_blocked(&self, id: UserId) -> Result<u32, StoreError>;

    /// Counts one request of `user` in the throttle window starting at
    /// `window_start` (see [`rules::window_start`]) and returns the count so
    /// far in that window. Windows expire on their own
    /// ([`rules::Counter::Throttle`]); the count is atomic across instances.
    async fn throttle_hit(
        &self,
        user: UserId,
        window_start: DateTime<Utc>,
    ) -> Result<u32, StoreError>;

    /// Counts one alert notification for `user` on the UTC day starting at
    /// `day_start` ([`rules::utc_day_start`]) and returns the day's count so
    /// far (atomic; days expire on their own, [`rules::Counter::AlertQuota`]).
    /// Drives the per-user daily cap.
    async fn alert_quota_hit(
        &self,
        user: UserId,
        day_start: DateTime<Utc>,
    ) -> Result<u32, StoreError>;

    /// Claims `user`'s one slot for a track job (a pressed "Track" whose
    /// page is being read) unless a claim made earlier is still live at
    /// `now`; true if this call claimed it. One conditional write, so of
    /// two concurrent presses only one wins. The claim lapses at `until`
    /// by itself ([`rules::lapsed`]), so a job that crashed never blocks the
    /// user for long.
    async fn claim_track_job(
        &self,
        user: UserId,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Frees `user`'s track job slot (the job ended); nothing if none is held.
    async fn release_track_job(&self, user: UserId) -> Result<(), StoreError>;
    /// Counts one track request of `user` on the UTC day starting at
    /// `day_start` and returns the day's count so far (atomic, as
    /// [`UserStore::alert_quota_hit`]; days expire on their own,
    /// [`rules::Counter::TrackQuota`]).
    async fn track_quota_hit(
        &self,
        user: UserId,
        day_start: DateTime<Utc>,
    ) -> Result<u32, StoreError>;

    /// Adds a watch; false if the user already watched the item.
    async fn add_watch(&self, watch: &Watch) -> Result<bool, StoreError>;
    /// Removes a watch; false if there was none.
    async fn remove_watch(&self, user: UserId, item: &ItemId) -> Result<bool, StoreError>;
    /// The user's watches, oldest first.
    async fn watches(&self, user: UserId) -> Result<Vec<Watch>, StoreError>;
    /// Removes every watch of the user; returns how many there were.
    async fn clear_watches(&self, user: UserId) -> Result<u32, StoreError>;

    /// Stores a new alert or replaces the one with the same id.
    async fn put_alert(&self, alert: &Alert) -> Result<(), StoreError>;
    /// The user's alerts (active or not), oldest first.
    async fn alerts(&self, user: UserId) -> Result<Vec<Alert>, StoreError>;
    /// The active alerts on any of these targets (an item, a series), for
    /// matching price changes: one indexed lookup per target, never a scan
    /// of all alerts. Order: by target as given, then by alert id.
    async fn active_alerts_for(&self, targets: &[AlertTarget]) -> Result<Vec<Alert>, StoreError>;
    /// Deletes the user's alert; false if the user has no alert with that id
    /// (another user's id deletes nothing).
    async fn delete_alert(&self, user: UserId, id: &AlertId) -> Result<bool, StoreError>;

    /// Keeps `value` under `key` until `expires_at`, for callback buttons
    /// whose payload (a long item id, a pasted URL) does not fit Telegram's
    /// 64 bytes. Putting the same key again replaces the value.
    async fn put_payload(
        &self,
        key: &str,
        value: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// The payload under `key`, if it has not expired by `now`.
    async fn payload(&self, key: &str, now: DateTime<Utc>) -> Result<Option<String>, StoreError>;

    /// `page.added_by` starts tracking a pasted page (at `page.added_at`).
    /// The page is added when new (the first add keeps its URL, name, adder
    /// and time); the user joins its trackers once. Idempotent: a second
    /// call for the same user and page changes nothing, so a re-pasted link
    /// is never counted twice.
    async fn track_page(&self, page: &TrackedPage) -> Result<Tracking, StoreError>;
    /// `user` stops tracking the page. A page nobody tracks any more is
    /// removed from the tracked set (it expires: the scraper stops reading
    /// it); its items and history stay.
    async fn untrack_page(&self, user: UserId, source: &SourceId)
    -> Result<Untracking, StoreError>;
    /// The pages `user` tracks, by source id: `added_by` is the user and
    /// `added_at` when they started tracking; URL and name are the page's.
    async fn tracked_pages_of(&self, user: UserId) -> Result<Vec<TrackedPage>, StoreError>;
    /// How many pages are tracked, by anyone (each page once).
    async fn tracked_page_count(&self) -> Result<u64, StoreError>;
    /// Every tracked page, by source id.
    async fn tracked_pages(&self) -> Result<Vec<TrackedPage>, StoreError>;

    async fn record_usage(&self, event: &UsageEvent) -> Result<(), StoreError>;

    /// Users, active users and usage in the windows up to `now` (see
    /// [`UsageStats`] and [`rules::UsageWindows`]).
    async fn usage_stats(&self, now: DateTime<Utc>) -> Result<UsageStats, StoreError>;
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
