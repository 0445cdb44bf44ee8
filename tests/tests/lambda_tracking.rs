//! Pasted pages in Lambda: no background task survives an invocation, so
//! the api function's bot puts a track job on the track jobs queue (moto's
//! SQS here; apart from the notifications, so slow pages never delay
//! alerts) and answers at once; the notify function reads the page, sends
//! the result and frees the user's track slot.

use async_trait::async_trait;
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use pricehound::alerts::notifier::{Notification, Notifier};
use pricehound::alerts::outbox::{NotifyMessage, Outbox, OutboxError, SqsTrackJobs};
use pricehound::alerts::rules::AlertPolicy;
use pricehound::alerts::sender::Sender;
use pricehound::domain::user::{Lang, UserId};
use pricehound::lambda;
use pricehound::sources::SourcesConfig;
use pricehound::telegram::api::{BotApi, BotToken};
use pricehound::telegram::bot::{Bot, BotConfig};
use pricehound::telegram::texts::{Text, render};
use pricehound_tests::bot::{BotHarness, TOKEN, assert_sendable, buttons, tracker};
use pricehound_tests::pages::{Answer, Scripted};
use pricehound_tests::services::{create_queue, receive_bodies, sqs_client};
use std::sync::Arc;
use std::time::Duration;

const LEGO: &str =
    include_str!("../../shared/app/src/demo/pages/products/briques-et-cie-lego-42143.html");

/// Track jobs never put notifications back; this one says so if it does.
struct NoOutbox;

#[async_trait]
impl Outbox for NoOutbox {
    async fn put(&self, n: &[Notification], _: Duration) -> Result<(), OutboxError> {
        Err(OutboxError::Unavailable(format!(
            "unexpected put of {} notification(s)",
            n.len()
        )))
    }
}

fn sqs_event(message_id: &str, body: &str) -> SqsEvent {
    let mut record = SqsMessage::default();
    record.message_id = Some(message_id.to_string());
    record.body = Some(body.to_string());
    record.event_source = Some("aws:sqs".to_string());
    let mut event = SqsEvent::default();
    event.records = vec![record];
    event
}

#[tokio::test]
async fn the_webhook_queues_the_job_and_the_notify_function_reads_the_page_and_answers() {
    let site = Scripted::default();
    site.set("/p/lego-42143", Answer::html(LEGO));
    let base = pricehound_tests::user_links::on_shop_host(&site.start().await);
    let url = base.join("/p/lego-42143?utm_source=tg").unwrap();

    let sqs = sqs_client().await;
    let queue_url = create_queue(&sqs, "track-jobs").await;
    let h = BotHarness::start_tracking_via(Arc::new(SqsTrackJobs {
        client: sqs.clone(),
        queue_url: queue_url.clone(),
    }))
    .await;

    // The api function: the press is answered at once, the job is queued.
    let user = 4242;
    let offer = h.say(user, "fr", url.as_str()).await;
    let (_, data) = buttons(&offer).pop().expect("a Track button");
    let pressed = h.press(user, "fr", &data).await;
    assert_sendable(&pressed);
    assert_eq!(pressed[0]["text"], render(Lang::Fr, &Text::TrackReading));
    assert!(site.requests().is_empty(), "nothing read by the webhook");
    let bodies = receive_bodies(&sqs, &queue_url, 1).await;
    assert_eq!(bodies.len(), 1);
    let Ok(NotifyMessage::Track(job)) = NotifyMessage::from_body(&bodies[0]) else {
        panic!("a track job: {}", bodies[0]);
    };
    assert_eq!(job.user, UserId(user));
    assert_eq!(job.chat_id, user);
    assert_eq!(job.lang, Lang::Fr);
    assert_eq!(job.url, base.join("/p/lego-42143").unwrap().as_str());

    // Until that job has run, the user's next press is refused: one page
    // at a time, however many Lambda instances answer the webhook.
    let again = h.press(user, "fr", &data).await;
    assert_eq!(again[0]["text"], render(Lang::Fr, &Text::TrackInFlight));
    assert!(receive_bodies(&sqs, &queue_url, 0).await.is_empty());

    // The notify function: reads the page, answers through the Bot API.
    let api = BotApi::new(
        reqwest::Client::new(),
        &h.standin.base_url(),
        BotToken::new(TOKEN).unwrap(),
    );
    let notifier = Notifier::new(h.store.clone(), AlertPolicy::default());
    let sender = Sender::new(api, h.store.clone());
    let worker = Bot::new(
        h.store.clone(),
        h.store.clone(),
        Arc::new(SourcesConfig::default_sources()),
        BotConfig::default(),
    )
    .with_tracker(Arc::new(tracker(h.store.clone())));

    // Without a bot that can read pages, the record fails (and is retried).
    let resp = lambda::notify(&notifier, &sender, &NoOutbox, sqs_event("m0", &bodies[0])).await;
    assert_eq!(resp.batch_item_failures.len(), 1);

    h.standin.clear();
    let resp = lambda::notify_with(
        &notifier,
        &sender,
        &NoOutbox,
        Some(&worker),
        sqs_event("m1", &bodies[0]),
    )
    .await;
    assert!(resp.batch_item_failures.is_empty(), "{resp:?}");
    let sent = h.standin.calls_to("sendMessage");
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].params["chat_id"].as_i64(), Some(user));
    let text = sent[0].params["text"].as_str().unwrap_or_default();
    assert!(text.starts_with("✅") && text.contains("42143"), "{text}");
    let pages = h.users().tracked_pages_of(UserId(user)).await.unwrap();
    assert_eq!(pages.len(), 1);
    assert!(!pages[0].url.contains('?'));
    assert_eq!(h.users().watches(UserId(user)).await.unwrap().len(), 1);

    // The job freed the user's slot: a press queues a new job again.
    let pressed = h.press(user, "fr", &data).await;
    assert_eq!(pressed[0]["text"], render(Lang::Fr, &Text::TrackReading));
    assert_eq!(receive_bodies(&sqs, &queue_url, 1).await.len(), 1);
}
