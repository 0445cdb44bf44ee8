//! The local stack behind `pricehound serve`: the same scrape, ingest and
//! HTTP code as the Lambdas, wired in one process. SQLite instead of
//! DynamoDB, a channel instead of SQS, a broadcast bus instead of
//! EventBridge, timers instead of EventBridge Scheduler.
//!
//! Shutdown order matters: stop the timers (an interrupted scrape has not
//! advanced its checkpoint, so nothing is lost), stop the HTTP server, then
//! let the ingest worker drain every queued observation before returning.

use chrono::Utc;
use futures::FutureExt;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use crate::alerts::{self, notifier::Notifier, rules::AlertPolicy, sender::Sender};
use crate::bus::memory::MemoryBus;
use crate::http::{AppState, ClientLimiter, HttpConfig, ImageProxy, router_with_limiter};
use crate::ingest::{IngestError, Ingested, Ingestor};
use crate::queue::QueueMessage;
use crate::queue::memory::MemoryQueue;
use crate::relay::{EventOutbox, Relay};
use crate::retention::{Prune, Retention};
use crate::scrape::{Scraper, TrackedPages};
use crate::sources::tracked;
use crate::sources::{Fetcher, SourcesConfig};
use crate::store::sqlite::SqliteStore;
use crate::store::{Store, UserStore};
use crate::telegram::api::{BotApi, BotToken};
use crate::telegram::bot::tracking::{self, LocalTrackJobs};
use crate::telegram::bot::{Bot, BotConfig};
use crate::telegram::dispatch::Dispatcher;
use crate::telegram::polling;
use crate::telegram::webhook::{self, WebhookSecret, WebhookState};
use pricehound_core::delayed::DelayedQueue;

pub struct ServeOptions {
    pub sources: SourcesConfig,
    /// SQLite file; `None` keeps everything in memory.
    pub db: Option<PathBuf>,
    pub listen: SocketAddr,
    /// Run every group once at startup instead of waiting for its first tick.
    pub run_at_start: bool,
    /// The Telegram bot, when a token is set.
    pub telegram: Option<TelegramOptions>,
    /// CORS, the per-client rate limit on `/api/*`, tracked-page visibility.
    pub http: HttpConfig,
    /// How long history and usage events are kept (pruned at start and
    /// daily: SQLite has no TTL).
    pub retention: Retention,
}

/// The bot in `serve`: by long polling, or behind the webhook route when a
/// secret is given (for a tunnel such as `cloudflared` to a public URL).
pub struct TelegramOptions {
    pub token: BotToken,
    /// The Bot API server, `https://api.telegram.org` unless self-hosted.
    pub api_base: String,
    pub webhook_secret: Option<WebhookSecret>,
    pub config: BotConfig,
    /// Alert cooldown and daily cap.
    pub alerts: AlertPolicy,
}

/// A running local stack, for callers that want to drive it (tests, `serve`).
pub struct Stack {
    pub store: Arc<dyn Store>,
    pub users: Arc<dyn UserStore>,
    pub scraper: Arc<Scraper>,
    pub bus: MemoryBus,
    pub addr: SocketAddr,
}

/// Runs the local stack until `shutdown` resolves. `on_ready` is called once
/// the HTTP server is listening.
pub async fn serve(
    opts: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
    on_ready: impl FnOnce(&Stack),
) -> anyhow::Result<()> {
    let sqlite = Arc::new(match &opts.db {
        Some(path) => SqliteStore::open(path)?,
        None => SqliteStore::in_memory()?,
    });
    let store: Arc<dyn Store> = sqlite.clone();
    let outbox: Arc<dyn EventOutbox> = sqlite.clone();
    let prune: Arc<dyn Prune> = sqlite.clone();
    let delayed: Arc<dyn DelayedQueue> = sqlite.clone();
    let users: Arc<dyn UserStore> = sqlite;
    let sources = Arc::new(opts.sources);
    let (queue, rx) = MemoryQueue::new();
    let bus = MemoryBus::default();
    // Price events wait in the store's outbox until the relay has put them
    // on the bus: drained after each change, on a timer and at start (what
    // a crash or a failed publish left behind).
    let relay = Arc::new(Relay::new(outbox, Arc::new(bus.clone())));
    let ingestor = Ingestor::new(store.clone());
    let worker = tokio::spawn(ingest_worker(ingestor, rx, relay.clone()));

    let tracked = tracked::tracked_group(&sources).map(|group| TrackedPages {
        users: users.clone(),
        group,
    });
    // One guarded fetcher for every user link (the tracker's first read and
    // the scheduled runs), so they share per-host limits and robots.txt.
    let user_fetcher = Fetcher::for_user_links();
    let scraper = Arc::new(Scraper {
        sources: sources.clone(),
        fetcher: Fetcher::new(),
        user_fetcher: user_fetcher.clone(),
        store: store.clone(),
        queue: Arc::new(queue),
        tracked: tracked.clone(),
    });

    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", opts.listen))?;
    let addr = listener.local_addr()?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut webhook = None;
    let mut poller = None;
    let mut notifier_task = None;
    let mut track_worker = None;
    if let Some(tg) = opts.telegram {
        // getUpdates sets its own, longer timeout per request.
        let api = BotApi::connect(&tg.api_base, tg.token)?;
        let notifier = Arc::new(Notifier::new(users.clone(), tg.alerts));
        let sender =
            Arc::new(Sender::new(api.clone(), users.clone()).with_daily_cap(tg.alerts.daily_cap));
        // Notifications wait in the SQLite file: a restart loses none, not
        // even those waiting out a 429.
        notifier_task = Some(tokio::spawn(alerts::local::run_durable(
            notifier,
            sender,
            bus.subscribe(),
            stop_rx.clone(),
            delayed.clone(),
        )));
        let mut bot = tracking::with_page_tracking(
            Bot::new(store.clone(), users.clone(), sources.clone(), tg.config),
            user_fetcher.clone(),
        );
        let mut track_queue = None;
        if tracked.is_some() {
            // Pasted pages are read by a worker, a few at once, never while
            // the update waits (see `telegram::bot::tracking`).
            let (jobs, queue) = LocalTrackJobs::new(tracking::LOCAL_BACKLOG);
            track_queue = Some(queue);
            bot = bot.with_track_jobs(Arc::new(jobs));
        }
        let dispatcher = Arc::new(Dispatcher::new(Arc::new(bot), api));
        if let Some(queue) = track_queue {
            let mut stop = stop_rx.clone();
            track_worker = Some(tokio::spawn(tracking::run_local(
                queue,
                dispatcher.clone(),
                tracking::LOCAL_CONCURRENCY,
                async move { stopped(&mut stop).await },
            )));
        }
        match tg.webhook_secret {
            Some(secret) => {
                tracing::info!("Telegram bot answers on POST {}", webhook::PATH);
                webhook = Some(WebhookState { dispatcher, secret });
            }
            None => poller = Some(tokio::spawn(polling::run(dispatcher, stop_rx.clone()))),
        }
    }
    // Without Telegram nothing reads the events; this receiver (never
    // read, the channel overwrites what it does not read) lets the relay
    // empty the outbox instead of keeping every event forever.
    let _no_notifier = notifier_task.is_none().then(|| bus.subscribe());
    let mut timers = JoinSet::new();
    {
        let retention = opts.retention;
        let mut stop = stop_rx.clone();
        timers.spawn(async move {
            loop {
                match prune.prune(&retention, Utc::now()).await {
                    Ok(p) => tracing::info!(
                        observations = p.observations,
                        usage_events = p.usage_events,
                        "old history and usage pruned"
                    ),
                    Err(e) => tracing::warn!(error = %e, "pruning failed; trying again later"),
                }
                tokio::select! {
                    _ = tokio::time::sleep(PRUNE_INTERVAL) => {}
                    _ = stopped(&mut stop) => break,
                }
            }
        });
    }
    {
        // Started after the notifier subscribed, so what a crash left in
        // the outbox reaches it.
        let relay = relay.clone();
        let mut stop = stop_rx.clone();
        timers.spawn(async move {
            loop {
                drain(&relay).await;
                tokio::select! {
                    _ = tokio::time::sleep(RELAY_INTERVAL) => {}
                    _ = stopped(&mut stop) => break,
                }
            }
        });
    }
    let limiter = opts.http.rate_limit.map(ClientLimiter::new);
    let mut http = opts.http;
    // The image route's guarded fetcher and cache: one for the process.
    http.images.get_or_insert_with(ImageProxy::new);
    let app = router_with_limiter(
        AppState {
            store: store.clone(),
            sources: sources.clone().into(),
            telegram: webhook,
        },
        http,
        limiter.clone(),
    );
    // The counters as Prometheus text on /metrics.
    let app = match crate::telemetry::metrics::prometheus() {
        Some(handle) => app.merge(crate::http::metrics_route(handle)),
        None => app,
    };
    if let Some(limiter) = limiter {
        // The limiter remembers every client it saw; forget the ones whose
        // bucket is full again, so a scan from many addresses cannot grow it.
        let mut stop = stop_rx.clone();
        timers.spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(std::time::Duration::from_secs(60)) => limiter.forget_idle(),
                    _ = stopped(&mut stop) => break,
                }
            }
        });
    }

    for (name, group) in &sources.groups {
        let scraper = scraper.clone();
        let name = name.clone();
        let schedule = group.schedule.clone();
        let mut stop = stop_rx.clone();
        let run_at_start = opts.run_at_start;
        timers.spawn(async move {
            if run_at_start {
                run_group(&scraper, &name, &mut stop).await;
            }
            loop {
                let Some(next) = schedule.next_after(Utc::now()) else {
                    tracing::warn!(group = %name, "schedule never fires again");
                    break;
                };
                let wait = (next - Utc::now()).to_std().unwrap_or_default();
                tracing::debug!(group = %name, next = %next, "next scrape");
                let shutting_down = *stop.borrow();
                if shutting_down {
                    break;
                }
                tokio::select! {
                    _ = tokio::time::sleep(wait) => run_group(&scraper, &name, &mut stop).await,
                    // wait_for, not changed(): an interrupted scrape already
                    // consumed the change notification.
                    _ = stopped(&mut stop) => break,
                }
            }
        });
    }

    on_ready(&Stack {
        store: store.clone(),
        users: users.clone(),
        scraper: scraper.clone(),
        bus: bus.clone(),
        addr,
    });
    tracing::info!(%addr, store = store.backend(), groups = sources.groups.len(), "pricehound is serving");

    let mut server_stop = stop_rx.clone();
    // With the peer's address, for the per-client rate limit.
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        stopped(&mut server_stop).await;
    });
    let server = tokio::spawn(async move { server.await });

    shutdown.await;
    tracing::info!("shutting down: stopping timers, then draining the queue");
    let _ = stop_tx.send(true);
    while timers.join_next().await.is_some() {}
    let _ = server.await;
    if let Some(poller) = poller {
        let _ = poller.await;
    }
    if let Some(task) = notifier_task {
        let _ = task.await;
    }
    if let Some(task) = track_worker {
        let _ = task.await;
    }
    // The scraper holds the queue's sender; dropping the last one closes the
    // channel, and the worker returns once it has ingested what was queued.
    drop(scraper);
    let drained = worker.await.unwrap_or(0);
    drain(&relay).await;
    tracing::info!(drained, "stopped cleanly");
    Ok(())
}

/// Resolves once shutdown has begun, even if this receiver already saw the
/// change (`changed()` would then wait for the next one, forever).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopped| *stopped).await;
}

async fn run_group(scraper: &Scraper, name: &str, stop: &mut watch::Receiver<bool>) {
    // A panic in a run (a bug, on some page nobody foresaw) must not end
    // this group's timer for the life of the process: it is caught, logged,
    // and the next tick runs the group again. (The release profile unwinds
    // for this; see Cargo.toml.)
    let run = std::panic::AssertUnwindSafe(scraper.run_group(name)).catch_unwind();
    tokio::select! {
        report = run => match report {
            Ok(Ok(r)) => {
                let ok = r.sources.iter().filter(|s| s.ok).count();
                let found: usize = r.sources.iter().map(|s| s.observations).sum();
                tracing::info!(group = %name, sources_ok = ok, sources = r.sources.len(), observations = found, "group scraped");
            }
            Ok(Err(e)) => tracing::error!(group = %name, error = %e, "group run failed"),
            Err(_) => tracing::error!(group = %name, "group run panicked; the next tick runs it again"),
        },
        _ = stopped(stop) => tracing::info!(group = %name, "scrape interrupted by shutdown; its checkpoint did not move"),
    }
}

/// How often `serve` prunes history and usage past their retention.
const PRUNE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);

/// How often the relay looks for events a failed drain left in the outbox.
const RELAY_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

/// Publishes what the outbox holds; a failure is logged and the events
/// wait for the next drain.
async fn drain(relay: &Relay) {
    match relay.drain().await {
        Ok(0) => {}
        Ok(published) => tracing::debug!(published, "price events published"),
        Err(e) => tracing::warn!(error = %e, "price events not published yet"),
    }
}

/// Ingests queued messages until the queue closes; returns how many it handled.
async fn ingest_worker(
    ingestor: Ingestor,
    mut rx: mpsc::UnboundedReceiver<QueueMessage>,
    relay: Arc<Relay>,
) -> usize {
    let mut handled = 0;
    while let Some(message) = rx.recv().await {
        handled += 1;
        // A transient store error is retried a few times, like an SQS redelivery.
        for attempt in 1..=5u32 {
            // A panic on one message drops that message, not the worker and
            // everything queued behind it.
            let ingested = std::panic::AssertUnwindSafe(ingestor.ingest(&message))
                .catch_unwind()
                .await
                .unwrap_or_else(|_| {
                    Err(IngestError::Malformed(
                        "ingesting this message panicked".into(),
                    ))
                });
            match ingested {
                Ok(Ingested::Stored {
                    price_changed: true,
                }) => {
                    drain(&relay).await;
                    break;
                }
                Ok(_) => break,
                Err(IngestError::Malformed(e)) => {
                    tracing::error!(message_id = message.id(), error = %e, "malformed message dropped");
                    break;
                }
                Err(e) if attempt < 5 => {
                    tracing::warn!(message_id = message.id(), error = %e, attempt, "ingest failed, retrying");
                    tokio::time::sleep(std::time::Duration::from_millis(100 * 2u64.pow(attempt)))
                        .await;
                }
                Err(e) => {
                    tracing::error!(message_id = message.id(), error = %e, "ingest failed; giving up")
                }
            }
        }
    }
    handled
}
