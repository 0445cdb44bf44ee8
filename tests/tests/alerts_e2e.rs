//! Alerts end to end: a shop page changes price, `serve` scrapes, ingests,
//! publishes `PriceChanged`, the notifier plans and sends, and the Bot API
//! stand-in receives the messages. Then the floods: 1,000 alerts for 50
//! chats within Telegram's per-chat limit, and a 429 storm that loses
//! nothing.

use chrono::{Duration as ChronoDuration, Utc};
use pricehound::alerts::local;
use pricehound::alerts::notifier::Notifier;
use pricehound::alerts::rules::AlertPolicy;
use pricehound::alerts::sender::Sender;
use pricehound::bus::memory::MemoryBus;
use pricehound::bus::{Bus, DomainEvent, PriceChanged};
use pricehound::domain::user::{
    Alert, AlertId, AlertRule, AlertTarget, Contact, UserId, UserProfile,
};
use pricehound::domain::{Availability, Currency, ItemId, Money, ObservationId, SourceId};
use pricehound::local::{ServeOptions, TelegramOptions, serve};
use pricehound::sources::SourcesConfig;
use pricehound::store::sqlite::SqliteStore;
use pricehound::store::{AlertStore, UserStore};
use pricehound::telegram::api::{BotApi, BotToken};
use pricehound::telegram::bot::BotConfig;
use pricehound_tests::bot::TOKEN;
use pricehound_tests::pages::{Answer, Scripted};
use pricehound_tests::telegram_standin::{Failure, TelegramStandin};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

fn eur(a: &str) -> Money {
    Money::new(Decimal::from_str(a).unwrap(), Currency::new("EUR").unwrap())
}

fn product_page(price: &str) -> String {
    format!(
        r#"<html><head><title>Widget</title><script type="application/ld+json">
        {{"@context":"https://schema.org","@type":"Product","name":"Widget Pro",
          "offers":{{"@type":"Offer","price":"{price}","priceCurrency":"EUR","availability":"https://schema.org/InStock"}}}}
        </script></head><body><h1>Widget Pro</h1></body></html>"#
    )
}

async fn user(users: &dyn UserStore, id: i64, lang: &str) {
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

fn below(user: i64, item: &ItemId, price: &str) -> Alert {
    Alert {
        id: AlertId::random(),
        user: UserId(user),
        target: AlertTarget::Item(item.clone()),
        rule: AlertRule::Below { price: eur(price) },
        created_at: Utc::now(),
        active: true,
        armed: true,
        reference_price: None,
        last_fired_at: None,
    }
}

/// Waits (bounded) until the stand-in has `n` successful sendMessage calls.
async fn wait_for_messages(standin: &TelegramStandin, n: usize) -> usize {
    for _ in 0..200 {
        let got = standin
            .calls_to("sendMessage")
            .iter()
            .filter(|c| !c.failed)
            .count();
        if got >= n {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    standin
        .calls_to("sendMessage")
        .iter()
        .filter(|c| !c.failed)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_price_crossing_alerts_each_user_once_then_again_only_after_it_re_crosses() {
    let shop = Scripted::default();
    shop.set("/widget", Answer::html(product_page("100.00")));
    let base = shop.start().await;
    let sources = SourcesConfig::from_toml(&format!(
        r#"
[groups.products]
schedule = "rate(6 hours)"

[[sources]]
id = "widget-shop"
name = "Widget Shop"
group = "products"
kind = "product_page"
url = "{base}widget"
"#
    ))
    .unwrap();
    let standin = TelegramStandin::start(TOKEN).await;
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(serve(
        ServeOptions {
            sources,
            db: None,
            listen: "127.0.0.1:0".parse().unwrap(),
            run_at_start: false,
            http: Default::default(),
            retention: Default::default(),
            telegram: Some(TelegramOptions {
                token: BotToken::new(TOKEN).unwrap(),
                api_base: standin.base_url(),
                webhook_secret: None,
                config: BotConfig::default(),
                alerts: AlertPolicy {
                    cooldown: ChronoDuration::zero(),
                    daily_cap: 100,
                },
            }),
        },
        async move {
            let _ = stop_rx.await;
        },
        move |stack| {
            let _ = ready_tx.send((
                stack.scraper.clone(),
                stack.users.clone(),
                stack.store.clone(),
            ));
        },
    ));
    let (scraper, users, store) = ready_rx.await.unwrap();

    let run = |price: &'static str| {
        let scraper = scraper.clone();
        let shop = shop.clone();
        let store = store.clone();
        async move {
            shop.set("/widget", Answer::html(product_page(price)));
            let report = scraper.run_group("products").await.unwrap();
            assert!(report.sources[0].ok, "{report:?}");
            // Polled, not slept: ingest has stored the price (and so put
            // its event in the outbox) within a generous deadline.
            let want = Decimal::from_str(price).unwrap();
            let mut stored = false;
            for _ in 0..400 {
                let latest = store.latest_prices(&Default::default()).await.unwrap();
                if latest
                    .items
                    .iter()
                    .any(|l| l.price.as_ref().is_some_and(|p| p.amount == want))
                {
                    stored = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            assert!(stored, "ingest did not store {price} within 10 s");
        }
    };
    run("100.00").await; // first sight: above the threshold
    let latest = store
        .latest_prices(&Default::default())
        .await
        .unwrap()
        .items;
    assert_eq!(latest.len(), 1, "{latest:?}");
    let item = latest[0].item_id.clone();
    for (id, lang) in [(501, "en"), (502, "ru"), (503, "ar")] {
        user(users.as_ref(), id, lang).await;
        users.put_alert(&below(id, &item, "90")).await.unwrap();
    }
    // Someone else's alert on the same item that never triggers.
    user(users.as_ref(), 504, "fr").await;
    users.put_alert(&below(504, &item, "10")).await.unwrap();
    assert_eq!(wait_for_messages(&standin, 0).await, 0);
    run("85.00").await; // crosses below: one message per user
    assert_eq!(wait_for_messages(&standin, 3).await, 3);
    let chats: Vec<i64> = standin
        .calls_to("sendMessage")
        .iter()
        .map(|c| c.params["chat_id"].as_i64().unwrap())
        .collect();
    for chat in [501, 502, 503] {
        assert_eq!(chats.iter().filter(|c| **c == chat).count(), 1, "{chats:?}");
    }
    let text = standin.calls_to("sendMessage")[0].params["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(text.contains("Widget Pro") && text.contains("85"), "{text}");
    run("84.00").await; // still below: nothing
    run("83.50").await;
    assert_eq!(wait_for_messages(&standin, 4).await, 3);
    run("95.00").await; // back above: re-armed, nothing
    assert_eq!(wait_for_messages(&standin, 4).await, 3);
    run("80.00").await; // crosses again: one more each
    assert_eq!(wait_for_messages(&standin, 6).await, 6);
    // Waits its whole deadline for a seventh that must not come.
    assert_eq!(wait_for_messages(&standin, 7).await, 6, "nothing extra");

    // The stack drains its queue once the last scraper handle is gone.
    drop(scraper);
    stop_tx.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(15), running)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

/// `changes` items each dropping from 100 to 50 EUR.
fn changes(items: &[ItemId]) -> Vec<PriceChanged> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| PriceChanged {
            item_id: item.clone(),
            source_id: SourceId::new("burst").unwrap(),
            item_name: format!("Item {i}"),
            series: None,
            new_item: false,
            old_price: Some(eur("100")),
            new_price: Some(eur("50")),
            old_availability: Some(Availability::InStock),
            availability: Availability::InStock,
            percent_change: Some(Decimal::from(-50)),
            observation_id: ObservationId::new(format!("{:032x}", i + 1)).unwrap(),
            observed_at: Utc::now(),
            link: format!("https://shop.example/{i}"),
        })
        .collect()
}

struct Burst {
    standin: TelegramStandin,
    bus: MemoryBus,
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

/// The serve notifier (plan + send pool) over an in-memory store with
/// `chats` users, each with one Below alert on each of `items` items.
async fn burst(chats: i64, items: usize) -> (Burst, Vec<ItemId>) {
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    let ids: Vec<ItemId> = (0..items)
        .map(|i| ItemId::new(format!("burst:item-{i}")).unwrap())
        .collect();
    for chat in 1..=chats {
        user(store.as_ref(), chat, "en").await;
        for item in &ids {
            store.put_alert(&below(chat, item, "60")).await.unwrap();
        }
    }
    let standin = TelegramStandin::start(TOKEN).await;
    let api = BotApi::new(
        reqwest::Client::new(),
        &standin.base_url(),
        BotToken::new(TOKEN).unwrap(),
    );
    let users: Arc<dyn UserStore> = store;
    let notifier = Arc::new(Notifier::new(
        users.clone(),
        AlertPolicy {
            cooldown: ChronoDuration::zero(),
            daily_cap: 10_000,
        },
    ));
    let sender = Arc::new(Sender::new(api, users).with_daily_cap(10_000));
    let bus = MemoryBus::default();
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(local::run(notifier, sender, bus.subscribe(), stop_rx));
    (
        Burst {
            standin,
            bus,
            stop,
            task,
        },
        ids,
    )
}

/// Waits on the (paused) clock until `n` messages arrived. The deadline is
/// virtual time and generous on purpose: while the store's calls run on
/// the blocking pool the runtime looks idle, and a paused clock jumps ahead
/// then, so a loaded machine spends virtual seconds faster.
async fn arrived(standin: &TelegramStandin, n: usize, within: Duration) -> usize {
    let start = tokio::time::Instant::now();
    loop {
        let got = standin
            .calls_to("sendMessage")
            .iter()
            .filter(|c| !c.failed)
            .count();
        if got >= n || start.elapsed() > within {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(start_paused = true)]
async fn a_thousand_alerts_for_fifty_chats_arrive_at_most_one_per_second_per_chat() {
    let (b, items) = burst(50, 20).await;
    let events: Vec<DomainEvent> = changes(&items)
        .into_iter()
        .map(DomainEvent::PriceChanged)
        .collect();
    b.bus.publish(&events).await.unwrap();
    // 20 messages per chat at 1/s: about 20 s of (virtual) time.
    assert_eq!(
        arrived(&b.standin, 1000, Duration::from_secs(3600)).await,
        1000
    );
    let sent: Vec<_> = b
        .standin
        .calls_to("sendMessage")
        .into_iter()
        .filter(|c| !c.failed)
        .collect();
    let mut per_chat: HashMap<i64, Vec<tokio::time::Instant>> = HashMap::new();
    let mut texts = std::collections::HashSet::new();
    for c in &sent {
        let chat = c.params["chat_id"].as_i64().unwrap();
        per_chat.entry(chat).or_default().push(c.at);
        assert!(
            texts.insert((chat, c.params["text"].as_str().unwrap().to_string())),
            "a duplicate message"
        );
    }
    assert_eq!(per_chat.len(), 50);
    for (chat, mut times) in per_chat {
        assert_eq!(times.len(), 20, "chat {chat}");
        times.sort();
        for w in times.windows(2) {
            let gap = w[1] - w[0];
            assert!(
                gap >= Duration::from_millis(990),
                "chat {chat}: two messages {gap:?} apart"
            );
        }
    }
    // Overall: never more than ~25 in any one second.
    let mut all: Vec<_> = sent.iter().map(|c| c.at).collect();
    all.sort();
    for (i, t) in all.iter().enumerate() {
        let in_second = all[i..]
            .iter()
            .take_while(|u| **u - *t < Duration::from_secs(1))
            .count();
        assert!(in_second <= 26, "{in_second} messages within one second");
    }
    let _ = b.stop.send(true);
    let _ = b.task.await;
}

#[tokio::test(start_paused = true)]
async fn a_429_storm_delays_messages_but_every_one_arrives_once() {
    let (b, items) = burst(10, 10).await;
    // Telegram answers 429 (retry after 5 s) to the first 60 attempts.
    b.standin.fail_next(
        "sendMessage",
        Failure::TooManyRequests { retry_after: 5 },
        60,
    );
    let events: Vec<DomainEvent> = changes(&items)
        .into_iter()
        .map(DomainEvent::PriceChanged)
        .collect();
    b.bus.publish(&events).await.unwrap();
    assert_eq!(
        arrived(&b.standin, 100, Duration::from_secs(3600)).await,
        100
    );
    let sent: Vec<_> = b
        .standin
        .calls_to("sendMessage")
        .into_iter()
        .filter(|c| !c.failed)
        .collect();
    let unique: std::collections::HashSet<(i64, String)> = sent
        .iter()
        .map(|c| {
            (
                c.params["chat_id"].as_i64().unwrap(),
                c.params["text"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(unique.len(), 100, "every message once");
    assert_eq!(sent.len(), 100, "and no message twice");
    assert_eq!(
        b.standin
            .calls_to("sendMessage")
            .iter()
            .filter(|c| c.failed)
            .count(),
        60
    );
    let _ = b.stop.send(true);
    let _ = b.task.await;
}

#[tokio::test(start_paused = true)]
async fn a_user_who_blocked_the_bot_is_not_retried_and_their_alerts_pause() {
    let (b, items) = burst(3, 2).await;
    b.standin.fail_chat(2, Failure::Blocked);
    let events: Vec<DomainEvent> = changes(&items)
        .into_iter()
        .map(DomainEvent::PriceChanged)
        .collect();
    b.bus.publish(&events).await.unwrap();
    assert_eq!(arrived(&b.standin, 4, Duration::from_secs(3600)).await, 4);
    tokio::time::sleep(Duration::from_secs(30)).await;
    let to_blocked = b
        .standin
        .calls_to("sendMessage")
        .iter()
        .filter(|c| c.params["chat_id"] == 2)
        .count();
    assert!(to_blocked <= 2, "{to_blocked} attempts to a blocked chat");
    let _ = b.stop.send(true);
    let _ = b.task.await;
}

/// What the notifier holds back is counted by reason (the
/// `alerts_suppressed` metric): a firing inside the cooldown, and one past
/// the user's daily cap.
#[tokio::test]
async fn the_plan_counts_firings_held_back_by_cooldown_and_by_the_daily_cap() {
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    user(store.as_ref(), 7, "en").await;
    let items: Vec<ItemId> = (0..2)
        .map(|i| ItemId::new(format!("held:item-{i}")).unwrap())
        .collect();
    for item in &items {
        store.put_alert(&below(7, item, "60")).await.unwrap();
    }
    let users: Arc<dyn UserStore> = store;
    let notifier = Notifier::new(
        users,
        AlertPolicy {
            cooldown: ChronoDuration::minutes(30),
            daily_cap: 1,
        },
    );
    let moved = |item: &ItemId, n: usize, old: &str, new: &str| {
        let mut c = changes(std::slice::from_ref(item)).remove(0);
        c.observation_id = ObservationId::new(format!("{:032x}", 100 + n)).unwrap();
        c.old_price = Some(eur(old));
        c.new_price = Some(eur(new));
        c
    };
    // Item 0: below 60 fires, 70 re-arms, below again inside the cooldown
    // is held back. Item 1: fires, but the user's one message a day is spent.
    let plan = notifier
        .plan(
            &[
                moved(&items[0], 1, "100", "50"),
                moved(&items[0], 2, "50", "70"),
                moved(&items[0], 3, "70", "55"),
                moved(&items[1], 4, "100", "50"),
            ],
            Utc::now(),
        )
        .await
        .unwrap();
    assert_eq!(plan.notifications.len(), 1);
    assert_eq!(plan.cooled, 1, "the second crossing of item 0");
    assert_eq!(plan.capped, 1, "item 1 past the daily cap");
}

/// `serve` keeps its notifications in the SQLite file: one waiting out a
/// 429 when the process dies (the task aborted, nothing closed) is sent
/// after the restart, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notification_waiting_out_a_429_survives_a_restart() {
    let dir = std::env::temp_dir().join(pricehound_tests::services::unique_name("durable"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("pricehound.db");
    let item = ItemId::new("durable:item-0").unwrap();
    let chat = 77;
    {
        let store = SqliteStore::open(&path).unwrap();
        user(&store, chat, "en").await;
        store.put_alert(&below(chat, &item, "60")).await.unwrap();
    }
    let standin = TelegramStandin::start(TOKEN).await;
    standin.fail_next(
        "sendMessage",
        Failure::TooManyRequests { retry_after: 2 },
        1,
    );
    let start = |path: std::path::PathBuf| {
        let base = standin.base_url();
        async move {
            let store = Arc::new(SqliteStore::open(&path).unwrap());
            let users: Arc<dyn UserStore> = store.clone();
            let api = BotApi::new(reqwest::Client::new(), &base, BotToken::new(TOKEN).unwrap());
            let notifier = Arc::new(Notifier::new(users.clone(), AlertPolicy::default()));
            let sender = Arc::new(Sender::new(api, users));
            let bus = MemoryBus::default();
            let (stop, stop_rx) = tokio::sync::watch::channel(false);
            let task = tokio::spawn(local::run_durable(
                notifier,
                sender,
                bus.subscribe(),
                stop_rx,
                store,
            ));
            (bus, stop, task)
        }
    };
    let (bus, _stop, task) = start(path.clone()).await;
    bus.publish(&[DomainEvent::PriceChanged(
        changes(std::slice::from_ref(&item)).remove(0),
    )])
    .await
    .unwrap();
    // Polled: the first try was throttled.
    for _ in 0..400 {
        if !standin.calls_to("sendMessage").is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(standin.calls_to("sendMessage").len(), 1);
    assert!(standin.calls_to("sendMessage")[0].failed, "the 429");
    // Let the put-back reach the file, then the process "dies".
    tokio::time::sleep(Duration::from_millis(300)).await;
    task.abort();
    let _ = task.await;

    let (_bus, stop, task) = start(path.clone()).await;
    assert_eq!(
        wait_for_messages(&standin, 1).await,
        1,
        "sent after the restart"
    );
    // Waits its whole deadline for a second that must not come.
    assert_eq!(wait_for_messages(&standin, 2).await, 1, "and only once");
    let _ = stop.send(true);
    let _ = task.await;
}

/// A notification can wait longer than its lease (a chat's messages go out
/// at 1/s): while it is in flight the durable outbox renews its lease
/// instead of handing it out again; once put back it comes round once more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_durable_outbox_hands_a_message_out_once_while_it_is_in_flight() {
    use pricehound::alerts::notifier::Notification;
    use pricehound::alerts::outbox::{DurableOutbox, Outbox};
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    let outbox = Arc::new(DurableOutbox::new(store).with_lease(Duration::from_millis(100)));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let pump = tokio::spawn(outbox.clone().pump(tx, stop_rx));
    let message = |i: i64| Notification {
        id: format!("lease-{i}"),
        user: UserId(i),
        alert_id: AlertId::random(),
        chat_id: i,
        text: format!("message {i}"),
        keyboard: Default::default(),
        attempts: 0,
        planned_at: None,
    };
    outbox
        .put(&[message(1), message(2)], Duration::ZERO)
        .await
        .unwrap();
    let mut got = Vec::new();
    while got.len() < 2 {
        let n = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("handed out within 10 s")
            .unwrap();
        got.push(n.id);
    }
    got.sort();
    assert_eq!(got, ["lease-1", "lease-2"]);
    // Seven leases run out while both are "being sent": nothing again.
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(rx.try_recv().is_err(), "handed out twice while in flight");
    // One is done, the other put back: only that one comes round, once.
    outbox.delivered(&message(1)).await.unwrap();
    outbox.put(&[message(2)], Duration::ZERO).await.unwrap();
    let again = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("the put-back comes round")
        .unwrap();
    assert_eq!(again.id, "lease-2");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(rx.try_recv().is_err());
    let _ = stop.send(true);
    let _ = pump.await;
}
