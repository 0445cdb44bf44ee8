//! pricehound's ports on AWS: [`dynamo::DynamoStore`] (the store, one
//! DynamoDB table), [`sqs::SqsQueue`] (scrape → ingest) and
//! [`eventbridge::EventBridgeBus`] (domain events). Each takes an SDK client
//! built once by the caller (a Lambda's `main`, through the builders in
//! [`clients`]), so the same code runs
//! against AWS, dynalite or moto. [`batch`] is the partial-batch send with
//! retries that SQS and EventBridge (and the notifications outbox) share.

pub mod batch;
pub mod clients;
pub mod dynamo;
pub mod eventbridge;
pub mod lambda;
pub mod names;
pub mod sdk;
pub mod sqs;
pub mod stream;
