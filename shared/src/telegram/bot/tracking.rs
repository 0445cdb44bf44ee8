//! Pasted pages: tracking off the webhook's path, and `/untrack`.
//!
//! Pressing "Track" must not make the webhook wait for somebody else's
//! server: a slow or hostile page would hold the request (a Lambda for its
//! whole timeout) and Telegram would re-send the update after 60 s. So the
//! bot only checks the caps and hands a [`TrackJob`] to a [`TrackJobs`]
//! port, answers "Reading the page…" at once, and the job — run by
//! [`Bot::run_track_job`] under [`BotConfig::track_deadline`] — sends the
//! result as a message of its own.
//!
//! Two adapters: [`LocalTrackJobs`] (a bounded channel and a worker with a
//! semaphore, for `serve`), and the notifications queue in Lambda
//! (`alerts::outbox::SqsTrackJobs`; the notify function runs the job),
//! because no background task survives a Lambda invocation.
//!
//! [`BotConfig::track_deadline`]: super::BotConfig::track_deadline

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::sync::Arc;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

use crate::domain::SourceId;
use crate::domain::user::{Lang, TrackedPage, UserId, Watch};
use crate::sources::tracked::{canonical_url, is_user_source, source_id_for};
use crate::store::StoreError;

use super::super::callback::Callback;
use super::super::dispatch::Dispatcher;
use super::super::html::truncate;
use super::super::methods::{Method, SendMessage};
use super::super::texts::{Text, render};
use super::super::types::{InlineKeyboardButton as Button, InlineKeyboardMarkup};
use super::views::{self, NAME_IN_BUTTON, keyboard};
use super::{Bot, Ctx, TrackRefused};

/// Jobs waiting for a worker in `serve` before new ones are refused.
pub const LOCAL_BACKLOG: usize = 64;
/// Pages read at once in `serve`.
pub const LOCAL_CONCURRENCY: usize = 4;
/// Pages listed with a button by `/untrack`.
const UNTRACK_BUTTONS: usize = 25;

/// One pressed "Track": read `url` for `user` and tell them in `chat_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackJob {
    /// The canonical URL (no query string or fragment).
    pub url: String,
    pub user: UserId,
    pub chat_id: i64,
    /// The language the answer is written in.
    pub lang: Lang,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrackJobError {
    /// Too many jobs are waiting; the user is asked to try again later.
    #[error("too many pages are being read right now")]
    Busy,
    /// The job could not be handed off (queue unreachable, worker stopped).
    #[error("track job not queued: {0}")]
    Unavailable(String),
}

/// Where pressed "Track" buttons go to be worked off the webhook's path.
#[async_trait]
pub trait TrackJobs: Send + Sync {
    /// Queues the job; it runs later and answers the user itself.
    async fn submit(&self, job: TrackJob) -> Result<(), TrackJobError>;
}

/// Track jobs in one process: a bounded channel read by [`run_local`].
pub struct LocalTrackJobs {
    tx: mpsc::Sender<TrackJob>,
}

/// The worker's end of [`LocalTrackJobs`].
pub type LocalTrackQueue = mpsc::Receiver<TrackJob>;

impl LocalTrackJobs {
    /// A queue holding at most `backlog` waiting jobs (at least one).
    pub fn new(backlog: usize) -> (LocalTrackJobs, LocalTrackQueue) {
        let (tx, rx) = mpsc::channel(backlog.max(1));
        (LocalTrackJobs { tx }, rx)
    }
}

#[async_trait]
impl TrackJobs for LocalTrackJobs {
    async fn submit(&self, job: TrackJob) -> Result<(), TrackJobError> {
        // Never waits: a full backlog is an answer ("busy"), not a stall of
        // the webhook.
        self.tx.try_send(job).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => TrackJobError::Busy,
            mpsc::error::TrySendError::Closed(_) => {
                TrackJobError::Unavailable("the track worker has stopped".into())
            }
        })
    }
}

/// Runs queued track jobs, at most `concurrency` at once, each answering
/// through `dispatcher` (so a user who blocked the bot is noticed as for
/// any answer). Returns when `shutdown` resolves or every sender is gone;
/// jobs still running then are dropped (a shutdown must not wait on a
/// slow server; the user can press "Track" again).
pub async fn run_local(
    mut jobs: LocalTrackQueue,
    dispatcher: Arc<Dispatcher>,
    concurrency: usize,
    shutdown: impl Future<Output = ()> + Send,
) {
    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut running = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = &mut shutdown => break,
        };
        let job = tokio::select! {
            job = jobs.recv() => match job {
                Some(job) => job,
                None => break,
            },
            _ = &mut shutdown => break,
        };
        let dispatcher = dispatcher.clone();
        running.spawn(async move {
            let _permit = permit;
            for method in dispatcher.bot.run_track_job(&job).await {
                dispatcher.deliver(&method).await;
            }
        });
        // Reap finished jobs so the set does not grow.
        while running.try_join_next().is_some() {}
    }
    running.shutdown().await;
}

/// The "Untrack" button for a page.
fn untrack_button(lang: Lang, source: &SourceId) -> Button {
    Button::callback(
        render(lang, &Text::BtnUntrack),
        Callback::Untrack(source.clone()).encode(),
    )
}

impl Bot {
    /// "Track" was pressed: check the caps, hand the job off, and say the
    /// page is being read. Never reads the page here.
    pub(super) async fn request_tracking(&self, ctx: &Ctx, url: &str) -> Vec<Method> {
        let jobs = self.track_jobs.as_ref().filter(|_| self.config.track_links);
        let url = url::Url::parse(url).ok().and_then(|u| canonical_url(&u));
        let (Some(tracker), Some(jobs), Some(url)) = (self.tracker.as_ref(), jobs, url) else {
            return vec![ctx.send(ctx.t(&Text::TrackUnavailable))];
        };
        let user = ctx.user.profile.id;
        if let Err(refused) = tracker.admit(&url, user, self.config.track_limits).await {
            return vec![ctx.send(refusal(ctx.lang, &refused))];
        }
        let job = TrackJob {
            url: url.to_string(),
            user,
            chat_id: ctx.chat_id,
            lang: ctx.lang,
        };
        match jobs.submit(job).await {
            Ok(()) => vec![ctx.send(ctx.t(&Text::TrackReading))],
            Err(TrackJobError::Busy) => vec![ctx.send(ctx.t(&Text::TrackBusy))],
            Err(e) => {
                tracing::error!(error = %e, "track job not queued");
                vec![ctx.send(ctx.t(&Text::SomethingWentWrong))]
            }
        }
    }

    /// Runs one track job to its answer: reads the page (within the
    /// deadline), puts the item on the user's list and says so, or says
    /// politely that it cannot. The same for every adapter of [`TrackJobs`].
    pub async fn run_track_job(&self, job: &TrackJob) -> Vec<Method> {
        let lang = job.lang;
        let send = |text: String, kb: InlineKeyboardMarkup| {
            vec![Method::SendMessage(
                SendMessage::html(job.chat_id, text).with_keyboard(kb),
            )]
        };
        let (Some(tracker), Ok(url)) = (self.tracker.as_ref(), url::Url::parse(&job.url)) else {
            return send(render(lang, &Text::TrackUnavailable), keyboard(vec![]));
        };
        let limits = self.config.track_limits;
        let tracked = tokio::time::timeout(
            self.config.track_deadline,
            tracker.track(&url, job.user, limits),
        )
        .await
        .unwrap_or_else(|_| {
            tracing::info!(
                deadline_s = self.config.track_deadline.as_secs(),
                "pasted page not read before the deadline"
            );
            Err(TrackRefused::Unreadable)
        });
        let item = match tracked {
            Ok(item) => item,
            Err(refused) => return send(refusal(lang, &refused), keyboard(vec![])),
        };
        self.catalog.invalidate().await;
        let watch = Watch {
            user: job.user,
            item: item.item_id.clone(),
            created_at: chrono::Utc::now(),
        };
        if let Err(e) = self.users.add_watch(&watch).await {
            tracing::error!(error = %e, "tracked item not put on the list");
            return send(render(lang, &Text::SomethingWentWrong), keyboard(vec![]));
        }
        let price = views::price(lang, &item);
        let text = render(
            lang,
            &Text::TrackStarted {
                item: &item.name,
                price: &price,
            },
        );
        send(
            text,
            keyboard(vec![vec![untrack_button(lang, &item.source_id)]]),
        )
    }

    /// `/untrack [name]`: stop tracking one of the user's pages, or list
    /// them with buttons.
    pub(super) async fn untrack_command(
        &self,
        ctx: &Ctx,
        query: &str,
    ) -> Result<Vec<Method>, StoreError> {
        let pages = self.users.tracked_pages_of(ctx.user.profile.id).await?;
        if pages.is_empty() {
            return Ok(vec![ctx.send(ctx.t(&Text::UntrackNone))]);
        }
        let q = query.trim();
        let matches: Vec<&TrackedPage> = if q.is_empty() {
            pages.iter().collect()
        } else {
            let by_url = url::Url::parse(q)
                .ok()
                .and_then(|u| canonical_url(&u))
                .map(|u| source_id_for(&u));
            let lower = q.to_lowercase();
            pages
                .iter()
                .filter(|p| {
                    Some(&p.source_id) == by_url.as_ref()
                        || p.source_id.as_str() == q
                        || p.name.to_lowercase().contains(&lower)
                })
                .collect()
        };
        match matches.as_slice() {
            [] => Ok(vec![ctx.send(ctx.t(&Text::NotTracking { item: q }))]),
            [one] if !q.is_empty() => {
                let text = self.untrack(ctx, &one.source_id).await?;
                Ok(vec![ctx.send(text)])
            }
            many => {
                let rows = many
                    .iter()
                    .take(UNTRACK_BUTTONS)
                    .map(|p| {
                        vec![Button::callback(
                            format!("✖ {}", truncate(&p.name, NAME_IN_BUTTON)),
                            Callback::Untrack(p.source_id.clone()).encode(),
                        )]
                    })
                    .collect();
                Ok(ctx.send_all(&ctx.t(&Text::UntrackChoose), keyboard(rows)))
            }
        }
    }

    /// Stops the user's tracking of `source` and takes its items off their
    /// list; a page nobody tracks any more expires (the store removes it
    /// from the tracked set). Returns the text that says so.
    pub(super) async fn untrack(&self, ctx: &Ctx, source: &SourceId) -> Result<String, StoreError> {
        let user = ctx.user.profile.id;
        let name = self
            .users
            .tracked_pages_of(user)
            .await?
            .into_iter()
            .find(|p| &p.source_id == source)
            .map(|p| p.name);
        let Some(name) = name else {
            return Ok(ctx.t(&Text::NotTracking {
                item: source.as_str(),
            }));
        };
        let done = self.users.untrack_page(user, source).await?;
        for w in self.users.watches(user).await? {
            if &w.item.source_id() == source {
                self.users.remove_watch(user, &w.item).await?;
            }
        }
        tracing::info!(source_id = %source, expired = done.page_removed, "user stopped tracking a page");
        Ok(ctx.t(&Text::Untracked { item: &name }))
    }

    /// The "Untrack" button for an item's view: only for items of a page
    /// the user tracks.
    pub(super) async fn untrack_button_for(
        &self,
        ctx: &Ctx,
        source: &SourceId,
    ) -> Result<Option<Button>, StoreError> {
        if !is_user_source(source) {
            return Ok(None);
        }
        let mine = self.users.tracked_pages_of(ctx.user.profile.id).await?;
        Ok(mine
            .iter()
            .any(|p| &p.source_id == source)
            .then(|| untrack_button(ctx.lang, source)))
    }
}

/// What the user reads when a page is not tracked.
fn refusal(lang: Lang, refused: &TrackRefused) -> String {
    match refused {
        TrackRefused::UserCap { limit } => render(lang, &Text::TrackLimitUser { limit: *limit }),
        TrackRefused::GlobalCap => render(lang, &Text::TrackLimitGlobal),
        TrackRefused::Unreadable => render(lang, &Text::TrackFailed),
        TrackRefused::StoreFailed => render(lang, &Text::SomethingWentWrong),
    }
}
