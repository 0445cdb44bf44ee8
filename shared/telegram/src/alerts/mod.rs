//! Alerts: when they fire ([`rules`]), and how the notifications reach
//! Telegram ([`notifier`]): matched by item and series, sent within
//! Telegram's limits, put back on 429, paused for users who blocked the bot.

pub mod local;
pub mod notifier;
/// When an alert fires: the pure rules, in the core.
pub use pricehound_core::alerts as rules;
pub mod sender;

use rules::AlertPolicy;

/// The flood limits from `PRICEHOUND_ALERT_COOLDOWN_MINUTES` and
/// `PRICEHOUND_ALERT_DAILY_CAP` over the defaults, read with `var` (see
/// `crate::settings`). The error names the variable.
pub fn policy_from_vars(
    var: &dyn Fn(&str) -> Option<String>,
) -> Result<AlertPolicy, (&'static str, String)> {
    let mut p = AlertPolicy::default();
    if let Some(v) = var("PRICEHOUND_ALERT_COOLDOWN_MINUTES") {
        // try_minutes: `Duration::minutes` panics past about 1.5e14.
        p.cooldown = v
            .trim()
            .parse()
            .ok()
            .filter(|m: &i64| *m >= 0)
            .and_then(chrono::Duration::try_minutes)
            .ok_or_else(|| {
                (
                    "PRICEHOUND_ALERT_COOLDOWN_MINUTES",
                    format!("{v:?} is not a number of minutes"),
                )
            })?;
    }
    if let Some(v) = var("PRICEHOUND_ALERT_DAILY_CAP") {
        p.daily_cap = v.trim().parse().ok().filter(|c| *c > 0).ok_or_else(|| {
            (
                "PRICEHOUND_ALERT_DAILY_CAP",
                format!("{v:?} is not a positive number"),
            )
        })?;
    }
    Ok(p)
}

pub mod outbox;

#[cfg(test)]
mod tests {
    use super::*;

    fn with(name: &'static str, value: &'static str) -> Result<AlertPolicy, String> {
        policy_from_vars(&|n| (n == name).then(|| value.to_string()))
            .map_err(|(var, problem)| format!("{var}: {problem}"))
    }

    /// Regression: a cooldown too long for chrono panicked at start-up
    /// instead of saying what is wrong.
    #[test]
    fn limits_out_of_range_are_errors_not_panics() {
        assert_eq!(
            with("PRICEHOUND_ALERT_COOLDOWN_MINUTES", "90")
                .unwrap()
                .cooldown,
            chrono::Duration::minutes(90)
        );
        for bad in ["999999999999999999", "-1", "1e3", "", "∞"] {
            let e = with("PRICEHOUND_ALERT_COOLDOWN_MINUTES", bad).unwrap_err();
            assert!(e.contains("PRICEHOUND_ALERT_COOLDOWN_MINUTES"), "{e}");
        }
        for bad in ["0", "-5", "99999999999999999999999", "NaN"] {
            assert!(with("PRICEHOUND_ALERT_DAILY_CAP", bad).is_err(), "{bad}");
        }
    }
}
