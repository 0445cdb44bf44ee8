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
    /// A chat whose notifications the queue refuses (an injected fault).
    refuse_chat: Option<i64>,
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
        if notifications
            .iter()
            .any(|n| Some(n.chat_id) == self.refuse_chat)
        {
            return Err(OutboxError::Unavailable("injected: queue down".into()));
        }
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
        sources: sources.clone().into(),
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
        sources: sources.clone().into(),
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

/// An active alert of `chat`'s, stored: the sender sends only for alerts
/// that are still on.
async fn alert_on(users: &dyn UserStore, chat: i64) -> AlertId {
    let a = alert(
        AlertId::random(),
        chat,
        AlertTarget::Item("tg-bijouterie-dz:or-18k-casse".parse().unwrap()),
        AlertRule::Below { price: dzd(13000) },
    );
    users.put_alert(&a).await.unwrap();
    a.id
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
        attempts: 0,
        planned_at: None,
    }
}

/// The notify function builds its sender (and reads the bot's token) only
/// for a batch that sends: a batch of PriceChanged events plans without
/// it, and when it cannot be built the sends fail alone, to be retried.
#[tokio::test]
async fn the_notify_function_reads_the_token_only_for_a_batch_that_sends() {
    let standin = TelegramStandin::start(TOKEN).await;
    let (users, notifier, _) = notify_stack(&standin);
    let chat = 444_555_666;
    touch(users.as_ref(), chat, "fr").await;
    let built = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let lazy = {
        let built = built.clone();
        lambda::LazySender::new(move || {
            built.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async { anyhow::bail!("SSM is unavailable") }
        })
    };
    let outbox = RecordingOutbox::default();
    let item: ItemId = "tg-bijouterie-dz:or-18k-casse".parse().unwrap();
    users
        .put_alert(&alert(
            AlertId::random(),
            chat,
            AlertTarget::Item(item),
            AlertRule::Below { price: dzd(13000) },
        ))
        .await
        .unwrap();

    // The track-job bot, likewise built only for a batch with a track job.
    let tracks_built = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let tracks = {
        let tracks_built = tracks_built.clone();
        lambda::LazyTracks::new(move || {
            tracks_built.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            None
        })
    };

    // The price change is planned into a notification, with no sender and
    // no track-job bot.
    let change: SqsEvent = serde_json::from_str(&read("notify-price-changed.json")).unwrap();
    let resp = lambda::notify_with(&notifier, &lazy, &outbox, &tracks, change).await;
    assert!(resp.batch_item_failures.is_empty(), "{resp:?}");
    let puts = outbox.take();
    assert_eq!(puts.len(), 1, "{puts:?}");
    assert_eq!(built.load(std::sync::atomic::Ordering::SeqCst), 0);
    assert_eq!(tracks_built.load(std::sync::atomic::Ordering::SeqCst), 0);

    // Its delivery needs the sender; it cannot be built, so the record
    // fails (SQS retries it) and nothing is lost or sent.
    let body = NotifyMessage::notification_body(&puts[0].0);
    let resp =
        lambda::notify_with(&notifier, &lazy, &outbox, &tracks, sqs_event("n-1", body)).await;
    let failed: Vec<&str> = resp
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, ["n-1"]);
    assert_eq!(built.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(tracks_built.load(std::sync::atomic::Ordering::SeqCst), 0);
    assert!(sends_to(&standin, chat).is_empty());
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
    let n = queued_notification(chat, &alert_on(users.as_ref(), chat).await);
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
    let n = queued_notification(chat, &alert_on(users.as_ref(), chat).await);
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

/// A notification that keeps failing is not put back forever: after
/// MAX_ATTEMPTS its record fails, and SQS moves it to the dead-letter
/// queue once its receive count is spent.
#[tokio::test]
async fn a_notification_that_keeps_failing_is_handed_to_the_dead_letter_queue() {
    let standin = TelegramStandin::start(TOKEN).await;
    let (users, notifier, sender) = notify_stack(&standin);
    let chat = 333_444_558;
    touch(users.as_ref(), chat, "en").await;
    let mut n = queued_notification(chat, &alert_on(users.as_ref(), chat).await);
    n.attempts = pricehound::alerts::outbox::MAX_ATTEMPTS - 1;
    standin.fail_next("sendMessage", Failure::ServerError, 1);
    let outbox = RecordingOutbox::default();
    let resp = lambda::notify(
        &notifier,
        &sender,
        &outbox,
        sqs_event("worn-out", NotifyMessage::notification_body(&n)),
    )
    .await;
    let failed: Vec<&str> = resp
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, vec!["worn-out"]);
    assert!(outbox.take().is_empty(), "not put back again");

    // One attempt fewer: put back, counted.
    n.attempts = 2;
    standin.fail_next("sendMessage", Failure::ServerError, 1);
    let resp = lambda::notify(
        &notifier,
        &sender,
        &outbox,
        sqs_event("retried", NotifyMessage::notification_body(&n)),
    )
    .await;
    assert!(resp.batch_item_failures.is_empty(), "{resp:?}");
    assert_eq!(outbox.take()[0].0.attempts, 3);
}

/// Changes are planned one at a time: when the queue refuses the messages
/// of one change, only that change's record fails (and is retried); the
/// other change's message is queued once.
#[tokio::test]
async fn one_change_that_cannot_be_queued_fails_alone() {
    let standin = TelegramStandin::start(TOKEN).await;
    let (users, notifier, sender) = notify_stack(&standin);
    let sample: SqsEvent = serde_json::from_str(&read("notify-price-changed.json")).unwrap();
    let body_a = sample.records[0].body.clone().unwrap();
    let mut other: Value = serde_json::from_str(&body_a).unwrap();
    other["detail"]["item_id"] = "tg-bijouterie-dz:or-21k".into();
    let body_b = other.to_string();
    let (refused, served) = (444_555_001, 444_555_002);
    for (chat, item) in [
        (refused, "tg-bijouterie-dz:or-18k-casse"),
        (served, "tg-bijouterie-dz:or-21k"),
    ] {
        touch(users.as_ref(), chat, "en").await;
        users
            .put_alert(&alert(
                AlertId::random(),
                chat,
                AlertTarget::Item(item.parse().unwrap()),
                AlertRule::Below { price: dzd(13000) },
            ))
            .await
            .unwrap();
    }
    let outbox = RecordingOutbox {
        refuse_chat: Some(refused),
        ..Default::default()
    };
    let mut event = sqs_event("change-a", body_a);
    event.records.extend(sqs_event("change-b", body_b).records);
    let resp = lambda::notify(&notifier, &sender, &outbox, event).await;
    let failed: Vec<&str> = resp
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, vec!["change-a"]);
    let puts = outbox.take();
    assert_eq!(puts.len(), 1, "{puts:?}");
    assert_eq!(puts[0].0.chat_id, served);
    // The refused user's alert kept its state: the retry can fire it.
    let alerts = users.alerts(UserId(refused)).await.unwrap();
    assert!(
        alerts[0].armed && alerts[0].last_fired_at.is_none(),
        "{alerts:?}"
    );
}

/// The daily cap is spent by messages that went out and enforced where
/// they go out: a throttled try spends nothing, and messages planned apart
/// (one change at a time, in separate invocations) stop at the cap.
#[tokio::test]
async fn the_daily_cap_is_spent_when_sent_and_holds_across_separate_plans() {
    use pricehound::alerts::sender::Delivery;
    let standin = TelegramStandin::start(TOKEN).await;
    let (users, _notifier, sender) = notify_stack(&standin);
    let sender = sender.with_daily_cap(2);
    let chat = 333_444_600;
    touch(users.as_ref(), chat, "en").await;
    let now = Utc::now();
    let day = pricehound::store::rules::utc_day_start(now);
    let mut messages = Vec::new();
    for i in 0..3 {
        let mut n = queued_notification(chat, &alert_on(users.as_ref(), chat).await);
        n.id = format!("cap-{i}");
        messages.push(n);
    }
    standin.fail_next(
        "sendMessage",
        Failure::TooManyRequests { retry_after: 1 },
        1,
    );
    assert!(matches!(
        sender.deliver(&messages[0], now).await.unwrap(),
        Delivery::RetryAfter(_)
    ));
    assert_eq!(
        users.alert_quota_used(UserId(chat), day).await.unwrap(),
        0,
        "a 429 spends nothing"
    );
    let outcomes: Vec<Delivery> = {
        let mut v = Vec::new();
        for n in &messages {
            v.push(sender.deliver(n, now).await.unwrap());
        }
        v
    };
    assert_eq!(
        outcomes,
        vec![Delivery::Sent, Delivery::Sent, Delivery::Capped]
    );
    assert_eq!(users.alert_quota_used(UserId(chat), day).await.unwrap(), 2);
    let sent = sends_to(&standin, chat)
        .into_iter()
        .filter(|c| !c.failed)
        .count();
    assert_eq!(sent, 2);
    // A redelivered message that was sent is a duplicate, not a spend.
    assert_eq!(
        sender.deliver(&messages[0], now).await.unwrap(),
        Delivery::Duplicate
    );
    assert_eq!(users.alert_quota_used(UserId(chat), day).await.unwrap(), 2);
}

/// Six messages for one user, sent at the same moment (six invocations),
/// against a cap of two: the cap's place is reserved before each send, so
/// exactly two go out; a send that fails gives its place back.
#[tokio::test]
async fn concurrent_sends_for_one_user_never_pass_the_daily_cap() {
    use pricehound::alerts::sender::Delivery;
    let standin = TelegramStandin::start(TOKEN).await;
    let (users, _notifier, sender) = notify_stack(&standin);
    let sender = sender.with_daily_cap(2);
    let chat = 333_444_650;
    touch(users.as_ref(), chat, "en").await;
    let now = Utc::now();
    let day = pricehound::store::rules::utc_day_start(now);
    let alert = alert_on(users.as_ref(), chat).await;
    let failing = {
        let mut n = queued_notification(chat, &alert);
        n.id = "cap-race-failing".into();
        n
    };
    standin.fail_next("sendMessage", Failure::ServerError, 1);
    assert!(matches!(
        sender.deliver(&failing, now).await.unwrap(),
        Delivery::Failed(_)
    ));
    assert_eq!(
        users.alert_quota_used(UserId(chat), day).await.unwrap(),
        0,
        "a failed send gives its place back"
    );
    let messages: Vec<Notification> = (0..6)
        .map(|i| {
            let mut n = queued_notification(chat, &alert);
            n.id = format!("cap-race-{i}");
            n
        })
        .collect();
    let m = &messages;
    let (a, b, c, d, e, f) = tokio::join!(
        sender.deliver(&m[0], now),
        sender.deliver(&m[1], now),
        sender.deliver(&m[2], now),
        sender.deliver(&m[3], now),
        sender.deliver(&m[4], now),
        sender.deliver(&m[5], now),
    );
    let outcomes = [a, b, c, d, e, f];
    let sent = outcomes
        .iter()
        .filter(|o| matches!(o, Ok(Delivery::Sent)))
        .count();
    let capped = outcomes
        .iter()
        .filter(|o| matches!(o, Ok(Delivery::Capped)))
        .count();
    assert_eq!((sent, capped), (2, 4), "{outcomes:?}");
    let at_standin = sends_to(&standin, chat)
        .into_iter()
        .filter(|c| !c.failed)
        .count();
    assert_eq!(at_standin, 2, "two messages reached Telegram");
    assert_eq!(users.alert_quota_used(UserId(chat), day).await.unwrap(), 2);
}

/// An alert deleted after it fired: its queued message is not sent, and
/// the notifier's state change, applied after the delete, does not bring
/// the alert back.
#[tokio::test]
async fn nothing_is_sent_for_an_alert_deleted_after_it_fired() {
    use pricehound::alerts::outbox::queue_planned;
    let standin = TelegramStandin::start(TOKEN).await;
    let (users, notifier, sender) = notify_stack(&standin);
    let chat = 333_444_700;
    touch(users.as_ref(), chat, "en").await;
    let id = alert_on(users.as_ref(), chat).await;
    let sample: SqsEvent = serde_json::from_str(&read("notify-price-changed.json")).unwrap();
    let Ok(NotifyMessage::Change(change)) =
        NotifyMessage::from_body(sample.records[0].body.as_deref().unwrap())
    else {
        panic!("the sample carries a PriceChanged");
    };
    // Planned, and the user deletes the alert before the state is stored.
    let plan = notifier
        .plan(std::slice::from_ref(&change), Utc::now())
        .await
        .unwrap();
    assert_eq!(plan.notifications.len(), 1);
    users.delete_alert(UserId(chat), &id).await.unwrap();
    notifier.apply(&plan).await.unwrap();
    assert!(
        users.alerts(UserId(chat)).await.unwrap().is_empty(),
        "not brought back"
    );
    // The message, delivered from the queue: dropped, not sent.
    let outbox = RecordingOutbox::default();
    let body = NotifyMessage::notification_body(&plan.notifications[0]);
    let resp = lambda::notify(&notifier, &sender, &outbox, sqs_event("after-delete", body)).await;
    assert!(resp.batch_item_failures.is_empty(), "{resp:?}");
    assert!(
        sends_to(&standin, chat).is_empty(),
        "nothing after a delete"
    );
    assert!(outbox.take().is_empty());
    // And a fresh plan of the same change finds no alert.
    queue_planned(
        &notifier,
        &outbox,
        std::slice::from_ref(&change),
        Utc::now(),
    )
    .await
    .unwrap();
    assert!(outbox.take().is_empty());
}

/// Twenty users' alerts fire on one change, through the notify function,
/// with faults injected at every step, and counted at the Bot API stand-in:
/// every user gets the alert exactly once.
///
/// - store: the alert lookup fails while planning, the conditional state
///   write fails after the messages were queued (the change is redelivered
///   and planned again), the notification's claim, the cap's reservation
///   and the sent-record each fail (the last one is retried in place);
/// - queue: it refuses the planned messages once (the change is redelivered);
/// - Bot API: 5xx three times, a hung call twice (the client's timeout),
///   429 twice (put back);
/// - SQS: two messages delivered twice in a row and two delivered twice at
///   the same moment (the claim lets one go).
#[tokio::test]
async fn every_fired_alert_arrives_exactly_once_through_injected_faults() {
    use pricehound_tests::faulty_users::FaultyUsers;
    let standin = TelegramStandin::start(TOKEN).await;
    let real: Arc<dyn UserStore> = Arc::new(SqliteStore::in_memory().unwrap());
    let faulty = Arc::new(FaultyUsers::new(real.clone()));
    let users: Arc<dyn UserStore> = faulty.clone();
    // A short call timeout, so a hung Bot API call fails fast.
    let http = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let api = BotApi::new(http, &standin.base_url(), BotToken::new(TOKEN).unwrap());
    let notifier = Notifier::new(users.clone(), AlertPolicy::default());
    let sender = Sender::new(api, users.clone());
    let chats: Vec<i64> = (0..20).map(|i| 555_000_000 + i).collect();
    for &chat in &chats {
        touch(real.as_ref(), chat, "en").await;
        alert_on(real.as_ref(), chat).await;
    }
    let change = read("notify-price-changed.json");
    let change: SqsEvent = serde_json::from_str(&change).unwrap();
    let mut redelivered_changes = 0;
    // The change's record through the notify function: how many failed.
    async fn plan(n: &Notifier, s: &Sender, outbox: &RecordingOutbox, change: &SqsEvent) -> usize {
        let resp = lambda::notify(n, s, outbox, change.clone()).await;
        resp.batch_item_failures.len()
    }
    let plan_until_ok = |outbox| plan(&notifier, &sender, outbox, &change);

    // Store fault: the alert lookup fails; the change is redelivered.
    faulty.fail_next("active_alerts_for", 1);
    let outbox = RecordingOutbox::default();
    assert_eq!(plan_until_ok(&outbox).await, 1);
    redelivered_changes += 1;
    assert!(outbox.take().is_empty());
    // Queue fault: the queue refuses the planned messages; redelivered.
    let refusing = RecordingOutbox {
        refuse_chat: Some(chats[7]),
        ..Default::default()
    };
    assert_eq!(plan_until_ok(&refusing).await, 1);
    redelivered_changes += 1;
    assert!(refusing.take().is_empty());
    // Store fault after the messages were queued: the alerts' new state is
    // not stored, the change is redelivered, and planned again: the same
    // twenty notifications (same ids) are queued a second time.
    faulty.fail_next("update_alert", 1);
    assert_eq!(plan_until_ok(&outbox).await, 1);
    redelivered_changes += 1;
    assert_eq!(plan_until_ok(&outbox).await, 0);
    let mut queue: Vec<Notification> = outbox.take().into_iter().map(|(n, _)| n).collect();
    assert_eq!(queue.len(), 40, "one message per user, planned twice");

    // Bot API: 5xx three times, two hung calls, and (later) 429 twice.
    standin.fail_next("sendMessage", Failure::ServerError, 3);
    let deliver = |n: &Notification, id: String| {
        let body = NotifyMessage::notification_body(n);
        let (notifier, sender, outbox) = (&notifier, &sender, &outbox);
        async move { lambda::notify(notifier, sender, outbox, sqs_event(&id, body)).await }
    };
    let (mut deliveries, mut sqs_retries, mut twice_in_a_row, mut twice_at_once) = (0, 0, 0, 0);
    while let Some(n) = queue.pop() {
        deliveries += 1;
        match deliveries {
            6 => standin.fail_next("sendMessage", Failure::Hang(Duration::from_secs(1)), 2),
            9 => faulty.fail_next("claim_payload", 1),
            12 => faulty.fail_next("alert_quota_hit", 1),
            15 => faulty.fail_next("put_payload", 2),
            18 => standin.fail_next(
                "sendMessage",
                Failure::TooManyRequests { retry_after: 1 },
                2,
            ),
            _ => {}
        }
        let failures = if deliveries % 7 == 0 && twice_at_once < 2 {
            // SQS hands one message to two invocations at the same moment.
            twice_at_once += 1;
            let (a, b) = tokio::join!(
                deliver(&n, format!("{}-a", n.id)),
                deliver(&n, format!("{}-b", n.id))
            );
            a.batch_item_failures.len() + b.batch_item_failures.len()
        } else if deliveries % 5 == 0 && twice_in_a_row < 2 {
            twice_in_a_row += 1;
            let a = deliver(&n, format!("{}-a", n.id)).await;
            let b = deliver(&n, format!("{}-b", n.id)).await;
            a.batch_item_failures.len() + b.batch_item_failures.len()
        } else {
            deliver(&n, n.id.clone()).await.batch_item_failures.len()
        };
        // A failed record is delivered again by SQS.
        for _ in 0..failures {
            sqs_retries += 1;
            queue.insert(0, n.clone());
        }
        // Put-backs come round again, as SQS delivers them after their delay.
        queue.extend(outbox.take().into_iter().map(|(n, _)| n));
        assert!(deliveries < 500, "the queue never drains");
    }
    for &chat in &chats {
        let ok = sends_to(&standin, chat)
            .iter()
            .filter(|c| !c.failed)
            .count();
        assert_eq!(ok, 1, "chat {chat}: {ok} messages");
    }
    let api_faults = standin
        .calls_to("sendMessage")
        .iter()
        .filter(|c| c.failed)
        .count();
    let store_faults = [
        "active_alerts_for",
        "update_alert",
        "claim_payload",
        "alert_quota_hit",
        "put_payload",
    ]
    .map(|m| (m, faulty.injected(m)));
    eprintln!(
        "faults: Bot API {api_faults}, store {store_faults:?}, changes redelivered {redelivered_changes}, \
         notifications failed and redelivered {sqs_retries}, delivered twice in a row {twice_in_a_row}, \
         twice at once {twice_at_once}, deliveries {deliveries}"
    );
    assert_eq!(api_faults, 7, "3 × 5xx, 2 hung, 2 × 429 were injected");
    assert_eq!(
        store_faults.map(|(_, n)| n),
        [1, 1, 1, 1, 2],
        "every store fault was injected"
    );
    assert_eq!((twice_in_a_row, twice_at_once), (2, 2));
    assert_eq!(
        sqs_retries, 2,
        "the failed claim and the failed reservation each failed their record once"
    );
}
