//! Every sample in `events/` goes through its Lambda handler, and the
//! outcome is what the file is meant to show. A new file without an
//! expectation here fails the test, so the samples never rot.

use aws_lambda_events::event::sqs::SqsEvent;
use axum::body::Body;
use http_body_util::BodyExt;
use pricehound::bus::memory::MemoryBus;
use pricehound::domain::user::UserId;
use pricehound::http::{AppState, router};
use pricehound::ingest::Ingestor;
use pricehound::lambda;
use pricehound::queue::memory::MemoryQueue;
use pricehound::scrape::Scraper;
use pricehound::sources::Fetcher;
use pricehound::store::sqlite::SqliteStore;
use pricehound::store::{Store, UserStore};
use pricehound::telegram::api::{BotApi, BotToken};
use pricehound::telegram::bot::{Bot, BotConfig};
use pricehound::telegram::dispatch::Dispatcher;
use pricehound::telegram::webhook::{WebhookSecret, WebhookState};
use pricehound_tests::bot::TOKEN;
use pricehound_tests::pages::{channel_sources, seed};
use pricehound_tests::telegram_standin::TelegramStandin;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower::ServiceExt;

/// The secret in the webhook samples' `x-telegram-bot-api-secret-token`.
const SAMPLE_SECRET: &str = "sample-webhook-secret_0123456789";

fn events_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../events")
}

fn read(name: &str) -> String {
    std::fs::read_to_string(events_dir().join(name)).unwrap()
}

/// Sends a Function URL sample through lambda_http's parser and the Router.
async fn api_event(name: &str, app: &axum::Router) -> (u16, Value) {
    let req = lambda_http::request::from_str(&read(name)).expect("a Function URL payload");
    let req = req.map(|b| Body::from(b.to_vec()));
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let v = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
    (status, v)
}

#[tokio::test]
async fn every_sample_event_has_the_outcome_it_shows() {
    let sqlite = Arc::new(SqliteStore::in_memory().unwrap());
    let store: Arc<dyn Store> = sqlite.clone();
    let users: Arc<dyn UserStore> = sqlite;
    seed(store.clone()).await;
    let sources = Arc::new(channel_sources().await);
    let app = router(AppState {
        store: store.clone(),
        sources: sources.clone(),
        telegram: None,
    });

    // The same Router with the bot, its replies going to a local stand-in.
    let standin = TelegramStandin::start(TOKEN).await;
    let bot = Bot::new(
        store.clone(),
        users.clone(),
        sources.clone(),
        BotConfig::default(),
    );
    let api = BotApi::new(
        reqwest::Client::new(),
        &standin.base_url(),
        BotToken::new(TOKEN).unwrap(),
    );
    let bot_app = router(AppState {
        store: store.clone(),
        sources: sources.clone(),
        telegram: Some(WebhookState {
            dispatcher: Arc::new(Dispatcher::new(Arc::new(bot), api)),
            secret: WebhookSecret::new(SAMPLE_SECRET).unwrap(),
        }),
    });

    let mut names: Vec<String> = std::fs::read_dir(events_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 12, "{names:?}");
    for name in &names {
        match name.as_str() {
            "api-health.json" => {
                let (s, v) = api_event(name, &app).await;
                assert_eq!((s, v["status"].as_str()), (200, Some("ok")));
            }
            "api-sources.json" => {
                let (s, v) = api_event(name, &app).await;
                assert_eq!(s, 200);
                assert_eq!(v["sources"].as_array().unwrap().len(), 2);
            }
            "api-prices.json" => {
                let (s, v) = api_event(name, &app).await;
                assert_eq!(s, 200);
                assert_eq!(v["prices"].as_array().unwrap().len(), 2);
                assert!(v["next_cursor"].is_string());
            }
            "api-prices-bad-limit.json" => {
                let (s, v) = api_event(name, &app).await;
                assert_eq!((s, v["error"]["code"].as_str()), (400, Some("bad_request")));
            }
            "api-item.json" => {
                let (s, v) = api_event(name, &app).await;
                assert_eq!(s, 200);
                assert_eq!(v["item"]["price"]["amount"], "13740");
            }
            "api-item-history.json" => {
                let (s, v) = api_event(name, &app).await;
                assert_eq!(s, 200);
                let obs = v["observations"].as_array().unwrap();
                assert_eq!(obs.len(), 5);
                assert_eq!(obs[0]["price"]["amount"], "13740", "newest first");
            }
            "api-item-unknown.json" => {
                let (s, v) = api_event(name, &app).await;
                assert_eq!(
                    (s, v["error"]["code"].as_str()),
                    (404, Some("unknown_item"))
                );
            }
            "api-telegram-webhook-start.json" => {
                let (s, v) = api_event(name, &bot_app).await;
                assert_eq!(s, 200);
                assert_eq!(v["method"], "sendMessage", "the reply rides in the body");
                assert_eq!(v["chat_id"], 123456789);
                assert!(v["text"].as_str().unwrap().contains("Amina"), "{v}");
                let user = users.user(UserId(123456789)).await.unwrap().unwrap();
                assert_eq!(user.referrer.as_deref(), Some("ref_sample"));
                // Telegram retrying the same update gets an empty 200.
                let (s, v) = api_event(name, &bot_app).await;
                assert_eq!((s, v), (200, Value::String(String::new())));
            }
            "api-telegram-webhook-prices.json" => {
                let (s, v) = api_event(name, &bot_app).await;
                assert_eq!(s, 200);
                assert!(v["text"].as_str().unwrap().contains("13"), "{v}");
            }
            "api-telegram-webhook-ignored-kind.json" => {
                let (s, v) = api_event(name, &bot_app).await;
                assert_eq!((s, v), (200, Value::String(String::new())));
            }
            "api-telegram-webhook-forged.json" => {
                let before = standin.calls().len();
                let (s, _) = api_event(name, &bot_app).await;
                assert_eq!(s, 401);
                assert_eq!(standin.calls().len(), before);
                // Without a bot configured, the route does not exist.
                let (s, _) = api_event(name, &app).await;
                assert_eq!(s, 404);
            }
            "api-web-page.json" => {
                let (s, v) = api_event(name, &app).await;
                assert_eq!(s, 200);
                assert!(v.as_str().unwrap().contains("<title>pricehound</title>"));
            }
            "scrape-schedule-gold.json" => {
                let (queue, mut rx) = MemoryQueue::new();
                let fresh: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().unwrap());
                let scraper = Scraper {
                    sources: sources.clone(),
                    fetcher: Fetcher::new(),
                    store: fresh.clone(),
                    queue: Arc::new(queue),
                    tracked: None,
                };
                let input: Value = serde_json::from_str(&read(name)).unwrap();
                let report = lambda::scrape(&scraper, input).await.unwrap();
                assert_eq!(report.group, "gold");
                assert!(report.sources.iter().all(|s| s.ok), "{report:?}");
                let queued: usize = report.sources.iter().map(|s| s.observations).sum();
                assert_eq!(queued, 72);
                drop(scraper);
                let mut n = 0;
                while rx.recv().await.is_some() {
                    n += 1;
                }
                assert_eq!(n, 72, "every observation reached the queue");
                let cp = fresh
                    .checkpoint(&"tg-bijouterie-dz".parse().unwrap())
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(cp.last_post_id, 120);
            }
            "scrape-unknown-group.json" => {
                let (queue, _rx) = MemoryQueue::new();
                let scraper = Scraper {
                    sources: sources.clone(),
                    fetcher: Fetcher::new(),
                    store: store.clone(),
                    queue: Arc::new(queue),
                    tracked: None,
                };
                let input: Value = serde_json::from_str(&read(name)).unwrap();
                let err = lambda::scrape(&scraper, input)
                    .await
                    .unwrap_err()
                    .to_string();
                assert!(err.contains("\"silver\"") && err.contains("gold"), "{err}");
            }
            "ingest-sqs-batch.json" => {
                let fresh: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().unwrap());
                let bus = MemoryBus::default();
                let mut events = bus.subscribe();
                let ingestor = Ingestor::new(fresh.clone(), Arc::new(bus));
                let event: SqsEvent = serde_json::from_str(&read(name)).unwrap();
                let resp = lambda::ingest(&ingestor, event).await;
                let failed: Vec<&str> = resp
                    .batch_item_failures
                    .iter()
                    .map(|f| f.item_identifier.as_str())
                    .collect();
                assert_eq!(
                    failed,
                    vec![
                        "7c8d9e0f-1a2b-4c3d-8e4f-5a6b7c8d9e0f",
                        "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
                    ],
                    "the malformed and the tampered record fail alone"
                );
                let latest = fresh
                    .latest_price(&"tg-bijouterie-dz:or-18k-casse".parse().unwrap())
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(latest.price.as_ref().unwrap().amount.to_string(), "13740");
                assert!(
                    fresh
                        .latest_price(&"tg-bijouterie-dz:or-24k".parse().unwrap())
                        .await
                        .unwrap()
                        .is_none(),
                    "the tampered record wrote nothing"
                );
                assert!(events.try_recv().is_ok(), "a new item raises PriceChanged");

                // The redelivery sample: the same message again writes and publishes nothing.
                let again: SqsEvent =
                    serde_json::from_str(&read("ingest-sqs-redelivery.json")).unwrap();
                let resp = lambda::ingest(&ingestor, again).await;
                assert!(resp.batch_item_failures.is_empty());
                assert!(
                    events.try_recv().is_err(),
                    "no second event for a redelivery"
                );
            }
            "ingest-sqs-redelivery.json" => { /* checked with ingest-sqs-batch.json */ }
            other => {
                panic!("events/{other} has no expected outcome: add one to tests/tests/events.rs")
            }
        }
    }
}
