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
//! semaphore, for `serve`), and the track jobs queue in Lambda
//! (`alerts::outbox::SqsTrackJobs`; the notify function runs the job from
//! a queue of its own, so slow pages never delay price alerts), because no
//! background task survives a Lambda invocation.
//!
//! Every job makes us fetch a page of the user's choosing, so each user
//! has at most one job in flight (a claim in the user store, released when
//! the job ends and lapsing by itself after [`TRACK_JOB_MARGIN`] past the
//! deadline, so a crashed job never blocks anyone) and a daily quota of
//! presses ([`BotConfig::track_daily`]), both checked before the job is
//! queued.
//!
//! [`BotConfig::track_deadline`]: super::BotConfig::track_deadline
//! [`BotConfig::track_daily`]: super::BotConfig::track_daily

use async_trait::async_trait;
use chrono::Duration;
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
/// How long a user's track job claim outlives the job's deadline: time for
/// the job to wait in the queue and send its answer. A claim that was never
/// released (the job crashed) lapses then.
pub const TRACK_JOB_MARGIN: std::time::Duration = std::time::Duration::from_secs(60);
/// The most characters of a user's query repeated in an answer: the query
/// is theirs and unbounded, a message must stay under Telegram's 4096.
const ECHO_CHARS: usize = 100;

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
        match self.claim_track_slot(ctx).await {
            Ok(None) => {}
            Ok(Some(text)) => return vec![ctx.send(text)],
            Err(e) => {
                tracing::error!(error = %e, "track job slot not claimed");
                return vec![ctx.send(ctx.t(&Text::SomethingWentWrong))];
            }
        }
        let job = TrackJob {
            url: url.to_string(),
            user,
            chat_id: ctx.chat_id,
            lang: ctx.lang,
        };
        let text = match jobs.submit(job).await {
            Ok(()) => return vec![ctx.send(ctx.t(&Text::TrackReading))],
            Err(TrackJobError::Busy) => ctx.t(&Text::TrackBusy),
            Err(e) => {
                tracing::error!(error = %e, "track job not queued");
                ctx.t(&Text::SomethingWentWrong)
            }
        };
        // No job will end and free the slot: free it now.
        self.release_track_slot(user).await;
        vec![ctx.send(text)]
    }

    /// Takes the user's one track job slot and counts the press against
    /// the day's quota. None when the job may go ahead (the slot is then
    /// held until the job ends); else the polite refusal to send.
    async fn claim_track_slot(&self, ctx: &Ctx) -> Result<Option<String>, StoreError> {
        let user = ctx.user.profile.id;
        let lasts = self.config.track_deadline.saturating_add(TRACK_JOB_MARGIN);
        let until = ctx.now + Duration::from_std(lasts).unwrap_or(Duration::hours(1));
        if !self.users.claim_track_job(user, ctx.now, until).await? {
            tracing::info!("track refused: a job of this user is in flight");
            return Ok(Some(ctx.t(&Text::TrackInFlight)));
        }
        // Counted only once the slot is held, so presses refused for a job
        // in flight cost the user nothing of their quota.
        let day = crate::store::rules::utc_day_start(ctx.now);
        let counted = self.users.track_quota_hit(user, day).await;
        match counted {
            Ok(count) if count <= self.config.track_daily => Ok(None),
            Ok(count) => {
                tracing::info!(count, "track refused: daily quota reached");
                self.release_track_slot(user).await;
                Ok(Some(ctx.t(&Text::TrackLimitDaily {
                    limit: self.config.track_daily,
                })))
            }
            Err(e) => {
                self.release_track_slot(user).await;
                Err(e)
            }
        }
    }

    /// Frees the user's track job slot. A failure only delays the user's
    /// next press until the claim lapses, so it is logged, not raised.
    async fn release_track_slot(&self, user: UserId) {
        if let Err(e) = self.users.release_track_job(user).await {
            tracing::warn!(error = %e, "track job slot not released; it lapses by itself");
        }
    }

    /// Runs one track job to its answer: reads the page (within the
    /// deadline), puts the item on the user's list and says so, or says
    /// politely that it cannot. The same for every adapter of [`TrackJobs`].
    /// Frees the user's track job slot before answering, so the user may
    /// press "Track" again as soon as they read the answer.
    pub async fn run_track_job(&self, job: &TrackJob) -> Vec<Method> {
        let answer = self.read_tracked_page(job).await;
        self.release_track_slot(job.user).await;
        answer
    }

    async fn read_tracked_page(&self, job: &TrackJob) -> Vec<Method> {
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
            purchased_at: None,
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
            [] => {
                let echoed = truncate(q, ECHO_CHARS);
                Ok(vec![ctx.send(ctx.t(&Text::NotTracking { item: &echoed }))])
            }
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
                item: &truncate(source.as_str(), ECHO_CHARS),
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

    /// Untracks every page `user` tracks and takes their items off the
    /// user's list, as `/untrack` does one by one: for a user who blocked
    /// the bot, so their pages stop being fetched (a page nobody else
    /// tracks expires). Returns how many pages the user tracked.
    pub async fn forget_tracked_pages(&self, user: UserId) -> Result<u32, StoreError> {
        let pages = self.users.tracked_pages_of(user).await?;
        if pages.is_empty() {
            return Ok(0);
        }
        for page in &pages {
            self.users.untrack_page(user, &page.source_id).await?;
        }
        for w in self.users.watches(user).await? {
            let source = w.item.source_id();
            if pages.iter().any(|p| p.source_id == source) {
                self.users.remove_watch(user, &w.item).await?;
            }
        }
        Ok(u32::try_from(pages.len()).unwrap_or(u32::MAX))
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

/// The bot's wiring for pasted links, the same in every runtime: when a
/// group takes tracked pages, the bot reads them with `fetcher` (the guarded
/// fetcher for user links) through a [`Tracker`] over the bot's own stores;
/// otherwise the bot is returned as it was and offers no tracking. Where
/// the track jobs go is the caller's choice ([`Bot::with_track_jobs`]).
///
/// [`Tracker`]: crate::sources::tracked::Tracker
pub fn with_page_tracking(bot: Bot, fetcher: crate::sources::Fetcher) -> Bot {
    let Some(group) = crate::sources::tracked::tracked_group(&bot.sources) else {
        return bot;
    };
    let tracker = crate::sources::tracked::Tracker {
        fetcher,
        store: bot.store.clone(),
        users: bot.users.clone(),
        group,
    };
    bot.with_tracker(std::sync::Arc::new(tracker))
}
