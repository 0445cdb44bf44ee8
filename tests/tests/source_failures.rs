//! Every page-based source kind against a scripted local server: the good
//! page, a 404, a 429 with Retry-After, a slow answer, an oversized body, a
//! changed layout and an empty page. And one failing source in a group
//! never stops the others; its health says what went wrong.

use pricehound::demo;
use pricehound::domain::SourceId;
use pricehound::queue::memory::MemoryQueue;
use pricehound::scrape::Scraper;
use pricehound::sources::fetch::{FetchError, FetchPolicy};
use pricehound::sources::{Fetcher, ScrapeError, SourceConfig, SourcesConfig, scrape_source};
use pricehound::store::Store;
use pricehound::store::sqlite::SqliteStore;
use pricehound_tests::pages::{Answer, Scripted};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// (source id, the path it fetches first, a recorded good answer)
fn kinds() -> Vec<(&'static str, &'static str, Answer)> {
    let body = |path: &str| demo::page(path).unwrap().body.to_string();
    vec![
        (
            "olx-gpu",
            "/ads/q-rtx-4070/",
            Answer::html(body("/ads/q-rtx-4070/")),
        ),
        (
            "kalyan-lab-alpha-model-x",
            "/shop/kalyany/alpha-hookah-model-x",
            Answer::html(body("/shop/kalyany/alpha-hookah-model-x")),
        ),
        (
            "gold-spot-usd",
            "/dbXRates/USD",
            Answer::json(body("/dbXRates/USD")),
        ),
    ]
}

async fn setup() -> (Scripted, SourcesConfig) {
    let server = Scripted::default();
    let base = server.start().await;
    let mut sources = SourcesConfig::default_sources();
    sources.rebase(&base);
    // One page per source is enough here.
    for s in &mut sources.sources {
        if let pricehound::sources::SourceKind::HtmlCatalog(c) = &mut s.kind {
            c.max_pages = 1;
        }
    }
    (server, sources)
}

fn source<'a>(sources: &'a SourcesConfig, id: &str) -> &'a SourceConfig {
    sources.source(id).unwrap()
}

fn fast() -> Fetcher {
    Fetcher::with_policy(FetchPolicy::for_tests())
}

#[tokio::test]
async fn recorded_pages_yield_observations() {
    let (server, sources) = setup().await;
    for (id, path, good) in kinds() {
        server.set(path, good);
        let out = scrape_source(source(&sources, id), &fast(), None)
            .await
            .unwrap();
        assert!(!out.observations.is_empty(), "{id}");
    }
}

#[tokio::test]
async fn a_404_says_check_the_url() {
    let (_server, sources) = setup().await;
    for (id, _, _) in kinds() {
        let e = scrape_source(source(&sources, id), &fast(), None)
            .await
            .unwrap_err();
        assert!(matches!(e, ScrapeError::NotFound(_)), "{id}: {e:?}");
        assert!(
            e.to_string().contains("check the source's URL"),
            "{id}: {e}"
        );
    }
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out_then_read() {
    let (server, sources) = setup().await;
    for (id, path, good) in kinds() {
        server.set_sequence(
            path,
            vec![Answer::status(429).with_header("retry-after", "1"), good],
        );
        let started = Instant::now();
        let out = scrape_source(source(&sources, id), &fast(), None)
            .await
            .unwrap();
        assert!(!out.observations.is_empty(), "{id}");
        assert!(
            started.elapsed() >= Duration::from_secs(1),
            "{id} honoured Retry-After"
        );
    }
}

#[tokio::test]
async fn a_slow_server_times_out() {
    let (server, sources) = setup().await;
    let fetcher = Fetcher::with_policy(FetchPolicy {
        timeout: Duration::from_millis(300),
        max_retries: 1,
        ..FetchPolicy::for_tests()
    });
    for (id, path, good) in kinds() {
        server.set(path, good.delayed(Duration::from_secs(3)));
        let e = scrape_source(source(&sources, id), &fetcher, None)
            .await
            .unwrap_err();
        assert!(
            matches!(e, ScrapeError::Fetch(FetchError::Timeout { .. })),
            "{id}: {e:?}"
        );
    }
}

#[tokio::test]
async fn an_oversized_body_is_refused() {
    let (server, sources) = setup().await;
    let fetcher = Fetcher::with_policy(FetchPolicy {
        max_body: 4 * 1024,
        ..FetchPolicy::for_tests()
    });
    for (id, path, mut good) in kinds() {
        // Valid content (trailing whitespace is fine in HTML and JSON), just too much of it.
        good.body.push_str(&" ".repeat(8 * 1024));
        server.set(path, good);
        let e = scrape_source(source(&sources, id), &fetcher, None)
            .await
            .unwrap_err();
        assert!(
            matches!(e, ScrapeError::Fetch(FetchError::TooLarge { .. })),
            "{id}: {e:?}"
        );
    }
}

#[tokio::test]
async fn a_changed_layout_is_an_error_that_says_so() {
    let (server, sources) = setup().await;
    let redesigned = "<html><body><main><p>Our new shop is here!</p></main></body></html>";
    server.set("/ads/q-rtx-4070/", Answer::html(redesigned));
    server.set(
        "/shop/kalyany/alpha-hookah-model-x",
        Answer::html(redesigned),
    );
    server.set("/dbXRates/USD", Answer::json(r#"{"data": {"rates": []}}"#));
    for (id, _, _) in kinds() {
        let e = scrape_source(source(&sources, id), &fast(), None)
            .await
            .unwrap_err();
        assert!(matches!(e, ScrapeError::Layout(_)), "{id}: {e:?}");
    }
    // Garbage where JSON was expected is a decode error, not a panic.
    server.set("/dbXRates/USD", Answer::json("<html>maintenance</html>"));
    let e = scrape_source(source(&sources, "gold-spot-usd"), &fast(), None)
        .await
        .unwrap_err();
    assert!(
        matches!(e, ScrapeError::Fetch(FetchError::Decode { .. })),
        "{e:?}"
    );
}

#[tokio::test]
async fn an_empty_result_page_is_empty_not_an_error() {
    let (server, sources) = setup().await;
    // The marketplace's own "no results" page, and a feed with no items.
    server.set(
        "/ads/q-rtx-4070/",
        Answer::html(demo::page("/ads/q-rtx-4070/?page=3").unwrap().body),
    );
    server.set("/dbXRates/USD", Answer::json(r#"{"ts": 1, "items": []}"#));
    for id in ["olx-gpu", "gold-spot-usd"] {
        let out = scrape_source(source(&sources, id), &fast(), None)
            .await
            .unwrap();
        assert!(out.observations.is_empty(), "{id}");
    }
}

#[tokio::test]
async fn one_failing_source_never_stops_the_others_and_health_tracks_it() {
    let (server, mut sources) = setup().await;
    for s in &mut sources.sources {
        if s.id.as_str() == "olx-gpu" || s.id.as_str() == "gold-spot-usd" {
            s.group = "gold".into();
        } else {
            s.enabled = false;
        }
    }
    let (path, good) = ("/ads/q-rtx-4070/", kinds().remove(0).2);
    server.set(path, good);
    server.set("/dbXRates/USD", Answer::status(500));
    let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().unwrap());
    let (queue, _rx) = MemoryQueue::new();
    let scraper = Scraper {
        sources: Arc::new(sources),
        fetcher: fast(),
        user_fetcher: Fetcher::for_user_links(),
        store: store.clone(),
        queue: Arc::new(queue),
        tracked: None,
    };
    for _ in 0..2 {
        let report = scraper.run_group("gold").await.unwrap();
        let olx = report
            .sources
            .iter()
            .find(|s| s.source_id.as_str() == "olx-gpu")
            .unwrap();
        let spot = report
            .sources
            .iter()
            .find(|s| s.source_id.as_str() == "gold-spot-usd")
            .unwrap();
        assert!(olx.ok && olx.observations > 0, "{olx:?}");
        assert!(
            !spot.ok && spot.error.as_deref().unwrap().contains("500"),
            "{spot:?}"
        );
    }
    let bad = store
        .source_health(&SourceId::new("gold-spot-usd").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((bad.consecutive_failures, bad.runs), (2, 2));
    assert!(bad.last_error.unwrap().contains("HTTP 500"));
    assert!(bad.last_success_at.is_none());
    let good = store
        .source_health(&SourceId::new("olx-gpu").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(good.consecutive_failures, 0);
    assert!(good.items_seen > 0);

    // The site recovers: the failure streak resets, the last error is kept.
    server.set("/dbXRates/USD", kinds().remove(2).2);
    scraper.run_group("gold").await.unwrap();
    let bad = store
        .source_health(&SourceId::new("gold-spot-usd").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bad.consecutive_failures, 0);
    assert!(bad.last_error.is_some() && bad.last_success_at.is_some());
}
