//! The scrape Lambda: EventBridge Scheduler sends `{"group": "<name>"}`; the
//! group's sources are scraped and what they find is queued on SQS.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use pricehound::lambda::{self, sdk_config};
use pricehound::queue::sqs::SqsQueue;
use pricehound::scrape::{Scraper, TrackedPages};
use pricehound::settings::Settings;
use pricehound::sources::Fetcher;
use pricehound::sources::tracked::tracked_group;
use pricehound::store::dynamo::DynamoStore;
use pricehound::telemetry::{self, LogFormat};
use serde_json::Value;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init(LogFormat::Json);
    let settings = Settings::from_env()?;
    let config = sdk_config().await;
    let sources = Arc::new(settings.sources()?);
    let store = Arc::new(DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&config),
        settings.aws.table()?,
    ));
    // Pages users pasted into the bot are scraped with the product pages.
    let tracked = tracked_group(&sources).map(|group| TrackedPages {
        users: store.clone(),
        group,
    });
    let scraper = Scraper {
        sources,
        fetcher: Fetcher::new(),
        user_fetcher: Fetcher::for_user_links(),
        store,
        queue: Arc::new(SqsQueue::new(
            aws_sdk_sqs::Client::new(&config),
            settings.aws.queue_url()?,
        )),
        tracked,
    };
    let scraper = &scraper;
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        lambda::scrape(scraper, event.payload)
            .await
            .map_err(Error::from)
    }))
    .await
}
