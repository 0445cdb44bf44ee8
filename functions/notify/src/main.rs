//! The notify Lambda: SQS batches from the notifications queue (PriceChanged
//! events routed by the EventBridge rule, and notifications put back after
//! a 429) in; alerts planned, notifications sent within Telegram's limits.
//! Failed records are reported one by one (ReportBatchItemFailures).

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use pricehound::alerts::notifier::Notifier;
use pricehound::alerts::outbox::SqsOutbox;
use pricehound::alerts::policy_from_env;
use pricehound::alerts::sender::Sender;
use pricehound::lambda::{self, bot_api_from_ssm, env, sdk_config};
use pricehound::store::UserStore;
use pricehound::store::dynamo::DynamoStore;
use pricehound::telemetry::{self, LogFormat};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init(LogFormat::Json);
    let config = sdk_config().await;
    let users: Arc<dyn UserStore> = Arc::new(DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&config),
        env("PRICEHOUND_TABLE")?,
    ));
    let policy = policy_from_env()?;
    let notifier = Notifier::new(users.clone(), policy);
    let sender = Sender::new(bot_api_from_ssm(&config).await?, users);
    let outbox = SqsOutbox {
        client: aws_sdk_sqs::Client::new(&config),
        queue_url: env("PRICEHOUND_NOTIFY_QUEUE_URL")?,
    };
    let (notifier, sender, outbox) = (&notifier, &sender, &outbox);
    run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<SqsBatchResponse, Error>(lambda::notify(notifier, sender, outbox, event.payload).await)
    }))
    .await
}
