//! How the fetcher behaves towards servers ([`FetchPolicy`]) and per call
//! ([`RequestOptions`]).

use std::time::Duration;

use super::user_links::LinkGuard;
#[cfg(doc)]
use super::{FetchError, Fetcher, StaticResolver, user_links};

/// The body cap for user links: a product page fits, and a stranger's link
/// should cost less than an operator's source.
pub const USER_LINK_MAX_BODY: usize = 1024 * 1024;

/// The body cap for item pictures ([`FetchPolicy::images`]): a product
/// photo at web size fits; the answer is cut off (and refused) past it.
pub const IMAGE_MAX_BODY: usize = 2 * 1024 * 1024;

/// Bodies larger than this are refused: a price page is never this big, and
/// a hostile or broken server must not exhaust a 256 MB Lambda.
pub const DEFAULT_MAX_BODY: usize = 5 * 1024 * 1024;

/// How the fetcher behaves towards servers. One per process, like the
/// [`Fetcher`] built from it.
#[derive(Debug, Clone)]
pub struct FetchPolicy {
    /// Requests in flight to one host:port at once. 0 is taken as 1.
    pub per_host_concurrency: usize,
    /// Minimum time between the starts of two requests to one host:port.
    pub per_host_delay: Duration,
    /// Whole-request timeout, body included.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Retries after the first attempt (so `max_retries + 1` attempts at most).
    pub max_retries: u32,
    /// Retry `n` (0-based) waits a uniformly random time in
    /// `[0, min(backoff_cap, backoff_base * 2^n)]` ("full jitter": retries from
    /// many callers do not arrive in waves).
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// The longest `Retry-After` honoured by waiting; longer → [`FetchError::RateLimited`].
    pub max_retry_after: Duration,
    /// Largest body accepted, counted after decompression.
    pub max_body: usize,
    /// Whether robots.txt is read and obeyed at all (a call can still opt out).
    pub respect_robots: bool,
    /// How long a fetched robots.txt is trusted before being read again.
    pub robots_ttl: Duration,
    /// Apply robots.txt and the per-host delay to loopback hosts too. Off by
    /// default (those servers are ours); tests of those rules turn it on.
    /// Ignored when [`FetchPolicy::link_guard`] is set: a fetcher for user
    /// links is polite to every host.
    pub polite_to_loopback: bool,
    /// Set for URLs that come from users: only the public internet is
    /// reached (see [`user_links`]). `None` for the operator's sources.
    pub link_guard: Option<LinkGuard>,
}

impl Default for FetchPolicy {
    /// Production settings: polite enough for small shops' servers, and
    /// bounded so one source cannot eat a Lambda's 15 minutes.
    fn default() -> Self {
        FetchPolicy {
            per_host_concurrency: 2,
            per_host_delay: Duration::from_millis(500),
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_retries: 3,
            backoff_base: Duration::from_millis(500),
            backoff_cap: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
            max_body: DEFAULT_MAX_BODY,
            respect_robots: true,
            robots_ttl: Duration::from_secs(60 * 60),
            polite_to_loopback: false,
            link_guard: None,
        }
    }
}

impl FetchPolicy {
    /// For tests against local servers: every rule on (loopback included) but
    /// no delay and millisecond backoff, so tests stay fast.
    pub fn for_tests() -> Self {
        FetchPolicy {
            per_host_delay: Duration::ZERO,
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(2),
            backoff_base: Duration::from_millis(10),
            backoff_cap: Duration::from_millis(100),
            polite_to_loopback: true,
            ..FetchPolicy::default()
        }
    }

    /// Production settings for user links: the guard on, a smaller body cap
    /// ([`USER_LINK_MAX_BODY`]), a shorter timeout and one retry (a pasted
    /// link is read while the user waits, and a stranger's server gets less
    /// of our time than a configured source), the usual per-host limits and
    /// robots.txt.
    pub fn user_links() -> Self {
        FetchPolicy {
            timeout: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(5),
            max_retries: 1,
            max_retry_after: Duration::from_secs(15),
            max_body: USER_LINK_MAX_BODY,
            link_guard: Some(LinkGuard::default()),
            ..FetchPolicy::default()
        }
    }

    /// Production settings for item pictures, fetched for the API's image
    /// route while a browser waits (see [`Fetcher::get_image`]). Their URLs
    /// come from scraped pages, which anyone can write, so the guard for
    /// user links is on. A short connect timeout and no retry: a picture
    /// that cannot be had quickly is dropped by the page, and a host that
    /// does not answer (no internet under `serve --demo`) must not hold a
    /// request for long. Up to 4 pictures at once per host, 100 ms apart
    /// (a page of results asks for many); robots.txt as for every fetch.
    pub fn images() -> Self {
        FetchPolicy {
            per_host_concurrency: 4,
            per_host_delay: Duration::from_millis(100),
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(3),
            max_retries: 0,
            max_retry_after: Duration::ZERO,
            max_body: IMAGE_MAX_BODY,
            ..FetchPolicy::user_links()
        }
    }

    /// TESTS ONLY: [`FetchPolicy::user_links`] with no per-host delay and
    /// millisecond backoff, whose guard lets `test_host` (a `.test` name,
    /// mapped to 127.0.0.1 by a [`StaticResolver`]) reach a local test server
    /// on any port. Everything else stays refused, loopback literals
    /// included; see [`LinkGuard::for_tests_allowing`] for why this cannot
    /// open loopback in production.
    pub fn user_links_for_tests(test_host: &str) -> Self {
        FetchPolicy {
            per_host_delay: Duration::ZERO,
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(2),
            backoff_base: Duration::from_millis(10),
            backoff_cap: Duration::from_millis(100),
            link_guard: Some(LinkGuard::for_tests_allowing(test_host)),
            ..FetchPolicy::user_links()
        }
    }
}

/// Per-call options.
#[derive(Debug, Clone, Copy)]
pub struct RequestOptions {
    /// Obey robots.txt for this request. A source opts out only where it has
    /// a reason to (an official API meant for programs, the site's consent).
    pub respect_robots: bool,
    /// The `Accept` header, e.g. `application/json`; reqwest's default when `None`.
    pub accept: Option<&'static str>,
}

impl Default for RequestOptions {
    fn default() -> Self {
        RequestOptions {
            respect_robots: true,
            accept: None,
        }
    }
}
