//! When an alert fires, as a pure function of the alert, one price change
//! and the time: no store, no clock, no Telegram. The notifier applies the
//! result (sends, stores the new state).

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;

use crate::domain::user::{Alert, AlertRule, AlertTarget};
use crate::domain::{Availability, Money};
use crate::events::PriceChanged;

/// Flood limits, both configurable (`PRICEHOUND_ALERT_COOLDOWN_MINUTES`,
/// `PRICEHOUND_ALERT_DAILY_CAP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertPolicy {
    /// An alert that fired stays quiet this long, whatever the price does.
    pub cooldown: Duration,
    /// The most alert messages one user gets per UTC day.
    pub daily_cap: u32,
}

impl Default for AlertPolicy {
    fn default() -> Self {
        AlertPolicy {
            cooldown: Duration::minutes(30),
            daily_cap: 50,
        }
    }
}

/// What one change does to one alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    /// Notify the user.
    pub fire: bool,
    /// The alert's new state, when it changed (fired, re-armed, reference
    /// price set); None when nothing needs writing.
    pub updated: Option<Alert>,
}

/// Evaluates `alert` against `change` at `now`.
///
/// Threshold alerts (`Below`, `Above`, `BackInStock`) fire once while
/// armed and re-arm only when the condition clears (the price crosses back,
/// the item goes out of stock again). `Drop` fires when the price fell by at
/// least the percent from its reference, which then moves to the price it
/// fired at. `NewListingUnder` fires for each new item of its series under
/// the price. While a threshold or drop alert is in its cooldown it does not
/// fire and its state is left as is (re-arming still happens): a price
/// wiggling around a threshold must not flood. `BackInStock` and
/// `NewListingUnder` report one-off events that the next change will not
/// repeat, so a cooldown would lose them: they ignore it, and the daily cap
/// (the notifier's, per user) bounds them instead.
pub fn evaluate(
    alert: &Alert,
    change: &PriceChanged,
    now: DateTime<Utc>,
    policy: &AlertPolicy,
) -> Evaluation {
    if !alert.active || !targets(alert, change) {
        return Evaluation::nothing();
    }
    let cooling = in_cooldown(alert, now, policy);
    match &alert.rule {
        AlertRule::Below { price } => {
            threshold(alert, change, now, cooling, price, |new, x| new < x)
        }
        AlertRule::Above { price } => {
            threshold(alert, change, now, cooling, price, |new, x| new > x)
        }
        AlertRule::Drop { percent } => drop(alert, change, now, cooling, *percent),
        AlertRule::BackInStock => back_in_stock(alert, change, now, false),
        AlertRule::NewListingUnder { price } => {
            let AlertTarget::Series(series) = &alert.target else {
                return Evaluation::nothing();
            };
            let under = change.new_item
                && change.series.as_ref() == Some(series)
                && same_currency_price(change, price).is_some_and(|new| new < price.amount);
            if under {
                Evaluation::fired(alert, now, |_| {})
            } else {
                Evaluation::nothing()
            }
        }
    }
}

impl Evaluation {
    fn nothing() -> Self {
        Evaluation {
            fire: false,
            updated: None,
        }
    }

    /// Fires, with the alert's `last_fired_at` set to `now` and `edit` applied.
    fn fired(alert: &Alert, now: DateTime<Utc>, edit: impl FnOnce(&mut Alert)) -> Self {
        let mut updated = alert.clone();
        updated.last_fired_at = Some(now);
        edit(&mut updated);
        Evaluation {
            fire: true,
            updated: Some(updated),
        }
    }

    /// Does not fire, but stores the alert with `edit` applied.
    fn updated(alert: &Alert, edit: impl FnOnce(&mut Alert)) -> Self {
        let mut updated = alert.clone();
        edit(&mut updated);
        Evaluation {
            fire: false,
            updated: Some(updated),
        }
    }

    fn rearmed(alert: &Alert) -> Self {
        Evaluation::updated(alert, |a| a.armed = true)
    }
}

/// Whether the change is about what the alert watches.
fn targets(alert: &Alert, change: &PriceChanged) -> bool {
    match &alert.target {
        AlertTarget::Item(item) => *item == change.item_id,
        AlertTarget::Series(series) => change.series.as_ref() == Some(series),
    }
}

/// True while `policy.cooldown` has not passed since the alert last fired.
fn in_cooldown(alert: &Alert, now: DateTime<Utc>, policy: &AlertPolicy) -> bool {
    alert.last_fired_at.is_some_and(|last| {
        // A cooldown too long to add is one that never ends.
        last.checked_add_signed(policy.cooldown)
            .is_none_or(|until| until > now)
    })
}

/// The new price's amount when it is in `like`'s currency.
fn same_currency_price(change: &PriceChanged, like: &Money) -> Option<Decimal> {
    change
        .new_price
        .as_ref()
        .filter(|p| p.currency == like.currency)
        .map(|p| p.amount)
}

/// `Below` and `Above`: `past(new, threshold)` is the firing condition; the
/// alert re-arms once it no longer holds.
fn threshold(
    alert: &Alert,
    change: &PriceChanged,
    now: DateTime<Utc>,
    cooling: bool,
    threshold: &Money,
    past: impl Fn(Decimal, Decimal) -> bool,
) -> Evaluation {
    let Some(new) = same_currency_price(change, threshold) else {
        return Evaluation::nothing();
    };
    let is_past = past(new, threshold.amount);
    match (alert.armed, is_past) {
        (true, true) if !cooling => Evaluation::fired(alert, now, |a| a.armed = false),
        (false, false) => Evaluation::rearmed(alert),
        _ => Evaluation::nothing(),
    }
}

/// `Drop`: fires when the price fell by at least `percent` from the
/// reference; the reference then moves to the new price.
fn drop(
    alert: &Alert,
    change: &PriceChanged,
    now: DateTime<Utc>,
    cooling: bool,
    percent: Decimal,
) -> Evaluation {
    let Some(new) = &change.new_price else {
        return Evaluation::nothing();
    };
    let Some(reference) = &alert.reference_price else {
        // Created before the item had a price: measure from the first one.
        let new = new.clone();
        return Evaluation::updated(alert, |a| a.reference_price = Some(new));
    };
    if new.currency != reference.currency || reference.amount <= Decimal::ZERO {
        return Evaluation::nothing();
    }
    // (reference - new) / reference * 100 >= percent, without dividing.
    // Checked: amounts off the queue can be anywhere in Decimal's range.
    let Some(fell) = reference.amount.checked_sub(new.amount) else {
        return Evaluation::nothing();
    };
    let dropped_enough = match (
        fell.checked_mul(Decimal::ONE_HUNDRED),
        percent.checked_mul(reference.amount),
    ) {
        (Some(lhs), Some(rhs)) => lhs >= rhs,
        _ => false,
    };
    if dropped_enough && !cooling {
        let new = new.clone();
        Evaluation::fired(alert, now, |a| a.reference_price = Some(new))
    } else {
        Evaluation::nothing()
    }
}

/// `BackInStock`: fires on the way from out of stock to in stock (or to a
/// price again when the source does not say), re-arms when the item goes
/// out of stock again.
fn back_in_stock(
    alert: &Alert,
    change: &PriceChanged,
    now: DateTime<Utc>,
    cooling: bool,
) -> Evaluation {
    let was_out = change.old_availability == Some(Availability::OutOfStock);
    let is_back = match change.availability {
        Availability::InStock => true,
        Availability::Unknown => change.new_price.is_some(),
        Availability::OutOfStock => false,
    };
    if alert.armed && was_out && is_back && !cooling {
        Evaluation::fired(alert, now, |a| a.armed = false)
    } else if !alert.armed && change.availability == Availability::OutOfStock {
        Evaluation::rearmed(alert)
    } else {
        Evaluation::nothing()
    }
}

#[cfg(test)]
mod tests;
