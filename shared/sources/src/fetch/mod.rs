//! The one HTTP client every source fetches through, and the manners it
//! keeps with other people's servers:
//!
//! - a User-Agent that names pricehound and where to read about it;
//! - at most [`FetchPolicy::per_host_concurrency`] requests in flight per
//!   host, and [`FetchPolicy::per_host_delay`] between request starts to one
//!   host, so a source that pages back or many product pages on one shop never
//!   hammer it;
//! - timeouts, and retries with exponential backoff and full jitter on 5xx,
//!   429, timeouts and connection errors (never on other 4xx: asking again
//!   will not change the answer);
//! - `Retry-After` honoured on 429 and 503, unless it asks for longer than
//!   [`FetchPolicy::max_retry_after`]: then [`FetchError::RateLimited`] at once
//!   rather than sleeping a Lambda's budget away;
//! - a body size cap, enforced while streaming (also on decompressed bytes, so a
//!   gzip bomb is cut off too); gzip and brotli are decoded by reqwest;
//! - robots.txt (RFC 9309), fetched once per origin per process and cached,
//!   unless the policy or the call opts out.
//!
//! The limits are per *host and port* (`shop.example:443`): a port is a
//! different server as far as load goes, and robots.txt is per origin
//! (scheme, host, port) as RFC 9309 says.
//!
//! Two kinds of fetcher are built from it. The operator's ([`Fetcher::new`])
//! fetches the sources of sources.toml, which may point anywhere, loopback
//! included: that is how `--demo` and the tests work. The one for user links
//! ([`Fetcher::for_user_links`]) fetches pages users paste into the bot and
//! everything those pages lead to; it reaches the public internet only
//! (http/https on ports 80 and 443, no loopback, private, link-local, CGNAT,
//! metadata or other special address in any notation), checked on the URL,
//! on every redirect hop and on the addresses a name resolves to at connect
//! time ([`user_links`], rules in [`net_guard`]). A refusal is
//! [`FetchError::Forbidden`], before any byte is sent to that address.
//!
//! Loopback hosts (127.0.0.0/8, ::1, `localhost`) are this machine: the
//! `--demo` pages, test servers, a local proxy. Robots.txt and the per-host
//! delay exist to spare someone else's server, so by default an operator's
//! fetcher does not apply them there ([`FetchPolicy::polite_to_loopback`]);
//! retries, timeouts, the concurrency limit and the size cap still apply. A
//! fetcher for user links never makes that exemption (it refuses loopback
//! anyway, and a test host it lets through is treated as someone else's).
//!
//! Redirects (up to 5) are followed by reqwest within one attempt: the hops
//! are neither checked against robots.txt nor counted against their host's
//! limits. Known gap; sources fetch their configured URLs, which rarely move.
//! For user links every hop is checked against the guard before it is
//! requested (scheme, port, literal address, local names), and its name's
//! addresses are filtered at connect time like the first URL's.
//!
//! Errors carry the URL (without any user:password part) and never a header
//! or body, so they are safe to log.
//!
//! Here: the client, its per-host limits and one attempt at a request. The
//! policy is in `policy.rs`, the retry rules (backoff, `Retry-After`) in
//! `retry.rs`, robots.txt in `robots.rs`, pictures ([`Fetcher::get_image`],
//! for the API's image route, with [`Fetcher::for_images`]) in `image.rs`,
//! the guard for user links in
//! [`user_links`] and [`net_guard`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::ACCEPT;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use url::{Host, Url};

mod image;
pub mod net_guard;
mod policy;
mod retry;
mod robots;
pub mod user_links;

pub use image::{FetchedImage, IMAGE_ACCEPT, ImageType};
pub use policy::{
    DEFAULT_MAX_BODY, FetchPolicy, IMAGE_MAX_BODY, RequestOptions, USER_LINK_MAX_BODY,
};
pub use retry::parse_retry_after;
pub use robots::{ROBOTS_MAX_BYTES, ROBOTS_USER_AGENT};
pub use user_links::{LinkGuard, StaticResolver};

use retry::Retry;
use robots::RobotsEntry;

/// Beyond this many remembered hosts, idle ones are forgotten (a `serve`
/// process fetching users' product links would otherwise grow forever).
const MAX_REMEMBERED_HOSTS: usize = 512;

const USER_AGENT: &str = concat!(
    "pricehound/",
    env!("CARGO_PKG_VERSION"),
    " (+https://github.com/pricehound/pricehound)"
);

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Connection refused, reset, DNS failure, a broken body stream...
    #[error("GET {url}: {message}")]
    Transport { url: String, message: String },
    /// No complete answer within the policy's timeout (after any retries).
    #[error("GET {url}: timed out after {after:?}")]
    Timeout { url: String, after: Duration },
    /// A non-2xx answer (after any retries, for those worth retrying).
    #[error("GET {url}: HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("GET {url}: response larger than {limit} bytes")]
    TooLarge { url: String, limit: usize },
    /// 429 or 503 with a `Retry-After` longer than the policy waits for.
    #[error("GET {url}: rate limited, the server asks to retry after {retry_after:?}")]
    RateLimited { url: String, retry_after: Duration },
    /// The site's robots.txt disallows this URL for pricehound.
    #[error("GET {url}: disallowed by the site's robots.txt")]
    DisallowedByRobots { url: String },
    /// The site's robots.txt answered 5xx/429 or could not be reached: RFC
    /// 9309 §2.3.1.4 says to assume everything is disallowed until it can be
    /// read again.
    #[error("GET {url}: robots.txt unavailable ({message}), assuming disallowed (RFC 9309)")]
    RobotsUnavailable { url: String, message: String },
    /// The body is not what the caller asked for (invalid JSON; for
    /// [`Fetcher::get_image`], not a picture of an accepted type).
    #[error("GET {url}: {message}")]
    Decode { url: String, message: String },
    /// A user link (or a hop it redirects to, or an address its name
    /// resolves to) is not on the public internet, or uses another scheme or
    /// port: refused before connecting. Safe to log; never shown to the user
    /// (which addresses answer is exactly what a port scan wants to learn).
    #[error("GET {url}: refused for a user link: {reason}")]
    Forbidden { url: String, reason: String },
}

/// A fetched page and where it ended up after redirects.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub final_url: Url,
    pub body: String,
}

/// The shared HTTP client. Cheap to clone; clones share the connection pool,
/// the per-host limits and the robots.txt cache, so build one per process.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    policy: FetchPolicy,
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    hosts: Mutex<HashMap<String, Arc<HostState>>>,
    /// One async lock per origin, so concurrent first requests to a site
    /// fetch its robots.txt once and the others wait for that answer.
    robots: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<RobotsEntry>>>>>,
}

struct HostState {
    permits: Arc<Semaphore>,
    /// When the next request to this host may start: the previous start plus
    /// the delay, pushed later by a honoured `Retry-After`.
    next_start: Mutex<Instant>,
}

/// Judges an answer's `Content-Type` (None when it has none) before its
/// body is read: Err is why it is not what the caller asked for.
type ContentTypeCheck = fn(Option<&str>) -> Result<(), String>;

/// How much of a body to read, and what to do past the limit.
#[derive(Clone, Copy)]
enum BodyCap {
    /// Past the limit is an error (pages, JSON).
    Refuse(usize),
    /// Past the limit is dropped (robots.txt, per RFC 9309 §2.5).
    Truncate(usize),
}

impl Fetcher {
    /// The production policy ([`FetchPolicy::default`]).
    pub fn new() -> Self {
        Self::with_policy(FetchPolicy::default())
    }

    /// A fetcher with `policy`; guarded, with the system's resolver, if the
    /// policy has a [`FetchPolicy::link_guard`].
    pub fn with_policy(policy: FetchPolicy) -> Self {
        Self::build(policy, Arc::new(user_links::SystemResolver))
    }

    /// The fetcher for user links ([`FetchPolicy::user_links`]): system DNS,
    /// every answer filtered by the guard.
    pub fn for_user_links() -> Self {
        Self::with_policy(FetchPolicy::user_links())
    }

    /// The fetcher for item pictures ([`FetchPolicy::images`]): guarded like
    /// the one for user links, system DNS.
    pub fn for_images() -> Self {
        Self::with_policy(FetchPolicy::images())
    }

    /// A fetcher for user links resolving names with `resolver` (tests: a
    /// [`StaticResolver`]); its answers are filtered by the same guard. A
    /// `policy` without a guard gets the strict one: a fetcher built here is
    /// never unguarded.
    pub fn for_user_links_with(
        mut policy: FetchPolicy,
        resolver: Arc<dyn reqwest::dns::Resolve>,
    ) -> Self {
        if policy.link_guard.is_none() {
            policy.link_guard = Some(LinkGuard::default());
        }
        Self::build(policy, resolver)
    }

    fn build(policy: FetchPolicy, resolver: Arc<dyn reqwest::dns::Resolve>) -> Self {
        let builder = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(policy.connect_timeout)
            .timeout(policy.timeout);
        let builder = match &policy.link_guard {
            None => builder.redirect(reqwest::redirect::Policy::limited(5)),
            Some(guard) => {
                let guard = Arc::new(guard.clone());
                builder
                    .dns_resolver(Arc::new(user_links::GuardedResolver::new(
                        resolver,
                        guard.clone(),
                    )))
                    .redirect(guard.redirect_policy())
                    // Through a proxy, the address connected to would be the
                    // proxy's and the target's would never be checked.
                    .no_proxy()
            }
        };
        let client = builder
            .build()
            .expect("reqwest client with static settings");
        Fetcher {
            client,
            policy,
            shared: Arc::default(),
        }
    }

    /// [`FetchPolicy::for_tests`].
    pub fn for_tests() -> Self {
        Self::with_policy(FetchPolicy::for_tests())
    }

    /// Changes the body cap; the clone keeps sharing limits and caches.
    pub fn with_max_body(mut self, max_body: usize) -> Self {
        self.policy.max_body = max_body;
        self
    }

    pub fn policy(&self) -> &FetchPolicy {
        &self.policy
    }

    /// GETs `url` with the default options (robots.txt respected) and returns
    /// its body as text. Non-2xx is an error.
    pub async fn get_text(&self, url: &Url) -> Result<Fetched, FetchError> {
        self.get_text_with(url, &RequestOptions::default()).await
    }

    /// GETs `url` and returns its body as text (invalid UTF-8 replaced).
    pub async fn get_text_with(
        &self,
        url: &Url,
        opts: &RequestOptions,
    ) -> Result<Fetched, FetchError> {
        self.check_link(url)?;
        self.check_robots(url, opts).await?;
        let (final_url, body) = self
            .fetch_bytes(url, opts.accept, BodyCap::Refuse(self.policy.max_body))
            .await?;
        Ok(Fetched {
            final_url,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }

    /// GETs `url` as JSON (`Accept: application/json` unless `opts` says
    /// otherwise), under the same body cap.
    pub async fn get_json(
        &self,
        url: &Url,
        opts: &RequestOptions,
    ) -> Result<serde_json::Value, FetchError> {
        self.check_link(url)?;
        self.check_robots(url, opts).await?;
        let accept = opts.accept.or(Some("application/json"));
        let (_, body) = self
            .fetch_bytes(url, accept, BodyCap::Refuse(self.policy.max_body))
            .await?;
        // serde_json's message names a line and column, never the content.
        serde_json::from_slice(&body).map_err(|e| FetchError::Decode {
            url: safe_url(url),
            message: format!("invalid JSON: {e}"),
        })
    }

    fn polite_to(&self, url: &Url) -> bool {
        self.policy.link_guard.is_some() || self.policy.polite_to_loopback || !is_loopback(url)
    }

    /// For a guarded fetcher, refuses `url` before anything is sent. reqwest
    /// never asks the resolver about a literal address, so this is the only
    /// place `http://127.0.0.1/` can be stopped.
    fn check_link(&self, url: &Url) -> Result<(), FetchError> {
        match &self.policy.link_guard {
            Some(guard) => guard.check_url(url).map_err(|r| {
                tracing::warn!(url = %safe_url(url), reason = %r, "user link refused");
                FetchError::Forbidden {
                    url: safe_url(url),
                    reason: r.reason,
                }
            }),
            None => Ok(()),
        }
    }

    /// GET with retries. Returns the final URL and the (capped) body.
    async fn fetch_bytes(
        &self,
        url: &Url,
        accept: Option<&str>,
        cap: BodyCap,
    ) -> Result<(Url, Vec<u8>), FetchError> {
        self.fetch_checked(url, accept, cap, None).await
    }

    /// [`Fetcher::fetch_bytes`], refusing an answer whose `Content-Type`
    /// `check` rejects before a byte of its body is read (a
    /// [`FetchError::Decode`] with `check`'s message, not retried).
    async fn fetch_checked(
        &self,
        url: &Url,
        accept: Option<&str>,
        cap: BodyCap,
        check: Option<ContentTypeCheck>,
    ) -> Result<(Url, Vec<u8>), FetchError> {
        self.check_link(url)?;
        let host = host_key(url);
        let mut retry = 0;
        loop {
            let (error, next) = match self.attempt(url, &host, accept, cap, check).await {
                Ok(done) => return Ok(done),
                Err(failure) => failure,
            };
            let wait = match next {
                Retry::No => return Err(error),
                _ if retry >= self.policy.max_retries => {
                    tracing::warn!(%host, attempts = retry + 1, error = %error, "fetch failed, giving up");
                    return Err(error);
                }
                Retry::Backoff => self.backoff(retry),
                Retry::After(d) => d,
            };
            retry += 1;
            tracing::warn!(
                %host,
                attempt = retry + 1,
                max_attempts = self.policy.max_retries + 1,
                wait_ms = wait.as_millis() as u64,
                error = %error,
                "fetch failed, retrying"
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// One request, holding a per-host slot from sending to the last body byte.
    async fn attempt(
        &self,
        url: &Url,
        host: &str,
        accept: Option<&str>,
        cap: BodyCap,
        check: Option<ContentTypeCheck>,
    ) -> Result<(Url, Vec<u8>), (FetchError, Retry)> {
        let state = self.host_state(host);
        let _permit = self.start_slot(&state, url).await;
        tracing::debug!(%host, path = url.path(), "GET");
        let mut req = self.client.get(url.clone());
        if let Some(accept) = accept {
            req = req.header(ACCEPT, accept);
        }
        let mut resp = req.send().await.map_err(|e| self.transport(url, e))?;
        let status = resp.status();
        if !status.is_success() {
            let code = status.as_u16();
            let error = FetchError::Status {
                url: safe_url(url),
                status: code,
            };
            let verdict = retry::after_status(code, resp.headers(), self.policy.max_retry_after);
            let retry = match verdict {
                Ok(Retry::After(after)) => {
                    // Everyone else's requests to this host wait too.
                    state.not_before(Instant::now() + after);
                    Retry::After(after)
                }
                Ok(retry) => retry,
                Err(after) => {
                    let error = FetchError::RateLimited {
                        url: safe_url(url),
                        retry_after: after,
                    };
                    return Err((error, Retry::No));
                }
            };
            return Err((error, retry));
        }
        let (limit, refuse) = match cap {
            BodyCap::Refuse(n) => (n, true),
            BodyCap::Truncate(n) => (n, false),
        };
        let too_large = || {
            (
                FetchError::TooLarge {
                    url: safe_url(url),
                    limit,
                },
                Retry::No,
            )
        };
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        if let Some(check) = check
            && let Err(message) = check(content_type)
        {
            // Dropped unread: the connection is closed, not drained.
            let error = FetchError::Decode {
                url: safe_url(url),
                message,
            };
            return Err((error, Retry::No));
        }
        // reqwest drops Content-Length when it decompresses, so this only
        // short-cuts identity bodies; the loop below caps everything.
        if refuse && resp.content_length().is_some_and(|n| n > limit as u64) {
            return Err(too_large());
        }
        let final_url = resp.url().clone();
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.transport(url, e))? {
            if body.len() + chunk.len() > limit {
                if refuse {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk[..limit - body.len()]);
                break;
            }
            body.extend_from_slice(&chunk);
        }
        Ok((final_url, body))
    }

    fn transport(&self, url: &Url, e: reqwest::Error) -> (FetchError, Retry) {
        if e.is_timeout() {
            let after = if e.is_connect() {
                self.policy.connect_timeout
            } else {
                self.policy.timeout
            };
            return (
                FetchError::Timeout {
                    url: safe_url(url),
                    after,
                },
                Retry::Backoff,
            );
        }
        // The guard refused a redirect hop or every address of a name.
        if let Some(refused) = user_links::refusal_in(&e) {
            tracing::warn!(url = %safe_url(url), reason = %refused, "user link refused");
            let error = FetchError::Forbidden {
                url: safe_url(url),
                reason: refused.reason.clone(),
            };
            return (error, Retry::No);
        }
        // A corrupt gzip stream or a redirect loop will be the same next time.
        let retry = if e.is_decode() || e.is_redirect() || e.is_builder() {
            Retry::No
        } else {
            Retry::Backoff
        };
        let error = FetchError::Transport {
            url: safe_url(url),
            message: error_chain(&e.without_url()),
        };
        (error, retry)
    }

    fn host_state(&self, host: &str) -> Arc<HostState> {
        let mut hosts = self.shared.hosts.lock().expect("hosts lock");
        if let Some(s) = hosts.get(host) {
            return s.clone();
        }
        if hosts.len() >= MAX_REMEMBERED_HOSTS {
            let now = Instant::now();
            hosts.retain(|_, s| {
                Arc::strong_count(s) > 1 || *s.next_start.lock().expect("host lock") > now
            });
        }
        let state = Arc::new(HostState {
            permits: Arc::new(Semaphore::new(self.policy.per_host_concurrency.max(1))),
            next_start: Mutex::new(Instant::now()),
        });
        hosts.insert(host.to_string(), state.clone());
        state
    }

    /// Waits for a concurrency permit, then for this host's next start time.
    async fn start_slot(&self, state: &HostState, url: &Url) -> OwnedSemaphorePermit {
        let permit = state
            .permits
            .clone()
            .acquire_owned()
            .await
            .expect("host semaphore is never closed");
        let polite = self.polite_to(url);
        let start = {
            let mut next = state.next_start.lock().expect("host lock");
            let start = (*next).max(Instant::now());
            // A Retry-After pushes `next` for loopback too; the delay does not.
            *next = start
                + if polite {
                    self.policy.per_host_delay
                } else {
                    Duration::ZERO
                };
            start
        };
        tokio::time::sleep_until(start).await;
        permit
    }
}

impl Default for Fetcher {
    fn default() -> Self {
        Self::new()
    }
}

impl HostState {
    fn not_before(&self, at: Instant) {
        let mut next = self.next_start.lock().expect("host lock");
        *next = (*next).max(at);
    }
}

/// `host:port`, the unit the concurrency limit and delay apply to.
fn host_key(url: &Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or(""),
        url.port_or_known_default().unwrap_or(0)
    )
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        None => false,
    }
}

/// The URL for errors and logs: any `user:password@` removed.
fn safe_url(url: &Url) -> String {
    if url.username().is_empty() && url.password().is_none() {
        return url.to_string();
    }
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.to_string()
}

/// "error sending request: connection refused": reqwest's own message hides
/// the cause that says what to fix.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        source = s.source();
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_urls() {
        let u = Url::parse("https://user:hunter2@Shop.Example/a?b=1").unwrap();
        assert_eq!(host_key(&u), "shop.example:443");
        assert_eq!(safe_url(&u), "https://shop.example/a?b=1");
        for l in [
            "http://127.0.0.1:8080/",
            "http://[::1]/",
            "http://localhost/",
            "http://a.localhost./",
        ] {
            assert!(is_loopback(&Url::parse(l).unwrap()), "{l}");
        }
        assert!(!is_loopback(&Url::parse("http://10.0.0.1/").unwrap()));
    }
}
