//! A queue of messages due at a time, kept in the store: `serve`'s
//! notifications wait here (their put-backs after a 429 too), so a restart
//! or a crash loses none. A message handed out is leased, not removed: it
//! is due again when the lease ends unless it was removed (delivered) or
//! scheduled anew (put back) first, so a crash mid-send sends it again, and
//! the sender's sent-id check keeps that from reaching the user twice.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::store::StoreError;

/// A message waiting: its id (a notification's id) and its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delayed {
    pub id: String,
    pub body: String,
}

#[async_trait]
pub trait DelayedQueue: Send + Sync + 'static {
    /// Adds message `id`, due at `due`; an existing `id` is replaced.
    async fn schedule(&self, id: &str, body: &str, due: DateTime<Utc>) -> Result<(), StoreError>;
    /// The messages due at `now` (oldest due first, at most `limit`), each
    /// leased until `lease_until`.
    async fn lease_due(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Delayed>, StoreError>;
    /// Removes message `id` (delivered or given up); unknown ids are fine.
    async fn remove(&self, id: &str) -> Result<(), StoreError>;
}
