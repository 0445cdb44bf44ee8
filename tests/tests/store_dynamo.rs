//! The store conformance suite on the DynamoDB adapter, over HTTP against
//! dynalite (a fresh table per test), plus what is specific to DynamoDB:
//! table creation, repair of a half-finished write, concurrent deliveries
//! and error messages.

use aws_sdk_dynamodb::types::AttributeValue;
use pricehound::store::dynamo::DynamoStore;
use pricehound::store::{HistoryQuery, Store, StoreError};
use pricehound_tests::conformance::{at, obs};
use pricehound_tests::conformance_suite;
use pricehound_tests::services::{dynamodb_client, unique_name};

/// A store on a new, empty table.
async fn fresh_store() -> DynamoStore {
    let client = dynamodb_client().await;
    let table = unique_name("conf");
    DynamoStore::create_table(&client, &table).await.unwrap();
    DynamoStore::new(client, table)
}

conformance_suite!(fresh_store());

#[tokio::test]
async fn create_table_is_idempotent_and_matches_the_template() {
    let client = dynamodb_client().await;
    let table = unique_name("create");
    DynamoStore::create_table(&client, &table).await.unwrap();
    DynamoStore::create_table(&client, &table).await.unwrap();

    let desc = client
        .describe_table()
        .table_name(&table)
        .send()
        .await
        .unwrap();
    let t = desc.table().unwrap();
    let keys: Vec<(&str, &str)> = t
        .key_schema()
        .iter()
        .map(|k| (k.attribute_name(), k.key_type().as_str()))
        .collect();
    assert_eq!(keys, vec![("pk", "HASH"), ("sk", "RANGE")]);
    let gsi = &t.global_secondary_indexes()[0];
    assert_eq!(gsi.index_name(), Some("gsi1"));
    let keys: Vec<(&str, &str)> = gsi
        .key_schema()
        .iter()
        .map(|k| (k.attribute_name(), k.key_type().as_str()))
        .collect();
    assert_eq!(keys, vec![("gsi1pk", "HASH"), ("gsi1sk", "RANGE")]);
    assert_eq!(
        gsi.projection()
            .and_then(|p| p.projection_type())
            .map(|p| p.as_str()),
        Some("ALL")
    );
}

/// A delivery that stored the history row and died before moving LATEST is
/// finished by the redelivery: the duplicate still advances LATEST.
#[tokio::test]
async fn redelivery_repairs_a_half_finished_write() {
    let store = fresh_store().await;
    let client = dynamodb_client().await;
    let o = obs("half:item", "Half", at(3), "42.5", 1);
    let sk = format!("OBS#2024-05-01T10:03:00.000Z#{}", o.id);
    let provenance = serde_json::to_string(&o.provenance).unwrap();
    // What the first delivery's PutItem wrote before it was interrupted.
    client
        .put_item()
        .table_name(store.table())
        .item("pk", AttributeValue::S("ITEM#half:item".into()))
        .item("sk", AttributeValue::S(sk))
        .item("item_id", AttributeValue::S("half:item".into()))
        .item("source_id", AttributeValue::S("half".into()))
        .item("name", AttributeValue::S("Half".into()))
        .item("amount", AttributeValue::S("42.5".into()))
        .item("currency", AttributeValue::S("EUR".into()))
        .item(
            "observed_at",
            AttributeValue::S("2024-05-01T10:03:00.000Z".into()),
        )
        .item("obs_id", AttributeValue::S(o.id.to_string()))
        .item("provenance", AttributeValue::S(provenance))
        .send()
        .await
        .unwrap();
    assert_eq!(store.latest_price(&o.item_id).await.unwrap(), None);

    let r = store.record(&o).await.unwrap();
    assert!(!r.inserted, "the history row was already there");
    assert!(r.became_latest, "the redelivery finishes the LATEST update");
    assert_eq!(
        store
            .latest_price(&o.item_id)
            .await
            .unwrap()
            .map(|l| l.observation_id),
        Some(o.id.clone())
    );
    let history = store
        .history(&o.item_id, &HistoryQuery::default())
        .await
        .unwrap();
    assert_eq!(history.items, vec![o]);
}

/// Many deliveries racing (Lambda runs ingest concurrently, SQS delivers at
/// least once): each observation is inserted once and the newest wins.
#[tokio::test]
async fn concurrent_deliveries_converge() {
    let store = fresh_store().await;
    let all: Vec<_> = (0..16)
        .map(|n| {
            obs(
                "race:item",
                "Race",
                at((n * 7) % 16),
                &format!("{n}"),
                n as u64,
            )
        })
        .collect();
    let newest = all
        .iter()
        .max_by(|a, b| (a.observed_at, &a.id).cmp(&(b.observed_at, &b.id)))
        .unwrap()
        .clone();
    let mut tasks = tokio::task::JoinSet::new();
    // Every observation twice: a first delivery and a redelivery, racing.
    for o in all.iter().chain(all.iter()) {
        let store = store.clone();
        let o = o.clone();
        tasks.spawn(async move { store.record(&o).await.unwrap() });
    }
    let mut inserted = 0;
    while let Some(done) = tasks.join_next().await {
        inserted += usize::from(done.unwrap().inserted);
    }
    assert_eq!(
        inserted,
        all.len(),
        "each observation inserted exactly once"
    );
    let latest = store.latest_price(&newest.item_id).await.unwrap().unwrap();
    assert_eq!(latest.observation_id, newest.id);
    let history = store
        .history(
            &newest.item_id,
            &HistoryQuery {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(history.items.len(), all.len());
}

/// A backend error says what failed and where.
#[tokio::test]
async fn errors_name_the_operation_and_table() {
    let table = unique_name("missing");
    let store = DynamoStore::new(dynamodb_client().await, table.clone());
    let err = store.ping().await.unwrap_err();
    let StoreError::Backend(msg) = &err else {
        panic!("expected a backend error, got {err:?}");
    };
    assert!(msg.contains("GetItem") && msg.contains(&table), "{msg}");
    let err = store
        .record(&obs("x:y", "X", at(0), "1", 1))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("PutItem"), "{err}");
}
