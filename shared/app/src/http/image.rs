//! `GET /api/items/{id}/image`: an item's picture, served from our own
//! origin, so the web app and the Mini App show it under their CSP
//! (`img-src 'self' data:`) and the reader's browser never calls the shop.
//!
//! Not an open proxy: the only URL fetched is the picture the store holds
//! for a known item (`details.image`, written by a scraper), and only for
//! items the caller may see at all (the `visible` rule of `/api/items/{id}`).
//! Those URLs come from pages anyone can write, so they are fetched like the
//! links users paste: through the guarded fetcher (`Fetcher::get_image`,
//! `FetchPolicy::images`), which reaches the public internet only, checked
//! on the URL, on every redirect hop and on the addresses a name resolves
//! to; with a 2 MiB cap (reading stops past it), a 3 s connect timeout,
//! and only PNG, JPEG, WebP, GIF or AVIF by label and by magic bytes (an
//! HTML page labelled `image/png` is refused; SVG, which can carry script,
//! never passes). A failure is a 502 that says no more than that: which
//! addresses answer is what a port scan would want to learn, so the detail
//! goes to the log only.
//!
//! Recent pictures (and, for a minute, recent failures) are kept in memory,
//! at most [`CACHE_BYTES`] in all, least recently used first out; browsers
//! keep them a day (`Cache-Control`), and revalidate with the `ETag`.

use axum::body::{Body, Bytes};
use axum::extract::{FromRef, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use url::Url;

use super::api::{TAG_PRICES, visible};
use super::error::{ApiError, ErrorBody, ErrorResponses};
use super::{Api, AppState, HttpConfig, cache};
use crate::domain::ItemId;
use crate::sources::Fetcher;
use crate::sources::fetch::{FetchPolicy, ImageType};

/// How long browsers and shared caches keep a picture.
pub const IMAGE_CACHE_CONTROL: &str = "public, max-age=86400";
/// The in-memory cache's budget, pictures and keys together.
pub const CACHE_BYTES: usize = 16 * 1024 * 1024;
/// How long a cached picture is served before it is fetched again.
const IMAGE_TTL: Duration = Duration::from_secs(60 * 60);
/// How long a failed fetch is remembered: a page of results from one shop
/// whose picture host is down asks once a minute, not once per card.
const FAILURE_TTL: Duration = Duration::from_secs(60);
/// What an entry costs besides its key and bytes (the map's and the order's
/// share, roughly).
const ENTRY_OVERHEAD: usize = 128;

/// The fetcher behind the image route and its cache. Cheap to clone; clones
/// share both, so build one per process.
#[derive(Clone)]
pub struct ImageProxy {
    fetcher: Fetcher,
    cache: Arc<Mutex<Cache>>,
}

impl std::fmt::Debug for ImageProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageProxy")
            .field("guarded", &self.fetcher.policy().link_guard.is_some())
            .field("max_body", &self.fetcher.policy().max_body)
            .finish_non_exhaustive()
    }
}

impl Default for ImageProxy {
    fn default() -> Self {
        Self::new()
    }
}

impl ImageProxy {
    /// The production proxy: [`FetchPolicy::images`], system DNS, every
    /// answer filtered by the guard for user links.
    pub fn new() -> Self {
        Self::build(Fetcher::for_images())
    }

    /// A proxy whose fetcher resolves names with `resolver` (tests: a
    /// `StaticResolver`) under `policy`. It is always guarded: a policy
    /// without a guard gets the strict one (`Fetcher::for_user_links_with`).
    pub fn with_resolver(policy: FetchPolicy, resolver: Arc<dyn reqwest::dns::Resolve>) -> Self {
        Self::build(Fetcher::for_user_links_with(policy, resolver))
    }

    fn build(fetcher: Fetcher) -> Self {
        ImageProxy {
            fetcher,
            cache: Arc::new(Mutex::new(Cache::new(CACHE_BYTES))),
        }
    }

    /// The same proxy with a cache of `bytes` (0 turns it off); tests.
    pub fn with_cache_bytes(mut self, bytes: usize) -> Self {
        self.cache = Arc::new(Mutex::new(Cache::new(bytes)));
        self
    }

    /// Bytes the cache holds now.
    pub fn cached_bytes(&self) -> usize {
        self.lock().used
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        // The cache is consistent between statements; a panic elsewhere
        // while it was held leaves nothing half-done to fear.
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The picture at `url`, from the cache or fetched. Err: it could not
    /// be had (logged here, with the reason).
    async fn picture(&self, item: &ItemId, url: &Url) -> Result<Picture, Unavailable> {
        let key = url.as_str();
        match self.lock().get(key, Instant::now()) {
            Some(Cached::Picture(p)) => return Ok(p),
            Some(Cached::Failed) => return Err(Unavailable),
            None => {}
        }
        match self.fetcher.get_image(url).await {
            Ok(fetched) => {
                let etag = HeaderValue::from_str(&cache::etag_of(&fetched.body)).ok();
                let picture = Picture {
                    image_type: fetched.image_type,
                    body: Bytes::from(fetched.body),
                    etag,
                };
                self.lock().put(
                    key,
                    Cached::Picture(picture.clone()),
                    picture.body.len(),
                    Instant::now(),
                );
                Ok(picture)
            }
            Err(e) => {
                // The URL came from a scraped page: it is logged (without
                // any user:password part), never sent to the client.
                tracing::warn!(item = %item, error = %e, "item picture not fetched");
                self.lock().put(key, Cached::Failed, 0, Instant::now());
                Err(Unavailable)
            }
        }
    }
}

impl FromRef<Api> for ImageProxy {
    fn from_ref(api: &Api) -> ImageProxy {
        api.images.clone()
    }
}

/// A picture as served: what its bytes are, the bytes, their tag.
#[derive(Clone)]
struct Picture {
    image_type: ImageType,
    body: Bytes,
    etag: Option<HeaderValue>,
}

#[derive(Clone)]
enum Cached {
    Picture(Picture),
    Failed,
}

/// The picture could not be had; why is in the log.
struct Unavailable;

impl From<Unavailable> for ApiError {
    fn from(_: Unavailable) -> ApiError {
        ApiError {
            status: StatusCode::BAD_GATEWAY,
            code: "image_unavailable",
            message: "the item's picture could not be fetched from its source, or is not a PNG, JPEG, WebP, GIF or AVIF picture of at most 2 MiB; try again later".into(),
        }
    }
}

struct Entry {
    value: Cached,
    stored: Instant,
    /// When it was last used, in the cache's own clock (its key in `order`).
    tick: u64,
    size: usize,
}

/// Least recently used out first, bounded by the bytes held.
struct Cache {
    budget: usize,
    used: usize,
    tick: u64,
    entries: HashMap<String, Entry>,
    /// Use tick → key, oldest first.
    order: BTreeMap<u64, String>,
}

impl Cache {
    fn new(budget: usize) -> Self {
        Cache {
            budget,
            used: 0,
            tick: 0,
            entries: HashMap::new(),
            order: BTreeMap::new(),
        }
    }

    fn get(&mut self, key: &str, now: Instant) -> Option<Cached> {
        let entry = self.entries.get(key)?;
        let ttl = match entry.value {
            Cached::Picture(_) => IMAGE_TTL,
            Cached::Failed => FAILURE_TTL,
        };
        if now.saturating_duration_since(entry.stored) >= ttl {
            self.remove(key);
            return None;
        }
        self.tick += 1;
        let tick = self.tick;
        let entry = self.entries.get_mut(key)?;
        self.order.remove(&entry.tick);
        entry.tick = tick;
        self.order.insert(tick, key.to_string());
        Some(entry.value.clone())
    }

    fn put(&mut self, key: &str, value: Cached, bytes: usize, now: Instant) {
        self.remove(key);
        let size = key.len() + bytes + ENTRY_OVERHEAD;
        if size > self.budget {
            return;
        }
        while self.used + size > self.budget {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            if let Some(e) = self.entries.remove(&oldest) {
                self.used -= e.size;
            }
        }
        self.tick += 1;
        self.order.insert(self.tick, key.to_string());
        self.entries.insert(
            key.to_string(),
            Entry {
                value,
                stored: now,
                tick: self.tick,
                size,
            },
        );
        self.used += size;
    }

    fn remove(&mut self, key: &str) {
        if let Some(e) = self.entries.remove(key) {
            self.order.remove(&e.tick);
            self.used -= e.size;
        }
    }
}

/// The picture of an item (a PNG, JPEG, WebP, GIF or AVIF), from its source
/// through our own origin.
#[utoipa::path(
    get,
    path = "/items/{id}/image",
    tag = TAG_PRICES,
    summary = "An item's picture, from its source through this origin",
    description = "The picture the source shows for the item (the item's `image`), fetched by the server and served from this origin, so a page under a strict CSP can show it. Only the stored picture of a known item is fetched, only from the public internet, and only a PNG, JPEG, WebP, GIF or AVIF picture of at most 2 MiB is served (by its type and its bytes). Cached for a day; revalidate with the `ETag`.",
    params(
        ("id" = ItemId, Path, description = "The item's id"),
        ("If-None-Match" = Option<String>, Header, description = "ETags the client has; a match answers 304"),
    ),
    responses(
        ErrorResponses,
        (
            status = 200,
            description = "The picture, with the type its bytes are",
            content(("image/png"), ("image/jpeg"), ("image/webp"), ("image/gif"), ("image/avif")),
            headers(
                ("ETag" = String, description = "This version of the picture: send it back in If-None-Match"),
                ("Cache-Control" = String, description = "public, max-age=86400"),
                ("X-Content-Type-Options" = String, description = "nosniff"),
            )
        ),
        (status = 304, description = "Not modified: the version named in If-None-Match is current"),
        (status = 404, description = "No such item, or the item has no picture", body = ErrorBody),
        (status = 502, description = "The item's picture could not be fetched from its source, or is not an accepted picture; nothing more is said (try again later)", body = ErrorBody),
    )
)]
pub async fn item_image(
    State(state): State<AppState>,
    State(config): State<Arc<HttpConfig>>,
    State(images): State<ImageProxy>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = ItemId::new(id).map_err(|e| ApiError::bad_request(format!("item id: {e}")))?;
    let latest = state
        .store
        .latest_price(&id)
        .await?
        .filter(|l| visible(&config, &l.source_id))
        .ok_or_else(|| {
            ApiError::not_found(
                "unknown_item",
                format!("no item {id}; GET /api/prices lists the known items"),
            )
        })?;
    let no_image = || {
        ApiError::not_found(
            "no_image",
            format!("item {id} has no picture; its `image` is absent"),
        )
    };
    let raw = latest.details.image.as_deref().map(str::trim);
    let raw = raw.filter(|s| !s.is_empty()).ok_or_else(no_image)?;
    // A stored picture address that is not an absolute URL is the
    // scraper's fault; to the client it is a picture that cannot be had.
    let url = Url::parse(raw).map_err(|e| {
        tracing::warn!(item = %id, error = %e, "item picture address is not a URL");
        ApiError::from(Unavailable)
    })?;
    let picture = images.picture(&id, &url).await?;
    let mut resp = match &picture.etag {
        Some(tag) if cache::matches(&headers, tag.to_str().unwrap_or_default()) => {
            (StatusCode::NOT_MODIFIED, Body::empty()).into_response()
        }
        _ => {
            let mut resp = Body::from(picture.body.clone()).into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(picture.image_type.mime()),
            );
            resp
        }
    };
    let h = resp.headers_mut();
    if let Some(tag) = picture.etag {
        h.insert(header::ETAG, tag);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(IMAGE_CACHE_CONTROL),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picture(n: usize) -> Cached {
        Cached::Picture(Picture {
            image_type: ImageType::Png,
            body: Bytes::from(vec![0u8; n]),
            etag: None,
        })
    }

    fn held(c: &mut Cache, key: &str, now: Instant) -> bool {
        c.get(key, now).is_some()
    }

    #[test]
    fn the_cache_keeps_to_its_budget_least_recently_used_out_first() {
        let now = Instant::now();
        let mut c = Cache::new(3 * (1000 + 1 + ENTRY_OVERHEAD));
        c.put("a", picture(1000), 1000, now);
        c.put("b", picture(1000), 1000, now);
        c.put("c", picture(1000), 1000, now);
        assert_eq!(c.used, c.budget);
        assert!(held(&mut c, "a", now), "a is now the most recent");
        c.put("d", picture(1000), 1000, now);
        assert!(!held(&mut c, "b", now), "b was the least recently used");
        for k in ["a", "c", "d"] {
            assert!(held(&mut c, k, now), "{k}");
        }
        assert!(c.used <= c.budget);
        // Bigger than the whole budget: not kept, nothing evicted for it.
        c.put("huge", picture(10_000), 10_000, now);
        assert!(!held(&mut c, "huge", now));
        assert_eq!(c.entries.len(), 3);
        // Replacing a key does not count it twice.
        c.put("a", picture(10), 10, now);
        assert_eq!(c.entries.len(), 3);
        assert_eq!(c.order.len(), 3);
        let sum: usize = c.entries.values().map(|e| e.size).sum();
        assert_eq!(sum, c.used);
    }

    #[test]
    fn entries_expire() {
        let now = Instant::now();
        let mut c = Cache::new(CACHE_BYTES);
        c.put("ok", picture(10), 10, now);
        c.put("failed", Cached::Failed, 0, now);
        assert!(held(&mut c, "failed", now + FAILURE_TTL / 2));
        assert!(!held(&mut c, "failed", now + FAILURE_TTL));
        assert!(held(&mut c, "ok", now + FAILURE_TTL));
        assert!(!held(&mut c, "ok", now + IMAGE_TTL));
        assert_eq!(c.used, 0);
        assert!(c.order.is_empty());
    }

    #[test]
    fn a_zero_budget_keeps_nothing() {
        let now = Instant::now();
        let mut c = Cache::new(0);
        c.put("a", picture(1), 1, now);
        c.put("f", Cached::Failed, 0, now);
        assert!(!held(&mut c, "a", now));
        assert!(!held(&mut c, "f", now));
    }
}
