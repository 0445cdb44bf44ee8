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
use super::{Fetcher, scrape_source};
use crate::domain::user::{TrackedPage, UserId};
use crate::domain::{LatestPrice, SourceId};
use crate::store::{Store, UserStore};
use crate::telegram::bot::PageTracker;

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

/// The source id of a pasted URL: `page-` and 12 hex digits of its hash
/// (fragment dropped), so pasting the same page twice tracks it once.
pub fn source_id_for(url: &Url) -> SourceId {
    let mut u = url.clone();
    u.set_fragment(None);
    let hash = hex::encode(Sha256::digest(u.as_str().as_bytes()));
    SourceId::new(format!("page-{}", &hash[..12])).expect("a valid id")
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

/// Reads a pasted page now and starts tracking it.
pub struct Tracker {
    pub fetcher: Fetcher,
    pub store: Arc<dyn Store>,
    pub users: Arc<dyn UserStore>,
    pub group: String,
}

#[async_trait]
impl PageTracker for Tracker {
    async fn track(&self, url: &Url, by: UserId) -> Result<LatestPrice, String> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err("only http and https pages can be tracked".into());
        }
        let id = source_id_for(url);
        let mut page = TrackedPage {
            source_id: id.clone(),
            url: url.to_string(),
            name: url.host_str().unwrap_or("page").to_string(),
            added_by: by,
            added_at: Utc::now(),
        };
        let source = source_config(&page, &self.group).ok_or("the link is not a valid URL")?;
        let out = scrape_source(&source, &self.fetcher, None)
            .await
            .map_err(|e| e.to_string())?;
        let Some(obs) = out.observations.into_iter().next() else {
            let why = out
                .rejected
                .first()
                .map(|r| r.reason.clone())
                .unwrap_or_else(|| "no product price on the page".into());
            return Err(why);
        };
        page.name = obs.item_name.clone();
        self.store.record(&obs).await.map_err(|e| {
            tracing::error!(error = %e, "tracked page not stored");
            "the price could not be saved; please try again".to_string()
        })?;
        let added = self.users.add_tracked_page(&page).await.map_err(|e| {
            tracing::error!(error = %e, "tracked page not stored");
            "the page could not be saved; please try again".to_string()
        })?;
        tracing::info!(source_id = %id, new = added, "tracking a pasted page");
        Ok(LatestPrice::from(&obs))
    }
}
