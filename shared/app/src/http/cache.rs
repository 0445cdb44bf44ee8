//! Conditional GETs for the API's reads: every 200 JSON answer carries a
//! strong `ETag` (a hash of its body) and a `Cache-Control`, and a request
//! whose `If-None-Match` names the current tag gets `304 Not Modified` with
//! no body. Browsers and CDNs revalidate instead of downloading again; a
//! Lambda still computes the answer, but sends a few bytes instead of a
//! page of prices.
//!
//! The body is read to hash it: API answers are bounded (a page is at most
//! `MAX_PAGE` items), so this buffers at most a few hundred kilobytes.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

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
