//! The items the bot can show, for `/prices`, `/search` and resolving what
//! a user typed ("al fakher mint", an item id) to one item.
//!
//! Search reads every latest price (a few thousand items at most) and
//! filters in memory: the stores have no full-text index, and a scan of the
//! latest-price index is one query per 1000 items. The list is cached for a
//! short time, so a burst of searches (or a warm Lambda) reads it once.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

use crate::domain::{ItemId, LatestPrice, SourceId};
use crate::sources::tracked::is_user_source;
use crate::store::{LatestQuery, MAX_PAGE, Store, StoreError};

/// The most items read for search and `/prices`.
const MAX_ITEMS: usize = 50_000;

/// How long the item list is reused.
const CACHE_FOR: Duration = Duration::from_secs(30);

pub struct Catalog {
    store: Arc<dyn Store>,
    cache: Mutex<Option<Cached>>,
}

/// When the list was read, the items, and their search keys (same order).
type Cached = (Instant, Arc<Vec<LatestPrice>>, Arc<Vec<SearchKey>>);

/// An item's text as search compares it, computed once per cached list
/// (lower-casing every name on every search was a quarter of its time).
pub struct SearchKey {
    name: String,
    haystack: String,
}

impl SearchKey {
    pub fn of(item: &LatestPrice) -> Self {
        let name = normalize(&item.name);
        let mut haystack = name.clone();
        for extra in [
            item.details.brand.as_deref(),
            item.series.as_ref().map(|s| s.as_str()),
            Some(item.item_id.as_str()),
        ]
        .into_iter()
        .flatten()
        {
            haystack.push(' ');
            haystack.push_str(&extra.to_lowercase());
        }
        SearchKey { name, haystack }
    }
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

    /// The cached items with their search keys, reloaded when stale.
    async fn indexed(&self) -> Result<(Arc<Vec<LatestPrice>>, Arc<Vec<SearchKey>>), StoreError> {
        let mut cache = self.cache.lock().await;
        if let Some((at, items, keys)) = cache.as_ref()
            && at.elapsed() < CACHE_FOR
        {
            return Ok((items.clone(), keys.clone()));
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
        let keys = Arc::new(items.iter().map(SearchKey::of).collect::<Vec<_>>());
        let items = Arc::new(items);
        *cache = Some((Instant::now(), items.clone(), keys.clone()));
        Ok((items, keys))
    }

    /// Forgets the cached list (after the bot itself added an item).
    pub async fn invalidate(&self) {
        *self.cache.lock().await = None;
    }

    /// Items whose name, brand, series or id contain every word of `query`
    /// (case-insensitive), best first: an exact name, then names starting
    /// with the query, then shorter names. Only items `viewer` may see.
    pub async fn search(
        &self,
        query: &str,
        limit: usize,
        viewer: &Viewer,
    ) -> Result<Vec<LatestPrice>, StoreError> {
        let (items, keys) = self.indexed().await?;
        Ok(search_keyed(&items, &keys, query, limit, viewer))
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
    let keys: Vec<SearchKey> = items.iter().map(SearchKey::of).collect();
    search_keyed(items, &keys, query, limit, &Viewer::everything())
}

/// Items whose key contains every word of `query`, best first: an exact
/// name, then names starting with the query, then containing it, then
/// shorter names.
fn search_keyed(
    items: &[LatestPrice],
    keys: &[SearchKey],
    query: &str,
    limit: usize,
    viewer: &Viewer,
) -> Vec<LatestPrice> {
    let q = normalize(query);
    let words: Vec<&str> = q.split(' ').filter(|w| !w.is_empty()).collect();
    if words.is_empty() {
        return Vec::new();
    }
    let mut hits: Vec<(u8, usize, &LatestPrice)> = items
        .iter()
        .zip(keys)
        .filter(|(item, key)| words.iter().all(|w| key.haystack.contains(w)) && viewer.sees(item))
        .map(|(item, key)| {
            let rank = if key.name == q {
                0
            } else if key.name.starts_with(&q) {
                1
            } else if key.name.contains(&q) {
                2
            } else {
                3
            };
            (rank, key.name.chars().count(), item)
        })
        .collect();
    hits.sort_by(|a, b| {
        (a.0, a.1, &a.2.name, &a.2.item_id).cmp(&(b.0, b.1, &b.2.name, &b.2.item_id))
    });
    hits.into_iter()
        .take(limit)
        .map(|(_, _, i)| i.clone())
        .collect()
}
