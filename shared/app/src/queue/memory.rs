//! The in-process queue for `pricehound serve`: an unbounded channel whose
//! receiver is drained by the ingest worker. On shutdown the sender side is
//! dropped and the worker drains what is left, so nothing queued is lost.

use async_trait::async_trait;
use tokio::sync::mpsc;

use super::{Queue, QueueError, QueueMessage};

#[derive(Clone)]
pub struct MemoryQueue {
    tx: mpsc::UnboundedSender<QueueMessage>,
}

impl MemoryQueue {
    pub fn new() -> (Self, mpsc::UnboundedReceiver<QueueMessage>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (MemoryQueue { tx }, rx)
    }
}

#[async_trait]
impl Queue for MemoryQueue {
    async fn send(&self, messages: &[QueueMessage]) -> Result<(), QueueError> {
        for m in messages {
            self.tx.send(m.clone()).map_err(|_| QueueError::Closed)?;
        }
        Ok(())
    }
}
