//! Milliseconds to parse one marketplace search page of 40 cards (the
//! `olx-gpu` source's first page): HTML parsing, the item, name, price, link
//! and image selectors, and price parsing, as a scrape does per page.
//!
//! `cargo bench -p pricehound --bench catalog_page` (results in BENCHMARKS.md).

mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pricehound::sources::html_catalog::parse_page;
use pricehound::sources::{SourceKind, SourcesConfig};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let sources = SourcesConfig::default_sources();
    let Some(SourceKind::HtmlCatalog(cfg)) = sources.source("olx-gpu").map(|s| &s.kind) else {
        panic!("olx-gpu is an html_catalog source");
    };
    let html = pricehound::demo::page("/ads/q-rtx-4070/")
        .expect("the demo page is built in")
        .body;
    let page_url = &cfg.urls[0];
    let cards = parse_page(html, page_url, cfg)
        .expect("a catalogue page")
        .listings
        .len();
    let mut group = c.benchmark_group("catalog_page");
    group.throughput(Throughput::Bytes(html.len() as u64));
    group.bench_function(format!("parse_page olx-gpu ({cards} listings)"), |b| {
        b.iter(|| black_box(parse_page(black_box(html), page_url, cfg)))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::short_runs();
    targets = bench
}
criterion_main!(benches);
