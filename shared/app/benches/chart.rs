//! Price charts rendered per second: a 30-day window of 720 hourly prices,
//! as `/chart <item> 30d` draws it, from points to PNG bytes.
//!
//! `cargo bench -p pricehound --bench chart` (results in BENCHMARKS.md).

mod common;

use chrono::{Duration, TimeZone, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pricehound::telegram::chart::{ChartPoint, ChartRequest, render_png};
use rust_decimal::Decimal;
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let to = Utc.with_ymd_and_hms(2025, 3, 31, 0, 0, 0).unwrap();
    let from = to - Duration::days(30);
    // A price that drifts, dips for sales and comes back: 1 199.00–1 349.00.
    let points: Vec<ChartPoint> = (0..720i64)
        .map(|hour| {
            let cents = 129_900 + (hour * 7919 % 5_000) - if hour % 168 < 24 { 10_000 } else { 0 };
            ChartPoint {
                at: from + Duration::hours(hour),
                price: Decimal::new(cents, 2),
            }
        })
        .collect();
    let req = ChartRequest {
        title: "Видеокарта RTX 4070 12GB",
        currency: "EUR",
        points: &points,
        from,
        to,
    };
    let mut group = c.benchmark_group("chart");
    group.throughput(Throughput::Elements(1));
    group.bench_function("render_png 30d, 720 points", |b| {
        b.iter(|| black_box(render_png(black_box(&req)).unwrap()))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::short_runs();
    targets = bench
}
criterion_main!(benches);
