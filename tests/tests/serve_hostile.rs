//! The real `pricehound serve --demo` binary, as an attacker meets it: a
//! flood of hostile HTTP requests to every route (malformed HTTP included,
//! over raw TCP), and links to internal addresses pasted into the bot
//! (long polling against the Bot API stand-in) and confirmed with the
//! Track button. The process must answer every request without a 5xx and
//! keep serving, and the local server behind those links must receive
//! nothing.

use pricehound::domain::user::Lang;
use pricehound::telegram::texts::{Text, render};
use pricehound_tests::bot::{TOKEN, buttons, callback, message};
use pricehound_tests::cli::{serve_command, spawn_serving};
use pricehound_tests::telegram_standin::TelegramStandin;
use pricehound_tests::user_links::{hostile_loopback_urls, port, server};
use serde_json::Value;
use std::net::SocketAddr;
use std::process::Child;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Kills the server if the test fails, so nothing outlives the test.
struct Serve {
    child: Child,
    addr: SocketAddr,
    _dir: TempDir,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Starts `pricehound serve --demo` with the bot on the stand-in, and
/// waits for its address.
fn start(standin: &TelegramStandin, name: &str) -> Serve {
    let dir = std::env::temp_dir().join(format!(
        "pricehound-serve-hostile-{}-{name}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("p.db");
    let mut cmd = serve_command(&["--demo", "--no-run-at-start", "--db", db.to_str().unwrap()]);
    // The rate limit is off for the flood: it would answer most of it 429
    // before the handlers see it (tests/api_hostile.rs checks the limit).
    cmd.env("PRICEHOUND_BOT_TOKEN", TOKEN)
        .env("PRICEHOUND_TELEGRAM_API", standin.base_url())
        .env("PRICEHOUND_API_RATE", "0")
        .env("RUST_LOG", "warn");
    let (child, addr) = spawn_serving(cmd);
    Serve {
        child,
        addr,
        _dir: TempDir(dir),
    }
}

/// Sends `raw` bytes as one HTTP exchange and returns the status code of
/// the answer (None when the server closed the connection without one,
/// which hyper does for some malformed requests).
async fn exchange(addr: SocketAddr, raw: &[u8]) -> Option<u16> {
    let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
    // A server may answer and close before reading all of a huge request.
    // No half-close after writing: hyper takes it for a client that left.
    let _ = s.write_all(raw).await;
    // Read until the status line is in (bounded): some of these requests
    // keep the connection open.
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while buf.len() < 12 {
        match tokio::time::timeout_at(deadline, s.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => buf.extend_from_slice(chunk.get(..n)?),
            _ => break,
        }
    }
    let head = String::from_utf8_lossy(buf.get(..buf.len().min(64))?);
    head.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

fn get(target: &str) -> Vec<u8> {
    format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").into_bytes()
}

/// Every route with hostile parameters, and malformed HTTP.
fn hostile_requests() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    let values = [
        "7%D0%B4",
        "%C3%A9",
        "%F4%8F%BF%BF",
        "%FF%FE",
        "%",
        "%zz",
        "%E2%82",
        "",
        "%20%20",
        "99999999999999999999999999999999999999",
        "-1",
        "1e999999",
        "NaN",
        "0",
        "-262143-01-01",
        "%2B262142-12-31T23%3A59%3A59Z",
        "0000-01-01",
        "AAAA",
        "____",
        "%00",
        "..%2F..%2Fetc%2Fpasswd",
        "%3Cscript%3E",
    ];
    let long = "A".repeat(2100);
    let routes: [(&str, &[&str]); 6] = [
        ("/api/prices", &["source", "limit", "cursor", "nope"]),
        ("/api/items/{id}", &["x"]),
        (
            "/api/items/{id}/history",
            &["from", "to", "limit", "cursor", "order"],
        ),
        ("/api/series/{id}/stats", &["window", "to"]),
        ("/api/health", &["x"]),
        ("/api/sources", &["x"]),
    ];
    let ids = [
        "tg-zoloto-lombard:999-proba",
        "gold-18k",
        "%FF",
        "%2F",
        "a%00b",
        "..",
        "x",
    ];
    for (route, params) in routes {
        for id in ids {
            let path = route.replace("{id}", id);
            for name in params {
                for v in values.iter().copied().chain([long.as_str()]) {
                    let target = format!("{path}?{name}={v}");
                    out.push((format!("GET {target}"), get(&target)));
                }
            }
            if !route.contains("{id}") {
                break;
            }
        }
    }
    for target in [
        "/",
        "/assets/page.js",
        "/api",
        "/api/",
        "/api/%FF",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/api/series//stats",
        "/telegram/webhook",
    ] {
        out.push((format!("GET {target}"), get(target)));
    }
    let raw: [(&str, Vec<u8>); 12] = [
        ("no Host", b"GET /api/health HTTP/1.1\r\nConnection: close\r\n\r\n".to_vec()),
        ("bad method", b"BR\xffEW /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec()),
        ("raw bytes in the path", b"GET /api/items/\xff\xfe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec()),
        ("HTTP/9", b"GET /api/health HTTP/9.9\r\nHost: x\r\n\r\n".to_vec()),
        ("garbage", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all\r\n\r\n".to_vec()),
        (
            "huge header",
            format!(
                "GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
                "b".repeat(200_000)
            )
            .into_bytes(),
        ),
        (
            "huge path",
            get(&format!("/api/items/{}", "a".repeat(100_000))),
        ),
        (
            "POST a big body",
            format!(
                "POST /api/prices HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\nConnection: close\r\n\r\n{}",
                "{".repeat(100_000)
            )
            .into_bytes(),
        ),
        (
            "lying Content-Length",
            b"POST /telegram/webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 99999\r\nConnection: close\r\n\r\n{}".to_vec(),
        ),
        (
            "bad chunked body",
            b"POST /telegram/webhook HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\nxx\r\n".to_vec(),
        ),
        (
            "forged webhook",
            b"POST /telegram/webhook HTTP/1.1\r\nHost: x\r\nX-Telegram-Bot-Api-Secret-Token: guess\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}".to_vec(),
        ),
        (
            "pipelined",
            [get("/api/prices?limit=%FF"), get("/api/series/x/stats?window=7%D0%B4")].concat(),
        ),
    ];
    out.extend(
        raw.into_iter()
            .map(|(what, bytes)| (what.to_string(), bytes)),
    );
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_survives_hostile_requests_and_never_fetches_pasted_internal_links() {
    let standin = TelegramStandin::start(TOKEN).await;
    let serve = start(&standin, "main");
    let addr = serve.addr;

    // 1. Hostile requests to every route.
    let requests = hostile_requests();
    let mut answered = 0;
    for (what, raw) in &requests {
        if let Some(status) = exchange(addr, raw).await {
            answered += 1;
            assert!(status < 500, "{what}: {status}");
        }
    }
    println!(
        "serve --demo: {} hostile requests, {answered} answered, none with a 5xx",
        requests.len()
    );
    assert!(
        answered * 10 >= requests.len() * 9,
        "most requests get an answer"
    );
    let health = exchange(addr, &get("/api/health")).await;
    assert_eq!(health, Some(200), "still serving after the flood");

    // 2. Links to internal addresses pasted into the bot, each confirmed
    //    with its Track button: the counting server must see nothing.
    let (site, base) = server().await;
    let mut links = hostile_loopback_urls(port(&base));
    links.extend(
        [
            "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
            "http://[fd00:ec2::254]/latest/meta-data/",
            "http://100.100.100.200/latest/meta-data/",
            "http://metadata.google.internal/computeMetadata/v1/",
            "http://10.0.0.1/",
            "http://192.168.1.1/",
            "http://172.16.0.1/",
            "http://100.64.0.1/",
            "http://[fe80::1]/",
            "http://[fc00::1]/",
        ]
        .map(String::from),
    );
    let polite = render(Lang::En, &Text::TrackFailed);
    let reading = render(Lang::En, &Text::TrackReading);
    let mut pressed = 0;
    for (n, link) in links.iter().enumerate() {
        // A user per link: the bot's per-user throttle and track limits are
        // not what this checks.
        let user = 777_000 + n as i64;
        let from = standin.calls_to("sendMessage").len();
        standin.push_update(message(user, "en", link));
        let offer = wait_for_sends(&standin, from, 1).await;
        let Some((_, data)) = buttons(&offer)
            .into_iter()
            .find(|(_, d)| d.starts_with("t|") || d.starts_with('~'))
        else {
            continue; // not offered (not an http(s) link): nothing to press
        };
        let from = standin.calls_to("sendMessage").len();
        standin.push_update(callback(user, "en", &data, 100));
        pressed += 1;
        // "Reading the page…" and the result (in either order: the job
        // runs beside the update's answer), which is the one polite
        // answer whatever happened (no port-scanner oracle).
        let answers = wait_for_sends(&standin, from, 2).await;
        let texts: Vec<&str> = answers.iter().filter_map(|c| c["text"].as_str()).collect();
        assert!(texts.contains(&polite.as_str()), "{link}: {texts:?}");
        assert!(
            texts.iter().all(|t| *t == polite || *t == reading),
            "{link}: {texts:?}"
        );
    }
    println!(
        "serve --demo: {} internal links pasted, {pressed} confirmed with Track, {} requests reached the local server",
        links.len(),
        site.requests().len()
    );
    assert!(
        pressed >= 20,
        "most links are offered for tracking: {pressed}"
    );
    assert_eq!(
        site.requests(),
        Vec::<String>::new(),
        "nothing reached the local server"
    );
    assert_eq!(exchange(addr, &get("/api/health")).await, Some(200));
}

/// Waits (bounded) until the stand-in has received `new` sendMessage calls
/// after the first `from`, and returns those.
async fn wait_for_sends(standin: &TelegramStandin, from: usize, new: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let calls = standin.calls_to("sendMessage");
        if calls.len() >= from + new || Instant::now() > deadline {
            return calls.into_iter().skip(from).map(|c| c.params).collect();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
