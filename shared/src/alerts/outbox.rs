//! Where notifications wait: the notifications queue. Planned messages go
//! there before the alerts' state is stored, and a message Telegram
//! throttled goes back there with its `retry_after` as the delay.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::time::Duration;

use super::notifier::Notification;
use crate::bus::PriceChanged;
use crate::telegram::bot::TrackJob;

#[async_trait]
pub trait Outbox: Send + Sync {
    /// Queues every notification, visible after `delay`; an error means
    /// some may not be queued (the caller retries the whole input).
    async fn put(&self, notifications: &[Notification], delay: Duration) -> Result<(), String>;
}

/// A message for the notify function: on the notifications queue, a
/// `PriceChanged` event as the EventBridge rule delivers it or a
/// notification put back; on the track jobs queue, a pasted page to read
/// for a user (the api function cannot wait for it: see
/// `telegram::bot::tracking`). Track jobs queued on the notifications queue
/// before the track jobs queue existed are still read.
#[derive(Debug, Clone, PartialEq)]
pub enum NotifyMessage {
    Change(PriceChanged),
    Notification(Notification),
    Track(TrackJob),
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    notification: Notification,
}

#[derive(Serialize, Deserialize)]
struct TrackEnvelope {
    track: TrackJob,
}

#[derive(Deserialize)]
struct EventBridgeEnvelope {
    #[serde(rename = "detail-type")]
    detail_type: String,
    detail: serde_json::Value,
}

impl NotifyMessage {
    /// Reads an SQS body; the error says what was expected.
    pub fn from_body(body: &str) -> Result<NotifyMessage, String> {
        let value: serde_json::Value =
            serde_json::from_str(body).map_err(|e| format!("body is not JSON: {e}"))?;
        if value.get("notification").is_some() {
            let e: Envelope =
                serde_json::from_value(value).map_err(|e| format!("bad notification: {e}"))?;
            return Ok(NotifyMessage::Notification(e.notification));
        }
        if value.get("track").is_some() {
            let e: TrackEnvelope =
                serde_json::from_value(value).map_err(|e| format!("bad track job: {e}"))?;
            return Ok(NotifyMessage::Track(e.track));
        }
        let e: EventBridgeEnvelope = serde_json::from_value(value)
            .map_err(|e| format!("neither a notification nor an EventBridge event: {e}"))?;
        if e.detail_type != "PriceChanged" {
            return Err(format!("unexpected detail-type {:?}", e.detail_type));
        }
        serde_json::from_value(e.detail)
            .map(NotifyMessage::Change)
            .map_err(|e| format!("bad PriceChanged detail: {e}"))
    }

    /// The SQS body of a notification put back on the queue.
    pub fn notification_body(n: &Notification) -> String {
        serde_json::to_string(&Envelope {
            notification: n.clone(),
        })
        .expect("notifications serialise")
    }

    /// The SQS body of a track job.
    pub fn track_body(job: &TrackJob) -> String {
        serde_json::to_string(&TrackEnvelope { track: job.clone() }).expect("track jobs serialise")
    }
}

#[cfg(feature = "aws")]
pub use sqs::{SqsOutbox, SqsTrackJobs};

#[cfg(feature = "aws")]
mod sqs {
    use super::*;
    use aws_sdk_sqs::Client;
    use aws_sdk_sqs::types::SendMessageBatchRequestEntry;

    /// SQS allows at most 15 minutes of delay.
    const MAX_DELAY: Duration = Duration::from_secs(900);

    pub struct SqsOutbox {
        pub client: Client,
        pub queue_url: String,
    }

    #[async_trait]
    impl Outbox for SqsOutbox {
        async fn put(&self, notifications: &[Notification], delay: Duration) -> Result<(), String> {
            let delay = delay.min(MAX_DELAY).as_secs() as i32;
            for chunk in notifications.chunks(10) {
                let mut entries = Vec::with_capacity(chunk.len());
                for (i, n) in chunk.iter().enumerate() {
                    entries.push(
                        SendMessageBatchRequestEntry::builder()
                            .id(i.to_string())
                            .message_body(NotifyMessage::notification_body(n))
                            .delay_seconds(delay)
                            .build()
                            .map_err(|e| e.to_string())?,
                    );
                }
                let out = self
                    .client
                    .send_message_batch()
                    .queue_url(&self.queue_url)
                    .set_entries(Some(entries))
                    .send()
                    .await
                    .map_err(|e| {
                        format!(
                            "SendMessageBatch: {}",
                            aws_sdk_sqs::error::DisplayErrorContext(e)
                        )
                    })?;
                if !out.failed.is_empty() {
                    return Err(format!(
                        "{} notification(s) not queued: {}",
                        out.failed.len(),
                        out.failed[0].message.clone().unwrap_or_default()
                    ));
                }
            }
            Ok(())
        }
    }

    /// Track jobs on the track jobs queue (`PRICEHOUND_TRACK_QUEUE_URL`),
    /// read by the notify function through an event source of its own:
    /// a job can take the whole page deadline, and alerts must not wait
    /// behind it.
    pub struct SqsTrackJobs {
        pub client: Client,
        pub queue_url: String,
    }

    #[async_trait]
    impl crate::telegram::bot::TrackJobs for SqsTrackJobs {
        async fn submit(&self, job: TrackJob) -> Result<(), crate::telegram::bot::TrackJobError> {
            self.client
                .send_message()
                .queue_url(&self.queue_url)
                .message_body(NotifyMessage::track_body(&job))
                .send()
                .await
                .map_err(|e| {
                    crate::telegram::bot::TrackJobError::Unavailable(format!(
                        "SendMessage to the track jobs queue: {}",
                        aws_sdk_sqs::error::DisplayErrorContext(e)
                    ))
                })?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::user::{Lang, UserId};

    #[test]
    fn track_jobs_round_trip_through_the_queue_body() {
        let job = TrackJob {
            url: "https://shop.example/p/1".into(),
            user: UserId(7_000_000_001),
            chat_id: 7_000_000_001,
            lang: Lang::Ar,
        };
        let body = NotifyMessage::track_body(&job);
        assert_eq!(
            NotifyMessage::from_body(&body),
            Ok(NotifyMessage::Track(job))
        );
        assert!(
            NotifyMessage::from_body(r#"{"track":{"url":1}}"#)
                .unwrap_err()
                .starts_with("bad track job")
        );
    }
}
