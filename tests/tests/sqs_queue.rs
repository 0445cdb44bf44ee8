//! The SQS queue adapter against moto: batching, size limits, errors.

use pricehound::domain::{Availability, ItemDetails};
use pricehound::queue::sqs::{MAX_MESSAGE_BYTES, SqsQueue};
use pricehound::queue::{Queue, QueueError, QueueMessage};
use pricehound_tests::conformance::{at, obs};
use pricehound_tests::services::{create_queue, receive_bodies, sqs_client};

/// Observation `n`; every fifth one is out of stock, without a price and
/// with item details, so optional fields cross the queue too.
fn message(n: usize, name: &str) -> QueueMessage {
    let o = obs(
        &format!("sqs:item-{n}"),
        name,
        at(n as i64),
        &format!("{n}.25"),
        n as u64,
    );
    let o = if n % 5 == 4 {
        o.without_price()
            .with_availability(Availability::OutOfStock)
            .with_details(ItemDetails {
                url: Some(format!("https://shop.example/p/{n}?a=1&b=ü")),
                image: None,
                brand: Some("Acme".into()),
            })
    } else {
        o.with_availability(Availability::InStock)
    };
    QueueMessage::Observation(o)
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::test]
async fn sends_many_messages_in_batches() {
    let client = sqs_client().await;
    let url = create_queue(&client, "obs").await;
    let queue = SqsQueue::new(client.clone(), &url);
    // 25: more than two batches of 10, so the adapter must split.
    let messages: Vec<QueueMessage> = (0..25).map(|n| message(n, "Золото ☕")).collect();
    queue.send(&messages).await.unwrap();

    let got = receive_bodies(&client, &url, messages.len()).await;
    let want: Vec<String> = messages.iter().map(QueueMessage::to_json).collect();
    assert_eq!(sorted(got.clone()), sorted(want));
    for body in &got {
        let back = QueueMessage::from_json(body).expect("bodies parse back as queue messages");
        assert!(
            messages.contains(&back),
            "a body parsed into another message"
        );
    }
}

#[tokio::test]
async fn an_empty_send_is_ok() {
    let client = sqs_client().await;
    let url = create_queue(&client, "empty").await;
    SqsQueue::new(client, url).send(&[]).await.unwrap();
}

#[tokio::test]
async fn oversized_message_is_rejected_and_nothing_else_lost() {
    let client = sqs_client().await;
    let url = create_queue(&client, "big").await;
    let queue = SqsQueue::new(client.clone(), &url);
    let big = message(99, &"x".repeat(MAX_MESSAGE_BYTES));
    let mut messages: Vec<QueueMessage> = (0..5).map(|n| message(n, "small")).collect();
    messages.insert(2, big.clone());

    match queue.send(&messages).await {
        Err(QueueError::TooLarge { id, size, limit }) => {
            assert_eq!(id, big.id());
            assert!(size > limit);
            assert_eq!(limit, MAX_MESSAGE_BYTES);
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    let got = receive_bodies(&client, &url, 5).await;
    let want: Vec<String> = messages
        .iter()
        .filter(|m| m.id() != big.id())
        .map(QueueMessage::to_json)
        .collect();
    assert_eq!(sorted(got), sorted(want), "every other message was sent");
}

#[tokio::test]
async fn batches_stay_under_the_byte_limit() {
    let client = sqs_client().await;
    let url = create_queue(&client, "bytes").await;
    let queue = SqsQueue::new(client.clone(), &url);
    // 10 x 60 KiB = 600 KiB: over 256 KiB, so at least 3 batches are needed
    // although 10 entries would fit one. (The split itself is unit-tested in
    // shared/aws/src/sqs.rs; here every message must arrive intact.)
    let messages: Vec<QueueMessage> = (0..10)
        .map(|n| message(n, &format!("{n}").repeat(60 * 1024)))
        .collect();
    queue.send(&messages).await.unwrap();
    let got = receive_bodies(&client, &url, messages.len()).await;
    let want: Vec<String> = messages.iter().map(QueueMessage::to_json).collect();
    assert_eq!(sorted(got), sorted(want));
}

#[tokio::test]
async fn sending_to_a_missing_queue_is_an_error() {
    let client = sqs_client().await;
    let url = create_queue(&client, "gone").await;
    client.delete_queue().queue_url(&url).send().await.unwrap();
    let queue = SqsQueue::new(client, format!("{url}-does-not-exist"));
    let err = queue
        .send(&[message(1, "a"), message(2, "b")])
        .await
        .expect_err("a missing queue must not look like success");
    assert!(
        matches!(err, QueueError::Backend(_)),
        "nothing was sent: expected a backend error, got {err:?}"
    );
    assert!(err.to_string().contains("does-not-exist"), "{err}");
}
