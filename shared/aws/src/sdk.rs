//! The AWS SDK's configuration, built once in each function's `main` and
//! shared by every client (DynamoDB, SQS, EventBridge, SSM).

use aws_types::service_config::{LoadServiceConfig, ServiceConfigKey};
use std::sync::Arc;

/// The AWS SDK configuration from the environment (region, credentials,
/// `AWS_ENDPOINT_URL*` overrides for local servers), over the HTTPS client
/// of [`sdk_http_client`], with [`LOCAL_ENDPOINTS`] on top.
pub async fn sdk_config() -> aws_config::SdkConfig {
    let mut loader =
        aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(sdk_http_client());
    // Where the environment already answers (always, in Lambda), the answer
    // is given to the loader instead of building the provider chains that
    // would find it there first: the region and credential chains build a
    // profile reader, an IMDS client and providers for web identity, ECS and
    // SSO, most of the SDK's 0.3 ms at every cold start (bench api_init).
    // The chains try the environment first, so the result is the same.
    if let Some(region) = env_nonempty("AWS_REGION").or_else(|| env_nonempty("AWS_DEFAULT_REGION"))
    {
        loader = loader.region(aws_config::Region::new(region));
    }
    if env_nonempty("AWS_ACCESS_KEY_ID").is_some()
        && env_nonempty("AWS_SECRET_ACCESS_KEY").is_some()
    {
        loader = loader.credentials_provider(
            aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
        );
    }
    let config = loader.load().await;
    match std::env::var(LOCAL_ENDPOINTS) {
        Ok(spec) if !spec.trim().is_empty() => with_local_endpoints(&config, &spec),
        _ => config,
    }
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
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
///
/// It trusts only [`AMAZON_TRUST_SERVICES`], not the machine's store: the
/// SDK talks to AWS service endpoints alone, whose certificates all chain
/// to Amazon Trust Services, and reading the native store was the largest
/// part of every cold start (rustls-native-certs parses the CA bundle and
/// every file of the certificate directory: 440 files on Debian; see
/// BENCHMARKS.md, "Cold starts"). Local servers (dynalite, moto) speak
/// plain HTTP and need no roots.
pub fn sdk_http_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    use aws_smithy_http_client::tls;
    let trust = tls::TrustStore::empty().with_pem_certificate(AMAZON_TRUST_SERVICES);
    let context = tls::TlsContext::builder()
        .with_trust_store(trust)
        .build()
        // Only fails for a TLS provider that is not compiled in; ring is.
        .expect("a TLS context for rustls");
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .tls_context(context)
        .build_https()
}

/// The roots of Amazon Trust Services, which issues the certificates of
/// every AWS service endpoint: Amazon Root CA 1-4 and the Starfield Services
/// Root G2 that cross-signs them (from Mozilla's CA list; they expire in
/// 2037-2040). sha256 of Amazon Root CA 1, to compare with
/// <https://www.amazontrust.com/repository/>:
/// 8ECDE6884F3D87B1125BA31AC3FCB13D7016DE7F57CC904FE1CB97C6AE98196E.
pub const AMAZON_TRUST_SERVICES: &[u8] = include_bytes!("amazon-trust-services.pem");

#[cfg(test)]
mod trust_tests {
    use super::*;

    #[test]
    fn the_amazon_roots_parse_as_five_certificates() {
        use rustls_pki_types::CertificateDer;
        use rustls_pki_types::pem::PemObject;
        let certs: Vec<_> = CertificateDer::pem_slice_iter(AMAZON_TRUST_SERVICES)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(certs.len(), 5);
        // The client builds with them (it would panic on a bad PEM).
        let _ = sdk_http_client();
    }
}
