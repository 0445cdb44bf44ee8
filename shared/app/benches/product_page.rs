//! Microseconds to read the product on one product page, as a scrape does
//! per page: a JSON-LD page (`kalyan-lab-alpha-model-x`: a Product with three
//! Offers) and a page without structured data whose price comes from a CSS
//! selector (`pixelparts-rtx-4070-super`).
//!
//! `cargo bench -p pricehound --bench product_page` (results in BENCHMARKS.md).

mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pricehound::sources::product_page::extract;
use pricehound::sources::{SourceKind, SourcesConfig};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let sources = SourcesConfig::default_sources();
    let mut group = c.benchmark_group("product_page");
    for (id, label) in [
        ("kalyan-lab-alpha-model-x", "JSON-LD"),
        ("pixelparts-rtx-4070-super", "price_selector"),
    ] {
        let Some(SourceKind::ProductPage(cfg)) = sources.source(id).map(|s| &s.kind) else {
            panic!("{id} is a product_page source");
        };
        let html = pricehound::demo::page(cfg.url.path())
            .expect("the demo page is built in")
            .body;
        let listing = extract(html, &cfg.url, cfg).expect("a product");
        assert!(listing.price.is_some(), "{id}: no price on the demo page");
        group.throughput(Throughput::Bytes(html.len() as u64));
        group.bench_function(format!("extract {id} ({label})"), |b| {
            b.iter(|| black_box(extract(black_box(html), &cfg.url, cfg)))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::short_runs();
    targets = bench
}
criterion_main!(benches);
