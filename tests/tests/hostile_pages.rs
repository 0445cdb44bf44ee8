//! Pages crafted against the HTML parser (sources::html_guard::hostile),
//! served by a local server: the scrape of that source fails with an error
//! saying what was refused and why, and the other sources of the group are
//! scraped as usual. Loopback only; nothing here is timed (the time budget
//! is the `html_budget` benchmark's).

use pricehound::demo;
use pricehound::domain::SourceId;
use pricehound::queue::memory::MemoryQueue;
use pricehound::scrape::Scraper;
use pricehound::sources::fetch::FetchPolicy;
use pricehound::sources::html_guard::hostile;
use pricehound::sources::{Fetcher, ScrapeError, SourceKind, SourcesConfig, scrape_source};
use pricehound::store::Store;
use pricehound::store::sqlite::SqliteStore;
use pricehound_tests::pages::{Answer, Scripted};
use std::sync::Arc;

/// A user link's body cap: every shape is at least this big.
const BYTES: usize = 1024 * 1024;

async fn setup() -> (Scripted, SourcesConfig) {
    let server = Scripted::default();
    let base = server.start().await;
    let mut sources = SourcesConfig::default_sources();
    sources.rebase(&base);
    for s in &mut sources.sources {
        if let SourceKind::HtmlCatalog(c) = &mut s.kind {
            c.max_pages = 1;
        }
    }
    (server, sources)
}

fn fast() -> Fetcher {
    Fetcher::with_policy(FetchPolicy::for_tests())
}

fn assert_refused(e: &ScrapeError, what: &str) {
    let msg = e.to_string();
    assert!(
        matches!(e, ScrapeError::Layout(_)) && msg.contains("refused unparsed"),
        "{what}: {msg}"
    );
}

#[tokio::test]
async fn every_hostile_shape_is_refused_by_every_page_kind() {
    let (server, sources) = setup().await;
    // (source, the path it fetches)
    let kinds = [
        ("olx-gpu", "/ads/q-rtx-4070/"),
        (
            "kalyan-lab-alpha-model-x",
            "/shop/kalyany/alpha-hookah-model-x",
        ),
        ("tg-bijouterie-dz", "/s/bijouterie_or_dz"),
    ];
    for (shape, page) in hostile::shapes(BYTES) {
        for (id, path) in kinds {
            server.set(path, Answer::html(page.clone()));
            let source = sources.source(id).expect("a default source");
            let e = scrape_source(source, &fast(), None).await.expect_err(shape);
            assert_refused(&e, &format!("{id} on {shape}"));
        }
    }
}

#[tokio::test]
async fn a_hostile_page_fails_its_source_only() {
    let (server, mut sources) = setup().await;
    let group = ["olx-gpu", "kalyan-lab-alpha-model-x", "gold-spot-usd"];
    for s in &mut sources.sources {
        if group.contains(&s.id.as_str()) {
            s.group = "gold".into();
        } else {
            s.enabled = false;
        }
    }
    let body = |path: &str| demo::page(path).expect("a recorded page").body.to_string();
    let shapes = hostile::shapes(BYTES);
    let Some((_, bomb)) = shapes.iter().find(|(s, _)| *s == "formatting_recreated") else {
        panic!("no formatting_recreated shape");
    };
    server.set("/ads/q-rtx-4070/", Answer::html(bomb.clone()));
    for path in ["/shop/kalyany/alpha-hookah-model-x", "/dbXRates/USD"] {
        let answer = if path.starts_with("/db") {
            Answer::json(body(path))
        } else {
            Answer::html(body(path))
        };
        server.set(path, answer);
    }
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
    let report = scraper.run_group("gold").await.unwrap();
    let of = |id: &str| {
        report
            .sources
            .iter()
            .find(|s| s.source_id.as_str() == id)
            .unwrap_or_else(|| panic!("{id} not in the report"))
    };
    let olx = of("olx-gpu");
    assert!(!olx.ok, "{olx:?}");
    let error = olx.error.as_deref().unwrap_or_default();
    assert!(
        error.contains("refused unparsed") && error.contains("more than 50000 elements"),
        "{error}"
    );
    for id in ["kalyan-lab-alpha-model-x", "gold-spot-usd"] {
        let s = of(id);
        assert!(s.ok && s.observations > 0, "{s:?}");
    }
    let health = store
        .source_health(&SourceId::new("olx-gpu").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(
        health
            .last_error
            .is_some_and(|e| e.contains("refused unparsed")),
        "the health says why"
    );

    // The same source reads its page again once the site serves a real one.
    server.set("/ads/q-rtx-4070/", Answer::html(body("/ads/q-rtx-4070/")));
    let report = scraper.run_group("gold").await.unwrap();
    assert!(report.sources.iter().all(|s| s.ok), "{report:?}");
}
