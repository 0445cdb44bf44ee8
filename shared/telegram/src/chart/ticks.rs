//! Axis ticks, and how amounts and times read on the chart.

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use rust_decimal::Decimal;

/// Round price ticks (1, 2 or 5 × 10ⁿ apart) within the range, and how many
/// decimals their labels need.
pub(super) fn price_ticks(lo: f64, hi: f64) -> (Vec<f64>, usize) {
    let step = nice_step((hi - lo) / 5.0);
    let decimals = if step >= 1.0 {
        0
    } else {
        // 0.5 apart reads as money with two decimals ("12.50"), not one.
        ((-step.log10()).ceil() as usize).clamp(2, 8)
    };
    let mut ticks = Vec::new();
    let mut k = (lo / step).ceil();
    while k * step <= hi + step * 1e-9 && ticks.len() < 20 {
        let v = k * step;
        ticks.push(if v.abs() < step * 1e-6 { 0.0 } else { v });
        k += 1.0;
    }
    (ticks, decimals)
}

fn nice_step(rough: f64) -> f64 {
    if !(rough.is_finite() && rough > 0.0) {
        return 1.0;
    }
    let magnitude = 10f64.powf(rough.log10().floor());
    let f = rough / magnitude;
    let nice = if f < 1.5 {
        1.0
    } else if f < 3.0 {
        2.0
    } else if f < 7.0 {
        5.0
    } else {
        10.0
    };
    nice * magnitude
}

/// How the time axis is ticked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TimeUnit {
    Hours(i64),
    Days(i64),
    Months(i32),
}

impl TimeUnit {
    pub(super) fn format(self, t: f64) -> String {
        let Some(at) = DateTime::<Utc>::from_timestamp(t.round() as i64, 0) else {
            return String::new();
        };
        match self {
            TimeUnit::Hours(_) if at.hour() == 0 && at.minute() == 0 => {
                at.format("%d.%m").to_string()
            }
            TimeUnit::Hours(_) => at.format("%H:%M").to_string(),
            TimeUnit::Days(_) => at.format("%d.%m").to_string(),
            TimeUnit::Months(_) => at.format("%m.%Y").to_string(),
        }
    }
}

const MAX_X_TICKS: f64 = 8.0;

/// Whole hours for windows up to two days, whole days (Mondays for weekly
/// ticks) up to four months, first days of months beyond; at most eight.
pub(super) fn time_ticks(from: f64, to: f64) -> (Vec<f64>, TimeUnit) {
    let span = to - from;
    let hour = 3600.0;
    let day = 24.0 * hour;
    let every = |step: f64, offset: f64| -> Vec<f64> {
        let mut k = ((from - offset) / step).ceil();
        let mut out = Vec::new();
        while offset + k * step <= to && out.len() < 64 {
            out.push(offset + k * step);
            k += 1.0;
        }
        out
    };
    if span <= 2.0 * day {
        let h = [1, 2, 3, 6, 12]
            .into_iter()
            .find(|&h| span / (h as f64 * hour) <= MAX_X_TICKS)
            .unwrap_or(12);
        return (every(h as f64 * hour, 0.0), TimeUnit::Hours(h));
    }
    if span <= 120.0 * day {
        let d = [1, 2, 3, 7, 14]
            .into_iter()
            .find(|&d| span / (d as f64 * day) <= MAX_X_TICKS)
            .unwrap_or(14);
        // 1970-01-05 was a Monday.
        let offset = if d % 7 == 0 { 4.0 * day } else { 0.0 };
        return (every(d as f64 * day, offset), TimeUnit::Days(d));
    }
    let months = span / (30.44 * day);
    let m = [1, 2, 3, 6, 12]
        .into_iter()
        .find(|&m| months / m as f64 <= MAX_X_TICKS)
        .unwrap_or_else(|| 12 * (months / (12.0 * MAX_X_TICKS)).ceil() as i32);
    let Some(start) = DateTime::<Utc>::from_timestamp(from.floor() as i64, 0) else {
        return (Vec::new(), TimeUnit::Months(m));
    };
    let mut index = start.year() * 12 + start.month0() as i32;
    index += (m - index.rem_euclid(m)) % m;
    let mut ticks = Vec::new();
    while ticks.len() < 64 {
        let Some(first) =
            NaiveDate::from_ymd_opt(index.div_euclid(12), index.rem_euclid(12) as u32 + 1, 1)
        else {
            break;
        };
        let t = first
            .and_hms_opt(0, 0, 0)
            .map_or(f64::INFINITY, |d| d.and_utc().timestamp() as f64);
        if t > to {
            break;
        }
        if t >= from {
            ticks.push(t);
        }
        index += m;
    }
    (ticks, TimeUnit::Months(m))
}

/// An axis amount: fixed decimals, thousands grouped with spaces.
pub(super) fn format_amount(v: f64, decimals: usize) -> String {
    group_thousands(&format!("{v:.decimals$}"))
}

/// How many decimals the exact prices need together: none when all are
/// whole amounts, else at least two ("12.50", "0.0049") and at most eight.
pub(super) fn money_scale(prices: &[Decimal]) -> u32 {
    match prices.iter().map(|p| p.normalize().scale()).max() {
        Some(1) => 2,
        Some(scale) => scale.min(8),
        None => 0,
    }
}

/// An exact price with `scale` decimals, thousands grouped with spaces.
pub(super) fn format_decimal(price: Decimal, scale: u32) -> String {
    let mut p = price.round_dp(scale);
    p.rescale(scale);
    group_thousands(&p.to_string())
}

fn group_thousands(number: &str) -> String {
    let (sign, rest) = match number.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", number),
    };
    let (int, frac) = match rest.find('.') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let mut out = String::with_capacity(number.len() + int.len() / 3);
    out.push_str(sign);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out.push_str(frac);
    out
}
