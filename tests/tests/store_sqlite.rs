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
