//! A fetcher for user links that tests can point at local servers: names
//! under `.test` resolved by a fixed table, `shop.test` the one name the
//! guard lets reach loopback (see `FetchPolicy::user_links_for_tests`).
//! Every other answer of the table is one the guard must refuse, so a guard
//! bug can only ever send a test's traffic to 127.0.0.1.

use crate::pages::{Answer, Scripted};
use pricehound::sources::Fetcher;
use pricehound::sources::fetch::{FetchPolicy, StaticResolver};
use std::net::IpAddr;
use std::sync::Arc;
use url::Url;

/// The allowed test host: resolves to 127.0.0.1, any port.
pub const SHOP_HOST: &str = "shop.test";

/// The names of the test resolver and what they resolve to. Only loopback
/// addresses stand for places a connection could actually go; the private
/// ones are refused before connecting (and nothing listens there anyway).
pub fn resolver() -> StaticResolver {
    let ip = |s: &str| s.parse::<IpAddr>().expect("a literal address");
    StaticResolver::new([
        (SHOP_HOST, ip("127.0.0.1")),
        ("evil.test", ip("127.0.0.1")),
        ("evil6.test", ip("::1")),
        ("private.test", ip("10.0.0.1")),
        ("lan.test", ip("192.168.1.1")),
        ("metadata.test", ip("169.254.169.254")),
        ("mapped.test", ip("::ffff:127.0.0.1")),
    ])
}

/// A guarded fetcher over [`resolver`].
pub fn fetcher() -> Fetcher {
    Fetcher::for_user_links_with(
        FetchPolicy::user_links_for_tests(SHOP_HOST),
        Arc::new(resolver()),
    )
}

/// `url` (a local test server's, `http://127.0.0.1:PORT/...`) under `host`.
pub fn on_host(url: &Url, host: &str) -> Url {
    let mut u = url.clone();
    u.set_host(Some(host)).expect("a valid host name");
    u
}

/// `url` under [`SHOP_HOST`], the address a user link may use in tests.
pub fn on_shop_host(url: &Url) -> Url {
    on_host(url, SHOP_HOST)
}

/// What the counting server answers on `/page`.
pub const PAGE: &str = "<html><head><title>ok</title></head><body>ok</body></html>";

/// A counting server on 127.0.0.1 that answers `/page` and 404 elsewhere;
/// `requests()` lists what reached it.
pub async fn server() -> (Scripted, Url) {
    let site = Scripted::default();
    site.set("/page", Answer::html(PAGE));
    let base = site.start().await;
    (site, base)
}

/// The test server's port.
pub fn port(base: &Url) -> u16 {
    base.port().expect("the test server's port")
}

/// Every loopback spelling of the test server (and names the test resolver
/// maps to loopback), plus other schemes and ports: links a user may paste
/// that must never reach it.
pub fn hostile_loopback_urls(port: u16) -> Vec<String> {
    [
        "http://127.0.0.1:{P}/page",
        "http://[::1]:{P}/page",
        "http://2130706433:{P}/page",
        "http://0x7f000001:{P}/page",
        "http://0x7f.1:{P}/page",
        "http://0177.0.0.1:{P}/page",
        "http://127.1:{P}/page",
        "http://127.0.0.1.:{P}/page",
        "http://%31%32%37.0.0.1:{P}/page",
        "http://[::ffff:127.0.0.1]:{P}/page",
        "http://[::ffff:7f00:1]:{P}/page",
        "http://[::127.0.0.1]:{P}/page",
        "http://[64:ff9b::7f00:1]:{P}/page",
        "http://[2002:7f00:1::1]:{P}/page",
        "http://0.0.0.0:{P}/page",
        "http://0:{P}/page",
        "http://localhost:{P}/page",
        "http://LocalHost.:{P}/page",
        "http://www.localhost:{P}/page",
        "http://user:pw@127.0.0.1:{P}/page",
        // Names the test resolver maps to loopback: refused at connect time.
        "http://evil.test:{P}/page",
        "http://evil6.test:{P}/page",
        "http://mapped.test:{P}/page",
        "https://evil.test:{P}/page",
        // Other schemes, and other ports under an otherwise fine name.
        "ftp://127.0.0.1:{P}/page",
        "ftp://shop.example/page",
        "file:///etc/passwd",
        "https://evil.test:8443/page",
        "https://shop.example:8443/page",
        "http://shop.example:8080/page",
    ]
    .iter()
    .map(|u| u.replace("{P}", &port.to_string()))
    .collect()
}
