//! The Lambda handlers. The binaries in `functions/` build their clients
//! once and call these; tests feed them the samples in `events/`.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use futures::future::join_all;
use serde_json::Value;

use crate::ingest::{IngestError, Ingested, Ingestor};
use crate::scrape::{GroupReport, Scraper};

/// Reads a required environment variable, with an error that says which.
pub fn env(name: &str) -> anyhow::Result<String> {
    std::env::var(name).map_err(|_| {
        anyhow::anyhow!("environment variable {name} is not set (template.yaml sets it in AWS)")
    })
}

/// The scrape function's input: EventBridge Scheduler delivers exactly the
/// schedule's `Input`, `{"group": "<name>"}`.
pub async fn scrape(scraper: &Scraper, input: Value) -> anyhow::Result<GroupReport> {
    let group = input.get("group").and_then(Value::as_str).ok_or_else(|| {
        anyhow::anyhow!(
            "expected the schedule input {{\"group\": \"<name>\"}}, got {}",
            truncate(&input.to_string(), 200)
        )
    })?;
    let report = scraper.run_group(group).await?;
    Ok(report)
}

/// Ingests an SQS batch. Records that fail come back as batch item
/// failures, so SQS retries only them (and, after maxReceiveCount, moves
/// them to the dead-letter queue); the rest of the batch is not redone.
pub async fn ingest(ingestor: &Ingestor, event: SqsEvent) -> SqsBatchResponse {
    let results = join_all(event.records.iter().map(|record| async move {
        let id = record.message_id.clone().unwrap_or_default();
        let result = match record.body.as_deref() {
            Some(body) => ingestor.ingest_body(body).await,
            None => Err(IngestError::Malformed("record has no body".into())),
        };
        (id, result)
    }))
    .await;
    let mut response = SqsBatchResponse::default();
    for (message_id, result) in results {
        match result {
            Ok(Ingested::Stored { price_changed }) => {
                tracing::info!(%message_id, price_changed, "observation stored");
            }
            Ok(Ingested::Duplicate) => tracing::info!(%message_id, "duplicate delivery ignored"),
            Err(e) => {
                let permanent = matches!(e, IngestError::Malformed(_));
                tracing::warn!(%message_id, error = %e, permanent, "record failed");
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = message_id;
                response.batch_item_failures.push(failure);
            }
        }
    }
    response
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// The AWS SDK configuration from the environment (region, credentials,
/// `AWS_ENDPOINT_URL*` overrides for local servers).
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// The sources: `PRICEHOUND_SOURCES_FILE` if set, else the `sources.toml`
/// compiled into the binary (so a deploy needs no extra file).
pub fn sources_from_env() -> anyhow::Result<crate::sources::SourcesConfig> {
    match std::env::var_os("PRICEHOUND_SOURCES_FILE") {
        Some(path) => Ok(crate::sources::SourcesConfig::load(std::path::Path::new(
            &path,
        ))?),
        None => Ok(crate::sources::SourcesConfig::default_sources()),
    }
}

/// Reads a SecureString parameter. Errors name the parameter, never its value.
pub async fn ssm_secret(ssm: &aws_sdk_ssm::Client, name: &str) -> anyhow::Result<String> {
    let out = ssm
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot read SSM parameter {name}: {} (does it exist, and may this function read it?)",
                aws_sdk_ssm::error::DisplayErrorContext(e)
            )
        })?;
    out.parameter
        .and_then(|p| p.value)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| anyhow::anyhow!("SSM parameter {name} is empty"))
}

/// The Telegram webhook for the api function: the token and secret come
/// from the SSM parameters named by `PRICEHOUND_BOT_TOKEN_PARAMETER` and
/// `PRICEHOUND_WEBHOOK_SECRET_PARAMETER` (template.yaml sets the names;
/// the values live only in SSM). None when the first is unset: no bot.
pub async fn telegram_from_env(
    config: &aws_config::SdkConfig,
    store: std::sync::Arc<dyn crate::store::Store>,
    users: std::sync::Arc<dyn crate::store::UserStore>,
    sources: std::sync::Arc<crate::sources::SourcesConfig>,
) -> anyhow::Result<Option<crate::telegram::webhook::WebhookState>> {
    use crate::telegram::{api, bot, dispatch, webhook};
    use std::sync::Arc;
    let Ok(token_param) = std::env::var("PRICEHOUND_BOT_TOKEN_PARAMETER") else {
        tracing::info!("PRICEHOUND_BOT_TOKEN_PARAMETER not set: the Telegram webhook is off");
        return Ok(None);
    };
    let secret_param = env("PRICEHOUND_WEBHOOK_SECRET_PARAMETER")?;
    let ssm = aws_sdk_ssm::Client::new(config);
    let (token, secret) = tokio::try_join!(
        ssm_secret(&ssm, &token_param),
        ssm_secret(&ssm, &secret_param)
    )?;
    let token = api::BotToken::new(token.trim()).map_err(|_| {
        anyhow::anyhow!("SSM parameter {token_param} does not hold a bot token (123456:ABC-...)")
    })?;
    let secret = webhook::WebhookSecret::new(secret.trim())
        .map_err(|e| anyhow::anyhow!("SSM parameter {secret_param}: {e}"))?;
    let api_base = std::env::var("PRICEHOUND_TELEGRAM_API")
        .unwrap_or_else(|_| api::DEFAULT_BASE_URL.to_string());
    let http = reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(5))
        .timeout(std::time::Duration::from_secs(20))
        .build()?;
    let cfg = bot::BotConfig::from_env().map_err(|e| anyhow::anyhow!(e))?;
    let mut bot = bot::Bot::new(store.clone(), users.clone(), sources.clone(), cfg);
    if let Some(group) = crate::sources::tracked::tracked_group(&sources) {
        bot = bot.with_tracker(Arc::new(crate::sources::tracked::Tracker {
            fetcher: crate::sources::Fetcher::new(),
            store,
            users,
            group,
        }));
    }
    let api = api::BotApi::new(http, &api_base, token);
    Ok(Some(webhook::WebhookState {
        dispatcher: Arc::new(dispatch::Dispatcher::new(Arc::new(bot), api)),
        secret,
    }))
}
