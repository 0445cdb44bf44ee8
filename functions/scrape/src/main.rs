//! The scrape Lambda: EventBridge Scheduler sends `{"group": "<name>"}`; the
//! group's sources are scraped and what they find is queued on SQS. It links
//! the core, the sources and the AWS adapters only: no bot, router or SQLite.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use pricehound_aws::names::AwsNames;
use pricehound_aws::sdk::sdk_config;
use pricehound_sources::scrape::{Scraper, TrackedPages, run_scheduled};
use pricehound_sources::tracked::tracked_group;
use pricehound_sources::{Fetcher, SourcesConfig};
use pricehound_telemetry::{self as telemetry, LogFormat};
use serde_json::Value;
use std::sync::Arc;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    telemetry::init(LogFormat::Json);
    telemetry::metrics::emf("scrape");
    let names = AwsNames::from_env();
    let sources_file = SourcesConfig::file_from_vars(&|name| std::env::var(name).ok());
    let sources = Arc::new(SourcesConfig::load_or_default(sources_file.as_deref())?);
    let config = sdk_config().await;
    let store = Arc::new(names.dynamo_store(&config)?);
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
        queue: Arc::new(names.observation_queue(&config)?),
        tracked,
    };
    let scraper = &scraper;
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        let result = run_scheduled(scraper, &event.payload).await;
        telemetry::metrics::flush_emf();
        result.map_err(Error::from)
    }))
    .await
}
