//! The Lambda handlers of the api and notify functions, and their wiring
//! from [`Settings`]. The binaries in `functions/` build their clients once
//! and call these; tests feed them the samples in `events/`. The ingest
//! and scrape handlers live lower down (`pricehound_aws::lambda::ingest`,
//! `pricehound_sources::scrape::run_scheduled`, re-exported here) so those
//! functions link neither the bot nor the router.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};

// Handlers and clients of the AWS crate, at the paths the binaries and tests use.
use futures::future::join_all;
pub use pricehound_aws::lambda::ingest;
pub use pricehound_aws::sdk::{LOCAL_ENDPOINTS, sdk_config, sdk_http_client, with_local_endpoints};
pub use pricehound_aws::stream::publish_changes;
use std::sync::Arc;

use crate::settings::Settings;

/// The scrape function's handler (in the sources crate, so the scrape
/// function needs no bot or router).
pub use crate::scrape::run_scheduled as scrape;

/// Opens the function's connection to the store while the rest of its init
/// runs: one `ping` (a GetItem of a key that never exists) on a runtime
/// worker, so the first event finds the connection open and the SDK's
/// first-call work (endpoint rules, signing, the connection pool) done. In
/// AWS the TCP and TLS handshakes with DynamoDB are the largest part of a
/// cold start's first read; every first request of the api and every notify
/// batch reads the store. Costs one read per cold start; a failure is only
/// logged (the event's own read reports it properly).
pub fn prime_store(store: Arc<dyn crate::store::Store>) {
    tokio::spawn(async move {
        if let Err(e) = store.ping().await {
            tracing::debug!(error = %e, "store not reachable while priming");
        }
    });
}

/// Reads a SecureString parameter. Errors name the parameter, never its value.
pub async fn ssm_secret(ssm: &aws_sdk_ssm::Client, name: &str) -> anyhow::Result<String> {
    let out = ssm
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot read SSM parameter {name}: {} (does it exist, and may this function read it?)",
                aws_sdk_ssm::error::DisplayErrorContext(e)
            )
        })?;
    out.parameter
        .and_then(|p| p.value)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| anyhow::anyhow!("SSM parameter {name} is empty"))
}

/// The Telegram webhook for the api function: the token and secret come
/// from the SSM parameters named by `PRICEHOUND_BOT_TOKEN_PARAMETER` and
/// `PRICEHOUND_WEBHOOK_SECRET_PARAMETER` (template.yaml sets the names;
/// the values live only in SSM). None when the first is unset: no bot.
pub async fn telegram_webhook(
    settings: &Settings,
    config: &aws_config::SdkConfig,
    store: Arc<dyn crate::store::Store>,
    users: Arc<dyn crate::store::UserStore>,
    sources: Arc<crate::sources::SourcesConfig>,
) -> anyhow::Result<Option<crate::telegram::webhook::WebhookState>> {
    use crate::telegram::{bot, dispatch, webhook};
    let Some(token_param) = settings.aws.bot_token_parameter.as_deref() else {
        tracing::info!("PRICEHOUND_BOT_TOKEN_PARAMETER not set: the Telegram webhook is off");
        return Ok(None);
    };
    let secret_param = settings.aws.webhook_secret_parameter()?;
    let ssm = aws_sdk_ssm::Client::new(config);
    let (token, secret) = tokio::try_join!(
        ssm_bot_token(&ssm, token_param),
        ssm_secret(&ssm, secret_param)
    )?;
    let secret = webhook::WebhookSecret::new(secret.trim())
        .map_err(|e| anyhow::anyhow!("SSM parameter {secret_param}: {e}"))?;
    let mut bot = crate::telegram::bot::tracking::with_page_tracking(
        bot::Bot::new(store, users, sources.clone(), settings.bot.clone()),
        crate::sources::Fetcher::for_user_links(),
    );
    // Pasted pages are read by the notify function, never while the
    // webhook waits: the job goes on the track jobs queue, apart from the
    // notifications so that slow pages never hold up price alerts.
    let tracks = crate::sources::tracked::tracked_group(&sources).is_some();
    match settings.aws.track_queue_url.as_deref() {
        Some(queue_url) if tracks => {
            bot = bot.with_track_jobs(Arc::new(crate::alerts::outbox::SqsTrackJobs {
                client: aws_sdk_sqs::Client::new(config),
                queue_url: queue_url.to_string(),
            }));
        }
        None if tracks => tracing::warn!(
            "PRICEHOUND_TRACK_QUEUE_URL not set: the bot will not offer to track pasted links"
        ),
        _ => {}
    }
    let api = crate::telegram::api::BotApi::connect(&settings.telegram_api, token)?;
    Ok(Some(webhook::WebhookState {
        dispatcher: Arc::new(dispatch::Dispatcher::new(Arc::new(bot), api)),
        secret,
    }))
}

/// The notify function: `PriceChanged` events (from the EventBridge rule)
/// are planned into notifications, which go to the queue before the alerts'
/// state is stored; notifications are sent within Telegram's limits, and a
/// throttled one goes back with its `retry_after` as the delay. A record
/// fails (and is retried, then dead-lettered) only when its work could not
/// be done or saved.
pub async fn notify(
    notifier: &crate::alerts::notifier::Notifier,
    sender: &crate::alerts::sender::Sender,
    outbox: &dyn crate::alerts::outbox::Outbox,
    event: SqsEvent,
) -> SqsBatchResponse {
    notify_with(notifier, sender, outbox, TracksRef::Ready(None), event).await
}

/// The notify function's Bot API sender, built on first use: the bot's
/// token is read from SSM only by an invocation that sends (a batch of
/// PriceChanged events only plans). A failed build is tried again on the
/// next batch that needs it.
pub struct LazySender {
    cell: tokio::sync::OnceCell<crate::alerts::sender::Sender>,
    build: Box<
        dyn Fn()
                -> futures::future::BoxFuture<'static, anyhow::Result<crate::alerts::sender::Sender>>
            + Send
            + Sync,
    >,
}

impl LazySender {
    pub fn new<F, Fut>(build: F) -> LazySender
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = anyhow::Result<crate::alerts::sender::Sender>>
            + Send
            + 'static,
    {
        LazySender {
            cell: tokio::sync::OnceCell::new(),
            build: Box::new(move || Box::pin(build())),
        }
    }

    pub async fn get(&self) -> anyhow::Result<&crate::alerts::sender::Sender> {
        self.cell.get_or_try_init(|| (self.build)()).await
    }
}

/// A sender at hand, or one built on first use.
#[derive(Clone, Copy)]
pub enum SenderRef<'a> {
    Ready(&'a crate::alerts::sender::Sender),
    Lazy(&'a LazySender),
}

impl<'a> SenderRef<'a> {
    async fn get(self) -> anyhow::Result<&'a crate::alerts::sender::Sender> {
        match self {
            SenderRef::Ready(sender) => Ok(sender),
            SenderRef::Lazy(lazy) => lazy.get().await,
        }
    }
}

impl<'a> From<&'a crate::alerts::sender::Sender> for SenderRef<'a> {
    fn from(sender: &'a crate::alerts::sender::Sender) -> Self {
        SenderRef::Ready(sender)
    }
}

impl<'a> From<&'a LazySender> for SenderRef<'a> {
    fn from(lazy: &'a LazySender) -> Self {
        SenderRef::Lazy(lazy)
    }
}

/// The notify function's bot for track jobs ([`track_bot`]), built when a
/// batch first holds one: building it reads the sources, most of the
/// function's init, and batches of PriceChanged events never need it.
pub struct LazyTracks {
    cell: std::sync::OnceLock<Option<crate::telegram::bot::Bot>>,
    build: Box<dyn Fn() -> Option<crate::telegram::bot::Bot> + Send + Sync>,
}

impl LazyTracks {
    pub fn new(
        build: impl Fn() -> Option<crate::telegram::bot::Bot> + Send + Sync + 'static,
    ) -> LazyTracks {
        LazyTracks {
            cell: std::sync::OnceLock::new(),
            build: Box::new(build),
        }
    }

    pub fn get(&self) -> Option<&crate::telegram::bot::Bot> {
        self.cell.get_or_init(|| (self.build)()).as_ref()
    }
}

/// The bot for track jobs at hand (or none), or one built on first use.
#[derive(Clone, Copy)]
pub enum TracksRef<'a> {
    Ready(Option<&'a crate::telegram::bot::Bot>),
    Lazy(&'a LazyTracks),
}

impl<'a> TracksRef<'a> {
    fn get(self) -> Option<&'a crate::telegram::bot::Bot> {
        match self {
            TracksRef::Ready(bot) => bot,
            TracksRef::Lazy(lazy) => lazy.get(),
        }
    }
}

impl<'a> From<Option<&'a crate::telegram::bot::Bot>> for TracksRef<'a> {
    fn from(bot: Option<&'a crate::telegram::bot::Bot>) -> Self {
        TracksRef::Ready(bot)
    }
}

impl<'a> From<&'a LazyTracks> for TracksRef<'a> {
    fn from(lazy: &'a LazyTracks) -> Self {
        TracksRef::Lazy(lazy)
    }
}

/// [`notify`], also running the track jobs of pasted pages with `tracks`
/// (a bot with a tracker; without one a track job fails and is retried,
/// then dead-lettered). The function reads two queues: notifications
/// (PriceChanged events and put-back notifications) and track jobs, each
/// through its own event source, so an invocation holds one kind; records
/// are told apart by their body ([`NotifyMessage`]), and track jobs still
/// on the notifications queue from before it had a twin are run as well.
/// Jobs run concurrently, each within the bot's deadline, so a batch of
/// them fits the function's timeout; a job always ends in an answer to the
/// user (and frees the user's track slot), so it is never retried.
///
/// [`NotifyMessage`]: crate::alerts::outbox::NotifyMessage
pub async fn notify_with<'a>(
    notifier: &crate::alerts::notifier::Notifier,
    sender: impl Into<SenderRef<'a>>,
    outbox: &dyn crate::alerts::outbox::Outbox,
    tracks: impl Into<TracksRef<'a>>,
    event: SqsEvent,
) -> SqsBatchResponse {
    use crate::alerts::outbox::NotifyMessage;
    use crate::alerts::sender::Delivery;
    let sender = sender.into();
    let tracks = tracks.into();
    let now = chrono::Utc::now();
    let mut failed: Vec<String> = Vec::new();
    let mut changes = Vec::new();
    let mut change_ids = Vec::new();
    let mut notifications = Vec::new();
    let mut track_jobs = Vec::new();
    for record in &event.records {
        let id = record.message_id.clone().unwrap_or_default();
        match record.body.as_deref().map(NotifyMessage::from_body) {
            Some(Ok(NotifyMessage::Change(c))) => {
                changes.push(c);
                change_ids.push(id);
            }
            Some(Ok(NotifyMessage::Notification(n))) => notifications.push((id, n)),
            Some(Ok(NotifyMessage::Track(job))) => match tracks.get() {
                Some(_) => track_jobs.push((id, job)),
                None => {
                    tracing::error!(message_id = %id, "track job, but this function cannot read pages");
                    failed.push(id);
                }
            },
            Some(Err(e)) => {
                tracing::warn!(message_id = %id, error = %e, "malformed notify record");
                failed.push(id);
            }
            None => failed.push(id),
        }
    }
    // One change at a time, in the batch's order: a change whose planning
    // fails is retried alone, and the others are not planned again.
    for (change, id) in changes.iter().zip(change_ids) {
        let planned = crate::alerts::outbox::queue_planned(
            notifier,
            outbox,
            std::slice::from_ref(change),
            now,
        )
        .await;
        if let Err(e) = planned {
            tracing::error!(message_id = %id, error = %e, "alerts not planned; this change will be retried");
            failed.push(id);
        }
    }
    // The sender (and with it the bot's token from SSM) only for a batch
    // that sends: a batch of PriceChanged events plans and queues, and
    // never needs it.
    let sender = if notifications.is_empty() && track_jobs.is_empty() {
        None
    } else {
        match sender.get().await {
            Ok(sender) => Some(sender),
            Err(e) => {
                tracing::error!(error = %e, "no Bot API client; the batch's sends will be retried");
                failed.extend(notifications.drain(..).map(|(id, _)| id));
                failed.extend(track_jobs.drain(..).map(|(id, _)| id));
                None
            }
        }
    };
    for (id, n) in notifications {
        // Not empty: the sender is there.
        let Some(sender) = sender else { break };
        let outcome = match sender.deliver(&n, now).await {
            Ok(Delivery::RetryAfter(wait) | Delivery::InFlight(wait)) => outbox
                .put(std::slice::from_ref(&n), wait)
                .await
                .map_err(|e| e.to_string()),
            Ok(Delivery::Failed(wait)) => match crate::alerts::outbox::next_attempt(&n, now) {
                Some(again) => outbox
                    .put(std::slice::from_ref(&again), wait)
                    .await
                    .map_err(|e| e.to_string()),
                // Failing the record hands it to SQS: retried up to the
                // queue's maxReceiveCount, then in the dead-letter queue.
                None => Err(format!(
                    "given up after {} attempts; to the dead-letter queue",
                    n.attempts + 1
                )),
            },
            Ok(d) => {
                tracing::info!(message_id = %id, outcome = ?d, "notification handled");
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = outcome {
            tracing::warn!(message_id = %id, error = %e, "notification will be retried");
            failed.push(id);
        }
    }
    // Only a batch with track jobs builds the bot (LazyTracks).
    let bot = if track_jobs.is_empty() {
        None
    } else {
        tracks.get()
    };
    if let (Some(bot), Some(sender)) = (bot, sender) {
        join_all(track_jobs.iter().map(|(id, job)| async move {
            for method in bot.run_track_job(job).await {
                // Within the function's timeout: a chat Telegram throttles
                // longer than this loses this one answer.
                if let Err(e) = sender
                    .api
                    .send(&method, std::time::Duration::from_secs(10))
                    .await
                {
                    tracing::warn!(message_id = %id, error = %e, "track answer not sent");
                }
            }
            tracing::info!(message_id = %id, "track job done");
        }))
        .await;
    }
    let mut response = SqsBatchResponse::default();
    for id in failed {
        let mut f = BatchItemFailure::default();
        f.item_identifier = id;
        response.batch_item_failures.push(f);
    }
    response
}

/// The bot that runs track jobs in the notify function: reads pasted
/// pages with the guarded fetcher for user links, under the caps and
/// deadline of the bot's settings. None when no group takes tracked pages
/// (then track jobs are never queued).
pub fn track_bot(
    settings: &Settings,
    store: Arc<dyn crate::store::Store>,
    users: Arc<dyn crate::store::UserStore>,
    sources: Arc<crate::sources::SourcesConfig>,
) -> Option<crate::telegram::bot::Bot> {
    crate::sources::tracked::tracked_group(&sources)?;
    let bot = crate::telegram::bot::Bot::new(store, users, sources, settings.bot.clone());
    Some(crate::telegram::bot::tracking::with_page_tracking(
        bot,
        crate::sources::Fetcher::for_user_links(),
    ))
}

/// The Bot API client for the notify function: the token from the SSM
/// parameter named by `PRICEHOUND_BOT_TOKEN_PARAMETER` (required: the notify
/// function has nothing to do without a bot).
pub async fn bot_api_from_ssm(
    settings: &Settings,
    config: &aws_config::SdkConfig,
) -> anyhow::Result<crate::telegram::api::BotApi> {
    let ssm = aws_sdk_ssm::Client::new(config);
    let token = ssm_bot_token(&ssm, settings.aws.bot_token_parameter()?).await?;
    Ok(crate::telegram::api::BotApi::connect(
        &settings.telegram_api,
        token,
    )?)
}

/// The bot token in the SSM parameter `name`; errors name the parameter,
/// never the value.
async fn ssm_bot_token(
    ssm: &aws_sdk_ssm::Client,
    name: &str,
) -> anyhow::Result<crate::telegram::api::BotToken> {
    let token = ssm_secret(ssm, name).await?;
    crate::telegram::api::BotToken::new(token.trim()).map_err(|_| {
        anyhow::anyhow!("SSM parameter {name} does not hold a bot token (123456:ABC-...)")
    })
}

/// The api function's Router. The REST routes answer from the first
/// request on; the bot's parts (the Telegram webhook, the Mini App's
/// `/api/me`, and the OpenAPI document that lists them) are built by
/// `with_bot` on the first request that needs one of them, which is when
/// the bot's token and secret are read from SSM. So a cold start that
/// serves a price never waits on SSM (tens of milliseconds in AWS;
/// BENCHMARKS.md, "Cold starts"), and an SSM outage fails only the bot's
/// requests, with a 503 that Telegram retries. Once built, the full Router
/// serves every request.
pub fn api_router<F, Fut>(rest: axum::Router, with_bot: F) -> axum::Router
where
    F: Fn() -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<axum::Router>> + Send + 'static,
{
    use axum::response::IntoResponse;
    use tower::ServiceExt;
    let full: Arc<tokio::sync::OnceCell<axum::Router>> = Arc::default();
    axum::Router::new().fallback(move |request: axum::extract::Request| {
        let (rest, full, with_bot) = (rest.clone(), full.clone(), with_bot.clone());
        async move {
            let router = match full.get() {
                Some(router) => router.clone(),
                None if needs_bot(request.uri().path()) => {
                    match full.get_or_try_init(with_bot).await {
                        Ok(router) => router.clone(),
                        Err(e) => {
                            // The detail (never a secret: SSM errors name
                            // the parameter, not its value) goes to the log.
                            tracing::error!(error = %e, "the bot could not be started");
                            return crate::http::ApiError::for_status(
                                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                                "the bot is unavailable; try again shortly",
                            )
                            .into_response();
                        }
                    }
                }
                None => rest,
            };
            match router.oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            }
        }
    })
}

/// The paths only the Router with the bot serves (or documents).
fn needs_bot(path: &str) -> bool {
    path.starts_with(crate::telegram::webhook::PATH)
        || path == "/api/me"
        || path.starts_with("/api/me/")
        || path == "/api/openapi.json"
        || path.starts_with("/api/docs")
}

#[cfg(test)]
mod api_router_tests {
    use super::needs_bot;

    #[test]
    fn only_the_bots_paths_wait_for_it() {
        for path in [
            "/telegram/webhook",
            "/api/me",
            "/api/me/watches",
            "/api/openapi.json",
            "/api/docs",
        ] {
            assert!(needs_bot(path), "{path}");
        }
        for path in [
            "/",
            "/api/health",
            "/api/prices",
            "/api/mere",
            "/api/items/a:b",
            "/app",
        ] {
            assert!(!needs_bot(path), "{path}");
        }
    }
}
