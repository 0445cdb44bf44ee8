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
        // Nobody listening (the notifier has not started, or has stopped at
        // shutdown) is an error: the relay then leaves the events in the
        // store's outbox for a later drain instead of dropping them.
        if self.tx.receiver_count() == 0 {
            return Err(BusError::Backend(
                "no subscriber on the in-process bus yet; the events wait".into(),
            ));
        }
        for e in events {
            // Fails only if every receiver went away since the check; the
            // events already sent reached them.
            if self.tx.send(e.clone()).is_err() {
                return Err(BusError::Backend("the last subscriber went away".into()));
            }
        }
        Ok(())
    }
}
