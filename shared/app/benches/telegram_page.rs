//! Milliseconds to parse one Telegram channel preview page (20 posts):
//! HTML parsing, post extraction and text cleanup, as a scrape does per page.
//!
//! `cargo bench -p pricehound --bench telegram_page` (results in BENCHMARKS.md).

mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pricehound::sources::telegram_channel::parse_page;
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let html = pricehound::demo::telegram_page("bijouterie_or_dz", None)
        .expect("the demo page is built in");
    let posts = parse_page(html, "bijouterie_or_dz")
        .expect("a channel page")
        .posts
        .len();
    let mut group = c.benchmark_group("telegram_page");
    group.throughput(Throughput::Bytes(html.len() as u64));
    group.bench_function(
        format!("parse_page bijouterie_or_dz ({posts} posts)"),
        |b| b.iter(|| black_box(parse_page(black_box(html), "bijouterie_or_dz"))),
    );
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::short_runs();
    targets = bench
}
criterion_main!(benches);
