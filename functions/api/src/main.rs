//! The api Lambda: the Function URL's requests go through lambda_http to
//! the same axum Router that `pricehound serve` binds locally, Telegram
//! webhook included. The bot's parts are built on the first request that
//! needs them (pricehound::lambda::api_router says why).

use lambda_http::{Error, run};
use pricehound::http::{AppState, HttpConfig, ImageProxy, router_with};
use pricehound::lambda::{api_router, prime_store, sdk_config, telegram_webhook};
use pricehound::settings::Settings;
use pricehound::telemetry::{self, LogFormat};
use std::sync::Arc;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    telemetry::init(LogFormat::Json);
    telemetry::metrics::emf("api");
    let settings = Arc::new(Settings::from_env()?);
    let config = sdk_config().await;
    let dynamo = Arc::new(
        settings
            .aws
            .dynamo_store(&config)?
            .with_retention(settings.retention),
    );
    prime_store(dynamo.clone());
    // The compiled-in sources are read when a request first needs them.
    let sources = settings.shared_sources()?;
    // CORS origins and tracked-page visibility from the environment. No
    // per-client rate limit here: the function's reserved concurrency
    // (template.yaml) is what bounds a flood in AWS.
    // The image route's guarded fetcher and cache, built once per instance.
    let http = HttpConfig {
        rate_limit: None,
        images: Some(ImageProxy::new()),
        ..settings.http.clone()
    };
    let rest = router_with(
        AppState {
            store: dynamo.clone(),
            sources: sources.clone(),
            telegram: None,
        },
        http.clone(),
    );
    let router = if settings.aws.bot_token_parameter.is_some() {
        api_router(rest, move || {
            let (settings, config, dynamo, sources, http) = (
                settings.clone(),
                config.clone(),
                dynamo.clone(),
                sources.clone(),
                http.clone(),
            );
            async move {
                let telegram = telegram_webhook(
                    &settings,
                    &config,
                    dynamo.clone(),
                    dynamo.clone(),
                    sources.shared(),
                )
                .await?;
                let state = AppState {
                    store: dynamo,
                    sources,
                    telegram,
                };
                Ok(router_with(state, http))
            }
        })
    } else {
        rest
    };
    // EMF lines after each request (the Function URL's one invocation).
    let app = tower::ServiceBuilder::new()
        .map_response(|response| {
            telemetry::metrics::flush_emf();
            response
        })
        .service(router);
    run(app).await
}
