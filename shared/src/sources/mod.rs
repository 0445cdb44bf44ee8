//! Source adapters: each reads one kind of source and turns what it finds
//! into [`Observation`]s. Adding a kind means a variant in
//! [`config::SourceKind`], a module here and an arm in [`scrape_source`].

pub mod config;
pub mod fetch;
pub mod telegram_channel;

pub use config::{SourceConfig, SourceKind, SourcesConfig};
pub use fetch::{FetchError, Fetcher};

use crate::domain::Observation;

/// What one scrape of one source found.
#[derive(Debug, Clone, Default)]
pub struct ScrapeOutput {
    pub observations: Vec<Observation>,
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

/// Scrapes one source once. `checkpoint` is the last post id read, for
/// sources that have one.
pub async fn scrape_source(
    source: &SourceConfig,
    fetcher: &Fetcher,
    checkpoint: Option<u64>,
) -> Result<ScrapeOutput, ScrapeError> {
    match &source.kind {
        SourceKind::TelegramChannel(cfg) => {
            telegram_channel::scrape(source, cfg, fetcher, checkpoint).await
        }
    }
}
