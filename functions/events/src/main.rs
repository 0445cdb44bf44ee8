//! The events Lambda: batches of the DynamoDB stream in (only LATEST
//! records, by the event source mapping's filter), a `PriceChanged` on
//! EventBridge for each change of a price or availability out. A failed
//! publish reports the first record not published (ReportBatchItemFailures),
//! so the stream retries from there; after the mapping's retries the batch
//! goes to the events DLQ. It links the core and the AWS adapters only.

use aws_lambda_events::event::dynamodb::Event as DynamoDbEvent;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use pricehound_aws::names::AwsNames;
use pricehound_aws::sdk::sdk_config;
use pricehound_aws::stream::publish_changes;
use pricehound_telemetry::{self as telemetry, LogFormat};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    telemetry::init(LogFormat::Json);
    telemetry::metrics::emf("events");
    let names = AwsNames::from_env();
    let config = sdk_config().await;
    let bus = names.event_bus_client(&config)?;
    let bus = &bus;
    run(service_fn(
        move |event: LambdaEvent<DynamoDbEvent>| async move {
            let response = publish_changes(bus, event.payload).await;
            telemetry::metrics::flush_emf();
            Ok::<DynamoDbEventResponse, Error>(response)
        },
    ))
    .await
}
