//! `GET /api/items/{id}/image`: an item's picture through our own origin,
//! fetched with the guarded fetcher. Local servers on 127.0.0.1 only: the
//! picture hosts are `shop.test` (the one name the test guard lets reach
//! loopback, see `pricehound_tests::user_links`) and, for what must be
//! refused, the same servers under loopback literals and other names, which
//! must never see a request.

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use http_body_util::BodyExt;
use pricehound::domain::ItemDetails;
use pricehound::http::{AppState, HttpConfig, ImageProxy, router_with};
use pricehound::sources::SourcesConfig;
use pricehound::sources::fetch::{FetchPolicy, IMAGE_MAX_BODY, LinkGuard};
use pricehound::store::Store;
use pricehound::store::sqlite::SqliteStore;
use pricehound_tests::conformance::{at, obs};
use pricehound_tests::pages::serve;
use pricehound_tests::user_links::{hostile_loopback_urls, on_host, on_shop_host, resolver};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;
use url::Url;

/// A 1×1 PNG.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\xff\xff?\0\x05\xfe\x02\xfe\xa7\x35\x81\x84\0\0\0\0IEND\xaeB`\x82";
/// The start of a JPEG (JFIF) file: enough for its magic number.
const JPEG: &[u8] = b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0\xff\xd9";

/// What the picture server answers for one path.
#[derive(Clone)]
struct Answer {
    status: u16,
    content_type: Option<&'static str>,
    location: Option<String>,
    body: Vec<u8>,
}

fn picture(content_type: &'static str, body: &[u8]) -> Answer {
    Answer {
        status: 200,
        content_type: Some(content_type),
        location: None,
        body: body.to_vec(),
    }
}

fn redirect(to: &str) -> Answer {
    Answer {
        status: 302,
        content_type: None,
        location: Some(to.to_string()),
        body: Vec::new(),
    }
}

/// A server of byte answers per path (404 elsewhere, robots.txt included)
/// that records every request it gets.
#[derive(Clone, Default)]
struct Pictures {
    answers: Arc<Mutex<HashMap<String, Answer>>>,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Pictures {
    fn set(&self, path: &str, answer: Answer) {
        self.answers
            .lock()
            .unwrap()
            .insert(path.to_string(), answer);
    }

    /// Requests for `path` so far.
    fn hits(&self, path: &str) -> usize {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|p| *p == path)
            .count()
    }

    /// Requests for anything but robots.txt.
    fn picture_requests(&self) -> Vec<String> {
        let all = self.requests.lock().unwrap().clone();
        all.into_iter().filter(|p| p != "/robots.txt").collect()
    }

    async fn start(&self) -> Url {
        serve(
            Router::new()
                .fallback(answer_picture)
                .with_state(self.clone()),
        )
        .await
    }
}

async fn answer_picture(State(p): State<Pictures>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    p.requests.lock().unwrap().push(path.clone());
    let found = p.answers.lock().unwrap().get(&path).cloned();
    let Some(a) = found else {
        return Response::builder()
            .status(404)
            .body(Body::from("no such file"))
            .unwrap();
    };
    let mut resp = Response::builder().status(a.status);
    if let Some(t) = a.content_type {
        resp = resp.header(header::CONTENT_TYPE, t);
    }
    if let Some(l) = a.location {
        resp = resp.header(header::LOCATION, l);
    }
    resp.body(Body::from(a.body)).unwrap()
}

/// The image proxy of tests: `shop.test` (→ 127.0.0.1, any port) is the
/// one host it may reach; everything else is refused as in production.
fn relaxed() -> ImageProxy {
    let policy = FetchPolicy {
        link_guard: Some(LinkGuard::for_tests_allowing("shop.test")),
        per_host_delay: Duration::ZERO,
        ..FetchPolicy::images()
    };
    ImageProxy::with_resolver(policy, Arc::new(resolver()))
}

/// The production guard, with the test resolver's names.
fn strict() -> ImageProxy {
    ImageProxy::with_resolver(FetchPolicy::images(), Arc::new(resolver()))
}

/// An item `shop:<key>` whose picture is `image`.
async fn item(store: &Arc<dyn Store>, id: &str, image: Option<&str>) {
    let o = obs(id, "An item", at(0), "10", 1).with_details(ItemDetails {
        url: None,
        image: image.map(str::to_string),
        brand: None,
    });
    store.record(&o).await.unwrap();
}

fn store() -> Arc<dyn Store> {
    Arc::new(SqliteStore::in_memory().unwrap())
}

fn app(store: Arc<dyn Store>, images: ImageProxy) -> Router {
    app_with(store, images, false)
}

fn app_with(store: Arc<dyn Store>, images: ImageProxy, public_tracked_pages: bool) -> Router {
    router_with(
        AppState {
            store,
            sources: Arc::new(SourcesConfig::default_sources()).into(),
            telegram: None,
        },
        HttpConfig {
            images: Some(images),
            public_tracked_pages,
            ..HttpConfig::default()
        },
    )
}

struct Got {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Got {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| {
            panic!(
                "{}: not JSON: {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    fn error_code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or("<no error code>")
            .to_string()
    }
}

async fn get_with(app: &Router, uri: &str, if_none_match: Option<&str>) -> Got {
    let mut req = axum::http::Request::get(uri);
    if let Some(tag) = if_none_match {
        req = req.header(header::IF_NONE_MATCH, tag);
    }
    let resp = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Got {
        status,
        headers,
        body,
    }
}

async fn get(app: &Router, uri: &str) -> Got {
    get_with(app, uri, None).await
}

/// A 502 as the client sees it: our JSON error, saying nothing of where
/// the picture was or what answered.
fn assert_unavailable(got: &Got, what: &str) {
    assert_eq!(
        got.status,
        StatusCode::BAD_GATEWAY,
        "{what}: {}",
        String::from_utf8_lossy(&got.body)
    );
    assert!(got.header("content-type").starts_with("application/json"));
    assert_eq!(got.error_code(), "image_unavailable", "{what}");
    let text = String::from_utf8_lossy(&got.body).to_lowercase();
    for leak in [
        "127.0.0.1",
        "::1",
        "10.0.0.1",
        "169.254",
        "shop.test",
        "evil.test",
        "http://",
        "robots",
        "refused",
        "content-type",
    ] {
        assert!(
            !text.contains(leak),
            "{what}: the 502 mentions {leak}: {text}"
        );
    }
}

#[tokio::test]
async fn a_picture_comes_back_with_its_bytes_type_and_cache_headers() {
    let site = Pictures::default();
    site.set("/pic.png", picture("image/png", PNG));
    // Labelled PNG, but a JPEG: served as what its bytes are.
    site.set(
        "/mislabelled.png",
        picture("image/png; charset=binary", JPEG),
    );
    let base = on_shop_host(&site.start().await);
    let store = store();
    item(
        &store,
        "shop:pic",
        Some(base.join("/pic.png").unwrap().as_str()),
    )
    .await;
    item(
        &store,
        "shop:jpeg",
        Some(base.join("/mislabelled.png").unwrap().as_str()),
    )
    .await;
    let app = app(store, relaxed());

    let got = get(&app, "/api/items/shop:pic/image").await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.error_code());
    assert_eq!(got.body, PNG);
    assert_eq!(got.header("content-type"), "image/png");
    assert_eq!(got.header("cache-control"), "public, max-age=86400");
    assert_eq!(got.header("x-content-type-options"), "nosniff");
    assert_eq!(got.header("content-length"), PNG.len().to_string());
    assert!(
        got.header("content-encoding").is_empty(),
        "never compressed"
    );
    let etag = got.header("etag").to_string();
    assert!(etag.starts_with('"') && etag.len() == 34, "{etag}");

    // From the cache: the source is asked once.
    let again = get(&app, "/api/items/shop:pic/image").await;
    assert_eq!(again.body, PNG);
    assert_eq!(site.hits("/pic.png"), 1);

    // Revalidation: the tag answers 304 without a body, another tag 200.
    let not_modified = get_with(&app, "/api/items/shop:pic/image", Some(&etag)).await;
    assert_eq!(not_modified.status, StatusCode::NOT_MODIFIED);
    assert!(not_modified.body.is_empty());
    assert_eq!(not_modified.header("etag"), etag);
    assert_eq!(
        not_modified.header("cache-control"),
        "public, max-age=86400"
    );
    let other = get_with(&app, "/api/items/shop:pic/image", Some("\"other\"")).await;
    assert_eq!(other.status, StatusCode::OK);

    let jpeg = get(&app, "/api/items/shop:jpeg/image").await;
    assert_eq!(jpeg.status, StatusCode::OK);
    assert_eq!(jpeg.header("content-type"), "image/jpeg");
    assert_eq!(jpeg.body, JPEG);

    // HEAD answers like GET, without the body.
    let resp = app
        .clone()
        .oneshot(
            axum::http::Request::builder()
                .method(Method::HEAD)
                .uri("/api/items/shop:pic/image")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers().get("content-type"),
        Some(&HeaderValue::from_static("image/png"))
    );
}

#[tokio::test]
async fn no_picture_unknown_and_hidden_items_are_404_json() {
    let site = Pictures::default();
    site.set("/pic.png", picture("image/png", PNG));
    let base = on_shop_host(&site.start().await);
    let pic = base.join("/pic.png").unwrap();
    let store = store();
    item(&store, "shop:bare", None).await;
    item(&store, "shop:blank", Some("  ")).await;
    // A page a user pasted into the bot: not in the public API by default.
    item(&store, "page-0123456789abcdef:item", Some(pic.as_str())).await;
    let app = app(store.clone(), relaxed());

    for (uri, code) in [
        ("/api/items/shop:bare/image", "no_image"),
        ("/api/items/shop:blank/image", "no_image"),
        ("/api/items/shop:nothing/image", "unknown_item"),
        (
            "/api/items/page-0123456789abcdef:item/image",
            "unknown_item",
        ),
    ] {
        let got = get(&app, uri).await;
        assert_eq!(got.status, StatusCode::NOT_FOUND, "{uri}");
        assert!(got.header("content-type").starts_with("application/json"));
        assert_eq!(got.error_code(), code, "{uri}");
    }
    assert!(site.picture_requests().is_empty(), "nothing was fetched");

    // Where the operator lists tracked pages, their pictures show too.
    let public = app_with(store, relaxed(), true);
    let got = get(&public, "/api/items/page-0123456789abcdef:item/image").await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body, PNG);
}

#[tokio::test]
async fn what_is_not_a_picture_is_502() {
    let site = Pictures::default();
    let html = b"<!doctype html><html><script>alert(1)</script></html>";
    site.set("/page.png", picture("image/png", html));
    site.set("/page.html", picture("text/html", html));
    site.set(
        "/logo.svg",
        picture(
            "image/svg+xml",
            b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
        ),
    );
    // A PNG labelled as something else: refused by its label, unread.
    site.set("/octet.png", picture("application/octet-stream", PNG));
    site.set(
        "/unlabelled.png",
        Answer {
            content_type: None,
            ..picture("image/png", PNG)
        },
    );
    site.set("/empty.png", picture("image/png", b""));
    site.set(
        "/broken.png",
        Answer {
            status: 500,
            ..picture("image/png", PNG)
        },
    );
    let base = on_shop_host(&site.start().await);
    let store = store();
    let cases = [
        "page.png",
        "page.html",
        "logo.svg",
        "octet.png",
        "unlabelled.png",
        "empty.png",
        "broken.png",
        "missing.png",
    ];
    for (n, file) in cases.iter().enumerate() {
        let url = base.join(file).unwrap();
        item(&store, &format!("shop:case-{n}"), Some(url.as_str())).await;
    }
    item(&store, "shop:relative", Some("/uploads/x.png")).await;
    item(
        &store,
        "shop:data",
        Some("data:image/png;base64,iVBORw0KGgo="),
    )
    .await;
    let app = app(store, relaxed());
    for (n, file) in cases.iter().enumerate() {
        let got = get(&app, &format!("/api/items/shop:case-{n}/image")).await;
        assert_unavailable(&got, file);
        assert_eq!(site.hits(&format!("/{file}")), 1, "{file} was asked for");
    }
    for id in ["relative", "data"] {
        let got = get(&app, &format!("/api/items/shop:{id}/image")).await;
        assert_unavailable(&got, id);
    }
    // A failure is remembered for a while: the source is not asked again
    // for every card of a page.
    let got = get(&app, "/api/items/shop:case-0/image").await;
    assert_unavailable(&got, "again");
    assert_eq!(site.hits("/page.png"), 1);
}

/// A raw HTTP server that answers every connection with a PNG-looking body
/// of `total` bytes (with a `Content-Length` if `declared`), written in
/// 64 KiB pieces; counts what it managed to write before the client hung up.
async fn endless_picture(total: usize, declared: bool) -> (Url, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let written = Arc::new(AtomicUsize::new(0));
    let counter = written.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let counter = counter.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut head = Vec::new();
                // Read the request head.
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                if head.starts_with(b"GET /robots.txt") {
                    let _ = socket
                        .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
                        .await;
                    return;
                }
                let length = if declared {
                    format!("content-length: {total}\r\n")
                } else {
                    String::new()
                };
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: image/png\r\n{length}connection: close\r\n\r\n"
                );
                if socket.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let mut chunk = vec![0u8; 64 * 1024];
                chunk[..8].copy_from_slice(b"\x89PNG\r\n\x1a\n");
                let mut sent = 0;
                while sent < total {
                    if socket.write_all(&chunk).await.is_err() {
                        return;
                    }
                    sent += chunk.len();
                    counter.fetch_add(chunk.len(), Ordering::Relaxed);
                    chunk[..8].fill(0);
                }
            });
        }
    });
    (
        Url::parse(&format!("http://{addr}/huge.png")).unwrap(),
        written,
    )
}

#[tokio::test]
async fn an_oversize_picture_is_502_without_being_read_to_the_end() {
    const TOTAL: usize = 256 * 1024 * 1024;
    let store = store();
    let (streamed, streamed_written) = endless_picture(TOTAL, false).await;
    let (declared, declared_written) = endless_picture(TOTAL, true).await;
    item(
        &store,
        "shop:streamed",
        Some(on_shop_host(&streamed).as_str()),
    )
    .await;
    item(
        &store,
        "shop:declared",
        Some(on_shop_host(&declared).as_str()),
    )
    .await;
    let app = app(store, relaxed());

    let started = Instant::now();
    let got = get(&app, "/api/items/shop:streamed/image").await;
    assert_unavailable(&got, "streamed");
    let got = get(&app, "/api/items/shop:declared/image").await;
    assert_unavailable(&got, "declared");
    // Give the writers a moment to notice the closed connections.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let streamed = streamed_written.load(Ordering::Relaxed);
    let declared = declared_written.load(Ordering::Relaxed);
    println!(
        "oversize: {streamed} bytes written before the cut (cap {IMAGE_MAX_BODY}), {declared} with a Content-Length, {:?}",
        started.elapsed()
    );
    // What is past the cap is at most what the sockets' buffers took.
    assert!(streamed >= IMAGE_MAX_BODY, "{streamed}");
    assert!(streamed < 32 * 1024 * 1024, "{streamed} of {TOTAL}");
    assert!(declared < 32 * 1024 * 1024, "{declared} of {TOTAL}");
    assert!(started.elapsed() < Duration::from_secs(8));
}

/// Picture addresses a scraped page could hold that must never be
/// fetched: loopback in every spelling, private, link-local (the cloud
/// metadata service), and names that resolve there.
fn forbidden(port: u16) -> Vec<String> {
    let mut urls: Vec<String> = hostile_loopback_urls(port)
        .into_iter()
        .map(|u| u.replace("/page", "/pic.png"))
        .collect();
    urls.extend(
        [
            "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
            "http://[fd00:ec2::254]/latest/meta-data/",
            "http://10.0.0.1/pic.png",
            "http://192.168.1.1/pic.png",
            "http://172.16.0.1/pic.png",
            "http://100.64.0.1/pic.png",
            "http://[::1]/pic.png",
            "http://[fe80::1]/pic.png",
            "http://0.0.0.0/pic.png",
            "http://metadata.google.internal/computeMetadata/v1/",
            "http://metadata.test/pic.png",
            "http://private.test/pic.png",
            "http://lan.test/pic.png",
            "http://evil.test/pic.png",
            "http://mapped.test/pic.png",
        ]
        .map(str::to_string),
    );
    urls
}

async fn refused_everywhere(images: ImageProxy, label: &str) {
    let site = Pictures::default();
    site.set("/pic.png", picture("image/png", PNG));
    let base = site.start().await;
    let port = base.port().unwrap();
    let store = store();
    let urls = forbidden(port);
    for (n, url) in urls.iter().enumerate() {
        item(&store, &format!("shop:bad-{n}"), Some(url)).await;
    }
    let app = app(store, images);
    for (n, url) in urls.iter().enumerate() {
        let started = Instant::now();
        let got = get(&app, &format!("/api/items/shop:bad-{n}/image")).await;
        assert_unavailable(&got, &format!("{label}: {url}"));
        // Refused before any connection: nothing waited for a connect
        // timeout (3 s) on an address that does not answer.
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{label}: {url} took {:?}",
            started.elapsed()
        );
    }
    assert!(
        site.requests.lock().unwrap().is_empty(),
        "{label}: the local server was reached: {:?}",
        site.requests.lock().unwrap()
    );
}

#[tokio::test]
async fn private_loopback_and_metadata_addresses_are_refused_by_the_production_guard() {
    // The guard as in production, over the test resolver's names...
    refused_everywhere(strict(), "strict").await;
}

#[tokio::test]
async fn the_production_proxy_refuses_them_with_system_dns_too() {
    // ...and the very proxy `serve` and the Lambda build. (The names under
    // .test do not resolve there; they fail as well.)
    refused_everywhere(ImageProxy::new(), "production").await;
}

#[tokio::test]
async fn the_test_allowance_opens_one_name_only() {
    // shop.test may reach loopback; the loopback literals and the other
    // names mapped there may not (checked against a live server).
    refused_everywhere(relaxed(), "relaxed").await;
}

#[tokio::test]
async fn a_redirect_to_a_private_address_is_refused() {
    let inner = Pictures::default();
    inner.set("/secret.png", picture("image/png", PNG));
    let inner_base = inner.start().await;
    let port = inner_base.port().unwrap();
    let site = Pictures::default();
    let hops = [
        format!("http://127.0.0.1:{port}/secret.png"),
        format!("http://[::1]:{port}/secret.png"),
        format!("http://localhost:{port}/secret.png"),
        format!(
            "{}",
            on_host(&inner_base.join("/secret.png").unwrap(), "evil.test")
        ),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        "http://10.0.0.1/secret.png".to_string(),
        "http://private.test/secret.png".to_string(),
        "file:///etc/passwd".to_string(),
    ];
    for (n, to) in hops.iter().enumerate() {
        site.set(&format!("/hop-{n}.png"), redirect(to));
    }
    // Followed where the hop is allowed: the refusals are the guard's.
    site.set(
        "/fine.png",
        redirect(on_shop_host(&inner_base.join("/secret.png").unwrap()).as_str()),
    );
    let base = on_shop_host(&site.start().await);
    let store = store();
    for n in 0..hops.len() {
        let url = base.join(&format!("/hop-{n}.png")).unwrap();
        item(&store, &format!("shop:hop-{n}"), Some(url.as_str())).await;
    }
    item(
        &store,
        "shop:fine",
        Some(base.join("/fine.png").unwrap().as_str()),
    )
    .await;
    let app = app(store, relaxed());
    for (n, to) in hops.iter().enumerate() {
        let got = get(&app, &format!("/api/items/shop:hop-{n}/image")).await;
        assert_unavailable(&got, to);
        assert_eq!(site.hits(&format!("/hop-{n}.png")), 1, "{to}");
    }
    assert!(
        inner.picture_requests().is_empty(),
        "a redirect reached the private server: {:?}",
        inner.picture_requests()
    );
    let got = get(&app, "/api/items/shop:fine/image").await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body, PNG);
    assert_eq!(inner.hits("/secret.png"), 1);
}

/// An id segment as hostile as we can make it, percent-encoded (or raw
/// percent garbage, or invalid UTF-8).
fn hostile_id() -> impl Strategy<Value = String> {
    let encode =
        |s: String| -> String { url::form_urlencoded::byte_serialize(s.as_bytes()).collect() };
    prop_oneof![
        3 => any::<String>().prop_map(encode),
        2 => ".{0,300}".prop_map(encode),
        1 => "[a-z0-9:_.-]{0,40}",
        1 => "(%[0-9A-Fa-f]{0,2}|%[g-zG-Z%]|[a-z0-9:]){0,20}",
        1 => prop::collection::vec(any::<u8>(), 0..40)
            .prop_map(|b| b.iter().map(|x| format!("%{x:02X}")).collect()),
        1 => prop::sample::select(vec![
            "..", "%2e%2e", "%2F", "a%2Fb", "a%00b", "shop:pic%20", "shop%3Apic%2F",
            "%C3%BC:x", "", "shop:", ":pic",
        ])
        .prop_map(str::to_string),
        1 => Just("a".repeat(10_000)),
    ]
}

#[test]
fn any_id_is_answered_400_or_404_and_nothing_is_fetched() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let site = Pictures::default();
    site.set("/pic.png", picture("image/png", PNG));
    let app = rt.block_on(async {
        let base = on_shop_host(&site.start().await);
        let store = store();
        item(
            &store,
            "shop:pic",
            Some(base.join("/pic.png").unwrap().as_str()),
        )
        .await;
        app(store, relaxed())
    });
    let tried = AtomicUsize::new(0);
    let mut runner = TestRunner::new(Config {
        cases: 1_000,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&hostile_id(), |id| {
        let uri = format!("/api/items/{id}/image");
        let Ok(parsed) = uri.parse::<axum::http::Uri>() else {
            // Not a URI at all: no HTTP server would route it.
            return Ok(());
        };
        tried.fetch_add(1, Ordering::Relaxed);
        let got = rt.block_on(get(&app, &parsed.to_string()));
        prop_assert!(
            got.status == StatusCode::BAD_REQUEST || got.status == StatusCode::NOT_FOUND,
            "{} answered {}: {}",
            uri,
            got.status,
            String::from_utf8_lossy(&got.body)
        );
        let v: Value = serde_json::from_slice(&got.body)
            .map_err(|_| TestCaseError::fail(format!("{uri}: not a JSON error")))?;
        prop_assert!(v["error"]["code"].is_string(), "{}: {}", uri, v);
        Ok(())
    });
    println!(
        "GET /api/items/{{id}}/image: {} hostile ids, 400/404 each",
        tried.load(Ordering::Relaxed)
    );
    if let Err(e) = result {
        panic!("{e}");
    }
    assert!(
        site.picture_requests().is_empty(),
        "{:?}",
        site.picture_requests()
    );
    // And the real item still works after all that.
    let got = rt.block_on(get(&app, "/api/items/shop:pic/image"));
    assert_eq!(got.status, StatusCode::OK);
}

#[tokio::test]
async fn the_route_is_in_the_document_with_its_statuses() {
    let app = app(store(), relaxed());
    let doc = get(&app, "/api/openapi.json").await.json();
    let op = &doc["paths"]["/api/items/{id}/image"]["get"];
    assert!(op.is_object(), "{}", doc["paths"]);
    let ok = &op["responses"]["200"]["content"];
    for t in [
        "image/png",
        "image/jpeg",
        "image/webp",
        "image/gif",
        "image/avif",
    ] {
        assert!(ok[t].is_object(), "200 lists {t}: {ok}");
    }
    assert!(ok["application/json"].is_null(), "{ok}");
    assert!(ok["image/svg+xml"].is_null(), "{ok}");
    for status in ["400", "404", "502"] {
        assert_eq!(
            op["responses"][status]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ErrorBody",
            "{status}"
        );
    }
    assert!(op["responses"]["304"].is_object());
    // The item lists link to it.
    let links = &doc["paths"]["/api/items/{id}"]["get"]["responses"]["200"]["links"];
    assert_eq!(links["image"]["operationId"], "item_image", "{links}");
}
