//! The ingest Lambda: an SQS batch of observations in, idempotent DynamoDB
//! writes out (the table's stream then carries each price change to the
//! events function); failed records are reported one by
//! one (ReportBatchItemFailures) so only they are retried. It links the core
//! and the AWS adapters only: no bot, scraper, router or SQLite.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use pricehound_aws::names::AwsNames;
use pricehound_aws::{lambda, sdk::sdk_config};
use pricehound_core::ingest::Ingestor;
use pricehound_core::retention::Retention;
use pricehound_telemetry::{self as telemetry, LogFormat};
use std::sync::Arc;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    telemetry::init(LogFormat::Json);
    telemetry::metrics::emf("ingest");
    let names = AwsNames::from_env();
    let config = sdk_config().await;
    // Ingest publishes nothing: the table's stream carries each change of
    // a latest price to the events function.
    let retention = Retention::from_vars(&|name| std::env::var(name).ok())
        .map_err(|(var, problem)| format!("{var}: {problem}"))?;
    let ingestor = Ingestor::new(Arc::new(
        names.dynamo_store(&config)?.with_retention(retention),
    ));
    let ingestor = &ingestor;
    run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        let response = lambda::ingest(ingestor, event.payload).await;
        telemetry::metrics::flush_emf();
        Ok::<SqsBatchResponse, Error>(response)
    }))
    .await
}
