//! Price strings parsed per second: a mixed corpus of realistic shop and
//! channel texts, parsed one after another.
//!
//! `cargo bench -p pricehound --bench price` (results in BENCHMARKS.md).

mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pricehound::domain::Currency;
use pricehound::price::{PriceHints, parse_price};
use std::hint::black_box;

/// What real pages and posts put in a price element or line.
const CORPUS: &[&str] = &[
    "1 234,56 €",
    "€1.234,56",
    "12.500 лв.",
    "13 500 DA",
    "١٣٥٠٠ دج",
    "$1,450",
    "1.450.000 сум",
    "US$ 12.99",
    "от 2 990 ₽",
    "Free",
    "—",
    "1,234.56",
    "1.234.567,89",
    "12,50 €",
    "12,500",
    "0,99 €",
    "€ 0.99",
    "2 990,00 руб.",
    "1'234.50 CHF",
    "US $1,299.00",
    "Rs. 1,23,456",
    "¥1,280",
    "12.50 - 15.00 €",
    "-20%",
    "Save 20%",
    "Цена: 1 200 руб/мес",
    "1 200 000",
    "US$12.99/mo",
    "2x 19.99",
    "from 12",
    "12.-",
    "12,-",
    "EUR 1.234,00",
    "1.234,- €",
    "TND 12.500",
    "13\u{a0}500\u{a0}DA",
    "1\u{202f}234,5 €",
    "C$ 24.99",
    "R$ 1.299,90",
    "HK$ 399",
    "100 kr",
    "Было 1 599, стало 1 299 ₽",
    "RTX 4070 12GB — 54 990 ₽",
    "Or 18K cassé : 13 500 DA",
    "585 проба — 5 200 ₽/г",
    "ذهب 18 : ١٣٥٠٠ دج",
    "-20% 1 299 ₽",
    "Цена по запросу",
    "250 د.إ",
    "1 299 zł",
];

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("price");
    group.throughput(Throughput::Elements(CORPUS.len() as u64));
    group.bench_function("parse_price corpus (no hints)", |b| {
        b.iter(|| {
            for text in CORPUS {
                black_box(parse_price(black_box(text), PriceHints::default()));
            }
        })
    });
    let hints = PriceHints {
        decimal_separator: Some(','),
        currency: Currency::new("DZD").ok(),
    };
    group.bench_function("parse_price corpus (source hints)", |b| {
        b.iter(|| {
            for text in CORPUS {
                black_box(parse_price(black_box(text), hints));
            }
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::short_runs();
    targets = bench
}
criterion_main!(benches);
