//! The api Lambda's bot, wired as `functions/api` wires it: the token and
//! webhook secret read from SSM (moto), the bot's state in DynamoDB
//! (dynalite), replies to the Bot API stand-in. One test in its own binary:
//! it sets process environment variables.

use axum::http::StatusCode;
use pricehound::domain::user::UserId;
use pricehound::http::{AppState, router};
use pricehound::lambda::{ssm_secret, telegram_webhook};
use pricehound::settings::Settings;
use pricehound::sources::SourcesConfig;
use pricehound::store::UserProfiles;
use pricehound::store::dynamo::DynamoStore;
use pricehound_tests::bot::{TOKEN, message};
use pricehound_tests::services::{
    DYNAMODB_ENDPOINT_VAR, MOTO_ENDPOINT_VAR, dynamodb_client, endpoint, sdk_config, unique_name,
};
use pricehound_tests::telegram_standin::TelegramStandin;
use std::sync::Arc;
use tower::ServiceExt;

const SECRET: &str = "lambda-webhook-secret_42-abcdefghijklmnop";

#[tokio::test]
async fn the_api_function_reads_its_secrets_from_ssm_and_answers_the_webhook() {
    let ssm_config = sdk_config(&endpoint(MOTO_ENDPOINT_VAR)).await;
    let ssm = aws_sdk_ssm::Client::new(&ssm_config);
    let prefix = format!("/{}", unique_name("ph"));
    let token_param = format!("{prefix}/bot-token");
    let secret_param = format!("{prefix}/webhook-secret");
    for (name, value) in [(&token_param, TOKEN), (&secret_param, SECRET)] {
        ssm.put_parameter()
            .name(name)
            .value(value)
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .send()
            .await
            .unwrap();
    }

    // A missing parameter: the error names it and says what to check.
    let missing = ssm_secret(&ssm, &format!("{prefix}/nope"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        missing.contains(&format!("{prefix}/nope")) && missing.contains("exist"),
        "{missing}"
    );
    assert_eq!(ssm_secret(&ssm, &token_param).await.unwrap(), TOKEN);

    let dynamo = dynamodb_client().await;
    let table = unique_name("bot");
    DynamoStore::create_table(&dynamo, &table).await.unwrap();
    let store = Arc::new(DynamoStore::new(dynamo, table));
    let standin = TelegramStandin::start(TOKEN).await;
    let sources = Arc::new(SourcesConfig::default_sources());

    // The variables template.yaml gives the api function, read the way its
    // main reads them.
    let vars = [
        ("PRICEHOUND_BOT_TOKEN_PARAMETER", token_param.clone()),
        ("PRICEHOUND_WEBHOOK_SECRET_PARAMETER", secret_param.clone()),
        ("PRICEHOUND_TELEGRAM_API", standin.base_url()),
    ];
    let settings = Settings::from_vars(&|name| {
        vars.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_string())
    })
    .unwrap();
    let telegram = telegram_webhook(
        &settings,
        &ssm_config,
        store.clone(),
        store.clone(),
        sources.clone(),
    )
    .await
    .unwrap()
    .expect("the bot is on when the parameters are named");
    let app = router(AppState {
        store: store.clone(),
        sources: sources.into(),
        telegram: Some(telegram),
    });

    let post = |secret: &'static str, body: String| {
        axum::http::Request::post("/telegram/webhook")
            .header("x-telegram-bot-api-secret-token", secret)
            .header("content-type", "application/json")
            .body(axum::body::Body::from(body))
            .unwrap()
    };
    let mut update = message(31337, "ru", "/start");
    update["update_id"] = 1.into();
    let resp = app
        .clone()
        .oneshot(post(SECRET, update.to_string()))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    let reply: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(reply["method"], "sendMessage");
    assert!(
        store.user(UserId(31337)).await.unwrap().is_some(),
        "the user is in DynamoDB"
    );
    // The same update again (a Telegram retry): answered once.
    let resp = app
        .clone()
        .oneshot(post(SECRET, update.to_string()))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap()
            .is_empty()
    );
    let resp = app
        .oneshot(post("not-the-secret", update.to_string()))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let _ = endpoint(DYNAMODB_ENDPOINT_VAR);
}
