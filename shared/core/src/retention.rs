//! How long pricehound keeps what grows without bound: price history and
//! usage events. Latest prices, users, watches and alerts are kept for as
//! long as they exist; the latest observation of an item is never pruned,
//! however old, so a price that has not changed for years still shows.
//!
//! DynamoDB expires old rows by TTL (each history row and usage event is
//! written with its `expires_at`); SQLite has no TTL, so `serve` runs
//! [`Prune`] on a timer.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use crate::store::StoreError;

/// The variable that sets [`Retention::history_days`].
pub const HISTORY_VAR: &str = "PRICEHOUND_HISTORY_RETENTION_DAYS";
/// The variable that sets [`Retention::usage_days`].
pub const USAGE_VAR: &str = "PRICEHOUND_USAGE_RETENTION_DAYS";

/// The longest retention a variable may ask for: 100 years, far inside
/// what chrono and DynamoDB's epoch seconds hold.
const MAX_DAYS: u32 = 36_500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Days of price history (charts go back a year at most: `/chart 1y`).
    pub history_days: u32,
    /// Days of usage events (the admin statistics look back 30 days; a
    /// year and a month keeps year-over-year comparisons possible).
    pub usage_days: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            history_days: 730,
            usage_days: 400,
        }
    }
}

impl Retention {
    /// Reads [`HISTORY_VAR`] and [`USAGE_VAR`]; unset keeps the default.
    /// An error names the variable and says what is wrong.
    pub fn from_vars(
        var: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Retention, (&'static str, String)> {
        let days = |name: &'static str, default: u32| match var(name) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|d| (1..=MAX_DAYS).contains(d))
                .ok_or_else(|| {
                    (
                        name,
                        format!("{v:?} is not a number of days from 1 to {MAX_DAYS}"),
                    )
                }),
        };
        let default = Retention::default();
        Ok(Retention {
            history_days: days(HISTORY_VAR, default.history_days)?,
            usage_days: days(USAGE_VAR, default.usage_days)?,
        })
    }

    /// When a history row observed at `observed_at` may go.
    pub fn history_expires_at(&self, observed_at: DateTime<Utc>) -> DateTime<Utc> {
        later(observed_at, self.history_days)
    }

    /// When a usage event at `at` may go.
    pub fn usage_expires_at(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        later(at, self.usage_days)
    }

    /// History observed before this may go (except an item's latest).
    pub fn history_cutoff(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        earlier(now, self.history_days)
    }

    /// Usage events before this may go.
    pub fn usage_cutoff(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        earlier(now, self.usage_days)
    }
}

// Checked: times come from outside (a post date, a queue message), and
// chrono's `+` panics past the year 262142.
fn later(t: DateTime<Utc>, days: u32) -> DateTime<Utc> {
    t.checked_add_signed(Duration::days(i64::from(days)))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

fn earlier(t: DateTime<Utc>, days: u32) -> DateTime<Utc> {
    t.checked_sub_signed(Duration::days(i64::from(days)))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// What one prune removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    pub observations: u64,
    pub usage_events: u64,
}

/// The port of a store that has no TTL of its own (SQLite): removes what
/// `retention` lets go, never an item's latest observation.
#[async_trait]
pub trait Prune: Send + Sync + 'static {
    async fn prune(&self, retention: &Retention, now: DateTime<Utc>) -> Result<Pruned, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn read(vars: &[(&str, &str)]) -> Result<Retention, (&'static str, String)> {
        let map: HashMap<&str, &str> = vars.iter().copied().collect();
        Retention::from_vars(&|name| map.get(name).map(|v| v.to_string()))
    }

    #[test]
    fn defaults_two_years_of_history_and_400_days_of_usage() {
        assert_eq!(read(&[]).unwrap(), Retention::default());
        assert_eq!(Retention::default().history_days, 730);
        assert_eq!(Retention::default().usage_days, 400);
        let r = read(&[(HISTORY_VAR, " 90 "), (USAGE_VAR, "30")]).unwrap();
        assert_eq!((r.history_days, r.usage_days), (90, 30));
    }

    #[test]
    fn bad_values_name_their_variable() {
        for bad in ["0", "-1", "two years", "36501", "99999999999999999999", ""] {
            let (var, problem) = read(&[(HISTORY_VAR, bad)]).unwrap_err();
            assert_eq!(var, HISTORY_VAR);
            assert!(problem.contains("number of days"), "{problem}");
        }
        assert_eq!(read(&[(USAGE_VAR, "x")]).unwrap_err().0, USAGE_VAR);
    }

    #[test]
    fn the_longest_retention_does_not_overflow() {
        let r = read(&[(HISTORY_VAR, "36500"), (USAGE_VAR, "36500")]).unwrap();
        let now = DateTime::<Utc>::MAX_UTC - Duration::days(36_501);
        assert!(r.history_expires_at(now) > now);
        assert!(r.usage_cutoff(DateTime::<Utc>::UNIX_EPOCH) < DateTime::<Utc>::UNIX_EPOCH);
        // Times from outside at the ends of chrono's range saturate.
        assert_eq!(
            r.history_expires_at(DateTime::<Utc>::MAX_UTC),
            DateTime::<Utc>::MAX_UTC
        );
        assert_eq!(
            r.history_cutoff(DateTime::<Utc>::MIN_UTC),
            DateTime::<Utc>::MIN_UTC
        );
    }
}
