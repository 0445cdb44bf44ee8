//! `GET /api/search`: the items whose name, brand, series or key match a
//! query, ranked, through the core's [`SearchIndex`]. The index is built
//! from the store's latest prices and rebuilt in the background once it is
//! a minute old (the old one answers meanwhile), so a search never waits
//! for a scan except the very first.

use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, RwLock};

use crate::domain::LatestPrice;
use crate::store::{LatestQuery, MAX_PAGE, Store, StoreError};
use pricehound_core::search::{Doc, SearchIndex};

/// How long an index is used before a rebuild starts, at least; a big
/// store's index lives 20 times as long as it took to build, so rebuilding
/// takes at most 5 % of a core (a million items build in about 7 s).
const FRESH_FOR: Duration = Duration::from_secs(60);
/// The most items indexed (a store past this is cut, and says so in logs).
const MAX_ITEMS: usize = 2_000_000;

pub struct Built {
    pub items: Vec<LatestPrice>,
    pub index: SearchIndex,
    pub built_at: DateTime<Utc>,
    at: Instant,
    /// How long this one is used before a rebuild starts.
    fresh_for: Duration,
}

pub struct Searcher {
    store: Arc<dyn Store>,
    hide_user_pages: bool,
    current: RwLock<Option<Arc<Built>>>,
    /// Held while a build runs, so there is one at a time.
    building: Arc<Mutex<()>>,
}

impl Searcher {
    pub fn new(store: Arc<dyn Store>, hide_user_pages: bool) -> Arc<Searcher> {
        Arc::new(Searcher {
            store,
            hide_user_pages,
            current: RwLock::new(None),
            building: Arc::new(Mutex::new(())),
        })
    }

    /// The index to answer with: the current one, rebuilt in the background
    /// when stale; built now only when there is none yet.
    pub async fn index(self: &Arc<Self>) -> Result<Arc<Built>, StoreError> {
        if let Some(b) = self.current.read().await.clone() {
            if b.at.elapsed() >= b.fresh_for
                && let Ok(guard) = self.building.clone().try_lock_owned()
            {
                let me = self.clone();
                tokio::spawn(async move {
                    let _guard = guard;
                    if let Err(e) = me.rebuild().await {
                        tracing::warn!(error = %e, "search index not rebuilt; the old one answers");
                    }
                });
            }
            return Ok(b);
        }
        let _guard = self.building.lock().await;
        if let Some(b) = self.current.read().await.clone() {
            return Ok(b);
        }
        self.rebuild().await
    }

    async fn rebuild(&self) -> Result<Arc<Built>, StoreError> {
        let started = Instant::now();
        let mut items = Vec::new();
        let mut query = LatestQuery {
            source: None,
            limit: MAX_PAGE,
            cursor: None,
            hide_user_pages: self.hide_user_pages,
        };
        loop {
            let page = self.store.latest_prices(&query).await?;
            items.extend(page.items);
            match page.next_cursor {
                Some(c) if items.len() < MAX_ITEMS => query.cursor = Some(c),
                Some(_) => {
                    tracing::warn!(items = items.len(), "search index cut at its item limit");
                    break;
                }
                None => break,
            }
        }
        // Building is CPU work: off the async workers.
        let built = tokio::task::spawn_blocking(move || {
            let index = SearchIndex::build(items.iter().map(|i| Doc {
                name: &i.name,
                brand: i.details.brand.as_deref(),
                series: i.series.as_ref().map(|s| s.as_str()),
                id: i.item_id.as_str(),
            }));
            let took = started.elapsed();
            Built {
                items,
                index,
                built_at: Utc::now(),
                at: Instant::now(),
                fresh_for: FRESH_FOR.max(took * 20),
            }
        })
        .await
        .map_err(|e| StoreError::Backend(format!("search index build failed: {e}")))?;
        tracing::info!(
            items = built.items.len(),
            ms = started.elapsed().as_millis() as u64,
            "search index built"
        );
        let built = Arc::new(built);
        *self.current.write().await = Some(built.clone());
        Ok(built)
    }
}
