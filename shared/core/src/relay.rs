//! The relay: price events the store kept with the write that raised them
//! (its outbox) go to the bus, and only then are marked published.
//!
//! This is how `serve` makes sure an event cannot be lost: the SQLite store
//! writes the event in the same transaction as the observation, so a crash
//! or a bus failure after the write leaves the event in the outbox, and the
//! next drain (after the next ingest, on a timer, and at start) publishes
//! it. In AWS the DynamoDB stream plays the outbox's part and the `events`
//! function the relay's.
//!
//! Exactly once, not at least once: when the bus took a batch but marking
//! it failed, the relay remembers what it published and the next drain
//! only marks it. Only a crash between the two publishes a batch again,
//! and the alert rules are idempotent on a repeated event (an alert that
//! fired is disarmed, or waits out its cooldown).

use async_trait::async_trait;
use futures::lock::Mutex;
use std::sync::Arc;

use crate::bus::{Bus, BusError, DomainEvent};
use crate::store::StoreError;

/// An event waiting in the outbox, with its place in the outbox's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEvent {
    pub seq: u64,
    pub event: DomainEvent,
}

/// The outbox port: events a store recorded with the writes that raised
/// them, in the order it recorded them.
#[async_trait]
pub trait EventOutbox: Send + Sync + 'static {
    /// The oldest events not yet published, at most `limit`.
    async fn pending_events(&self, limit: usize) -> Result<Vec<PendingEvent>, StoreError>;

    /// Marks events published; unknown or already marked sequence numbers
    /// are ignored.
    async fn mark_published(&self, seqs: &[u64]) -> Result<(), StoreError>;
}

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("reading or marking the outbox failed: {0}")]
    Store(#[from] StoreError),
    #[error("publishing failed; the events stay in the outbox for the next drain: {0}")]
    Bus(#[from] BusError),
}

/// How many events one bus call carries.
pub const RELAY_BATCH: usize = 50;

pub struct Relay {
    outbox: Arc<dyn EventOutbox>,
    bus: Arc<dyn Bus>,
    /// Sequence numbers the bus took but the outbox did not mark yet.
    /// Also the drain lock: one drain at a time, so two cannot publish
    /// the same batch.
    published: Mutex<Vec<u64>>,
}

impl Relay {
    pub fn new(outbox: Arc<dyn EventOutbox>, bus: Arc<dyn Bus>) -> Self {
        Relay {
            outbox,
            bus,
            published: Mutex::new(Vec::new()),
        }
    }

    /// Publishes everything in the outbox, oldest first, and returns how
    /// many events were published. Stops at the first failure; what is
    /// left stays for the next drain.
    pub async fn drain(&self) -> Result<usize, RelayError> {
        let mut published = self.published.lock().await;
        if !published.is_empty() {
            self.outbox.mark_published(&published).await?;
            published.clear();
        }
        let mut count = 0;
        loop {
            let batch = self.outbox.pending_events(RELAY_BATCH).await?;
            if batch.is_empty() {
                return Ok(count);
            }
            let seqs: Vec<u64> = batch.iter().map(|p| p.seq).collect();
            let events: Vec<DomainEvent> = batch.into_iter().map(|p| p.event).collect();
            self.bus.publish(&events).await?;
            metrics::counter!(crate::metric::EVENTS_PUBLISHED).increment(events.len() as u64);
            count += events.len();
            *published = seqs;
            self.outbox.mark_published(&published).await?;
            published.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::PriceChanged;
    use std::sync::Mutex as StdMutex;

    /// An outbox in memory whose marking fails while `fail_marks` > 0.
    #[derive(Default)]
    struct MemoryOutbox {
        events: StdMutex<Vec<(u64, DomainEvent, bool)>>,
        fail_marks: StdMutex<u32>,
    }

    #[async_trait]
    impl EventOutbox for MemoryOutbox {
        async fn pending_events(&self, limit: usize) -> Result<Vec<PendingEvent>, StoreError> {
            let events = self.events.lock().unwrap();
            Ok(events
                .iter()
                .filter(|(_, _, done)| !done)
                .take(limit)
                .map(|(seq, event, _)| PendingEvent {
                    seq: *seq,
                    event: event.clone(),
                })
                .collect())
        }

        async fn mark_published(&self, seqs: &[u64]) -> Result<(), StoreError> {
            let mut fail = self.fail_marks.lock().unwrap();
            if *fail > 0 {
                *fail -= 1;
                return Err(StoreError::Backend("injected: database is locked".into()));
            }
            for (seq, _, done) in self.events.lock().unwrap().iter_mut() {
                if seqs.contains(seq) {
                    *done = true;
                }
            }
            Ok(())
        }
    }

    /// A bus that records what it took and fails while `fail` > 0.
    #[derive(Default)]
    struct RecordingBus {
        taken: StdMutex<Vec<DomainEvent>>,
        fail: StdMutex<u32>,
    }

    #[async_trait]
    impl Bus for RecordingBus {
        async fn publish(&self, events: &[DomainEvent]) -> Result<(), BusError> {
            let mut fail = self.fail.lock().unwrap();
            if *fail > 0 {
                *fail -= 1;
                return Err(BusError::Backend("injected: connection reset".into()));
            }
            self.taken.lock().unwrap().extend_from_slice(events);
            Ok(())
        }
    }

    fn event(n: u64) -> DomainEvent {
        let item = crate::domain::ItemId::new(format!("shop:item-{n}")).unwrap();
        DomainEvent::PriceChanged(PriceChanged {
            source_id: item.source_id(),
            item_name: format!("item {n}"),
            series: None,
            new_item: true,
            old_price: None,
            new_price: None,
            old_availability: None,
            availability: crate::domain::Availability::Unknown,
            percent_change: None,
            observation_id: crate::domain::ObservationId::derive(
                &item,
                &crate::domain::Provenance::TelegramPost {
                    channel: "c".into(),
                    post_id: n,
                },
            ),
            observed_at: chrono::DateTime::UNIX_EPOCH,
            link: String::new(),
            item_id: item,
        })
    }

    fn outbox_with(n: u64) -> Arc<MemoryOutbox> {
        let outbox = MemoryOutbox::default();
        *outbox.events.lock().unwrap() = (1..=n).map(|i| (i, event(i), false)).collect();
        Arc::new(outbox)
    }

    #[tokio::test]
    async fn a_failed_publish_leaves_the_events_for_the_next_drain() {
        let outbox = outbox_with(3);
        let bus = Arc::new(RecordingBus::default());
        *bus.fail.lock().unwrap() = 2;
        let relay = Relay::new(outbox.clone(), bus.clone());
        for _ in 0..2 {
            assert!(matches!(relay.drain().await, Err(RelayError::Bus(_))));
        }
        assert!(bus.taken.lock().unwrap().is_empty());
        assert_eq!(relay.drain().await.unwrap(), 3);
        assert_eq!(relay.drain().await.unwrap(), 0);
        let taken = bus.taken.lock().unwrap();
        assert_eq!(
            *taken,
            (1..=3).map(event).collect::<Vec<_>>(),
            "once each, in order"
        );
    }

    #[tokio::test]
    async fn a_failed_mark_after_a_publish_does_not_publish_again() {
        let outbox = outbox_with(RELAY_BATCH as u64 + 5);
        let bus = Arc::new(RecordingBus::default());
        *outbox.fail_marks.lock().unwrap() = 2;
        let relay = Relay::new(outbox.clone(), bus.clone());
        // The first batch is published, its mark fails; the retry of the
        // mark fails too; then it is marked without a second publish.
        assert!(matches!(relay.drain().await, Err(RelayError::Store(_))));
        assert!(matches!(relay.drain().await, Err(RelayError::Store(_))));
        assert_eq!(relay.drain().await.unwrap(), 5);
        let taken = bus.taken.lock().unwrap();
        let expected: Vec<_> = (1..=RELAY_BATCH as u64 + 5).map(event).collect();
        assert_eq!(*taken, expected, "every event exactly once, in order");
        assert!(
            outbox
                .events
                .lock()
                .unwrap()
                .iter()
                .all(|(_, _, done)| *done)
        );
    }
}
