//! Source adapters: each reads one kind of source and turns what it finds
//! into [`Observation`]s. Adding a kind means a variant in
//! [`config::SourceKind`], a module here and an arm in [`scrape_source`].

// The core's modules, under the names the adapters use.
use pricehound_core::{domain, price, queue, schedule, store};

pub mod config;
pub mod css;
pub mod fetch;
pub mod html_catalog;
pub mod html_guard;
pub mod json_api;
pub mod limits;
pub mod listing;
pub mod pattern;
pub mod product_page;
pub mod scrape;
pub mod telegram_channel;
pub mod tracked;

pub use config::{SourceConfig, SourceKind, Sources, SourcesConfig};
pub use fetch::{FetchError, Fetcher, RequestOptions};
pub use listing::{Listing, Rejected};

use chrono::{DateTime, Utc};

use crate::domain::Observation;

/// What one scrape of one source found.
#[derive(Debug, Clone, Default)]
pub struct ScrapeOutput {
    pub observations: Vec<Observation>,
    /// Listings dropped by the source's filters or without a price, and why.
    pub rejected: Vec<Rejected>,
    /// Why a price was chosen where a page offered several (product pages).
    pub notes: Vec<String>,
    /// Every listing as the page showed it, before filters (page-based
    /// kinds): what `pricehound scrape` prints field by field.
    pub listings: Vec<Listing>,
    /// The checkpoint to store once the observations are safely queued.
    pub checkpoint: Option<u64>,
    pub pages_fetched: u32,
    pub posts_read: u32,
    pub posts_without_price: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum ScrapeError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("{0} answered 404: check the source's URL or channel name")]
    NotFound(String),
    #[error(
        "channel @{channel} has no public web preview (t.me/s/{channel} redirects): it cannot be read without joining it"
    )]
    NoPublicPreview { channel: String },
    #[error("page layout not recognised: {0}")]
    Layout(String),
}

/// Runs a page's parse (guard, parse, extraction: CPU-bound and synchronous)
/// on tokio's blocking pool, so a hostile page, even at the budget
/// `html_guard` allows, never holds one of the few async workers that serve
/// the API, the bot and the other sources. A panic in the parser (html5ever
/// or our extractors) is caught by the blocking task and becomes this
/// source's error instead of unwinding through the scrape; that relies on
/// the release profile unwinding on panic (it does, on purpose: see the
/// workspace Cargo.toml).
pub(crate) async fn parse_blocking<T, F>(parse: F) -> Result<T, ScrapeError>
where
    F: FnOnce() -> Result<T, ScrapeError> + Send + 'static,
    T: Send + 'static,
{
    match tokio::task::spawn_blocking(parse).await {
        Ok(result) => result,
        Err(e) if e.is_panic() => Err(ScrapeError::Layout(
            "the page parser failed (it panicked on this page)".into(),
        )),
        Err(_) => Err(ScrapeError::Layout(
            "the page parser was cancelled (the runtime is shutting down)".into(),
        )),
    }
}

fn not_found(e: FetchError) -> ScrapeError {
    match e {
        FetchError::Status { url, status: 404 } => ScrapeError::NotFound(url),
        e => ScrapeError::Fetch(e),
    }
}

/// Scrapes one source once. `checkpoint` is the last post id read, for
/// sources that have one.
pub async fn scrape_source(
    source: &SourceConfig,
    fetcher: &Fetcher,
    checkpoint: Option<u64>,
) -> Result<ScrapeOutput, ScrapeError> {
    let opts = RequestOptions {
        respect_robots: source.respect_robots,
        accept: None,
    };
    // One fetch time per run: it is part of every page observation's id, so
    // a redelivered message of this run is recognised as the same.
    let fetched_at = now_millis();
    let mut out = match &source.kind {
        SourceKind::TelegramChannel(cfg) => {
            telegram_channel::scrape(source, cfg, fetcher, checkpoint).await?
        }
        SourceKind::HtmlCatalog(cfg) => {
            let mut out = ScrapeOutput::default();
            for start in &cfg.urls {
                let mut url = start.clone();
                let mut seen_pages = std::collections::HashSet::new();
                for _ in 0..cfg.max_pages.max(1) {
                    if !seen_pages.insert(url.clone()) {
                        break; // a next link that loops back
                    }
                    let page = fetcher
                        .get_text_with(&url, &opts)
                        .await
                        .map_err(not_found)?;
                    out.pages_fetched += 1;
                    let parsed = {
                        let (cfg, url) = ((**cfg).clone(), page.final_url.clone());
                        parse_blocking(move || html_catalog::parse_page(&page.body, &url, &cfg))
                            .await?
                    };
                    out.listings.extend(parsed.listings.iter().cloned());
                    let (obs, rejected) = listing::to_observations(
                        source,
                        parsed.listings,
                        page.final_url.as_str(),
                        fetched_at,
                    );
                    out.observations.extend(obs);
                    out.rejected.extend(rejected);
                    match parsed.next_page {
                        Some(next) => url = next,
                        None => break,
                    }
                }
            }
            dedupe(&mut out.observations);
            out
        }
        SourceKind::ProductPage(cfg) => {
            let page = fetcher
                .get_text_with(&cfg.url, &opts)
                .await
                .map_err(not_found)?;
            let listing = {
                let (cfg, url) = (cfg.clone(), page.final_url.clone());
                parse_blocking(move || product_page::extract(&page.body, &url, &cfg)).await?
            };
            let notes = listing.note.clone().into_iter().collect();
            let listings = vec![listing.clone()];
            let (observations, rejected) = listing::to_observations(
                source,
                vec![listing],
                page.final_url.as_str(),
                fetched_at,
            );
            ScrapeOutput {
                observations,
                rejected,
                notes,
                listings,
                pages_fetched: 1,
                ..ScrapeOutput::default()
            }
        }
        SourceKind::JsonApi(cfg) => {
            let doc = fetcher.get_json(&cfg.url, &opts).await.map_err(not_found)?;
            // The JSON itself is parsed by `get_json` (serde_json: linear,
            // nesting capped at 128); reading the listings out of it is
            // CPU work like a page's, so it runs off the async workers too.
            let listings = {
                let cfg = cfg.clone();
                parse_blocking(move || json_api::extract(&doc, &cfg)).await?
            };
            let (observations, rejected) =
                listing::to_observations(source, listings.clone(), cfg.url.as_str(), fetched_at);
            ScrapeOutput {
                observations,
                rejected,
                listings,
                pages_fetched: 1,
                ..ScrapeOutput::default()
            }
        }
    };
    // Telegram rules extract their own series; the source-level filters
    // apply to every kind.
    if let SourceKind::TelegramChannel(_) = source.kind {
        let (kept, dropped): (Vec<_>, Vec<_>) = out.observations.into_iter().partition(|o| {
            source
                .filters
                .reject_reason(&o.item_name, o.price.as_ref())
                .is_none()
        });
        for o in dropped {
            let reason = source
                .filters
                .reject_reason(&o.item_name, o.price.as_ref())
                .unwrap_or_default();
            out.rejected.push(Rejected {
                name: o.item_name,
                reason,
            });
        }
        out.observations = kept;
        for o in &mut out.observations {
            if o.series.is_none() {
                o.series = listing::series_for(&source.series, &o.item_name);
            }
        }
    }
    Ok(out)
}

/// The same item on two pages of one run (listings move between pages while
/// we read them): keep the first.
fn dedupe(observations: &mut Vec<Observation>) {
    let mut seen = std::collections::HashSet::new();
    observations.retain(|o| seen.insert(o.item_id.clone()));
}

fn now_millis() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
}
