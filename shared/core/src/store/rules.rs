//! The rules of the [`UserStore`](super::UserStore) that both adapters
//! (SQLite and DynamoDB) keep, stated once: how long short-lived records
//! live, what identifies a counter's period, which windows usage statistics
//! cover, and the names under which kinds are stored. Each adapter only
//! translates them to its database: a value it writes, a bound in a query,
//! a `WHERE` clause or a condition expression.
//!
//! The stored names and numbers here are a storage format: existing rows and
//! items were written with them, so changing one orphans (or misreads) data
//! already stored. Tests at the bottom pin them.
//!
//! Comparisons an adapter makes inside its database follow these rules too:
//!
//! - an update claim holds through its expiry second: it has lapsed once
//!   `expires_at < now` (epoch seconds, see [`update_claim_expires_at`]);
//! - a payload or a track job claim is live while `now < until` (epoch
//!   milliseconds): it has lapsed once `until <= now` ([`lapsed`]). A new
//!   track job claim wins when there is none or the one there has lapsed;
//!   a released claim is one that has lapsed (deleted, or `until` set to 0);
//! - a counter's period is its start in whole epoch seconds, and its record
//!   may go [`Counter::keep_secs`] after that start.

use chrono::{DateTime, Duration, DurationRound, Utc};

use crate::domain::user::{AlertRule, AlertTarget, UsageKind};
use crate::domain::{Currency, ItemId, Money, SeriesId};

use super::StoreError;

/// How long an `update_id` is remembered: Telegram gives up on an update
/// after 24 hours, so a retry can never come later than that.
pub const UPDATE_DEDUPE_TTL_HOURS: i64 = 24;

/// When a claim of an update made at `now` lapses, in epoch seconds (both
/// stores keep whole seconds: DynamoDB's TTL attribute is in seconds). The
/// claim holds through that second.
pub fn update_claim_expires_at(now: DateTime<Utc>) -> i64 {
    now.timestamp() + UPDATE_DEDUPE_TTL_HOURS * 3600
}

/// True when something live until `until_ms` (epoch milliseconds: a
/// payload's expiry, a track job claim's end) is over at `now`. Live means
/// `now < until`, so at `until` itself it is over.
pub fn lapsed(until_ms: i64, now: DateTime<Utc>) -> bool {
    until_ms <= now.timestamp_millis()
}

/// The per-user counters kept for one period of time each, counted with
/// one atomic increment and gone on their own some time after the period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    /// Requests of a user in one throttle window
    /// ([`UpdateGuard::throttle_hit`](super::UpdateGuard::throttle_hit)).
    Throttle,
    /// Alert notifications to a user on one UTC day
    /// ([`AlertStore::alert_quota_hit`](super::AlertStore::alert_quota_hit)).
    AlertQuota,
    /// Track requests of a user on one UTC day
    /// ([`TrackedPageStore::track_quota_hit`](super::TrackedPageStore::track_quota_hit)).
    TrackQuota,
}

impl Counter {
    /// How long a counter is kept after its period started (the TTL's
    /// distance from the period). A throttle window is minutes long, so a
    /// day only bounds the table. A day's quota must outlive its own day
    /// (24 h) whatever the clock skew between instances: 48 h leaves a day
    /// of margin.
    pub const fn keep_secs(self) -> i64 {
        match self {
            Counter::Throttle => 24 * 3600,
            Counter::AlertQuota | Counter::TrackQuota => 48 * 3600,
        }
    }

    /// The key of the period that starts at `start`: whole epoch seconds,
    /// the unit of the stored period columns and attributes and of the
    /// DynamoDB keys that hold them.
    pub fn period(start: DateTime<Utc>) -> i64 {
        start.timestamp()
    }

    /// When the counter of `period` may go (epoch seconds).
    pub const fn expires_at(self, period: i64) -> i64 {
        period + self.keep_secs()
    }

    /// The oldest period still kept when counting in `period`: counters of
    /// earlier periods may be deleted (SQLite deletes them as it counts).
    pub const fn oldest_kept(self, period: i64) -> i64 {
        period - self.keep_secs()
    }

    /// A name for errors and logs.
    pub const fn name(self) -> &'static str {
        match self {
            Counter::Throttle => "throttle",
            Counter::AlertQuota => "alert quota",
            Counter::TrackQuota => "track quota",
        }
    }
}

/// The start of the window of `length` that holds `now`; windows are
/// aligned to the Unix epoch, so every instance agrees on them. This is
/// the `window_start` a throttle counts in. A length chrono cannot round
/// to (zero, or too long) leaves `now` as it is.
pub fn window_start(now: DateTime<Utc>, length: Duration) -> DateTime<Utc> {
    now.duration_trunc(length).unwrap_or(now)
}

/// The start of the UTC day that holds `now`: the `day_start` the daily
/// quotas count in.
pub fn utc_day_start(now: DateTime<Utc>) -> DateTime<Utc> {
    window_start(now, Duration::days(1))
}

/// The windows [`UsageLog::usage_stats`](super::UsageLog::usage_stats)
/// counts over. Each is `(now - length, now]` to the millisecond (stored
/// times have millisecond precision); the fields hold each window's first
/// millisecond, so every window is the closed range `[first, now]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageWindows {
    /// The query time, cut to the millisecond.
    pub now: DateTime<Utc>,
    /// The last 24 hours: daily active users.
    pub day: DateTime<Utc>,
    /// The last 7 days: weekly active users.
    pub week: DateTime<Utc>,
    /// The last 30 days: monthly active users, commands and alerts sent.
    pub month: DateTime<Utc>,
}

impl UsageWindows {
    pub fn ending_at(now: DateTime<Utc>) -> Result<Self, StoreError> {
        let now = DateTime::from_timestamp_millis(now.timestamp_millis())
            .ok_or_else(|| StoreError::Backend(format!("time out of range: {now}")))?;
        let first = |length: Duration| now - length + Duration::milliseconds(1);
        Ok(UsageWindows {
            now,
            day: first(Duration::hours(24)),
            week: first(Duration::days(7)),
            month: first(Duration::days(30)),
        })
    }
}

/// Command counts as [`UsageStats::commands`](crate::domain::user::UsageStats)
/// lists them: most used first, ties by name (byte order).
pub fn rank_commands(counts: impl IntoIterator<Item = (String, u64)>) -> Vec<(String, u64)> {
    let mut ranked: Vec<(String, u64)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    ranked
}

/// The stored kind of a [`UsageKind::Command`] event (its name is stored
/// beside it).
pub const USAGE_COMMAND: &str = "command";
/// The stored kind of a [`UsageKind::AlertSent`] event.
pub const USAGE_ALERT_SENT: &str = "alert_sent";

/// A usage event's stored kind, and the command's name for a command.
pub fn usage_kind_parts(kind: &UsageKind) -> (&'static str, Option<&str>) {
    match kind {
        UsageKind::Command(name) => (USAGE_COMMAND, Some(name)),
        UsageKind::AlertSent => (USAGE_ALERT_SENT, None),
    }
}

/// The stored kind of an alert on an item.
pub const TARGET_ITEM: &str = "item";
/// The stored kind of an alert on a series.
pub const TARGET_SERIES: &str = "series";

/// An alert target as stored: its kind and the id of the item or series.
pub fn alert_target_parts(target: &AlertTarget) -> (&'static str, &str) {
    match target {
        AlertTarget::Item(item) => (TARGET_ITEM, item.as_str()),
        AlertTarget::Series(series) => (TARGET_SERIES, series.as_str()),
    }
}

/// Reads back what [`alert_target_parts`] stored.
pub fn alert_target_from_parts(kind: &str, id: &str) -> Result<AlertTarget, StoreError> {
    let corrupt = |what: &str, e: String| StoreError::Corrupt(format!("{what}: {e}"));
    match kind {
        TARGET_ITEM => Ok(AlertTarget::Item(
            ItemId::new(id).map_err(|e| corrupt("alert item id", e.to_string()))?,
        )),
        TARGET_SERIES => Ok(AlertTarget::Series(
            SeriesId::new(id).map_err(|e| corrupt("alert series", e.to_string()))?,
        )),
        other => Err(corrupt("alert target kind", format!("{other:?}"))),
    }
}

/// An alert rule as stored: JSON, with amounts as decimal strings
/// (`serde-str`), never floats.
pub fn alert_rule_json(rule: &AlertRule) -> String {
    serde_json::to_string(rule).expect("alert rules always serialise")
}

/// Reads back what [`alert_rule_json`] stored.
pub fn alert_rule_from_json(json: &str) -> Result<AlertRule, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("alert rule: {e}")))
}

/// A reference price as stored: the amount as a decimal string (which keeps
/// its scale: "0.10" stays "0.10") and the currency code, both or neither.
pub fn money_parts(price: Option<&Money>) -> (Option<String>, Option<&str>) {
    match price {
        Some(p) => (Some(p.amount.to_string()), Some(p.currency.code())),
        None => (None, None),
    }
}

/// Reads back what [`money_parts`] stored; one part without the other is
/// corrupt.
pub fn money_from_parts(
    amount: Option<&str>,
    currency: Option<&str>,
) -> Result<Option<Money>, StoreError> {
    let corrupt = |what: &str, e: String| StoreError::Corrupt(format!("{what}: {e}"));
    match (amount, currency) {
        (Some(amount), Some(currency)) => Ok(Some(Money {
            amount: amount
                .parse()
                .map_err(|e| corrupt("reference amount", format!("{e}")))?,
            currency: Currency::new(currency)
                .map_err(|e| corrupt("reference currency", e.to_string()))?,
        })),
        (None, None) => Ok(None),
        _ => Err(corrupt(
            "reference price",
            "amount and currency must be both present or both absent".into(),
        )),
    }
}

/// The targets to look up for
/// [`AlertStore::active_alerts_for`](super::AlertStore::active_alerts_for):
/// each once, in the order first given (the order of the answer).
pub fn unique_targets(targets: &[AlertTarget]) -> Vec<&AlertTarget> {
    let mut unique: Vec<&AlertTarget> = Vec::with_capacity(targets.len());
    for t in targets {
        if !unique.contains(&t) {
            unique.push(t);
        }
    }
    unique
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(ms: i64) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(ms).unwrap()
    }

    #[test]
    fn stored_names_and_lifetimes_do_not_change() {
        // Existing rows and items were written with these.
        assert_eq!(USAGE_COMMAND, "command");
        assert_eq!(USAGE_ALERT_SENT, "alert_sent");
        assert_eq!(TARGET_ITEM, "item");
        assert_eq!(TARGET_SERIES, "series");
        assert_eq!(Counter::Throttle.keep_secs(), 86_400);
        assert_eq!(Counter::AlertQuota.keep_secs(), 172_800);
        assert_eq!(Counter::TrackQuota.keep_secs(), 172_800);
        assert_eq!(
            update_claim_expires_at(t(1_714_557_600_999)),
            1_714_557_600 + 86_400
        );
    }

    #[test]
    fn counters_key_periods_by_their_start_in_seconds() {
        let day = utc_day_start(t(1_714_600_000_123));
        assert_eq!(Counter::period(day), 1_714_521_600);
        assert_eq!(Counter::AlertQuota.expires_at(100), 100 + 172_800);
        assert_eq!(Counter::Throttle.oldest_kept(100_000), 100_000 - 86_400);
        assert_eq!(
            window_start(t(125_500), Duration::minutes(1)),
            t(120_000),
            "windows are aligned to the epoch"
        );
        assert_eq!(window_start(t(125_500), Duration::zero()), t(125_500));
    }

    #[test]
    fn lapsing_is_at_the_end_itself() {
        assert!(!lapsed(1000, t(999)));
        assert!(lapsed(1000, t(1000)));
        assert!(lapsed(0, t(1)), "a released claim has lapsed");
    }

    #[test]
    fn usage_windows_end_now_and_exclude_their_start() {
        let now = Utc.timestamp_nanos(1_714_557_600_123_456_789);
        let w = UsageWindows::ending_at(now).unwrap();
        assert_eq!(w.now, t(1_714_557_600_123));
        assert_eq!(w.day, t(1_714_557_600_123 - 86_400_000 + 1));
        assert_eq!(
            w.week,
            w.now - Duration::days(7) + Duration::milliseconds(1)
        );
        assert_eq!(
            w.month,
            w.now - Duration::days(30) + Duration::milliseconds(1)
        );
    }

    #[test]
    fn commands_rank_by_count_then_name() {
        let ranked = rank_commands([("b".into(), 2), ("c".into(), 5), ("a".into(), 2)]);
        assert_eq!(
            ranked,
            vec![("c".into(), 5), ("a".into(), 2), ("b".into(), 2)]
        );
    }

    #[test]
    fn kinds_targets_and_prices_round_trip() {
        assert_eq!(
            usage_kind_parts(&UsageKind::Command("prices".into())),
            ("command", Some("prices"))
        );
        assert_eq!(
            usage_kind_parts(&UsageKind::AlertSent),
            ("alert_sent", None)
        );
        for target in [
            AlertTarget::Item(ItemId::new("shop:1").unwrap()),
            AlertTarget::Series(SeriesId::new("rtx-4070").unwrap()),
        ] {
            let (kind, id) = alert_target_parts(&target);
            assert_eq!(alert_target_from_parts(kind, id).unwrap(), target);
        }
        assert!(alert_target_from_parts("shop", "x").is_err());
        let price = Money {
            amount: "0.10".parse().unwrap(),
            currency: Currency::new("EUR").unwrap(),
        };
        let (amount, currency) = money_parts(Some(&price));
        assert_eq!((amount.as_deref(), currency), (Some("0.10"), Some("EUR")));
        assert_eq!(
            money_from_parts(amount.as_deref(), currency).unwrap(),
            Some(price)
        );
        assert_eq!(money_from_parts(None, None).unwrap(), None);
        assert!(money_from_parts(Some("1"), None).is_err());
    }

    #[test]
    fn targets_are_looked_up_once_in_the_order_given() {
        let a = AlertTarget::Item(ItemId::new("s:a").unwrap());
        let b = AlertTarget::Series(SeriesId::new("b").unwrap());
        let targets = [a.clone(), b.clone(), a.clone()];
        assert_eq!(unique_targets(&targets), vec![&a, &b]);
    }
}
