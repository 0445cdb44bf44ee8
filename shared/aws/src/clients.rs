//! One builder per adapter a function wires: each takes the SDK config
//! built once in `main` and the resource names the template gives, so a
//! Lambda's `main` says only which adapters it needs.

use aws_config::SdkConfig;

use crate::dynamo::DynamoStore;
use crate::eventbridge::EventBridgeBus;
use crate::names::{AwsNames, MissingName};
use crate::sqs::SqsQueue;

impl AwsNames {
    /// The store on the table `PRICEHOUND_TABLE` names.
    pub fn dynamo_store(&self, config: &SdkConfig) -> Result<DynamoStore, MissingName> {
        Ok(DynamoStore::new(
            aws_sdk_dynamodb::Client::new(config),
            self.table()?,
        ))
    }

    /// The observations queue (scrape → ingest) `PRICEHOUND_QUEUE_URL` names.
    pub fn observation_queue(&self, config: &SdkConfig) -> Result<SqsQueue, MissingName> {
        Ok(SqsQueue::new(
            aws_sdk_sqs::Client::new(config),
            self.queue_url()?,
        ))
    }

    /// The bus of domain events `PRICEHOUND_EVENT_BUS` names.
    pub fn event_bus_client(&self, config: &SdkConfig) -> Result<EventBridgeBus, MissingName> {
        Ok(EventBridgeBus::new(
            aws_sdk_eventbridge::Client::new(config),
            self.event_bus()?,
        ))
    }
}
