//! Series statistics: what comparable items cost over a window, robust to
//! the junk listings every marketplace has (a box without the card, a whole
//! PC, a typo with an extra zero).
//!
//! Each item counts once (its newest price in the window), only the series'
//! main currency counts, and outliers are dropped before the figures are
//! computed. An outlier is a price more than three robust standard
//! deviations (1.4826 × the median absolute deviation) *and* more than 35 %
//! away from the median: both, so a tight series (gold quotes) keeps its
//! honest spread and a wide one (second-hand GPUs) loses only the absurd.
//! Outliers stay in storage; the statistics name them.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::{HashMap, HashSet};

use super::{Currency, ItemId, Observation, SeriesId};

/// How far from the median (as a fraction of it) a price must be, at least,
/// to count as an outlier.
const MIN_OUTLIER_DISTANCE: Decimal = Decimal::from_parts(35, 0, 0, false, 2);
/// Robust standard deviations beyond which a price is an outlier.
const OUTLIER_SIGMAS: Decimal = Decimal::from_parts(3, 0, 0, false, 0);
/// Scales the median absolute deviation to a normal standard deviation.
const MAD_TO_SIGMA: Decimal = Decimal::from_parts(14826, 0, 0, false, 4);

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeriesStats {
    pub series: SeriesId,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub currency: Currency,
    /// Items counted (after outliers were dropped).
    pub count: usize,
    pub min: Decimal,
    pub max: Decimal,
    pub mean: Decimal,
    pub median: Decimal,
    /// 25th percentile: a good price for this series.
    pub p25: Decimal,
    /// Items whose price was dropped as an outlier, with that price.
    pub outliers: Vec<Outlier>,
    /// Items priced in another currency than the series' main one (not counted).
    pub other_currency: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Outlier {
    pub item_id: ItemId,
    pub amount: Decimal,
}

/// Statistics of `observations` (any order) for `series` over `[from, to)`;
/// None when no item has a price in the window.
pub fn compute(
    series: &SeriesId,
    observations: &[Observation],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Option<SeriesStats> {
    // The newest priced observation per item.
    let mut newest: HashMap<&ItemId, &Observation> = HashMap::new();
    for o in observations {
        if o.price.is_none() || o.observed_at < from || o.observed_at >= to {
            continue;
        }
        match newest.get(&o.item_id) {
            Some(prev) if !o.is_newer_than(prev.observed_at, &prev.id) => {}
            _ => {
                newest.insert(&o.item_id, o);
            }
        }
    }
    // The series' main currency: the most common, ties to the smallest code.
    let mut by_currency: HashMap<Currency, usize> = HashMap::new();
    for o in newest.values() {
        if let Some(p) = &o.price {
            *by_currency.entry(p.currency).or_default() += 1;
        }
    }
    let (&currency, _) = by_currency
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))?;
    let mut priced: Vec<(&ItemId, Decimal)> = newest
        .values()
        .filter_map(|o| {
            let p = o.price.as_ref()?;
            (p.currency == currency).then_some((&o.item_id, p.amount))
        })
        .collect();
    let other_currency = newest.len() - priced.len();
    priced.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(b.0)));

    let amounts: Vec<Decimal> = priced.iter().map(|(_, a)| *a).collect();
    let median = median(&amounts);
    // Checked arithmetic from here on: scraped prices reach Decimal::MAX,
    // and rust_decimal panics on overflow. A distance too large to hold is
    // the largest there is.
    let distance = |a: &Decimal| {
        a.checked_sub(median)
            .map(|d| d.abs())
            .unwrap_or(Decimal::MAX)
    };
    let mut deviations: Vec<Decimal> = amounts.iter().map(distance).collect();
    deviations.sort();
    let sigma = self::median(&deviations)
        .checked_mul(MAD_TO_SIGMA)
        .unwrap_or(Decimal::MAX);
    let limit = sigma
        .checked_mul(OUTLIER_SIGMAS)
        .unwrap_or(Decimal::MAX)
        .max(median.abs() * MIN_OUTLIER_DISTANCE);
    let outlier_ids: HashSet<&ItemId> = priced
        .iter()
        .filter(|(_, a)| distance(a) > limit)
        .map(|(id, _)| *id)
        .collect();
    let outliers: Vec<Outlier> = priced
        .iter()
        .filter(|(id, _)| outlier_ids.contains(id))
        .map(|(id, a)| Outlier {
            item_id: (*id).clone(),
            amount: *a,
        })
        .collect();
    let kept: Vec<Decimal> = priced
        .iter()
        .filter(|(id, _)| !outlier_ids.contains(id))
        .map(|(_, a)| *a)
        .collect();
    // Dropping can only remove the extremes, never everything: the median
    // itself is always within the limit.
    let n = Decimal::from(kept.len());
    let mean = match kept
        .iter()
        .try_fold(Decimal::ZERO, |s, a| s.checked_add(*a))
    {
        Some(sum) => sum / n,
        // Too large to add up: the sum of the shares, each within range.
        None => kept.iter().map(|a| *a / n).sum(),
    };
    Some(SeriesStats {
        series: series.clone(),
        from,
        to,
        currency,
        count: kept.len(),
        min: *kept.first()?,
        max: *kept.last()?,
        mean: mean.round_dp(currency.minor_units()).normalize(),
        median: self::median(&kept).normalize(),
        p25: percentile(&kept, 25),
        outliers,
        other_currency,
    })
}

/// The median of sorted values (the mean of the middle two for an even count).
fn median(sorted: &[Decimal]) -> Decimal {
    let n = sorted.len();
    match n {
        0 => Decimal::ZERO,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => midpoint(sorted[n / 2 - 1], sorted[n / 2]),
    }
}

/// Halfway from `a` to `b` (`a <= b`) without leaving Decimal's range:
/// `(a + b) / 2` overflows for two prices near Decimal::MAX.
fn midpoint(a: Decimal, b: Decimal) -> Decimal {
    b.checked_sub(a)
        .and_then(|d| a.checked_add(d / Decimal::TWO))
        // Only for a < 0 < b (a forged message), where halves cannot overflow.
        .unwrap_or_else(|| a / Decimal::TWO + b / Decimal::TWO)
}

/// Nearest-rank percentile of sorted values: always a price someone asked.
fn percentile(sorted: &[Decimal], p: usize) -> Decimal {
    if sorted.is_empty() {
        return Decimal::ZERO;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted[rank - 1]
}

/// Parses a window such as `24h`, `7d`, `4w`, `1y` (at most 400 days).
pub fn parse_window(s: &str) -> Option<Duration> {
    // The unit is the last *character*: splitting at `len - 1` bytes would
    // panic inside a multi-byte one ("7д"), and that text comes from a query
    // string anyone can send.
    let mut chars = s.chars();
    let unit = chars.next_back()?;
    let digits = chars.as_str();
    if !digits.bytes().all(|b| b.is_ascii_digit()) || digits.starts_with('0') {
        return None; // no sign, spaces or leading zeros: "7d", not "+7 d" or "07d"
    }
    let n: i64 = digits.parse().ok().filter(|n| *n > 0)?;
    let d = match unit {
        'h' => Duration::try_hours(n)?,
        'd' => Duration::try_days(n)?,
        'w' => Duration::try_weeks(n)?,
        'y' => Duration::try_days(n.checked_mul(365)?)?,
        _ => return None,
    };
    (d <= Duration::days(400)).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Money, Provenance, SourceId};
    use chrono::TimeZone;
    use std::str::FromStr;

    fn t(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, 12, 0, 0).unwrap()
    }

    fn obs(item: &str, amount: &str, currency: &str, day: u32) -> Observation {
        let src = SourceId::new("olx").unwrap();
        Observation::new(
            src.clone(),
            ItemId::for_source(&src, item).unwrap(),
            item,
            Some(SeriesId::new("rtx-4070").unwrap()),
            Money::new(
                Decimal::from_str(amount).unwrap(),
                Currency::new(currency).unwrap(),
            ),
            t(day),
            Provenance::Page {
                url: format!("https://example.test/{item}"),
                fetched_at: t(day),
            },
        )
    }

    fn series() -> SeriesId {
        SeriesId::new("rtx-4070").unwrap()
    }

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    /// Regression: prices near Decimal::MAX (a page can show one; the price
    /// parser reads up to it) made the median, spread and mean overflow,
    /// which panics in rust_decimal: a 500 from GET /api/series/{id}/stats.
    #[test]
    fn prices_at_the_end_of_decimals_range_do_not_panic() {
        let max = Decimal::MAX.to_string();
        let huge = "79228162514264337593543950000";
        let data = vec![
            obs("a", &max, "BGN", 10),
            obs("b", &max, "BGN", 10),
            obs("c", huge, "BGN", 11),
            obs("d", &max, "BGN", 11),
        ];
        let s = compute(&series(), &data, t(1), t(20)).unwrap();
        assert_eq!((s.max, s.median), (Decimal::MAX, Decimal::MAX));
        assert!(s.mean > d(huge) && s.mean <= Decimal::MAX, "{}", s.mean);
        let data = vec![
            obs("a", "0.01", "BGN", 10),
            obs("b", &max, "BGN", 10),
            obs("c", "-79228162514264337593543950335", "BGN", 11),
            obs("d", "5", "BGN", 11),
        ];
        let s = compute(&series(), &data, t(1), t(20)).unwrap();
        assert_eq!(s.count + s.outliers.len(), 4);
        // Ordinary prices keep their exact mean and median.
        let data = vec![obs("a", "1000", "BGN", 10), obs("b", "1101", "BGN", 10)];
        let s = compute(&series(), &data, t(1), t(20)).unwrap();
        assert_eq!((s.median, s.mean), (d("1050.5"), d("1050.5")));
    }

    #[test]
    fn junk_listings_are_dropped_and_named() {
        let data = vec![
            obs("a", "1000", "BGN", 10),
            obs("b", "1100", "BGN", 10),
            obs("c", "1150", "BGN", 11),
            obs("d", "1200", "BGN", 11),
            obs("e", "950", "BGN", 12),
            obs("box-only", "40", "BGN", 12),
            obs("whole-pc", "3500", "BGN", 12),
        ];
        let s = compute(&series(), &data, t(1), t(20)).unwrap();
        assert_eq!(s.count, 5);
        assert_eq!((s.min, s.max), (d("950"), d("1200")));
        assert_eq!(s.median, d("1100"));
        assert_eq!(s.mean, d("1080"));
        assert_eq!(s.p25, d("1000"));
        let names: Vec<&str> = s.outliers.iter().map(|o| o.item_id.as_str()).collect();
        assert_eq!(names, vec!["olx:box-only", "olx:whole-pc"]);
    }

    #[test]
    fn a_tight_series_keeps_its_spread() {
        // Gold quotes within a few percent: nothing is an outlier.
        let data: Vec<_> = ["13500", "13600", "13450", "13900", "14100"]
            .iter()
            .enumerate()
            .map(|(i, a)| obs(&format!("shop{i}"), a, "DZD", 10))
            .collect();
        let s = compute(&series(), &data, t(1), t(20)).unwrap();
        assert_eq!(s.count, 5);
        assert!(s.outliers.is_empty());
    }

    #[test]
    fn each_item_counts_once_with_its_newest_price_in_the_window() {
        let data = vec![
            obs("a", "1000", "BGN", 5),
            obs("a", "900", "BGN", 9),
            obs("a", "800", "BGN", 25), // after the window
            obs("b", "1000", "BGN", 9),
        ];
        let s = compute(&series(), &data, t(1), t(20)).unwrap();
        assert_eq!(s.count, 2);
        assert_eq!(s.min, d("900"));
    }

    #[test]
    fn only_the_main_currency_counts() {
        let data = vec![
            obs("a", "1000", "BGN", 10),
            obs("b", "1100", "BGN", 10),
            obs("c", "550", "EUR", 10),
        ];
        let s = compute(&series(), &data, t(1), t(20)).unwrap();
        assert_eq!(s.currency.code(), "BGN");
        assert_eq!((s.count, s.other_currency), (2, 1));
    }

    #[test]
    fn no_prices_no_statistics() {
        assert!(compute(&series(), &[], t(1), t(20)).is_none());
        let unpriced = obs("a", "1", "BGN", 10).without_price();
        assert!(compute(&series(), &[unpriced], t(1), t(20)).is_none());
        let one = compute(&series(), &[obs("a", "7.5", "EUR", 10)], t(1), t(20)).unwrap();
        assert_eq!(
            (one.count, one.median, one.p25, one.mean),
            (1, d("7.5"), d("7.5"), d("7.5"))
        );
    }

    #[test]
    fn windows() {
        assert_eq!(parse_window("7d"), Some(Duration::days(7)));
        assert_eq!(parse_window("24h"), Some(Duration::hours(24)));
        assert_eq!(parse_window("1y"), Some(Duration::days(365)));
        for bad in [
            "",
            "d",
            "0d",
            "-1d",
            "7",
            "7x",
            "2y",
            "99999999999999999999d",
            "٧d",
            "7д",
            "7é",
            "é",
            "\u{10ffff}",
            "+7d",
            "7 d",
        ] {
            assert_eq!(parse_window(bad), None, "{bad}");
        }
    }
}
