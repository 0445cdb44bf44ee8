//! Alerts: when they fire ([`rules`]), and how the notifications reach
//! Telegram ([`notifier`]): matched by item and series, sent within
//! Telegram's limits, put back on 429, paused for users who blocked the bot.

pub mod local;
pub mod notifier;
pub mod rules;
pub mod sender;

use rules::AlertPolicy;

/// The flood limits from `PRICEHOUND_ALERT_COOLDOWN_MINUTES` and
/// `PRICEHOUND_ALERT_DAILY_CAP`, over the defaults.
pub fn policy_from_env() -> Result<AlertPolicy, String> {
    let mut p = AlertPolicy::default();
    if let Ok(v) = std::env::var("PRICEHOUND_ALERT_COOLDOWN_MINUTES") {
        let m: i64 = v.trim().parse().ok().filter(|m| *m >= 0).ok_or_else(|| {
            format!("PRICEHOUND_ALERT_COOLDOWN_MINUTES: {v:?} is not a number of minutes")
        })?;
        p.cooldown = chrono::Duration::minutes(m);
    }
    if let Ok(v) = std::env::var("PRICEHOUND_ALERT_DAILY_CAP") {
        p.daily_cap =
            v.trim().parse().ok().filter(|c| *c > 0).ok_or_else(|| {
                format!("PRICEHOUND_ALERT_DAILY_CAP: {v:?} is not a positive number")
            })?;
    }
    Ok(p)
}
pub mod outbox;
