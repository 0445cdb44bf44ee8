//! The notify Lambda: SQS batches from two queues in, each through its own
//! event source: the notifications queue (PriceChanged events routed by the
//! EventBridge rule, and notifications put back after a 429) and the track
//! jobs queue (pages users pasted into the bot, kept apart so a slow page
//! never delays alerts). Alerts planned, notifications sent within
//! Telegram's limits, pasted pages read and answered.
//! Failed records are reported one by one (ReportBatchItemFailures).

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use pricehound::alerts::notifier::Notifier;
use pricehound::alerts::outbox::SqsOutbox;
use pricehound::alerts::sender::Sender;
use pricehound::lambda::{
    self, LazySender, LazyTracks, bot_api_from_ssm, prime_store, sdk_config, track_bot,
};
use pricehound::settings::Settings;
use pricehound::store::UserStore;
use pricehound::telemetry::{self, LogFormat};
use std::sync::Arc;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    telemetry::init(LogFormat::Json);
    telemetry::metrics::emf("notify");
    let settings = Arc::new(Settings::from_env()?);
    let config = sdk_config().await;
    let dynamo = Arc::new(
        settings
            .aws
            .dynamo_store(&config)?
            .with_retention(settings.retention),
    );
    prime_store(dynamo.clone());
    let users: Arc<dyn UserStore> = dynamo.clone();
    // Pasted pages the bot queued: read here, off the webhook's path, by a
    // bot built when a batch first holds a track job (a sources file is
    // still read, and checked, now; the compiled-in default then).
    let sources = settings.shared_sources()?;
    let tracks = {
        let (settings, dynamo) = (settings.clone(), dynamo.clone());
        LazyTracks::new(move || {
            track_bot(&settings, dynamo.clone(), dynamo.clone(), sources.shared())
        })
    };
    let notifier = Notifier::new(users.clone(), settings.alerts);
    let outbox = SqsOutbox::from_names(&settings.aws, &config)?;
    // Checked now, read when a batch first sends: the token parameter must
    // be named, but SSM is asked only by an invocation that needs the bot.
    settings.aws.bot_token_parameter()?;
    let daily_cap = settings.alerts.daily_cap;
    let sender = LazySender::new(move || {
        let (settings, config, users) = (settings.clone(), config.clone(), users.clone());
        async move {
            Ok(
                Sender::new(bot_api_from_ssm(&settings, &config).await?, users)
                    .with_daily_cap(daily_cap),
            )
        }
    });
    let (notifier, sender, outbox, tracks) = (&notifier, &sender, &outbox, &tracks);
    run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        let response = lambda::notify_with(notifier, sender, outbox, tracks, event.payload).await;
        telemetry::metrics::flush_emf();
        Ok::<SqsBatchResponse, Error>(response)
    }))
    .await
}
