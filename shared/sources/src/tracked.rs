//! Product pages users paste into the bot. Each becomes a `product_page`
//! source with no selectors (structured data only), kept in the user store
//! and scraped with the group that holds the product pages of
//! `sources.toml`, so it gets the same schedule, politeness and health.

use async_trait::async_trait;
use chrono::Utc;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use url::Url;

use super::config::{ProductPageConfig, SourceConfig, SourceKind, SourcesConfig};
use super::limits::{MAX_NAME_CHARS, cap_chars};
use super::{Fetcher, scrape_source};
use crate::domain::user::{TrackedPage, UserId};
use crate::domain::{LatestPrice, SourceId};
use crate::store::{Store, TrackedPageStore};
use pricehound_core::tracking::{PageTracker, TrackLimits, TrackRefused};

/// The group tracked pages join: the one named `products`, else the group
/// of the first `product_page` source; None when there is neither (then
/// the bot says tracking is not enabled).
pub fn tracked_group(sources: &SourcesConfig) -> Option<String> {
    if sources.groups.contains_key("products") {
        return Some("products".to_string());
    }
    sources
        .sources
        .iter()
        .find(|s| matches!(s.kind, SourceKind::ProductPage(_)))
        .map(|s| s.group.clone())
}

/// The URL a pasted link is stored and fetched as: scheme, host, port and
/// path only. Query strings and fragments are dropped (they carry tracking
/// tags, session ids and personal data, and make one page many), and so are
/// user name and password. None for anything but an http(s) URL with a host.
pub fn canonical_url(url: &Url) -> Option<Url> {
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return None;
    }
    let mut u = url.clone();
    u.set_query(None);
    u.set_fragment(None);
    // Both only fail for URLs that cannot have credentials, which these can.
    u.set_username("").ok()?;
    u.set_password(None).ok()?;
    Some(u)
}

/// The source id of a pasted URL: `page-` and 12 hex digits of the hash of
/// its [`canonical_url`], so pasting the same page twice (with other
/// tracking tags) tracks it once.
pub fn source_id_for(url: &Url) -> SourceId {
    let canonical = canonical_url(url).unwrap_or_else(|| url.clone());
    let hash = hex::encode(Sha256::digest(canonical.as_str().as_bytes()));
    let id = format!("{USER_SOURCE_PREFIX}{}", hash.get(..12).unwrap_or(&hash));
    // `page-` and lowercase hex always make a valid id; the fallback only
    // keeps this function total.
    SourceId::new(id).unwrap_or_else(|_| SourceId::new("page-invalid").expect("a literal id"))
}

/// The prefix of every tracked page's source id (see [`source_id_for`]).
pub const USER_SOURCE_PREFIX: &str = crate::domain::USER_PAGE_PREFIX;

/// Whether `id` is a page a user pasted (not an operator's source): the
/// public API hides those unless the operator opts in.
pub fn is_user_source(id: &SourceId) -> bool {
    id.is_user_page()
}

/// The source config a tracked page is scraped with.
pub fn source_config(page: &TrackedPage, group: &str) -> Option<SourceConfig> {
    let url = Url::parse(&page.url).ok()?;
    Some(SourceConfig {
        id: page.source_id.clone(),
        name: page.name.clone(),
        group: group.to_string(),
        enabled: true,
        respect_robots: true,
        filters: Default::default(),
        series: Vec::new(),
        kind: SourceKind::ProductPage(ProductPageConfig::for_url(url)),
    })
}

/// Reads a pasted page and starts tracking it, within the caps. Built over
/// whatever [`Fetcher`] it is given: `Fetcher::for_user_links()` in
/// production, so a user's link never reaches inside the network.
pub struct Tracker {
    pub fetcher: Fetcher,
    pub store: Arc<dyn Store>,
    /// Where the page is added, and the caps read (an `Arc<dyn UserStore>`
    /// coerces to this).
    pub users: Arc<dyn TrackedPageStore>,
    pub group: String,
}

fn store_failed(e: crate::store::StoreError) -> TrackRefused {
    tracing::error!(error = %e, "tracked page: store failed");
    TrackRefused::StoreFailed
}

#[async_trait]
impl PageTracker for Tracker {
    async fn admit(&self, url: &Url, by: UserId, limits: TrackLimits) -> Result<(), TrackRefused> {
        let Some(url) = canonical_url(url) else {
            return Err(TrackRefused::Unreadable);
        };
        let id = source_id_for(&url);
        // Re-pasting a page the user already tracks costs nothing new.
        let mine = self
            .users
            .tracked_pages_of(by)
            .await
            .map_err(store_failed)?;
        if mine.iter().any(|p| p.source_id == id) {
            return Ok(());
        }
        if mine.len() >= limits.per_user as usize {
            return Err(TrackRefused::UserCap {
                limit: limits.per_user,
            });
        }
        // The global cap bounds how many pages we fetch: a page someone
        // else already tracks adds no fetch, so it is let through. The list
        // is only read at the cap.
        let total = self
            .users
            .tracked_page_count()
            .await
            .map_err(store_failed)?;
        if total >= u64::from(limits.global) {
            let pages = self.users.tracked_pages().await.map_err(store_failed)?;
            if !pages.iter().any(|p| p.source_id == id) {
                return Err(TrackRefused::GlobalCap);
            }
        }
        Ok(())
    }

    async fn track(
        &self,
        url: &Url,
        by: UserId,
        limits: TrackLimits,
    ) -> Result<LatestPrice, TrackRefused> {
        // Checked again here, not only when the button was pressed: jobs
        // queued in a burst must not pass the caps together. Concurrent jobs
        // of one user can still overshoot by the few running at once.
        self.admit(url, by, limits).await?;
        let url = canonical_url(url).ok_or(TrackRefused::Unreadable)?;
        let id = source_id_for(&url);
        let mut page = TrackedPage {
            source_id: id.clone(),
            url: url.to_string(),
            name: cap_chars(url.host_str().unwrap_or("page"), MAX_NAME_CHARS),
            added_by: by,
            added_at: Utc::now(),
        };
        let source = source_config(&page, &self.group).ok_or(TrackRefused::Unreadable)?;
        // One answer for every failure to read (refused by the link guard,
        // refused connection, timeout, any status, no price on the page):
        // telling them apart would make the bot a port scanner. The detail
        // is logged for the operator.
        let out = scrape_source(&source, &self.fetcher, None)
            .await
            .map_err(|e| {
                tracing::info!(source_id = %id, error = %e, "pasted page could not be read");
                TrackRefused::Unreadable
            })?;
        let Some(obs) = out.observations.into_iter().next() else {
            let why = out
                .rejected
                .first()
                .map(|r| r.reason.as_str())
                .unwrap_or("no product price");
            tracing::info!(source_id = %id, reason = why, "pasted page has no price");
            return Err(TrackRefused::Unreadable);
        };
        page.name = cap_chars(&obs.item_name, MAX_NAME_CHARS);
        self.store.record(&obs).await.map_err(store_failed)?;
        let tracking = self.users.track_page(&page).await.map_err(store_failed)?;
        tracing::info!(
            source_id = %id,
            new_page = tracking.page_added,
            new_tracker = tracking.user_added,
            "tracking a pasted page"
        );
        Ok(LatestPrice::from(&obs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> Option<String> {
        canonical_url(&Url::parse(s).ok()?).map(|u| u.to_string())
    }

    #[test]
    fn stored_links_keep_scheme_host_port_and_path_only() {
        assert_eq!(
            canon("https://user:pw@Shop.Example:8443/p/1?utm_source=x&id=2#reviews").as_deref(),
            Some("https://shop.example:8443/p/1")
        );
        assert_eq!(
            canon("http://shop.example/p/%D1%8F?").as_deref(),
            Some("http://shop.example/p/%D1%8F")
        );
        assert_eq!(canon("ftp://shop.example/p"), None);
        assert_eq!(canon("data:text/html,hi"), None);
        // The same page with other tracking tags is one source.
        let a = Url::parse("https://shop.example/p/1?utm=a").unwrap();
        let b = Url::parse("https://shop.example/p/1#x").unwrap();
        assert_eq!(source_id_for(&a), source_id_for(&b));
        assert!(is_user_source(&source_id_for(&a)));
        assert_eq!(source_id_for(&a).as_str().len(), "page-".len() + 12);
    }
}
