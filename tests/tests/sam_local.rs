//! The samples in `events/` through `sam local invoke`: the functions that
//! `sam build` built, in the Lambda container SAM runs (the provided.al2023
//! base image scripts/sam-local builds, SAM's own Runtime Interface
//! Emulator), on the host's network, against dynalite and moto.
//!
//! Run by scripts/test (and `scripts/sam-local test`), after docker is up,
//! the functions are built and dynalite and moto run. The table is seeded
//! by the same pipeline and recorded pages as the in-process events test
//! (tests/tests/events.rs), and each sample is checked for the same
//! outcome, seen from outside the container: the table, the queues, the
//! Bot API stand-in and the function's answer. The queues, bus and rule
//! are made as template.yaml declares them (pricehound_tests::deployment).

use chrono::Utc;
use pricehound::alerts::outbox::NotifyMessage;
use pricehound::domain::user::{
    Alert, AlertId, AlertRule, AlertTarget, Contact, UserId, UserProfile,
};
use pricehound::domain::{Currency, ItemId, Money};
use pricehound::sources::SourcesConfig;
use pricehound::store::dynamo::DynamoStore;
use pricehound::store::{AlertStore, HistoryQuery, Store, UserProfiles};
use pricehound_tests::bot::TOKEN;
use pricehound_tests::deployment::Deployment;
use pricehound_tests::pages::{channel_sources_toml, seed, serve};
use pricehound_tests::services::{receive_bodies, unique_name};
use pricehound_tests::telegram_standin::{Failure, RecordedCall, TelegramStandin};
use rust_decimal::Decimal;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

/// The secret the webhook samples carry (as in tests/tests/events.rs).
const SAMPLE_SECRET: &str = "sample-webhook-secret_0123456789";

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
    // A sample's name, or the path of an event file a test wrote.
    let event_path = if event.contains('/') {
        event.to_string()
    } else {
        format!("events/{event}")
    };
    let extra: String = env.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    let out = Command::new(root().join("scripts/sam-local"))
        .args(["invoke", function, &event_path])
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
    // The stack, with the bot's token and secret in moto's SSM.
    let stack = stack().await;
    let dynamo = stack.dynamo.clone();
    let store: Arc<dyn Store> = dynamo.clone();
    assert_eq!(seed(store.clone()).await, 72, "the recorded channel pages");
    let standin = TelegramStandin::start(TOKEN).await;
    let env = env_of(
        &stack,
        "ApiFunction",
        &[("PRICEHOUND_TELEGRAM_API", standin.base_url())],
    );
    let env = as_refs(&env);
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

/// The template's stack on dynalite and moto, and its variables for
/// `function` as `invoke`'s `env` (sam passes on the declared ones).
async fn stack() -> Deployment {
    Deployment::create(TOKEN, SAMPLE_SECRET).await
}

fn env_of(stack: &Deployment, function: &str, extra: &[(&str, String)]) -> Vec<(String, String)> {
    let home = std::env::temp_dir();
    stack.environment(function, &home, extra)
}

fn as_refs(env: &[(String, String)]) -> Vec<(&str, &str)> {
    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// An event file written for one invocation (sam reads events from files).
struct EventFile(PathBuf);

impl EventFile {
    fn new(event: &Value) -> EventFile {
        let dir = root().join(".tools/run/sam-events");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{}.json", unique_name("event")));
        std::fs::write(&path, event.to_string()).unwrap();
        EventFile(path)
    }

    fn path(&self) -> String {
        self.0.display().to_string()
    }
}

impl Drop for EventFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn failures(answer: &Value) -> Vec<String> {
    answer["batchItemFailures"]
        .as_array()
        .unwrap_or_else(|| panic!("a batch response: {answer}"))
        .iter()
        .filter_map(|f| f["itemIdentifier"].as_str().map(str::to_string))
        .collect()
}

fn sample(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(root().join("events").join(name)).unwrap())
        .unwrap()
}

/// Every body on `queue` now (received and deleted).
async fn drain(stack: &Deployment, queue: &str) -> Vec<String> {
    let mut bodies = Vec::new();
    loop {
        let got = stack
            .sqs
            .receive_message()
            .queue_url(&stack.queues[queue].url)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        let messages = got.messages.unwrap_or_default();
        if messages.is_empty() {
            return bodies;
        }
        for m in messages {
            stack
                .sqs
                .delete_message()
                .queue_url(&stack.queues[queue].url)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
            bodies.extend(m.body);
        }
    }
}

fn item(id: &str) -> ItemId {
    ItemId::new(id).unwrap()
}

async fn history_len(store: &DynamoStore, id: &str) -> usize {
    let query = HistoryQuery {
        limit: 100,
        ..Default::default()
    };
    store.history(&item(id), &query).await.unwrap().items.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ingest_samples_store_the_good_record_and_fail_the_bad_ones_alone() {
    let stack = stack().await;
    let env = env_of(&stack, "IngestFunction", &[]);
    let answer = invoke("IngestFunction", "ingest-sqs-batch.json", &as_refs(&env)).response;
    assert_eq!(
        failures(&answer),
        vec![
            "7c8d9e0f-1a2b-4c3d-8e4f-5a6b7c8d9e0f",
            "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
        ],
        "the malformed and the tampered record fail alone"
    );
    let latest = stack
        .dynamo
        .latest_price(&item("tg-bijouterie-dz:or-18k-casse"))
        .await
        .unwrap()
        .expect("the good record is stored");
    assert_eq!(latest.price.unwrap().amount.to_string(), "13740");
    assert!(
        stack
            .dynamo
            .latest_price(&item("tg-bijouterie-dz:or-24k"))
            .await
            .unwrap()
            .is_none(),
        "the tampered record wrote nothing"
    );
    assert_eq!(
        history_len(&stack.dynamo, "tg-bijouterie-dz:or-18k-casse").await,
        1
    );

    // The same message delivered again: no failure, nothing new.
    let answer = invoke(
        "IngestFunction",
        "ingest-sqs-redelivery.json",
        &as_refs(&env),
    )
    .response;
    assert!(failures(&answer).is_empty(), "{answer}");
    assert_eq!(
        history_len(&stack.dynamo, "tg-bijouterie-dz:or-18k-casse").await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_sample_publishes_one_price_change_through_the_rule() {
    let stack = stack().await;
    let env = env_of(&stack, "EventsFunction", &[]);
    let answer = invoke(
        "EventsFunction",
        "events-stream-latest.json",
        &as_refs(&env),
    )
    .response;
    assert!(failures(&answer).is_empty(), "{answer}");
    // The rule (as the template declares it) put it on the notifications
    // queue: the very event the notify sample carries.
    let bodies = receive_bodies(&stack.sqs, &stack.queues["NotificationsQueue"].url, 1).await;
    assert_eq!(
        bodies.len(),
        1,
        "an unchanged price raises nothing: {bodies:?}"
    );
    let got: Value = serde_json::from_str(&bodies[0]).unwrap();
    let notify = sample("notify-price-changed.json");
    let want: Value = serde_json::from_str(notify["Records"][0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(got["detail"], want["detail"]);
    assert_eq!(got["detail-type"], "PriceChanged");
}

async fn touch(store: &DynamoStore, id: i64) {
    store
        .touch_user(&Contact {
            profile: UserProfile {
                id: UserId(id),
                first_name: format!("U{id}"),
                last_name: None,
                username: None,
                language_code: Some("fr".into()),
            },
            at: Utc::now(),
            referrer: None,
        })
        .await
        .unwrap();
}

fn below_13000(id: AlertId, user: i64, target: AlertTarget) -> Alert {
    Alert {
        id,
        user: UserId(user),
        target,
        rule: AlertRule::Below {
            price: Money::new(Decimal::from(13000), Currency::new("DZD").unwrap()),
        },
        created_at: Utc::now(),
        active: true,
        armed: true,
        reference_price: None,
        last_fired_at: None,
    }
}

fn sends_to(standin: &TelegramStandin, chat: i64) -> Vec<RecordedCall> {
    standin
        .calls_to("sendMessage")
        .into_iter()
        .filter(|c| c.params["chat_id"] == chat)
        .collect()
}

/// The stack, a Bot API stand-in, and the notify function's environment
/// pointed at both.
async fn notify_stack() -> (Deployment, TelegramStandin, Vec<(String, String)>) {
    let stack = stack().await;
    let standin = TelegramStandin::start(TOKEN).await;
    let env = env_of(
        &stack,
        "NotifyFunction",
        &[("PRICEHOUND_TELEGRAM_API", standin.base_url())],
    );
    (stack, standin, env)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_notify_sample_plans_the_alert_then_sends_it_once() {
    let (stack, standin, env) = notify_stack().await;
    let chat = 222_333_444;
    touch(&stack.dynamo, chat).await;
    let alert = below_13000(
        AlertId::random(),
        chat,
        AlertTarget::Item(item("tg-bijouterie-dz:or-18k-casse")),
    );
    stack.dynamo.put_alert(&alert).await.unwrap();

    // 13740 -> 12900 DZD crosses 13000: one notification on the queue,
    // the alert disarmed.
    let answer = invoke(
        "NotifyFunction",
        "notify-price-changed.json",
        &as_refs(&env),
    )
    .response;
    assert!(failures(&answer).is_empty(), "{answer}");
    // Received at once: planned with no delay.
    let planned = drain(&stack, "NotificationsQueue").await;
    assert_eq!(planned.len(), 1, "{planned:?}");
    let Ok(NotifyMessage::Notification(n)) = NotifyMessage::from_body(&planned[0]) else {
        panic!("a notification: {}", planned[0]);
    };
    assert_eq!((n.user, n.chat_id), (UserId(chat), chat));
    assert_eq!(n.alert_id, alert.id);
    assert!(
        n.text.contains("Or 18K cassé") && n.text.contains("-6.11%"),
        "{}",
        n.text
    );
    assert!(sends_to(&standin, chat).is_empty(), "queued, not sent yet");
    let stored = stack.dynamo.alerts(UserId(chat)).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert!(stored[0].active && !stored[0].armed, "{stored:?}");
    assert!(stored[0].last_fired_at.is_some());

    // The same event again: the alert is disarmed, nothing new.
    let answer = invoke(
        "NotifyFunction",
        "notify-price-changed.json",
        &as_refs(&env),
    )
    .response;
    assert!(failures(&answer).is_empty(), "{answer}");
    assert!(drain(&stack, "NotificationsQueue").await.is_empty());

    // The notification as the queue delivers it: sent to the chat, and
    // nothing put back.
    let mut event = sample("notify-blocked-user.json");
    event["Records"][0]["body"] = Value::String(planned[0].clone());
    let mut deliver = |id: &str| {
        event["Records"][0]["messageId"] = Value::String(id.into());
        let file = EventFile::new(&event);
        invoke("NotifyFunction", &file.path(), &as_refs(&env)).response
    };
    let answer = deliver("put-back-1");
    assert!(failures(&answer).is_empty(), "{answer}");
    let sent = sends_to(&standin, chat);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(!sent[0].failed);
    assert_eq!(sent[0].params["text"], n.text.as_str());
    assert!(drain(&stack, "NotificationsQueue").await.is_empty());
    // Delivered twice by SQS: sent once.
    let answer = deliver("put-back-2");
    assert!(failures(&answer).is_empty(), "{answer}");
    assert_eq!(sends_to(&standin, chat).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_blocked_user_sample_pauses_their_alerts_without_a_retry() {
    let (stack, standin, env) = notify_stack().await;
    let event = sample("notify-blocked-user.json");
    let body = event["Records"][0]["body"].as_str().unwrap();
    let Ok(NotifyMessage::Notification(n)) = NotifyMessage::from_body(body) else {
        panic!("the sample holds a notification put back on the queue");
    };
    touch(&stack.dynamo, n.user.0).await;
    let mut fired = below_13000(
        n.alert_id.clone(),
        n.user.0,
        AlertTarget::Item(item("tg-bijouterie-dz:or-18k-casse")),
    );
    fired.armed = false;
    fired.last_fired_at = Some(Utc::now());
    stack.dynamo.put_alert(&fired).await.unwrap();
    let other = below_13000(
        AlertId::random(),
        n.user.0,
        AlertTarget::Series("gold-18k".parse().unwrap()),
    );
    stack.dynamo.put_alert(&other).await.unwrap();
    standin.fail_chat(n.chat_id, Failure::Blocked);

    let invoked = invoke("NotifyFunction", "notify-blocked-user.json", &as_refs(&env));
    let answer = invoked.response.clone();
    assert!(
        failures(&answer).is_empty(),
        "a block is no failure: {answer}"
    );
    assert!(
        drain(&stack, "NotificationsQueue").await.is_empty(),
        "a blocked chat is not retried"
    );
    let tried = sends_to(&standin, n.chat_id);
    assert_eq!(tried.len(), 1, "{}", invoked.logs);
    assert!(tried[0].failed, "the stand-in answered 403");
    assert!(stack.dynamo.user(n.user).await.unwrap().unwrap().blocked);
    let alerts = stack.dynamo.alerts(n.user).await.unwrap();
    assert_eq!(alerts.len(), 2);
    assert!(alerts.iter().all(|a| !a.active), "{alerts:?}");
}

/// A sources file inside the function's folder, which sam mounts at
/// /var/task; removed when dropped.
struct TaskFile {
    host: PathBuf,
    in_container: String,
}

impl TaskFile {
    fn new(function: &str, text: &str) -> TaskFile {
        let name = format!("{}.toml", unique_name("sources"));
        let host = root().join(".aws-sam/build").join(function).join(&name);
        std::fs::write(&host, text).unwrap();
        TaskFile {
            host,
            in_container: format!("/var/task/{name}"),
        }
    }
}

impl Drop for TaskFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.host);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gold_schedule_reads_the_channels_and_queues_every_price() {
    let stack = stack().await;
    // The recorded channel pages on 127.0.0.1, which the container shares.
    let pages = serve(pricehound::demo::router()).await;
    let sources = TaskFile::new("ScrapeFunction", &channel_sources_toml(&pages, None));
    let env = env_of(
        &stack,
        "ScrapeFunction",
        &[("PRICEHOUND_SOURCES_FILE", sources.in_container.clone())],
    );
    let report = invoke(
        "ScrapeFunction",
        "scrape-schedule-gold.json",
        &as_refs(&env),
    )
    .response;
    assert_eq!(report["group"], "gold", "{report}");
    let reports = report["sources"].as_array().unwrap();
    assert!(reports.iter().all(|s| s["ok"] == true), "{report}");
    let queued: u64 = reports
        .iter()
        .map(|s| s["observations"].as_u64().unwrap())
        .sum();
    assert_eq!(queued, 72, "{report}");
    let bodies = drain(&stack, "ObservationsQueue").await;
    assert_eq!(bodies.len(), 72, "every observation reached the queue");
    let checkpoint = stack
        .dynamo
        .checkpoint(&"tg-bijouterie-dz".parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(checkpoint.last_post_id, 120);
}
