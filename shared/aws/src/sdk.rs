//! The AWS SDK's configuration, built once in each function's `main` and
//! shared by every client (DynamoDB, SQS, EventBridge, SSM).

/// The AWS SDK configuration from the environment (region, credentials,
/// `AWS_ENDPOINT_URL*` overrides for local servers), over the HTTPS client
/// of [`sdk_http_client`].
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(sdk_http_client())
        .load()
        .await
}

/// The AWS SDK's HTTP client: hyper + rustls with ring as the crypto
/// provider, the one TLS provider of the workspace (Cargo.toml says why).
/// The SDK crates are built without `default-https-client`, so every SDK
/// configuration needs this client (the tests' too): without it the first
/// request fails with "no HTTP client".
pub fn sdk_http_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    use aws_smithy_http_client::tls;
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}
