//! The SQS adapter of [`Queue`]: scrape sends observations to the ingest queue.
//!
//! Messages go out with `SendMessageBatch`, packed into batches of at most 10
//! entries and 256 KiB of bodies. SQS accepts or refuses each entry on its
//! own, so a batch call can half succeed: entries refused for a transient
//! reason are retried ([`crate::batch`], shared with EventBridge), and
//! whatever is still not sent is reported by id.
//! Nothing is dropped silently, because the scraper must not advance a
//! checkpoint past posts whose observations never reached the queue.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;

use crate::batch;
use pricehound_core::queue::{Queue, QueueError, QueueMessage};

/// The most one message body may hold (SQS's classic limit, which moto and
/// every region enforce).
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;
/// The most the bodies of one `SendMessageBatch` call may hold together.
pub const MAX_BATCH_BYTES: usize = 256 * 1024;
/// The most entries one `SendMessageBatch` call may hold.
pub const MAX_BATCH_ENTRIES: usize = 10;
/// The longest delay SQS allows on a message.
pub const MAX_DELAY: Duration = Duration::from_secs(900);

const LIMITS: batch::Limits = batch::Limits {
    entries: MAX_BATCH_ENTRIES,
    bytes: MAX_BATCH_BYTES,
};

/// Sends messages to one SQS queue. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SqsQueue {
    client: Client,
    queue_url: String,
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

    /// Sends raw message bodies, each visible after `delay` (at most
    /// [`MAX_DELAY`]), in as few `SendMessageBatch` calls as the limits
    /// allow, retrying the entries SQS refused for reasons that are not the
    /// sender's fault. The outcome's indexes are into `bodies`.
    pub async fn send_bodies(&self, bodies: &[String], delay: Duration) -> batch::Outcome {
        // Copied only when some body carries a character SQS refuses (rare):
        // this runs for every observation a scrape sends.
        let cleaned: Vec<String>;
        let bodies = if bodies.iter().all(|b| b.chars().all(sqs_allows)) {
            bodies
        } else {
            cleaned = bodies.iter().map(|b| sqs_safe(b)).collect();
            &cleaned
        };
        let sizes: Vec<usize> = bodies.iter().map(String::len).collect();
        let delay = i32::try_from(delay.min(MAX_DELAY).as_secs()).unwrap_or(0);
        batch::send_all(&sizes, LIMITS, |indexes| self.call(bodies, indexes, delay)).await
    }

    /// One `SendMessageBatch` call with `bodies[i]` for each index.
    async fn call(
        &self,
        bodies: &[String],
        indexes: Vec<usize>,
        delay: i32,
    ) -> Result<Vec<(usize, batch::Answer)>, String> {
        let mut answers = Vec::new();
        let mut entries = Vec::with_capacity(indexes.len());
        for &i in &indexes {
            // The entry id only has to be unique within the call: the index
            // maps a result back to its message.
            let mut entry = SendMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .message_body(&bodies[i]);
            if delay > 0 {
                entry = entry.delay_seconds(delay);
            }
            match entry.build() {
                Ok(entry) => entries.push(entry),
                Err(e) => answers.push((
                    i,
                    batch::Answer::Refused {
                        reason: format!("cannot build entry: {e}"),
                        retry: false,
                    },
                )),
            }
        }
        if entries.is_empty() {
            return Ok(answers);
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
                    "SQS SendMessageBatch to {} failed: {}",
                    self.queue_url,
                    DisplayErrorContext(&e)
                )
            })?;
        let index = |id: &str| id.parse::<usize>().ok();
        answers.extend(
            out.successful()
                .iter()
                .filter_map(|s| Some((index(s.id())?, batch::Answer::Sent))),
        );
        answers.extend(out.failed().iter().filter_map(|f| {
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
            // A sender fault would be refused again.
            let retry = !f.sender_fault();
            Some((index(f.id())?, batch::Answer::Refused { reason, retry }))
        }));
        Ok(answers)
    }
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
        let mut ids = Vec::with_capacity(messages.len());
        let mut bodies = Vec::with_capacity(messages.len());
        for m in messages {
            let body = m.to_json();
            if body.len() > MAX_MESSAGE_BYTES {
                too_large.push((m.id().to_string(), body.len()));
            } else {
                ids.push(m.id());
                bodies.push(body);
            }
        }
        let outcome = self.send_bodies(&bodies, Duration::ZERO).await;
        let mut failed: Vec<String> = Vec::new();
        let mut reasons: Vec<String> = Vec::new();
        for (i, reason) in outcome.failed {
            failed.push(ids[i].to_string());
            reasons.push(reason);
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
        if let (0, true, Some(reason)) = (outcome.sent, too_large.is_empty(), &outcome.fatal) {
            return Err(QueueError::Backend(reason.clone()));
        }
        for (id, size) in &too_large {
            failed.push(id.clone());
            reasons.push(format!(
                "message {id} is {size} bytes, over the SQS limit of {MAX_MESSAGE_BYTES}"
            ));
        }
        reasons.sort();
        reasons.dedup();
        Err(QueueError::Partial {
            failed,
            reason: reasons.join("; "),
        })
    }
}

/// `body` with every character SQS refuses in a message body replaced by
/// U+FFFD. SQS takes only #x9, #xA, #xD and #x20-#xD7FF, #xE000-#xFFFD,
/// #x10000-#x10FFFF; our bodies are JSON, whose strings escape the control
/// characters already, but a scraped name can still carry U+FFFE or U+FFFF
/// raw, and SQS would refuse the whole entry (moto does not check).
pub fn sqs_safe(body: &str) -> String {
    body.chars()
        .map(|c| if sqs_allows(c) { c } else { '\u{FFFD}' })
        .collect()
}

/// Whether SQS takes `c` in a message body.
fn sqs_allows(c: char) -> bool {
    matches!(
        c,
        '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..
    )
}

#[cfg(test)]
mod tests {
    use super::sqs_safe;

    #[test]
    fn only_what_sqs_refuses_is_replaced() {
        let ok = "{\"text\":\"Золото ↓ 13 740 DZD ☕ 𝄞\\u0001\"}\t\r\n";
        assert_eq!(sqs_safe(ok), ok);
        assert_eq!(
            sqs_safe("a\u{FFFF}b\u{FFFE}c\u{1}d"),
            "a\u{FFFD}b\u{FFFD}c\u{FFFD}d"
        );
    }
}
