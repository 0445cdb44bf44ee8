//! `GET /api/search` end to end: the real Router on 127.0.0.1 over a SQLite
//! file of N items, asked by one keep-alive HTTP client, one request at a
//! time. Reports the first search (the store scan and the index build it
//! waits for) and then p50/p99 per request over the query mix of the
//! `search` benchmark. N is 10,000 and 1,000,000 unless SEARCH_HTTP_ITEMS
//! names others (comma-separated).
//! `cargo bench -p pricehound --bench search_http`; results in BENCHMARKS.md.

mod catalogue;

use catalogue::{QUERIES, names, percentile, rss_mib};
use chrono::{Duration, TimeZone, Utc};
use pricehound::domain::{Currency, ItemId, Money, Observation, Provenance, SourceId};
use pricehound::http::{AppState, router};
use pricehound::sources::SourcesConfig;
use pricehound::store::Store;
use pricehound_sqlite::SqliteStore;
use std::sync::Arc;
use std::time::Instant;

async fn fill(store: &dyn Store, n: usize) {
    let eur = Currency::new("EUR").expect("EUR is a currency");
    let t0 = Utc
        .with_ymd_and_hms(2026, 12, 1, 0, 0, 0)
        .single()
        .expect("a valid time");
    for (i, (name, id)) in names(n).into_iter().enumerate() {
        let item = ItemId::new(id).expect("a valid item id");
        let source = item.source_id();
        let at = t0 + Duration::seconds(i as i64);
        let obs = Observation::new(
            SourceId::new(source.as_str()).expect("a valid source id"),
            item,
            name,
            None,
            Money::new(rust_decimal::Decimal::from(10 + i % 990), eur),
            at,
            Provenance::Page {
                url: format!("https://shop.example/{i}"),
                fetched_at: at,
            },
        );
        store.record(&obs).await.expect("recorded");
    }
}

#[tokio::main]
async fn main() {
    let sizes: Vec<usize> = std::env::var("SEARCH_HTTP_ITEMS")
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 1_000_000]);
    for n in sizes {
        let dir =
            std::env::temp_dir().join(format!("pricehound-search-http-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temp dir");
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(&dir.join("bench.db")).expect("a SQLite file"));
        let started = Instant::now();
        fill(store.as_ref(), n).await;
        let filled = started.elapsed();

        let app = router(AppState {
            store,
            sources: Arc::new(SourcesConfig::default_sources()).into(),
            telegram: None,
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let base = format!("http://{}", listener.local_addr().expect("an address"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("a client");
        let ask = |q: &str| {
            let url = format!("{base}/api/search?limit=20&q={}", urlencode(q));
            let client = client.clone();
            async move {
                let r = client.get(url).send().await.expect("an answer");
                assert!(r.status().is_success(), "{}", r.status());
                r.bytes().await.expect("a body").len()
            }
        };

        let before = rss_mib();
        let t = Instant::now();
        ask("darksid").await;
        let first = t.elapsed();
        let grown = rss_mib() - before;

        for q in QUERIES {
            ask(q).await;
        }
        let rounds = if n > 100_000 { 20 } else { 100 };
        let mut times = Vec::new();
        let mut bytes = 0;
        for _ in 0..rounds {
            for q in QUERIES {
                let t = Instant::now();
                bytes += ask(q).await;
                times.push(t.elapsed().as_secs_f64() * 1e6);
            }
        }
        times.sort_by(|a, b| a.total_cmp(b));
        println!(
            "search over HTTP, {n:>9} items (filled in {:.1} s): first search {:>7.0} ms (scan + build, RSS +{:.0} MiB); then p50 {:>8.1} µs, p99 {:>9.1} µs, max {:>9.1} µs ({} requests, {} B/answer)",
            filled.as_secs_f64(),
            first.as_secs_f64() * 1e3,
            grown,
            percentile(&times, 0.50),
            percentile(&times, 0.99),
            times.last().copied().unwrap_or_default(),
            times.len(),
            bytes / times.len().max(1),
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Percent-encodes a query value (letters and digits as they are).
fn urlencode(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
