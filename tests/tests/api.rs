//! The REST API over the real Router and a SQLite store seeded by the real
//! pipeline from recorded pages.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use pricehound::http::{AppState, router};
use pricehound::sources::SourcesConfig;
use pricehound::store::Store;
use pricehound::store::sqlite::SqliteStore;
use pricehound_tests::pages::seed;
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;

async fn app() -> axum::Router {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().unwrap());
    assert_eq!(seed(store.clone()).await, 72);
    router(AppState {
        store,
        sources: Arc::new(SourcesConfig::default_sources()).into(),
        telegram: None,
    })
}

async fn get(app: &axum::Router, uri: &str) -> (StatusCode, Value) {
    let resp = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let json = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
    (status, json)
}

fn error_code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("<no error code>")
}

/// The store down (a DynamoDB endpoint nobody listens on): health answers
/// 503 "degraded" so a load balancer or uptime check sees it, and the
/// error never carries the SDK's chain to the caller.
#[tokio::test]
async fn health_is_503_while_the_store_is_down() {
    // Port 1 on loopback: connections are refused at once.
    let config = pricehound_tests::services::sdk_config("http://127.0.0.1:1").await;
    let store = pricehound::store::dynamo::DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&config),
        "prices",
    );
    let app = router(AppState {
        store: Arc::new(store),
        sources: Arc::new(SourcesConfig::default_sources()).into(),
        telegram: None,
    });
    let (s, v) = get(&app, "/api/health").await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{v}");
    assert_eq!(v["status"], "degraded");
    assert_eq!(v["store"], "dynamodb");
    assert!(!v.to_string().contains("127.0.0.1"), "{v}");
    // Reads that need the store fail with the JSON error shape, not a hang.
    let (s, v) = get(&app, "/api/prices").await;
    assert!(s.is_server_error(), "{s} {v}");
    assert!(v["error"]["code"].is_string(), "{v}");
}

#[tokio::test]
async fn health_names_the_store() {
    let app = app().await;
    let (s, v) = get(&app, "/api/health").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["status"], "ok");
    assert_eq!(v["store"], "sqlite");
}

#[tokio::test]
async fn sources_show_schedule_and_checkpoint() {
    let app = app().await;
    let (s, v) = get(&app, "/api/sources").await;
    assert_eq!(s, StatusCode::OK);
    let dz = v["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "tg-bijouterie-dz")
        .unwrap();
    assert_eq!(dz["kind"], "telegram_channel");
    assert_eq!(dz["schedule"], "rate(15 minutes)");
    assert_eq!(dz["last_post_id"], 120);
}

#[tokio::test]
async fn prices_are_decimal_strings_filtered_and_paginated() {
    let app = app().await;
    let (s, v) = get(&app, "/api/prices?source=tg-zoloto-lombard").await;
    assert_eq!(s, StatusCode::OK);
    let prices = v["prices"].as_array().unwrap();
    assert_eq!(prices.len(), 3, "585, 750 and 999 probes");
    for p in prices {
        assert_eq!(p["source_id"], "tg-zoloto-lombard");
        assert!(
            p["price"]["amount"].is_string(),
            "money is a decimal string: {p}"
        );
        assert_eq!(p["price"]["currency"], "RUB");
    }
    let p999 = prices
        .iter()
        .find(|p| p["item_id"] == "tg-zoloto-lombard:999-proba")
        .unwrap();
    assert_eq!(p999["price"]["amount"], "9213.5", "the newest post's price");
    assert_eq!(p999["link"], "https://t.me/zoloto_lombard_ru/240");

    // Walk all 7 items two at a time.
    let mut seen = Vec::new();
    let mut uri = "/api/prices?limit=2".to_string();
    loop {
        let (s, v) = get(&app, &uri).await;
        assert_eq!(s, StatusCode::OK);
        for p in v["prices"].as_array().unwrap() {
            seen.push(p["item_id"].as_str().unwrap().to_string());
        }
        match v["next_cursor"].as_str() {
            Some(c) => uri = format!("/api/prices?limit=2&cursor={c}"),
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(seen, sorted, "ordered, no duplicates");
    assert_eq!(seen.len(), 7);
}

#[tokio::test]
async fn item_history_by_range_order_and_cursor() {
    let app = app().await;
    let id = "tg-bijouterie-dz:or-18k-casse";
    let (s, v) = get(&app, &format!("/api/items/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["item"]["price"]["amount"], "13740");

    let (s, v) = get(&app, &format!("/api/items/{id}/history")).await;
    assert_eq!(s, StatusCode::OK);
    let all = v["observations"].as_array().unwrap();
    assert_eq!(all.len(), 10, "one price per price post");
    let times: Vec<&str> = all
        .iter()
        .map(|o| o["observed_at"].as_str().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "ascending by default"
    );

    let (_, v) = get(&app, &format!("/api/items/{id}/history?order=desc&limit=3")).await;
    let page1 = v["observations"].as_array().unwrap().clone();
    assert_eq!(page1[0]["price"]["amount"], "13740");
    let cursor = v["next_cursor"].as_str().unwrap().to_string();
    let (_, v) = get(
        &app,
        &format!("/api/items/{id}/history?order=desc&limit=3&cursor={cursor}"),
    )
    .await;
    let page2 = v["observations"].as_array().unwrap();
    assert!(page2[0]["observed_at"].as_str() < page1[2]["observed_at"].as_str());

    // from is inclusive, to exclusive.
    let (_, v) = get(
        &app,
        &format!("/api/items/{id}/history?from=2026-11-19T00:00:00Z&to=2026-11-20T08:00:00Z"),
    )
    .await;
    let obs = v["observations"].as_array().unwrap();
    assert_eq!(obs.len(), 1);
    assert_eq!(obs[0]["observed_at"], "2026-11-19T00:00:00Z");
}

#[tokio::test]
async fn bad_parameters_are_400_with_a_message() {
    let app = app().await;
    let h = "/api/items/tg-bijouterie-dz:or-21k/history";
    for (uri, needle) in [
        ("/api/prices?limit=0".to_string(), "limit"),
        ("/api/prices?limit=abc".to_string(), "limit"),
        ("/api/prices?limit=1001".to_string(), "limit"),
        ("/api/prices?source=Not%20An%20Id".to_string(), "source"),
        ("/api/prices?cursor=%00%01".to_string(), "cursor"),
        ("/api/prices?colour=red".to_string(), "colour"),
        ("/api/prices?limit=1&limit=2".to_string(), "limit"),
        (format!("{h}?from=yesterday"), "from"),
        (format!("{h}?to=2026-13-45"), "to"),
        (format!("{h}?from=2026-11-20&to=2026-11-01"), "before"),
        (format!("{h}?order=sideways"), "order"),
        (format!("{h}?cursor=!!!"), "cursor"),
        ("/api/items/UPPER/history".to_string(), "item id"),
        (format!("/api/prices?source={}", "a".repeat(5000)), "source"),
    ] {
        let (s, v) = get(&app, &uri).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{uri}: {v}");
        assert_eq!(error_code(&v), "bad_request", "{uri}");
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(msg.contains(needle), "{uri}: {msg}");
    }
}

#[tokio::test]
async fn unknown_things_are_404_json() {
    let app = app().await;
    for (uri, code) in [
        ("/api/items/tg-bijouterie-dz:platinum", "unknown_item"),
        (
            "/api/items/tg-bijouterie-dz:platinum/history",
            "unknown_item",
        ),
        ("/api/prices?source=tg-nowhere", "unknown_source"),
        ("/api/nothing", "not_found"),
        ("/robots.txt", "not_found"),
    ] {
        let (s, v) = get(&app, uri).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(error_code(&v), code, "{uri}");
    }
}

#[tokio::test]
async fn web_page_and_cors() {
    let app = app().await;
    let resp = app
        .clone()
        .oneshot(Request::get("/").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    let html = String::from_utf8(body.to_vec()).unwrap();
    assert!(html.contains("<title>pricehound</title>"));
    assert!(
        !html.contains("innerHTML ="),
        "scraped names never go through innerHTML"
    );

    let resp = app
        .oneshot(
            Request::get("/api/prices")
                .header("origin", "https://example.org")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");
}

#[tokio::test]
async fn series_are_listed_with_item_counts() {
    let app = app().await;
    let (s, v) = get(&app, "/api/series").await;
    assert_eq!(s, StatusCode::OK);
    let series = v["series"].as_array().unwrap();
    let find = |id: &str| series.iter().find(|x| x["series"] == id).cloned();
    assert_eq!(
        find("gold-18k").unwrap()["items"],
        2,
        "18K cassé and 18K neuf"
    );
    assert_eq!(find("gold-585").unwrap()["items"], 1);
}

#[tokio::test]
async fn series_stats_over_a_window() {
    let app = app().await;
    let (s, v) = get(&app, "/api/series/gold-18k/stats?window=30d&to=2026-11-22").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let st = &v["stats"];
    assert_eq!(st["currency"], "DZD");
    assert_eq!(
        st["count"], 2,
        "two items, each counted once at its newest price"
    );
    assert_eq!(st["min"], "13740");
    assert_eq!(st["max"], "15440");
    assert_eq!(st["median"], "14590");
    assert!(st["outliers"].as_array().unwrap().is_empty());

    // A window with no prices: the series exists, the stats are null.
    let (s, v) = get(&app, "/api/series/gold-18k/stats?window=1d&to=2026-01-01").await;
    assert_eq!(s, StatusCode::OK);
    assert!(v["stats"].is_null());

    for (uri, status) in [
        ("/api/series/gold-99k/stats", StatusCode::NOT_FOUND),
        (
            "/api/series/gold-18k/stats?window=7",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/series/gold-18k/stats?window=900d",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/series/gold-18k/stats?to=soon",
            StatusCode::BAD_REQUEST,
        ),
        ("/api/series/Gold%2018k/stats", StatusCode::BAD_REQUEST),
    ] {
        let (s, v) = get(&app, uri).await;
        assert_eq!(s, status, "{uri}: {v}");
    }
}

#[tokio::test]
async fn sources_show_health_after_a_run() {
    let app = app().await;
    let (_, v) = get(&app, "/api/sources").await;
    let dz = v["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "tg-bijouterie-dz")
        .unwrap()
        .clone();
    let h = &dz["health"];
    assert!(h["last_success_at"].is_string(), "{dz}");
    assert_eq!(h["consecutive_failures"], 0);
    assert_eq!(h["items_seen"], 30);
}

/// Items of pages users pasted into the bot are not public unless the
/// operator opts in (`PRICEHOUND_PUBLIC_TRACKED_PAGES`).
#[tokio::test]
async fn pasted_pages_are_private_unless_the_operator_opts_in() {
    use pricehound::domain::{Currency, ItemId, Money, Observation, Provenance};
    use pricehound::http::{HttpConfig, router_with};
    let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().unwrap());
    let now = chrono::Utc::now();
    let id = ItemId::new("page-0123456789ab:product").unwrap();
    let obs = Observation::new(
        id.source_id(),
        id.clone(),
        "Someone's wishlist item",
        None,
        Money::new(
            rust_decimal::Decimal::from(42),
            Currency::new("EUR").unwrap(),
        ),
        now,
        Provenance::Page {
            url: "https://shop.example/p/1".into(),
            fetched_at: now,
        },
    );
    store.record(&obs).await.unwrap();
    let state = AppState {
        store,
        sources: Arc::new(SourcesConfig::default_sources()).into(),
        telegram: None,
    };
    let private = router(state.clone());
    let (s, v) = get(&private, "/api/prices").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["prices"].as_array().unwrap().len(), 0, "{v}");
    let (s, _) = get(&private, &format!("/api/items/{id}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = get(&private, &format!("/api/items/{id}/history")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let public = router_with(
        state,
        HttpConfig {
            public_tracked_pages: true,
            ..HttpConfig::default()
        },
    );
    let (_, v) = get(&public, "/api/prices").await;
    assert_eq!(v["prices"][0]["item_id"], id.as_str());
    let (s, _) = get(&public, &format!("/api/items/{id}")).await;
    assert_eq!(s, StatusCode::OK);
}

/// Conditional GETs: a read carries an ETag and Cache-Control; sending the
/// tag back gets 304 with no body; a new price changes the tag; health is
/// never cached.
#[tokio::test]
async fn reads_carry_an_etag_and_answer_304_until_the_data_changes() {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().unwrap());
    seed(store.clone()).await;
    let app = router(AppState {
        store: store.clone(),
        sources: Arc::new(SourcesConfig::default_sources()).into(),
        telegram: None,
    });
    let send = |uri: &str, tag: Option<&str>| {
        let mut req = Request::get(uri);
        if let Some(t) = tag {
            req = req.header("if-none-match", t);
        }
        let app = app.clone();
        let req = req.body(Body::empty()).unwrap();
        async move {
            let resp = app.oneshot(req).await.unwrap();
            let status = resp.status();
            let headers = resp.headers().clone();
            let body = resp.into_body().collect().await.unwrap().to_bytes();
            (status, headers, body)
        }
    };
    let uri = "/api/prices?limit=5";
    let (s, h, body) = send(uri, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(!body.is_empty());
    let tag = h["etag"].to_str().unwrap().to_string();
    assert!(tag.starts_with('"') && tag.ends_with('"'), "{tag}");
    assert_eq!(h["cache-control"], "public, max-age=60");
    // The same version: 304, no body; a list with it, or a weak form, too.
    for sent in [tag.clone(), format!("\"nope\", {tag}"), format!("W/{tag}")] {
        let (s, h, body) = send(uri, Some(&sent)).await;
        assert_eq!(s, StatusCode::NOT_MODIFIED, "{sent}");
        assert!(body.is_empty());
        assert_eq!(h["etag"].to_str().unwrap(), tag);
    }
    let (s, _, _) = send(uri, Some("\"something-else\"")).await;
    assert_eq!(s, StatusCode::OK);
    // A new price for the first listed item: a new version.
    let first: Value = serde_json::from_slice(&body).unwrap();
    let item = first["prices"][0]["item_id"].as_str().unwrap().to_string();
    let name = first["prices"][0]["name"].as_str().unwrap().to_string();
    let o = pricehound_tests::conformance::obs(&item, &name, chrono::Utc::now(), "1.00", 999);
    store.record(&o).await.unwrap();
    let (s, h, _) = send(uri, Some(&tag)).await;
    assert_eq!(s, StatusCode::OK, "the data changed");
    assert_ne!(h["etag"].to_str().unwrap(), tag);
    // Errors are not tagged; health is not cached.
    let (s, h, _) = send("/api/items/no:such", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(h.get("etag").is_none());
    let (_, h, _) = send("/api/health", None).await;
    assert_eq!(h["cache-control"], "no-store");
}

/// `/api/search`: ranked, typo-tolerant, over name, brand and series, with
/// a source filter; bad parameters are 400s that name them.
#[tokio::test]
async fn search_finds_typos_and_joined_model_numbers() {
    use pricehound_tests::bot::seed_observations;
    let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().unwrap());
    for o in seed_observations(chrono::Utc::now()) {
        store.record(&o).await.unwrap();
    }
    for (key, name) in [
        ("asus-4070", "ASUS Dual GeForce RTX 4070 SUPER"),
        ("msi-4070", "MSI RTX4070 Ventus 2X"),
        ("gb-3070", "Gigabyte RTX 3070 Gaming"),
    ] {
        let o = pricehound_tests::conformance::obs(
            &format!("olx-gpu:{key}"),
            name,
            chrono::Utc::now(),
            "500",
            1,
        );
        store.record(&o).await.unwrap();
    }
    let app = router(AppState {
        store,
        sources: Arc::new(SourcesConfig::default_sources()).into(),
        telegram: None,
    });
    let names = |v: &Value| -> Vec<String> {
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_string())
            .collect()
    };
    let (s, v) = get(&app, "/api/search?q=darksid").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let found = names(&v);
    assert!(
        found.len() >= 2 && found.iter().all(|n| n.starts_with("Darkside")),
        "{found:?}"
    );
    assert!(v["indexed"].as_u64().unwrap() >= 5);
    let (_, v) = get(&app, "/api/search?q=darkisde%20cola").await;
    assert_eq!(names(&v), vec!["Darkside Cola"], "a typo");
    let (_, v) = get(&app, "/api/search?q=rtx4070").await;
    let found = names(&v);
    assert!(
        found.contains(&"ASUS Dual GeForce RTX 4070 SUPER".to_string())
            && found.contains(&"MSI RTX4070 Ventus 2X".to_string()),
        "joined and apart: {found:?}"
    );
    assert!(
        found.iter().all(|n| n.contains("4070")),
        "not the 3070: {found:?}"
    );
    let (_, v) = get(&app, "/api/search?q=must%20have&limit=1").await;
    assert_eq!(names(&v).len(), 1);
    let (_, v) = get(&app, "/api/search?q=%20").await;
    assert_eq!(names(&v), Vec::<String>::new(), "no words, no results");
    for (uri, what) in [
        ("/api/search", "q"),
        ("/api/search?q=", "q"),
        ("/api/search?q=a&limit=0", "limit"),
        ("/api/search?q=a&limit=101", "limit"),
        ("/api/search?q=a&source=NOT%20A%20SOURCE", "source"),
        ("/api/search?q=a&page=2", "page"),
    ] {
        let (s, v) = get(&app, uri).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{uri}: {v}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains(what),
            "{uri}: {v}"
        );
    }
    let long = "a".repeat(201);
    let (s, _) = get(&app, &format!("/api/search?q={long}")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, v) = get(&app, "/api/search?q=a&source=no-such-source").await;
    assert_eq!(
        (s, error_code(&v)),
        (StatusCode::NOT_FOUND, "unknown_source")
    );
}

/// `/api/series/{id}`: the statistics and every listing with its deal
/// against the median, best first; outliers (a box without the card, a
/// typo with an extra zero) are marked and get no score.
#[tokio::test]
async fn a_series_lists_its_listings_with_deal_scores_and_outliers_marked() {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().unwrap());
    let now = chrono::Utc::now();
    for (i, (key, price)) in [
        ("a", "500"),
        ("b", "520"),
        ("c", "400"),
        ("d", "510"),
        ("e", "490"),
        ("box", "40"),
        ("typo", "5000"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut o = pricehound_tests::conformance::obs(
            &format!("olx-gpu:rtx-{key}"),
            &format!("RTX 4070 {key}"),
            now - chrono::Duration::hours(i as i64 + 1),
            price,
            i as u64,
        );
        o.series = Some("rtx-4070".parse().unwrap());
        store.record(&o).await.unwrap();
    }
    let app = router(AppState {
        store,
        sources: Arc::new(SourcesConfig::default_sources()).into(),
        telegram: None,
    });
    let (s, v) = get(&app, "/api/series/rtx-4070").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["series"], "rtx-4070");
    assert_eq!(v["stats"]["median"], "500", "{v}");
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 7);
    let by_key = |k: &str| {
        items
            .iter()
            .find(|i| i["item_id"] == format!("olx-gpu:rtx-{k}"))
            .unwrap()
    };
    // 400 is 20 % under the median: score 70, and the best deal.
    assert_eq!(items[0]["item_id"], "olx-gpu:rtx-c");
    assert_eq!(by_key("c")["deal"]["vs_median_percent"], "-20.0");
    assert_eq!(by_key("c")["deal"]["score"], 70);
    assert_eq!(by_key("a")["deal"]["score"], 50, "at the median");
    assert_eq!(by_key("b")["deal"]["vs_median_percent"], "4.0");
    for k in ["box", "typo"] {
        assert_eq!(by_key(k)["deal"]["outlier"], true, "{k}");
        assert!(by_key(k)["deal"]["score"].is_null(), "{k}");
    }
    assert_eq!(
        by_key("a")["price"]["amount"],
        "500",
        "each listing is a price view"
    );
    let (s, v) = get(&app, "/api/series/no-such-series").await;
    assert_eq!(
        (s, error_code(&v)),
        (StatusCode::NOT_FOUND, "unknown_series")
    );
    let (s, _) = get(&app, "/api/series/BAD%20ID").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

/// `/api/gold`: each jeweler's quotes on one fineness scale (18K and 750
/// are the same column), and spot per gram at each fineness.
#[tokio::test]
async fn the_gold_board_puts_karats_and_probes_side_by_side_with_spot() {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().unwrap());
    seed(store.clone()).await;
    let mut spot = pricehound_tests::conformance::obs(
        "gold-spot-usd:xau-usd",
        "Gold spot (XAU/USD, troy ounce)",
        chrono::Utc::now(),
        "2650.00",
        1,
    );
    spot.series = Some("gold-spot-usd-oz".parse().unwrap());
    if let Some(p) = spot.price.as_mut() {
        p.currency = "USD".parse().unwrap();
    }
    store.record(&spot).await.unwrap();
    // The dollar in roubles, as the Bank of Russia source files it.
    let mut usd_rub = pricehound_tests::conformance::obs(
        "fx-cbr-usd-rub:usd-rub",
        "US dollar in roubles (Bank of Russia)",
        chrono::Utc::now(),
        "95.2341",
        1,
    );
    usd_rub.series = Some("fx-usd-rub".parse().unwrap());
    if let Some(p) = usd_rub.price.as_mut() {
        p.currency = "RUB".parse().unwrap();
    }
    store.record(&usd_rub).await.unwrap();
    let app = router(AppState {
        store,
        sources: Arc::new(SourcesConfig::default_sources()).into(),
        telegram: None,
    });
    let (s, v) = get(&app, "/api/gold").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let fineness: Vec<u64> = v["fineness"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_u64().unwrap())
        .collect();
    assert!(fineness.contains(&750), "{fineness:?}");
    let mut sorted = fineness.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(fineness, sorted, "finest first");
    let jewelers = v["jewelers"].as_array().unwrap();
    let dz = jewelers
        .iter()
        .find(|j| j["source_id"] == "tg-bijouterie-dz")
        .expect("the Algiers jeweler");
    let q750 = dz["quotes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["fineness"] == 750)
        .expect("an 18K quote");
    assert_eq!(q750["item"]["price"]["currency"], "DZD");
    let ru = jewelers
        .iter()
        .find(|j| j["source_id"] == "tg-zoloto-lombard")
        .expect("the lombard");
    assert!(
        ru["quotes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|q| q["item"]["price"]["currency"] == "RUB")
    );
    assert!(
        jewelers.iter().all(|j| j["source_id"] != "gold-spot-usd"),
        "spot is not a jeweler"
    );
    let spot = &v["spot"];
    assert_eq!(spot["item"]["source_id"], "gold-spot-usd", "{spot}");
    let per_gram = spot["per_gram"].as_array().unwrap();
    assert_eq!(per_gram.len(), fineness.len());
    // Spot per gram at 999 ≈ ounce price / 31.1035 × 0.999.
    let oz: f64 = spot["item"]["price"]["amount"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    if let Some(g999) = per_gram.iter().find(|p| p["fineness"] == 999) {
        let g: f64 = g999["price"]["amount"].as_str().unwrap().parse().unwrap();
        assert!((g - oz / 31.1034768 * 0.999).abs() < 0.01, "{g} vs {oz}");
    }
    // Converted into roubles for the Russian jeweler (a rate is known), not
    // into dinars (none is); the rate is not a jeweler either.
    let converted = spot["converted"].as_array().unwrap();
    assert_eq!(converted.len(), 1, "{spot}");
    let rub = &converted[0];
    assert_eq!(rub["currency"], "RUB");
    assert_eq!(rub["rate"]["base"], "USD");
    assert_eq!(rub["rate"]["rate"], "95.2341");
    let g750: f64 = rub["per_gram"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["fineness"] == 750)
        .expect("750 in roubles")["price"]["amount"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let want = oz * 95.2341 / 31.1034768 * 0.75;
    assert!((g750 - want).abs() < 0.01, "{g750} vs {want}");
    assert!(jewelers.iter().all(|j| j["source_id"] != "fx-cbr-usd-rub"));
}

/// `/api/prices` with filters and a sort: each filter narrows, sorts order,
/// the cursor pages through the same filtered list, and bad values are 400s
/// that name the parameter.
#[tokio::test]
async fn prices_filter_by_series_brand_availability_and_price_and_sort() {
    use pricehound_tests::bot::seed_observations;
    let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().unwrap());
    for o in seed_observations(chrono::Utc::now()) {
        store.record(&o).await.unwrap();
    }
    let app = router(AppState {
        store,
        sources: Arc::new(SourcesConfig::default_sources()).into(),
        telegram: None,
    });
    let list = |v: &Value| -> Vec<Value> { v["prices"].as_array().unwrap().clone() };
    let (s, v) = get(&app, "/api/prices?brand=darkside").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let rows = list(&v);
    assert!(rows.len() >= 2);
    assert!(
        rows.iter().all(|r| r["brand"] == "Darkside"),
        "case-insensitive: {v}"
    );
    let (_, v) = get(&app, "/api/prices?currency=RUB&sort=price_asc").await;
    let amounts: Vec<f64> = list(&v)
        .iter()
        .map(|r| r["price"]["amount"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(amounts.len() >= 4, "{v}");
    assert!(
        amounts.windows(2).all(|w| w[0] <= w[1]),
        "ascending: {amounts:?}"
    );
    let (_, v) = get(&app, "/api/prices?currency=RUB&sort=price_desc").await;
    let desc: Vec<f64> = list(&v)
        .iter()
        .map(|r| r["price"]["amount"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(
        desc.windows(2).all(|w| w[0] >= w[1]),
        "descending: {desc:?}"
    );
    let (lo, hi) = (desc[desc.len() - 1], desc[0]);
    let (_, v) = get(
        &app,
        &format!(
            "/api/prices?currency=RUB&min_price={}&max_price={}",
            lo + 1.0,
            hi - 1.0
        ),
    )
    .await;
    assert!(
        list(&v).iter().all(|r| {
            let a: f64 = r["price"]["amount"].as_str().unwrap().parse().unwrap();
            a > lo && a < hi
        }),
        "{v}"
    );
    let (_, v) = get(&app, "/api/prices?availability=in_stock").await;
    assert!(list(&v).iter().all(|r| r["availability"] == "in_stock"));
    let (_, v) = get(&app, "/api/prices?series=gold-18k").await;
    assert!(
        !list(&v).is_empty() && list(&v).iter().all(|r| r["series"] == "gold-18k"),
        "{v}"
    );
    // Paging through a filtered list: every row once, in order.
    let (_, all) = get(&app, "/api/prices?sort=name&limit=1000").await;
    let all: Vec<Value> = list(&all).iter().map(|r| r["item_id"].clone()).collect();
    let mut paged = Vec::new();
    let mut uri = "/api/prices?sort=name&limit=2".to_string();
    loop {
        let (s, v) = get(&app, &uri).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        paged.extend(list(&v).iter().map(|r| r["item_id"].clone()));
        match v["next_cursor"].as_str() {
            Some(c) => uri = format!("/api/prices?sort=name&limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(paged, all);
    for (uri, what) in [
        ("/api/prices?sort=cheapest", "sort"),
        ("/api/prices?availability=maybe", "availability"),
        ("/api/prices?currency=eur", "currency"),
        ("/api/prices?currency=XYZ", "currency"),
        ("/api/prices?min_price=-1", "min_price"),
        ("/api/prices?max_price=1e3", "max_price"),
        ("/api/prices?min_price=01", "min_price"),
        ("/api/prices?series=Not%20A%20Series", "series"),
        ("/api/prices?brand=", "brand"),
        ("/api/prices?sort=name&cursor=zz", "cursor"),
    ] {
        let (s, v) = get(&app, uri).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{uri}: {v}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains(what),
            "{uri}: {v}"
        );
    }
}

/// Sorting by change: the biggest drops (or rises) first, from the last
/// change each item's latest price carries; items whose price never moved
/// come last, and each row says what it moved from and by how much.
#[tokio::test]
async fn prices_sort_by_their_last_change() {
    use pricehound_tests::conformance::{at, obs};
    let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().unwrap());
    for (item, prices) in [
        ("shop:a", &["100", "80"][..]),
        ("shop:b", &["100", "110"][..]),
        ("shop:c", &["50"][..]),
        ("shop:d", &["100", "95", "95"][..]),
    ] {
        for (n, p) in prices.iter().enumerate() {
            let o = obs(item, item, at(n as i64), p, n as u64 + 1);
            store.record(&o).await.unwrap();
        }
    }
    let app = router(AppState {
        store,
        sources: Arc::new(SourcesConfig::default_sources()).into(),
        telegram: None,
    });
    let order = |v: &Value| -> Vec<String> {
        v["prices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["item_id"].as_str().unwrap().to_string())
            .collect()
    };
    let (s, v) = get(&app, "/api/prices?sort=change_asc").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(order(&v), ["shop:a", "shop:d", "shop:b", "shop:c"], "{v}");
    let a = &v["prices"][0]["change"];
    assert_eq!(a["from"]["amount"], "100", "{v}");
    assert_eq!(a["percent"], "-20", "{v}");
    assert!(
        v["prices"][3].get("change").is_none(),
        "no move, no change: {v}"
    );
    let (_, v) = get(&app, "/api/prices?sort=change_desc").await;
    assert_eq!(order(&v), ["shop:b", "shop:d", "shop:a", "shop:c"], "{v}");
    assert_eq!(v["prices"][0]["change"]["percent"], "10", "{v}");
}

/// The vendored chart library is served exactly as vendored: the bytes
/// match `vendor/uplot/SHA256SUMS`, and its license is beside it.
#[tokio::test]
async fn the_vendored_chart_library_is_served_unchanged_with_its_license() {
    use sha2::{Digest, Sha256};
    let app = app().await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/app/src/http/vendor/uplot");
    let sums = std::fs::read_to_string(dir.join("SHA256SUMS")).unwrap();
    assert!(
        std::fs::read_to_string(dir.join("LICENSE"))
            .unwrap()
            .contains("MIT License")
    );
    for line in sums.lines() {
        let (sum, file) = line.split_once("  ").unwrap();
        let resp = app
            .clone()
            .oneshot(
                Request::get(format!("/assets/vendor/{file}"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{file}");
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(hex::encode(Sha256::digest(&bytes)), sum, "{file} changed");
    }
}

/// Answers are compressed for clients that accept it (gzip, brotli), each
/// encoding with its own ETag; a client that does not ask gets plain JSON.
#[tokio::test]
async fn answers_are_compressed_when_asked_with_their_own_etag() {
    let app = app().await;
    let send = |encoding: Option<&'static str>, uri: &'static str| {
        let app = app.clone();
        async move {
            let mut req = Request::get(uri);
            if let Some(e) = encoding {
                req = req.header("accept-encoding", e);
            }
            let resp = app.oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
            let headers = resp.headers().clone();
            let len = resp.into_body().collect().await.unwrap().to_bytes().len();
            (headers, len)
        }
    };
    let (plain, plain_len) = send(None, "/api/prices?limit=200").await;
    assert!(plain.get("content-encoding").is_none());
    for (asked, got) in [("gzip", "gzip"), ("br", "br"), ("br, gzip", "br")] {
        let (h, len) = send(Some(asked), "/api/prices?limit=200").await;
        assert_eq!(h["content-encoding"], got, "{asked}");
        assert!(len * 3 < plain_len, "{asked}: {len} of {plain_len} bytes");
        assert_ne!(h["etag"], plain["etag"], "{asked}: its own tag");
        assert!(
            h["vary"]
                .to_str()
                .unwrap()
                .to_lowercase()
                .contains("accept-encoding")
        );
    }
    let (h, _) = send(Some("gzip"), "/assets/vendor/uPlot.iife.min.js").await;
    assert_eq!(h["content-encoding"], "gzip", "assets too");
}

/// `serve`'s store is a SQLite file, whose version says when anything
/// changed: whole answers of the public reads are kept, and a write, by this
/// process or by another one on the same file, shows in the very next read.
#[tokio::test]
async fn kept_answers_change_with_the_store_whoever_writes() {
    use pricehound_tests::conformance::{at, obs};
    let dir = std::env::temp_dir().join(format!(
        "pricehound-read-cache-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("prices.db");
    let store = Arc::new(SqliteStore::open(&path).unwrap());
    assert!(store.data_version().is_some(), "a file store has a version");
    store
        .record(&obs("shop:kettle", "Kettle", at(0), "100", 1))
        .await
        .unwrap();
    let app = router(AppState {
        store: store.clone(),
        sources: Arc::new(SourcesConfig::default_sources()).into(),
        telegram: None,
    });
    let price = |v: &Value| v["prices"][0]["price"]["amount"].clone();
    let (_, first) = get(&app, "/api/prices?limit=5").await;
    assert_eq!(price(&first), "100");
    let (_, again) = get(&app, "/api/prices?limit=5").await;
    assert_eq!(again, first, "nothing changed");

    // A conditional GET of the kept answer: 304, no body.
    let resp = app
        .clone()
        .oneshot(
            Request::get("/api/prices?limit=5")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let etag = resp.headers()["etag"].clone();
    let resp = app
        .clone()
        .oneshot(
            Request::get("/api/prices?limit=5")
                .header("if-none-match", etag.clone())
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(resp.headers()["etag"], etag);
    assert!(
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .is_empty()
    );

    // Written through this process's store: the next read has it.
    store
        .record(&obs("shop:kettle", "Kettle", at(10), "90", 2))
        .await
        .unwrap();
    let (_, now) = get(&app, "/api/prices?limit=5").await;
    assert_eq!(price(&now), "90", "{now}");

    // Written by another process (another connection to the file).
    let other = SqliteStore::open(&path).unwrap();
    other
        .record(&obs("shop:kettle", "Kettle", at(20), "80", 3))
        .await
        .unwrap();
    let (_, now) = get(&app, "/api/prices?limit=5").await;
    assert_eq!(price(&now), "80", "{now}");
    let (_, item) = get(&app, "/api/items/shop:kettle").await;
    assert_eq!(item["item"]["price"]["amount"], "80", "{item}");

    // Health is never kept: it says no-store.
    let resp = app
        .clone()
        .oneshot(Request::get("/api/health").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.headers()["cache-control"], "no-store");
    std::fs::remove_dir_all(&dir).ok();
}
