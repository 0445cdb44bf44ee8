//! SQS answering a `SendMessageBatch` in part: some entries failed. moto
//! accepts every entry our adapters can send (its only per-entry failure is
//! a delay over 900 s, which they never ask for), so this file puts a small
//! stand-in in its place that speaks SQS's JSON protocol to the real SDK
//! client and fails the entries a test marks: a sender fault (refused for
//! good) or a server fault the first time (retried). What it checks is what
//! a caller relies on: what was refused is reported, by count and reason,
//! what failed once is sent on the retry, nothing is sent twice.

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use pricehound::alerts::notifier::Notification;
use pricehound::alerts::outbox::{NotifyMessage, Outbox, OutboxError, SqsOutbox};
use pricehound::domain::user::{AlertId, UserId};
use pricehound::queue::sqs::SqsQueue;
use pricehound::queue::{Queue, QueueError, QueueMessage};
use pricehound_tests::conformance::{at, obs};
use pricehound_tests::services::sdk_config;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the stand-in saw and sent.
#[derive(Default)]
struct Seen {
    /// Entries per SendMessageBatch call.
    calls: Vec<usize>,
    /// How often each body was offered.
    offered: HashMap<String, usize>,
    /// Bodies accepted, in order, with their DelaySeconds.
    sent: Vec<(String, i64)>,
}

/// Starts the stand-in on a free loopback port: entries whose body contains
/// `refuse` fail as a sender fault every time; those with `flaky` fail as a
/// server fault on their first offer.
async fn standin() -> (String, Arc<Mutex<Seen>>) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let state = seen.clone();
    let app = Router::new().route(
        "/",
        post(move |headers: HeaderMap, body: Bytes| {
            let seen = state.clone();
            async move { answer(&seen, &headers, &body) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), seen)
}

fn answer(seen: &Mutex<Seen>, headers: &HeaderMap, body: &[u8]) -> axum::response::Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let json_type = [("content-type", "application/x-amz-json-1.0")];
    if target != "AmazonSQS.SendMessageBatch" {
        let error =
            json!({ "__type": "com.amazonaws.sqs#UnsupportedOperation", "message": target });
        return (StatusCode::BAD_REQUEST, json_type, error.to_string()).into_response();
    }
    let request: Value = serde_json::from_slice(body).unwrap();
    let entries = request["Entries"].as_array().cloned().unwrap_or_default();
    let mut seen = seen.lock().unwrap();
    seen.calls.push(entries.len());
    let (mut successful, mut failed) = (Vec::new(), Vec::new());
    for e in &entries {
        let id = e["Id"].as_str().unwrap().to_string();
        let text = e["MessageBody"].as_str().unwrap().to_string();
        let offers = {
            let n = seen.offered.entry(text.clone()).or_default();
            *n += 1;
            *n
        };
        if text.contains("refuse") {
            failed.push(json!({ "Id": id, "SenderFault": true, "Code": "InvalidMessageContents", "Message": "refused by the stand-in" }));
        } else if text.contains("flaky") && offers == 1 {
            failed.push(json!({ "Id": id, "SenderFault": false, "Code": "InternalError", "Message": "try again" }));
        } else {
            let delay = e["DelaySeconds"].as_i64().unwrap_or(0);
            seen.sent.push((text, delay));
            successful.push(json!({
                "Id": id,
                "MessageId": format!("m-{}", seen.sent.len()),
                "MD5OfMessageBody": "00000000000000000000000000000000",
            }));
        }
    }
    let out = json!({ "Successful": successful, "Failed": failed });
    (StatusCode::OK, json_type, out.to_string()).into_response()
}

async fn client(endpoint: &str) -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::new(&sdk_config(endpoint).await)
}

fn notification(n: i64, text: &str) -> Notification {
    Notification {
        id: format!("partial-{n}"),
        user: UserId(n),
        alert_id: AlertId::random(),
        chat_id: n,
        text: text.into(),
        keyboard: Default::default(),
        attempts: 0,
        planned_at: None,
    }
}

/// Twelve notifications put back with a delay (two calls: 10 + 2): two are
/// refused for good, three fail once and are sent on the retry. The caller
/// learns that 2 of 12 were not queued, and why; the other ten are queued
/// once each, with the delay.
#[tokio::test]
async fn failed_entries_of_the_outbox_are_retried_or_reported() {
    let (endpoint, seen) = standin().await;
    let url = format!("{endpoint}/123456789012/notify");
    let outbox = SqsOutbox::new(client(&endpoint).await, &url);
    let notifications: Vec<Notification> = (0..12)
        .map(|n| {
            let text = match n {
                3 | 9 => format!("message {n}: refuse"),
                1 | 5 | 11 => format!("message {n}: flaky"),
                _ => format!("message {n}"),
            };
            notification(n, &text)
        })
        .collect();
    let err = outbox
        .put(&notifications, Duration::from_secs(7))
        .await
        .unwrap_err();
    match &err {
        OutboxError::Partial {
            failed,
            total,
            reason,
        } => {
            assert_eq!((*failed, *total), (2, 12), "{err}");
            assert!(
                reason.contains("InvalidMessageContents") && reason.contains("sender fault"),
                "the reason says what SQS said: {reason}"
            );
        }
        other => panic!("a partial failure, not {other:?}"),
    }
    let seen = seen.lock().unwrap();
    assert_eq!(
        &seen.calls[..2],
        &[10, 2],
        "the first pass goes in chunks of 10"
    );
    let mut sent: Vec<&str> = seen.sent.iter().map(|(b, _)| b.as_str()).collect();
    sent.sort();
    let mut want: Vec<String> = notifications
        .iter()
        .filter(|n| !n.text.contains("refuse"))
        .map(NotifyMessage::notification_body)
        .collect();
    want.sort();
    assert_eq!(sent, want, "every other notification queued exactly once");
    assert!(seen.sent.iter().all(|(_, d)| *d == 7), "with its delay");
    for n in &notifications {
        let body = NotifyMessage::notification_body(n);
        let offers = seen.offered.get(&body).copied().unwrap_or(0);
        let want = if n.text.contains("flaky") { 2 } else { 1 };
        if !n.text.contains("refuse") {
            assert_eq!(offers, want, "{}: offered {offers} times", n.text);
        } else {
            assert!(offers >= 1, "a refused entry was offered");
        }
    }
}

/// The observation queue (the scrapers' send) under the same answers: the
/// refused observations are named, the flaky one is sent on the retry.
#[tokio::test]
async fn failed_entries_of_the_observation_queue_are_named() {
    let (endpoint, seen) = standin().await;
    let url = format!("{endpoint}/123456789012/observations");
    let queue = SqsQueue::new(client(&endpoint).await, &url);
    let messages: Vec<QueueMessage> = (0..4)
        .map(|n| {
            let name = match n {
                0 => "refuse me".to_string(),
                2 => "flaky one".to_string(),
                _ => format!("item {n}"),
            };
            QueueMessage::Observation(obs(&format!("sqs:partial-{n}"), &name, at(n), "10.00", 1))
        })
        .collect();
    let err = queue.send(&messages).await.unwrap_err();
    match err {
        QueueError::Partial { failed, reason } => {
            assert_eq!(failed, vec![messages[0].id().to_string()], "{reason}");
            assert!(reason.contains("InvalidMessageContents"), "{reason}");
        }
        other => panic!("a partial failure, not {other:?}"),
    }
    let seen = seen.lock().unwrap();
    assert_eq!(seen.sent.len(), 3, "the other three were sent once each");
    let flaky = messages[2].to_json();
    assert_eq!(seen.offered.get(&flaky), Some(&2), "the flaky one twice");
}
