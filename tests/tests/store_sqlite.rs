//! The store conformance suite on the embedded SQLite adapter, plus what
//! only a file-backed store can show.

use pricehound::store::sqlite::SqliteStore;
use pricehound::store::{LatestQuery, Store};
use pricehound_tests::conformance::{at, obs};
use pricehound_tests::conformance_suite;
use pricehound_tests::services::unique_name;

conformance_suite!(async { SqliteStore::in_memory().unwrap() });

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
