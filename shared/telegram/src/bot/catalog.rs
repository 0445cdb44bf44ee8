//! The items the bot can show, for `/prices`, `/search` and resolving what
//! a user typed ("al fakher mint", an item id) to one item.
//!
//! Search reads every latest price and indexes it in memory with the
//! core's [`SearchIndex`] (the same ranked, typo-tolerant search as
//! `GET /api/search`): the stores have no full-text index, and a scan of
//! the latest-price index is one query per 1000 items. The list and its
//! index are cached for a short time, so a burst of searches (or a warm
//! Lambda) reads it once.

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

use crate::domain::{ItemId, LatestPrice, SourceId};
use crate::sources::tracked::is_user_source;
use crate::store::{LatestQuery, MAX_PAGE, Store, StoreError};
use pricehound_core::search::{Doc, SearchIndex};

/// The most items read for search and `/prices`.
const MAX_ITEMS: usize = 50_000;

/// How long the item list is reused.
const CACHE_FOR: Duration = Duration::from_secs(30);

pub struct Catalog {
    store: Arc<dyn Store>,
    cache: Mutex<Option<Cached>>,
}

/// When the list was read, the items, and their index (same order).
/// The index is built on the first search of a list, not when it is read:
/// `/prices` and a cold Lambda's first command do not pay for it.
type Cached = (Instant, Arc<Vec<LatestPrice>>, Arc<OnceLock<SearchIndex>>);

/// The search index over `items` (name, brand, series, item key).
fn index_of(items: &[LatestPrice]) -> SearchIndex {
    SearchIndex::build(items.iter().map(|i| Doc {
        name: &i.name,
        brand: i.details.brand.as_deref(),
        series: i.series.as_ref().map(|s| s.as_str()),
        id: i.item_id.as_str(),
    }))
}

/// What a user's words point at.
#[derive(Debug)]
pub enum Resolved {
    One(Box<LatestPrice>),
    Many(Vec<LatestPrice>),
    None,
}

impl Catalog {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Catalog {
            store,
            cache: Mutex::new(None),
        }
    }

    /// Every item's latest price, ordered by source then item id.
    pub async fn all(&self) -> Result<Arc<Vec<LatestPrice>>, StoreError> {
        Ok(self.indexed().await?.0)
    }

    /// The cached items with their index, reloaded when stale.
    async fn indexed(
        &self,
    ) -> Result<(Arc<Vec<LatestPrice>>, Arc<OnceLock<SearchIndex>>), StoreError> {
        let mut cache = self.cache.lock().await;
        if let Some((at, items, index)) = cache.as_ref()
            && at.elapsed() < CACHE_FOR
        {
            return Ok((items.clone(), index.clone()));
        }
        let mut items = Vec::new();
        let mut query = LatestQuery {
            source: None,
            limit: MAX_PAGE,
            cursor: None,
            hide_user_pages: false,
        };
        loop {
            let page = self.store.latest_prices(&query).await?;
            items.extend(page.items);
            match page.next_cursor {
                Some(c) if items.len() < MAX_ITEMS => query.cursor = Some(c),
                _ => break,
            }
        }
        let index = Arc::new(OnceLock::new());
        let items = Arc::new(items);
        *cache = Some((Instant::now(), items.clone(), index.clone()));
        Ok((items, index))
    }

    /// Forgets the cached list (after the bot itself added an item).
    pub async fn invalidate(&self) {
        *self.cache.lock().await = None;
    }

    /// Items whose name, brand, series or key match every word of `query`
    /// (exactly, as a prefix, or within one typo), best first (see
    /// [`SearchIndex::search`]). Only items `viewer` may see.
    pub async fn search(
        &self,
        query: &str,
        limit: usize,
        viewer: &Viewer,
    ) -> Result<Vec<LatestPrice>, StoreError> {
        let (items, index) = self.indexed().await?;
        let index = index.get_or_init(|| index_of(&items));
        Ok(search_indexed(&items, index, query, limit, viewer))
    }

    /// An item id, or the one item a name points at, or the candidates;
    /// only items `viewer` may see.
    pub async fn resolve(&self, query: &str, viewer: &Viewer) -> Result<Resolved, StoreError> {
        let query = query.trim();
        if query.is_empty() {
            return Ok(Resolved::None);
        }
        if let Ok(id) = ItemId::new(query)
            && let Some(item) = self.store.latest_price(&id).await?
            && viewer.sees(&item)
        {
            return Ok(Resolved::One(Box::new(item)));
        }
        let mut found = self.search(query, 8, viewer).await?;
        let exact = normalize(query);
        if found.len() == 1
            || found.first().is_some_and(|f| {
                normalize(&f.name) == exact
                    && found.get(1).is_none_or(|s| normalize(&s.name) != exact)
            })
        {
            return Ok(Resolved::One(Box::new(found.swap_remove(0))));
        }
        Ok(if found.is_empty() {
            Resolved::None
        } else {
            Resolved::Many(found)
        })
    }
}

/// Who is looking, for what the catalogue shows them: everything from the
/// operator's sources, but of the pages users pasted into the bot only the
/// ones this user tracks or watches (the REST API hides them all; see
/// `http::visible`). One person's links are not everyone's catalogue.
#[derive(Debug, Clone, Default)]
pub struct Viewer {
    /// The pasted pages (source ids) this user tracks or watches.
    pub own_pages: HashSet<SourceId>,
    /// Sees every item (the operator's own tools, tests).
    pub everything: bool,
}

impl Viewer {
    pub fn everything() -> Self {
        Viewer {
            own_pages: HashSet::new(),
            everything: true,
        }
    }

    pub fn sees(&self, item: &LatestPrice) -> bool {
        self.everything
            || !is_user_source(&item.source_id)
            || self.own_pages.contains(&item.source_id)
    }
}

pub fn normalize(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Search over any list (e.g. a user's own watches).
pub fn search_in(items: &[LatestPrice], query: &str, limit: usize) -> Vec<LatestPrice> {
    search_indexed(items, &index_of(items), query, limit, &Viewer::everything())
}

/// The best `limit` of `items` that `viewer` may see.
fn search_indexed(
    items: &[LatestPrice],
    index: &SearchIndex,
    query: &str,
    limit: usize,
    viewer: &Viewer,
) -> Vec<LatestPrice> {
    // Hidden items are dropped after ranking: ask for enough to fill the
    // limit with what this user may see.
    let hits = if viewer.everything {
        index.search(query, limit)
    } else {
        index.search(query, usize::MAX)
    };
    hits.into_iter()
        .filter_map(|i| items.get(i))
        .filter(|item| viewer.sees(item))
        .take(limit)
        .cloned()
        .collect()
}
