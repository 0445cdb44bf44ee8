//! The ingest Lambda: an SQS batch of observations in, idempotent DynamoDB
//! writes and PriceChanged events out; failed records are reported one by
//! one (ReportBatchItemFailures) so only they are retried.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use pricehound::bus::eventbridge::EventBridgeBus;
use pricehound::ingest::Ingestor;
use pricehound::lambda::{self, sdk_config};
use pricehound::settings::Settings;
use pricehound::store::dynamo::DynamoStore;
use pricehound::telemetry::{self, LogFormat};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init(LogFormat::Json);
    let settings = Settings::from_env()?;
    let config = sdk_config().await;
    let ingestor = Ingestor::new(
        Arc::new(DynamoStore::new(
            aws_sdk_dynamodb::Client::new(&config),
            settings.aws.table()?,
        )),
        Arc::new(EventBridgeBus::new(
            aws_sdk_eventbridge::Client::new(&config),
            settings.aws.event_bus()?,
        )),
    );
    let ingestor = &ingestor;
    run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<SqsBatchResponse, Error>(lambda::ingest(ingestor, event.payload).await)
    }))
    .await
}
