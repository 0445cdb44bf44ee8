//! Data preparation: the prices in force during the window, gathered into
//! the plot's pixel columns.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::{ChartError, ChartPoint, ChartRequest};

/// The prices in force during the window, sorted by time, with the lowest
/// and highest found on the exact decimals.
pub(super) struct Window {
    /// (unix seconds, price), the first at or after `from`.
    pub(super) points: Vec<(f64, f64)>,
    pub(super) low: (f64, Decimal),
    pub(super) high: (f64, Decimal),
    pub(super) from: f64,
    pub(super) to: f64,
}

pub(super) fn secs(at: DateTime<Utc>) -> f64 {
    at.timestamp_millis() as f64 / 1000.0
}

impl Window {
    pub(super) fn new(req: &ChartRequest) -> Result<Self, ChartError> {
        let mut opening: Option<ChartPoint> = None;
        let mut inside: Vec<ChartPoint> = Vec::with_capacity(req.points.len());
        for p in req.points {
            if p.at <= req.from {
                if opening.is_none_or(|o| p.at >= o.at) {
                    opening = Some(*p);
                }
            } else if p.at <= req.to {
                inside.push(*p);
            }
        }
        if !inside.is_sorted_by_key(|p| p.at) {
            inside.sort_by_key(|p| p.at);
        }
        let opening = opening.map(|o| ChartPoint {
            at: req.from,
            price: o.price,
        });
        let all = || opening.iter().chain(&inside);
        let first = all().next().ok_or(ChartError::NoData)?;
        let (mut low, mut high) = (*first, *first);
        for p in all() {
            if p.price < low.price {
                low = *p;
            }
            if p.price > high.price {
                high = *p;
            }
        }
        let points = all()
            .map(|p| (secs(p.at), p.price.to_f64().unwrap_or(f64::NAN)))
            .filter(|(_, v)| v.is_finite())
            .collect::<Vec<_>>();
        if points.is_empty() {
            return Err(ChartError::NoData);
        }
        Ok(Self {
            points,
            low: (secs(low.at), low.price),
            high: (secs(high.at), high.price),
            from: secs(req.from),
            to: secs(req.to),
        })
    }

    /// Price axis range: the prices with room above and below for the
    /// labels, never below zero for prices that are not.
    pub(super) fn y_range(&self) -> (f64, f64) {
        let (lo, hi) = self
            .points
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &(_, v)| {
                (lo.min(v), hi.max(v))
            });
        let pad = if hi - lo > hi.abs().max(lo.abs()) * 1e-9 {
            (hi - lo) * 0.15
        } else if hi != 0.0 {
            hi.abs() * 0.05
        } else {
            1.0
        };
        let bottom = if lo >= 0.0 {
            (lo - pad).max(0.0)
        } else {
            lo - pad
        };
        (bottom, hi + pad)
    }

    /// The points gathered into the plot's pixel columns, in time order;
    /// each column placed at its left edge. Drawing columns instead of
    /// points keeps 10,000 points as cheap as 700, and leaves no sub-pixel
    /// segments to smear.
    pub(super) fn columns(&self, count: usize) -> Vec<Column> {
        let count = count.max(1);
        let span = self.to - self.from;
        let index = |t: f64| ((((t - self.from) / span) * count as f64) as usize).min(count - 1);
        let mut out: Vec<Column> = Vec::with_capacity(self.points.len().min(count));
        for &(t, v) in &self.points {
            let c = index(t);
            match out.last_mut() {
                Some(column) if column.index == c => {
                    column.low = column.low.min(v);
                    column.high = column.high.max(v);
                    column.last = v;
                }
                _ => out.push(Column {
                    index: c,
                    x: self.from + span * c as f64 / count as f64,
                    first: v,
                    low: v,
                    high: v,
                    last: v,
                }),
            }
        }
        out
    }
}

/// The prices observed within one pixel column of the plot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Column {
    index: usize,
    /// Time at the column's left edge.
    pub(super) x: f64,
    first: f64,
    pub(super) low: f64,
    pub(super) high: f64,
    pub(super) last: f64,
}

/// The step line's vertices: each column's last price held until the next
/// column, the last one until `to`. Segments only go right, up or down, never
/// back on themselves (which wide lines draw badly); the range within a
/// column is drawn as a bar of its own.
pub(super) fn step_path(columns: &[Column], to: f64) -> Vec<(f64, f64)> {
    let mut path = Vec::with_capacity(columns.len() * 2 + 1);
    if let Some(first) = columns.first() {
        path.push((first.x, first.first));
    }
    for (i, column) in columns.iter().enumerate() {
        path.push((column.x, column.last));
        let until = columns.get(i + 1).map_or(to, |next| next.x);
        path.push((until, column.last));
    }
    path.dedup();
    path
}
