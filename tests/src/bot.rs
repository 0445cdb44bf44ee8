//! A bot wired like production, for conversation tests: SQLite store with a
//! few items, the webhook route on the real Router, and the Bot API
//! stand-in recording what the bot sends.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{DateTime, Duration, TimeZone, Utc};
use pricehound::domain::{
    Availability, Currency, ItemDetails, ItemId, Money, Observation, Provenance, SeriesId,
};
use pricehound::http::{AppState, router};
use pricehound::sources::SourcesConfig;
use pricehound::sources::tracked::Tracker;
use pricehound::store::sqlite::SqliteStore;
use pricehound::store::{Store, UserStore};
use pricehound::telegram::api::{BotApi, BotToken};
use pricehound::telegram::bot::tracking::{self, LocalTrackJobs};
use pricehound::telegram::bot::{Bot, BotConfig, TrackJobs};
use pricehound::telegram::dispatch::Dispatcher;
use pricehound::telegram::webhook::{SECRET_HEADER, WebhookSecret, WebhookState};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use tower::ServiceExt;

use crate::telegram_standin::TelegramStandin;

pub const TOKEN: &str = "123456789:AAE_test-token-for-the-standin-0123456";
pub const SECRET: &str = "test-secret_0123456789-abcdefghijklmnop";
pub const ADMIN: i64 = 9000;

pub struct BotHarness {
    pub store: Arc<SqliteStore>,
    pub standin: TelegramStandin,
    pub app: Router,
    next_update: AtomicI64,
}

/// Items every conversation can use (their sources are in the default
/// `sources.toml`, so names resolve).
pub fn seed_observations(now: DateTime<Utc>) -> Vec<Observation> {
    let page = |url: &str, at: DateTime<Utc>| Provenance::Page {
        url: url.to_string(),
        fetched_at: at,
    };
    let money =
        |a: &str, c: &str| Money::new(Decimal::from_str(a).unwrap(), Currency::new(c).unwrap());
    let mut out = Vec::new();
    for (i, (key, name, brand, price)) in [
        ("darkside-cola", "Darkside Cola", "Darkside", "1450"),
        (
            "darkside-bounty-hunter",
            "Darkside Bounty Hunter",
            "Darkside",
            "1450",
        ),
        ("musthave-pinkman", "Must Have Pinkman", "Must Have", "1190"),
        (
            "musthave-milky-rice",
            "Must Have Milky Rice <&>",
            "Must Have",
            "1190",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let id = ItemId::new(format!("htreviews-tobacco:{key}")).unwrap();
        // A week of daily prices, for charts.
        for day in 0..7 {
            let at = now - Duration::days(7 - day) + Duration::minutes(i as i64);
            let amount = Decimal::from_str(price).unwrap() + Decimal::from(day * 10);
            out.push(
                Observation::new(
                    id.source_id(),
                    id.clone(),
                    name,
                    None,
                    money(&amount.to_string(), "RUB"),
                    at,
                    page(&format!("https://htreviews.org/tobacco/{key}"), at),
                )
                .with_availability(Availability::InStock)
                .with_details(ItemDetails {
                    url: Some(format!("https://htreviews.org/tobacco/{key}")),
                    image: None,
                    brand: Some(brand.to_string()),
                }),
            );
        }
    }
    let gold = ItemId::new("tg-bijouterie-dz:gold-18k").unwrap();
    out.push(Observation::new(
        gold.source_id(),
        gold,
        "Or 18 carats",
        Some(SeriesId::new("gold-18k").unwrap()),
        money("13500", "DZD"),
        now - Duration::hours(2),
        Provenance::TelegramPost {
            channel: "bijouterie_dz".into(),
            post_id: 77,
        },
    ));
    let gpu = ItemId::new("olx-gpu:rtx-4070-gaming-oc").unwrap();
    out.push(
        Observation::new(
            gpu.source_id(),
            gpu,
            "RTX 4070 Gaming OC 12GB",
            Some(SeriesId::new("rtx-4070").unwrap()),
            money("1100", "BGN"),
            now - Duration::hours(1),
            page(
                "https://www.olx.bg/ad/rtx-4070-gaming-oc",
                now - Duration::hours(1),
            ),
        )
        .with_availability(Availability::InStock),
    );
    out
}

/// A fixed "now" a few minutes after the seeded data, so charts have a week.
pub fn now() -> DateTime<Utc> {
    Utc::now()
}

impl BotHarness {
    /// A bot whose throttle never trips (conversations send many messages
    /// within seconds); `start_with` tests the throttle itself.
    pub async fn start() -> BotHarness {
        Self::start_with(BotConfig {
            burst: 10_000,
            ..BotConfig::default()
        })
        .await
    }

    /// A bot that offers to track pasted links (read with the real fetcher,
    /// which goes to loopback servers only in tests). Pressed "Track"
    /// buttons go to the in-process track jobs and their worker, as in
    /// `serve`; [`BotHarness::wait_for_message`] waits for the answer.
    pub async fn start_tracking() -> BotHarness {
        Self::start_tracking_with(BotConfig::default()).await
    }

    /// [`BotHarness::start_tracking`] with other caps or deadline (the
    /// throttle never trips).
    pub async fn start_tracking_with(config: BotConfig) -> BotHarness {
        Self::build(
            BotConfig {
                burst: 10_000,
                ..config
            },
            Tracking::Local,
        )
        .await
    }

    /// A tracking bot whose pressed "Track" buttons go to `jobs` (e.g. the
    /// notifications queue, as in Lambda); nothing runs them here.
    pub async fn start_tracking_via(jobs: Arc<dyn TrackJobs>) -> BotHarness {
        Self::build(
            BotConfig {
                burst: 10_000,
                ..BotConfig::default()
            },
            Tracking::Via(jobs),
        )
        .await
    }

    pub async fn start_with(config: BotConfig) -> BotHarness {
        Self::build(config, Tracking::Off).await
    }

    async fn build(mut config: BotConfig, tracking: Tracking) -> BotHarness {
        config.admins.insert(ADMIN);
        config.username = Some("pricehound_test_bot".into());
        let store = Arc::new(SqliteStore::in_memory().unwrap());
        for o in seed_observations(now()) {
            store.record(&o).await.unwrap();
        }
        let standin = TelegramStandin::start(TOKEN).await;
        let api = BotApi::new(
            reqwest::Client::new(),
            &standin.base_url(),
            BotToken::new(TOKEN).unwrap(),
        );
        let sources = Arc::new(SourcesConfig::default_sources());
        let mut bot = Bot::new(store.clone(), store.clone(), sources.clone(), config);
        let mut track_queue = None;
        let jobs: Option<Arc<dyn TrackJobs>> = match tracking {
            Tracking::Off => None,
            Tracking::Local => {
                let (jobs, queue) = LocalTrackJobs::new(tracking::LOCAL_BACKLOG);
                track_queue = Some(queue);
                Some(Arc::new(jobs))
            }
            Tracking::Via(jobs) => Some(jobs),
        };
        if let Some(jobs) = jobs {
            bot = bot
                .with_tracker(Arc::new(tracker(store.clone())))
                .with_track_jobs(jobs);
        }
        let dispatcher = Arc::new(Dispatcher::new(Arc::new(bot), api));
        if let Some(queue) = track_queue {
            // The test's runtime ends the worker.
            tokio::spawn(tracking::run_local(
                queue,
                dispatcher.clone(),
                tracking::LOCAL_CONCURRENCY,
                std::future::pending(),
            ));
        }
        let app = router(AppState {
            store: store.clone(),
            sources: sources.into(),
            telegram: Some(WebhookState {
                dispatcher,
                secret: WebhookSecret::new(SECRET).unwrap(),
            }),
        });
        BotHarness {
            store,
            standin,
            app,
            next_update: AtomicI64::new(1000),
        }
    }

    pub fn users(&self) -> &dyn UserStore {
        self.store.as_ref()
    }

    /// POSTs raw bytes to the webhook with `secret`; the status and body.
    pub async fn post_raw(&self, body: Vec<u8>, secret: Option<&str>) -> (StatusCode, Vec<u8>) {
        let mut req = Request::post("/telegram/webhook").header("content-type", "application/json");
        if let Some(s) = secret {
            req = req.header(SECRET_HEADER, s);
        }
        let resp = self
            .app
            .clone()
            .oneshot(req.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, bytes.to_vec())
    }

    /// Sends an update (an `update_id` is added when missing) and returns
    /// every call the bot made for it, in order: the ones sent to the
    /// stand-in, then the one in the webhook response body.
    pub async fn send(&self, mut update: Value) -> Vec<Value> {
        if update.get("update_id").is_none() {
            update["update_id"] = json!(self.next_update.fetch_add(1, Ordering::SeqCst));
        }
        self.standin.clear();
        let (status, body) = self
            .post_raw(serde_json::to_vec(&update).unwrap(), Some(SECRET))
            .await;
        assert_eq!(status, StatusCode::OK, "the webhook answers 200");
        let mut calls: Vec<Value> = self
            .standin
            .calls()
            .into_iter()
            .map(|c| {
                let mut p = c.params.clone();
                p["method"] = json!(c.method);
                p
            })
            .collect();
        if !body.is_empty() {
            calls.push(serde_json::from_slice(&body).expect("a webhook body is JSON"));
        }
        calls
    }

    /// Waits for a `sendMessage` to `chat` whose text satisfies `pred`,
    /// among the calls the stand-in received since the last update was
    /// sent: the answer of a track job, which arrives after the webhook
    /// answered. Panics (rather than hang) if none comes in a minute.
    pub async fn wait_for_message(&self, chat: i64, pred: impl Fn(&str) -> bool) -> Value {
        for _ in 0..6_000 {
            let found = self.standin.calls_to("sendMessage").into_iter().find(|c| {
                c.params["chat_id"].as_i64() == Some(chat)
                    && c.params["text"].as_str().is_some_and(&pred)
            });
            if let Some(c) = found {
                return c.params.clone();
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("no such message to chat {chat}: {:?}", self.standin.calls());
    }

    /// A user types `text` in their private chat.
    pub async fn say(&self, user: i64, lang: &str, text: &str) -> Vec<Value> {
        self.send(message(user, lang, text)).await
    }

    /// A user presses a button with `data` on message `message_id`.
    pub async fn press(&self, user: i64, lang: &str, data: &str) -> Vec<Value> {
        self.send(callback(user, lang, data, 500)).await
    }
}

/// How a harness bot tracks pasted pages.
enum Tracking {
    Off,
    /// In-process jobs and worker, as in `serve`.
    Local,
    /// Jobs handed to this port; nothing runs them.
    Via(Arc<dyn TrackJobs>),
}

/// The tracker the harness bots read pasted pages with: the guarded
/// fetcher for user links over the test resolver, into the products group.
pub fn tracker(store: Arc<SqliteStore>) -> Tracker {
    Tracker {
        fetcher: crate::user_links::fetcher(),
        store: store.clone(),
        users: store,
        group: "products".into(),
    }
}

pub fn user_json(user: i64, lang: &str) -> Value {
    json!({ "id": user, "is_bot": false, "first_name": format!("User{user}"), "language_code": lang })
}

pub fn message(user: i64, lang: &str, text: &str) -> Value {
    json!({ "message": {
        "message_id": 10,
        "from": user_json(user, lang),
        "chat": { "id": user, "type": "private", "first_name": format!("User{user}") },
        "date": 1_700_000_000,
        "text": text,
    }})
}

pub fn callback(user: i64, lang: &str, data: &str, message_id: i64) -> Value {
    json!({ "callback_query": {
        "id": format!("cb{user}{message_id}"),
        "from": user_json(user, lang),
        "message": {
            "message_id": message_id,
            "chat": { "id": user, "type": "private" },
            "date": 1_700_000_000,
            "text": "an earlier message",
        },
        "chat_instance": "42",
        "data": data,
    }})
}

/// Every `callback_data` in the calls' inline keyboards.
pub fn buttons(calls: &[Value]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for c in calls {
        if let Some(rows) = c["reply_markup"]["inline_keyboard"].as_array() {
            for row in rows {
                for b in row.as_array().unwrap() {
                    if let Some(d) = b["callback_data"].as_str() {
                        out.push((
                            b["text"].as_str().unwrap_or_default().to_string(),
                            d.to_string(),
                        ));
                    }
                }
            }
        }
    }
    out
}

/// The texts of the calls (message texts and captions), joined.
pub fn texts(calls: &[Value]) -> String {
    calls
        .iter()
        .filter_map(|c| c["text"].as_str().or(c["caption"].as_str()))
        .collect::<Vec<_>>()
        .join("\n---\n")
}

/// A fixed time, for tests that do not need "now".
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

/// Checks what Telegram would refuse in a call: text over 4096 characters
/// (visible), HTML it cannot parse, callback data over 64 bytes.
pub fn assert_sendable(calls: &[Value]) {
    for c in calls {
        for field in ["text", "caption"] {
            if let Some(t) = c[field].as_str() {
                let visible = pricehound::telegram::html::visible_len(t);
                let max = if field == "text" { 4096 } else { 1024 };
                assert!(visible <= max, "{field} of {visible} characters: {t}");
                assert!(!t.trim().is_empty(), "empty {field}");
                check_html(t);
            }
        }
        for (_, data) in buttons(std::slice::from_ref(c)) {
            assert!(
                !data.is_empty() && data.len() <= 64,
                "callback data {data:?}"
            );
        }
    }
}

/// Only Telegram's tags, balanced; only its entities.
fn check_html(t: &str) {
    const TAGS: &[&str] = &["b", "i", "a", "u", "s", "code", "pre", "blockquote"];
    let mut stack = Vec::new();
    let mut rest = t;
    while let Some(i) = rest.find(['<', '&']) {
        rest = &rest[i..];
        if rest.starts_with('&') {
            let end = rest.find(';').unwrap_or_else(|| panic!("bare & in {t:?}"));
            let name = &rest[1..end];
            assert!(
                matches!(name, "lt" | "gt" | "amp" | "quot") || name.starts_with('#'),
                "entity &{name}; in {t:?}"
            );
            rest = &rest[end + 1..];
        } else {
            let end = rest
                .find('>')
                .unwrap_or_else(|| panic!("unclosed tag in {t:?}"));
            let tag = &rest[1..end];
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(stack.pop(), Some(name.to_string()), "in {t:?}");
            } else {
                let name = tag
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_string();
                assert!(TAGS.contains(&name.as_str()), "tag <{name}> in {t:?}");
                stack.push(name);
            }
            rest = &rest[end + 1..];
        }
    }
    assert!(stack.is_empty(), "unclosed {stack:?} in {t:?}");
}
