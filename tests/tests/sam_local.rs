//! The samples in `events/` through `sam local invoke`: the functions that
//! `sam build` built, in the Lambda container SAM runs (the provided.al2023
//! base image scripts/sam-local builds, SAM's own Runtime Interface
//! Emulator), on the host's network, against dynalite and moto.
//!
//! Run by `scripts/sam-local test`, which starts docker, builds, starts the
//! services and then this. The table is seeded by the same pipeline and
//! recorded pages as the in-process events test (tests/tests/events.rs), so
//! the answers are the same ones.

use pricehound::domain::user::UserId;
use pricehound::sources::SourcesConfig;
use pricehound::store::Store;
use pricehound::store::UserProfiles;
use pricehound::store::dynamo::DynamoStore;
use pricehound_tests::bot::TOKEN;
use pricehound_tests::pages::seed;
use pricehound_tests::services::{
    MOTO_ENDPOINT_VAR, dynamodb_client, endpoint, sdk_config, unique_name,
};
use pricehound_tests::telegram_standin::TelegramStandin;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

/// The secret the webhook samples carry (as in tests/tests/events.rs).
const SAMPLE_SECRET: &str = "sample-webhook-secret_0123456789";

/// The template's default for a parameter (the SSM parameter names).
fn template_default(parameter: &str) -> String {
    let text = std::fs::read_to_string(root().join("template.yaml")).unwrap();
    let t: serde_norway::Value = serde_norway::from_str(&text).unwrap();
    t["Parameters"][parameter]["Default"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The bot token and webhook secret where the template says the functions
/// read them, in moto's SSM.
async fn put_bot_secrets() {
    let ssm = aws_sdk_ssm::Client::new(&sdk_config(&endpoint(MOTO_ENDPOINT_VAR)).await);
    for (param, value) in [
        ("BotTokenParameter", TOKEN),
        ("WebhookSecretParameter", SAMPLE_SECRET),
    ] {
        ssm.put_parameter()
            .name(template_default(param))
            .value(value)
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .overwrite(true)
            .send()
            .await
            .unwrap();
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// What `sam local invoke` answered (its last line of stdout), and what
/// the function logged.
struct Invoked {
    response: Value,
    logs: String,
}

/// `scripts/sam-local invoke <function> events/<event>` with `env` added
/// to every function's environment.
fn invoke(function: &str, event: &str, env: &[(&str, &str)]) -> Invoked {
    let built = root().join(".aws-sam/build/template.yaml");
    assert!(
        built.exists(),
        "nothing built for sam local: run scripts/sam-local test (or scripts/sam-local up && scripts/sam-local build)"
    );
    let extra: String = env.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    let out = Command::new(root().join("scripts/sam-local"))
        .args(["invoke", function, &format!("events/{event}")])
        .env("PRICEHOUND_SAM_ENV", extra)
        .current_dir(root())
        .output()
        .expect("scripts/sam-local runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let logs = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "sam local invoke {function} {event} failed:\n{logs}\n{stdout}"
    );
    let last = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    let response = serde_json::from_str(last)
        .unwrap_or_else(|e| panic!("{event}: the answer is not JSON ({e}): {last}\n{logs}"));
    Invoked { response, logs }
}

/// A Function URL answer: status and body (JSON when it is JSON).
fn http(invoked: &Invoked) -> (u64, Value) {
    let r = &invoked.response;
    let status = r["statusCode"]
        .as_u64()
        .unwrap_or_else(|| panic!("no statusCode: {r}"));
    let body = r["body"].as_str().unwrap_or_default();
    let body = serde_json::from_str(body).unwrap_or_else(|_| Value::String(body.to_string()));
    (status, body)
}

// Two workers: `invoke` blocks one while the container calls the
// Telegram stand-in on the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_samples_answer_in_the_lambda_container_as_in_process() {
    let client = dynamodb_client().await;
    let table = unique_name("sam");
    DynamoStore::create_table(&client, &table).await.unwrap();
    let dynamo = Arc::new(DynamoStore::new(client, table.clone()));
    let store: Arc<dyn Store> = dynamo.clone();
    assert_eq!(seed(store.clone()).await, 72, "the recorded channel pages");
    put_bot_secrets().await;
    let standin = TelegramStandin::start(TOKEN).await;
    let telegram = standin.base_url();
    let env = [
        ("PRICEHOUND_TABLE", table.as_str()),
        ("PRICEHOUND_TELEGRAM_API", telegram.as_str()),
    ];
    let api = |event: &str| http(&invoke("ApiFunction", event, &env));

    let (s, v) = api("api-health.json");
    assert_eq!(
        (s, v["status"].as_str(), v["store"].as_str()),
        (200, Some("ok"), Some("dynamodb")),
        "{v}"
    );

    // The function reads the sources.toml built into it.
    let (s, v) = api("api-sources.json");
    assert_eq!(s, 200, "{v}");
    let ids: Vec<&str> = v["sources"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    let config = SourcesConfig::default_sources();
    let want: Vec<&str> = config.sources.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, want);

    let (s, v) = api("api-prices.json");
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["prices"].as_array().unwrap().len(), 2);
    assert!(v["next_cursor"].is_string());

    let (s, v) = api("api-prices-bad-limit.json");
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (400, Some("bad_request")),
        "{v}"
    );

    let (s, v) = api("api-item.json");
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["item"]["price"]["amount"], "13740");

    let (s, v) = api("api-item-history.json");
    assert_eq!(s, 200, "{v}");
    let obs = v["observations"].as_array().unwrap();
    assert_eq!(obs.len(), 5);
    assert_eq!(obs[0]["price"]["amount"], "13740", "newest first");

    let (s, v) = api("api-item-unknown.json");
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (404, Some("unknown_item")),
        "{v}"
    );

    let (s, v) = api("api-web-page.json");
    assert_eq!(s, 200);
    assert!(v.as_str().unwrap().contains("<title>pricehound</title>"));

    // The bot, its token and secret read from SSM at cold start.
    let before = standin.calls().len();
    let (s, _) = api("api-telegram-webhook-forged.json");
    assert_eq!(s, 401);
    assert_eq!(
        standin.calls().len(),
        before,
        "a forged update reaches nothing"
    );

    let (s, v) = api("api-telegram-webhook-start.json");
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["method"], "sendMessage", "the reply rides in the body");
    assert_eq!(v["chat_id"], 123456789);
    assert!(v["text"].as_str().unwrap().contains("Amina"), "{v}");
    let user = dynamo.user(UserId(123456789)).await.unwrap().unwrap();
    assert_eq!(user.referrer.as_deref(), Some("ref_sample"));
    // Telegram retrying the same update (a new container, the same table)
    // gets an empty 200.
    let (s, v) = api("api-telegram-webhook-start.json");
    assert_eq!((s, v), (200, Value::String(String::new())));

    let (s, v) = api("api-telegram-webhook-prices.json");
    assert_eq!(s, 200, "{v}");
    assert!(v["text"].as_str().unwrap().contains("13"), "{v}");

    let (s, v) = api("api-telegram-webhook-ignored-kind.json");
    assert_eq!((s, v), (200, Value::String(String::new())));
}

#[test]
fn a_schedule_for_an_unknown_group_fails_with_the_groups_named() {
    let invoked = invoke("ScrapeFunction", "scrape-unknown-group.json", &[]);
    let r = &invoked.response;
    let message = r["errorMessage"]
        .as_str()
        .unwrap_or_else(|| panic!("an error: {r}\n{}", invoked.logs));
    assert!(
        message.contains("\"silver\"") && message.contains("gold"),
        "{message}"
    );
}
