//! The HTML parsing budget (`sources::html_guard`): for each hostile shape,
//! the page at the operator body cap (5 MiB) is refused, and the largest
//! prefix of it the guard accepts is parsed; both must stay under 100 ms.
//! The time is the guard's scan plus html5ever's parse, as a scrape pays it.
//!
//! `cargo bench -p pricehound --bench html_budget` (results in BENCHMARKS.md).

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use pricehound::sources::html_guard::{LIMITS, hostile, measure, parse_document};
use std::hint::black_box;
use std::time::Duration;

const BODY_CAP: usize = 5 * 1024 * 1024;

/// The longest prefix of `page` the guard accepts (the shapes are ASCII).
fn largest_accepted(page: &str) -> &str {
    let (mut ok, mut too_big) = (0, page.len() + 1);
    while ok + 1 < too_big {
        let mid = ok + (too_big - ok) / 2;
        if measure(&page[..mid], &LIMITS).is_ok() {
            ok = mid;
        } else {
            too_big = mid;
        }
    }
    &page[..ok]
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("html_budget");
    for (shape, page) in hostile::shapes(BODY_CAP) {
        let accepted = largest_accepted(&page);
        let refusal = match measure(&page, &LIMITS) {
            Ok(_) => "accepted".to_string(),
            Err(r) => r.to_string(),
        };
        println!(
            "{shape}: {} B refused ({refusal}); largest accepted prefix {} B",
            page.len(),
            accepted.len()
        );
        group.bench_with_input(BenchmarkId::new("refuse_5MiB", shape), &page, |b, p| {
            b.iter(|| black_box(parse_document(black_box(p)).is_ok()))
        });
        group.bench_with_input(
            BenchmarkId::new("parse_largest_accepted", shape),
            accepted,
            |b, p| b.iter(|| black_box(parse_document(black_box(p)).is_ok())),
        );
    }
    group.finish();
}

criterion_group! {
    name = benches;
    // Short runs: 38 cases on a machine with two cores shared with builds.
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
