//! A fetcher for user links that tests can point at local servers: names
//! under `.test` resolved by a fixed table, `shop.test` the one name the
//! guard lets reach loopback (see `FetchPolicy::user_links_for_tests`).
//! Every other answer of the table is one the guard must refuse, so a guard
//! bug can only ever send a test's traffic to 127.0.0.1.

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
