//! `kill -9` of the real `pricehound serve` around a price change: at
//! first sight of the item, right after the shop served the changed page,
//! right after Telegram throttled the alert (429), and right after the
//! alert went out. After each kill serve starts again on the same SQLite
//! file (every start scrapes once). The user gets the alert exactly once,
//! and no observation the shop showed is lost.

use chrono::Utc;
use pricehound::domain::user::{
    Alert, AlertId, AlertRule, AlertTarget, Contact, UserId, UserProfile,
};
use pricehound::domain::{Currency, Money};
use pricehound::store::sqlite::SqliteStore;
use pricehound::store::{AlertStore, LatestQuery, Store, UserProfiles};
use pricehound_tests::bot::TOKEN;
use pricehound_tests::cli::{serve_command, spawn_serving};
use pricehound_tests::pages::{Answer, Scripted};
use pricehound_tests::services::unique_name;
use pricehound_tests::telegram_standin::{Failure, TelegramStandin};
use rust_decimal::Decimal;
use std::path::Path;
use std::process::Child;
use std::str::FromStr;
use std::time::{Duration, Instant};

const CHAT: i64 = 42_424_242;

fn product_page(price: &str) -> String {
    format!(
        r#"<html><head><title>Widget</title><script type="application/ld+json">
        {{"@context":"https://schema.org","@type":"Product","name":"Widget Pro",
          "offers":{{"@type":"Offer","price":"{price}","priceCurrency":"EUR","availability":"https://schema.org/InStock"}}}}
        </script></head><body><h1>Widget Pro</h1></body></html>"#
    )
}

/// A running `pricehound serve`; killed with SIGKILL (`Child::kill`) when
/// the test says so or when dropped.
struct Serve(Child);

impl Serve {
    fn kill_9(mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(dir: &Path, standin: &TelegramStandin) -> Serve {
    let sources = dir.join("sources.toml");
    let db = dir.join("p.db");
    let mut cmd = serve_command(&[
        "--sources",
        sources.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ]);
    cmd.env("PRICEHOUND_BOT_TOKEN", TOKEN)
        .env("PRICEHOUND_TELEGRAM_API", standin.base_url())
        .env("PRICEHOUND_ALERT_COOLDOWN_MINUTES", "0")
        .env("RUST_LOG", "warn");
    let (child, _) = spawn_serving(cmd);
    Serve(child)
}

/// Polls `done` every 25 ms for up to 30 s.
async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..1200 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("waited 30 s for {what}");
}

fn sent_ok(standin: &TelegramStandin) -> usize {
    standin
        .calls_to("sendMessage")
        .iter()
        .filter(|c| c.params["chat_id"] == CHAT && !c.failed)
        .count()
}

fn tried(standin: &TelegramStandin) -> usize {
    standin
        .calls_to("sendMessage")
        .iter()
        .filter(|c| c.params["chat_id"] == CHAT)
        .count()
}

async fn history_len(db: &Path) -> usize {
    let store = SqliteStore::open(db).unwrap();
    let latest = store
        .latest_prices(&LatestQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    let Some(item) = latest.items.first() else {
        return 0;
    };
    store
        .history(&item.item_id, &Default::default())
        .await
        .unwrap()
        .items
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_around_a_price_change_loses_nothing_and_alerts_once() {
    let dir = std::env::temp_dir().join(unique_name("serve-kill"));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("p.db");
    let shop = Scripted::default();
    shop.set("/widget", Answer::html(product_page("100.00")));
    let base = shop.start().await;
    std::fs::write(
        dir.join("sources.toml"),
        format!(
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
        ),
    )
    .unwrap();
    let standin = TelegramStandin::start(TOKEN).await;

    // Point 1: killed as soon as the first sight of the item is stored.
    let serve = start(&dir, &standin);
    let mut seen = 0;
    for _ in 0..1200 {
        seen = history_len(&db).await;
        if seen > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(seen, 1, "the first sight is stored");
    serve.kill_9();

    // The user and an alert below 90 EUR, written while serve is down.
    let item = {
        let store = SqliteStore::open(&db).unwrap();
        let latest = store.latest_prices(&Default::default()).await.unwrap();
        let item = latest.items[0].item_id.clone();
        store
            .touch_user(&Contact {
                profile: UserProfile {
                    id: UserId(CHAT),
                    first_name: "Ana".into(),
                    last_name: None,
                    username: None,
                    language_code: Some("en".into()),
                },
                at: Utc::now(),
                referrer: None,
            })
            .await
            .unwrap();
        store
            .put_alert(&Alert {
                id: AlertId::random(),
                user: UserId(CHAT),
                target: AlertTarget::Item(item.clone()),
                rule: AlertRule::Below {
                    price: Money::new(
                        Decimal::from_str("90").unwrap(),
                        Currency::new("EUR").unwrap(),
                    ),
                },
                created_at: Utc::now(),
                active: true,
                armed: true,
                reference_price: None,
                last_fired_at: None,
            })
            .await
            .unwrap();
        item
    };

    // Point 2: the price drops; killed the moment the shop served the page.
    shop.set("/widget", Answer::html(product_page("85.00")));
    let widget_reads = |shop: &Scripted| shop.requests().iter().filter(|r| *r == "/widget").count();
    let before = widget_reads(&shop);
    let serve = start(&dir, &standin);
    wait_until("the changed page to be fetched", || {
        widget_reads(&shop) > before
    })
    .await;
    serve.kill_9();

    // Point 3: Telegram throttles the alert's first try; killed right after.
    standin.fail_next(
        "sendMessage",
        Failure::TooManyRequests { retry_after: 1 },
        1,
    );
    let serve = start(&dir, &standin);
    wait_until("the alert's first (throttled) try", || tried(&standin) >= 1).await;
    // Let the put-back reach the file.
    tokio::time::sleep(Duration::from_millis(300)).await;
    serve.kill_9();
    assert_eq!(sent_ok(&standin), 0);

    // Point 4: the restart sends it; killed right after it went out.
    let serve = start(&dir, &standin);
    wait_until("the alert to go out", || sent_ok(&standin) >= 1).await;
    serve.kill_9();

    // A last start, left running: nothing more for this user.
    let serve = start(&dir, &standin);
    let quiet = Instant::now();
    while quiet.elapsed() < Duration::from_secs(4) {
        assert_eq!(sent_ok(&standin), 1, "the alert went out twice");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    serve.kill_9();

    assert_eq!(sent_ok(&standin), 1, "exactly once");
    let text = standin
        .calls_to("sendMessage")
        .into_iter()
        .find(|c| c.params["chat_id"] == CHAT && !c.failed)
        .unwrap();
    assert!(
        text.params["text"].as_str().unwrap().contains("85"),
        "{:?}",
        text.params
    );
    // Nothing the shop showed is lost: the first sight, the change, and the
    // later reads of the same price are all in the history.
    let store = SqliteStore::open(&db).unwrap();
    let latest = store.latest_price(&item).await.unwrap().unwrap();
    assert_eq!(latest.price.unwrap().amount, Decimal::from(85));
    let reads = shop.requests().iter().filter(|r| *r == "/widget").count();
    let stored = history_len(&db).await;
    assert!(stored >= 2, "first sight and the change: {stored}");
    assert!(
        stored <= reads,
        "never more than was read: {stored} of {reads}"
    );
    let alert = &store.alerts(UserId(CHAT)).await.unwrap()[0];
    assert!(
        alert.active && !alert.armed,
        "fired once, disarmed: {alert:?}"
    );
}
