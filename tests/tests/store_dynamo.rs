//! The store conformance suites (`Store` and `UserStore`) on the DynamoDB
//! adapter, over HTTP against dynalite (a fresh table per test), plus what is
//! specific to DynamoDB: table creation, repair of a half-finished write,
//! concurrent deliveries, the record layout (series index, registry, health,
//! the bot's records) and error messages.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use pricehound::domain::user::{
    Alert, AlertId, AlertRule, AlertTarget, Contact, TrackedPage, UsageEvent, UsageKind, UserId,
    UserProfile, Watch,
};
use pricehound::domain::{Availability, ItemDetails, SeriesId, SeriesSummary, SourceId, SourceRun};
use pricehound::store::dynamo::{DynamoStore, Resharded, SHARDS, shard_of};
use pricehound::store::{
    AlertStore, Cursor, HistoryQuery, LatestQuery, Payloads, Store, StoreError, TrackedPageStore,
    UpdateGuard, UsageLog, UserProfiles, Watches,
};
use pricehound_tests::conformance::{at, obs};
use pricehound_tests::conformance_suite;
use pricehound_tests::conformance_users::t;
use pricehound_tests::services::{dynamodb_client, unique_name};
use pricehound_tests::user_store_suite;

/// A store on a new, empty table.
async fn fresh_store() -> DynamoStore {
    let client = dynamodb_client().await;
    let table = unique_name("conf");
    DynamoStore::create_table(&client, &table).await.unwrap();
    DynamoStore::new(client, table)
}

conformance_suite!(fresh_store());
user_store_suite!(fresh_store());

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

/// The first deliveries of a new item race: exactly one of them creates its
/// LATEST record, so the series registry counts the item once.
#[tokio::test]
async fn racing_first_deliveries_count_an_item_once() {
    let store = fresh_store().await;
    let series = SeriesId::new("race-series").unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..12 {
        for item in ["race:one", "race:two"] {
            let mut o = obs(item, "Race", at(n), &format!("{n}"), n as u64);
            o.series = Some(series.clone());
            let store = store.clone();
            // Each observation twice: a delivery and a redelivery.
            for _ in 0..2 {
                let (store, o) = (store.clone(), o.clone());
                tasks.spawn(async move { store.record(&o).await.unwrap() });
            }
        }
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    assert_eq!(
        store.list_series().await.unwrap(),
        vec![SeriesSummary { series, items: 2 }]
    );
}

async fn raw_item(store: &DynamoStore, pk: &str, sk: &str) -> HashMap<String, AttributeValue> {
    dynamodb_client()
        .await
        .get_item()
        .table_name(store.table())
        .key("pk", AttributeValue::S(pk.into()))
        .key("sk", AttributeValue::S(sk.into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item()
        .unwrap_or_else(|| panic!("no record {pk} / {sk}"))
        .clone()
}

fn s_attr<'a>(item: &'a HashMap<String, AttributeValue>, name: &str) -> Option<&'a str> {
    item.get(name)
        .map(|v| v.as_s().expect("a string attribute").as_str())
}

/// The records are laid out as docs/dynamodb.md says: optional attributes
/// are absent rather than empty, the series index keys sit on history
/// records of a series only, and the registry and health records have the
/// documented keys.
#[tokio::test]
async fn records_follow_the_documented_layout() {
    let store = fresh_store().await;
    let series = SeriesId::new("gold-18k").unwrap();
    let mut priced = obs("lay:gold", "Gold", at(3), "12.5", 1)
        .with_availability(Availability::InStock)
        .with_details(ItemDetails {
            url: Some("https://shop.example/gold".into()),
            image: None,
            brand: Some("Acme".into()),
        });
    priced.series = Some(series.clone());
    let unpriced = obs("lay:gold", "Gold", at(4), "0", 2)
        .without_price()
        .with_availability(Availability::OutOfStock);
    store.record(&priced).await.unwrap();
    store.record(&unpriced).await.unwrap();

    let history = raw_item(
        &store,
        "ITEM#lay:gold",
        &format!("OBS#2024-05-01T10:03:00.000Z#{}", priced.id),
    )
    .await;
    assert_eq!(s_attr(&history, "gsi1pk"), Some("SERIES#gold-18k"));
    assert_eq!(
        s_attr(&history, "gsi1sk"),
        Some(format!("2024-05-01T10:03:00.000Z#{}", priced.id).as_str())
    );
    assert_eq!(s_attr(&history, "amount"), Some("12.5"));
    assert_eq!(s_attr(&history, "currency"), Some("EUR"));
    assert_eq!(s_attr(&history, "availability"), Some("in_stock"));
    let details: ItemDetails = serde_json::from_str(s_attr(&history, "details").unwrap()).unwrap();
    assert_eq!(details, priced.details);

    let history = raw_item(
        &store,
        "ITEM#lay:gold",
        &format!("OBS#2024-05-01T10:04:00.000Z#{}", unpriced.id),
    )
    .await;
    for absent in [
        "gsi1pk", "gsi1sk", "amount", "currency", "details", "series",
    ] {
        assert!(!history.contains_key(absent), "history has {absent}");
    }
    assert_eq!(s_attr(&history, "availability"), Some("out_of_stock"));

    let latest = raw_item(&store, "ITEM#lay:gold", "LATEST").await;
    // The index partition is the item's shard (pinned: it is stored).
    assert_eq!(s_attr(&latest, "gsi1pk"), Some("LATEST#00"));
    assert_eq!(s_attr(&latest, "gsi1sk"), Some("lay#lay:gold"));
    for absent in ["amount", "currency", "details", "series"] {
        assert!(!latest.contains_key(absent), "LATEST kept {absent}");
    }
    assert_eq!(s_attr(&latest, "availability"), Some("out_of_stock"));

    let registry = raw_item(&store, "SERIES", "gold-18k").await;
    assert_eq!(registry.get("items"), Some(&AttributeValue::N("1".into())));

    store
        .record_source_run(&SourceRun {
            source_id: SourceId::new("lay").unwrap(),
            at: at(5),
            outcome: Ok(3),
        })
        .await
        .unwrap();
    let health = raw_item(&store, "SOURCE#lay", "HEALTH").await;
    assert_eq!(health.get("runs"), Some(&AttributeValue::N("1".into())));
    assert_eq!(
        health.get("items_seen"),
        Some(&AttributeValue::N("3".into()))
    );
    assert_eq!(
        s_attr(&health, "last_success_at"),
        Some("2024-05-01T10:05:00.000Z")
    );
}

/// New-record errors name the operation and table too.
#[tokio::test]
async fn new_operations_name_the_table_in_errors() {
    let table = unique_name("missing");
    let store = DynamoStore::new(dynamodb_client().await, table.clone());
    let series = SeriesId::new("s").unwrap();
    let errors = [
        store
            .series_observations(&series, at(0), at(1))
            .await
            .unwrap_err(),
        store.list_series().await.unwrap_err(),
        store
            .record_source_run(&SourceRun {
                source_id: SourceId::new("x").unwrap(),
                at: at(0),
                outcome: Ok(1),
            })
            .await
            .unwrap_err(),
        store
            .source_health(&SourceId::new("x").unwrap())
            .await
            .unwrap_err(),
    ];
    for (err, op) in errors
        .iter()
        .zip(["Query", "Query", "UpdateItem", "GetItem"])
    {
        let msg = err.to_string();
        assert!(matches!(err, StoreError::Backend(_)), "{err:?}");
        assert!(msg.contains(op) && msg.contains(&table), "{msg}");
    }
}

/// The bot's records are laid out as docs/dynamodb.md says: the user profile
/// sits in the `USERS` index partition by last seen, an alert is in its
/// target's index partition only while active, short-lived records carry the
/// TTL attribute, amounts are decimal strings, profiles, tracked pages and
/// usage events sit in the shard of their user or source.
#[tokio::test]
async fn user_records_follow_the_documented_layout() {
    let store = fresh_store().await;
    let contact = |at| Contact {
        profile: UserProfile {
            id: UserId(42),
            first_name: "Ada".into(),
            last_name: None,
            username: None,
            language_code: None,
        },
        at,
        referrer: Some("ref".into()),
    };
    store.touch_user(&contact(t(0))).await.unwrap();
    let profile = raw_item(&store, "USER#42", "PROFILE").await;
    assert_eq!(s_attr(&profile, "gsi1pk"), Some("USERS#08"));
    assert_eq!(
        s_attr(&profile, "gsi1sk"),
        Some("2024-06-15T12:00:00.000Z#42")
    );
    assert_eq!(s_attr(&profile, "referrer"), Some("ref"));
    assert!(!profile.contains_key("last_name"));
    store.touch_user(&contact(t(90))).await.unwrap();
    let profile = raw_item(&store, "USER#42", "PROFILE").await;
    assert_eq!(
        s_attr(&profile, "gsi1sk"),
        Some("2024-06-15T13:30:00.000Z#42"),
        "the index key moves with last seen"
    );
    assert_eq!(
        s_attr(&profile, "first_seen"),
        Some("2024-06-15T12:00:00.000Z")
    );

    store
        .add_watch(&Watch {
            user: UserId(42),
            item: "shop:gpu".parse().unwrap(),
            created_at: t(1),
            purchased_at: None,
        })
        .await
        .unwrap();
    let watch = raw_item(&store, "USER#42", "WATCH#shop:gpu").await;
    assert_eq!(
        s_attr(&watch, "created_at"),
        Some("2024-06-15T12:01:00.000Z")
    );

    let alert = Alert {
        id: AlertId::try_from("abcdefghij".to_string()).unwrap(),
        user: UserId(42),
        target: AlertTarget::Item("shop:gpu".parse().unwrap()),
        rule: AlertRule::Below {
            price: pricehound::domain::Money {
                amount: "0.10".parse().unwrap(),
                currency: "EUR".parse().unwrap(),
            },
        },
        created_at: t(2),
        active: true,
        armed: true,
        reference_price: None,
        last_fired_at: None,
    };
    store.put_alert(&alert).await.unwrap();
    let record = raw_item(&store, "USER#42", "ALERT#abcdefghij").await;
    assert_eq!(s_attr(&record, "gsi1pk"), Some("ALERTS#item#shop:gpu"));
    assert_eq!(s_attr(&record, "gsi1sk"), Some("abcdefghij"));
    let rule: serde_json::Value = serde_json::from_str(s_attr(&record, "rule").unwrap()).unwrap();
    assert_eq!(rule["price"]["amount"], "0.10", "a decimal string: {rule}");
    assert_eq!(record.get("active"), Some(&AttributeValue::Bool(true)));
    assert_eq!(store.mark_blocked(UserId(42)).await.unwrap(), 1);
    let record = raw_item(&store, "USER#42", "ALERT#abcdefghij").await;
    assert_eq!(record.get("active"), Some(&AttributeValue::Bool(false)));
    for absent in ["gsi1pk", "gsi1sk"] {
        assert!(
            !record.contains_key(absent),
            "an inactive alert keeps {absent}"
        );
    }
    let profile = raw_item(&store, "USER#42", "PROFILE").await;
    assert_eq!(profile.get("blocked"), Some(&AttributeValue::Bool(true)));

    assert!(store.claim_update(5, t(0)).await.unwrap());
    let claim = raw_item(&store, "UPDATE#5", "UPDATE").await;
    assert_eq!(
        claim.get("expires_at"),
        Some(&AttributeValue::N((t(0).timestamp() + 86_400).to_string()))
    );

    store.throttle_hit(UserId(42), t(0)).await.unwrap();
    let window = t(0).timestamp();
    let throttle = raw_item(&store, &format!("THROTTLE#42#{window}"), "THROTTLE").await;
    assert_eq!(throttle.get("count"), Some(&AttributeValue::N("1".into())));
    assert!(matches!(
        throttle.get("expires_at"),
        Some(AttributeValue::N(_))
    ));

    let midnight = t(-12 * 60); // 2024-06-15T00:00:00Z
    store.alert_quota_hit(UserId(42), midnight).await.unwrap();
    store.alert_quota_hit(UserId(42), midnight).await.unwrap();
    let day_start = midnight.timestamp();
    let quota = raw_item(&store, &format!("QUOTA#42#{day_start}"), "QUOTA").await;
    assert_eq!(quota.get("count"), Some(&AttributeValue::N("2".into())));
    assert_eq!(quota.get("user_id"), Some(&AttributeValue::N("42".into())));
    assert_eq!(
        quota.get("day_start"),
        Some(&AttributeValue::N(day_start.to_string()))
    );
    assert_eq!(
        quota.get("expires_at"),
        Some(&AttributeValue::N((day_start + 48 * 3600).to_string()))
    );

    store.put_payload("k", "v", t(10)).await.unwrap();
    let payload = raw_item(&store, "PAYLOAD#k", "PAYLOAD").await;
    assert_eq!(
        payload.get("expires_at"),
        Some(&AttributeValue::N(t(10).timestamp().to_string()))
    );

    store
        .record_usage(&UsageEvent {
            user: UserId(42),
            at: t(3),
            kind: UsageKind::Command("prices".into()),
        })
        .await
        .unwrap();
    let day = dynamodb_client()
        .await
        .query()
        .table_name(store.table())
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", AttributeValue::S("USAGE#2024-06-15#08".into()))
        .send()
        .await
        .unwrap();
    assert_eq!(day.items().len(), 1);
    let event = &day.items()[0];
    assert!(
        s_attr(event, "sk")
            .unwrap()
            .starts_with("2024-06-15T12:03:00.000Z#42#")
    );
    assert_eq!(s_attr(event, "kind"), Some("command"));
    assert_eq!(s_attr(event, "name"), Some("prices"));

    let page = TrackedPage {
        source_id: SourceId::new("page-3f9a").unwrap(),
        url: "https://shop.example/gpu".into(),
        name: "GPU".into(),
        added_by: UserId(42),
        added_at: t(4),
    };
    assert!(store.track_page(&page).await.unwrap().page_added);
    let tracked = raw_item(&store, "TRACKED#15", "PAGE#page-3f9a").await;
    assert_eq!(s_attr(&tracked, "source_id"), Some("page-3f9a"));
    assert_eq!(s_attr(&tracked, "url"), Some("https://shop.example/gpu"));
    assert_eq!(s_attr(&tracked, "name"), Some("GPU"));
    assert_eq!(
        tracked.get("added_by"),
        Some(&AttributeValue::N("42".into()))
    );
    assert_eq!(
        s_attr(&tracked, "added_at"),
        Some("2024-06-15T12:04:00.000Z")
    );
    assert_eq!(
        tracked.get("trackers"),
        Some(&AttributeValue::Ns(vec!["42".into()])),
        "its trackers, a number set"
    );
    for absent in ["gsi1pk", "gsi1sk", "expires_at"] {
        assert!(!tracked.contains_key(absent), "a tracked page has {absent}");
    }
    let mine = raw_item(&store, "USER#42", "TRACK#page-3f9a").await;
    assert_eq!(s_attr(&mine, "source_id"), Some("page-3f9a"));
    assert_eq!(s_attr(&mine, "added_at"), Some("2024-06-15T12:04:00.000Z"));
}

/// TTL deletion is lazy (and dynalite never deletes): an expired claim still
/// in the table does not block the update, an expired payload is not read.
#[tokio::test]
async fn expired_records_still_present_are_ignored() {
    let store = fresh_store().await;
    let client = dynamodb_client().await;
    let past = (t(0).timestamp() - 1).to_string();
    client
        .put_item()
        .table_name(store.table())
        .item("pk", AttributeValue::S("UPDATE#9".into()))
        .item("sk", AttributeValue::S("UPDATE".into()))
        .item("expires_at", AttributeValue::N(past))
        .send()
        .await
        .unwrap();
    assert!(store.claim_update(9, t(0)).await.unwrap());
    assert!(!store.claim_update(9, t(1)).await.unwrap());

    store.put_payload("p", "v", t(0)).await.unwrap();
    assert_eq!(store.payload("p", t(0)).await.unwrap(), None);
    // Still there: only the read's check keeps it out.
    raw_item(&store, "PAYLOAD#p", "PAYLOAD").await;
}

/// The bot's operations name the operation and the table in errors too.
#[tokio::test]
async fn user_operations_name_the_table_in_errors() {
    let table = unique_name("missing");
    let store = DynamoStore::new(dynamodb_client().await, table.clone());
    let errors = [
        (store.claim_update(1, t(0)).await.unwrap_err(), "PutItem"),
        (store.user(UserId(1)).await.unwrap_err(), "GetItem"),
        (
            store.throttle_hit(UserId(1), t(0)).await.unwrap_err(),
            "UpdateItem",
        ),
        (
            store.alert_quota_hit(UserId(1), t(0)).await.unwrap_err(),
            "UpdateItem",
        ),
        (store.watches(UserId(1)).await.unwrap_err(), "Query"),
        (
            store
                .active_alerts_for(&[AlertTarget::Item("a:b".parse().unwrap())])
                .await
                .unwrap_err(),
            "Query",
        ),
        (store.usage_stats(t(0)).await.unwrap_err(), "Query"),
        (store.tracked_pages().await.unwrap_err(), "Query"),
        (
            store
                .track_page(&TrackedPage {
                    source_id: SourceId::new("page-1").unwrap(),
                    url: "https://shop.example/1".into(),
                    name: "One".into(),
                    added_by: UserId(1),
                    added_at: t(0),
                })
                .await
                .unwrap_err(),
            "UpdateItem",
        ),
        (
            store
                .untrack_page(UserId(1), &SourceId::new("page-1").unwrap())
                .await
                .unwrap_err(),
            "UpdateItem",
        ),
        (store.tracked_page_count().await.unwrap_err(), "Query"),
        (
            store.tracked_pages_of(UserId(1)).await.unwrap_err(),
            "Query",
        ),
        (
            store
                .remove_watch(UserId(1), &"a:b".parse().unwrap())
                .await
                .unwrap_err(),
            "DeleteItem",
        ),
    ];
    for (err, op) in &errors {
        let msg = err.to_string();
        assert!(matches!(err, StoreError::Backend(_)), "{err:?}");
        assert!(msg.contains(op) && msg.contains(&table), "{msg}");
    }
}

/// Retention in DynamoDB: each history row and usage event is written with
/// `expires_at` (the TTL attribute) from the store's retention; the LATEST
/// record has none, so an item's last price never expires.
#[tokio::test]
async fn history_and_usage_rows_carry_their_expiry_and_latest_none() {
    use pricehound::domain::user::{UsageEvent, UsageKind};
    use pricehound::retention::Retention;

    let client = dynamodb_client().await;
    let table = unique_name("ttl");
    DynamoStore::create_table(&client, &table).await.unwrap();
    let retention = Retention {
        history_days: 30,
        usage_days: 7,
    };
    let store = DynamoStore::new(client.clone(), table.clone()).with_retention(retention);
    let o = obs("shop:ttl", "TTL", at(0), "10", 1);
    store.record(&o).await.unwrap();
    store
        .record_usage(&UsageEvent {
            user: UserId(9),
            at: at(5),
            kind: UsageKind::AlertSent,
        })
        .await
        .unwrap();
    let rows = client
        .scan()
        .table_name(&table)
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default();
    let expiry = |prefix: &str, sk: &str| -> Option<String> {
        let row = rows
            .iter()
            .find(|r| {
                matches!(r.get("pk"), Some(AttributeValue::S(p)) if p.starts_with(prefix))
                    && matches!(r.get("sk"), Some(AttributeValue::S(s)) if s.starts_with(sk))
            })
            .unwrap_or_else(|| panic!("no {prefix} / {sk} row in {rows:?}"));
        match row.get("expires_at") {
            Some(AttributeValue::N(n)) => Some(n.clone()),
            None => None,
            other => panic!("expires_at is {other:?}"),
        }
    };
    let day = 24 * 60 * 60;
    assert_eq!(
        expiry("ITEM#", "OBS#"),
        Some((at(0).timestamp() + 30 * day).to_string())
    );
    assert_eq!(expiry("ITEM#", "LATEST"), None);
    assert_eq!(
        expiry("USAGE#", ""),
        Some((at(5).timestamp() + 7 * day).to_string())
    );
}

/// Every record of the table, all scan pages.
async fn scan_all(store: &DynamoStore) -> Vec<HashMap<String, AttributeValue>> {
    let client = dynamodb_client().await;
    let mut rows = Vec::new();
    let mut start = None;
    loop {
        let out = client
            .scan()
            .table_name(store.table())
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .unwrap();
        rows.extend(out.items().iter().cloned());
        match out.last_evaluated_key() {
            Some(key) if !key.is_empty() => start = Some(key.clone()),
            _ => return rows,
        }
    }
}

/// The shard keys `name#00`..`name#15` found in `attr` of `rows`, each
/// checked to be the shard of the record's id (`id_attr`).
fn shards_used(
    rows: &[HashMap<String, AttributeValue>],
    attr: &str,
    name: &str,
    id_of: impl Fn(&HashMap<String, AttributeValue>) -> String,
) -> std::collections::BTreeSet<u32> {
    let prefix = format!("{name}#");
    let mut used = std::collections::BTreeSet::new();
    for row in rows {
        let Some(key) = s_attr(row, attr).and_then(|k| k.strip_prefix(&prefix)) else {
            continue;
        };
        assert_eq!(key.len(), 2, "{name}#{key}: two digits");
        let shard: u32 = key.parse().unwrap();
        assert!(shard < SHARDS);
        assert_eq!(
            shard,
            shard_of(&id_of(row)),
            "{name}#{key} is its id's shard"
        );
        used.insert(shard);
    }
    used
}

/// The single partitions of before are sharded: latest prices, profiles,
/// tracked pages and a day's usage events spread over most of the 16
/// shards, each record in the shard of its id, and every reader still sees
/// each of them exactly once.
#[tokio::test]
async fn hot_partitions_are_spread_over_shards_and_read_back_whole() {
    let store = fresh_store().await;
    for n in 0..64 {
        let id = format!("spread:item-{n}");
        store
            .record(&obs(&id, &id, at(n), "1.5", n as u64 + 1))
            .await
            .unwrap();
        let user = UserId(1_000_000 + n);
        store
            .touch_user(&Contact {
                profile: UserProfile {
                    id: user,
                    first_name: "U".into(),
                    last_name: None,
                    username: None,
                    language_code: None,
                },
                at: t(-n),
                referrer: None,
            })
            .await
            .unwrap();
        store
            .record_usage(&UsageEvent {
                user,
                at: t(-n),
                kind: UsageKind::Command("prices".into()),
            })
            .await
            .unwrap();
        if n % 2 == 0 {
            store
                .track_page(&TrackedPage {
                    source_id: SourceId::new(format!("page-{n:012x}")).unwrap(),
                    url: format!("https://shop.example/{n}"),
                    name: format!("P{n}"),
                    added_by: user,
                    added_at: t(0),
                })
                .await
                .unwrap();
        }
    }
    let rows = scan_all(&store).await;
    let n_attr = |row: &HashMap<String, AttributeValue>, name: &str| match row.get(name) {
        Some(AttributeValue::N(v)) => v.clone(),
        other => panic!("{name} is {other:?}"),
    };
    let latest = shards_used(&rows, "gsi1pk", "LATEST", |r| {
        s_attr(r, "item_id").unwrap().to_string()
    });
    let users = shards_used(&rows, "gsi1pk", "USERS", |r| n_attr(r, "user_id"));
    let pages = shards_used(&rows, "pk", "TRACKED", |r| {
        s_attr(r, "source_id").unwrap().to_string()
    });
    let usage = shards_used(&rows, "pk", "USAGE#2024-06-15", |r| n_attr(r, "user_id"));
    for (what, used, min) in [
        ("latest", &latest, 12),
        ("users", &users, 12),
        ("tracked pages", &pages, 10),
        ("usage", &usage, 12),
    ] {
        assert!(used.len() >= min, "{what} in only {used:?}");
    }
    assert!(
        !rows.iter().any(
            |r| ["LATEST", "USERS"].contains(&s_attr(r, "gsi1pk").unwrap_or(""))
                || ["TRACKED", "USAGE#2024-06-15"].contains(&s_attr(r, "pk").unwrap_or(""))
        ),
        "nothing is written to an unsharded partition"
    );

    let page = store
        .latest_prices(&LatestQuery {
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap();
    let mut want: Vec<String> = (0..64).map(|n| format!("spread:item-{n}")).collect();
    want.sort();
    let got: Vec<String> = page.items.iter().map(|l| l.item_id.to_string()).collect();
    assert_eq!(got, want);
    let stats = store.usage_stats(t(0)).await.unwrap();
    assert_eq!((stats.users, stats.daily_active), (64, 64));
    assert_eq!(stats.commands, vec![("prices".to_string(), 64)]);
    assert_eq!(store.tracked_page_count().await.unwrap(), 32);
    assert_eq!(store.tracked_pages().await.unwrap().len(), 32);
}

/// Item ids of source `source` whose latest price lands in shard `shard`.
fn ids_in_shard(source: &str, shard: u32, count: usize) -> Vec<String> {
    (0..)
        .map(|n| format!("{source}:item-{n}"))
        .filter(|id| shard_of(id) == shard)
        .take(count)
        .collect()
}

/// The merge asks each shard for a few records and asks again when a
/// shard's run out before the page is full: with one shard holding most of
/// a source (far more than its share of a page), and most shards holding
/// nothing of it, pages still come whole, in order, each item once.
#[tokio::test]
async fn latest_prices_merge_shards_filled_unevenly() {
    let store = fresh_store().await;
    let mut ids = ids_in_shard("skew", 5, 40);
    for shard in [0, 9, 15] {
        ids.extend(ids_in_shard("skew", shard, 1));
    }
    ids.extend((0..10).map(|n| format!("zz:item-{n}")));
    ids.extend(ids_in_shard("aa", 5, 3));
    for (n, id) in ids.iter().enumerate() {
        store
            .record(&obs(id, id, at(n as i64), "2", n as u64 + 1))
            .await
            .unwrap();
    }
    let mut want: Vec<(String, String)> = ids
        .iter()
        .map(|id| {
            let (source, _) = id.split_once(':').unwrap();
            (source.to_string(), id.clone())
        })
        .collect();
    want.sort();
    let want: Vec<String> = want.into_iter().map(|(_, id)| id).collect();

    let walk = |source: Option<&str>, limit: u32| {
        let store = store.clone();
        let source = source.map(|s| SourceId::new(s).unwrap());
        async move {
            let mut query = LatestQuery {
                source,
                limit,
                ..Default::default()
            };
            let mut got = Vec::new();
            let mut sizes = Vec::new();
            loop {
                let page = store.latest_prices(&query).await.unwrap();
                sizes.push(page.items.len());
                got.extend(page.items.into_iter().map(|l| l.item_id.to_string()));
                match page.next_cursor {
                    Some(c) => query.cursor = Some(c),
                    None => return (got, sizes),
                }
            }
        }
    };
    for limit in [1, 3, 10, 41, 100] {
        let (got, sizes) = walk(None, limit).await;
        assert_eq!(got, want, "limit {limit}");
        assert!(
            sizes[..sizes.len() - 1]
                .iter()
                .all(|&n| n == limit as usize),
            "limit {limit}: {sizes:?}"
        );
    }
    let skew: Vec<String> = want
        .iter()
        .filter(|id| id.starts_with("skew:"))
        .cloned()
        .collect();
    for limit in [1, 4, 43, 44] {
        let (got, sizes) = walk(Some("skew"), limit).await;
        assert_eq!(got, skew, "source skew, limit {limit}");
        assert_eq!(sizes.len(), 43usize.div_ceil(limit as usize).max(1));
    }
}

/// A cursor names a position, not a record: one that names an item no
/// shard holds (a well-formed key, e.g. from before the item moved) pages
/// on from there, as the one partition did; a cursor of another source, or
/// one that is no key at all, is `BadCursor` and reaches no shard.
#[tokio::test]
async fn latest_cursors_are_positions_in_every_shard() {
    let store = fresh_store().await;
    for id in ["c:a", "c:c", "c:e", "d:a"] {
        store.record(&obs(id, id, at(0), "1", 1)).await.unwrap();
    }
    let page = store
        .latest_prices(&LatestQuery {
            limit: 10,
            cursor: Some(Cursor::encode("c#c:b")),
            ..Default::default()
        })
        .await
        .unwrap();
    let got: Vec<String> = page.items.iter().map(|l| l.item_id.to_string()).collect();
    assert_eq!(got, ["c:c", "c:e", "d:a"]);
    for bad in [
        Cursor::encode("d#d:a"),
        Cursor::encode("c"),
        Cursor::encode("c#C:A"),
        Cursor::from_param("!!"),
    ] {
        let err = store
            .latest_prices(&LatestQuery {
                source: Some(SourceId::new("c").unwrap()),
                limit: 10,
                cursor: Some(bad.clone()),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::BadCursor), "{bad:?}: {err:?}");
    }
}

/// A table written before sharding: records under the old single keys are
/// invisible to the sharded readers until `reshard_legacy` moves them (a
/// second run moves nothing); a latest price or a profile also moves by
/// itself on its next write.
#[tokio::test]
async fn legacy_records_are_moved_into_their_shards() {
    let store = fresh_store().await;
    let client = dynamodb_client().await;
    let set_gsi1pk = |pk: &str, sk: &str, value: &str| {
        client
            .update_item()
            .table_name(store.table())
            .key("pk", AttributeValue::S(pk.into()))
            .key("sk", AttributeValue::S(sk.into()))
            .update_expression("SET gsi1pk = :v")
            .expression_attribute_values(":v", AttributeValue::S(value.into()))
            .send()
    };
    // A latest price and a profile in the old index partitions.
    for id in ["old:a", "old:b"] {
        store.record(&obs(id, id, at(0), "1", 1)).await.unwrap();
        set_gsi1pk(&format!("ITEM#{id}"), "LATEST", "LATEST")
            .await
            .unwrap();
    }
    let contact = |id: i64, at| Contact {
        profile: UserProfile {
            id: UserId(id),
            first_name: "Old".into(),
            last_name: None,
            username: None,
            language_code: None,
        },
        at,
        referrer: None,
    };
    for id in [7, 8] {
        store.touch_user(&contact(id, t(-10))).await.unwrap();
        set_gsi1pk(&format!("USER#{id}"), "PROFILE", "USERS")
            .await
            .unwrap();
    }
    // A tracked page and a usage event in the old table partitions.
    client
        .put_item()
        .table_name(store.table())
        .item("pk", AttributeValue::S("TRACKED".into()))
        .item("sk", AttributeValue::S("PAGE#page-0ld".into()))
        .item("source_id", AttributeValue::S("page-0ld".into()))
        .item("url", AttributeValue::S("https://shop.example/old".into()))
        .item("name", AttributeValue::S("Old page".into()))
        .item("added_by", AttributeValue::N("7".into()))
        .item(
            "added_at",
            AttributeValue::S("2024-06-15T11:00:00.000Z".into()),
        )
        .item("trackers", AttributeValue::Ns(vec!["7".into(), "8".into()]))
        .send()
        .await
        .unwrap();
    client
        .put_item()
        .table_name(store.table())
        .item("pk", AttributeValue::S("USAGE#2024-06-15".into()))
        .item(
            "sk",
            AttributeValue::S("2024-06-15T11:00:00.000Z#7#00000000000000aa".into()),
        )
        .item("user_id", AttributeValue::N("7".into()))
        .item("at", AttributeValue::S("2024-06-15T11:00:00.000Z".into()))
        .item("kind", AttributeValue::S("command".into()))
        .item("name", AttributeValue::S("prices".into()))
        .send()
        .await
        .unwrap();

    let all = LatestQuery {
        limit: 100,
        ..Default::default()
    };
    assert!(store.latest_prices(&all).await.unwrap().items.is_empty());
    assert_eq!(store.usage_stats(t(0)).await.unwrap(), Default::default());
    assert!(store.tracked_pages().await.unwrap().is_empty());

    // The next write of a latest price or a profile moves it.
    store
        .record(&obs("old:b", "old:b", at(1), "2", 2))
        .await
        .unwrap();
    store.touch_user(&contact(8, t(-5))).await.unwrap();
    let listed = store.latest_prices(&all).await.unwrap().items;
    assert_eq!(listed.len(), 1);
    assert_eq!(store.usage_stats(t(0)).await.unwrap().users, 1);

    let moved = store.reshard_legacy(t(0).date_naive()).await.unwrap();
    assert_eq!(
        moved,
        Resharded {
            latest: 1,
            users: 1,
            tracked_pages: 1,
            usage_events: 1,
        }
    );
    let listed: Vec<String> = store
        .latest_prices(&all)
        .await
        .unwrap()
        .items
        .iter()
        .map(|l| l.item_id.to_string())
        .collect();
    assert_eq!(listed, ["old:a", "old:b"]);
    let stats = store.usage_stats(t(0)).await.unwrap();
    assert_eq!(stats.users, 2);
    assert_eq!(stats.commands, vec![("prices".to_string(), 1)]);
    let pages = store.tracked_pages().await.unwrap();
    assert_eq!(pages.len(), 1);
    assert_eq!(pages[0].url, "https://shop.example/old");
    assert_eq!(store.tracked_page_count().await.unwrap(), 1);
    assert_eq!(
        store.tracked_pages_of(UserId(7)).await.unwrap().len(),
        0,
        "no TRACK# record was written for the raw page"
    );
    // Both trackers came along: the last one's untrack removes the page.
    let source = SourceId::new("page-0ld").unwrap();
    store.untrack_page(UserId(7), &source).await.unwrap();
    assert_eq!(store.tracked_page_count().await.unwrap(), 1);
    assert!(
        store
            .untrack_page(UserId(8), &source)
            .await
            .unwrap()
            .page_removed
    );

    let rows = scan_all(&store).await;
    assert!(
        !rows.iter().any(
            |r| ["LATEST", "USERS"].contains(&s_attr(r, "gsi1pk").unwrap_or(""))
                || ["TRACKED", "USAGE#2024-06-15"].contains(&s_attr(r, "pk").unwrap_or(""))
        ),
        "nothing is left under an unsharded key"
    );
    assert_eq!(
        store.reshard_legacy(t(0).date_naive()).await.unwrap(),
        Resharded::default(),
        "a second run moves nothing"
    );
}
