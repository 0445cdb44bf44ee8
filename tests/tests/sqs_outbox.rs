//! The notifications outbox on SQS, against moto: what the notify function
//! puts on its queue comes back as the same notifications, in batches, with
//! SQS's delay cap, and a missing queue is an error, never success.

use std::time::Duration;

use pricehound::alerts::notifier::Notification;
use pricehound::alerts::outbox::{NotifyMessage, Outbox, OutboxError, SqsOutbox};
use pricehound::domain::user::{AlertId, UserId};
use pricehound::telegram::types::InlineKeyboardMarkup;
use pricehound_tests::services::{create_queue, receive_bodies, sqs_client};

fn notification(n: i64) -> Notification {
    Notification {
        id: format!("n-{n}"),
        user: UserId(7_000_000_000 + n),
        alert_id: AlertId::random(),
        chat_id: 7_000_000_000 + n,
        text: format!("<b>Золото 585</b> ↓ 13 740 → {n} DZD ☕"),
        keyboard: InlineKeyboardMarkup::default(),
        attempts: 0,
        planned_at: None,
    }
}

#[tokio::test]
async fn notifications_come_back_from_the_queue_as_they_were_put() {
    let client = sqs_client().await;
    let url = create_queue(&client, "notify").await;
    let outbox = SqsOutbox::new(client.clone(), &url);
    // 23: three SendMessageBatch calls of at most 10.
    let put: Vec<Notification> = (0..23).map(notification).collect();
    outbox.put(&put, Duration::ZERO).await.unwrap();

    let mut got: Vec<Notification> = receive_bodies(&client, &url, put.len())
        .await
        .iter()
        .map(|body| match NotifyMessage::from_body(body) {
            Ok(NotifyMessage::Notification(n)) => n,
            other => panic!("not a notification body: {other:?}"),
        })
        .collect();
    got.sort_by_key(|n| n.user.0);
    assert_eq!(got, put);
}

#[tokio::test]
async fn a_delay_past_sqs_limit_is_cut_to_fifteen_minutes() {
    let client = sqs_client().await;
    let url = create_queue(&client, "notify").await;
    let outbox = SqsOutbox::new(client.clone(), &url);
    // SQS refuses DelaySeconds over 900; a Telegram retry_after of an hour
    // must still be queued (for 15 minutes), not fail the record.
    outbox
        .put(&[notification(1)], Duration::from_secs(3_600))
        .await
        .expect("queued with the delay capped");
    let attrs = client
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesDelayed)
        .send()
        .await
        .unwrap();
    let delayed = attrs
        .attributes()
        .and_then(|a| {
            a.get(&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesDelayed)
        })
        .cloned();
    assert_eq!(delayed.as_deref(), Some("1"), "the message waits, delayed");
}

#[tokio::test]
async fn a_missing_queue_is_unavailable() {
    let client = sqs_client().await;
    let url = create_queue(&client, "gone").await;
    client.delete_queue().queue_url(&url).send().await.unwrap();
    let outbox = SqsOutbox::new(client, format!("{url}-does-not-exist"));
    let err = outbox
        .put(&[notification(1), notification(2)], Duration::ZERO)
        .await
        .expect_err("a missing queue must not look like success");
    assert!(matches!(err, OutboxError::Unavailable(_)), "{err:?}");
    assert!(err.to_string().contains("does-not-exist"), "{err}");
}

/// Text with characters SQS refuses in a message body (a scraped name can
/// carry U+FFFF; control characters are escaped by JSON): the message is
/// queued with them replaced, never refused and lost.
#[tokio::test]
async fn characters_sqs_refuses_are_replaced_not_lost() {
    let client = sqs_client().await;
    let url = create_queue(&client, "notify").await;
    let outbox = SqsOutbox::new(client.clone(), &url);
    let mut hostile = notification(1);
    hostile.text = "Widget\u{1}\u{FFFF} Pro: 85 EUR".into();
    let put = vec![notification(0), hostile, notification(2)];
    outbox.put(&put, Duration::ZERO).await.unwrap();
    let texts: Vec<String> = receive_bodies(&client, &url, 3)
        .await
        .iter()
        .map(|b| match NotifyMessage::from_body(b) {
            Ok(NotifyMessage::Notification(n)) => n.text,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(texts.len(), 3);
    assert!(
        texts.contains(&"Widget\u{1}\u{FFFD} Pro: 85 EUR".to_string()),
        "{texts:?}"
    );
}
