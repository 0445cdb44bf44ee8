//! Conditional GETs for the API's reads: every 200 JSON answer carries a
//! strong `ETag` (a hash of its body) and a `Cache-Control`, and a request
//! whose `If-None-Match` names the current tag gets `304 Not Modified` with
//! no body. Browsers and CDNs revalidate instead of downloading again; a
//! Lambda still computes the answer, but sends a few bytes instead of a
//! page of prices.
//!
//! The body is read to hash it: API answers are bounded (a page is at most
//! `MAX_PAGE` items), so this buffers at most a few hundred kilobytes.

use crate::store::Store;
use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a shared cache may serve a read without asking again: prices
/// change when a scraper runs (minutes apart), so a minute is fresh enough.
pub const READ_MAX_AGE: &str = "public, max-age=60";
/// The largest body that gets a tag (bigger ones pass through untouched).
const MAX_TAGGED: usize = 4 * 1024 * 1024;

/// The tag of a body: quoted, strong, 128 bits of SHA-256.
pub fn etag_of(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    format!("\"{}\"", hex::encode(&digest[..16]))
}

/// Whether `If-None-Match` (a list of tags, or `*`) names `etag`. Weak
/// validators compare by their opaque part, as RFC 9110 says for
/// If-None-Match.
pub(super) fn matches(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|t| t == "*" || t.trim_start_matches("W/") == etag)
}

/// The layer: tags 200 JSON answers to GET and HEAD, answers 304 when the
/// client has that version. Routes that set their own `Cache-Control` keep
/// it (health says `no-store`).
pub async fn conditional(request: Request, next: Next) -> Response {
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return next.run(request).await;
    }
    let conditions = request.headers().clone();
    let response = next.run(request).await;
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    if response.status() != StatusCode::OK || !json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match to_bytes(body, MAX_TAGGED).await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "answer too large to tag; sent as a 500");
            return super::ApiError::internal().into_response();
        }
    };
    let etag = etag_of(&bytes);
    if let Ok(v) = HeaderValue::from_str(&etag) {
        parts.headers.insert(header::ETAG, v);
    }
    parts
        .headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static(READ_MAX_AGE));
    if matches(&conditions, &etag) {
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers.remove(header::CONTENT_LENGTH);
        parts.headers.remove(header::CONTENT_TYPE);
        return Response::from_parts(parts, Body::empty());
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Whole answers of the public reads, kept in memory while the store has
/// not changed: a read that hits skips the handler, the store, JSON and the
/// hash above. Only where the store can say cheaply that nothing changed
/// (`Store::data_version`: SQLite under `serve`); under DynamoDB every
/// request passes through.
///
/// An answer is kept when it is a 200 that says `Cache-Control: public`
/// (what [`conditional`] gives the reads; health says `no-store`), to a GET
/// without credentials, and is served again only while the store's version
/// is the one read before it was computed and for at most [`FRESH`]: a few
/// answers also depend on things besides the store (the search index's copy
/// of the latest prices, the clock), and a second bounds how stale those get.
/// Bounded: at most [`MAX_ENTRIES`] answers of at most [`MAX_TAGGED`] bytes,
/// and a full cache is emptied rather than grown, so a client asking for
/// endless distinct URLs costs misses, not memory.
#[derive(Clone)]
pub struct ReadCache {
    store: Arc<dyn Store>,
    entries: Arc<Entries>,
}

/// The request URI and the `Accept-Encoding` it came with (the answer is
/// compressed to match).
#[derive(Hash, PartialEq, Eq)]
struct CacheKey {
    uri: String,
    encoding: Option<HeaderValue>,
}

struct CachedAnswer {
    version: u64,
    /// When its computation started: what it shows is at least this new.
    at: Instant,
    etag: Option<String>,
    headers: HeaderMap,
    body: Bytes,
}

/// How long a kept answer may be served without recomputing it.
pub const FRESH: Duration = Duration::from_secs(1);
/// How many answers are kept at most.
pub const MAX_ENTRIES: usize = 1024;
/// Longer URIs or encodings are not worth keeping (and are not ours).
const MAX_KEY: usize = 2048;

impl ReadCache {
    pub fn new(store: Arc<dyn Store>) -> Self {
        ReadCache {
            store,
            entries: Arc::new(Entries::default()),
        }
    }
}

/// The kept answers, by key, and the keys being computed.
#[derive(Default)]
struct Entries {
    kept: Mutex<HashMap<CacheKey, CachedAnswer>>,
    /// One computation per key at a time: when a write makes every kept
    /// answer stale, the clients asking for the same page wait for one
    /// computation instead of all running it at once (and queueing on the
    /// store). Only keys in flight are here.
    flights: Mutex<HashMap<CacheKey, Arc<tokio::sync::Mutex<()>>>>,
}

type Kept = (Option<String>, HeaderMap, Bytes);

impl Entries {
    /// The kept answer for `key` if it is of the store's `version`, or if
    /// its computation started at or after `since` (a request that waited
    /// for it: what it shows is at least as new as the request), and fresh.
    fn lookup(&self, key: &CacheKey, version: u64, since: Option<Instant>) -> Option<Kept> {
        let entries = self.kept.lock().ok()?;
        let hit = entries.get(key)?;
        let current = hit.version == version || since.is_some_and(|t| hit.at >= t);
        (current && hit.at.elapsed() < FRESH)
            .then(|| (hit.etag.clone(), hit.headers.clone(), hit.body.clone()))
    }

    /// The lock of `key`'s computation.
    fn flight(&self, key: &CacheKey) -> Option<Arc<tokio::sync::Mutex<()>>> {
        let mut flights = self.flights.lock().ok()?;
        if let Some(lock) = flights.get(key) {
            return Some(lock.clone());
        }
        if flights.len() >= MAX_ENTRIES {
            // Left by requests that were dropped mid-way (a client gone):
            // a lock no request holds any more.
            flights.retain(|_, lock| Arc::strong_count(lock) > 1);
        }
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        flights.insert(
            CacheKey {
                uri: key.uri.clone(),
                encoding: key.encoding.clone(),
            },
            lock.clone(),
        );
        Some(lock)
    }

    fn landed(&self, key: &CacheKey) {
        if let Ok(mut flights) = self.flights.lock() {
            flights.remove(key);
        }
    }

    fn keep(&self, key: CacheKey, answer: CachedAnswer) {
        let Ok(mut entries) = self.kept.lock() else {
            return;
        };
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(&key) {
            entries.retain(|_, e| e.version == answer.version && e.at.elapsed() < FRESH);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(key, answer);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.kept.lock().map(|e| e.len()).unwrap_or(0)
    }
}

/// Whether a request may be answered from, and fill, the cache: a plain GET
/// for everyone (no credentials: `/api/me` answers differ per user).
fn cacheable(request: &Request, uri: &str) -> bool {
    let h = request.headers();
    request.method() == Method::GET
        && !h.contains_key(header::AUTHORIZATION)
        && !h.contains_key(header::COOKIE)
        // Under `nest("/api", …)` the request's URI has lost its prefix.
        && !uri.starts_with("/me")
        && !uri.starts_with("/api/me")
        && uri.len() <= MAX_KEY
        && h.get(header::ACCEPT_ENCODING).is_none_or(|v| v.len() <= MAX_KEY)
}

/// The layer (outside [`conditional`]).
pub async fn shared(State(cache): State<ReadCache>, mut request: Request, next: Next) -> Response {
    let uri = request.uri().to_string();
    let version = match cache.store.data_version() {
        Some(v) if cacheable(&request, &uri) => v,
        _ => return next.run(request).await,
    };
    let key = CacheKey {
        uri,
        encoding: request.headers().get(header::ACCEPT_ENCODING).cloned(),
    };
    let conditions = request.headers().clone();
    if let Some((etag, headers, body)) = cache.entries.lookup(&key, version, None) {
        return answer(&conditions, etag.as_deref(), headers, body);
    }
    let arrived = Instant::now();
    let flight = cache.entries.flight(&key);
    let _computing = match &flight {
        Some(lock) => Some(lock.lock().await),
        None => None,
    };
    // Computed by the request this one waited for?
    let version = cache.store.data_version().unwrap_or(version);
    if let Some((etag, headers, body)) = cache.entries.lookup(&key, version, Some(arrived)) {
        return answer(&conditions, etag.as_deref(), headers, body);
    }
    // Computed whole (a 200 to keep), then answered as the client asked.
    let started = Instant::now();
    request.headers_mut().remove(header::IF_NONE_MATCH);
    let response = next.run(request).await;
    cache.entries.landed(&key);
    let public = response
        .headers()
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("public"));
    if response.status() != StatusCode::OK || !public {
        return response;
    }
    let (parts, body) = response.into_parts();
    let body = match to_bytes(body, MAX_TAGGED).await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "answer too large to keep; sent as a 500");
            return super::ApiError::internal().into_response();
        }
    };
    let etag = parts
        .headers
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    cache.entries.keep(
        key,
        CachedAnswer {
            version,
            at: started,
            etag: etag.clone(),
            headers: parts.headers.clone(),
            body: body.clone(),
        },
    );
    answer(&conditions, etag.as_deref(), parts.headers, body)
}

/// A kept answer for a request: 304 when it has that version already.
fn answer(conditions: &HeaderMap, etag: Option<&str>, headers: HeaderMap, body: Bytes) -> Response {
    let mut response = Response::new(Body::empty());
    *response.headers_mut() = headers;
    if etag.is_some_and(|t| matches(conditions, t)) {
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        response.headers_mut().remove(header::CONTENT_LENGTH);
        response.headers_mut().remove(header::CONTENT_TYPE);
        response.headers_mut().remove(header::CONTENT_ENCODING);
        return response;
    }
    *response.body_mut() = Body::from(body);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(header::IF_NONE_MATCH, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn kept(version: u64, body: &'static str) -> CachedAnswer {
        CachedAnswer {
            version,
            at: Instant::now(),
            etag: Some(etag_of(body.as_bytes())),
            headers: HeaderMap::new(),
            body: Bytes::from_static(body.as_bytes()),
        }
    }

    fn key(uri: &str) -> CacheKey {
        CacheKey {
            uri: uri.into(),
            encoding: None,
        }
    }

    #[test]
    fn a_kept_answer_serves_only_its_version_and_key() {
        let entries = Entries::default();
        entries.keep(key("/api/prices"), kept(7, "a"));
        assert!(entries.lookup(&key("/api/prices"), 7, None).is_some());
        assert!(
            entries.lookup(&key("/api/prices"), 8, None).is_none(),
            "the store moved on"
        );
        assert!(
            entries
                .lookup(&key("/api/prices?limit=5"), 7, None)
                .is_none()
        );
        let gzip = CacheKey {
            uri: "/api/prices".into(),
            encoding: Some(HeaderValue::from_static("gzip")),
        };
        assert!(entries.lookup(&gzip, 7, None).is_none(), "another encoding");
    }

    #[test]
    fn endless_distinct_uris_never_grow_it_past_its_bound() {
        let entries = Entries::default();
        for i in 0..(3 * MAX_ENTRIES) {
            entries.keep(key(&format!("/api/prices?cursor={i}")), kept(1, "x"));
            assert!(entries.len() <= MAX_ENTRIES);
        }
        // Stale versions go first when it is full.
        let entries = Entries::default();
        for i in 0..MAX_ENTRIES {
            entries.keep(key(&format!("/old/{i}")), kept(1, "x"));
        }
        entries.keep(key("/new"), kept(2, "y"));
        assert_eq!(entries.len(), 1);
        assert!(entries.lookup(&key("/new"), 2, None).is_some());
    }

    #[test]
    fn if_none_match_lists_star_and_weak_tags() {
        let tag = etag_of(b"{}");
        assert!(tag.starts_with('"') && tag.ends_with('"') && tag.len() == 34);
        assert!(matches(&with(&[&tag]), &tag));
        assert!(matches(&with(&["\"other\", ", &tag]), &tag));
        assert!(matches(&with(&[&format!("\"x\", W/{tag}")]), &tag));
        assert!(matches(&with(&["\"x\"", &tag]), &tag), "several headers");
        assert!(matches(&with(&["*"]), &tag));
        assert!(!matches(&with(&["\"other\""]), &tag));
        assert!(!matches(&with(&[""]), &tag));
        assert!(!matches(&HeaderMap::new(), &tag));
        assert!(
            !matches(&with(&[&tag[1..]]), &tag),
            "unquoted is another tag"
        );
    }
}
