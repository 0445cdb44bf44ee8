//! The SQS adapter of [`Queue`]: scrape sends observations to the ingest queue.
//!
//! Messages go out with `SendMessageBatch`, packed into batches of at most 10
//! entries and 256 KiB of bodies. SQS accepts or refuses each entry on its
//! own, so a batch call can half succeed: entries refused for a transient
//! reason are retried, and whatever is still not sent is reported by id.
//! Nothing is dropped silently, because the scraper must not advance a
//! checkpoint past posts whose observations never reached the queue.

use std::ops::Range;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;

use pricehound_core::queue::{Queue, QueueError, QueueMessage};

/// The most one message body may hold (SQS's classic limit, which moto and
/// every region enforce).
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;
/// The most the bodies of one `SendMessageBatch` call may hold together.
pub const MAX_BATCH_BYTES: usize = 256 * 1024;
/// The most entries one `SendMessageBatch` call may hold.
pub const MAX_BATCH_ENTRIES: usize = 10;
/// Tries per entry, counting the first.
const ATTEMPTS: u32 = 3;
const BACKOFF: Duration = Duration::from_millis(100);

/// Sends queue messages to one SQS queue. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SqsQueue {
    client: Client,
    queue_url: String,
}

/// What happened to one batch after its retries.
struct BatchOutcome {
    sent: usize,
    /// Indexes within the batch, with why they were not sent.
    failed: Vec<(usize, String)>,
    /// The call itself failed (no such queue, access denied, network): the
    /// next batches would fail the same way.
    fatal: Option<String>,
}

impl SqsQueue {
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        SqsQueue {
            client,
            queue_url: queue_url.into(),
        }
    }

    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }

    /// Sends one batch of `(id, body)` pairs, retrying the entries SQS
    /// refused for reasons that are not the sender's fault.
    async fn send_batch(&self, batch: &[(&str, String)]) -> BatchOutcome {
        let mut outcome = BatchOutcome {
            sent: 0,
            failed: Vec::new(),
            fatal: None,
        };
        let mut pending: Vec<usize> = (0..batch.len()).collect();
        let mut last_reason = String::new();
        for attempt in 1..=ATTEMPTS {
            if attempt > 1 {
                tokio::time::sleep(BACKOFF * 2u32.pow(attempt - 2)).await;
            }
            let mut entries = Vec::with_capacity(pending.len());
            for &i in &pending {
                // The entry id only has to be unique within the call: the
                // index within the batch maps a result back to its message.
                match SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(&batch[i].1)
                    .build()
                {
                    Ok(entry) => entries.push(entry),
                    Err(e) => {
                        outcome.failed.push((i, format!("cannot build entry: {e}")));
                    }
                }
            }
            pending.retain(|i| !outcome.failed.iter().any(|(f, _)| f == i));
            if entries.is_empty() {
                break;
            }
            let out = match self
                .client
                .send_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
            {
                Ok(out) => out,
                Err(e) => {
                    let reason = format!(
                        "SQS SendMessageBatch to {} failed: {}",
                        self.queue_url,
                        DisplayErrorContext(&e)
                    );
                    outcome
                        .failed
                        .extend(pending.iter().map(|&i| (i, reason.clone())));
                    outcome.fatal = Some(reason);
                    return outcome;
                }
            };
            let mut retry = Vec::new();
            for &i in &pending {
                let id = i.to_string();
                if out.successful().iter().any(|s| s.id() == id) {
                    outcome.sent += 1;
                    continue;
                }
                match out.failed().iter().find(|f| f.id() == id) {
                    Some(f) => {
                        let reason = format!(
                            "{}{}: {}",
                            f.code(),
                            if f.sender_fault() {
                                " (sender fault)"
                            } else {
                                ""
                            },
                            f.message().unwrap_or("no message")
                        );
                        if f.sender_fault() {
                            // The same request would be refused again.
                            outcome.failed.push((i, reason));
                        } else {
                            last_reason = reason;
                            retry.push(i);
                        }
                    }
                    // Neither sent nor refused: never assume success.
                    None => {
                        last_reason = "entry missing from the SendMessageBatch result".into();
                        retry.push(i);
                    }
                }
            }
            pending = retry;
            if pending.is_empty() {
                break;
            }
        }
        outcome.failed.extend(pending.into_iter().map(|i| {
            (
                i,
                format!("still failing after {ATTEMPTS} attempts: {last_reason}"),
            )
        }));
        outcome
    }
}

/// Splits bodies into consecutive batches of at most [`MAX_BATCH_ENTRIES`]
/// entries and [`MAX_BATCH_BYTES`] bytes. Every size must be at most
/// [`MAX_MESSAGE_BYTES`].
fn plan_batches(sizes: &[usize]) -> Vec<Range<usize>> {
    let mut batches = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, &size) in sizes.iter().enumerate() {
        if i > start && (i - start == MAX_BATCH_ENTRIES || bytes + size > MAX_BATCH_BYTES) {
            batches.push(start..i);
            start = i;
            bytes = 0;
        }
        bytes += size;
    }
    if start < sizes.len() {
        batches.push(start..sizes.len());
    }
    batches
}

#[async_trait]
impl Queue for SqsQueue {
    /// Sends every message that fits. Errors:
    /// - [`QueueError::TooLarge`] when the only failure is one oversized
    ///   message (every other message was sent);
    /// - [`QueueError::Backend`] when the calls failed and nothing was sent;
    /// - [`QueueError::Partial`] naming every message not sent otherwise.
    async fn send(&self, messages: &[QueueMessage]) -> Result<(), QueueError> {
        let mut too_large = Vec::new();
        let mut sendable: Vec<(&str, String)> = Vec::with_capacity(messages.len());
        for m in messages {
            let body = m.to_json();
            if body.len() > MAX_MESSAGE_BYTES {
                too_large.push((m.id().to_string(), body.len()));
            } else {
                sendable.push((m.id(), body));
            }
        }
        let sizes: Vec<usize> = sendable.iter().map(|(_, b)| b.len()).collect();

        let mut sent = 0;
        let mut failed: Vec<String> = Vec::new();
        let mut reasons: Vec<String> = Vec::new();
        let mut fatal: Option<String> = None;
        for range in plan_batches(&sizes) {
            if let Some(reason) = &fatal {
                // A failed call fails the rest: report them without trying.
                failed.extend(sendable[range].iter().map(|(id, _)| id.to_string()));
                reasons.push(reason.clone());
                continue;
            }
            let batch = &sendable[range];
            let outcome = self.send_batch(batch).await;
            sent += outcome.sent;
            for (i, reason) in outcome.failed {
                failed.push(batch[i].0.to_string());
                reasons.push(reason);
            }
            fatal = outcome.fatal;
        }

        if failed.is_empty() {
            return match too_large.as_slice() {
                [] => Ok(()),
                [(id, size)] => Err(QueueError::TooLarge {
                    id: id.clone(),
                    size: *size,
                    limit: MAX_MESSAGE_BYTES,
                }),
                _ => Err(QueueError::Partial {
                    failed: too_large.iter().map(|(id, _)| id.clone()).collect(),
                    reason: format!("messages over the SQS limit of {MAX_MESSAGE_BYTES} bytes"),
                }),
            };
        }
        if let (0, true, Some(reason)) = (sent, too_large.is_empty(), &fatal) {
            return Err(QueueError::Backend(reason.clone()));
        }
        for (id, size) in &too_large {
            failed.push(id.clone());
            reasons.push(format!(
                "message {id} is {size} bytes, over the SQS limit of {MAX_MESSAGE_BYTES}"
            ));
        }
        reasons.dedup();
        Err(QueueError::Partial {
            failed,
            reason: reasons.join("; "),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_respect_entry_and_byte_limits() {
        assert!(plan_batches(&[]).is_empty());
        assert_eq!(plan_batches(&[1; 25]), vec![0..10, 10..20, 20..25]);
        let k60 = 60 * 1024;
        // 4 x 60 KiB = 240 KiB fits; a fifth would not.
        assert_eq!(plan_batches(&[k60; 10]), vec![0..4, 4..8, 8..10]);
        assert_eq!(
            plan_batches(&[MAX_MESSAGE_BYTES, 1, MAX_MESSAGE_BYTES]),
            vec![0..1, 1..2, 2..3]
        );
    }
}
