//! Every sample in `events/` goes through its Lambda handler, and the
//! outcome is what the file is meant to show. A new file without an
//! expectation here fails the test, so the samples never rot.

use async_trait::async_trait;
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use axum::body::Body;
use chrono::Utc;
use http_body_util::BodyExt;
use pricehound::alerts::notifier::{Notification, Notifier};
use pricehound::alerts::outbox::{NotifyMessage, Outbox, OutboxError};
use pricehound::alerts::rules::AlertPolicy;
use pricehound::alerts::sender::Sender;
use pricehound::domain::user::{
    Alert, AlertId, AlertRule, AlertTarget, Contact, UserId, UserProfile,
};
use pricehound::domain::{Currency, ItemId, Money, SeriesId};
use pricehound::http::{AppState, router};
use pricehound::ingest::Ingestor;
use pricehound::lambda;
use pricehound::queue::memory::MemoryQueue;
use pricehound::relay::EventOutbox;
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
use pricehound_tests::telegram_standin::{Failure, RecordedCall, TelegramStandin};
use rust_decimal::Decimal;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
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

/// A notifications queue that records what the notifier puts, with the delays.
#[derive(Default)]
struct RecordingOutbox {
    puts: Mutex<Vec<(Notification, Duration)>>,
}

impl RecordingOutbox {
    fn take(&self) -> Vec<(Notification, Duration)> {
        std::mem::take(&mut *self.puts.lock().unwrap())
    }
}

#[async_trait]
impl Outbox for RecordingOutbox {
    async fn put(
        &self,
        notifications: &[Notification],
        delay: Duration,
    ) -> Result<(), OutboxError> {
        let mut puts = self.puts.lock().unwrap();
        puts.extend(notifications.iter().map(|n| (n.clone(), delay)));
        Ok(())
    }
}

/// An SQS batch of one message, as the event source delivers it.
fn sqs_event(message_id: &str, body: String) -> SqsEvent {
    let mut record = SqsMessage::default();
    record.message_id = Some(message_id.to_string());
    record.body = Some(body);
    record.event_source = Some("aws:sqs".to_string());
    let mut event = SqsEvent::default();
    event.records = vec![record];
    event
}

/// The notify function's parts over a fresh store, sending to the stand-in.
fn notify_stack(standin: &TelegramStandin) -> (Arc<dyn UserStore>, Notifier, Sender) {
    let users: Arc<dyn UserStore> = Arc::new(SqliteStore::in_memory().unwrap());
    let api = BotApi::new(
        reqwest::Client::new(),
        &standin.base_url(),
        BotToken::new(TOKEN).unwrap(),
    );
    (
        users.clone(),
        Notifier::new(users.clone(), AlertPolicy::default()),
        Sender::new(api, users),
    )
}

async fn touch(users: &dyn UserStore, id: i64, lang: &str) {
    users
        .touch_user(&Contact {
            profile: UserProfile {
                id: UserId(id),
                first_name: format!("U{id}"),
                last_name: None,
                username: None,
                language_code: Some(lang.into()),
            },
            at: Utc::now(),
            referrer: None,
        })
        .await
        .unwrap();
}

fn alert(id: AlertId, user: i64, target: AlertTarget, rule: AlertRule) -> Alert {
    Alert {
        id,
        user: UserId(user),
        target,
        rule,
        created_at: Utc::now(),
        active: true,
        armed: true,
        reference_price: None,
        last_fired_at: None,
    }
}

fn dzd(amount: i64) -> Money {
    Money::new(Decimal::from(amount), Currency::new("DZD").unwrap())
}

/// The sendMessage calls the stand-in received for `chat`.
fn sends_to(standin: &TelegramStandin, chat: i64) -> Vec<RecordedCall> {
    standin
        .calls_to("sendMessage")
        .into_iter()
        .filter(|c| c.params["chat_id"] == chat)
        .collect()
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
                    user_fetcher: Fetcher::for_user_links(),
                    store: fresh.clone(),
                    queue: Arc::new(queue),
                    tracked: None,
                };
                let input: Value = serde_json::from_str(&read(name)).unwrap();
                let report = lambda::scrape(&scraper, &input).await.unwrap();
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
                    user_fetcher: Fetcher::for_user_links(),
                    store: store.clone(),
                    queue: Arc::new(queue),
                    tracked: None,
                };
                let input: Value = serde_json::from_str(&read(name)).unwrap();
                let err = lambda::scrape(&scraper, &input)
                    .await
                    .unwrap_err()
                    .to_string();
                assert!(err.contains("\"silver\"") && err.contains("gold"), "{err}");
            }
            "ingest-sqs-batch.json" => {
                let sqlite = Arc::new(SqliteStore::in_memory().unwrap());
                let fresh: Arc<dyn Store> = sqlite.clone();
                let ingestor = Ingestor::new(fresh.clone());
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
                // The events wait in the outbox, one per new item.
                let pending = sqlite.pending_events(100).await.unwrap();
                assert_eq!(
                    pending.len(),
                    1,
                    "a new item raises PriceChanged: {pending:?}"
                );
                sqlite
                    .mark_published(&pending.iter().map(|p| p.seq).collect::<Vec<_>>())
                    .await
                    .unwrap();

                // The redelivery sample: the same message again writes and publishes nothing.
                let again: SqsEvent =
                    serde_json::from_str(&read("ingest-sqs-redelivery.json")).unwrap();
                let resp = lambda::ingest(&ingestor, again).await;
                assert!(resp.batch_item_failures.is_empty());
                assert!(
                    sqlite.pending_events(100).await.unwrap().is_empty(),
                    "no second event for a redelivery"
                );
            }
            "ingest-sqs-redelivery.json" => { /* checked with ingest-sqs-batch.json */ }
            "events-stream-latest.json" => {
                // Two changes of one LATEST record: 13740 -> 12900 DZD
                // raises the PriceChanged the notify sample carries; the
                // same price again from a later post raises nothing.
                let bus = pricehound::bus::memory::MemoryBus::default();
                let mut published = bus.subscribe();
                let event = serde_json::from_str(&read(name)).unwrap();
                let resp = lambda::publish_changes(&bus, event).await;
                assert!(resp.batch_item_failures.is_empty(), "{resp:?}");
                let pricehound::bus::DomainEvent::PriceChanged(change) =
                    published.try_recv().unwrap();
                let notify: Value =
                    serde_json::from_str(&read("notify-price-changed.json")).unwrap();
                let body: Value =
                    serde_json::from_str(notify["Records"][0]["body"].as_str().unwrap()).unwrap();
                assert_eq!(serde_json::to_value(&change).unwrap(), body["detail"]);
                assert!(
                    published.try_recv().is_err(),
                    "an unchanged price raises nothing"
                );
            }
            "notify-price-changed.json" => {
                let (users, notifier, sender) = notify_stack(&standin);
                let chat = 222_333_444;
                touch(users.as_ref(), chat, "fr").await;
                let item: ItemId = "tg-bijouterie-dz:or-18k-casse".parse().unwrap();
                let below = alert(
                    AlertId::random(),
                    chat,
                    AlertTarget::Item(item),
                    AlertRule::Below { price: dzd(13000) },
                );
                users.put_alert(&below).await.unwrap();
                let outbox = RecordingOutbox::default();

                // 13740 -> 12900 DZD crosses the 13000 threshold: one
                // notification goes to the queue, the alert is disarmed.
                let event: SqsEvent = serde_json::from_str(&read(name)).unwrap();
                let resp = lambda::notify(&notifier, &sender, &outbox, event).await;
                assert!(resp.batch_item_failures.is_empty(), "{resp:?}");
                let puts = outbox.take();
                assert_eq!(puts.len(), 1, "{puts:?}");
                let (n, delay) = &puts[0];
                assert_eq!((n.user, n.chat_id), (UserId(chat), chat));
                assert_eq!((&n.alert_id, *delay), (&below.id, Duration::ZERO));
                assert!(
                    n.text.contains("Or 18K cassé") && n.text.contains("-6.11%"),
                    "{}",
                    n.text
                );
                assert!(sends_to(&standin, chat).is_empty(), "queued, not sent yet");
                let stored = users.alerts(UserId(chat)).await.unwrap();
                assert_eq!(stored.len(), 1);
                assert!(stored[0].active && !stored[0].armed, "{stored:?}");
                assert!(stored[0].last_fired_at.is_some());

                // The same event redelivered: the alert is disarmed, nothing new.
                let again: SqsEvent = serde_json::from_str(&read(name)).unwrap();
                let resp = lambda::notify(&notifier, &sender, &outbox, again).await;
                assert!(resp.batch_item_failures.is_empty(), "{resp:?}");
                assert!(outbox.take().is_empty());

                // The notification as the queue delivers it: sent to the chat.
                let body = NotifyMessage::notification_body(n);
                let resp = lambda::notify(
                    &notifier,
                    &sender,
                    &outbox,
                    sqs_event("put-back-1", body.clone()),
                )
                .await;
                assert!(resp.batch_item_failures.is_empty(), "{resp:?}");
                let sent = sends_to(&standin, chat);
                assert_eq!(sent.len(), 1, "{sent:?}");
                assert!(!sent[0].failed);
                assert_eq!(sent[0].params["text"], n.text.as_str());
                assert!(outbox.take().is_empty(), "nothing put back");
                // Delivered twice by SQS: sent once.
                let resp =
                    lambda::notify(&notifier, &sender, &outbox, sqs_event("put-back-2", body))
                        .await;
                assert!(resp.batch_item_failures.is_empty(), "{resp:?}");
                assert_eq!(sends_to(&standin, chat).len(), 1);
            }
            "notify-blocked-user.json" => {
                let event: SqsEvent = serde_json::from_str(&read(name)).unwrap();
                let body = event.records[0].body.as_deref().unwrap();
                let Ok(NotifyMessage::Notification(n)) = NotifyMessage::from_body(body) else {
                    panic!("{name} holds a notification put back on the queue");
                };
                // The user the sample's notification is for, with its alert
                // (fired) and another on the item's series.
                let (users, notifier, sender) = notify_stack(&standin);
                touch(users.as_ref(), n.user.0, "fr").await;
                let mut fired = alert(
                    n.alert_id.clone(),
                    n.user.0,
                    AlertTarget::Item("tg-bijouterie-dz:or-18k-casse".parse().unwrap()),
                    AlertRule::Below { price: dzd(13000) },
                );
                fired.armed = false;
                fired.last_fired_at = Some(Utc::now());
                users.put_alert(&fired).await.unwrap();
                let series: SeriesId = "gold-18k".parse().unwrap();
                let other = alert(
                    AlertId::random(),
                    n.user.0,
                    AlertTarget::Series(series),
                    AlertRule::NewListingUnder { price: dzd(12000) },
                );
                users.put_alert(&other).await.unwrap();
                standin.fail_chat(n.chat_id, Failure::Blocked);

                let outbox = RecordingOutbox::default();
                let resp = lambda::notify(&notifier, &sender, &outbox, event).await;
                assert!(
                    resp.batch_item_failures.is_empty(),
                    "a block is no failure: {resp:?}"
                );
                assert!(outbox.take().is_empty(), "a blocked chat is not retried");
                let tried = sends_to(&standin, n.chat_id);
                assert_eq!(tried.len(), 1);
                assert!(tried[0].failed, "the stand-in answered 403");
                let user = users.user(n.user).await.unwrap().unwrap();
                assert!(user.blocked);
                let alerts = users.alerts(n.user).await.unwrap();
                assert_eq!(alerts.len(), 2);
                assert!(alerts.iter().all(|a| !a.active), "{alerts:?}");
            }
            other => {
                panic!("events/{other} has no expected outcome: add one to tests/tests/events.rs")
            }
        }
    }
}

/// A notification as the notify function's queue delivers it.
fn queued_notification(chat: i64, alert: &AlertId) -> Notification {
    Notification {
        id: format!("test-firing-{chat}"),
        user: UserId(chat),
        alert_id: alert.clone(),
        chat_id: chat,
        text: "Or 18K cassé: 12 900 DZD".into(),
        keyboard: Default::default(),
    }
}

/// Telegram answers 429: the notify function puts the message back on its
/// queue with Telegram's `retry_after` as the delay and reports no failure
/// (SQS must not retry it sooner); delivered again, it is sent once.
#[tokio::test]
async fn the_notify_function_puts_a_throttled_message_back_with_telegrams_delay() {
    let standin = TelegramStandin::start(TOKEN).await;
    let (users, notifier, sender) = notify_stack(&standin);
    let chat = 333_444_555;
    touch(users.as_ref(), chat, "fr").await;
    let n = queued_notification(chat, &AlertId::random());
    let body = NotifyMessage::notification_body(&n);
    standin.fail_next(
        "sendMessage",
        Failure::TooManyRequests { retry_after: 7 },
        1,
    );
    let outbox = RecordingOutbox::default();

    let resp = lambda::notify(&notifier, &sender, &outbox, sqs_event("m-1", body.clone())).await;
    assert!(resp.batch_item_failures.is_empty(), "{resp:?}");
    let puts = outbox.take();
    assert_eq!(puts.len(), 1, "{puts:?}");
    assert_eq!((&puts[0].0.id, puts[0].1), (&n.id, Duration::from_secs(7)));
    assert!(sends_to(&standin, chat).iter().all(|c| c.failed));

    let resp = lambda::notify(&notifier, &sender, &outbox, sqs_event("m-2", body)).await;
    assert!(resp.batch_item_failures.is_empty(), "{resp:?}");
    let ok: Vec<_> = sends_to(&standin, chat)
        .into_iter()
        .filter(|c| !c.failed)
        .collect();
    assert_eq!(ok.len(), 1, "sent once after the delay");
    assert!(outbox.take().is_empty());
}

/// A 5xx from the Bot API is retryable: the message goes back with a short
/// delay instead of failing the batch.
#[tokio::test]
async fn a_bot_api_5xx_puts_the_message_back_for_a_later_try() {
    let standin = TelegramStandin::start(TOKEN).await;
    let (users, notifier, sender) = notify_stack(&standin);
    let chat = 333_444_556;
    touch(users.as_ref(), chat, "en").await;
    let n = queued_notification(chat, &AlertId::random());
    standin.fail_next("sendMessage", Failure::ServerError, 1);
    let outbox = RecordingOutbox::default();
    let resp = lambda::notify(
        &notifier,
        &sender,
        &outbox,
        sqs_event("m-3", NotifyMessage::notification_body(&n)),
    )
    .await;
    assert!(resp.batch_item_failures.is_empty(), "{resp:?}");
    let puts = outbox.take();
    assert_eq!(puts.len(), 1);
    assert_eq!(puts[0].1, Duration::from_secs(5));
}

/// "Bad Request: chat not found" is as final as a block: the user's alerts
/// pause, nothing is put back, and the batch does not fail.
#[tokio::test]
async fn a_chat_that_is_gone_pauses_the_users_alerts() {
    let standin = TelegramStandin::start(TOKEN).await;
    let (users, notifier, sender) = notify_stack(&standin);
    let chat = 333_444_557;
    touch(users.as_ref(), chat, "en").await;
    let item: ItemId = "tg-bijouterie-dz:or-18k-casse".parse().unwrap();
    let fired = alert(
        AlertId::random(),
        chat,
        AlertTarget::Item(item),
        AlertRule::Below { price: dzd(13000) },
    );
    users.put_alert(&fired).await.unwrap();
    standin.fail_chat(
        chat,
        Failure::BadRequest("Bad Request: chat not found".into()),
    );
    let outbox = RecordingOutbox::default();
    let resp = lambda::notify(
        &notifier,
        &sender,
        &outbox,
        sqs_event(
            "m-4",
            NotifyMessage::notification_body(&queued_notification(chat, &fired.id)),
        ),
    )
    .await;
    assert!(resp.batch_item_failures.is_empty(), "{resp:?}");
    assert!(outbox.take().is_empty(), "nothing put back");
    let user = users.user(UserId(chat)).await.unwrap().unwrap();
    assert!(user.blocked, "{user:?}");
    let alerts = users.alerts(UserId(chat)).await.unwrap();
    assert!(alerts.iter().all(|a| !a.active), "{alerts:?}");
}
