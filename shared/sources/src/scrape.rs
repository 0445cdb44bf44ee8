//! A scrape run: for each source of a schedule group, read its checkpoint,
//! scrape, queue what was found, then advance the checkpoint. The
//! checkpoint moves only after the queue accepted every observation, so a
//! crash in between re-reads posts (harmless: ids are deterministic) rather
//! than losing them.

use chrono::Utc;
use futures::StreamExt;
use futures::future::join_all;
use pricehound_core::metric;
use serde::Serialize;
use std::sync::Arc;
use std::time::Instant;

use crate::domain::{Checkpoint, SourceId, SourceRun};
use crate::queue::{Queue, QueueMessage};
use crate::store::{Store, TrackedPageStore};
use crate::tracked;
use crate::{Fetcher, ScrapeOutput, SourceConfig, SourcesConfig, scrape_source};

/// What a group run did, per source. Returned by the scrape Lambda and logged by `serve`.
#[derive(Debug, Clone, Serialize)]
pub struct GroupReport {
    pub group: String,
    pub sources: Vec<SourceReport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SourceReport {
    pub source_id: SourceId,
    pub ok: bool,
    pub observations: usize,
    /// Listings dropped by the source's filters or without a price.
    pub rejected: usize,
    pub posts_read: u32,
    pub posts_without_price: u32,
    pub pages_fetched: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub elapsed_ms: u128,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("no schedule group named {0:?} in the sources file; known groups: {1}")]
    UnknownGroup(String, String),
}

/// Tracked pages (users' links) read at once in a group run.
pub const TRACKED_CONCURRENCY: usize = 8;

/// Everything a scrape run needs, built once per process.
pub struct Scraper {
    pub sources: Arc<SourcesConfig>,
    /// Fetches the sources of the sources file (the operator's: may point
    /// anywhere, loopback included).
    pub fetcher: Fetcher,
    /// Fetches the tracked pages: their URLs come from users, so only the
    /// public internet is reached (`Fetcher::for_user_links`).
    pub user_fetcher: Fetcher,
    pub store: Arc<dyn Store>,
    pub queue: Arc<dyn Queue>,
    /// Pages users pasted into the bot, scraped with their group.
    pub tracked: Option<TrackedPages>,
}

/// Where tracked pages are kept and which group scrapes them.
#[derive(Clone)]
pub struct TrackedPages {
    /// Only the tracked pages of the user store are read: an
    /// `Arc<dyn UserStore>` coerces to this.
    pub users: Arc<dyn TrackedPageStore>,
    pub group: String,
}

/// What [`metric::SOURCE_FAILING_HOURS`] says for a source that has never
/// succeeded: longer than any alarm threshold.
pub const NEVER_SUCCEEDED_HOURS: f64 = 1_000_000.0;

impl Scraper {
    /// Runs every enabled source of `group` concurrently. One failing source
    /// never stops the others; its error is in the report and the log.
    pub async fn run_group(&self, group: &str) -> Result<GroupReport, RunError> {
        if !self.sources.groups.contains_key(group) {
            let known: Vec<&str> = self.sources.groups.keys().map(String::as_str).collect();
            return Err(RunError::UnknownGroup(group.to_string(), known.join(", ")));
        }
        let tracked = self.tracked_sources(group).await;
        let operator = join_all(
            self.sources
                .group_sources(group)
                .map(|s| self.run_source_with(s, &self.fetcher)),
        );
        // Users can add up to the global cap of pages (thousands): read a
        // few at a time, not all at once, so one run cannot open thousands
        // of connections or hold thousands of page bodies in memory.
        // (The futures are built first: a closure inside the stream would
        // make the whole run future not provably Send.)
        let tracked_runs: Vec<_> = tracked
            .iter()
            .map(|s| self.run_source_with(s, &self.user_fetcher))
            .collect();
        let users = futures::stream::iter(tracked_runs)
            .buffered(TRACKED_CONCURRENCY)
            .collect::<Vec<_>>();
        let (mut sources, tracked_reports) = futures::join!(operator, users);
        self.record_failing_hours(group, &sources).await;
        sources.extend(tracked_reports);
        Ok(GroupReport {
            group: group.to_string(),
            sources,
        })
    }

    /// Sets the group's [`metric::SOURCE_FAILING_HOURS`]: how long its
    /// longest-failing configured source (pasted pages do not count) has
    /// gone without a success; 0 when all succeeded. A source that never
    /// succeeded reads as [`NEVER_SUCCEEDED_HOURS`].
    async fn record_failing_hours(&self, group: &str, reports: &[SourceReport]) {
        let now = Utc::now();
        let mut hours: f64 = 0.0;
        for report in reports.iter().filter(|r| !r.ok) {
            let since = match self.store.source_health(&report.source_id).await {
                Ok(Some(h)) => match h.last_success_at {
                    Some(at) => (now - at).num_seconds().max(0) as f64 / 3600.0,
                    None => NEVER_SUCCEEDED_HOURS,
                },
                Ok(None) => NEVER_SUCCEEDED_HOURS,
                Err(e) => {
                    tracing::warn!(source_id = %report.source_id, error = %e, "source health not read");
                    continue;
                }
            };
            hours = hours.max(since);
        }
        metrics::gauge!(metric::SOURCE_FAILING_HOURS, "group" => group.to_string()).set(hours);
    }

    /// The tracked pages that belong to `group`; none if they cannot be read
    /// (logged: the configured sources still run).
    async fn tracked_sources(&self, group: &str) -> Vec<SourceConfig> {
        let Some(t) = self.tracked.as_ref().filter(|t| t.group == group) else {
            return Vec::new();
        };
        match t.users.tracked_pages().await {
            Ok(pages) => pages
                .iter()
                .filter_map(|p| tracked::source_config(p, group))
                .collect(),
            Err(e) => {
                tracing::warn!(group, error = %e, "tracked pages could not be read");
                Vec::new()
            }
        }
    }

    /// Scrapes one source of the sources file, queues its observations and
    /// advances its checkpoint.
    pub async fn run_source(&self, source: &SourceConfig) -> SourceReport {
        self.run_source_with(source, &self.fetcher).await
    }

    /// [`Scraper::run_source`] with the fetcher the source's origin calls for.
    async fn run_source_with(&self, source: &SourceConfig, fetcher: &Fetcher) -> SourceReport {
        let started = Instant::now();
        let result = self.try_run_source(source, fetcher).await;
        let elapsed_ms = started.elapsed().as_millis();
        let run = SourceRun {
            source_id: source.id.clone(),
            at: Utc::now(),
            outcome: match &result {
                Ok(out) => Ok(out.observations.len() as u32),
                Err(e) => Err(format!("{e:#}")),
            },
        };
        let label = metric::source_label(&source.id);
        let outcome = if result.is_ok() {
            metric::OUTCOME_OK
        } else {
            metric::OUTCOME_FAILED
        };
        metrics::counter!(metric::SOURCE_RUNS, "source" => label.clone(), "outcome" => outcome)
            .increment(1);
        if let Ok(out) = &result {
            metrics::counter!(metric::SOURCE_ITEMS, "source" => label)
                .increment(out.observations.len() as u64);
        }
        // Health is bookkeeping: failing to record it must not fail the run.
        if let Err(e) = self.store.record_source_run(&run).await {
            tracing::warn!(source_id = %source.id, error = %e, "could not record source health");
        }
        match result {
            Ok(out) => {
                for r in &out.rejected {
                    tracing::debug!(source_id = %source.id, name = %r.name, reason = %r.reason, "listing rejected");
                }
                tracing::info!(
                    source_id = %source.id,
                    observations = out.observations.len(),
                    rejected = out.rejected.len(),
                    posts_read = out.posts_read,
                    posts_without_price = out.posts_without_price,
                    pages = out.pages_fetched,
                    elapsed_ms,
                    "source scraped"
                );
                SourceReport {
                    source_id: source.id.clone(),
                    ok: true,
                    observations: out.observations.len(),
                    rejected: out.rejected.len(),
                    posts_read: out.posts_read,
                    posts_without_price: out.posts_without_price,
                    pages_fetched: out.pages_fetched,
                    error: None,
                    elapsed_ms,
                }
            }
            Err(e) => {
                tracing::warn!(source_id = %source.id, error = %format!("{e:#}"), elapsed_ms, "source failed");
                SourceReport {
                    source_id: source.id.clone(),
                    ok: false,
                    observations: 0,
                    rejected: 0,
                    posts_read: 0,
                    posts_without_price: 0,
                    pages_fetched: 0,
                    error: Some(format!("{e:#}")),
                    elapsed_ms,
                }
            }
        }
    }

    async fn try_run_source(
        &self,
        source: &SourceConfig,
        fetcher: &Fetcher,
    ) -> anyhow::Result<ScrapeOutput> {
        let checkpoint = self.store.checkpoint(&source.id).await?;
        let out = scrape_source(source, fetcher, checkpoint.map(|c| c.last_post_id)).await?;
        let messages: Vec<QueueMessage> = out
            .observations
            .iter()
            .cloned()
            .map(QueueMessage::Observation)
            .collect();
        self.queue.send(&messages).await?;
        if let Some(last) = out.checkpoint {
            self.store
                .advance_checkpoint(&Checkpoint {
                    source_id: source.id.clone(),
                    last_post_id: last,
                    updated_at: Utc::now(),
                })
                .await?;
        }
        Ok(out)
    }
}

/// The scrape function's input: EventBridge Scheduler delivers exactly the
/// schedule's `Input`, `{"group": "<name>"}`; runs that group.
pub async fn run_scheduled(
    scraper: &Scraper,
    input: &serde_json::Value,
) -> anyhow::Result<GroupReport> {
    let group = input
        .get("group")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| {
            let shown: String = input.to_string().chars().take(200).collect();
            anyhow::anyhow!("expected the schedule input {{\"group\": \"<name>\"}}, got {shown}")
        })?;
    Ok(scraper.run_group(group).await?)
}
