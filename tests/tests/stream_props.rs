//! Property tests of the events function's parser: whatever the table's
//! stream carries (any attributes, odd Unicode, huge numbers, missing or
//! mistyped fields), handling a batch never panics, publishes only valid
//! events, and reports at most one failure, at a record of the batch.

use aws_lambda_events::event::dynamodb::Event as DynamoDbEvent;
use pricehound::bus::{Bus, BusError, DomainEvent};
use pricehound::lambda::publish_changes;
use proptest::prelude::*;
use serde_json::{Value, json};
use std::sync::Mutex;

#[derive(Default)]
struct Taken(Mutex<Vec<DomainEvent>>);

#[async_trait::async_trait]
impl Bus for Taken {
    async fn publish(&self, events: &[DomainEvent]) -> Result<(), BusError> {
        self.0.lock().unwrap().extend_from_slice(events);
        Ok(())
    }
}

/// An attribute value as the stream writes it, of any type, or a string
/// from a hostile set.
fn attribute() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<String>().prop_map(|s| json!({ "S": s })),
        prop_oneof![
            Just("LATEST".to_string()),
            Just("12.50".to_string()),
            Just("-79228162514264337593543950335".to_string()),
            Just("1e400".to_string()),
            Just("2026-11-21T08:00:00.000Z".to_string()),
            Just("9999-99-99T99:99:99Z".to_string()),
            Just("shop:item\u{202E}\u{FFFF}".to_string()),
            Just("{\"kind\":\"page\",\"url\":\"http://169.254.169.254/\"}".to_string()),
            Just("{\"kind\":\"telegram_post\",\"channel\":\"c\",\"post_id\":1}".to_string()),
        ]
        .prop_map(|s| json!({ "S": s })),
        any::<i64>().prop_map(|n| json!({ "N": n.to_string() })),
        any::<bool>().prop_map(|b| json!({ "BOOL": b })),
        Just(json!({ "NULL": true })),
    ]
}

fn image() -> impl Strategy<Value = Value> {
    let names = prop_oneof![
        Just("pk"),
        Just("sk"),
        Just("item_id"),
        Just("source_id"),
        Just("name"),
        Just("series"),
        Just("amount"),
        Just("currency"),
        Just("availability"),
        Just("details"),
        Just("observed_at"),
        Just("obs_id"),
        Just("provenance"),
    ];
    proptest::collection::btree_map(names, attribute(), 0..14).prop_map(|m| {
        let mut image = serde_json::Map::new();
        for (k, v) in m {
            image.insert(k.to_string(), v);
        }
        // Most records look like a LATEST record, so the parser goes deep.
        image
            .entry("sk".to_string())
            .or_insert(json!({ "S": "LATEST" }));
        Value::Object(image)
    })
}

fn record(seq: usize, name: &'static str, new: Value, old: Option<Value>) -> Value {
    let mut change = json!({
        "Keys": { "pk": { "S": "ITEM#x" }, "sk": { "S": "LATEST" } },
        "SequenceNumber": seq.to_string(),
        "SizeBytes": 1,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
        "NewImage": new,
    });
    if let Some(old) = old {
        change["OldImage"] = old;
    }
    json!({ "eventID": seq.to_string(), "eventName": name, "awsRegion": "x", "dynamodb": change })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_stream_batch_is_handled_without_panic(
        records in proptest::collection::vec(
            (prop_oneof![Just("INSERT"), Just("MODIFY"), Just("REMOVE")], image(), proptest::option::of(image())),
            0..8,
        )
    ) {
        let batch: Vec<Value> = records
            .into_iter()
            .enumerate()
            .map(|(i, (name, new, old))| record(i, name, new, old))
            .collect();
        let n = batch.len();
        let event: DynamoDbEvent = serde_json::from_value(json!({ "Records": batch })).unwrap();
        let bus = Taken::default();
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let resp = rt.block_on(publish_changes(&bus, event));
        prop_assert!(resp.batch_item_failures.len() <= 1);
        for f in &resp.batch_item_failures {
            let seq: usize = f.item_identifier.as_deref().unwrap_or("").parse().unwrap();
            prop_assert!(seq < n);
        }
        for DomainEvent::PriceChanged(c) in bus.0.lock().unwrap().iter() {
            // Only events built from valid records: ids that parse, a link.
            prop_assert!(c.item_id.as_str().starts_with(c.source_id.as_str()));
            prop_assert!(!c.link.is_empty());
        }
    }
}
