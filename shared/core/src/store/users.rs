//! The user store port: what the bot keeps about its users, split by what
//! its consumers need. [`UserStore`] is all of it (the bot holds one);
//! a consumer that needs only a part holds that narrow trait (the scraper
//! and the page tracker hold a [`TrackedPageStore`]). Every adapter
//! implements each narrow trait and gets [`UserStore`] for free.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;
use crate::domain::user::{
    Alert, AlertId, AlertTarget, Contact, Lang, TrackedPage, UsageEvent, UsageStats, User, UserId,
    Watch,
};
use crate::domain::{ItemId, SourceId};

/// What [`TrackedPageStore::track_page`] changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tracking {
    /// The page was not tracked by anyone before.
    pub page_added: bool,
    /// The user was not among the page's trackers before.
    pub user_added: bool,
}

/// What [`TrackedPageStore::untrack_page`] changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Untracking {
    /// The user was tracking the page.
    pub was_tracking: bool,
    /// Nobody tracks the page any more: it left the tracked set.
    pub page_removed: bool,
}

/// What the bot keeps about its users: the user records, watches, alerts,
/// tracked pages, the webhook's update dedupe, the per-user throttle,
/// short-lived callback payloads and usage events. Implemented by the same
/// adapters as [`Store`](super::Store) and checked by the same conformance
/// suite.
///
/// The union of the narrow traits, implemented for every type that
/// implements them all: adapters implement the narrow traits, consumers
/// that need most of them (the bot, the dispatcher, the alert notifier and
/// sender) hold an `Arc<dyn UserStore>`, which coerces to any narrow
/// `Arc<dyn …>` it contains.
pub trait UserStore:
    UserProfiles + Watches + AlertStore + TrackedPageStore + UpdateGuard + Payloads + UsageLog
{
}

impl<T> UserStore for T where
    T: UserProfiles
        + Watches
        + AlertStore
        + TrackedPageStore
        + UpdateGuard
        + Payloads
        + UsageLog
        + ?Sized
{
}

/// The user records: created and refreshed on every contact, read for
/// their language and profile, marked blocked. Used by the bot (every
/// update), the alert notifier (who to tell, in which language), and the
/// dispatcher and alert sender (a user who blocked the bot).
#[async_trait]
pub trait UserProfiles: Send + Sync + 'static {
    /// Creates the user on first contact (keeping the contact's referrer) or
    /// updates names, language code and last seen; clears `blocked`.
    /// Returns the stored user and whether this was the first contact.
    async fn touch_user(&self, contact: &Contact) -> Result<(User, bool), StoreError>;

    /// The user, if they ever contacted the bot.
    async fn user(&self, id: UserId) -> Result<Option<User>, StoreError>;

    /// Sets (or with None clears) the language the user picked.
    async fn set_language(&self, id: UserId, lang: Option<Lang>) -> Result<(), StoreError>;

    /// Marks the user as having blocked the bot and deactivates their
    /// alerts; returns how many alerts were deactivated.
    async fn mark_blocked(&self, id: UserId) -> Result<u32, StoreError>;
}

/// The items each user watches. Used by the bot (watch, unwatch, the
/// watch list, untracking a page).
#[async_trait]
pub trait Watches: Send + Sync + 'static {
    /// Adds a watch; false if the user already watched the item.
    async fn add_watch(&self, watch: &Watch) -> Result<bool, StoreError>;
    /// Removes a watch; false if there was none.
    async fn remove_watch(&self, user: UserId, item: &ItemId) -> Result<bool, StoreError>;
    /// The user's watches, oldest first.
    async fn watches(&self, user: UserId) -> Result<Vec<Watch>, StoreError>;
    /// Removes every watch of the user; returns how many there were.
    async fn clear_watches(&self, user: UserId) -> Result<u32, StoreError>;
    /// Marks a watch bought at `at`, or not bought (None); false if the
    /// user does not watch the item. Marking it again keeps the first time.
    async fn set_purchased(
        &self,
        user: UserId,
        item: &ItemId,
        at: Option<DateTime<Utc>>,
    ) -> Result<bool, StoreError>;
}

/// Price alerts and the per-user daily cap on their notifications. Used by
/// the bot (setting, listing, muting, deleting alerts) and the alert
/// notifier (matching price changes, counting the cap, re-arming).
#[async_trait]
pub trait AlertStore: Send + Sync + 'static {
    /// Stores a new alert or replaces the one with the same id.
    async fn put_alert(&self, alert: &Alert) -> Result<(), StoreError>;
    /// Stores `after` only if the stored alert is still exactly `before`
    /// (its rule, active, armed, reference and last firing): true if it
    /// was stored. The notifier's state changes go through this, so a
    /// delete, mute or edit made meanwhile is never overwritten (nor a
    /// deleted alert brought back); the record itself is the version.
    async fn update_alert(&self, before: &Alert, after: &Alert) -> Result<bool, StoreError>;
    /// The user's alerts (active or not), oldest first.
    async fn alerts(&self, user: UserId) -> Result<Vec<Alert>, StoreError>;
    /// The active alerts on any of these targets (an item, a series), for
    /// matching price changes: one indexed lookup per target, never a scan
    /// of all alerts. Order: by target as given, then by alert id.
    async fn active_alerts_for(&self, targets: &[AlertTarget]) -> Result<Vec<Alert>, StoreError>;
    /// Deletes the user's alert; false if the user has no alert with that id
    /// (another user's id deletes nothing).
    async fn delete_alert(&self, user: UserId, id: &AlertId) -> Result<bool, StoreError>;

    /// Counts one alert notification for `user` on the UTC day starting at
    /// `day_start` ([`rules::utc_day_start`](super::rules::utc_day_start))
    /// and returns the day's count so far (atomic; days expire on their own,
    /// [`rules::Counter::AlertQuota`](super::rules::Counter::AlertQuota)).
    /// Drives the per-user daily cap.
    async fn alert_quota_hit(
        &self,
        user: UserId,
        day_start: DateTime<Utc>,
    ) -> Result<u32, StoreError>;
    /// The day's count of [`AlertStore::alert_quota_hit`] without adding to
    /// it: the notifier checks the cap when it plans and the sender spends
    /// it when a message went out, so retries never spend it twice.
    async fn alert_quota_used(
        &self,
        user: UserId,
        day_start: DateTime<Utc>,
    ) -> Result<u32, StoreError>;
    /// Takes back one [`AlertStore::alert_quota_hit`] of the day (never
    /// below zero; nothing if the day has no count). The sender reserves a
    /// message's place in the cap before it sends, so concurrent sends for
    /// one user cannot pass the cap together, and gives the place back when
    /// nothing went out.
    async fn alert_quota_release(
        &self,
        user: UserId,
        day_start: DateTime<Utc>,
    ) -> Result<(), StoreError>;
}

/// The pages users pasted into the bot, who tracks them, and the limits on
/// reading new ones (one track job per user at a time, a daily count).
/// Used by the scraper (`scrape::TrackedPages`: which pages to read), the
/// page tracker (`sources::tracked::Tracker`: caps, adding a page) and the
/// bot (track jobs, listing and untracking pages).
#[async_trait]
pub trait TrackedPageStore: Send + Sync + 'static {
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

    /// Claims `user`'s one slot for a track job (a pressed "Track" whose
    /// page is being read) unless a claim made earlier is still live at
    /// `now`; true if this call claimed it. One conditional write, so of
    /// two concurrent presses only one wins. The claim lapses at `until`
    /// by itself ([`rules::lapsed`](super::rules::lapsed)), so a job that
    /// crashed never blocks the user for long.
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
    /// [`AlertStore::alert_quota_hit`]; days expire on their own,
    /// [`rules::Counter::TrackQuota`](super::rules::Counter::TrackQuota)).
    async fn track_quota_hit(
        &self,
        user: UserId,
        day_start: DateTime<Utc>,
    ) -> Result<u32, StoreError>;
}

/// The gate every incoming update passes: the webhook's dedupe of
/// Telegram's retries and the per-user throttle. Used by the dispatcher
/// (dedupe) and the bot (throttle).
#[async_trait]
pub trait UpdateGuard: Send + Sync + 'static {
    /// Marks `update_id` as taken; true the first time, false for a retry
    /// within [`UPDATE_DEDUPE_TTL_HOURS`](super::UPDATE_DEDUPE_TTL_HOURS).
    /// One conditional write, so two concurrent deliveries of one update
    /// cannot both win.
    async fn claim_update(&self, update_id: i64, now: DateTime<Utc>) -> Result<bool, StoreError>;

    /// Counts one request of `user` in the throttle window starting at
    /// `window_start` (see [`rules::window_start`](super::rules::window_start))
    /// and returns the count so far in that window. Windows expire on their
    /// own ([`rules::Counter::Throttle`](super::rules::Counter::Throttle));
    /// the count is atomic across instances.
    async fn throttle_hit(
        &self,
        user: UserId,
        window_start: DateTime<Utc>,
    ) -> Result<u32, StoreError>;
}

/// Short-lived values under a key: callback data too long for a button
/// (`telegram::bot::button_data`, used by the bot and the alert notifier)
/// and the alert sender's record of notifications already sent.
#[async_trait]
pub trait Payloads: Send + Sync + 'static {
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
    /// Puts `value` under `key` until `expires_at` only if the key holds no
    /// payload live at `now` ([`rules::lapsed`](super::rules::lapsed));
    /// true if this call put it. One conditional write, so of two concurrent
    /// claims one wins: the alert sender claims a notification before it
    /// sends, so two deliveries of one message never both go out.
    async fn claim_payload(
        &self,
        key: &str,
        value: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
}

/// Usage events and the statistics over them. Used by the bot (recording
/// commands, the operator's stats command) and the alert sender (recording
/// alerts sent).
#[async_trait]
pub trait UsageLog: Send + Sync + 'static {
    /// Records one usage event (a command, an alert sent).
    async fn record_usage(&self, event: &UsageEvent) -> Result<(), StoreError>;

    /// Users, active users and usage in the windows up to `now` (see
    /// [`UsageStats`] and [`rules::UsageWindows`](super::rules::UsageWindows)).
    async fn usage_stats(&self, now: DateTime<Utc>) -> Result<UsageStats, StoreError>;
}
