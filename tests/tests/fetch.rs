//! The fetcher's manners against local servers on 127.0.0.1: retries and
//! backoff, Retry-After, timeouts, the size cap, gzip, per-host limits and
//! robots.txt. Time is only ever asserted from below.

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pricehound::sources::fetch::{FetchError, FetchPolicy, Fetcher, RequestOptions};
use pricehound_tests::pages::serve;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;
use url::Url;

/// Every request a scripted server saw: path-and-query and arrival time.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<(String, Instant)>>>);

impl Log {
    fn times(&self, path: &str) -> Vec<Instant> {
        let log = self.0.lock().unwrap();
        log.iter()
            .filter(|(p, _)| p == path)
            .map(|(_, t)| *t)
            .collect()
    }
    fn count(&self, path: &str) -> usize {
        self.times(path).len()
    }
}

type Script = Arc<dyn Fn(&str, usize, &HeaderMap) -> Response + Send + Sync>;

/// A server answering `script(path, n, request headers)`, where `n` counts
/// earlier requests to the same path. Unknown paths (robots.txt included)
/// get whatever the script says; [`not_found`] is the usual default.
async fn scripted(
    script: impl Fn(&str, usize, &HeaderMap) -> Response + Send + Sync + 'static,
) -> (Url, Log) {
    async fn handle(State((script, log)): State<(Script, Log)>, req: Request) -> Response {
        let path = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default();
        let n = {
            let mut log = log.0.lock().unwrap();
            let n = log.iter().filter(|(p, _)| *p == path).count();
            log.push((path.clone(), Instant::now()));
            n
        };
        script(&path, n, req.headers())
    }
    let log = Log::default();
    let script: Script = Arc::new(script);
    let router = Router::new()
        .fallback(handle)
        .with_state((script, log.clone()));
    (serve(router).await, log)
}

fn ok(body: &str) -> Response {
    (StatusCode::OK, body.to_string()).into_response()
}

fn status(code: u16) -> Response {
    StatusCode::from_u16(code).unwrap().into_response()
}

fn not_found() -> Response {
    status(404)
}

fn with_retry_after(code: u16, value: &str) -> Response {
    (
        StatusCode::from_u16(code).unwrap(),
        [(header::RETRY_AFTER, value.to_string())],
    )
        .into_response()
}

fn at(base: &Url, path: &str) -> Url {
    base.join(path).unwrap()
}

fn no_robots() -> RequestOptions {
    RequestOptions {
        respect_robots: false,
        ..RequestOptions::default()
    }
}

// ---------- retries ----------

#[tokio::test]
async fn a_503_twice_then_200_succeeds_after_two_retries() {
    let (base, log) = scripted(|path, n, _| match (path, n) {
        ("/p", 0 | 1) => status(503),
        ("/p", _) => ok("finally"),
        _ => not_found(),
    })
    .await;
    let got = Fetcher::for_tests()
        .get_text(&at(&base, "/p"))
        .await
        .unwrap();
    assert_eq!(got.body, "finally");
    assert_eq!(log.count("/p"), 3);
}

#[tokio::test]
async fn a_500_forever_gives_up_after_max_retries_plus_one_attempts() {
    let (base, log) = scripted(|path, _, _| match path {
        "/p" => status(500),
        _ => not_found(),
    })
    .await;
    let f = Fetcher::for_tests();
    let err = f.get_text(&at(&base, "/p")).await.unwrap_err();
    assert!(
        matches!(err, FetchError::Status { status: 500, .. }),
        "{err:?}"
    );
    assert_eq!(log.count("/p"), f.policy().max_retries as usize + 1);
}

#[tokio::test]
async fn client_errors_are_not_retried_but_429_is() {
    let (base, log) = scripted(|path, n, _| match (path, n) {
        ("/gone", _) => status(404),
        ("/forbidden", _) => status(403),
        ("/busy", 0) => status(429),
        ("/busy", _) => ok("served"),
        _ => not_found(),
    })
    .await;
    let f = Fetcher::for_tests();
    let err = f.get_text(&at(&base, "/gone")).await.unwrap_err();
    assert!(
        matches!(err, FetchError::Status { status: 404, .. }),
        "{err:?}"
    );
    let err = f.get_text(&at(&base, "/forbidden")).await.unwrap_err();
    assert!(
        matches!(err, FetchError::Status { status: 403, .. }),
        "{err:?}"
    );
    assert_eq!(log.count("/gone"), 1);
    assert_eq!(log.count("/forbidden"), 1);
    // A 429 without Retry-After is retried with backoff.
    assert_eq!(
        f.get_text(&at(&base, "/busy")).await.unwrap().body,
        "served"
    );
    assert_eq!(log.count("/busy"), 2);
}

#[tokio::test]
async fn connection_refused_is_retried_then_a_transport_error() {
    // Bind, note the port, close: nothing listens there any more.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let url = Url::parse(&format!("http://{addr}/p")).unwrap();
    let err = Fetcher::for_tests()
        .get_text_with(&url, &no_robots())
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::Transport { .. }), "{err:?}");
}

// ---------- Retry-After ----------

#[tokio::test]
async fn retry_after_one_second_is_waited_out() {
    let (base, log) = scripted(|path, n, _| match (path, n) {
        ("/p", 0) => with_retry_after(429, "1"),
        ("/p", _) => ok("after the wait"),
        _ => not_found(),
    })
    .await;
    let got = Fetcher::for_tests()
        .get_text(&at(&base, "/p"))
        .await
        .unwrap();
    assert_eq!(got.body, "after the wait");
    let t = log.times("/p");
    assert_eq!(t.len(), 2);
    assert!(
        t[1] - t[0] >= Duration::from_secs(1),
        "gap {:?}",
        t[1] - t[0]
    );
}

#[tokio::test]
async fn retry_after_longer_than_the_policy_allows_is_rate_limited_at_once() {
    let in_an_hour = (chrono::Utc::now() + chrono::Duration::hours(1))
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    let (base, log) = scripted(move |path, _, _| match path {
        "/seconds" => with_retry_after(429, "3600"),
        "/date" => with_retry_after(503, &in_an_hour),
        _ => not_found(),
    })
    .await;
    let f = Fetcher::for_tests();
    let started = Instant::now();
    let err = f.get_text(&at(&base, "/seconds")).await.unwrap_err();
    match &err {
        FetchError::RateLimited { retry_after, url } => {
            assert_eq!(*retry_after, Duration::from_secs(3600));
            assert!(url.ends_with("/seconds"));
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("rate limited"), "{err}");
    let err = f.get_text(&at(&base, "/date")).await.unwrap_err();
    match err {
        FetchError::RateLimited { retry_after, .. } => {
            assert!(retry_after > Duration::from_secs(3500), "{retry_after:?}")
        }
        other => panic!("{other:?}"),
    }
    // Each asked once, and nobody slept the hour.
    assert_eq!(log.count("/seconds"), 1);
    assert_eq!(log.count("/date"), 1);
    assert!(started.elapsed() < Duration::from_secs(600));
}

#[tokio::test]
async fn garbage_retry_after_is_treated_as_absent() {
    let (base, log) = scripted(|path, n, _| match (path, n) {
        ("/p", 0) => with_retry_after(429, "soon, maybe"),
        ("/p", 1) => with_retry_after(503, "-5"),
        ("/p", _) => ok("fine"),
        _ => not_found(),
    })
    .await;
    let got = Fetcher::for_tests()
        .get_text(&at(&base, "/p"))
        .await
        .unwrap();
    assert_eq!(got.body, "fine");
    assert_eq!(log.count("/p"), 3, "retried with backoff, not refused");
}

// ---------- timeouts ----------

#[tokio::test]
async fn a_slow_server_times_out_and_is_retried() {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let router = Router::new().route(
        "/slow",
        axum::routing::get(move || {
            let h = h.clone();
            async move {
                h.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_secs(2)).await;
                "too late"
            }
        }),
    );
    let base = serve(router).await;
    let f = Fetcher::with_policy(FetchPolicy {
        timeout: Duration::from_millis(300),
        max_retries: 1,
        ..FetchPolicy::for_tests()
    });
    let started = Instant::now();
    let err = f.get_text(&at(&base, "/slow")).await.unwrap_err();
    match &err {
        FetchError::Timeout { after, url } => {
            assert_eq!(*after, Duration::from_millis(300));
            assert!(url.ends_with("/slow"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(hits.load(Ordering::SeqCst), 2, "one retry");
    assert!(started.elapsed() >= Duration::from_millis(600));
}

// ---------- size cap ----------

#[tokio::test]
async fn an_oversized_body_with_content_length_is_refused() {
    let (base, _) = scripted(|path, _, _| match path {
        "/big" => ok(&"x".repeat(4096)),
        "/fits" => ok(&"x".repeat(1024)),
        _ => not_found(),
    })
    .await;
    let f = Fetcher::for_tests().with_max_body(1024);
    let err = f.get_text(&at(&base, "/big")).await.unwrap_err();
    assert!(
        matches!(err, FetchError::TooLarge { limit: 1024, .. }),
        "{err:?}"
    );
    assert_eq!(
        f.get_text(&at(&base, "/fits")).await.unwrap().body.len(),
        1024
    );
    // get_json shares the cap.
    let err = f
        .get_json(&at(&base, "/big"), &RequestOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::TooLarge { .. }), "{err:?}");
}

/// A raw server that answers every connection with a body of `total` bytes
/// and no Content-Length (read until close), like a hostile or broken server.
async fn endless_server(total: usize) -> Url {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let _ = sock
                    .write_all(
                        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n",
                    )
                    .await;
                let chunk = vec![b'y'; 16 * 1024];
                let mut sent = 0;
                while sent < total {
                    if sock.write_all(&chunk).await.is_err() {
                        return; // the client hung up: what we want
                    }
                    sent += chunk.len();
                }
            });
        }
    });
    Url::parse(&format!("http://{addr}/stream")).unwrap()
}

#[tokio::test]
async fn an_oversized_body_without_content_length_is_refused_while_streaming() {
    let url = endless_server(20 * 1024 * 1024).await;
    let err = Fetcher::for_tests()
        .with_max_body(64 * 1024)
        .get_text_with(&url, &no_robots())
        .await
        .unwrap_err();
    assert!(
        matches!(err, FetchError::TooLarge { limit: 65536, .. }),
        "{err:?}"
    );
}

// ---------- compression ----------

#[tokio::test]
async fn a_gzip_encoded_body_is_decoded() {
    let page = "<html><body>Or 18K : 13 740 DA</body></html>".repeat(50);
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(page.as_bytes()).unwrap();
    let gz = enc.finish().unwrap();
    assert!(gz.len() < page.len());
    let seen_accept_encoding = Arc::new(Mutex::new(String::new()));
    let seen = seen_accept_encoding.clone();
    let (base, _) = scripted(move |path, _, headers| match path {
        "/gz" => {
            *seen.lock().unwrap() = headers
                .get(header::ACCEPT_ENCODING)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            Response::builder()
                .header(header::CONTENT_ENCODING, "gzip")
                .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
                .body(Body::from(gz.clone()))
                .unwrap()
        }
        _ => not_found(),
    })
    .await;
    let got = Fetcher::for_tests()
        .get_text(&at(&base, "/gz"))
        .await
        .unwrap();
    assert_eq!(got.body, page);
    let ae = seen_accept_encoding.lock().unwrap().clone();
    assert!(ae.contains("gzip") && ae.contains("br"), "{ae}");
}

// ---------- JSON ----------

#[tokio::test]
async fn get_json_asks_for_json_and_reports_invalid_json() {
    let (base, _) = scripted(|path, _, headers| {
        let accept = headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        match path {
            "/spot" if accept == "application/json" => ok(r#"{"xau":{"usd":"2650.10"}}"#),
            "/spot" => status(406),
            "/broken" => ok("<html>not json</html>"),
            _ => not_found(),
        }
    })
    .await;
    let f = Fetcher::for_tests();
    let v = f
        .get_json(&at(&base, "/spot"), &RequestOptions::default())
        .await
        .unwrap();
    assert_eq!(v["xau"]["usd"], "2650.10");
    let err = f
        .get_json(&at(&base, "/broken"), &RequestOptions::default())
        .await
        .unwrap_err();
    match &err {
        FetchError::Decode { message, .. } => {
            assert!(message.contains("invalid JSON"), "{message}");
            assert!(
                !message.contains("not json"),
                "no body in errors: {message}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn errors_never_carry_url_credentials() {
    let (base, _) = scripted(|_, _, _| status(404)).await;
    let mut url = at(&base, "/p?page=2");
    url.set_username("user").unwrap();
    url.set_password(Some("hunter2")).unwrap();
    let err = Fetcher::for_tests().get_text(&url).await.unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.contains("/p?page=2"), "{text}");
}

// ---------- per-host limits ----------

#[tokio::test]
async fn at_most_two_requests_in_flight_per_host() {
    let in_flight = Arc::new(AtomicUsize::new(0));
    let max_seen = Arc::new(AtomicUsize::new(0));
    let (i, m) = (in_flight.clone(), max_seen.clone());
    let router = Router::new().route(
        "/p",
        axum::routing::get(move || {
            let (i, m) = (i.clone(), m.clone());
            async move {
                let now = i.fetch_add(1, Ordering::SeqCst) + 1;
                m.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(150)).await;
                i.fetch_sub(1, Ordering::SeqCst);
                "ok"
            }
        }),
    );
    let base = serve(router).await;
    let f = Fetcher::for_tests();
    let url = at(&base, "/p");
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let (f, url) = (f.clone(), url.clone());
            tokio::spawn(async move { f.get_text(&url).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let max = max_seen.load(Ordering::SeqCst);
    assert!(max <= 2, "max in flight {max}");
    assert_eq!(max, 2, "two at a time do run concurrently");
}

#[tokio::test]
async fn the_limit_is_per_host_and_port_so_two_servers_do_not_share_it() {
    // Each handler waits (up to 3 s) until four requests are in flight across
    // both servers: only possible if the two ports have separate limits.
    let in_flight = Arc::new(AtomicUsize::new(0));
    let max_seen = Arc::new(AtomicUsize::new(0));
    let router = || {
        let (i, m) = (in_flight.clone(), max_seen.clone());
        Router::new().route(
            "/p",
            axum::routing::get(move || {
                let (i, m) = (i.clone(), m.clone());
                async move {
                    let now = i.fetch_add(1, Ordering::SeqCst) + 1;
                    m.fetch_max(now, Ordering::SeqCst);
                    let deadline = Instant::now() + Duration::from_secs(3);
                    while m.load(Ordering::SeqCst) < 4 && Instant::now() < deadline {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                    i.fetch_sub(1, Ordering::SeqCst);
                    "ok"
                }
            }),
        )
    };
    let a = serve(router()).await;
    let b = serve(router()).await;
    assert_ne!(a.port(), b.port());
    let f = Fetcher::for_tests();
    let tasks: Vec<_> = [&a, &a, &b, &b]
        .into_iter()
        .map(|base| {
            let (f, url) = (f.clone(), at(base, "/p"));
            tokio::spawn(async move { f.get_text(&url).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(max_seen.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn requests_to_one_host_start_at_least_the_delay_apart() {
    let (base, log) = scripted(|_, _, _| ok("ok")).await;
    let f = Fetcher::with_policy(FetchPolicy {
        per_host_delay: Duration::from_millis(200),
        ..FetchPolicy::for_tests()
    });
    for _ in 0..3 {
        f.get_text_with(&at(&base, "/p"), &no_robots())
            .await
            .unwrap();
    }
    let t = log.times("/p");
    assert_eq!(t.len(), 3);
    // Starts are spaced on the client; a few ms of loopback latency can move
    // the arrivals seen here, so allow that much.
    for w in t.windows(2) {
        assert!(
            w[1] - w[0] >= Duration::from_millis(190),
            "gap {:?}",
            w[1] - w[0]
        );
    }
}

// ---------- robots.txt ----------

fn robots(body: &'static str) -> impl Fn(&str, usize, &HeaderMap) -> Response {
    move |path, _, _| match path {
        "/robots.txt" => ok(body),
        "/robots-free" => not_found(),
        p => ok(&format!("page {p}")),
    }
}

#[tokio::test]
async fn robots_disallow_for_everyone_is_obeyed_and_read_once() {
    let (base, log) = scripted(robots("User-agent: *\nDisallow: /private\n")).await;
    let f = Fetcher::for_tests();
    let err = f.get_text(&at(&base, "/private/x")).await.unwrap_err();
    match &err {
        FetchError::DisallowedByRobots { url } => assert!(url.ends_with("/private/x")),
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("robots.txt"), "{err}");
    for i in 0..5 {
        let page = at(&base, &format!("/public/{i}"));
        assert_eq!(
            f.get_text(&page).await.unwrap().body,
            format!("page /public/{i}")
        );
    }
    // A clone shares the cache too.
    f.clone().get_text(&at(&base, "/public")).await.unwrap();
    assert_eq!(log.count("/robots.txt"), 1);
    assert_eq!(log.count("/private/x"), 0, "never requested");
}

#[tokio::test]
async fn concurrent_first_requests_read_robots_once() {
    let (base, log) = scripted(robots("User-agent: *\nAllow: /\n")).await;
    let f = Fetcher::for_tests();
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let (f, url) = (f.clone(), at(&base, &format!("/p{i}")));
            tokio::spawn(async move { f.get_text(&url).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(log.count("/robots.txt"), 1);
}

#[tokio::test]
async fn a_pricehound_group_overrides_the_star_group() {
    let (base, _) = scripted(robots(
        "User-agent: *\nAllow: /\n\nUser-agent: PriceHound\nDisallow: /\n",
    ))
    .await;
    let err = Fetcher::for_tests()
        .get_text(&at(&base, "/anything"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, FetchError::DisallowedByRobots { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_call_can_opt_out_of_robots() {
    let (base, log) = scripted(robots("User-agent: *\nDisallow: /\n")).await;
    let f = Fetcher::for_tests();
    let got = f
        .get_text_with(&at(&base, "/api/prices"), &no_robots())
        .await
        .unwrap();
    assert_eq!(got.body, "page /api/prices");
    let v = f
        .get_json(&at(&base, "/robots-free"), &no_robots())
        .await
        .unwrap_err();
    assert!(matches!(v, FetchError::Status { status: 404, .. }), "{v:?}");
    assert_eq!(log.count("/robots.txt"), 0, "not even read");
    // The policy can switch robots off for the whole process, too.
    let f = Fetcher::with_policy(FetchPolicy {
        respect_robots: false,
        ..FetchPolicy::for_tests()
    });
    f.get_text(&at(&base, "/x")).await.unwrap();
    assert_eq!(log.count("/robots.txt"), 0);
}

#[tokio::test]
async fn a_missing_robots_txt_allows_everything() {
    let (base, log) = scripted(|path, _, _| match path {
        "/robots.txt" => not_found(),
        _ => ok("page"),
    })
    .await;
    let f = Fetcher::for_tests();
    f.get_text(&at(&base, "/a")).await.unwrap();
    f.get_text(&at(&base, "/b")).await.unwrap();
    assert_eq!(log.count("/robots.txt"), 1, "the 404 is cached too");
}

#[tokio::test]
async fn a_failing_robots_txt_disallows_for_now() {
    let (base, log) = scripted(|path, _, _| match path {
        "/robots.txt" => status(500),
        _ => ok("page"),
    })
    .await;
    let f = Fetcher::for_tests();
    let err = f.get_text(&at(&base, "/a")).await.unwrap_err();
    match &err {
        FetchError::RobotsUnavailable { message, .. } => assert!(message.contains("500")),
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("RFC 9309"), "{err}");
    let robots_reads = log.count("/robots.txt");
    assert_eq!(robots_reads, f.policy().max_retries as usize + 1);
    // Remembered for a while, not refetched on every request.
    assert!(f.get_text(&at(&base, "/b")).await.is_err());
    assert_eq!(log.count("/robots.txt"), robots_reads);
    assert_eq!(log.count("/a") + log.count("/b"), 0);
}

#[tokio::test]
async fn a_megabyte_of_garbage_robots_txt_is_capped_and_survived() {
    // Deterministic noise: every byte value, newlines and NULs included.
    let mut noise = Vec::with_capacity(1 << 20);
    let mut x: u32 = 0x2545_f491;
    while noise.len() < (1 << 20) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        noise.push((x >> 11) as u8);
    }
    let mut capped = b"User-agent: *\nDisallow: /a\n".to_vec();
    capped.extend_from_slice(&noise);
    // Past the 500 KiB RFC 9309 limit: must be ignored.
    capped.extend_from_slice(b"\nUser-agent: *\nDisallow: /\n");
    let capped = Arc::new(capped);
    let noise = Arc::new(noise);
    let (base, log) = scripted(move |path, _, _| match path {
        "/robots.txt" => Response::new(Body::from(capped.to_vec())),
        _ => ok("page"),
    })
    .await;
    let f = Fetcher::for_tests();
    let err = f.get_text(&at(&base, "/a")).await.unwrap_err();
    assert!(
        matches!(err, FetchError::DisallowedByRobots { .. }),
        "{err:?}"
    );
    f.get_text(&at(&base, "/b")).await.unwrap();
    assert_eq!(log.count("/robots.txt"), 1);

    // Pure noise: no rules, no panic.
    let (base, _) = scripted(move |path, _, _| match path {
        "/robots.txt" => Response::new(Body::from(noise.to_vec())),
        _ => ok("page"),
    })
    .await;
    f.get_text(&at(&base, "/anything")).await.unwrap();
}

#[tokio::test]
async fn the_default_fetcher_spares_loopback_robots_and_delay() {
    // Loopback is this machine (demo pages, tests): the production policy
    // does not read robots.txt there, though a remote host would be.
    let (base, log) = scripted(robots("User-agent: *\nDisallow: /\n")).await;
    let f = Fetcher::new();
    for _ in 0..3 {
        f.get_text(&at(&base, "/p")).await.unwrap();
    }
    assert_eq!(log.count("/robots.txt"), 0);
    assert_eq!(log.count("/p"), 3);
}
