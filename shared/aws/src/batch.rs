//! Sending a list of entries through an AWS batch call that answers per
//! entry (`SQS SendMessageBatch`, `EventBridge PutEvents`): cut the list into
//! calls within the service's limits, retry the entries refused for a
//! reason that may pass, and report every entry not sent with why. Both
//! services can answer 200 and still have refused some entries, so an entry
//! counts as sent only when the answer says so.

use std::future::Future;
use std::ops::Range;
use std::time::Duration;

/// Tries per entry, counting the first.
pub const ATTEMPTS: u32 = 3;
/// Wait before the second try; doubled before each later one.
pub const BACKOFF: Duration = Duration::from_millis(100);

/// What one call may carry.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub entries: usize,
    pub bytes: usize,
}

/// The service's answer about one entry of a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Sent,
    /// Refused; `retry` when the same entry may pass later (throttling, an
    /// internal error), not when the request itself is wrong.
    Refused {
        reason: String,
        retry: bool,
    },
}

/// What happened to a whole list.
#[derive(Debug, Default)]
pub struct Outcome {
    pub sent: usize,
    /// Indexes into the list, with why each was not sent, in no order.
    pub failed: Vec<(usize, String)>,
    /// A call failed as a whole (no such queue or bus, access denied,
    /// network): every later call would too, so they were not made.
    pub fatal: Option<String>,
}

/// Sends entries `0..sizes.len()` (each `sizes[i]` bytes as the service
/// counts them) in calls within `limits`. `call` makes one call with the
/// given indexes and returns the service's answer per index; an index left
/// out of the answer is retried (never assumed sent); `Err` means the call
/// failed as a whole. An entry bigger than `limits.bytes` is never sent.
pub async fn send_all<F, Fut>(sizes: &[usize], limits: Limits, mut call: F) -> Outcome
where
    F: FnMut(Vec<usize>) -> Fut,
    Fut: Future<Output = Result<Vec<(usize, Answer)>, String>>,
{
    let mut outcome = Outcome::default();
    let (fits, too_big): (Vec<usize>, Vec<usize>) =
        (0..sizes.len()).partition(|&i| sizes[i] <= limits.bytes);
    outcome.failed.extend(too_big.into_iter().map(|i| {
        (
            i,
            format!(
                "entry of {} bytes is over the limit of {} per call",
                sizes[i], limits.bytes
            ),
        )
    }));
    let fit_sizes: Vec<usize> = fits.iter().map(|&i| sizes[i]).collect();
    for range in plan(&fit_sizes, limits) {
        let indexes: Vec<usize> = fits[range].to_vec();
        if let Some(reason) = &outcome.fatal {
            outcome
                .failed
                .extend(indexes.into_iter().map(|i| (i, reason.clone())));
            continue;
        }
        with_retries(indexes, &mut call, &mut outcome).await;
    }
    outcome
}

/// One call's entries, retried up to [`ATTEMPTS`] times.
async fn with_retries<F, Fut>(mut pending: Vec<usize>, call: &mut F, outcome: &mut Outcome)
where
    F: FnMut(Vec<usize>) -> Fut,
    Fut: Future<Output = Result<Vec<(usize, Answer)>, String>>,
{
    let mut last_reason = String::new();
    for attempt in 1..=ATTEMPTS {
        if attempt > 1 {
            tokio::time::sleep(BACKOFF * 2u32.pow(attempt - 2)).await;
        }
        let answers = match call(pending.clone()).await {
            Ok(answers) => answers,
            Err(reason) => {
                outcome
                    .failed
                    .extend(pending.iter().map(|&i| (i, reason.clone())));
                outcome.fatal = Some(reason);
                return;
            }
        };
        let mut retry = Vec::new();
        for &i in &pending {
            match answers.iter().find(|(j, _)| *j == i).map(|(_, a)| a) {
                Some(Answer::Sent) => outcome.sent += 1,
                Some(Answer::Refused {
                    reason,
                    retry: false,
                }) => outcome.failed.push((i, reason.clone())),
                Some(Answer::Refused {
                    reason,
                    retry: true,
                }) => {
                    last_reason.clone_from(reason);
                    retry.push(i);
                }
                None => {
                    last_reason = "entry missing from the batch result".into();
                    retry.push(i);
                }
            }
        }
        pending = retry;
        if pending.is_empty() {
            return;
        }
    }
    outcome.failed.extend(pending.into_iter().map(|i| {
        (
            i,
            format!("still failing after {ATTEMPTS} attempts: {last_reason}"),
        )
    }));
}

/// Splits entries of these sizes into consecutive calls of at most
/// `limits.entries` entries and `limits.bytes` bytes. Every size must be at
/// most `limits.bytes`.
pub fn plan(sizes: &[usize], limits: Limits) -> Vec<Range<usize>> {
    let mut batches = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, &size) in sizes.iter().enumerate() {
        if i > start && (i - start == limits.entries || bytes + size > limits.bytes) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    const LIMITS: Limits = Limits {
        entries: 10,
        bytes: 100,
    };

    #[test]
    fn plans_calls_within_both_limits() {
        assert_eq!(plan(&[1; 25], LIMITS), vec![0..10, 10..20, 20..25]);
        assert_eq!(plan(&[60, 40, 1, 100], LIMITS), vec![0..2, 2..3, 3..4]);
        assert!(plan(&[], LIMITS).is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn retries_what_may_pass_and_reports_the_rest() {
        let calls = Mutex::new(Vec::new());
        let outcome = send_all(&[10, 10, 10, 10, 500], LIMITS, |indexes: Vec<usize>| {
            calls.lock().unwrap().push(indexes.clone());
            let first = calls.lock().unwrap().len() == 1;
            async move {
                Ok(indexes
                    .into_iter()
                    .filter_map(|i| match i {
                        0 => Some((i, Answer::Sent)),
                        // Throttled once, then sent.
                        1 if first => Some((
                            i,
                            Answer::Refused {
                                reason: "Throttled".into(),
                                retry: true,
                            },
                        )),
                        1 => Some((i, Answer::Sent)),
                        2 => Some((
                            i,
                            Answer::Refused {
                                reason: "InvalidMessageContents".into(),
                                retry: false,
                            },
                        )),
                        // Never in the answer: retried, never assumed sent.
                        _ => None,
                    })
                    .collect())
            }
        })
        .await;
        assert_eq!(outcome.sent, 2);
        let mut failed = outcome.failed.clone();
        failed.sort();
        assert_eq!(failed.len(), 3, "{failed:?}");
        assert_eq!(failed[0], (2, "InvalidMessageContents".into()));
        assert!(failed[1].1.contains("still failing after 3 attempts"));
        assert_eq!(failed[1].0, 3);
        assert_eq!(failed[2].0, 4);
        assert!(failed[2].1.contains("500 bytes"), "{}", failed[2].1);
        assert_eq!(
            *calls.lock().unwrap(),
            vec![vec![0, 1, 2, 3], vec![1, 3], vec![3]]
        );
        assert!(outcome.fatal.is_none());
    }

    #[tokio::test]
    async fn a_failed_call_fails_the_rest_without_calling() {
        let calls = Mutex::new(0);
        let outcome = send_all(&[1; 25], LIMITS, |_| {
            *calls.lock().unwrap() += 1;
            async { Err::<Vec<(usize, Answer)>, _>("AccessDenied".to_string()) }
        })
        .await;
        assert_eq!(*calls.lock().unwrap(), 1);
        assert_eq!(outcome.sent, 0);
        assert_eq!(outcome.failed.len(), 25);
        assert_eq!(outcome.fatal.as_deref(), Some("AccessDenied"));
    }
}
