//! The webhook route: what Telegram sends (every kind, malformed, replayed,
//! forged) and how the answer reaches it, through the real Router and the
//! Bot API stand-in.

use axum::http::StatusCode;
use pricehound::domain::ItemId;
use pricehound::domain::user::{Alert, AlertId, AlertRule, AlertTarget, Lang, UserId};
use pricehound::telegram::bot::BotConfig;
use pricehound::telegram::texts::{Text, render};
use pricehound_tests::bot::{BotHarness, SECRET, message};
use pricehound_tests::telegram_standin::Failure;
use serde_json::json;
use std::path::PathBuf;

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/telegram/updates")
}

fn files(dir: &PathBuf) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no files in {}", dir.display());
    out
}

#[tokio::test]
async fn every_kind_of_update_in_the_corpus_is_answered_200() {
    let h = BotHarness::start().await;
    for path in files(&corpus_dir()) {
        let body = std::fs::read(&path).unwrap();
        let (status, reply) = h.post_raw(body, Some(SECRET)).await;
        assert_eq!(status, StatusCode::OK, "{}", path.display());
        if !reply.is_empty() {
            let v: serde_json::Value = serde_json::from_slice(&reply).unwrap();
            assert!(v["method"].is_string(), "{}: {v}", path.display());
        }
    }
    // Not even updates: still 200, so Telegram does not retry forever.
    for path in files(&corpus_dir().join("invalid")) {
        let (status, reply) = h
            .post_raw(std::fs::read(&path).unwrap(), Some(SECRET))
            .await;
        assert_eq!(status, StatusCode::OK, "{}", path.display());
        assert!(reply.is_empty(), "{}", path.display());
    }
}

#[tokio::test]
async fn a_private_text_message_is_answered_in_the_webhook_body() {
    let h = BotHarness::start().await;
    let body = std::fs::read(corpus_dir().join("message_private_text.json")).unwrap();
    let (status, reply) = h.post_raw(body, Some(SECRET)).await;
    assert_eq!(status, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_slice(&reply).unwrap();
    assert_eq!(v["method"], "sendMessage");
    assert!(
        h.standin.calls().is_empty(),
        "one call, in the body: no second round trip"
    );
}

#[tokio::test]
async fn forged_and_missing_secrets_are_rejected_and_nothing_is_processed() {
    let h = BotHarness::start().await;
    let update = json!({"update_id": 5, "message": message(1, "en", "/start")["message"]});
    let body = serde_json::to_vec(&update).unwrap();
    for secret in [
        None,
        Some("wrong"),
        Some(""),
        Some(&SECRET[..SECRET.len() - 1]),
        Some("test-secret_0123456789x"),
    ] {
        let (status, reply) = h.post_raw(body.clone(), secret).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{secret:?}");
        // Our JSON error shape, and nothing about the secret.
        let reply = String::from_utf8_lossy(&reply);
        assert!(reply.contains(r#""code":"unauthorized""#), "{reply}");
        assert!(!reply.contains("test-secret"), "{reply}");
    }
    assert!(
        h.users().user(UserId(1)).await.unwrap().is_none(),
        "no user recorded"
    );
    // The same update with the right secret is still new.
    let (status, reply) = h.post_raw(body, Some(SECRET)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!reply.is_empty());
}

#[tokio::test]
async fn a_replayed_update_is_answered_once() {
    let h = BotHarness::start().await;
    let update = json!({"update_id": 777, "message": message(2, "en", "/prices")["message"]});
    let first = h.send(update.clone()).await;
    assert_eq!(first.len(), 1);
    let again = h.send(update.clone()).await;
    assert!(
        again.is_empty(),
        "a retry after a timeout is not answered again: {again:#?}"
    );
    assert!(
        !h.users()
            .claim_update(777, chrono::Utc::now())
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn an_oversized_or_broken_body_is_dropped_with_200() {
    let h = BotHarness::start().await;
    let huge = format!(
        r#"{{"update_id": 1, "message": {{"text": "{}"}}}}"#,
        "x".repeat(2 * 1024 * 1024)
    );
    let (status, reply) = h.post_raw(huge.into_bytes(), Some(SECRET)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(reply.is_empty());
    let (status, _) = h.post_raw(b"\xff\xfe{".to_vec(), Some(SECRET)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_flood_gets_one_slow_down_then_silence() {
    let h = BotHarness::start_with(BotConfig {
        burst: 3,
        ..BotConfig::default()
    })
    .await;
    let mut answered = 0;
    let mut slow_downs = 0;
    for _ in 0..8 {
        let calls = h.say(3, "ru", "/help").await;
        for c in &calls {
            if c["text"] == render(Lang::Ru, &Text::SlowDown) {
                slow_downs += 1;
            } else {
                answered += 1;
            }
        }
    }
    // The window is 10 s; a slow machine may cross one boundary.
    assert!((3..=6).contains(&answered), "{answered}");
    assert!((1..=2).contains(&slow_downs), "{slow_downs}");
    // A pressed button is still answered (the spinner stops) when throttled.
    let pressed = h.press(3, "ru", "k|n").await;
    assert_eq!(pressed.last().unwrap()["method"], "answerCallbackQuery");
}

fn alert(user: i64) -> Alert {
    Alert {
        id: AlertId::random(),
        user: UserId(user),
        target: AlertTarget::Item(ItemId::new("htreviews-tobacco:darkside-cola").unwrap()),
        rule: AlertRule::BackInStock,
        created_at: chrono::Utc::now(),
        active: true,
        armed: true,
        reference_price: None,
        last_fired_at: None,
    }
}

#[tokio::test]
async fn a_user_who_blocks_the_bot_has_their_alerts_paused() {
    let h = BotHarness::start().await;
    let body = std::fs::read(corpus_dir().join("my_chat_member_kicked.json")).unwrap();
    let user: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let id = user["my_chat_member"]["from"]["id"].as_i64().unwrap();
    h.users().put_alert(&alert(id)).await.unwrap();
    let (status, _) = h.post_raw(body, Some(SECRET)).await;
    assert_eq!(status, StatusCode::OK);
    let alerts = h.users().alerts(UserId(id)).await.unwrap();
    assert!(alerts.iter().all(|a| !a.active), "{alerts:?}");
    assert!(
        h.users()
            .user(UserId(id))
            .await
            .unwrap()
            .is_none_or(|u| u.blocked)
    );
}

#[tokio::test]
async fn a_403_while_delivering_pauses_the_users_alerts() {
    let h = BotHarness::start().await;
    h.users().put_alert(&alert(4)).await.unwrap();
    h.standin.fail_chat(4, Failure::Blocked);
    // A chart goes through the Bot API (a photo cannot ride in the body).
    h.say(4, "en", "/chart darkside cola").await;
    let alerts = h.users().alerts(UserId(4)).await.unwrap();
    assert!(alerts.iter().all(|a| !a.active), "{alerts:?}");
    assert!(h.users().user(UserId(4)).await.unwrap().unwrap().blocked);
    // Writing to the bot again unblocks the user.
    h.say(4, "en", "/help").await;
    assert!(!h.users().user(UserId(4)).await.unwrap().unwrap().blocked);
}

#[tokio::test]
async fn a_429_while_delivering_is_waited_out_and_the_photo_still_arrives() {
    let h = BotHarness::start().await;
    h.standin
        .fail_next("sendPhoto", Failure::TooManyRequests { retry_after: 1 }, 1);
    h.say(5, "en", "/chart darkside cola").await;
    let photos = h.standin.calls_to("sendPhoto");
    assert_eq!(photos.iter().filter(|c| !c.failed).count(), 1, "{photos:?}");
    assert_eq!(photos.iter().filter(|c| c.failed).count(), 1);
}

#[tokio::test]
async fn without_a_bot_the_webhook_route_is_a_404() {
    use tower::ServiceExt;
    let app = pricehound::http::router(pricehound::http::AppState {
        store: std::sync::Arc::new(pricehound::store::sqlite::SqliteStore::in_memory().unwrap()),
        sources: std::sync::Arc::new(pricehound::sources::SourcesConfig::default_sources()).into(),
        telegram: None,
    });
    let resp = app
        .oneshot(
            axum::http::Request::post("/telegram/webhook")
                .body(axum::body::Body::from("{}"))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}
