//! An item's last price change, kept with its latest price so lists can be
//! sorted by what moved ("biggest drops first") without reading history.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{LatestPrice, Money, Observation};

/// The price an item had before its last change, and when it changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastChange {
    pub from: Money,
    pub at: DateTime<Utc>,
}

impl LastChange {
    /// The last change to keep when `next` becomes an item's latest price
    /// after `previous`:
    /// - a new amount in the same currency is a change from the old one;
    /// - the same price seen again, or no price on either side (out of
    ///   stock, price on request), keeps the change there was;
    /// - a new currency forgets it: the two amounts do not compare.
    pub fn after(previous: Option<&LatestPrice>, next: &Observation) -> Option<LastChange> {
        let previous = previous?;
        match (&previous.price, &next.price) {
            (Some(old), Some(new)) if old.currency != new.currency => None,
            (Some(old), Some(new)) if old.amount != new.amount => Some(LastChange {
                from: old.clone(),
                at: next.observed_at,
            }),
            // Equal prices, or one side without a price.
            _ => previous.change.clone().filter(|c| {
                next.price
                    .as_ref()
                    .is_none_or(|p| p.currency == c.from.currency)
            }),
        }
    }

    /// The change to `now` in percent, rounded to 2 places ("-10", not
    /// "-10.00"); None across
    /// currencies, from zero, or when it does not fit (scraped amounts
    /// reach `Decimal::MAX`, and rust_decimal panics on overflow).
    pub fn percent(&self, now: &Money) -> Option<Decimal> {
        if now.currency != self.from.currency || self.from.amount.is_zero() {
            return None;
        }
        now.amount
            .checked_sub(self.from.amount)
            .and_then(|d| d.checked_div(self.from.amount))
            .and_then(|r| r.checked_mul(Decimal::ONE_HUNDRED))
            .map(|p| p.round_dp(2).normalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Currency, ItemId, Provenance, SourceId};
    use chrono::TimeZone;

    fn eur() -> Currency {
        Currency::new("EUR").unwrap()
    }

    fn obs(minute: u32, price: Option<(&str, Currency)>) -> Observation {
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 10, minute, 0).unwrap();
        let o = Observation::new(
            SourceId::new("shop").unwrap(),
            ItemId::new("shop:cola").unwrap(),
            "Cola",
            None,
            Money::new("1".parse().unwrap(), eur()),
            at,
            Provenance::Page {
                url: "https://shop.example/cola".into(),
                fetched_at: at,
            },
        );
        match price {
            Some((a, c)) => Observation {
                price: Some(Money::new(a.parse().unwrap(), c)),
                ..o
            },
            None => o.without_price(),
        }
    }

    /// Folds observations the way the stores do.
    fn latest(seq: &[Observation]) -> Option<LatestPrice> {
        let mut latest: Option<LatestPrice> = None;
        for o in seq {
            let change = LastChange::after(latest.as_ref(), o);
            let mut next = LatestPrice::from(o);
            next.change = change;
            latest = Some(next);
        }
        latest
    }

    #[test]
    fn a_change_is_kept_until_the_next_one() {
        let eur = eur();
        let l = latest(&[obs(1, Some(("100", eur))), obs(2, Some(("90", eur)))]).unwrap();
        let c = l.change.clone().unwrap();
        assert_eq!(c.from.amount.to_string(), "100");
        assert_eq!(
            c.percent(l.price.as_ref().unwrap()).unwrap().to_string(),
            "-10"
        );
        // Seen again at 90, then out of stock: the drop from 100 stays.
        let l = latest(&[
            obs(1, Some(("100", eur))),
            obs(2, Some(("90", eur))),
            obs(3, Some(("90", eur))),
            obs(4, None),
        ])
        .unwrap();
        assert_eq!(l.change.unwrap().at.format("%M").to_string(), "02");
        // A rise replaces it.
        let l = latest(&[
            obs(1, Some(("100", eur))),
            obs(2, Some(("90", eur))),
            obs(3, Some(("99", eur))),
        ])
        .unwrap();
        assert_eq!(l.change.unwrap().from.amount.to_string(), "90");
    }

    #[test]
    fn first_prices_and_new_currencies_have_no_change() {
        let eur = eur();
        assert_eq!(latest(&[obs(1, Some(("100", eur)))]).unwrap().change, None);
        let l = latest(&[
            obs(1, Some(("100", eur))),
            obs(2, Some(("90", eur))),
            obs(3, Some(("180", Currency::new("BGN").unwrap()))),
        ])
        .unwrap();
        assert_eq!(l.change, None);
    }

    #[test]
    fn percent_never_overflows() {
        let c = LastChange {
            from: Money::new("0.01".parse().unwrap(), eur()),
            at: Utc::now(),
        };
        assert_eq!(c.percent(&Money::new(Decimal::MAX, eur())), None);
        let zero = LastChange {
            from: Money::new(Decimal::ZERO, eur()),
            at: Utc::now(),
        };
        assert_eq!(zero.percent(&Money::new(Decimal::ONE, eur())), None);
    }
}
