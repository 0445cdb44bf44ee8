//! `pricehound serve`'s stack end to end: recorded pages → scrape → in-process
//! queue → ingest → SQLite file → REST API, then a clean shutdown that
//! loses nothing queued.

use pricehound::local::{ServeOptions, serve};
use pricehound::store::sqlite::SqliteStore;
use pricehound::store::{HistoryQuery, LatestQuery, Store};
use pricehound_tests::pages::channel_sources;
use std::time::Duration;

fn temp_db(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("pricehound-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("pricehound.db")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_scrapes_ingests_serves_and_drains_on_shutdown() {
    let db = temp_db("e2e");
    let sources = channel_sources().await;
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let opts = ServeOptions {
        sources,
        db: Some(db.clone()),
        listen: "127.0.0.1:0".parse().unwrap(),
        run_at_start: true,
        http: Default::default(),
        retention: Default::default(),
        telegram: None,
    };
    let running = tokio::spawn(serve(
        opts,
        async move {
            let _ = stop_rx.await;
        },
        move |stack| {
            let _ = ready_tx.send(stack.addr);
        },
    ));
    let addr = ready_rx.await.unwrap();

    // Poll the API (bounded) until the first run's prices are in.
    let client = reqwest_like_get;
    let mut count = 0;
    for _ in 0..100 {
        let body = client(&format!("http://{addr}/api/prices")).await;
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        count = v["prices"].as_array().unwrap().len();
        if count == 7 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(count, 7, "7 items from the two demo channels");
    let health = client(&format!("http://{addr}/api/health")).await;
    assert!(health.contains("\"sqlite\""));

    // The same run, counted on /metrics: observations stored by ingest,
    // source runs by source and outcome, requests by route pattern.
    let metrics = client(&format!("http://{addr}/metrics")).await;
    let value = |series: &str| -> f64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {series} in /metrics:\n{metrics}"))
    };
    assert!(value("observations_stored ") >= 7.0);
    assert!(value("price_changes ") >= 7.0, "each new item is a change");
    assert!(value(r#"source_runs{source="tg-bijouterie-dz",outcome="ok"} "#) >= 1.0);
    assert!(value(r#"http_requests{route="/api/health",status="200"} "#) >= 1.0);
    assert!(value(r#"http_requests{route="/api/prices",status="200"} "#) >= 1.0);
    let missing = reqwest::get(format!("http://{addr}/api/no/such/{}", "x".repeat(40)))
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let metrics = client(&format!("http://{addr}/metrics")).await;
    assert!(
        metrics.contains(r#"http_requests{route="unmatched",status="404"}"#),
        "{metrics}"
    );
    assert!(
        !metrics.contains("xxxxxxxx"),
        "raw paths never become labels"
    );

    stop_tx.send(()).unwrap();
    running.await.unwrap().unwrap();

    // Everything queued was ingested and is in the file.
    let store = SqliteStore::open(&db).unwrap();
    let latest = store
        .latest_prices(&LatestQuery {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(latest.items.len(), 7);
    let mut total = 0;
    for item in &latest.items {
        total += store
            .history(
                &item.item_id,
                &HistoryQuery {
                    limit: 1000,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .items
            .len();
    }
    assert_eq!(total, 72);
    let _ = std::fs::remove_dir_all(db.parent().unwrap());
}

/// A tiny HTTP GET over the loopback, via the crate's own fetcher.
async fn reqwest_like_get(url: &str) -> String {
    let fetcher = pricehound::sources::Fetcher::new();
    fetcher
        .get_text(&url.parse().unwrap())
        .await
        .map(|f| f.body)
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

/// Every default source, through the real stack, read the way a frontend would.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_demo_source_reaches_the_api_with_series_statistics() {
    let sources = pricehound_tests::pages::demo_sources().await;
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(serve(
        ServeOptions {
            sources,
            db: None,
            listen: "127.0.0.1:0".parse().unwrap(),
            run_at_start: true,
            http: Default::default(),
            retention: Default::default(),
            telegram: None,
        },
        async move {
            let _ = stop_rx.await;
        },
        move |stack| {
            let _ = ready_tx.send(stack.addr);
        },
    ));
    let addr = ready_rx.await.unwrap();
    let get = |path: String| async move {
        let body = reqwest_like_get(&format!("http://{addr}{path}")).await;
        serde_json::from_str::<serde_json::Value>(&body).unwrap()
    };

    // Wait (bounded) until every source has reported a successful run.
    let mut healthy = 0;
    let mut total = 0;
    for _ in 0..200 {
        let v = get("/api/sources".into()).await;
        let list = v["sources"].as_array().unwrap().clone();
        total = list.len();
        healthy = list
            .iter()
            .filter(|s| s["health"]["last_success_at"].is_string())
            .count();
        if healthy == total {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(healthy, total, "every source ran successfully");
    // The in-process queue drains into the store: polled up to a deadline,
    // until ingest has handled as many observations as the runs queued
    // (each source's `items_seen`, against ingest's counters on /metrics).
    let sources = get("/api/sources".into()).await;
    let queued: f64 = sources["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["health"]["items_seen"].as_f64().unwrap_or(0.0))
        .sum();
    let mut ingested = 0.0;
    for _ in 0..400 {
        let metrics = reqwest_like_get(&format!("http://{addr}/metrics")).await;
        ingested = ["observations_stored ", "observations_duplicate "]
            .iter()
            .filter_map(|name| {
                metrics
                    .lines()
                    .find_map(|l| l.strip_prefix(name)?.trim().parse::<f64>().ok())
            })
            .sum();
        if ingested >= queued {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(
        queued > 40.0 && ingested >= queued,
        "{ingested} of {queued} ingested"
    );
    let series = get("/api/series".into()).await;
    let ids: Vec<&str> = series["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["series"].as_str().unwrap())
        .collect();
    for want in ["gold-18k", "gold-spot-usd-oz", "rtx-4070", "rtx-4070-ti"] {
        assert!(ids.contains(&want), "{want} in {ids:?}");
    }

    let stats = get("/api/series/rtx-4070/stats?window=1d".into()).await;
    let st = &stats["stats"];
    assert_eq!(st["currency"], "BGN", "{stats}");
    let count = st["count"].as_u64().unwrap();
    assert!(count >= 10, "{stats}");
    let (min, p25, median, max) = (
        st["min"].as_str().unwrap().parse::<f64>().unwrap(),
        st["p25"].as_str().unwrap().parse::<f64>().unwrap(),
        st["median"].as_str().unwrap().parse::<f64>().unwrap(),
        st["max"].as_str().unwrap().parse::<f64>().unwrap(),
    );
    assert!(min <= p25 && p25 <= median && median <= max, "{stats}");
    assert!(
        (700.0..=1600.0).contains(&median),
        "a used RTX 4070 costs about 1000 лв.: {stats}"
    );

    // The tobacco catalogue: brands and stock states reach the API.
    let tobacco = get("/api/prices?source=htreviews-tobacco&limit=1000".into()).await;
    let items = tobacco["prices"].as_array().unwrap();
    assert!(items.len() > 40);
    assert!(
        items.iter().all(|p| p["brand"].is_string()),
        "every flavour has a brand"
    );
    assert!(items.iter().any(|p| p["availability"] == "out_of_stock"));

    stop_tx.send(()).unwrap();
    running.await.unwrap().unwrap();
}
