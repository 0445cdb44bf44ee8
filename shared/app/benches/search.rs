//! `/api/search`'s index at 10,000 and 1,000,000 items: build time, and
//! per-query latency p50/p99 over a mix of queries (exact words, prefixes
//! while typing, typos, joined model numbers, misses). Synthetic names from
//! brand, model and flavour lists, so every size has realistic overlap.
//! `cargo bench -p pricehound --bench search`; results in BENCHMARKS.md.

use pricehound_core::search::{Doc, SearchIndex};
use std::time::Instant;

const BRANDS: &[&str] = &[
    "Darkside",
    "Must Have",
    "Black Burn",
    "Element",
    "Tangiers",
    "Al Fakher",
    "Sebero",
    "Duft",
    "ASUS",
    "MSI",
    "Gigabyte",
    "Palit",
    "Zotac",
    "Sapphire",
    "PowerColor",
    "Bijouterie",
];
const MODELS: &[&str] = &[
    "Cola",
    "Bounty Hunter",
    "Pinkman",
    "Milky Rice",
    "Supernova",
    "Mint",
    "Grape",
    "Lemon",
    "RTX 4070",
    "RTX4070 Super",
    "RTX 3070",
    "RTX 4060 Ti",
    "RX 7800 XT",
    "RX 6700",
    "GTX 1660",
    "Or 18K",
    "Or 21K",
    "Gold 24K",
    "Ventus 2X",
    "Gaming OC",
    "Dual",
    "Eagle",
    "Nitro+",
];
const WORDS: &[&str] = &[
    "shock", "ice", "berry", "melon", "12GB", "8GB", "16GB", "cassé", "neuf", "used", "blue",
    "red", "white", "pro", "max", "mini", "classic", "strong", "light", "gold", "silver",
];

fn names(n: usize) -> Vec<(String, String)> {
    // A small LCG: the same names every run.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) as usize
    };
    (0..n)
        .map(|i| {
            let name = format!(
                "{} {} {} {}",
                BRANDS[next() % BRANDS.len()],
                MODELS[next() % MODELS.len()],
                WORDS[next() % WORDS.len()],
                next() % 1000
            );
            (name, format!("src-{}:item-{i}", i % 50))
        })
        .collect()
}

const QUERIES: &[&str] = &[
    "darkside cola",
    "darksid",
    "darkisde",
    "rtx4070",
    "rtx 4070 super",
    "must have pinkman",
    "pinkm",
    "or 18k",
    "ventus",
    "sapphire nitro",
    "gigabyte eagle 8gb",
    "zzzz nothing",
    "al fakher mint",
    "rx7800",
    "strong",
    "b",
];

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Resident memory of this process, in MiB (Linux).
fn rss_mib() -> f64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: f64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0.0);
    pages * 4096.0 / (1024.0 * 1024.0)
}

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
