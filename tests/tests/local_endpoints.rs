//! `PRICEHOUND_LOCAL_ENDPOINTS`: what `sam local invoke` uses to point a
//! function's SDK clients at dynalite and moto. Each named service goes to
//! its own server; malformed entries are ignored, never a panic.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;
use pricehound::lambda::with_local_endpoints;
use pricehound_tests::services::{DYNAMODB_ENDPOINT_VAR, MOTO_ENDPOINT_VAR, REGION, endpoint};
use proptest::prelude::*;

/// As in a Lambda: region and credentials, no endpoint of any kind.
async fn lambda_like_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(pricehound::lambda::sdk_http_client())
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

#[tokio::test]
async fn each_service_goes_to_its_own_local_server() {
    let base = lambda_like_config().await;
    let spec = format!(
        "DYNAMODB={}, SQS={},EVENTBRIDGE={},bogus,=http://x,lower=http://127.0.0.1:9,SSM=ftp://nope",
        endpoint(DYNAMODB_ENDPOINT_VAR),
        endpoint(MOTO_ENDPOINT_VAR),
        endpoint(MOTO_ENDPOINT_VAR)
    );
    let config = with_local_endpoints(&base, &spec);
    aws_sdk_dynamodb::Client::new(&config)
        .list_tables()
        .send()
        .await
        .expect("DynamoDB answered by dynalite");
    aws_sdk_sqs::Client::new(&config)
        .list_queues()
        .send()
        .await
        .expect("SQS answered by moto");
    aws_sdk_eventbridge::Client::new(&config)
        .list_event_buses()
        .send()
        .await
        .expect("EventBridge answered by moto");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn any_spec_is_read_without_a_panic(spec in ".{0,200}") {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let base = lambda_like_config().await;
            let _ = with_local_endpoints(&base, &spec);
        });
    }
}
