//! When a failed attempt is tried again: exponential backoff with full
//! jitter, or the wait a server's `Retry-After` asks for (429 and 503).

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};

use super::Fetcher;

/// What to do after a failed attempt.
pub(super) enum Retry {
    No,
    Backoff,
    After(Duration),
}

impl Fetcher {
    /// Full jitter: uniform in `[0, min(cap, base * 2^retry)]`.
    pub(super) fn backoff(&self, retry: u32) -> Duration {
        let ceiling = self
            .policy
            .backoff_base
            .saturating_mul(1u32.checked_shl(retry).unwrap_or(u32::MAX))
            .min(self.policy.backoff_cap);
        let ceiling_ms = ceiling.as_millis() as u64;
        if ceiling_ms == 0 {
            return Duration::ZERO;
        }
        Duration::from_millis(pricehound_core::random::next_u64() % (ceiling_ms + 1))
    }
}

/// `Retry-After` as a wait from now: delay-seconds or an HTTP-date (a date in
/// the past is no wait). Anything else is treated as if the header were absent.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if value.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits to fit is still "a very long time".
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    parse_retry_after(value, SystemTime::now())
}

/// What a non-2xx answer `code` means for retrying. 429 and 503 wait what
/// `Retry-After` asks, or back off without one, unless it asks for more than
/// `max_wait`: then `Err` with the wait asked for (rate limited, given up at
/// once rather than sleeping a Lambda's budget away). Other 5xx back off;
/// any other status will not change by asking again.
pub(super) fn after_status(
    code: u16,
    headers: &HeaderMap,
    max_wait: Duration,
) -> Result<Retry, Duration> {
    match code {
        429 | 503 => match retry_after(headers) {
            Some(after) if after > max_wait => Err(after),
            Some(after) => Ok(Retry::After(after)),
            None => Ok(Retry::Backoff),
        },
        500..=599 => Ok(Retry::Backoff),
        _ => Ok(Retry::No),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::FetchPolicy;

    #[test]
    fn retry_after_seconds_dates_and_garbage() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:50:37 GMT", now),
            Some(Duration::from_secs(60))
        );
        // RFC 850 and asctime forms are HTTP-dates too.
        assert_eq!(
            parse_retry_after("Sunday, 06-Nov-94 08:49:47 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Sun Nov  6 08:49:57 1994", now),
            Some(Duration::from_secs(20))
        );
        assert_eq!(
            parse_retry_after("Sat, 05 Nov 1994 08:49:37 GMT", now),
            Some(Duration::ZERO),
            "a date in the past means now"
        );
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(Duration::from_secs(u64::MAX))
        );
        for garbage in [
            "",
            "soon",
            "-5",
            "1.5",
            "1e3",
            "Sun, 06 Nov 1994",
            "\u{fffd}",
        ] {
            assert_eq!(parse_retry_after(garbage, now), None, "{garbage:?}");
        }
    }

    #[test]
    fn backoff_is_full_jitter_under_the_cap() {
        let f = Fetcher::with_policy(FetchPolicy {
            backoff_base: Duration::from_millis(100),
            backoff_cap: Duration::from_millis(350),
            ..FetchPolicy::default()
        });
        for retry in 0..40 {
            let ceiling = Duration::from_millis((100u64 << retry.min(20)).min(350));
            for _ in 0..50 {
                assert!(f.backoff(retry) <= ceiling);
            }
        }
        let spread: std::collections::HashSet<_> = (0..50).map(|_| f.backoff(3)).collect();
        assert!(spread.len() > 5, "jittered, not constant: {spread:?}");
    }
}
