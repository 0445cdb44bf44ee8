//! The store conformance suites (`Store` and `UserStore`) on the embedded
//! SQLite adapter, plus what only a file-backed store can show.

use pricehound::domain::user::{Contact, UserId, UserProfile, Watch};
use pricehound::store::sqlite::SqliteStore;
use pricehound::store::{LatestQuery, Store, UpdateGuard, UserProfiles, Watches};
use pricehound_tests::conformance::{at, obs};
use pricehound_tests::conformance_suite;
use pricehound_tests::services::unique_name;
use pricehound_tests::user_store_suite;

conformance_suite!(async { SqliteStore::in_memory().unwrap() });
user_store_suite!(async { SqliteStore::in_memory().unwrap() });

/// The same suites on a file, as `serve` runs it: reads go through the read
/// connections and see every write of the connection of writes at once.
mod on_a_file {
    use super::*;

    fn fresh() -> SqliteStore {
        let dir = std::env::temp_dir().join(unique_name("pricehound-suite"));
        std::fs::create_dir_all(&dir).unwrap();
        SqliteStore::open(&dir.join("store.db")).unwrap()
    }

    conformance_suite!(async { fresh() });
    user_store_suite!(async { fresh() });
}

/// `serve` keeps its data in a file: what was recorded is there after a restart.
#[tokio::test]
async fn file_store_keeps_data_across_reopen() {
    let dir = std::env::temp_dir().join(unique_name("pricehound-sqlite"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("pricehound.db");

    let o = obs("file:gold", "Gold", at(0), "101.25", 7);
    {
        let store = SqliteStore::open(&path).unwrap();
        assert!(store.record(&o).await.unwrap().inserted);
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(
        store
            .latest_price(&o.item_id)
            .await
            .unwrap()
            .map(|l| l.price),
        Some(o.price.clone())
    );
    let page = store.latest_prices(&LatestQuery::default()).await.unwrap();
    assert_eq!(page.items.len(), 1);
    // Reopening must not redo migrations or lose idempotency.
    assert!(!store.record(&o).await.unwrap().inserted);
    drop(store);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The bot's tables live in the same file: users and watches survive a restart.
#[tokio::test]
async fn file_store_keeps_users_across_reopen() {
    let dir = std::env::temp_dir().join(unique_name("pricehound-sqlite-users"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("pricehound.db");
    let contact = Contact {
        profile: UserProfile {
            id: UserId(42),
            first_name: "Ada".into(),
            last_name: None,
            username: Some("ada".into()),
            language_code: Some("fr".into()),
        },
        at: at(0),
        referrer: Some("ref".into()),
    };
    let watch = Watch {
        user: UserId(42),
        item: "file:gold".parse().unwrap(),
        created_at: at(1),
        purchased_at: None,
    };
    {
        let store = SqliteStore::open(&path).unwrap();
        assert!(store.touch_user(&contact).await.unwrap().1);
        assert!(store.add_watch(&watch).await.unwrap());
        assert!(store.claim_update(7, at(0)).await.unwrap());
    }
    let store = SqliteStore::open(&path).unwrap();
    let user = store.user(UserId(42)).await.unwrap().unwrap();
    assert_eq!(user.referrer.as_deref(), Some("ref"));
    assert_eq!(store.watches(UserId(42)).await.unwrap(), vec![watch]);
    assert!(
        !store.claim_update(7, at(1)).await.unwrap(),
        "a claimed update stays claimed across a restart"
    );
    drop(store);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Retention in `serve`: a prune removes history older than the retention
/// and usage events older than theirs, never an item's latest observation
/// however old, and what charts and stats read stays.
#[tokio::test]
async fn prune_keeps_recent_history_and_every_latest_price() {
    use chrono::Duration;
    use pricehound::domain::user::{UsageEvent, UsageKind};
    use pricehound::retention::{Prune, Pruned, Retention};
    use pricehound::store::{HistoryQuery, UsageLog};

    let store = SqliteStore::in_memory().unwrap();
    let day = |d: i64| at(0) + Duration::days(d);
    let now = day(1000);
    let retention = Retention {
        history_days: 730,
        usage_days: 400,
    };
    // shop:a changes over the years; shop:b was last seen long ago.
    for (d, amount, post) in [(0, "10", 1), (100, "11", 2), (900, "12", 3)] {
        store
            .record(&obs("shop:a", "A", day(d), amount, post))
            .await
            .unwrap();
    }
    store
        .record(&obs("shop:b", "B", day(10), "5", 4))
        .await
        .unwrap();
    for (d, user) in [(500, 1), (990, 2)] {
        store
            .record_usage(&UsageEvent {
                user: UserId(user),
                at: day(d),
                kind: UsageKind::Command("prices".into()),
            })
            .await
            .unwrap();
    }

    let pruned = store.prune(&retention, now).await.unwrap();
    assert_eq!(
        pruned,
        Pruned {
            observations: 2,
            usage_events: 1
        }
    );
    let history = |item: &'static str| {
        let store = store.clone();
        async move {
            store
                .history(&item.parse().unwrap(), &HistoryQuery::default())
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|o| o.observed_at)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        history("shop:a").await,
        vec![day(900)],
        "the last two years"
    );
    assert_eq!(
        history("shop:b").await,
        vec![day(10)],
        "a latest price is kept"
    );
    let b = store
        .latest_price(&"shop:b".parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b.price.unwrap().amount.to_string(), "5");
    let stats = store.usage_stats(now).await.unwrap();
    assert_eq!(stats.commands, vec![("prices".to_string(), 1)]);
    assert_eq!(
        store.prune(&retention, now).await.unwrap(),
        Pruned::default()
    );
}

/// serve's delayed messages: due ones are handed out oldest first and
/// leased (not handed out again until the lease ends), a put-back
/// replaces the message and its time, and a removed one is gone; all of it
/// on the file, across a reopen.
#[tokio::test]
async fn delayed_messages_lease_replace_remove_and_outlive_a_reopen() {
    use chrono::Duration;
    use pricehound::delayed::DelayedQueue;

    let dir = std::env::temp_dir().join(unique_name("pricehound-delayed"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("pricehound.db");
    let now = at(0);
    {
        let store = SqliteStore::open(&path).unwrap();
        store.schedule("b", "second", now).await.unwrap();
        store
            .schedule("a", "first", now - Duration::seconds(5))
            .await
            .unwrap();
        store
            .schedule("later", "not yet", now + Duration::minutes(5))
            .await
            .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    let lease = now + Duration::minutes(1);
    let due = store.lease_due(now, lease, 10).await.unwrap();
    let ids: Vec<&str> = due.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["a", "b"], "due ones, oldest first");
    assert_eq!(due[0].body, "first");
    assert!(
        store.lease_due(now, lease, 10).await.unwrap().is_empty(),
        "leased"
    );
    // "a" is put back for 10 s, "b" was delivered.
    store
        .schedule("a", "first, again", now + Duration::seconds(10))
        .await
        .unwrap();
    store.remove("b").await.unwrap();
    store.remove("never-there").await.unwrap();
    let at_20s = store
        .lease_due(now + Duration::seconds(20), lease, 10)
        .await
        .unwrap();
    assert_eq!(at_20s.len(), 1);
    assert_eq!(
        (at_20s[0].id.as_str(), at_20s[0].body.as_str()),
        ("a", "first, again")
    );
    // A lease that ran out (the sender died): due again.
    let after_lease = store
        .lease_due(
            lease + Duration::seconds(1),
            lease + Duration::minutes(2),
            10,
        )
        .await
        .unwrap();
    let ids: Vec<&str> = after_lease.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["a"], "'later' is not due for 5 minutes");
}
