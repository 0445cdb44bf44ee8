//! The in-process bus for `serve` and tests: a broadcast channel, so the
//! notifier and anything else can subscribe.

use async_trait::async_trait;
use tokio::sync::broadcast;

use super::{Bus, BusError, DomainEvent};

#[derive(Clone)]
pub struct MemoryBus {
    tx: broadcast::Sender<DomainEvent>,
}

impl MemoryBus {
    pub fn new(capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(capacity);
        MemoryBus { tx }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<DomainEvent> {
        self.tx.subscribe()
    }
}

impl Default for MemoryBus {
    fn default() -> Self {
        // Room for a burst of changes while the notifier is busy sending.
        Self::new(65_536)
    }
}

#[async_trait]
impl Bus for MemoryBus {
    async fn publish(&self, events: &[DomainEvent]) -> Result<(), BusError> {
        for e in events {
            // No subscriber is not an error: nobody is listening yet.
            let _ = self.tx.send(e.clone());
        }
        Ok(())
    }
}
