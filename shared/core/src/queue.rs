//! The queue port: scrape → ingest. In AWS it is SQS (the `aws` crate); in
//! `serve` an in-process channel (the app's memory queue).
//!
//! Messages are JSON ([`QueueMessage`]), one observation each, so a malformed
//! or poison message fails alone and ends in the dead-letter queue.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::domain::Observation;

/// The body of one queue message. Tagged, so new kinds can be added without
/// breaking consumers that are still running the old code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum QueueMessage {
    Observation(Observation),
}

impl QueueMessage {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("queue messages always serialise")
    }

    /// Parses a message body; the error says what was wrong with it.
    pub fn from_json(body: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(body)
    }

    /// A stable key for logs and deduplication.
    pub fn id(&self) -> &str {
        match self {
            QueueMessage::Observation(o) => o.id.as_str(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("queue backend error: {0}")]
    Backend(String),
    /// Some messages could not be sent even after retries. None were dropped
    /// silently: the caller gets their ids and must not advance checkpoints.
    #[error("{} message(s) not sent: {reason}", failed.len())]
    Partial { failed: Vec<String>, reason: String },
    #[error("the queue is closed (shutting down)")]
    Closed,
    #[error("message {id} is {size} bytes, over the queue's limit of {limit}")]
    TooLarge {
        id: String,
        size: usize,
        limit: usize,
    },
}

#[async_trait]
pub trait Queue: Send + Sync + 'static {
    /// Sends every message or returns an error naming those that were not sent.
    async fn send(&self, messages: &[QueueMessage]) -> Result<(), QueueError>;
}
