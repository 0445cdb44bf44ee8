//! `/api/search`'s index at 10,000 and 1,000,000 items: build time, and
//! per-query latency p50/p99 over a mix of queries (exact words, prefixes
//! while typing, typos, joined model numbers, misses). Synthetic names from
//! brand, model and flavour lists, so every size has realistic overlap.
//! `cargo bench -p pricehound --bench search`; results in BENCHMARKS.md.

use pricehound_core::search::{Doc, SearchIndex};
use std::time::Instant;

mod catalogue;

use catalogue::{QUERIES, names, percentile, rss_mib};

fn main() {
    for n in [10_000usize, 1_000_000] {
        let items = names(n);
        let before = rss_mib();
        let started = Instant::now();
        let index = SearchIndex::build(items.iter().map(|(name, id)| Doc {
            name,
            brand: None,
            series: None,
            id,
        }));
        let build = started.elapsed();
        let index_mib = rss_mib() - before;
        // Warm up, then time each query many times.
        for q in QUERIES {
            std::hint::black_box(index.search(q, 20));
        }
        let rounds = if n > 100_000 { 20 } else { 200 };
        let mut times = Vec::new();
        for _ in 0..rounds {
            for q in QUERIES {
                let t = Instant::now();
                std::hint::black_box(index.search(q, 20));
                times.push(t.elapsed().as_secs_f64() * 1e6);
            }
        }
        times.sort_by(|a, b| a.total_cmp(b));
        println!(
            "search {n:>9} items: build {:>7.0} ms, index ≈ {:>5.0} MiB; query p50 {:>8.1} µs, p99 {:>9.1} µs, max {:>9.1} µs ({} queries)",
            build.as_secs_f64() * 1e3,
            index_mib,
            percentile(&times, 0.50),
            percentile(&times, 0.99),
            times.last().copied().unwrap_or_default(),
            times.len()
        );
        for q in ["darksid", "rtx4070", "b", "strong"] {
            let t = Instant::now();
            let hits = index.search(q, 20).len();
            println!(
                "  {q:>10}: {hits} results in {:.1} µs",
                t.elapsed().as_secs_f64() * 1e6
            );
        }
    }
}
