//! The AWS SDK's configuration, built once in each function's `main` and
//! shared by every client (DynamoDB, SQS, EventBridge, SSM).

use aws_types::service_config::{LoadServiceConfig, ServiceConfigKey};
use std::sync::Arc;

/// The AWS SDK configuration from the environment (region, credentials,
/// `AWS_ENDPOINT_URL*` overrides for local servers), over the HTTPS client
/// of [`sdk_http_client`], with [`LOCAL_ENDPOINTS`] on top.
pub async fn sdk_config() -> aws_config::SdkConfig {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(sdk_http_client())
        .load()
        .await;
    match std::env::var(LOCAL_ENDPOINTS) {
        Ok(spec) if !spec.trim().is_empty() => with_local_endpoints(&config, &spec),
        _ => config,
    }
}

/// Service endpoints for a function run locally (`sam local invoke`):
/// `DYNAMODB=http://127.0.0.1:4567,SQS=http://127.0.0.1:5000,…`, each name
/// the suffix of the SDK's own `AWS_ENDPOINT_URL_<SERVICE>`. The template
/// declares it empty, because `sam local` passes a function only the
/// variables its template declares, and an empty `AWS_ENDPOINT_URL_*`
/// would be an endpoint of "" in AWS.
pub const LOCAL_ENDPOINTS: &str = "PRICEHOUND_LOCAL_ENDPOINTS";

/// `config` with the endpoints of `spec` answering before its own service
/// configuration. Entries that are not `NAME=http(s)://…` are ignored (and
/// logged): a typo must not point a client somewhere odd.
pub fn with_local_endpoints(config: &aws_config::SdkConfig, spec: &str) -> aws_config::SdkConfig {
    let mut endpoints = Vec::new();
    for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        match entry.split_once('=') {
            Some((name, url))
                if !name.is_empty()
                    && name.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
                    && (url.starts_with("http://") || url.starts_with("https://")) =>
            {
                endpoints.push((name.to_string(), url.to_string()));
            }
            _ => tracing::warn!(
                entry,
                "{LOCAL_ENDPOINTS}: not NAME=http(s)://host:port; ignored"
            ),
        }
    }
    let local = LocalEndpoints {
        endpoints,
        inner: config.service_config().map(|_| Arc::new(config.clone())),
    };
    config.to_builder().service_config(local).build()
}

#[derive(Debug)]
struct LocalEndpoints {
    /// (service name as in `AWS_ENDPOINT_URL_<NAME>`, URL).
    endpoints: Vec<(String, String)>,
    /// The configuration whose own service config answers the rest.
    inner: Option<Arc<aws_config::SdkConfig>>,
}

impl LoadServiceConfig for LocalEndpoints {
    fn load_config(&self, key: ServiceConfigKey<'_>) -> Option<String> {
        // The clients ask for `AWS_ENDPOINT_URL` with their service id
        // ("DynamoDB", "EventBridge"); the SDK's per-service variable name
        // is that id upper-cased, spaces as underscores.
        if key.env() == "AWS_ENDPOINT_URL" {
            let service: String = key
                .service_id()
                .chars()
                .map(|c| {
                    if c == ' ' {
                        '_'
                    } else {
                        c.to_ascii_uppercase()
                    }
                })
                .collect();
            if let Some((_, url)) = self.endpoints.iter().find(|(name, _)| *name == service) {
                return Some(url.clone());
            }
        }
        self.inner.as_ref()?.service_config()?.load_config(key)
    }
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
