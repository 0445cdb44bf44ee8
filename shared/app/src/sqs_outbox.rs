//! The notifications outbox and the track jobs queue on SQS: the AWS
//! adapters of two ports of the bot crate (`alerts::outbox::Outbox`,
//! `telegram::bot::TrackJobs`), kept in the app crate so the bot crate
//! needs no AWS SDK.

use async_trait::async_trait;
use std::time::Duration;

use crate::alerts::notifier::Notification;
use crate::alerts::outbox::{NotifyMessage, Outbox, OutboxError};
use crate::telegram::bot::TrackJob;
use aws_sdk_sqs::Client;
use pricehound_aws::names::{AwsNames, MissingName};
use pricehound_aws::sqs::SqsQueue;

/// The notifications queue on SQS. Delays over SQS's 15 minutes are cut
/// to 15 minutes.
pub struct SqsOutbox {
    pub queue: SqsQueue,
}

impl SqsOutbox {
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        SqsOutbox {
            queue: SqsQueue::new(client, queue_url),
        }
    }

    /// The outbox on the notifications queue `PRICEHOUND_NOTIFY_QUEUE_URL`
    /// names.
    pub fn from_names(
        names: &AwsNames,
        config: &aws_config::SdkConfig,
    ) -> Result<Self, MissingName> {
        Ok(SqsOutbox::new(
            Client::new(config),
            names.notify_queue_url()?,
        ))
    }
}

#[async_trait]
impl Outbox for SqsOutbox {
    async fn put(
        &self,
        notifications: &[Notification],
        delay: Duration,
    ) -> Result<(), OutboxError> {
        let bodies: Vec<String> = notifications
            .iter()
            .map(NotifyMessage::notification_body)
            .collect();
        let outcome = self.queue.send_bodies(&bodies, delay).await;
        if outcome.failed.is_empty() {
            return Ok(());
        }
        if let (0, Some(reason)) = (outcome.sent, outcome.fatal) {
            return Err(OutboxError::Unavailable(reason));
        }
        let mut reasons: Vec<String> = outcome.failed.iter().map(|(_, r)| r.clone()).collect();
        reasons.sort();
        reasons.dedup();
        Err(OutboxError::Partial {
            failed: outcome.failed.len(),
            total: notifications.len(),
            reason: reasons.join("; "),
        })
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
