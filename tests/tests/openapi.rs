//! The OpenAPI document is part of the tests: it is generated from the
//! Router (every route registered with `routes!`), every documented path is
//! served, no route is added outside it, the human page renders it without
//! a third-party request, and the rules it states (id patterns, the stats
//! window) are the ones the handlers apply. The full contract (every check,
//! generated requests) is scripts/api-contract, run by scripts/test.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use pricehound::http::{AppState, WINDOW_PATTERN, router};
use pricehound::sources::SourcesConfig;
use pricehound::store::Store;
use pricehound::store::sqlite::SqliteStore;
use pricehound_tests::bot::BotHarness;
use pricehound_tests::pages::seed;
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use tower::ServiceExt;

async fn app() -> axum::Router {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().unwrap());
    seed(store.clone()).await;
    router(AppState {
        store,
        sources: Arc::new(SourcesConfig::default_sources()).into(),
        telegram: None,
    })
}

async fn get(app: &axum::Router, uri: &str) -> (StatusCode, String, String) {
    let resp = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, content_type, String::from_utf8_lossy(&bytes).into())
}

async fn spec(app: &axum::Router) -> Value {
    let (status, content_type, body) = get(app, "/api/openapi.json").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    serde_json::from_str(&body).expect("the document is JSON")
}

/// A concrete request path for a documented one: `{id}` filled with the
/// parameter's example, so the route is reached.
fn concrete(path: &str, op: &Value) -> String {
    let mut out = path.to_string();
    for p in op["parameters"].as_array().into_iter().flatten() {
        if p["in"] == "path" {
            let name = p["name"].as_str().unwrap();
            let example = p["schema"]["examples"][0]
                .as_str()
                .or_else(|| p["example"].as_str())
                .unwrap_or("x");
            out = out.replace(&format!("{{{name}}}"), example);
        }
    }
    out
}

#[tokio::test]
async fn the_document_is_openapi_3_1_and_every_path_in_it_is_served() {
    let app = app().await;
    let doc = spec(&app).await;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "pricehound");
    let paths = doc["paths"].as_object().expect("paths");
    for want in [
        "/",
        "/api/health",
        "/api/sources",
        "/api/prices",
        "/api/items/{id}",
        "/api/items/{id}/history",
        "/api/series",
        "/api/series/{id}/stats",
        "/api/openapi.json",
        "/api/docs",
    ] {
        assert!(paths.contains_key(want), "{want} is not documented");
    }
    for (path, item) in paths {
        let op = &item["get"];
        assert!(op.is_object(), "{path}: only GET routes without a bot");
        assert!(op["summary"].is_string(), "{path} has a summary");
        assert!(op["responses"]["200"].is_object(), "{path} documents 200");
        for status in ["400", "404", "429", "503"] {
            let error = &op["responses"][status]["content"]["application/json"]["schema"];
            assert_eq!(
                error["$ref"], "#/components/schemas/ErrorBody",
                "{path} documents its {status} with the error shape"
            );
        }
        let uri = concrete(path, op);
        let (status, _, body) = get(&app, &uri).await;
        // A documented route exists: it never answers the router's own
        // "no such route" (an unknown item is a 404 with another code).
        assert!(
            !body.contains("\"code\":\"not_found\""),
            "{uri} is documented but not routed: {status} {body}"
        );
    }
    // The webhook is documented only where it is served.
    assert!(!paths.contains_key("/telegram/webhook"));
}

#[tokio::test]
async fn with_a_bot_the_webhook_is_in_the_document() {
    let bot = BotHarness::start().await;
    let doc = spec(&bot.app).await;
    let op = &doc["paths"]["/telegram/webhook"]["post"];
    assert!(op.is_object(), "{}", doc["paths"]);
    assert_eq!(
        op["parameters"][0]["name"], "x-telegram-bot-api-secret-token",
        "{op}"
    );
    assert!(op["responses"]["401"].is_object());
}

/// Every route is registered with utoipa-axum's `routes!`, which documents
/// it; one added with axum's plain `.route(` would be served but missing
/// from the document. The only plain routes are named here, with why.
#[test]
fn no_route_is_added_outside_the_document() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let allowed = [
        // serve's Prometheus endpoint: the operator's, not the public API
        // (the Lambdas have no such route), merged by local.rs.
        ("shared/app/src/http/mod.rs", "\"/metrics\""),
        // The Telegram webhook: documented by hand in the same module
        // (webhook_operation), checked by the test above.
        ("shared/telegram/src/webhook.rs", "PATH, post(webhook)"),
        // `serve --demo`'s recorded source pages: a listener of their own
        // that the scrapers read, not the API's Router.
        ("shared/app/src/demo/mod.rs", "get(preview)"),
        ("shared/app/src/demo/mod.rs", "get(channel_page)"),
    ];
    let mut found = Vec::new();
    for dir in [
        "shared/app/src",
        "shared/telegram/src",
        "functions",
        "cli/src",
    ] {
        walk(&root.join(dir), &mut |file, text| {
            for (n, line) in text.lines().enumerate() {
                let code = line.trim_start();
                if code.starts_with("//") || !code.contains(".route(") {
                    continue;
                }
                let rel = file
                    .strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .to_string();
                // The route's path is on this line or the next.
                let next = text.lines().nth(n + 1).unwrap_or_default();
                let ok = allowed
                    .iter()
                    .any(|(f, what)| rel == *f && (line.contains(what) || next.contains(what)));
                if !ok {
                    found.push(format!("{rel}:{}: {}", n + 1, line.trim()));
                }
            }
        });
    }
    assert!(
        found.is_empty(),
        "routes added outside the OpenAPI document (register them with utoipa-axum's routes! and a #[utoipa::path]):\n{}",
        found.join("\n")
    );
}

fn walk(dir: &Path, f: &mut dyn FnMut(&Path, &str)) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, f);
        } else if p.extension().is_some_and(|x| x == "rs") {
            let text = std::fs::read_to_string(&p).unwrap();
            f(&p, &text);
        }
    }
}

/// The page for people: every route on it, escaped, and nothing loaded
/// from another origin (the CSP would block it anyway).
#[tokio::test]
async fn the_docs_page_lists_every_route_and_loads_nothing_from_elsewhere() {
    let app = app().await;
    let doc = spec(&app).await;
    let (status, content_type, html) = get(&app, "/api/docs").await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("text/html"), "{content_type}");
    for path in doc["paths"].as_object().unwrap().keys() {
        assert!(
            html.contains(&format!("GET {path}")),
            "{path} is on the page"
        );
    }
    for schema in ["PriceView", "Money", "ErrorBody"] {
        assert!(html.contains(&format!("id=\"{schema}\"")), "{schema}");
    }
    let re = regex::Regex::new(r#"(?i)(src|href)\s*=\s*"([^"]*)""#).unwrap();
    for cap in re.captures_iter(&html) {
        let url = &cap[2];
        assert!(
            url.starts_with('/') && !url.starts_with("//"),
            "only our own origin: {url}"
        );
    }
    assert!(!html.contains("<script"), "a static page");
}

/// What the document says a valid id or window is, the handlers accept;
/// what it says is invalid, they refuse with 400 (schemathesis relies on
/// both, with generated values; this pins the edges).
#[tokio::test]
async fn the_documented_rules_are_the_handlers_rules() {
    let app = app().await;
    let doc = spec(&app).await;
    let stats = &doc["paths"]["/api/series/{id}/stats"]["get"];
    let window = stats["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "window")
        .unwrap();
    assert_eq!(window["schema"]["pattern"], WINDOW_PATTERN);
    let pattern = regex::Regex::new(WINDOW_PATTERN).unwrap();
    let mut candidates: Vec<String> = Vec::new();
    for unit in ["h", "d", "w", "y", "m", "D", ""] {
        for n in [
            "0", "1", "07", "9", "10", "57", "58", "99", "365", "399", "400", "401", "999", "8760",
            "9600", "9601", "10000", "+7", "-1", " 7",
        ] {
            candidates.push(format!("{n}{unit}"));
        }
    }
    candidates.extend(["7д".to_string(), "d".into(), "1y".into(), "2y".into()]);
    for w in &candidates {
        let documented = pattern.is_match(w);
        let parsed = pricehound::domain::stats::parse_window(w).is_some();
        assert_eq!(
            documented, parsed,
            "window {w:?}: document {documented}, parser {parsed}"
        );
    }
    // Ids: the pattern's edges against the handler.
    let id_pattern = doc["components"]["schemas"]["ItemId"]["pattern"]
        .as_str()
        .unwrap()
        .to_string();
    let id_re = regex::Regex::new(&id_pattern).unwrap();
    for id in [
        "tg-zoloto-alger:gold-18k",
        "a",
        "UPPER:case",
        "sp ace",
        "ü:x",
        &"a".repeat(200),
        &"a".repeat(201),
    ] {
        let uri = format!(
            "/api/items/{}",
            id.replace(' ', "%20").replace('ü', "%C3%BC")
        );
        let (status, _, body) = get(&app, &uri).await;
        if id_re.is_match(id) {
            assert_ne!(status, StatusCode::BAD_REQUEST, "{id}: {body}");
        } else {
            assert_eq!(status, StatusCode::BAD_REQUEST, "{id}: {body}");
        }
    }
}
