//! SDK clients for the local stand-ins of AWS that the tests run against:
//! dynalite for DynamoDB, moto for SQS and EventBridge.
//!
//! `scripts/services start` starts them and prints the environment that
//! points here. A test that cannot reach them fails loudly instead of
//! skipping: a skipped integration test looks exactly like a passing one.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;

/// Where dynalite (or any DynamoDB-compatible server) listens.
pub const DYNAMODB_ENDPOINT_VAR: &str = "PRICEHOUND_TEST_DYNAMODB_ENDPOINT";
/// Where moto's server listens (SQS, EventBridge).
pub const MOTO_ENDPOINT_VAR: &str = "PRICEHOUND_TEST_MOTO_ENDPOINT";
/// The region every test client uses; moto keeps separate state per region.
pub const REGION: &str = "us-east-1";

/// The endpoint in `var`, or a panic that says how to start the services.
pub fn endpoint(var: &str) -> String {
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => v.trim().to_string(),
        _ => panic!(
            "{var} is not set: run the tests with ./scripts/test, or `eval \"$(scripts/services start)\"` first"
        ),
    }
}

/// Shared SDK configuration for `endpoint`: fixed region and fake static
/// credentials, so nothing from the developer's ~/.aws leaks into a test.
pub async fn sdk_config(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        // The SDK is built without its default (aws-lc-rs) client: ring, as in the functions.
        .http_client(pricehound::lambda::sdk_http_client())
        .endpoint_url(endpoint)
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new(
            "test",
            "test",
            None,
            None,
            "pricehound-tests",
        ))
        .load()
        .await
}

pub async fn dynamodb_client() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&sdk_config(&endpoint(DYNAMODB_ENDPOINT_VAR)).await)
}

pub async fn sqs_client() -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::new(&sdk_config(&endpoint(MOTO_ENDPOINT_VAR)).await)
}

pub async fn eventbridge_client() -> aws_sdk_eventbridge::Client {
    aws_sdk_eventbridge::Client::new(&sdk_config(&endpoint(MOTO_ENDPOINT_VAR)).await)
}

/// A name no other test (in this process or another, now or in an earlier
/// run against the same long-lived server) uses: `<prefix>-<pid>-<time>-<n>`.
/// Valid as a DynamoDB table, SQS queue and EventBridge bus name as long as
/// `prefix` is short ASCII letters, digits and '-'.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let micros = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() % 10_000_000_000)
        .unwrap_or_default();
    format!("{prefix}-{}-{micros}-{n}", std::process::id())
}

/// Creates an SQS queue with a unique name and returns its URL.
pub async fn create_queue(client: &aws_sdk_sqs::Client, prefix: &str) -> String {
    let out = client
        .create_queue()
        .queue_name(unique_name(prefix))
        .send()
        .await
        .expect("CreateQueue on moto");
    out.queue_url()
        .expect("CreateQueue returns a URL")
        .to_string()
}

/// Receives (and deletes) messages until `expected` bodies arrived, then
/// waits one more short poll so that extra deliveries (duplicates) show up
/// too. Panics when fewer than `expected` arrive within 30 s.
pub async fn receive_bodies(
    client: &aws_sdk_sqs::Client,
    queue_url: &str,
    expected: usize,
) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut bodies = Vec::new();
    let mut extra_poll_done = false;
    loop {
        let out = client
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .visibility_timeout(300)
            .send()
            .await
            .expect("ReceiveMessage on moto");
        let messages = out.messages();
        for m in messages {
            bodies.push(m.body().unwrap_or_default().to_string());
            client
                .delete_message()
                .queue_url(queue_url)
                .receipt_handle(m.receipt_handle().unwrap_or_default())
                .send()
                .await
                .expect("DeleteMessage on moto");
        }
        if bodies.len() >= expected {
            if extra_poll_done && messages.is_empty() {
                return bodies;
            }
            extra_poll_done = true;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of {expected} messages arrived on {queue_url} within 30 s",
            bodies.len()
        );
    }
}
