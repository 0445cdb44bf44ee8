//! Hostile requests against every route of the real Router, over a SQLite
//! store seeded by the real pipeline: arbitrary Unicode, huge numbers,
//! empty values, percent-encoded garbage, invalid cursors, unknown
//! parameters, wrong methods, oversized bodies. Each must get a 4xx with
//! our JSON error and a message (or a 2xx for what happens to be valid),
//! never a 5xx, and the process must keep serving.
//!
//! Each property prints how many requests it sent; BENCHMARKS.md quotes
//! the totals.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, Uri};
use axum::routing::get;
use http_body_util::BodyExt;
use pricehound::http::{
    AppState, CONTENT_SECURITY_POLICY, CorsOrigins, HttpConfig, RateLimit, harden, router,
    router_with,
};
use pricehound::sources::SourcesConfig;
use pricehound::store::Store;
use pricehound::store::sqlite::SqliteStore;
use pricehound_tests::pages::seed;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tower::ServiceExt;

/// Cases per property: five properties, 10,000 requests in all, a few
/// seconds each on two cores.
const CASES: u32 = 2_000;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn app(rt: &tokio::runtime::Runtime) -> Router {
    rt.block_on(async {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().unwrap());
        assert_eq!(seed(store.clone()).await, 72);
        router(AppState {
            store,
            sources: Arc::new(SourcesConfig::default_sources()).into(),
            telegram: None,
        })
    })
}

/// The Router over an empty store, with `config`.
fn bare(config: HttpConfig) -> Router {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().unwrap());
    router_with(
        AppState {
            store,
            sources: Arc::new(SourcesConfig::default_sources()).into(),
            telegram: None,
        },
        config,
    )
}

/// One query value, as hostile as we can make it.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        // Arbitrary Unicode, any length up to a few hundred characters.
        ".{0,200}",
        any::<String>(),
        // Huge and odd numbers.
        "[0-9]{1,400}",
        "-[0-9]{1,40}",
        Just("1e999999".to_string()),
        Just("NaN".to_string()),
        Just("∞".to_string()),
        Just("-0".to_string()),
        Just("0x7fffffff".to_string()),
        Just(u64::MAX.to_string()),
        Just(i64::MIN.to_string()),
        // Empty and blank.
        Just(String::new()),
        "[ \t\u{a0}\u{2009}]{1,5}",
        // Plausible values with a bad last character (the bug this issue
        // started from was a multi-byte unit in `window=`).
        "[0-9]{1,5}[hdwyдé٧€\u{10ffff}]",
        // Dates and times near and past chrono's range.
        "[+-]?[0-9]{4,7}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2}))?",
        Just("-262143-01-01".to_string()),
        Just("+262142-12-31T23:59:59Z".to_string()),
        Just("0000-01-01".to_string()),
        // Cursors: base64-looking, too long, almost right.
        "[A-Za-z0-9_-]{1,64}",
        "[A-Za-z0-9_-]{2040,2060}",
        "[A-Za-z0-9+/=_-]{1,80}",
        // Known-good values, so valid paths are exercised too.
        prop::sample::select(vec![
            "7d",
            "24h",
            "4w",
            "1y",
            "400d",
            "asc",
            "desc",
            "50",
            "1",
            "2026-11-01",
            "2026-11-01T12:00:00Z",
            "tg-bijouterie-dz",
            "tg-zoloto-lombard",
        ])
        .prop_map(str::to_string),
    ]
}

/// A value as it goes into a URL: mostly percent-encoded, sometimes raw
/// (when that still makes a valid URI) or raw percent garbage.
fn encoded() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => value().prop_map(|v| url::form_urlencoded::byte_serialize(v.as_bytes()).collect()),
        1 => value(),
        1 => "(%[0-9A-Fa-f]{0,2}|%[g-zG-Z%]|%[fF][0-9a-fA-F]%[0-9a-fA-F]{2}|[a-z0-9]){0,20}",
        // Percent-encoded invalid UTF-8 and overlong encodings.
        1 => prop::collection::vec(any::<u8>(), 0..40).prop_map(|b| {
            b.iter().map(|x| format!("%{x:02X}")).collect()
        }),
    ]
}

fn path_segment() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => encoded(),
        1 => prop::sample::select(vec![
            "tg-zoloto-lombard:999-proba",
            "gold-18k",
            "rtx-4070",
            "..",
            "%2e%2e",
            "%2F",
            "a%00b",
        ])
        .prop_map(str::to_string),
    ]
}

fn query(names: &'static [&'static str]) -> impl Strategy<Value = String> {
    let name = prop_oneof![
        6 => prop::sample::select(names.to_vec()).prop_map(str::to_string),
        1 => encoded(),
    ];
    prop::collection::vec((name, encoded()), 0..5).prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    })
}

/// What every answer must look like, whatever was asked.
async fn check(app: &Router, method: Method, uri: &str, body: Body) -> Result<(), TestCaseError> {
    let Ok(parsed) = uri.parse::<Uri>() else {
        // Not a URI at all: no HTTP server would route it; nothing to test.
        return Ok(());
    };
    let req = Request::builder()
        .method(method.clone())
        .uri(parsed)
        .body(body)
        .map_err(|e| TestCaseError::fail(format!("request: {e}")))?;
    let resp = app
        .clone()
        .oneshot(req)
        .await
        .map_err(|e| TestCaseError::fail(format!("router error: {e}")))?;
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| TestCaseError::fail(format!("body: {e}")))?
        .to_bytes();
    prop_assert!(
        !status.is_server_error(),
        "{method} {uri} answered {status}: {}",
        String::from_utf8_lossy(&bytes)
    );
    prop_assert_eq!(
        headers
            .get("x-content-type-options")
            .and_then(|v| v.to_str().ok()),
        Some("nosniff"),
        "{} {}: no security headers",
        method,
        uri
    );
    if status.is_client_error() && method != Method::HEAD {
        // (A HEAD answer has no body by definition.)
        let v: Value = serde_json::from_slice(&bytes).map_err(|_| {
            TestCaseError::fail(format!(
                "{method} {uri}: {status} without a JSON error: {}",
                String::from_utf8_lossy(&bytes)
            ))
        })?;
        let code = v["error"]["code"].as_str().unwrap_or_default();
        let message = v["error"]["message"].as_str().unwrap_or_default();
        prop_assert!(!code.is_empty(), "{method} {uri}: no error code: {v}");
        prop_assert!(
            !message.trim().is_empty(),
            "{method} {uri}: no error message: {v}"
        );
    } else if method == Method::GET && uri.starts_with("/api/") {
        prop_assert!(
            serde_json::from_slice::<Value>(&bytes).is_ok(),
            "{method} {uri}: {status} but not JSON"
        );
    }
    Ok(())
}

fn run_property<S: Strategy>(
    name: &str,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    let tried = AtomicUsize::new(0);
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&strategy, |v| {
        tried.fetch_add(1, Ordering::Relaxed);
        test(v)
    });
    // Printed for BENCHMARKS.md (nextest shows it with --no-capture).
    println!(
        "{name}: {} hostile requests, no 5xx, no crash",
        tried.load(Ordering::Relaxed)
    );
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
}

#[test]
fn prices_take_any_query() {
    let rt = runtime();
    let app = app(&rt);
    run_property(
        "GET /api/prices",
        query(&["source", "limit", "cursor", "sort", "limit[]"]),
        |q| {
            rt.block_on(check(
                &app,
                Method::GET,
                &format!("/api/prices?{q}"),
                Body::empty(),
            ))
        },
    );
}

#[test]
fn item_and_history_take_any_id_and_query() {
    let rt = runtime();
    let app = app(&rt);
    run_property(
        "GET /api/items/{id}[/history]",
        (
            path_segment(),
            query(&["from", "to", "limit", "cursor", "order"]),
            any::<bool>(),
        ),
        |(id, q, history)| {
            let uri = if history {
                format!("/api/items/{id}/history?{q}")
            } else {
                format!("/api/items/{id}?{q}")
            };
            rt.block_on(check(&app, Method::GET, &uri, Body::empty()))
        },
    );
}

#[test]
fn series_stats_take_any_window_and_time() {
    let rt = runtime();
    let app = app(&rt);
    run_property(
        "GET /api/series/{id}/stats",
        (path_segment(), query(&["window", "to"])),
        |(id, q)| {
            rt.block_on(check(
                &app,
                Method::GET,
                &format!("/api/series/{id}/stats?{q}"),
                Body::empty(),
            ))
        },
    );
}

#[test]
fn parameterless_routes_and_unknown_paths() {
    let rt = runtime();
    let app = app(&rt);
    let route = prop::sample::select(vec![
        "/",
        "/api/health",
        "/api/sources",
        "/api/series",
        "/assets/page.js",
        "/api",
        "/api/",
        "/api/items",
        "/api/items/",
        "/api/series//stats",
    ]);
    run_property(
        "parameterless routes and unknown paths",
        (route, query(&["x", "limit"]), path_segment(), any::<bool>()),
        |(route, q, extra, append)| {
            let uri = if append {
                format!("{route}/{extra}?{q}")
            } else {
                format!("{route}?{q}")
            };
            rt.block_on(check(&app, Method::GET, &uri, Body::empty()))
        },
    );
}

#[test]
fn wrong_methods_and_bodies() {
    let rt = runtime();
    let app = app(&rt);
    let method = prop::sample::select(vec![
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
        Method::OPTIONS,
        Method::HEAD,
        Method::from_bytes(b"BREW").unwrap(),
    ]);
    let route = prop::sample::select(vec![
        "/",
        "/api/health",
        "/api/prices",
        "/api/items/x",
        "/api/series/gold-18k/stats",
        "/telegram/webhook",
        "/nope",
    ]);
    let body = prop_oneof![
        Just(Vec::new()),
        prop::collection::vec(any::<u8>(), 0..512),
        // Bigger than the API's 64 KiB body limit.
        (65_537usize..70_000).prop_map(|n| vec![b'{'; n]),
    ];
    run_property(
        "wrong methods and bodies",
        (method, route, body),
        |(method, route, body)| rt.block_on(check(&app, method, route, Body::from(body))),
    );
}

/// A handler that panics answers our JSON 500 under the same layers as the
/// real routes, and the router keeps answering afterwards.
#[tokio::test]
async fn a_panicking_handler_answers_500_and_the_server_keeps_serving() {
    let app = harden(
        Router::new()
            .route(
                "/boom",
                get(|| async {
                    let s = "7д";
                    // The very bug that started this issue, on purpose.
                    #[allow(clippy::string_slice)]
                    let tail = &s[..s.len() - 1];
                    tail.to_string()
                }),
            )
            .route("/ok", get(|| async { "ok" })),
    );
    for _ in 0..3 {
        let resp = app
            .clone()
            .oneshot(Request::get("/boom").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
        let v: Value =
            serde_json::from_slice(&resp.into_body().collect().await.unwrap().to_bytes()).unwrap();
        assert_eq!(v["error"]["code"], "internal");
        assert!(
            !v["error"]["message"]
                .as_str()
                .unwrap()
                .contains("byte index"),
            "the panic message stays in the log: {v}"
        );
        let ok = app
            .clone()
            .oneshot(Request::get("/ok").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(ok.status(), StatusCode::OK);
    }
}

/// The request this issue started from: a multi-byte last character in
/// `window=` used to abort the process.
#[tokio::test]
async fn the_window_that_used_to_crash_is_a_400() {
    let app = bare(HttpConfig::default());
    for w in ["7%D0%B4", "%C3%A9", "7%E2%82%AC", "%F4%8F%BF%BF"] {
        let resp = app
            .clone()
            .oneshot(
                Request::get(format!("/api/series/gold-18k/stats?window={w}"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "window={w}");
        let v: Value =
            serde_json::from_slice(&resp.into_body().collect().await.unwrap().to_bytes()).unwrap();
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap()
                .contains("window must be"),
            "{v}"
        );
    }
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = bare(HttpConfig::default());
    for uri in ["/", "/api/health", "/api/nope", "/assets/page.js"] {
        let resp = app
            .clone()
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let h = resp.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{uri}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{uri}");
        assert_eq!(h["x-frame-options"], "DENY", "{uri}");
        assert_eq!(
            h["content-security-policy"], CONTENT_SECURITY_POLICY,
            "{uri}"
        );
    }
    // The page keeps working under its policy: no inline script or style.
    let resp = app
        .oneshot(Request::get("/").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let html = String::from_utf8(
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    assert!(!html.contains("<script>") && !html.contains("<style>"));
    assert!(html.contains(r#"<script src="/assets/page.js">"#));
    assert!(!CONTENT_SECURITY_POLICY.contains("unsafe-inline"));
}

/// `serve` limits each client on `/api/*`: past the burst, 429 with
/// `Retry-After` and our JSON error; the page and other clients are not
/// affected. Over real TCP, since the limit keys on the peer address.
#[tokio::test]
async fn serve_rate_limits_each_client_on_the_api() {
    use std::net::SocketAddr;
    use std::num::NonZeroU32;
    let app = bare(HttpConfig {
        rate_limit: Some(RateLimit {
            // One token a minute: the test cannot race the refill.
            per_second: NonZeroU32::MIN,
            burst: NonZeroU32::new(3).unwrap(),
        }),
        ..HttpConfig::default()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap()
    });
    let client = reqwest::Client::new();
    let mut statuses = Vec::new();
    let mut limited = None;
    for _ in 0..6 {
        let resp = client
            .get(format!("http://{addr}/api/health"))
            .send()
            .await
            .unwrap();
        statuses.push(resp.status().as_u16());
        if resp.status() == reqwest::StatusCode::TOO_MANY_REQUESTS && limited.is_none() {
            let retry_after = resp.headers()["retry-after"].to_str().unwrap().to_string();
            let v: Value = resp.json().await.unwrap();
            limited = Some((retry_after, v));
        }
    }
    // The refill is one per second, so a slow machine may see a 4th pass.
    assert!(
        statuses[..3].iter().all(|s| *s == 200),
        "the burst passes: {statuses:?}"
    );
    assert_eq!(statuses[5], 429, "past the burst: {statuses:?}");
    let (retry_after, v) = limited.unwrap();
    assert!(retry_after.parse::<u64>().unwrap() >= 1, "{retry_after}");
    assert_eq!(v["error"]["code"], "rate_limited");
    // The page is not rate limited.
    let page = client.get(format!("http://{addr}/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
}

#[tokio::test]
async fn cors_origins_are_configurable_and_never_carry_credentials() {
    let app = bare(HttpConfig {
        cors: CorsOrigins::parse("https://app.example").unwrap(),
        ..HttpConfig::default()
    });
    let get_from = |origin: &'static str| {
        Request::get("/api/health")
            .header("origin", origin)
            .body(Body::empty())
            .unwrap()
    };
    let resp = app
        .clone()
        .oneshot(get_from("https://app.example"))
        .await
        .unwrap();
    assert_eq!(
        resp.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    let resp = app
        .clone()
        .oneshot(get_from("https://evil.example"))
        .await
        .unwrap();
    assert!(resp.headers().get("access-control-allow-origin").is_none());
    let preflight = Request::builder()
        .method(Method::OPTIONS)
        .uri("/api/prices")
        .header("origin", "https://app.example")
        .header("access-control-request-method", "POST")
        .body(Body::empty())
        .unwrap();
    let resp = app.oneshot(preflight).await.unwrap();
    let allowed = resp
        .headers()
        .get("access-control-allow-methods")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    // Writes exist only under /api/me and need the Mini App's initData in
    // Authorization: no cookie is ever read, so a page elsewhere cannot act
    // for a user, and credentials are never allowed.
    assert!(
        allowed.contains("POST") && allowed.contains("DELETE"),
        "{allowed}"
    );
    assert!(
        resp.headers()
            .get("access-control-allow-credentials")
            .is_none()
    );
}
