//! The names of pricehound's metrics, in one place. The code counts through
//! the `metrics` facade (a no-op until an exporter is installed); `serve`
//! exports them as Prometheus text on `/metrics`, each Lambda as CloudWatch
//! Embedded Metric Format lines (`pricehound-telemetry`).
//!
//! Labels stay low-cardinality, because each label value is a metric of its
//! own in CloudWatch (and a series in Prometheus): routes are the router's
//! patterns, never raw paths; statuses are codes; sources are the ones in
//! `sources.toml`, and every page a user pasted counts as [`USER_PAGES`].

/// Observations written for the first time (ingest).
pub const OBSERVATIONS_STORED: &str = "observations_stored";
/// Observations that were already stored (an SQS redelivery).
pub const OBSERVATIONS_DUPLICATE: &str = "observations_duplicate";
/// Stored observations that moved an item's price or availability.
pub const PRICE_CHANGES: &str = "price_changes";
/// Price events published to the bus (the relay in `serve`, the events
/// function in AWS).
pub const EVENTS_PUBLISHED: &str = "events_published";

/// Alert messages planned by the notifier.
pub const ALERTS_PLANNED: &str = "alerts_planned";
/// Alert firings not sent, by `reason`: [`REASON_COOLDOWN`] or [`REASON_CAP`].
pub const ALERTS_SUPPRESSED: &str = "alerts_suppressed";
pub const REASON_COOLDOWN: &str = "cooldown";
pub const REASON_CAP: &str = "daily_cap";
/// Alert messages Telegram accepted.
pub const ALERTS_SENT: &str = "alerts_sent";
/// Bot API calls answered 429 (the message waits `retry_after`).
pub const TELEGRAM_THROTTLED: &str = "telegram_throttled";
/// Bot API calls that failed otherwise (network, 5xx, refused).
pub const TELEGRAM_ERRORS: &str = "telegram_errors";

/// Source runs, by `source` and `outcome` ([`OUTCOME_OK`], [`OUTCOME_FAILED`]).
pub const SOURCE_RUNS: &str = "source_runs";
/// Observations a source run found, by `source`.
pub const SOURCE_ITEMS: &str = "source_items";
/// Hours since the longest-failing source of a group run last succeeded
/// (0 when all its sources are healthy): the "source failing" alarm.
pub const SOURCE_FAILING_HOURS: &str = "source_failing_hours";
pub const OUTCOME_OK: &str = "ok";
pub const OUTCOME_FAILED: &str = "failed";
/// The `source` label of every page a user pasted into the bot.
pub const USER_PAGES: &str = "user-pages";

/// HTTP requests, by `route` (the router's pattern) and `status`.
pub const HTTP_REQUESTS: &str = "http_requests";
/// HTTP request latency in seconds, by `route` (the webhook's included).
pub const HTTP_REQUEST_SECONDS: &str = "http_request_seconds";

/// The `source` label for `source`: itself for a configured source, one
/// shared value for pasted pages (their ids are unbounded).
pub fn source_label(source: &crate::domain::SourceId) -> String {
    if source.as_str().starts_with(crate::domain::USER_PAGE_PREFIX) {
        USER_PAGES.to_string()
    } else {
        source.to_string()
    }
}
