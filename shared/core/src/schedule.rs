//! EventBridge schedule expressions (`rate(15 minutes)`, `cron(0 8-20 * * ? *)`),
//! parsed once so the same string drives the AWS schedule in template.yaml
//! and the local timer in `pricehound serve`.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "schedule {expr:?}: {why}; write rate(<n> minute[s]|hour[s]|day[s]) or cron(<min> <hour> <day-of-month> <month> <day-of-week> <year>)"
)]
pub struct ScheduleError {
    expr: String,
    why: String,
}

/// A parsed schedule expression.
///
/// ```
/// use pricehound_core::schedule::Schedule;
/// let s: Schedule = "cron(0 8-20 * * ? *)".parse().unwrap();
/// let next = s.next_after("2026-11-22T21:00:00Z".parse().unwrap()).unwrap();
/// assert_eq!(next.to_rfc3339(), "2026-11-23T08:00:00+00:00");
/// assert!("rate(5 minute)".parse::<Schedule>().is_err()); // EventBridge wants "minutes"
/// ```
#[derive(Clone)]
pub struct Schedule {
    expr: String,
    kind: Kind,
}

#[derive(Clone)]
enum Kind {
    Rate(Duration),
    // The `cron` crate reads AWS's six fields plus a leading seconds field,
    // `?` and day names, so an AWS expression maps onto it directly.
    Cron(Box<cron::Schedule>),
}

impl Schedule {
    /// The expression exactly as written (what template.yaml must carry).
    pub fn expression(&self) -> &str {
        &self.expr
    }

    /// The next time this schedule fires strictly after `after`. Rates fire
    /// on multiples of their period since the Unix epoch, so restarts do not
    /// shift them.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match &self.kind {
            Kind::Rate(d) => {
                let period = d.as_millis() as i64;
                let now = after.timestamp_millis();
                let next = (now / period + 1) * period;
                DateTime::from_timestamp_millis(next)
            }
            Kind::Cron(c) => c.after(&after).next(),
        }
    }
}

impl FromStr for Schedule {
    type Err = ScheduleError;
    fn from_str(expr: &str) -> Result<Self, ScheduleError> {
        let err = |why: &str| ScheduleError {
            expr: expr.to_string(),
            why: why.to_string(),
        };
        let inner = |prefix: &str| {
            expr.strip_prefix(prefix)
                .and_then(|r| r.strip_suffix(')'))
                .map(str::trim)
        };
        let kind = if let Some(body) = inner("rate(") {
            let (n, unit) = body
                .split_once(' ')
                .ok_or_else(|| err("a rate needs a number and a unit"))?;
            let n: u64 = n
                .trim()
                .parse()
                .map_err(|_| err("the rate's number is not a whole number"))?;
            if n == 0 {
                return Err(err("the rate must be at least 1"));
            }
            let secs = match (unit.trim(), n) {
                ("minute", 1) | ("minutes", 2..) => 60,
                ("hour", 1) | ("hours", 2..) => 3600,
                ("day", 1) | ("days", 2..) => 86400,
                ("minutes" | "hours" | "days", 1) => {
                    return Err(err("a rate of 1 takes a singular unit (1 minute)"));
                }
                ("minute" | "hour" | "day", _) => {
                    return Err(err("a rate above 1 takes a plural unit (5 minutes)"));
                }
                _ => return Err(err("the unit must be minute(s), hour(s) or day(s)")),
            };
            Kind::Rate(Duration::from_secs(n * secs))
        } else if let Some(body) = inner("cron(") {
            let fields: Vec<&str> = body.split_whitespace().collect();
            if fields.len() != 6 {
                return Err(err("a cron expression has exactly six fields"));
            }
            if fields[2] != "?" && fields[4] != "?" {
                return Err(err(
                    "one of day-of-month and day-of-week must be ? (as in EventBridge)",
                ));
            }
            let parsed = cron::Schedule::from_str(&format!("0 {body}"))
                .map_err(|e| err(&format!("not a valid cron expression ({e})")))?;
            Kind::Cron(Box::new(parsed))
        } else {
            return Err(err("it must start with rate( or cron( and end with )"));
        };
        Ok(Schedule {
            expr: expr.to_string(),
            kind,
        })
    }
}

impl<'de> Deserialize<'de> for Schedule {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Debug for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Schedule({})", self.expr)
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.expr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, h, m, 0).unwrap()
    }

    #[test]
    fn rates_fire_on_their_period() {
        let s: Schedule = "rate(15 minutes)".parse().unwrap();
        assert_eq!(s.next_after(at(10, 7)), Some(at(10, 15)));
        assert_eq!(s.next_after(at(10, 15)), Some(at(10, 30)));
        let s: Schedule = "rate(1 hour)".parse().unwrap();
        assert_eq!(s.next_after(at(10, 7)), Some(at(11, 0)));
    }

    #[test]
    fn aws_cron_expressions() {
        let s: Schedule = "cron(0 8-20 * * ? *)".parse().unwrap();
        assert_eq!(s.next_after(at(7, 30)), Some(at(8, 0)));
        assert_eq!(
            s.next_after(at(20, 30)),
            Some(at(8, 0) + chrono::Duration::days(1))
        );
        // 2026-11-22 is a Sunday; MON-FRI skips to Monday.
        let s: Schedule = "cron(30 9 ? * MON-FRI *)".parse().unwrap();
        assert_eq!(
            s.next_after(at(10, 0)),
            Some(at(9, 30) + chrono::Duration::days(1))
        );
    }

    #[test]
    fn bad_expressions_say_how_to_write_one() {
        for bad in [
            "rate(0 minutes)",
            "rate(1 minutes)",
            "rate(5 minute)",
            "rate(5 weeks)",
            "rate(x minutes)",
            "cron(0 8 * * *)",
            "cron(0 8 * * * *)",
            "cron(99 8 * * ? *)",
            "every 5 minutes",
            "",
        ] {
            let e = bad
                .parse::<Schedule>()
                .err()
                .unwrap_or_else(|| panic!("{bad} parsed"));
            assert!(e.to_string().contains("rate(<n>"), "{e}");
        }
    }
}
