//! The tracking port: pages users paste into the bot, read and then
//! scraped with the product pages. The bot decides when to ask; the
//! sources crate implements the reading (`sources::tracked::Tracker`).

use async_trait::async_trait;

use crate::domain::user::UserId;

/// Caps on the pages users make us fetch again and again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrackLimits {
    /// Pages one user may track (`PRICEHOUND_TRACK_PER_USER`).
    pub per_user: u32,
    /// Pages tracked by all users together (`PRICEHOUND_TRACK_GLOBAL`).
    pub global: u32,
}

impl Default for TrackLimits {
    fn default() -> Self {
        TrackLimits {
            per_user: 20,
            global: 2_000,
        }
    }
}

/// Why a pasted page is not tracked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrackRefused {
    /// The user tracks `limit` pages already.
    UserCap { limit: u32 },
    /// As many pages are tracked as the operator allows.
    GlobalCap,
    /// The page could not be read, or has no price. Deliberately one case
    /// for every reason: the user must not learn what the fetch met.
    Unreadable,
    /// Our store failed (logged); the user may try again.
    StoreFailed,
}

/// Reads a product page a user pasted and starts tracking it, within the
/// caps. Implemented over the fetcher (see `sources::tracked`).
#[async_trait]
pub trait PageTracker: Send + Sync {
    /// Whether `by` may start tracking `url` now (caps; already tracking
    /// it is fine). Cheap: store reads only, no fetch.
    async fn admit(
        &self,
        url: &url::Url,
        by: UserId,
        limits: TrackLimits,
    ) -> Result<(), TrackRefused>;
    /// Checks [`PageTracker::admit`] again, reads the page, records its
    /// price and makes `by` one of its trackers; returns the item it became.
    async fn track(
        &self,
        url: &url::Url,
        by: UserId,
        limits: TrackLimits,
    ) -> Result<crate::domain::LatestPrice, TrackRefused>;
}
