//! The event bus port: domain events ([`crate::events`]) leave ingest
//! here. In AWS it is EventBridge (the `aws` crate); in `serve` a broadcast
//! channel (the app's memory bus).

use async_trait::async_trait;

pub use crate::events::{DomainEvent, EVENT_SOURCE, PriceChanged};

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("event bus error: {0}")]
    Backend(String),
    /// Some events were not accepted even after retries.
    #[error("{count} event(s) not published: {reason}")]
    Partial { count: usize, reason: String },
}

#[async_trait]
pub trait Bus: Send + Sync + 'static {
    /// Publishes every event or says how many were not published.
    async fn publish(&self, events: &[DomainEvent]) -> Result<(), BusError>;
}
