//! What stands between the internet and the handlers: a panic guard, one
//! error shape for every 4xx/5xx, security headers, CORS, and (in `serve`)
//! a per-client rate limit on `/api/*`.
//!
//! Everything here is layered onto the one Router, so the Lambda and
//! `pricehound serve` get the same protection; only the rate limit is
//! local, because in AWS the function's reserved concurrency bounds what a
//! flood can cost (template.yaml).

use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{Quota, RateLimiter};
use std::any::Any;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::error::ApiError;

/// How the HTTP layer protects itself; [`HttpConfig::from_vars`] reads the
/// operator's settings, [`Default`] is what tests and the Lambda get.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Origins allowed to call the API from a browser.
    pub cors: CorsOrigins,
    /// Per-client limit on `/api/*`; None serves without one (the Lambda,
    /// where reserved concurrency caps a flood instead).
    pub rate_limit: Option<RateLimit>,
    /// How old a Mini App's initData may be (`PRICEHOUND_INIT_DATA_MAX_AGE`,
    /// seconds; default an hour).
    pub init_data_max_age: chrono::Duration,
    /// List items from pages users pasted into the bot in the public API.
    /// Off by default: those are one user's links, not the operator's
    /// catalogue, and listing them would publish what people track.
    pub public_tracked_pages: bool,
    /// The guarded fetcher (and its cache) behind `GET /api/items/{id}/image`,
    /// built once where the process starts (`serve`, the api Lambda's
    /// main). None: the Router builds the production one itself (tests).
    pub images: Option<super::image::ImageProxy>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            cors: CorsOrigins::Any,
            rate_limit: None,
            init_data_max_age: pricehound_telegram::webapp::DEFAULT_MAX_AGE,
            public_tracked_pages: false,
            images: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigins {
    /// `Access-Control-Allow-Origin: *`: the API is public and read-only.
    Any,
    /// Only these exact origins (`https://app.example`).
    List(Vec<HeaderValue>),
}

impl CorsOrigins {
    /// `*` or a comma-separated list of origins such as
    /// `https://app.example,https://example.org`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw == "*" || raw.is_empty() {
            return Ok(CorsOrigins::Any);
        }
        let mut out = Vec::new();
        for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let url = url::Url::parse(part).map_err(|e| {
                format!("CORS origin {part:?} is not a URL ({e}); write it as https://host[:port]")
            })?;
            let origin = url.origin();
            if !origin.is_tuple() || !matches!(url.scheme(), "http" | "https") {
                return Err(format!(
                    "CORS origin {part:?} must be http(s)://host[:port], without a path"
                ));
            }
            let value = HeaderValue::from_str(&origin.ascii_serialization())
                .map_err(|_| format!("CORS origin {part:?} cannot be a header value"))?;
            out.push(value);
        }
        Ok(CorsOrigins::List(out))
    }
}

/// A token bucket per client: `burst` requests at once, refilled at
/// `per_second`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub per_second: NonZeroU32,
    pub burst: NonZeroU32,
}

impl Default for RateLimit {
    /// Generous for a person or a frontend (a page load makes a handful of
    /// calls), tight enough that one client cannot keep both cores busy.
    fn default() -> Self {
        RateLimit {
            per_second: NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN),
            burst: NonZeroU32::new(50).unwrap_or(NonZeroU32::MIN),
        }
    }
}

impl HttpConfig {
    /// `PRICEHOUND_CORS_ORIGINS` (`*` or a comma-separated list),
    /// `PRICEHOUND_PUBLIC_TRACKED_PAGES` (`true`/`false`),
    /// `PRICEHOUND_API_RATE` (requests per second per client, `0` turns the
    /// limit off) and `PRICEHOUND_API_BURST`, read with `var` (see
    /// `crate::settings`). The error names the variable.
    pub fn from_vars(var: &dyn Fn(&str) -> Option<String>) -> Result<Self, (&'static str, String)> {
        let mut cfg = HttpConfig::default();
        if let Some(origins) = var("PRICEHOUND_CORS_ORIGINS") {
            cfg.cors = CorsOrigins::parse(&origins).map_err(|e| ("PRICEHOUND_CORS_ORIGINS", e))?;
        }
        if let Some(v) = var("PRICEHOUND_PUBLIC_TRACKED_PAGES") {
            cfg.public_tracked_pages = match v.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" => true,
                "0" | "false" | "no" => false,
                _ => {
                    return Err((
                        "PRICEHOUND_PUBLIC_TRACKED_PAGES",
                        format!("must be true or false, got {v:?}"),
                    ));
                }
            };
        }
        if let Some(v) = var("PRICEHOUND_INIT_DATA_MAX_AGE") {
            cfg.init_data_max_age = match v.trim().parse::<u32>() {
                Ok(secs) if secs > 0 => chrono::Duration::seconds(secs.into()),
                _ => {
                    return Err((
                        "PRICEHOUND_INIT_DATA_MAX_AGE",
                        format!("must be a number of seconds above 0, got {v:?}"),
                    ));
                }
            };
        }
        let number = |name: &'static str,
                      default: NonZeroU32|
         -> Result<Option<NonZeroU32>, (&'static str, String)> {
            match var(name) {
                None => Ok(Some(default)),
                Some(v) => match v.trim().parse::<u32>() {
                    Ok(n) => Ok(NonZeroU32::new(n)),
                    Err(_) => Err((
                        name,
                        format!("must be a whole number (0 turns the limit off), got {v:?}"),
                    )),
                },
            }
        };
        let d = RateLimit::default();
        let per_second = number("PRICEHOUND_API_RATE", d.per_second)?;
        let burst = number("PRICEHOUND_API_BURST", d.burst)?;
        cfg.rate_limit = match (per_second, burst) {
            (Some(per_second), Some(burst)) => Some(RateLimit { per_second, burst }),
            _ => None,
        };
        Ok(cfg)
    }
}

pub(super) fn cors(origins: &CorsOrigins) -> CorsLayer {
    let allow = match origins {
        CorsOrigins::Any => AllowOrigin::any(),
        CorsOrigins::List(list) => AllowOrigin::list(list.clone()),
    };
    CorsLayer::new()
        .allow_origin(allow)
        // Writes are only under /api/me, which needs the Mini App's initData
        // in Authorization: no cookie is ever read, so any origin may call.
        .allow_methods([
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            header::CONTENT_TYPE,
            header::IF_NONE_MATCH,
            header::AUTHORIZATION,
        ])
}

/// The page's policy: its script and style are files of our own
/// (`/assets/…`), it talks only to this API, and it may not be framed.
/// JSON responses get it too; for them it only forbids everything.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// The Mini App's policy: the page's, except that Telegram's web clients
/// may frame it (the mobile and desktop clients open it in a web view).
pub const MINI_APP_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'self' https://web.telegram.org";

/// Headers every response carries, unless a handler set its own.
pub(super) fn security_headers() -> [(HeaderName, HeaderValue); 4] {
    [
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    ]
}

/// CatchPanicLayer's handler: the usual JSON error, and the panic in the
/// log. This only works because the release profile unwinds (Cargo.toml
/// says why); under `panic = "abort"` the process would die before any
/// layer could answer.
pub(super) fn panic_response(payload: Box<dyn Any + Send + 'static>) -> Response {
    let detail = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("non-string panic payload");
    tracing::error!(panic = %detail, "a request handler panicked; answered 500 and still serving");
    ApiError::internal().into_response()
}

/// How much of a non-JSON error body (axum's rejections, tower-http's 413)
/// is kept as the message.
const MAX_REJECTION_TEXT: usize = 4096;
const MAX_MESSAGE_CHARS: usize = 300;

/// Gives every error the one shape clients parse,
/// `{"error":{"code":…,"message":…}}`, whichever layer produced it: axum's
/// extractor rejections (a path that is not UTF-8), a 405, tower-http's 413.
pub(super) async fn json_errors(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = to_bytes(body, MAX_REJECTION_TEXT).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let text: String = text.trim().chars().take(MAX_MESSAGE_CHARS).collect();
    let mut out = ApiError::for_status(status, text).into_response();
    // Keep what the layer said besides the body (Allow, Retry-After…).
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}

type KeyedLimiter =
    RateLimiter<IpAddr, governor::state::keyed::DefaultKeyedStateStore<IpAddr>, DefaultClock>;

/// The per-client limiter for `/api/*`. Clients are keyed by IP address,
/// IPv6 ones by their /64 (one host usually owns a whole /64, so keying by
/// full address would let it rotate past the limit).
#[derive(Clone)]
pub struct ClientLimiter {
    limiter: Arc<KeyedLimiter>,
    clock: DefaultClock,
}

impl ClientLimiter {
    pub fn new(limit: RateLimit) -> Self {
        let quota = Quota::per_second(limit.per_second).allow_burst(limit.burst);
        ClientLimiter {
            limiter: Arc::new(RateLimiter::keyed(quota)),
            clock: DefaultClock::default(),
        }
    }

    /// Whether `ip` may make a request now; if not, how long until it may.
    pub fn check(&self, ip: IpAddr) -> Result<(), Duration> {
        self.limiter
            .check_key(&client_key(ip))
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Forgets clients whose bucket is full again, so memory stays bounded
    /// by the clients of the last few seconds, not all clients ever.
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    pub fn clients(&self) -> usize {
        self.limiter.len()
    }
}

fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// The rate-limit middleware. Requests without a peer address (the Lambda,
/// in-process tests) are not limited here.
pub(super) async fn rate_limit(
    State(limiter): State<ClientLimiter>,
    req: Request<Body>,
    next: Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if let Some(ip) = peer
        && let Err(wait) = limiter.check(ip)
    {
        // Whole seconds, rounded up: "Retry-After: 0" would invite a retry
        // that is refused again.
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let mut resp = ApiError {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: "rate_limited",
            message: format!("too many requests from your address; retry in {secs} s"),
        }
        .into_response();
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        return resp;
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cors_origins_parse() {
        assert_eq!(CorsOrigins::parse("*"), Ok(CorsOrigins::Any));
        assert_eq!(CorsOrigins::parse(""), Ok(CorsOrigins::Any));
        let list = CorsOrigins::parse("https://app.example, http://localhost:5173").unwrap();
        assert_eq!(
            list,
            CorsOrigins::List(vec![
                HeaderValue::from_static("https://app.example"),
                HeaderValue::from_static("http://localhost:5173"),
            ])
        );
        for bad in ["app.example", "javascript:alert(1)", "data:,x", "https://"] {
            assert!(CorsOrigins::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn limiter_counts_per_client_and_ipv6_by_prefix() {
        let l = ClientLimiter::new(RateLimit {
            per_second: NonZeroU32::MIN,
            burst: NonZeroU32::new(2).unwrap(),
        });
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(l.check(a).is_ok());
        assert!(l.check(a).is_ok());
        let wait = l.check(a).unwrap_err();
        assert!(wait <= Duration::from_secs(1), "{wait:?}");
        assert!(l.check(b).is_ok(), "another client has its own bucket");
        let v6a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let v6b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        assert!(l.check(v6a).is_ok());
        assert!(l.check(v6b).is_ok());
        assert!(l.check(v6a).is_err(), "same /64, same bucket");
        let mapped: IpAddr = "::ffff:192.0.2.2".parse().unwrap();
        assert!(l.check(mapped).is_ok());
        assert!(l.check(mapped).is_err(), "IPv4-mapped is the IPv4 client");
    }
}
