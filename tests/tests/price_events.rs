//! Price events cannot be lost, and arrive once: the event is derived from
//! what the store wrote and kept with it (SQLite's outbox in `serve`, the
//! table's stream in AWS), and faults injected through the ports between
//! the write and the bus only delay it.

use async_trait::async_trait;
use aws_lambda_events::event::dynamodb::Event as DynamoDbEvent;
use aws_sdk_dynamodb::types::AttributeValue;
use pricehound::bus::{Bus, BusError, DomainEvent};
use pricehound::domain::ItemId;
use pricehound::ingest::{Ingested, Ingestor};
use pricehound::lambda::publish_changes;
use pricehound::queue::QueueMessage;
use pricehound::relay::{EventOutbox, Relay, RelayError};
use pricehound::store::Store;
use pricehound::store::dynamo::DynamoStore;
use pricehound::store::sqlite::SqliteStore;
use pricehound_tests::conformance::{at, obs};
use pricehound_tests::services::{dynamodb_client, unique_name};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// A bus that fails its first `fail` calls, then records what it takes.
#[derive(Default)]
struct FlakyBus {
    fail: Mutex<u32>,
    calls: Mutex<u32>,
    taken: Mutex<Vec<DomainEvent>>,
}

impl FlakyBus {
    fn failing(fail: u32) -> Arc<Self> {
        Arc::new(FlakyBus {
            fail: Mutex::new(fail),
            ..FlakyBus::default()
        })
    }

    fn taken(&self) -> Vec<DomainEvent> {
        self.taken.lock().unwrap().clone()
    }
}

#[async_trait]
impl Bus for FlakyBus {
    async fn publish(&self, events: &[DomainEvent]) -> Result<(), BusError> {
        *self.calls.lock().unwrap() += 1;
        let mut fail = self.fail.lock().unwrap();
        if *fail > 0 {
            *fail -= 1;
            return Err(BusError::Backend("injected: connection reset".into()));
        }
        self.taken.lock().unwrap().extend_from_slice(events);
        Ok(())
    }
}

fn db_path() -> PathBuf {
    let dir = std::env::temp_dir().join(unique_name("pricehound-events"));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("pricehound.db")
}

fn prices(events: &[DomainEvent]) -> Vec<(String, Option<String>, Option<String>)> {
    events
        .iter()
        .map(|DomainEvent::PriceChanged(c)| {
            (
                c.item_id.to_string(),
                c.old_price.as_ref().map(|m| m.amount.to_string()),
                c.new_price.as_ref().map(|m| m.amount.to_string()),
            )
        })
        .collect()
}

/// The bus is down when the price changes and the process dies before it
/// comes back: after a restart on the same file the relay publishes each
/// event once, in order; a redelivered message adds none.
#[tokio::test]
async fn a_failed_publish_and_a_crash_lose_no_event_and_repeat_none() {
    let path = db_path();
    let first = obs("shop:gold", "Gold", at(0), "100", 1);
    let second = obs("shop:gold", "Gold", at(10), "90", 2);
    let same_again = obs("shop:gold", "Gold", at(20), "90", 3);
    let down = FlakyBus::failing(u32::MAX);
    {
        let store = Arc::new(SqliteStore::open(&path).unwrap());
        let ingestor = Ingestor::new(store.clone());
        let relay = Relay::new(store.clone(), down.clone());
        for o in [&first, &second, &same_again] {
            ingestor
                .ingest(&QueueMessage::Observation(o.clone()))
                .await
                .unwrap();
            assert!(matches!(relay.drain().await, Err(RelayError::Bus(_))));
        }
        // SQS redelivers the second message (its ack was lost).
        let again = ingestor
            .ingest(&QueueMessage::Observation(second.clone()))
            .await
            .unwrap();
        assert_eq!(again, Ingested::Duplicate);
        assert_eq!(store.pending_events(100).await.unwrap().len(), 2);
        // The process dies here: nothing is closed or flushed by hand.
    }
    assert!(down.taken().is_empty());
    assert_eq!(*down.calls.lock().unwrap(), 3, "one attempt per drain");

    let store = Arc::new(SqliteStore::open(&path).unwrap());
    let up = FlakyBus::failing(0);
    let relay = Relay::new(store.clone(), up.clone());
    assert_eq!(relay.drain().await.unwrap(), 2);
    assert_eq!(relay.drain().await.unwrap(), 0);
    assert_eq!(
        prices(&up.taken()),
        vec![
            ("shop:gold".to_string(), None, Some("100".to_string())),
            (
                "shop:gold".to_string(),
                Some("100".to_string()),
                Some("90".to_string())
            ),
        ],
        "the new item and the change, once each; the repeated price raised nothing"
    );
    assert!(store.pending_events(100).await.unwrap().is_empty());
}

/// Many changes under a bus that fails every other call: every event
/// arrives exactly once and in the order of the writes.
#[tokio::test]
async fn an_intermittent_bus_delivers_every_event_exactly_once() {
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    let ingestor = Ingestor::new(store.clone());
    let bus = Arc::new(FlakyBus::default());
    let relay = Relay::new(store.clone(), bus.clone());
    let mut expected = Vec::new();
    let mut faults = 0;
    for i in 0..120u64 {
        let o = obs(
            "shop:gpu",
            "GPU",
            at(i as i64),
            &(500 + i).to_string(),
            i + 1,
        );
        ingestor
            .ingest(&QueueMessage::Observation(o))
            .await
            .unwrap();
        expected.push((500 + i).to_string());
        if i % 2 == 0 {
            *bus.fail.lock().unwrap() = 1;
            assert!(relay.drain().await.is_err());
            faults += 1;
        } else {
            relay.drain().await.unwrap();
        }
    }
    relay.drain().await.unwrap();
    let got: Vec<String> = prices(&bus.taken())
        .into_iter()
        .map(|(_, _, new)| new.unwrap())
        .collect();
    assert_eq!(faults, 60);
    assert_eq!(
        got, expected,
        "each change once, in order, after 60 injected faults"
    );
}

fn stream_sample() -> DynamoDbEvent {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../events/events-stream-latest.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The events function with EventBridge failing: it reports the first
/// record not published, so Lambda retries from there, and the retry
/// publishes the event once.
#[tokio::test]
async fn the_events_function_reports_a_failed_publish_and_the_retry_delivers_once() {
    let bus = FlakyBus::failing(1);
    let resp = publish_changes(bus.as_ref(), stream_sample()).await;
    let failed: Vec<_> = resp
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(
        failed,
        vec![Some("111100000000000000000000001".to_string())]
    );
    assert!(bus.taken().is_empty());
    let resp = publish_changes(bus.as_ref(), stream_sample()).await;
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(
        prices(&bus.taken()),
        vec![(
            "tg-bijouterie-dz:or-18k-casse".to_string(),
            Some("13740".to_string()),
            Some("12900".to_string())
        )]
    );
}

/// A stream record whose image is not a valid LATEST record fails at its
/// own position (retries, then the DLQ) after the records before it are
/// published; a record of another kind is skipped.
#[tokio::test]
async fn a_corrupt_image_fails_at_its_position() {
    let mut event = stream_sample();
    let mut corrupt = event.records[1].clone();
    corrupt.change.sequence_number = Some("111100000000000000000000003".into());
    corrupt.change.new_image.insert(
        "amount".into(),
        serde_dynamo::AttributeValue::S("lots".into()),
    );
    let mut history = event.records[1].clone();
    history.change.sequence_number = Some("111100000000000000000000004".into());
    history.change.new_image.insert(
        "sk".into(),
        serde_dynamo::AttributeValue::S("OBS#2026".into()),
    );
    event.records.insert(1, history);
    event.records.insert(2, corrupt);
    let bus = FlakyBus::failing(0);
    let resp = publish_changes(bus.as_ref(), event).await;
    let failed: Vec<_> = resp
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(
        failed,
        vec![Some("111100000000000000000000003".to_string())]
    );
    assert_eq!(bus.taken().len(), 1, "the change before it was published");
}

/// The images the stream carries are the records DynamoStore wrote: read
/// back from dynalite before and after a change, they give the same event
/// the SQLite store keeps in its outbox for the same writes.
#[tokio::test]
async fn stream_images_of_real_records_give_the_same_event_as_sqlite() {
    let client = dynamodb_client().await;
    let table = unique_name("stream");
    DynamoStore::create_table(&client, &table).await.unwrap();
    let dynamo = DynamoStore::new(client.clone(), table.clone());
    let sqlite = SqliteStore::in_memory().unwrap();
    let first = obs("shop:gold", "Gold", at(0), "100", 1);
    let second = obs("shop:gold", "Gold", at(10), "92.50", 2);
    let item = ItemId::new("shop:gold").unwrap();
    let latest_record = || async {
        let out = client
            .get_item()
            .table_name(&table)
            .key("pk", AttributeValue::S(format!("ITEM#{item}")))
            .key("sk", AttributeValue::S("LATEST".into()))
            .consistent_read(true)
            .send()
            .await
            .unwrap();
        out.item.unwrap()
    };
    dynamo.record(&first).await.unwrap();
    sqlite.record(&first).await.unwrap();
    let old: HashMap<String, AttributeValue> = latest_record().await;
    dynamo.record(&second).await.unwrap();
    sqlite.record(&second).await.unwrap();
    let new: HashMap<String, AttributeValue> = latest_record().await;

    let record = serde_json::json!({
        "eventID": "1",
        "eventName": "MODIFY",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "Keys": {"pk": {"S": format!("ITEM#{item}")}, "sk": {"S": "LATEST"}},
            "SequenceNumber": "1",
            "SizeBytes": 1,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
            "NewImage": serde_dynamo::Item::from(new),
            "OldImage": serde_dynamo::Item::from(old),
        }
    });
    let event: DynamoDbEvent =
        serde_json::from_value(serde_json::json!({ "Records": [record.clone()] }))
            .unwrap_or_else(|e| panic!("{e}: {record}"));
    let bus = FlakyBus::failing(0);
    let resp = publish_changes(bus.as_ref(), event).await;
    assert!(resp.batch_item_failures.is_empty(), "{resp:?}");
    let from_stream = bus.taken();
    let from_outbox: Vec<DomainEvent> = sqlite
        .pending_events(10)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.event)
        .collect();
    assert_eq!(from_outbox.len(), 2, "the new item and the change");
    assert_eq!(from_stream, from_outbox[1..].to_vec());
    let DomainEvent::PriceChanged(change) = &from_stream[0];
    assert_eq!(
        change.percent_change.map(|p| p.to_string()),
        Some("-7.50".into())
    );
}
